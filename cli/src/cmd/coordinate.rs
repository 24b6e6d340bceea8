//! `weft coordinate link|impact|release|ack|status|check`.

use crate::args::{
    CheckArgs, CheckScope, CoordinateCommand, ImpactArgs, ImpactFailOn, ImpactFormat, ReleaseArgs,
};
use crate::ctx::{input, Ctx};
use crate::exit;
use anyhow::Result;
use std::path::Path;
use std::time::Duration;
use weft_node::config::PeerConfig;
use weft_node::coordinate::check::{self, CheckResult, Outcome as CheckOutcome};
use weft_node::coordinate::impact::{ImpactReport, PeerImpact, PeerState, Severity};
use weft_node::coordinate::peers;
use weft_node::coordinate::release::{self, Outcome, ReleaseRequest};
use weft_node::coordinate::{self as coord, ImpactRequest};
use weft_node::query::{NoMesh, PeerAsker};
use weft_node::Node;

pub fn run(ctx: &Ctx, command: CoordinateCommand) -> Result<u8> {
    match command {
        CoordinateCommand::Link {
            name,
            path,
            addr,
            peer_id,
        } => link(ctx, name, path.as_deref(), addr, peer_id),
        CoordinateCommand::Impact(args) => impact(ctx, args),
        CoordinateCommand::Release(args) => release_cmd(ctx, args),
        CoordinateCommand::Ack {
            project,
            release_version,
            note,
        } => ack(ctx, &project, &release_version, note.as_deref()),
        CoordinateCommand::Status => status(ctx),
        CoordinateCommand::Report { seq, format } => report(ctx, seq, format),
        CoordinateCommand::Check(args) => check_cmd(ctx, args),
    }
}

/// Longest wait for one peer's usage answer over the mesh (it may scan a repository).
const USAGE_TIMEOUT: Duration = Duration::from_secs(60);

/// The mesh asker of the daemon the command runs in (peers as currently configured),
/// or none outside a daemon.
pub fn asker(ctx: &Ctx, node: &Node, timeout: Duration) -> Result<Box<dyn PeerAsker>> {
    let config = node.current_config()?;
    let mesh = ctx
        .daemon
        .as_ref()
        .and_then(|d| d.asker(&config.coordination.peers, timeout));
    Ok(match mesh {
        Some(mesh) => Box::new(mesh),
        None => Box::new(NoMesh),
    })
}

fn link(
    ctx: &Ctx,
    name: String,
    path: Option<&Path>,
    addr: Option<String>,
    peer_id: Option<String>,
) -> Result<u8> {
    let (spec, file) = super::peers::add_peer(ctx, name, addr, peer_id, path, &[])?;
    let node = ctx.node()?;
    let (witnessed, reverse) = witness_link(&node, &spec);
    if ctx.json {
        ctx.print_json(&serde_json::json!({
            "linked": spec.name,
            "path": spec.path,
            "addr": spec.addr,
            "peer_id": spec.peer_id,
            "witness": witnessed.as_ref().ok(),
            "witness_error": witnessed.as_ref().err(),
            "reverse": reverse.as_ref().ok(),
            "reverse_error": reverse.as_ref().err(),
        }));
    } else {
        say!(ctx; "linked `{}` in {}", spec.name, file.display());
        match &witnessed {
            Ok(w) => say!(ctx;
                "  witnessed its head (seq {}) at sequence {} here",
                w["head_seq"],
                w["seq"]
            ),
            Err(e) => say!(ctx; "  its head is not witnessed yet: {e}"),
        }
        match &reverse {
            Ok(w) => say!(ctx;
                "  it witnessed this head at sequence {} there",
                w["seq"]
            ),
            Err(e) => say!(ctx; "  the reverse witness is not recorded: {e}"),
        }
    }
    Ok(exit::OK)
}

/// Witnesses the peer's head here, and this head on the peer's chain when it is a local
/// repository (through `weft -C PEER witness add`, which goes to its daemon if one runs).
fn witness_link(
    node: &Node,
    spec: &PeerConfig,
) -> (
    Result<serde_json::Value, String>,
    Result<serde_json::Value, String>,
) {
    let here = peers::witness_link(node, spec)
        .map(|(seq, head_seq)| serde_json::json!({"seq": seq, "head_seq": head_seq}))
        .map_err(|e| e.to_string());
    let there = match peers::local_root(node, spec) {
        Some(root) => reverse_witness(node, &root),
        None => Err("a remote peer witnesses this node's head when its daemon connects".into()),
    };
    (here, there)
}

