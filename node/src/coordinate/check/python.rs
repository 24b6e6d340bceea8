//! Python: every module of the peer's copy is imported (each in turn, in one
//! interpreter) with the upstream's export first on `PYTHONPATH`; a module that fails
//! is a diagnostic at its last frame in the peer's files (a `SyntaxError` at its own
//! line). A module that needs a third-party package that is not installed is skipped
//! and counted, not failed. Then pyright, else mypy, when on PATH, type-checks the copy.
//! Importing runs each module's top level: in the copy, never in the peer's tree.

use super::command::{parse_colon, python_path};
use super::export;
use super::run::{self, Stop};
use super::{which, CheckError, Diagnostic, Origin, Outcome, ToolRun, Workspace};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Directories never searched for modules.
const SKIP: [&str; 9] = [
    "__pycache__",
    "venv",
    "env",
    "node_modules",
    "build",
    "dist",
    "site-packages",
    "target",
    "testdata",
];

/// The imports, as a script: one `WEFT-CHECK {json}` line per module that failed.
const SCRIPT: &str = r#"
import importlib, json, os, sys, traceback
cfg = json.load(open(sys.argv[1]))
peer = os.path.realpath(cfg["peer"])
upstream = set(cfg["upstream"])
def report(**kw):
    print("WEFT-CHECK " + json.dumps(kw), flush=True)
for name in cfg["modules"]:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as e:
        top = (e.name or "").split(".")[0]
        if top and top not in upstream and top not in cfg["own"]:
            report(module=name, skipped=top)
            continue
        err = e
    except SyntaxError as e:
        report(module=name, file=e.filename, line=e.lineno, column=e.offset,
               code=type(e).__name__, message=f"{type(e).__name__}: {e.msg}")
        continue
    except BaseException as e:
        err = e
    else:
        continue
    file, line = None, None
    for frame in traceback.extract_tb(err.__traceback__):
        path = os.path.realpath(frame.filename)
        if path.startswith(peer + os.sep):
            file, line = path, frame.lineno
    report(module=name, file=file, line=line, column=None, code=type(err).__name__,
           message=f"{type(err).__name__}: {err}")
"#;

/// Whether the tree has Python: a `pyproject.toml`, `setup.py` or any `.py` file.
pub fn has_python(root: &Path) -> bool {
    root.join("pyproject.toml").is_file()
        || root.join("setup.py").is_file()
        || !modules(root).is_empty()
}

/// The roots modules are named from: the tree, and its `src/` when that is a layout
/// directory (not itself a package).
fn roots(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![root.to_path_buf()];
    let src = root.join("src");
    if src.is_dir() && !src.join("__init__.py").is_file() {
        out.push(src);
    }
    out
}

