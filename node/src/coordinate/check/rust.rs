//! Rust: `cargo check --workspace --all-targets --message-format=json --offline` in the
//! peer's copy, where the upstream's crates resolve to its exported head. A `path =`
//! dependency that points into the upstream is rewritten in the copy's manifests (one
//! pointing elsewhere outside the peer is made absolute); a registry or git dependency
//! on one of its crates is patched with `--config 'patch.<source>.<crate>.path=…'`.
//! The target directory is `~/.cache/weft/check-target/<peer>`, so a repeated check is
//! incremental. rustc's JSON errors (primary span) become the diagnostics.

use super::export;
use super::run::{self, Stop};
use super::{normalise, which, CheckError, Diagnostic, Outcome, ToolRun, Workspace};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use toml::{Table, Value};

/// The upstream's crates: name → directory, from the `[package]` of each `Cargo.toml`
/// in its export.
pub fn upstream_crates(root: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    for manifest in manifests(root) {
        let Some(table) = read(&manifest) else {
            continue;
        };
        if let Some(name) = table
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
        {
            if let Some(dir) = manifest.parent() {
                out.insert(name.to_string(), dir.to_path_buf());
            }
        }
    }
    out
}

/// Every `Cargo.toml` under `root`, outside `target/` and hidden directories.
fn manifests(root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = export::files_under(root, &["target", "node_modules"])
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "Cargo.toml"))
        .collect();
    out.sort();
    out
}

fn read(path: &Path) -> Option<Table> {
    std::fs::read_to_string(path).ok()?.parse::<Table>().ok()
}

/// A registry or git dependency on an upstream crate: `[patch.<source>]` it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Patch {
    source: String,
    krate: String,
}

struct Rewriter<'a> {
    ws: &'a Workspace,
    crates: &'a BTreeMap<String, PathBuf>,
    patches: Vec<Patch>,
}

impl Rewriter<'_> {
    /// Rewrites the `path` of each dependency in `deps` (a dependency table) of the
    /// manifest whose copy is in `copy_dir` (originally `orig_dir`).
    fn deps(&mut self, deps: &mut Table, orig_dir: &Path) -> bool {
        let mut changed = false;
        for (key, spec) in deps.iter_mut() {
            let Some(spec) = spec.as_table_mut() else {
                // `name = "1.0"`: from the registry.
                if self.crates.contains_key(key) {
                    self.patch("crates-io", key);
                }
                continue;
            };
            let package = spec
                .get("package")
                .and_then(Value::as_str)
                .unwrap_or(key)
                .to_string();
            if let Some(path) = spec.get("path").and_then(Value::as_str) {
                if let Some(new) = self.path(orig_dir, path) {
                    spec.insert("path".into(), Value::String(new));
                    changed = true;
                }
            } else if self.crates.contains_key(&package) {
                if let Some(url) = spec.get("git").and_then(Value::as_str) {
                    let url = url.to_string();
                    self.patch(&url, &package);
                } else if spec.get("workspace").and_then(Value::as_bool) != Some(true) {
                    let registry = spec
                        .get("registry")
                        .and_then(Value::as_str)
                        .unwrap_or("crates-io")
                        .to_string();
                    self.patch(&registry, &package);
                }
            }
        }
        changed
    }

    fn patch(&mut self, source: &str, krate: &str) {
        let p = Patch {
            source: source.into(),
            krate: krate.into(),
        };
        if !self.patches.contains(&p) {
            self.patches.push(p);
        }
    }

    /// The new value of a `path =` written in a manifest originally in `orig_dir`:
    /// into the upstream's export when it points into the upstream, absolute when it
    /// points elsewhere outside the peer, unchanged inside the peer.
    fn path(&self, orig_dir: &Path, path: &str) -> Option<String> {
        let target = normalise(&orig_dir.join(path));
        let target = target.canonicalize().unwrap_or(target);
        if let Ok(rel) = target.strip_prefix(&self.ws.upstream_root) {
            return Some(self.ws.upstream.join(rel).to_string_lossy().into_owned());
        }
        if target.starts_with(&self.ws.peer_root) {
            return None;
        }
        Some(target.to_string_lossy().into_owned())
    }

    /// Every dependency table of a manifest.
    fn manifest(&mut self, table: &mut Table, orig_dir: &Path) -> bool {
        let mut changed = false;
        for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
            if let Some(deps) = table.get_mut(key).and_then(Value::as_table_mut) {
                changed |= self.deps(deps, orig_dir);
            }
        }
        if let Some(targets) = table.get_mut("target").and_then(Value::as_table_mut) {
            for (_, target) in targets.iter_mut() {
                let Some(target) = target.as_table_mut() else {
                    continue;
                };
                for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
                    if let Some(deps) = target.get_mut(key).and_then(Value::as_table_mut) {
                        changed |= self.deps(deps, orig_dir);
                    }
                }
            }
        }
        if let Some(deps) = table
            .get_mut("workspace")
            .and_then(|w| w.get_mut("dependencies"))
            .and_then(Value::as_table_mut)
        {
            changed |= self.deps(deps, orig_dir);
        }
        // The peer's own patches with paths: made to resolve from the copy too.
        if let Some(patch) = table.get_mut("patch").and_then(Value::as_table_mut) {
            for (_, source) in patch.iter_mut() {
                if let Some(deps) = source.as_table_mut() {
                    for (_, spec) in deps.iter_mut() {
                        let Some(spec) = spec.as_table_mut() else {
                            continue;
                        };
                        if let Some(path) = spec.get("path").and_then(Value::as_str) {
                            if let Some(new) = self.path(orig_dir, path) {
                                spec.insert("path".into(), Value::String(new));
                                changed = true;
                            }
                        }
                    }
                }
            }
        }
        changed
    }
}

