//! TypeScript: `tsc --noEmit --pretty false -p .` in the peer's copy, where
//! `node_modules/<upstream package>` is a link to the upstream's export (its
//! `package.json` name). Needs `tsc` on PATH and a `tsconfig.json` at the peer's root;
//! otherwise it says it did not check. `file(line,col): error TS…` lines become the
//! diagnostics.

use super::command::parse_paren;
use super::run::{self, Stop};
use super::{which, CheckError, Diagnostic, Outcome, ToolRun, Workspace};
use std::process::Command;

/// Runs the check.
pub fn check(ws: &Workspace) -> Result<ToolRun, CheckError> {
    const TOOL: &str = "tsc";
    if which("tsc").is_none() {
        return Ok(ToolRun::missing(TOOL, "tsc"));
    }
    if !ws.peer.join("tsconfig.json").is_file() {
        return Ok(ToolRun::not_checked(
            TOOL,
            "no tsconfig.json at the peer's root",
        ));
    }
    let manifest = ws.upstream.join("package.json");
    let name = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["name"].as_str().map(str::to_string));
    let Some(name) = name.filter(|n| !n.is_empty() && !n.contains("..")) else {
        return Ok(ToolRun::not_checked(
            TOOL,
            "the upstream's package.json names no package",
        ));
    };
    let link = ws.peer.join("node_modules").join(&name);
    if let Some(parent) = link.parent() {
        std::fs::create_dir_all(parent).map_err(|e| CheckError::io(parent, e))?;
    }
    if link.symlink_metadata().is_ok() {
        let removed = if link.is_dir() && !link.is_symlink() {
            std::fs::remove_dir_all(&link)
        } else {
            std::fs::remove_file(&link)
        };
        removed.map_err(|e| CheckError::io(&link, e))?;
    }
    std::os::unix::fs::symlink(&ws.upstream, &link).map_err(|e| CheckError::io(&link, e))?;
    let mut cmd = Command::new("tsc");
    cmd.args(["--noEmit", "--pretty", "false", "-p", "."])
        .current_dir(&ws.peer);
    let toolchain = run::version("tsc", &["--version"], &ws.peer);
    let done = run::run(cmd, ws.deadline, Stop::Group, run::all)?;
    let mut out = ToolRun::ended(
        TOOL,
        Some("tsc --noEmit --pretty false -p .".into()),
        toolchain,
        done.timed_out,
        "tsc",
        ws.limit_secs,
    );
    if done.timed_out {
        return Ok(out);
    }
    if done.success() {
        return Ok(out);
    }
    out.outcome = Outcome::Fail;
    out.diagnostics = done
        .stdout
        .iter()
        .filter_map(|l| {
            let (file, line, column, message) = parse_paren(l)?;
            let message = message.strip_prefix("error ")?;
            let (code, message) = message.split_once(':').unwrap_or(("", message));
            let (file, origin) = ws.locate(file, &ws.peer);
            Some(Diagnostic {
                file,
                line: Some(line),
                column,
                origin,
                code: Some(code.trim().to_string()).filter(|c| !c.is_empty()),
                message: message.trim().to_string(),
            })
        })
        .collect();
    if out.diagnostics.is_empty() {
        let first = done.stdout.first().cloned().unwrap_or_default();
        out.diagnostics.push(Diagnostic::general(first));
    }
    Ok(out)
}
