//! `weft assess` (`init`, `run`, `diff`), `weft hooks`, `weft watch`: assessments and their
//! triggers.

use crate::args::{
    AssessArgs, AssessCommand, AssessRunArgs, FailOnArg, FormatArg, HooksCommand, ScopeArg,
    WatchArgs,
};
use crate::ctx::{input, Ctx};
use crate::{exit, out};
use anyhow::Result;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;
use weft_node::assess::commit::{self, Recorded};
use weft_node::assess::{hooks, watch};
use weft_node::graph::assess::report::{FailOn, Report};
use weft_node::graph::assess::run::{self as pipeline, Stages};
use weft_node::graph::assess::scope::ScopeRequest;
use weft_node::graph::assess::{diff, format};
use weft_node::{Node, NodeError};

pub fn dispatch(ctx: &Ctx, args: AssessArgs) -> Result<u8> {
    match args.command {
        None => run(ctx, args.run),
        Some(AssessCommand::Run(run_args)) => run(ctx, run_args),
        Some(AssessCommand::Init) => init(ctx),
        Some(AssessCommand::Diff { a, b }) => report_diff(ctx, a, b),
    }
}

/// `weft assess init`: every phase of the graph, with what it built and its time.
fn init(ctx: &Ctx) -> Result<u8> {
    let node = ctx.node()?;
    let bars = out::StageBars(out::stage_bar(ctx, "scan", ctx.json));
    let built = weft_node::assess::init::build_and_record(&node, &bars)?;
    bars.0.finish_and_clear();
    if ctx.json {
        ctx.print_json(&json!(built));
        return Ok(exit::OK);
    }
    for phase in &built.phases {
        let counts: Vec<String> = phase
            .counts
            .iter()
            .map(|(name, n)| format!("{n} {}", name.replace('_', " ")))
            .collect();
        say!(ctx; "{:<8} {:>8.2} s  {}", phase.name, phase.duration.as_secs_f64(), counts.join(", "));
    }
    say!(ctx;
        "search index of {} symbols recorded as event {} (vector set {})",
        built.index.digest.symbols,
        built.index.seq,
        out::short(&built.index.digest.vectors.to_hex())
    );
    say!(ctx; "knowledge graph built; recorded as event {}", built.event);
    Ok(exit::OK)
}

/// `weft assess run` (and `weft assess`).
fn run(ctx: &Ctx, args: AssessRunArgs) -> Result<u8> {
    if args.staged && args.scope != ScopeArg::Commit {
        return Err(input("--staged goes with --scope commit"));
    }
    if let Some(path) = &args.output {
        let parent = ctx.dir.join(path);
        let parent = parent.parent().unwrap_or(Path::new("."));
        if !parent.as_os_str().is_empty() && !parent.is_dir() {
            return Err(input(format!(
                "--output {}: no such directory",
                path.display()
            )));
        }
    }
    let request = match (&args.since, args.scope) {
        (Some(rev), _) => ScopeRequest::Since(rev.clone()),
        (None, ScopeArg::Commit) if args.staged => ScopeRequest::Staged,
        (None, ScopeArg::Commit) => ScopeRequest::Commit,
        (None, ScopeArg::Ci) => ScopeRequest::Ci,
        (None, ScopeArg::Full) => ScopeRequest::Full,
    };
    let format = if ctx.json {
        FormatArg::Json
    } else {
        args.format
    };
    let node = ctx.node()?;
    let fail_on = match args.fail_on {
        Some(FailOnArg::None) => FailOn::None,
        Some(FailOnArg::Warning) => FailOn::Warning,
        Some(FailOnArg::Error) => FailOn::Error,
        None => node.config().assessment.fail_on,
    };
    // Bars go to standard error, and only on a terminal: they never mix with the report.
    let report = assess_and_record(ctx, &node, &request, ctx.json)?;
    let rendered = render(&report, format)?;
    match &args.output {
        Some(path) => {
            std::fs::write(ctx.dir.join(path), rendered).map_err(|e| NodeError::io(path, e))?
        }
        None => say_raw!(ctx; "{rendered}"),
    }
    let threshold = fail_on.threshold();
    let failed = threshold.is_some_and(|t| report.findings.iter().any(|f| f.severity >= t));
    Ok(if failed { exit::FAILED } else { exit::OK })
}

