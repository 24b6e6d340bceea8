//! TRIGGER: git hooks that run assessments (SOP 4). weft owns only a marked block in
//! each hook file: installing appends it (or refreshes it) and leaves the user's own
//! lines alone; uninstalling removes just that block.

use std::path::{Path, PathBuf};

/// First line of weft's block.
pub const BEGIN: &str = "# >>> weft hook (managed by `weft hooks`; edit outside this block) >>>";
/// Last line of weft's block.
pub const END: &str = "# <<< weft hook <<<";

/// The hooks weft installs, with the command each runs.
pub const HOOKS: [(&str, &str); 2] = [
    // After a commit: assess what it changed; never fails the commit (it is done).
    (
        "post-commit",
        "assess --scope commit --format table || true",
    ),
    // Before a push: the branch's changes against the default branch; errors stop it.
    ("pre-push", "assess --scope ci --fail-on error"),
];

/// Hook installation failed.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// Not a git repository with a hooks directory.
    #[error("{0}: not a git repository (no hooks directory)")]
    NoRepository(PathBuf),
    /// Reading or writing a hook.
    #[error("{path}: {source}")]
    Io {
        /// Hook file.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

/// What happened to one hook.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HookChange {
    /// Hook name.
    pub hook: String,
    /// File.
    pub path: PathBuf,
    /// `installed`, `updated`, `unchanged`, `removed`, `absent`.
    pub action: String,
}

/// The hooks directory of the repository at `root` (honours `core.hooksPath`).
pub fn hooks_dir(root: &Path) -> Result<PathBuf, HookError> {
    let repo = git2::Repository::open(root).map_err(|_| HookError::NoRepository(root.into()))?;
    let configured = repo
        .config()
        .ok()
        .and_then(|c| c.get_path("core.hooksPath").ok());
    Ok(match configured {
        Some(p) if p.is_absolute() => p,
        Some(p) => repo.workdir().unwrap_or(root).join(p),
        None => repo.path().join("hooks"),
    })
}

/// `text` without weft's block (and without the blank line installation put before it).
pub fn strip_block(text: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line == BEGIN {
            inside = true;
            if out.last() == Some(&"") {
                out.pop();
            }
        } else if line == END && inside {
            inside = false;
        } else if !inside {
            out.push(line);
        }
    }
    let mut s = out.join("\n");
    if !s.is_empty() {
        s.push('\n');
    }
    s
}

fn block(weft: &str, command: &str) -> String {
    format!("{BEGIN}\n{weft} {command}\n{END}\n")
}

/// Shell-quotes a path for the hook script.
fn quote(path: &str) -> String {
    format!("'{}'", path.replace('\'', r"'\''"))
}

/// Runs `change` on each of weft's hooks in `dir` with the hook file's current text
/// (None when absent); `change` writes what it must and names what it did.
fn each_hook(
    dir: &Path,
    mut change: impl FnMut(&Path, &str, Option<String>) -> std::io::Result<&'static str>,
) -> Result<Vec<HookChange>, HookError> {
    HOOKS
        .iter()
        .map(|(hook, command)| {
            let path = dir.join(hook);
            let io = |source| HookError::Io {
                path: path.clone(),
                source,
            };
            let existing = match std::fs::read_to_string(&path) {
                Ok(t) => Some(t),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(io(e)),
            };
            let action = change(&path, command, existing).map_err(io)?;
            Ok(HookChange {
                hook: hook.to_string(),
                path,
                action: action.into(),
            })
        })
        .collect()
}

/// Installs (or refreshes) weft's block in each hook, calling the weft at `weft_exe`.
pub fn install(root: &Path, weft_exe: &Path) -> Result<Vec<HookChange>, HookError> {
    let dir = hooks_dir(root)?;
    std::fs::create_dir_all(&dir).map_err(|source| HookError::Io {
        path: dir.clone(),
        source,
    })?;
    let weft = quote(&weft_exe.to_string_lossy());
    each_hook(&dir, |path, command, existing| {
        let own = strip_block(existing.as_deref().unwrap_or(""));
        let mut text = if own.trim().is_empty() {
            "#!/bin/sh\n".to_string()
        } else {
            own
        };
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push('\n');
        text.push_str(&block(&weft, command));
        let action = match &existing {
            Some(old) if *old == text => "unchanged",
            Some(old) if old.contains(BEGIN) => "updated",
            _ => "installed",
        };
        if action != "unchanged" {
            write_executable(path, &text)?;
        }
        Ok(action)
    })
}

/// Removes weft's block from each hook; a hook left with only a shebang is deleted.
pub fn uninstall(root: &Path) -> Result<Vec<HookChange>, HookError> {
    let dir = hooks_dir(root)?;
    each_hook(&dir, |path, _, existing| {
        let Some(text) = existing.filter(|t| t.contains(BEGIN)) else {
            return Ok("absent");
        };
        let rest = strip_block(&text);
        if rest.trim().is_empty() || rest.trim() == "#!/bin/sh" {
            std::fs::remove_file(path)?;
        } else {
            write_executable(path, &rest)?;
        }
        Ok("removed")
    })
}

fn write_executable(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let tmp = path.with_extension("weft-tmp");
    std::fs::write(&tmp, text)?;
    let mode = std::fs::metadata(path).map_or(0o755, |m| m.permissions().mode() | 0o755);
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_keeps_user_lines_around_the_block() {
        let text = format!(
            "#!/bin/sh\necho mine\n\n{}echo after\n",
            block("'/bin/weft'", "x")
        );
        assert_eq!(strip_block(&text), "#!/bin/sh\necho mine\necho after\n");
        assert_eq!(quote("/a b/it's"), r"'/a b/it'\''s'");
    }
}