fn reverse_witness(node: &Node, root: &Path) -> Result<serde_json::Value, String> {
    let head = node
        .chain()
        .latest_signed_head()
        .ok_or("this chain has no signed head")?;
    let project = &node.config().project.name;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join("head.json");
    std::fs::write(&file, head.to_json().to_string()).map_err(|e| e.to_string())?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let output = std::process::Command::new(exe)
        .arg("-C")
        .arg(root)
        .args(["--json", "witness", "add", "--note"])
        .arg(format!("link {project}"))
        .arg("--head")
        .arg(&file)
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_string());
    }
    serde_json::from_slice(&output.stdout).map_err(|e| e.to_string())
}

fn fails(report: &ImpactReport, fail_on: ImpactFailOn) -> bool {
    let threshold = match fail_on {
        ImpactFailOn::None => return false,
        ImpactFailOn::Breaking => Severity::Breaking,
        ImpactFailOn::Additive => Severity::Additive,
        ImpactFailOn::Informational => Severity::Informational,
    };
    report
        .peers
        .iter()
        .any(|p| p.state == PeerState::Affected && p.severity >= threshold)
}

fn impact(ctx: &Ctx, args: ImpactArgs) -> Result<u8> {
    let node = ctx.node()?;
    if let Some(v) = &args.for_version {
        release::check_version(v)?;
    }
    let request = ImpactRequest {
        since: args.since,
        peers: args.peers,
        version: args.for_version,
        window_days: args.window_days,
    };
    let mut report = coord::impact(&node, &request, &*asker(ctx, &node, USAGE_TIMEOUT)?)?;
    if let Some(scope) = args.check {
        run_checks(ctx, &node, &mut report, scope, args.check_timeout)?;
    }
    let (written, stored) = coord::record_impact(&node, &report)?;
    // --json means JSON unless another machine format was asked for.
    let format = match args.format {
        ImpactFormat::Table if ctx.json => ImpactFormat::Json,
        format => format,
    };
    match format {
        ImpactFormat::Table => {
            print_table(ctx, &report);
            say!(ctx);
            say!(ctx;
                "recorded as coordinate.impact at sequence {} (report {}, SHAKE-256 {})",
                stored.event.seq,
                written.path.display(),
                &written.hash.to_hex()[..16]
            );
        }
        machine => print_machine(ctx, &report, machine)?,
    }
    Ok(if fails(&report, args.fail_on) {
        exit::FAILED
    } else {
        exit::OK
    })
}

/// A report in one of the formats other programs read.
fn print_machine(ctx: &Ctx, report: &ImpactReport, format: ImpactFormat) -> Result<()> {
    use coord::diagram::{self, Diagram};
    match format {
        ImpactFormat::Json | ImpactFormat::Table => ctx.print_json(&serde_json::to_value(report)?),
        ImpactFormat::Sarif => ctx.print_json(&coord::sarif::render(report)),
        ImpactFormat::Dot => say_raw!(ctx; "{}", diagram::render(report, Diagram::Dot)),
        ImpactFormat::Mermaid => say_raw!(ctx; "{}", diagram::render(report, Diagram::Mermaid)),
    }
    Ok(())
}

/// `weft coordinate report [SEQ]`: a recorded impact report, checked against its event.
fn report(ctx: &Ctx, seq: Option<u64>, format: ImpactFormat) -> Result<u8> {
    let node = ctx.node()?;
    let recorded = coord::recorded::recorded_impact(&node, seq)?;
    let format = match format {
        ImpactFormat::Table if ctx.json => ImpactFormat::Json,
        format => format,
    };
    if format == ImpactFormat::Json {
        ctx.print_json(&serde_json::to_value(&recorded)?);
        return Ok(exit::OK);
    }
    let parsed: ImpactReport = serde_json::from_value(recorded.report).map_err(|e| {
        input(format!(
            "{}: written by another version of weft ({e}); `--json` shows it as written",
            recorded.path
        ))
    })?;
    if format == ImpactFormat::Table {
        print_table(ctx, &parsed);
        say!(ctx);
        say!(ctx;
            "recorded as coordinate.impact at sequence {} (report {}, its hash checked)",
            recorded.seq,
            recorded.path
        );
        return Ok(exit::OK);
    }
    print_machine(ctx, &parsed, format)?;
    Ok(exit::OK)
}

