//! Go: `go build ./... && go vet ./...` in the peer's copy after `go mod edit -replace
//! MODULE=<upstream export>` for each of the upstream's modules, with `GOFLAGS=-mod=mod`,
//! `GOPROXY=off`, `GOSUMDB=off`, `GOWORK=off` and `GOTOOLCHAIN=local`: no network is
//! needed for a module whose only dependency is the replaced upstream, and one that needs
//! more is reported not checked. `file:line:col: message` lines become the diagnostics.

use super::command::parse_colon;
use super::export;
use super::run::{self, Stop};
use super::{which, CheckError, Diagnostic, Outcome, ToolRun, Workspace};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The upstream's Go modules: (module path, directory), from each `go.mod`.
pub fn upstream_modules(root: &Path) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = export::files_under(root, &["vendor", "testdata"])
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "go.mod"))
        .filter_map(|p| Some((module_of(&p)?, p.parent()?.to_path_buf())))
        .collect();
    out.sort();
    out
}

fn module_of(go_mod: &Path) -> Option<String> {
    let text = std::fs::read_to_string(go_mod).ok()?;
    text.lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("module "))
        .map(|m| m.trim().trim_matches('"').to_string())
        .filter(|m| !m.is_empty())
}

fn go(ws: &Workspace, args: &[&str]) -> Command {
    let mut cmd = Command::new("go");
    cmd.args(args)
        .current_dir(&ws.peer)
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("GOSUMDB", "off")
        .env("GOWORK", "off")
        .env("GOTOOLCHAIN", "local");
    cmd
}

/// Runs the check.
pub fn check(ws: &Workspace) -> Result<ToolRun, CheckError> {
    const TOOL: &str = "go build + go vet";
    if which("go").is_none() {
        return Ok(ToolRun::missing(TOOL, "go"));
    }
    let mut out = ToolRun {
        tool: TOOL.into(),
        command: None,
        toolchain: run::version("go", &["version"], &ws.peer),
        outcome: Outcome::Pass,
        reason: None,
        diagnostics: Vec::new(),
    };
    let mut shown = Vec::new();
    for (module, dir) in upstream_modules(&ws.upstream) {
        let replace = format!("-replace={module}={}", dir.display());
        shown.push(format!("go mod edit {replace}"));
        let done = run::run(
            go(ws, &["mod", "edit", &replace]),
            ws.deadline,
            Stop::Group,
            run::all,
        )?;
        if !done.success() {
            out.outcome = Outcome::NotChecked;
            out.reason = Some(format!(
                "go mod edit failed: {}",
                done.stderr.lines().next().unwrap_or("no message")
            ));
            out.command = Some(shown.join(" && "));
            return Ok(out);
        }
    }
    for step in [["build", "./..."], ["vet", "./..."]] {
        shown.push(format!("go {} {}", step[0], step[1]));
        out.command = Some(shown.join(" && "));
        let done = run::run(go(ws, &step), ws.deadline, Stop::Group, run::all)?;
        if done.timed_out {
            out.outcome = Outcome::Timeout;
            out.reason = Some(format!(
                "go {} did not finish in time: its process group was killed ({} s limit)",
                step[0], ws.limit_secs
            ));
            return Ok(out);
        }
        if done.success() {
            continue;
        }
        if done.stderr.contains("GOPROXY=off") {
            out.outcome = Outcome::NotChecked;
            out.reason = Some(format!(
                "dependency resolution failed (GOPROXY=off): {}",
                done.stderr
                    .lines()
                    .find(|l| l.contains("GOPROXY=off"))
                    .unwrap_or("")
                    .trim()
            ));
            return Ok(out);
        }
        out.diagnostics = diagnostics(ws, &done.stderr);
        if out.diagnostics.is_empty() {
            let first = done
                .stderr
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with('#'))
                .unwrap_or("no message")
                .to_string();
            out.diagnostics.push(Diagnostic::general(first));
        }
        out.outcome = Outcome::Fail;
        return Ok(out);
    }
    Ok(out)
}

/// `path.go:line:col: message` lines (paths relative to the copy's root).
fn diagnostics(ws: &Workspace, stderr: &str) -> Vec<Diagnostic> {
    stderr
        .lines()
        .filter_map(|l| {
            let l = l.strip_prefix("vet: ").unwrap_or(l);
            let (file, line, column, message) = parse_colon(l)?;
            if !file.ends_with(".go") {
                return None;
            }
            let (file, origin) = ws.locate(file, &ws.peer);
            Some(Diagnostic {
                file,
                line: Some(line),
                column,
                origin,
                code: None,
                message: message.to_string(),
            })
        })
        .collect()
}
