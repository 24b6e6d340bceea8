//! A peer's own check command (`[coordination] check` in its weave.toml), and the
//! diagnostic line formats the toolchains share. The command runs with `sh -c` in the
//! peer's copy, with `WEFT_UPSTREAM` (the upstream's export), `WEFT_UPSTREAM_COMMIT`,
//! and the export first on `PYTHONPATH`; exit 0 passes. Its output is read for
//! `file:line[:col]: message`, `file(line,col): error …` and Python traceback frames.

use super::run::{self, Stop};
use super::{which, CheckError, Diagnostic, Origin, Outcome, ToolRun, Workspace};
use std::path::Path;
use std::process::Command;

/// `path:line[:col]: message` → its parts.
pub fn parse_colon(line: &str) -> Option<(&str, u32, Option<u32>, &str)> {
    let (file, rest) = line.split_once(':')?;
    let file = file.trim();
    if file.is_empty() || file.contains(char::is_whitespace) {
        return None;
    }
    let (line_no, rest) = rest.split_once(':')?;
    let line_no: u32 = line_no.trim().parse().ok()?;
    if let Some((col, message)) = rest.split_once(':') {
        if let Ok(col) = col.trim().parse::<u32>() {
            return Some((file, line_no, Some(col), message.trim()));
        }
    }
    Some((file, line_no, None, rest.trim()))
}

/// `path(line,col): error TS1234: message` (tsc) → its parts.
pub fn parse_paren(line: &str) -> Option<(&str, u32, Option<u32>, &str)> {
    let open = line.find('(')?;
    let close = open + line[open..].find("):")?;
    let file = line[..open].trim();
    if file.is_empty() {
        return None;
    }
    let mut pos = line[open + 1..close].split(',');
    let line_no: u32 = pos.next()?.trim().parse().ok()?;
    let col = pos.next().and_then(|c| c.trim().parse().ok());
    Some((file, line_no, col, line[close + 2..].trim()))
}

/// Diagnostics in free-form output: located lines whose file is one of the peer's or
/// the upstream's, and the last peer frame of each Python traceback.
pub fn scan(ws: &Workspace, output: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut frame: Option<(String, u32)> = None;
    for line in output.lines() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("File \"") {
            // `File "/tmp/…/peer/app.py", line 3, in <module>`
            if let Some((file, tail)) = rest.split_once("\", line ") {
                let n = tail.split(',').next().and_then(|n| n.trim().parse().ok());
                if let (Some(n), (Some(rel), Origin::Peer)) = (n, ws.locate(file, &ws.peer)) {
                    frame = Some((rel, n));
                }
            }
            continue;
        }
        if !line.starts_with(' ') && frame.is_some() && trimmed.contains(':') {
            // The exception line closing a traceback: `ImportError: cannot import …`.
            let (file, n) = frame.take().expect("checked");
            let code = trimmed.split(':').next().map(str::to_string);
            out.push(Diagnostic {
                file: Some(file),
                line: Some(n),
                column: None,
                origin: Origin::Peer,
                code,
                message: trimmed.to_string(),
            });
            continue;
        }
        let located = parse_paren(trimmed).or_else(|| parse_colon(trimmed));
        if let Some((file, n, col, message)) = located {
            let (rel, origin) = ws.locate(file, &ws.peer);
            let exists = rel.as_deref().is_some_and(|r| match origin {
                Origin::Peer => ws.peer.join(r).is_file(),
                Origin::Upstream => ws.upstream.join(r).is_file(),
                Origin::Other => false,
            });
            if exists {
                out.push(Diagnostic {
                    file: rel,
                    line: Some(n),
                    column: col,
                    origin,
                    code: None,
                    message: message.to_string(),
                });
            }
        }
    }
    out
}

/// `PYTHONPATH` with the upstream's export (and its `src/`) first.
pub fn python_path(ws: &Workspace, extra: &[&Path]) -> std::ffi::OsString {
    let mut paths = vec![ws.upstream.clone()];
    if ws.upstream.join("src").is_dir() {
        paths.push(ws.upstream.join("src"));
    }
    paths.extend(extra.iter().map(|p| p.to_path_buf()));
    if let Some(old) = std::env::var_os("PYTHONPATH") {
        paths.extend(std::env::split_paths(&old));
    }
    std::env::join_paths(paths).unwrap_or_default()
}

/// Runs the peer's configured command.
pub fn check(ws: &Workspace, command: &str) -> Result<ToolRun, CheckError> {
    const TOOL: &str = "command";
    if which("sh").is_none() {
        return Ok(ToolRun::missing(TOOL, "sh"));
    }
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(&ws.peer)
        .env("WEFT_UPSTREAM", &ws.upstream)
        .env("WEFT_UPSTREAM_COMMIT", &ws.upstream_commit)
        .env("PYTHONPATH", python_path(ws, &[&ws.peer]));
    let done = run::run(cmd, ws.deadline, Stop::Group, run::all)?;
    let mut out = ToolRun::ended(
        TOOL,
        Some(command.to_string()),
        None,
        done.timed_out,
        "the check command",
        ws.limit_secs,
    );
    if done.timed_out {
        return Ok(out);
    }
    if done.success() {
        return Ok(out);
    }
    let text = format!("{}\n{}", done.stdout.join("\n"), done.stderr);
    out.diagnostics = scan(ws, &text);
    out.outcome = Outcome::Fail;
    out.reason = Some(match done.status.and_then(|s| s.code()) {
        Some(code) => format!("the check command exited with status {code}"),
        None => "the check command was killed by a signal".into(),
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn located_lines_parse() {
        assert_eq!(
            parse_colon("./main.go:6:14: not enough arguments"),
            Some(("./main.go", 6, Some(14), "not enough arguments"))
        );
        assert_eq!(
            parse_colon("app.py:3: error: Module has no attribute \"f\""),
            Some(("app.py", 3, None, "error: Module has no attribute \"f\""))
        );
        assert_eq!(parse_colon("error: could not compile"), None);
        assert_eq!(
            parse_paren("src/a.ts(4,7): error TS2345: Argument"),
            Some(("src/a.ts", 4, Some(7), "error TS2345: Argument"))
        );
        assert_eq!(parse_paren("no location here"), None);
    }
}