/// `impact --check`: each selected peer built against this head, one at a time.
fn run_checks(
    ctx: &Ctx,
    node: &Node,
    report: &mut ImpactReport,
    scope: CheckScope,
    timeout: Option<u64>,
) -> Result<()> {
    if ctx.daemon.is_none() {
        check::watch_signals();
    }
    let options = check::delegate::CheckOptions {
        scope: match scope {
            CheckScope::Affected => check::delegate::Scope::Affected,
            CheckScope::All => check::delegate::Scope::All,
        },
        timeout: timeout.map(Duration::from_secs),
    };
    let bar = crate::out::spinner(ctx, ctx.json);
    let mut progress = |name: &str| bar.set_message(format!("checking {name} against HEAD"));
    check::delegate::check_peers(node, report, &options, &mut progress)?;
    bar.finish_and_clear();
    Ok(())
}

/// `weft coordinate check`: this repository against an upstream's commit.
fn check_cmd(ctx: &Ctx, args: CheckArgs) -> Result<u8> {
    let node = ctx.node()?;
    let config = node.current_config()?;
    if ctx.daemon.is_none() {
        check::watch_signals();
    }
    let request = check::CheckRequest {
        upstream: args.upstream,
        commit: args.commit,
        baseline: args.baseline,
        timeout: args.check_timeout.map(Duration::from_secs),
    };
    let mut result = check::check(&node.layout().root, &config, &request)
        .map_err(coord::CoordinateError::from)
        .map_err(weft_node::NodeError::from)?;
    check::record(&node, &mut result)?;
    if ctx.json {
        ctx.print_json(&serde_json::to_value(&result)?);
    } else {
        print_check(ctx, &result, "");
        if let Some(e) = &result.event {
            say!(ctx; "recorded as coordinate.check at sequence {}", e.seq);
        }
    }
    Ok(match result.outcome {
        CheckOutcome::Pass => exit::OK,
        CheckOutcome::Fail | CheckOutcome::Timeout => exit::FAILED,
        CheckOutcome::NotChecked => exit::OPERATIONAL,
    })
}

/// A check's outcome and diagnostics, each line indented by `indent`.
fn print_check(ctx: &Ctx, r: &CheckResult, indent: &str) {
    say!(ctx;
        "{indent}check: {} ({}{}, against {} {}, {:.1} s)",
        r.summary(),
        r.tool,
        r.toolchain
            .as_deref()
            .map(|t| format!(", {t}"))
            .unwrap_or_default(),
        r.upstream,
        r.upstream_commit.get(..12).unwrap_or(&r.upstream_commit),
        r.duration_ms as f64 / 1000.0
    );
    if let Some(s) = r.static_severity {
        let by_build = if r.failed_by_change() {
            "breaking by the build"
        } else {
            "the build decided its undetermined changes: they compile"
        };
        say!(ctx;
            "{indent}  severity {} by static analysis; {by_build}",
            format!("{s:?}").to_lowercase()
        );
    }
    if let Some(b) = &r.baseline {
        let blame = if r.failed_by_change() {
            format!("{} new", r.diagnostics_total)
        } else {
            "none new: not caused by this change".to_string()
        };
        say!(ctx;
            "{indent}  against the base {}: {} ({} of these errors there too; {blame})",
            b.commit.get(..12).unwrap_or(&b.commit),
            b.outcome.name(),
            b.preexisting
        );
    }
    for d in &r.diagnostics {
        let place = match (&d.file, d.line) {
            (Some(f), Some(l)) => match d.column {
                Some(c) => format!("{f}:{l}:{c}"),
                None => format!("{f}:{l}"),
            },
            (Some(f), None) => f.clone(),
            _ => "-".into(),
        };
        let origin = match d.origin {
            check::Origin::Peer => "",
            check::Origin::Upstream => " (upstream)",
            check::Origin::Other => "",
        };
        let unpredicted = if r.unpredicted.contains(d) {
            "  [unpredicted]"
        } else {
            ""
        };
        say!(ctx;
            "{indent}  {place}{origin}  error{}: {}{unpredicted}",
            d.code.as_deref().map(|c| format!("[{c}]")).unwrap_or_default(),
            d.message
        );
    }
    if r.diagnostics_total as usize > r.diagnostics.len() {
        say!(ctx;
            "{indent}  … {} more",
            r.diagnostics_total as usize - r.diagnostics.len()
        );
    }
    if let Some(seq) = r.witness_seq {
        say!(ctx;
            "{indent}  its coordinate.check (sequence {} there) witnessed at sequence {seq} here",
            r.event.as_ref().map_or(0, |e| e.seq)
        );
    }
    if let Some(e) = &r.witness_error {
        say!(ctx; "{indent}  not witnessed: {e}");
    }
}