/// Rewrites the copy's manifests; returns the patches to pass on the command line.
fn rewrite(ws: &Workspace, crates: &BTreeMap<String, PathBuf>) -> Result<Vec<Patch>, CheckError> {
    let mut rewriter = Rewriter {
        ws,
        crates,
        patches: Vec::new(),
    };
    for manifest in manifests(&ws.peer) {
        let Some(mut table) = read(&manifest) else {
            continue;
        };
        let rel = manifest.strip_prefix(&ws.peer).unwrap_or(&manifest);
        let orig_dir = ws
            .peer_root
            .join(rel)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| ws.peer_root.clone());
        if rewriter.manifest(&mut table, &orig_dir) {
            let text = toml::to_string(&table)
                .map_err(|e| CheckError::io(&manifest, std::io::Error::other(e.to_string())))?;
            std::fs::write(&manifest, text).map_err(|e| CheckError::io(&manifest, e))?;
        }
    }
    rewriter.patches.sort();
    Ok(rewriter.patches)
}

/// `--config` arguments for the patches.
fn patch_args(patches: &[Patch], crates: &BTreeMap<String, PathBuf>) -> Vec<String> {
    let quote = |s: &str| serde_json::to_string(s).expect("a string serialises");
    patches
        .iter()
        .filter_map(|p| {
            let dir = crates.get(&p.krate)?;
            let source = if p.source == "crates-io" {
                p.source.clone()
            } else {
                quote(&p.source)
            };
            Some(format!(
                "patch.{source}.{}.path={}",
                quote(&p.krate),
                quote(&dir.to_string_lossy())
            ))
        })
        .collect()
}

/// Only rustc's messages (not the artifacts) are kept from cargo's JSON stream.
fn compiler_message(line: &str) -> bool {
    line.contains("\"reason\":\"compiler-message\"")
}