/// Dotted names of the tree's modules (a package by its `__init__.py`).
pub fn modules(root: &Path) -> Vec<String> {
    let roots = roots(root);
    let mut out = Vec::new();
    for path in export::files_under(root, &SKIP) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !name.ends_with(".py") || name == "setup.py" || name == "conftest.py" {
            continue;
        }
        // Named from the deepest root containing it (`src/` before the tree).
        let Some(rel) = roots
            .iter()
            .rev()
            .find_map(|r| path.strip_prefix(r).ok())
            .map(Path::to_path_buf)
        else {
            continue;
        };
        let mut parts: Vec<String> = rel
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if parts.last().is_some_and(|p| p == "__init__") {
            parts.pop();
        }
        let valid = |p: &String| {
            p.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && p.chars().all(|c| c.is_alphanumeric() || c == '_')
        };
        if !parts.is_empty() && parts.iter().all(valid) {
            out.push(parts.join("."));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Top-level names of a tree's modules and packages.
fn top_names(root: &Path) -> Vec<String> {
    let mut tops: Vec<String> = modules(root)
        .into_iter()
        .map(|m| m.split('.').next().unwrap_or("").to_string())
        .collect();
    tops.sort();
    tops.dedup();
    tops
}

fn python() -> Option<&'static str> {
    ["python3", "python"]
        .into_iter()
        .find(|p| which(p).is_some())
}

/// Runs the check.
pub fn check(ws: &Workspace) -> Result<ToolRun, CheckError> {
    const TOOL: &str = "python import";
    let Some(py) = python() else {
        return Ok(ToolRun::missing(TOOL, "python3"));
    };
    let modules = modules(&ws.peer);
    let script = ws.scratch.join("weft_check_imports.py");
    let config = ws.scratch.join("weft_check_imports.json");
    std::fs::write(&script, SCRIPT).map_err(|e| CheckError::io(&script, e))?;
    let cfg = serde_json::json!({
        "peer": ws.peer,
        "modules": modules,
        "upstream": top_names(&ws.upstream),
        "own": top_names(&ws.peer),
    });
    std::fs::write(&config, cfg.to_string()).map_err(|e| CheckError::io(&config, e))?;
    let peer_roots = roots(&ws.peer);
    let extra: Vec<&Path> = peer_roots.iter().map(PathBuf::as_path).collect();
    let mut cmd = Command::new(py);
    cmd.arg("-B")
        .arg(&script)
        .arg(&config)
        .current_dir(&ws.peer)
        .env("PYTHONPATH", python_path(ws, &extra))
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let toolchain = run::version(py, &["--version"], &ws.peer);
    let done = run::run(cmd, ws.deadline, Stop::Group, |l| {
        l.starts_with("WEFT-CHECK ")
    })?;
    let mut out = ToolRun::ended(
        TOOL,
        Some(format!("{py} -c 'import …' ({} modules)", modules.len())),
        toolchain,
        done.timed_out,
        "importing the modules",
        ws.limit_secs,
    );
    if done.timed_out {
        return Ok(out);
    }
    let mut skipped = Vec::new();
    for line in &done.stdout {
        let Some(v) = line
            .strip_prefix("WEFT-CHECK ")
            .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
        else {
            continue;
        };
        if let Some(top) = v["skipped"].as_str() {
            skipped.push(format!(
                "{} (needs {top})",
                v["module"].as_str().unwrap_or("?")
            ));
            continue;
        }
        out.diagnostics.push(import_diagnostic(ws, &v));
    }
    if !done.success() && out.diagnostics.is_empty() {
        let last = done.stderr.lines().last().unwrap_or("no message").trim();
        out.diagnostics.push(Diagnostic::general(format!(
            "the import check failed: {last}"
        )));
    }
    if !skipped.is_empty() {
        out.reason = Some(format!(
            "{} module(s) not imported, their third-party dependencies are not installed: {}",
            skipped.len(),
            skipped.join(", ")
        ));
    }
    if let Some(typed) = type_check(ws)? {
        out.tool = format!("{TOOL} + {}", typed.tool);
        if let Some(c) = typed.command {
            out.command = Some(format!("{}; {c}", out.command.unwrap_or_default()));
        }
        if typed.outcome == Outcome::Timeout {
            out.outcome = Outcome::Timeout;
            out.reason = typed.reason;
            return Ok(out);
        }
        out.diagnostics.extend(typed.diagnostics);
    }
    if !out.diagnostics.is_empty() {
        out.outcome = Outcome::Fail;
    }
    Ok(out)
}

fn import_diagnostic(ws: &Workspace, v: &serde_json::Value) -> Diagnostic {
    let message = v["message"].as_str().unwrap_or("import failed").to_string();
    let code = v["code"].as_str().map(str::to_string);
    let located = v["file"].as_str().map(|f| ws.locate(f, &ws.peer));
    match located {
        Some((file, origin)) => Diagnostic {
            file,
            line: v["line"].as_u64().map(|n| n as u32),
            column: v["column"].as_u64().map(|n| n as u32),
            origin,
            code,
            message,
        },
        None => Diagnostic {
            code,
            ..Diagnostic::general(format!(
                "{}: {message}",
                v["module"].as_str().unwrap_or("?")
            ))
        },
    }
}

/// pyright (with the upstream on its `extraPaths`), else mypy (`MYPYPATH`), when one is
/// on PATH.
fn type_check(ws: &Workspace) -> Result<Option<ToolRun>, CheckError> {
    if which("pyright").is_some() && !ws.peer.join("pyrightconfig.json").exists() {
        let config = ws.peer.join("pyrightconfig.json");
        let body = serde_json::json!({ "extraPaths": [ws.upstream, ws.upstream.join("src")] });
        std::fs::write(&config, body.to_string()).map_err(|e| CheckError::io(&config, e))?;
        let mut cmd = Command::new("pyright");
        cmd.arg("--outputjson").current_dir(&ws.peer);
        let done = run::run(cmd, ws.deadline, Stop::Group, run::all)?;
        return Ok(Some(typed(
            "pyright",
            "pyright --outputjson",
            ws,
            done,
            pyright,
        )));
    }
    if which("mypy").is_some() {
        let mut cmd = Command::new("mypy");
        cmd.args([
            "--show-column-numbers",
            "--no-error-summary",
            "--no-color-output",
            "--ignore-missing-imports",
            "--hide-error-context",
            "--cache-dir",
        ])
        .arg(ws.scratch.join("mypy-cache"))
        .arg(".")
        .current_dir(&ws.peer)
        .env("MYPYPATH", python_path(ws, &[]));
        let done = run::run(cmd, ws.deadline, Stop::Group, run::all)?;
        return Ok(Some(typed(
            "mypy",
            "mypy --ignore-missing-imports .",
            ws,
            done,
            mypy,
        )));
    }
    Ok(None)
}

fn typed(
    tool: &str,
    shown: &str,
    ws: &Workspace,
    done: run::Finished,
    parse: fn(&Workspace, &[String]) -> Vec<Diagnostic>,
) -> ToolRun {
    let mut out = ToolRun::ended(
        tool,
        Some(shown.into()),
        None,
        done.timed_out,
        tool,
        ws.limit_secs,
    );
    if done.timed_out {
        return out;
    }
    out.diagnostics = parse(ws, &done.stdout);
    if !out.diagnostics.is_empty() {
        out.outcome = Outcome::Fail;
    }
    out
}

fn mypy(ws: &Workspace, lines: &[String]) -> Vec<Diagnostic> {
    lines
        .iter()
        .filter_map(|l| {
            let (file, line, column, message) = parse_colon(l)?;
            let message = message.strip_prefix("error:")?.trim();
            let (file, origin) = ws.locate(file, &ws.peer);
            Some(Diagnostic {
                file,
                line: Some(line),
                column,
                origin,
                code: message
                    .rsplit_once("  [")
                    .map(|(_, c)| c.trim_end_matches(']').to_string()),
                message: message.to_string(),
            })
        })
        .collect()
}

fn pyright(ws: &Workspace, lines: &[String]) -> Vec<Diagnostic> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&lines.join("\n")) else {
        return Vec::new();
    };
    let Some(items) = v["generalDiagnostics"].as_array() else {
        return Vec::new();
    };
    items
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| {
            let (file, origin) = d["file"]
                .as_str()
                .map_or((None, Origin::Other), |f| ws.locate(f, &ws.peer));
            let start = &d["range"]["start"];
            Diagnostic {
                file,
                line: start["line"].as_u64().map(|n| n as u32 + 1),
                column: start["character"].as_u64().map(|n| n as u32 + 1),
                origin,
                code: d["rule"].as_str().map(str::to_string),
                message: d["message"]
                    .as_str()
                    .unwrap_or("")
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string(),
            }
        })
        .collect()
}