fn print_peer_check(ctx: &Ctx, p: &PeerImpact) {
    if let Some(r) = &p.check {
        print_check(ctx, r, "    ");
    }
}

fn print_table(ctx: &Ctx, report: &ImpactReport) {
    let api = &report.api;
    let base = match (&report.base.name, &report.base.commit) {
        (Some(n), Some(c)) => format!("{} {n} ({})", report.base.origin, &c[..12.min(c.len())]),
        _ => "nothing (first release: all public API is new)".into(),
    };
    say!(ctx;
        "{} {} since {base}: {} files changed",
        report.project,
        report.version.as_deref().unwrap_or("HEAD"),
        api.files_changed
    );
    let s = &report.summary;
    say!(ctx;
        "API: {} breaking, {} additive, {} internal{}",
        s.breaking_changes,
        s.additive_changes,
        s.internal_changes,
        match s.undetermined_changes {
            0 => String::new(),
            n => format!(", {n} undetermined"),
        }
    );
    for c in api.changes.iter().filter(|c| c.public) {
        let detail = match (&c.renamed_to, &c.before, &c.after) {
            (Some(to), _, _) => format!("→ {to}"),
            (None, Some(b), Some(a)) if b != a => format!("{b}  →  {a}"),
            _ => String::new(),
        };
        let line = format!(
            "  {:<9} {:<10} {} {}:{} {detail}",
            format!("{:?}", c.class).to_lowercase(),
            format!("{:?}", c.change).to_lowercase(),
            c.kind.as_str(),
            c.path,
            c.qualified
        );
        say!(ctx; "{}", line.trim_end());
        // Which rule decided, and why where it says: a class is never unexplained.
        match &c.note {
            Some(note) => say!(ctx; "            {}: {note}", c.rule),
            None if !c.rule.is_empty() => say!(ctx; "            {}", c.rule),
            None => {}
        }
    }
    for m in &api.manifest_changes {
        say!(ctx;
            "  {:<9} manifest   {} {}: {} → {}  ({})",
            format!("{:?}", m.class).to_lowercase(),
            m.path,
            m.field,
            m.before.as_deref().unwrap_or("-"),
            m.after.as_deref().unwrap_or("-"),
            m.rule
        );
    }
    for c in &api.config_changes {
        let types = |t: &[weft_node::graph::config_schema::ValueType]| match t {
            [] => "-".to_string(),
            t => t.iter().map(|v| v.as_str()).collect::<Vec<_>>().join("|"),
        };
        say!(ctx;
            "  {:<9} config     {}:{} {}: {} → {}  ({})",
            format!("{:?}", c.class).to_lowercase(),
            c.path,
            c.line,
            c.key,
            types(&c.before),
            types(&c.after),
            c.rule
        );
        if let Some(note) = &c.note {
            say!(ctx; "            {note}");
        }
    }
    say!(ctx);
    say!(ctx;
        "peers: {} affected ({} breaking, {} breaking uses), {} pinned, {} unreachable",
        s.affected,
        s.breaking_peers,
        s.breaking_uses,
        s.pinned,
        s.unreachable
    );
    for p in &report.peers {
        let state = format!("{:?}", p.state).to_lowercase();
        let severity = format!("{:?}", p.severity).to_lowercase();
        say!(ctx;
            "{:<16} {:<13} {:<13} via {}",
            p.name,
            state,
            severity,
            p.via
        );
        if let Some(e) = &p.error {
            say!(ctx; "    unreachable: {e}");
        }
        print_peer_check(ctx, p);
        for d in &p.declarations {
            say!(ctx;
                "    {} declares {} {} ({}takes this version: {})",
                d.manifest,
                d.package,
                d.requirement
                    .as_deref()
                    .or(d.source.as_deref())
                    .unwrap_or("*"),
                if d.kind == "normal" {
                    String::new()
                } else {
                    format!("{}, ", d.kind)
                },
                d.takes_version
            );
        }
        if p.state == PeerState::Pinned {
            say!(ctx;
                "    not affected now: every declaration pins another version; when it moves:"
            );
        }
        for f in &p.files {
            for u in &f.uses {
                say!(ctx;
                    "    {}:{}  {} {} ({:?}, {:?})  {}{}",
                    f.path,
                    u.line,
                    format!("{:?}", u.class).to_lowercase(),
                    u.symbol,
                    u.via,
                    u.change,
                    u.text,
                    match u.confirmed {
                        Some(true) => "  [confirmed by the build]",
                        _ => "",
                    }
                );
            }
        }
        for c in p.cochange.iter().take(5) {
            say!(ctx;
                "    {} changed after {} past release(s) (co-change, weaker evidence)",
                c.path,
                c.releases
            );
        }
        for n in p.neighbours.iter().take(5) {
            say!(ctx;
                "    {}:{}  {} {} resembles {} ({:.2}, semantic, weaker evidence)",
                n.path,
                n.line,
                n.kind.as_str(),
                n.qualified,
                n.of,
                n.score
            );
        }
    }
}