/// Runs the check.
pub fn check(ws: &Workspace) -> Result<ToolRun, CheckError> {
    const TOOL: &str = "cargo check";
    if which("cargo").is_none() {
        return Ok(ToolRun::missing(TOOL, "cargo"));
    }
    let crates = upstream_crates(&ws.upstream);
    let patches = rewrite(ws, &crates)?;
    let target = ws.cache.join("check-target").join(&ws.name);
    let mut cmd = Command::new("cargo");
    cmd.args([
        "check",
        "--workspace",
        "--all-targets",
        "--message-format=json",
        "--offline",
    ]);
    let config = patch_args(&patches, &crates);
    for c in &config {
        cmd.arg("--config").arg(c);
    }
    cmd.current_dir(&ws.peer)
        .env("CARGO_TARGET_DIR", &target)
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("CARGO_PRIMARY_PACKAGE")
        .env_remove("RUSTC_WRAPPER");
    let shown = format!(
        "cargo check --workspace --all-targets --message-format=json --offline{}",
        config
            .iter()
            .map(|c| format!(" --config '{c}'"))
            .collect::<String>()
    );
    let toolchain = run::version("cargo", &["--version"], &ws.peer);
    let done = run::run(cmd, ws.deadline, Stop::Group, compiler_message)?;
    let mut out = ToolRun::ended(
        TOOL,
        Some(shown),
        toolchain,
        done.timed_out,
        "cargo check",
        ws.limit_secs,
    );
    if done.timed_out {
        return Ok(out);
    }
    out.diagnostics = done
        .stdout
        .iter()
        .filter_map(|l| diagnostic(ws, l))
        .collect();
    if done.stderr.contains("was not used in the crate graph") {
        out.outcome = Outcome::NotChecked;
        out.reason = Some(
            "the upstream's head was not used: the peer's version requirement does not take it (cargo: patch not used)"
                .into(),
        );
        return Ok(out);
    }
    if done.success() {
        return Ok(out);
    }
    if out.diagnostics.is_empty() {
        let first = first_error(&done.stderr);
        if resolution_failed(&done.stderr) {
            out.outcome = Outcome::NotChecked;
            out.reason = Some(format!("dependency resolution failed (offline): {first}"));
            return Ok(out);
        }
        out.diagnostics.push(Diagnostic::general(first.clone()));
        out.reason = Some(format!("cargo failed: {first}"));
    }
    out.outcome = Outcome::Fail;
    Ok(out)
}

fn first_error(stderr: &str) -> String {
    stderr
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("error"))
        .or_else(|| stderr.lines().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or("no message")
        .to_string()
}

fn resolution_failed(stderr: &str) -> bool {
    [
        "--offline",
        "offline mode",
        "failed to download",
        "failed to get",
        "failed to load source for dependency",
        "no matching package named",
        "failed to select a version",
    ]
    .iter()
    .any(|s| stderr.contains(s))
}

/// An error of rustc's JSON (`compiler-message`) at its primary span.
fn diagnostic(ws: &Workspace, line: &str) -> Option<Diagnostic> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let message = &v["message"];
    let level = message["level"].as_str()?;
    if !level.starts_with("error") {
        return None;
    }
    let text = message["message"].as_str()?.to_string();
    let spans = message["spans"].as_array();
    let primary = spans.and_then(|s| s.iter().find(|s| s["is_primary"] == true));
    if primary.is_none() && text.starts_with("aborting due to") {
        return None;
    }
    let code = message["code"]["code"].as_str().map(str::to_string);
    let Some(span) = primary else {
        return Some(Diagnostic {
            code,
            ..Diagnostic::general(text)
        });
    };
    // Relative to the workspace root, which is the copy's root.
    let (file, origin) = ws.locate(span["file_name"].as_str()?, &ws.peer);
    Some(Diagnostic {
        file,
        line: span["line_start"].as_u64().map(|n| n as u32),
        column: span["column_start"].as_u64().map(|n| n as u32),
        origin,
        code,
        message: text,
    })
}