/// SCOPE → … → COMMIT for one request; the report is written and chained.
fn assess_and_record(
    ctx: &Ctx,
    node: &Node,
    request: &ScopeRequest,
    quiet: bool,
) -> Result<Report> {
    let bars = out::StageBars(out::stage_bar(ctx, "scope", quiet));
    bars.stage("scope", 0);
    let Recorded {
        report,
        written,
        event,
    } = commit::assess_and_record(node, request, &bars)?;
    bars.0.finish_and_clear();
    complain!(ctx;
        "assessment: {} error(s), {} warning(s), {} note(s) in {} file(s); report {} recorded as event {}",
        report.summary.error,
        report.summary.warning,
        report.summary.note,
        report.scope.files.len(),
        written.path.display(),
        event.event.seq
    );
    Ok(report)
}

fn render(report: &Report, format: FormatArg) -> Result<String> {
    Ok(match format {
        FormatArg::Table => format::table::render(report),
        FormatArg::Json => format!("{}\n", serde_json::to_string_pretty(report)?),
        FormatArg::GithubAnnotations => format::annotations::render(report),
        FormatArg::Sarif => format!(
            "{}\n",
            serde_json::to_string_pretty(&format::sarif::render(report))?
        ),
    })
}

fn report_diff(ctx: &Ctx, a: Option<PathBuf>, b: Option<PathBuf>) -> Result<u8> {
    let layout = weft_node::Layout::discover(&ctx.dir);
    let artifacts = layout.as_ref().map(|l| l.artifacts());
    let history = artifacts
        .as_deref()
        .map(pipeline::history_reports)
        .unwrap_or_default();
    let latest = artifacts.as_deref().map(pipeline::latest_path);
    let (old, new) = match (a, b) {
        (Some(a), Some(b)) => (ctx.dir.join(a), ctx.dir.join(b)),
        (Some(a), None) => (
            ctx.dir.join(a),
            latest.ok_or_else(|| input("no weft node here: name both reports"))?,
        ),
        (None, _) => match history.as_slice() {
            [.., old, new] => (old.clone(), new.clone()),
            _ => {
                return Err(input(
                    "fewer than two reports in .weftos/artifacts/history/: run `weft assess` twice or name the reports",
                ))
            }
        },
    };
    let old_report = pipeline::read_report(&old).map_err(NodeError::from)?;
    let new_report = pipeline::read_report(&new).map_err(NodeError::from)?;
    let d = diff::diff(&old_report, &new_report);
    if ctx.json {
        ctx.print_json(&json!({"old": old, "new": new, "diff": d}));
    } else {
        say!(ctx; "{} → {}", old.display(), new.display());
        say_raw!(ctx; "{}", diff::render_table(&d));
    }
    Ok(exit::OK)
}

pub fn hooks(ctx: &Ctx, command: HooksCommand) -> Result<u8> {
    let layout = ctx.layout()?;
    let changes = match command {
        HooksCommand::Install => {
            let exe = std::env::current_exe().map_err(|e| NodeError::io(Path::new("weft"), e))?;
            hooks::install(&layout.root, &exe)
        }
        HooksCommand::Uninstall => hooks::uninstall(&layout.root),
    }
    .map_err(|e| match e {
        hooks::HookError::NoRepository(_) => input(e.to_string()),
        other => anyhow::Error::new(other),
    })?;
    if ctx.json {
        ctx.print_json(&json!({"hooks": changes}));
    } else {
        for c in &changes {
            say!(ctx; "{:<11} {} ({})", c.hook, c.action, c.path.display());
        }
    }
    Ok(exit::OK)
}

pub fn watch(ctx: &Ctx, args: WatchArgs) -> Result<u8> {
    if args.max_runs == Some(0) {
        return Err(input("--max-runs must be at least 1"));
    }
    let layout = ctx.layout()?;
    // Opened once up front so a broken node is reported before waiting for changes.
    drop(ctx.node()?);
    complain!(ctx; "watching {} (Ctrl-C to stop)", layout.root.display());
    let mut failure = None;
    watch::watch(
        &layout.root,
        Duration::from_millis(args.debounce_ms),
        args.max_runs,
        &mut |paths| {
            complain!(ctx; "changed: {}", paths.join(", "));
            let result = ctx
                .node()
                .and_then(|node| assess_and_record(ctx, &node, &ScopeRequest::Paths(paths), true));
            match result {
                Ok(report) if ctx.json => {
                    out::json_line(ctx, &serde_json::to_value(&report).unwrap_or_default()).is_ok()
                }
                Ok(report) => {
                    say_raw!(ctx; "{}", format::table::render(&report));
                    true
                }
                Err(e) => {
                    failure = Some(e);
                    false
                }
            }
        },
    )
    .map_err(|e| input(e.to_string()))?;
    match failure {
        Some(e) => Err(e),
        None => Ok(exit::OK),
    }
}