fn release_cmd(ctx: &Ctx, args: ReleaseArgs) -> Result<u8> {
    let node = ctx.node()?;
    let request = ReleaseRequest {
        version: args.release_version,
        environment: args.env,
        since: args.since,
        artifacts: args.artifacts,
    };
    let result = release::release(&node, &request, &*asker(ctx, &node, USAGE_TIMEOUT)?)?;
    let code = match result.outcome {
        Outcome::Published { .. } => exit::OK,
        Outcome::Deferred => exit::DEFERRED,
        Outcome::Denied | Outcome::Rejected => exit::FAILED,
    };
    if ctx.json {
        ctx.print_json(&serde_json::to_value(&result)?);
        return Ok(code);
    }
    let effect: Vec<String> = result
        .effect
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    say!(ctx;
        "gate: {} (decision {}, effect {})",
        result.decision_name,
        result.decision,
        if effect.is_empty() {
            "-".into()
        } else {
            effect.join(",")
        }
    );
    for r in &result.reasons {
        say!(ctx; "  {r}");
    }
    for p in &result.peers {
        say!(ctx;
            "  {:<16} {:<13} {}",
            p.name,
            format!("{:?}", p.severity).to_lowercase(),
            if p.acknowledged {
                "acknowledged"
            } else {
                "not acknowledged"
            }
        );
    }
    match &result.outcome {
        Outcome::Published { seq, commit } => say!(ctx;
            "released {} at sequence {seq} (commit {}), /releases/{}",
            result.version,
            &commit[..12.min(commit.len())],
            result.version
        ),
        Outcome::Deferred => say!(ctx;
            "deferred: peers acknowledge with `weft coordinate ack PROJECT {}`; run this again once they have, or `weft gate approve {}`",
            result.version,
            result.decision
        ),
        Outcome::Denied => say!(ctx; "denied: {} is not released", result.version),
        Outcome::Rejected => say!(ctx;
            "rejected: decision {} was rejected with `weft gate reject`",
            result.decision
        ),
    }
    say!(ctx; "impact report: {}", result.report.display());
    Ok(code)
}

fn ack(ctx: &Ctx, project: &str, version: &str, note: Option<&str>) -> Result<u8> {
    let node = ctx.node()?;
    let result = release::ack(&node, project, version, note)?;
    if ctx.json {
        ctx.print_json(&serde_json::to_value(&result)?);
    } else {
        say!(ctx;
            "acknowledged {project} {version} ({} event {} on its chain): witness {}, lineage {}, ack {}",
            if result.published { "release" } else { "pending release" },
            result.release_seq,
            result.witness_seq,
            result.lineage_seq,
            result.ack_seq
        );
    }
    Ok(exit::OK)
}

fn status(ctx: &Ctx) -> Result<u8> {
    let node = ctx.node()?;
    let status = release::status(&node)?;
    if ctx.json {
        ctx.print_json(&serde_json::to_value(&status)?);
        return Ok(exit::OK);
    }
    if status.releases.is_empty() {
        say!(ctx; "no releases yet: `weft coordinate release VERSION`");
    }
    for r in &status.releases {
        let acked = r.peers.iter().filter(|p| p.acknowledged).count();
        say!(ctx;
            "{:<12} {:<10} seq {:<6} acks {acked}/{}",
            r.version,
            r.state,
            r.seq,
            r.peers.len()
        );
        for p in &r.peers {
            say!(ctx;
                "    {:<16} {}",
                p.name,
                match p.ack_seq {
                    Some(seq) => format!("acknowledged (its event {seq})"),
                    None => "pending".into(),
                }
            );
        }
    }
    for u in &status.upstream {
        say!(ctx;
            "upstream {} {} ({}, its event {}): {}",
            u.project,
            u.version,
            if u.published {
                "published"
            } else {
                "awaiting its gate"
            },
            u.seq,
            if u.acknowledged {
                "acknowledged".to_string()
            } else {
                format!(
                    "not acknowledged: `weft coordinate ack {} {}`",
                    u.project, u.version
                )
            }
        );
    }
    for (name, e) in &status.unreadable {
        say!(ctx; "{name}: unreadable: {e}");
    }
    Ok(exit::OK)
}
