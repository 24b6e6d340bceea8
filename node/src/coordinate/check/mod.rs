//! CHECK: static analysis is evidence, a compiler is proof. `weft coordinate check` builds
//! or type-checks this repository (a peer) against an upstream's head, in a temporary
//! copy that leaves both trees untouched, records the outcome as `coordinate.check` on
//! this chain, and reports it; `weft coordinate impact --check` runs that command in each
//! affected local peer, reads the event back from the peer's chain, witnesses it on the
//! upstream's chain and joins the build's diagnostics to the static findings.
//!
//! - [`run`] spawns one bounded child (its own process group, killed on timeout or on an
//!   interrupt) and captures its output;
//! - [`export`] writes a commit's tree into a directory (no worktree, nothing to prune);
//! - [`rust`], [`go`], [`python`], [`typescript`] and [`command`] (a peer's configured
//!   `[coordination] check`) run one toolchain each and map its diagnostics to the
//!   peer's own files and lines;
//! - [`join`] merges an outcome into an impact report (severity, `confirmed`,
//!   `unpredicted`), [`delegate`] is the upstream's side (the subprocess, the witness).

pub mod command;
pub mod delegate;
pub mod export;
pub mod go;
pub mod join;
pub mod python;
pub mod run;
pub mod rust;
pub mod typescript;

pub use super::outcome::{
    diagnostics_hash, Baseline, CheckResult, Diagnostic, EventAt, Origin, Outcome,
    DIAGNOSTICS_DOMAIN, MAX_DIAGNOSTICS,
};

use crate::config::WeaveConfig;
use crate::{Node, NodeError};
use ciborium::value::Value;
use git2::{Oid, Repository};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use weft_kernel::event::EventDraft;

/// Kind of the record of a build check, on the checked peer's chain.
pub const CHECK_EVENT: &str = "coordinate.check";
/// Seconds a check may take unless configured.
pub const DEFAULT_TIMEOUT_SECS: u64 = 600;

/// A check could not be run at all (a toolchain that is absent or fails to build is an
/// outcome, not an error).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// Git failed on one of the repositories.
    #[error("{}: git: {message}", path.display())]
    Git {
        /// The repository.
        path: PathBuf,
        /// libgit2's message.
        message: String,
    },
    /// A revision did not resolve.
    #[error("{rev:?} is not a commit of {}: {message}", path.display())]
    BadRevision {
        /// The repository.
        path: PathBuf,
        /// What was given.
        rev: String,
        /// libgit2's message.
        message: String,
    },
    /// Reading or writing the temporary copy failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A child process could not be started.
    #[error("could not run `{program}`: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// Interrupted (Ctrl-C, SIGTERM): the child was killed, the copies removed.
    #[error("interrupted: the check's processes were killed and its temporary copies removed")]
    Interrupted,
    /// The peer's check subprocess answered nothing usable.
    #[error("peer `{peer}`: `weft coordinate check` there failed: {message}")]
    Delegate {
        /// The peer.
        peer: String,
        /// What it said.
        message: String,
    },
}

impl CheckError {
    /// How it ends a command.
    pub fn class(&self) -> crate::ErrorClass {
        match self {
            CheckError::BadRevision { .. } => crate::ErrorClass::Input,
            _ => crate::ErrorClass::Operational,
        }
    }

    pub(crate) fn io(path: &Path, source: std::io::Error) -> CheckError {
        CheckError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

// ---------------------------------------------------------------------------------
// Interrupts

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Marks the running check as interrupted: its child is killed at the next poll and the
/// check returns [`CheckError::Interrupted`] (its temporary copies are removed as it
/// unwinds).
pub fn interrupt() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Whether [`interrupt`] was called.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Turns SIGINT and SIGTERM into [`interrupt`] for the rest of the process (once; for a
/// command run in a terminal, not inside the daemon, which has its own handling).
pub fn watch_signals() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("no interrupt handling for the check: {e}");
                return;
            }
        };
        // Registered here, before returning, so a signal right after is not missed.
        let signals = runtime.block_on(async {
            use tokio::signal::unix::{signal, SignalKind};
            Ok::<_, std::io::Error>((
                signal(SignalKind::interrupt())?,
                signal(SignalKind::terminate())?,
            ))
        });
        let (mut int, mut term) = match signals {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("no interrupt handling for the check: {e}");
                return;
            }
        };
        std::thread::spawn(move || {
            runtime.block_on(async {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            });
            interrupt();
        });
    });
}

// ---------------------------------------------------------------------------------
// The peer's side: `weft coordinate check`

/// What `weft coordinate check` is asked.
#[derive(Debug, Clone)]
pub struct CheckRequest {
    /// The upstream repository (any directory inside it).
    pub upstream: PathBuf,
    /// Its commit to check against (default: its HEAD).
    pub commit: Option<String>,
    /// The upstream's earlier commit (the base of the release): when the check fails, the
    /// peer is built against it too, so that errors it had before are not blamed on the
    /// change.
    pub baseline: Option<String>,
    /// Time limit (default: `[coordination] check_timeout`, else 600 s).
    pub timeout: Option<Duration>,
}

/// The directories one check works in.
pub struct Workspace {
    /// The original peer repository (never written).
    pub peer_root: PathBuf,
    /// The original upstream repository (never written).
    pub upstream_root: PathBuf,
    /// The peer's copy.
    pub peer: PathBuf,
    /// The upstream's export.
    pub upstream: PathBuf,
    /// Scratch space beside them (scripts, configs).
    pub scratch: PathBuf,
    /// When the check must be over.
    pub deadline: Instant,
    /// The time limit it was given, in seconds.
    pub limit_secs: u64,
    /// Cache for incremental builds (`~/.cache/weft/check-target/<peer>` for Rust).
    pub cache: PathBuf,
    /// The peer's project name.
    pub name: String,
    /// The upstream's commit.
    pub upstream_commit: String,
}

impl Workspace {
    /// Maps a path a tool printed (absolute, or relative to `base` inside the copies) to
    /// the repository it belongs to and its path there.
    pub fn locate(&self, printed: &str, base: &Path) -> (Option<String>, Origin) {
        let path = Path::new(printed);
        let abs = if path.is_absolute() {
            normalise(path)
        } else {
            normalise(&base.join(path))
        };
        let rel = |root: &Path| {
            abs.strip_prefix(root)
                .ok()
                .map(|r| r.to_string_lossy().into_owned())
        };
        for (root, origin) in [
            (&self.peer, Origin::Peer),
            (&self.upstream, Origin::Upstream),
            (&self.peer_root, Origin::Peer),
            (&self.upstream_root, Origin::Upstream),
        ] {
            if let Some(r) = rel(root) {
                return (Some(r), origin);
            }
        }
        (Some(printed.to_string()), Origin::Other)
    }

    /// `text` with the temporary copies' paths replaced by `<upstream>` and `<peer>`
    /// (messages then read the same, and hash the same, on every run).
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (dir, name) in [
            (&self.upstream, "<upstream>"),
            (&self.peer, "<peer>"),
            (&self.scratch, "<scratch>"),
        ] {
            out = out.replace(&*dir.to_string_lossy(), name);
        }
        out
    }
}

/// `path` with `.` and `..` removed lexically.
pub fn normalise(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// What one toolchain run found, before it becomes a [`CheckResult`].
#[derive(Debug, Clone)]
pub struct ToolRun {
    /// What ran.
    pub tool: String,
    /// The command line(s).
    pub command: Option<String>,
    /// Its version.
    pub toolchain: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// Why, when not a plain pass or fail.
    pub reason: Option<String>,
    /// Every error found.
    pub diagnostics: Vec<Diagnostic>,
}

impl ToolRun {
    /// A toolchain that could not check anything.
    pub fn not_checked(tool: &str, reason: impl Into<String>) -> ToolRun {
        ToolRun {
            tool: tool.into(),
            command: None,
            toolchain: None,
            outcome: Outcome::NotChecked,
            reason: Some(reason.into()),
            diagnostics: Vec::new(),
        }
    }

    /// A run of `tool` that ended: a pass until its diagnostics say otherwise, or a
    /// timeout (`what` says what did not finish within `limit_secs`).
    pub fn ended(
        tool: &str,
        command: Option<String>,
        toolchain: Option<String>,
        timed_out: bool,
        what: &str,
        limit_secs: u64,
    ) -> ToolRun {
        let (outcome, reason) = if timed_out {
            let reason = format!(
                "{what} did not finish in time: its process group was killed ({limit_secs} s limit)"
            );
            (Outcome::Timeout, Some(reason))
        } else {
            (Outcome::Pass, None)
        };
        ToolRun {
            tool: tool.into(),
            command,
            toolchain,
            outcome,
            reason,
            diagnostics: Vec::new(),
        }
    }

    /// A toolchain absent from PATH.
    pub fn missing(tool: &str, program: &str) -> ToolRun {
        ToolRun::not_checked(tool, format!("{program} not found"))
    }
}

/// weft's cache directory: `$WEFT_CACHE_DIR`, else `$XDG_CACHE_HOME/weft`, else
/// `~/.cache/weft`.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("WEFT_CACHE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("weft");
    }
    let home = std::env::var_os("HOME").map_or_else(std::env::temp_dir, PathBuf::from);
    home.join(".cache").join("weft")
}

/// The program's path on PATH, if it is there.
pub fn which(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

fn git_error(path: &Path, e: git2::Error) -> CheckError {
    CheckError::Git {
        path: path.to_path_buf(),
        message: e.message().to_string(),
    }
}

/// Opens the repository containing `dir` and resolves `rev` (default HEAD) there.
fn resolve(dir: &Path, rev: Option<&str>) -> Result<(Repository, PathBuf, Oid), CheckError> {
    let repo = Repository::discover(dir).map_err(|e| git_error(dir, e))?;
    let root = repo
        .workdir()
        .map(Path::to_path_buf)
        .ok_or_else(|| CheckError::Git {
            path: dir.to_path_buf(),
            message: "a bare repository has no tree to check".into(),
        })?;
    let rev_text = rev.unwrap_or("HEAD");
    let commit = repo
        .revparse_single(rev_text)
        .and_then(|o| o.peel_to_commit())
        .map_err(|e| CheckError::BadRevision {
            path: root.clone(),
            rev: rev_text.into(),
            message: e.message().to_string(),
        })?;
    let oid = commit.id();
    drop(commit);
    Ok((repo, root, oid))
}

/// The project name in `root`'s weave.toml, else its directory's name.
fn project_name(root: &Path) -> String {
    WeaveConfig::load(root)
        .ok()
        .map(|c| c.project.name)
        .filter(|n| !n.is_empty())
        .or_else(|| root.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "upstream".into())
}

/// A cache-directory-safe form of a name.
fn safe_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with('.') {
        format!("p{s}")
    } else {
        s
    }
}

/// Checks the peer at `peer_root` (configured by `config`) against the upstream's
/// commit: exports both into a temporary directory (removed on every exit path), runs
/// the configured command or the language's check, and reports. Nothing is recorded.
pub fn check(
    peer_root: &Path,
    config: &WeaveConfig,
    request: &CheckRequest,
) -> Result<CheckResult, CheckError> {
    let started = Instant::now();
    let timeout = request.timeout.unwrap_or_else(|| {
        Duration::from_secs(
            config
                .coordination
                .check_timeout
                .unwrap_or(DEFAULT_TIMEOUT_SECS),
        )
    });
    let (up_repo, upstream_root, up_oid) = resolve(&request.upstream, request.commit.as_deref())?;
    let (peer_repo, peer_root, peer_oid) = resolve(peer_root, None)?;
    let upstream_name = project_name(&upstream_root);
    let tmp = tempfile::Builder::new()
        .prefix("weft-check-")
        .tempdir()
        .map_err(|e| CheckError::io(&std::env::temp_dir(), e))?;
    // Tools print canonical paths: so must the prefixes that map them back.
    let base = tmp
        .path()
        .canonicalize()
        .map_err(|e| CheckError::io(tmp.path(), e))?;
    let ws = Workspace {
        peer_root: peer_root.canonicalize().unwrap_or(peer_root.clone()),
        upstream_root: upstream_root
            .canonicalize()
            .unwrap_or(upstream_root.clone()),
        peer: base.join("peer"),
        upstream: base.join("upstream"),
        scratch: base.join("scratch"),
        deadline: started + timeout,
        limit_secs: timeout.as_secs(),
        cache: cache_dir(),
        name: safe_name(&config.project.name),
        upstream_commit: up_oid.to_string(),
    };
    export::export_commit(&up_repo, up_oid, &ws.upstream)?;
    export::export_commit(&peer_repo, peer_oid, &ws.peer)?;
    std::fs::create_dir_all(&ws.scratch).map_err(|e| CheckError::io(&ws.scratch, e))?;
    let mut run = run_check(&ws, config)?;
    let mut baseline = None;
    if let (Outcome::Fail, Some(rev)) = (run.outcome, request.baseline.as_deref()) {
        baseline = Some(against_baseline(
            &ws, config, &up_repo, rev, &peer_repo, peer_oid, &mut run,
        )?);
    }
    let mut result = finish(run, &upstream_name, &ws, started);
    result.baseline = baseline;
    result.reason = result.reason.map(|r| ws.scrub(&r));
    result.command = result.command.map(|c| ws.scrub(&c));
    result.commit = Some(peer_oid.to_string());
    drop(ws);
    tmp.close().map_err(|e| CheckError::io(&base, e))?;
    Ok(result)
}

/// The peer's own `[coordination] check` command, else its language's check.
fn run_check(ws: &Workspace, config: &WeaveConfig) -> Result<ToolRun, CheckError> {
    match &config.coordination.check {
        Some(cmd) => command::check(ws, cmd),
        None => by_language(ws),
    }
}

/// Builds the peer again against the upstream's `rev` (fresh copies of both), and takes
/// out of the head's failed `run` the errors that build reported too.
fn against_baseline(
    ws: &Workspace,
    config: &WeaveConfig,
    up_repo: &git2::Repository,
    rev: &str,
    peer_repo: &git2::Repository,
    peer_oid: git2::Oid,
    run: &mut ToolRun,
) -> Result<Baseline, CheckError> {
    let base_oid = up_repo
        .revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .map(|c| c.id())
        .map_err(|e| CheckError::BadRevision {
            path: ws.upstream_root.clone(),
            rev: rev.to_string(),
            message: e.message().to_string(),
        })?;
    for dir in [&ws.upstream, &ws.peer] {
        std::fs::remove_dir_all(dir).map_err(|e| CheckError::io(dir, e))?;
    }
    export::export_commit(up_repo, base_oid, &ws.upstream)?;
    export::export_commit(peer_repo, peer_oid, &ws.peer)?;
    let before = run_check(ws, config)?;
    let key = |d: &Diagnostic| (d.file.clone(), d.line, ws.scrub(&d.message));
    let had: std::collections::BTreeSet<_> = before.diagnostics.iter().map(key).collect();
    let all = run.diagnostics.len();
    if before.outcome == Outcome::Fail {
        run.diagnostics.retain(|d| !had.contains(&key(d)));
    }
    Ok(Baseline {
        commit: base_oid.to_string(),
        outcome: before.outcome,
        preexisting: (all - run.diagnostics.len()) as u32,
    })
}

/// The language check for a peer: the first ecosystem (Rust, Go, TypeScript, Python)
/// both the peer and the upstream have.
fn by_language(ws: &Workspace) -> Result<ToolRun, CheckError> {
    let up = &ws.upstream;
    let peer = &ws.peer;
    if peer.join("Cargo.toml").is_file() && !rust::upstream_crates(up).is_empty() {
        return rust::check(ws);
    }
    if peer.join("go.mod").is_file() && !go::upstream_modules(up).is_empty() {
        return go::check(ws);
    }
    if (peer.join("tsconfig.json").is_file() || peer.join("package.json").is_file())
        && up.join("package.json").is_file()
    {
        return typescript::check(ws);
    }
    if python::has_python(peer) && python::has_python(up) {
        return python::check(ws);
    }
    Ok(ToolRun::not_checked(
        "none",
        "no build check applies: the peer and the upstream share no ecosystem weft builds (Rust, Go, TypeScript, Python); configure `[coordination] check` in the peer",
    ))
}

/// Bounds, hashes and times a tool's run.
fn finish(run: ToolRun, upstream: &str, ws: &Workspace, started: Instant) -> CheckResult {
    let mut diagnostics = run.diagnostics;
    for d in &mut diagnostics {
        d.message = ws.scrub(&d.message);
    }
    let mut seen = std::collections::BTreeSet::new();
    diagnostics.retain(|d| seen.insert((d.file.clone(), d.line, d.message.clone())));
    let total = diagnostics.len() as u32;
    diagnostics.truncate(MAX_DIAGNOSTICS);
    CheckResult {
        tool: run.tool,
        command: run.command,
        toolchain: run.toolchain,
        upstream: upstream.into(),
        upstream_commit: ws.upstream_commit.clone(),
        commit: None,
        outcome: run.outcome,
        reason: run.reason,
        duration_ms: started.elapsed().as_millis() as u64,
        diagnostics_hash: diagnostics_hash(&diagnostics).to_hex(),
        diagnostics,
        diagnostics_total: total,
        event: None,
        witness_seq: None,
        witness_error: None,
        unpredicted: Vec::new(),
        static_severity: None,
        baseline: None,
    }
}

/// The `coordinate.check` event's payload.
pub fn event_payload(result: &CheckResult) -> Value {
    let text = |s: &str| Value::Text(s.into());
    let mut fields = vec![
        (text("upstream"), text(&result.upstream)),
        (text("upstream_commit"), text(&result.upstream_commit)),
        (text("tool"), text(&result.tool)),
        (text("outcome"), text(result.outcome.name())),
        (
            text("diagnostics"),
            Value::Integer(result.diagnostics_total.into()),
        ),
        (
            text("diagnostics_hash"),
            Value::Bytes(
                weft_kernel::Hash::from_hex(&result.diagnostics_hash)
                    .map(|h| h.0.to_vec())
                    .unwrap_or_default(),
            ),
        ),
        (
            text("duration_ms"),
            Value::Integer(result.duration_ms.into()),
        ),
    ];
    if let Some(t) = &result.toolchain {
        fields.push((text("toolchain"), text(t)));
    }
    if let Some(r) = &result.reason {
        fields.push((text("reason"), text(r)));
    }
    if let Some(c) = &result.commit {
        fields.push((text("commit"), text(c)));
    }
    if let Some(b) = &result.baseline {
        fields.push((
            text("baseline"),
            Value::Map(vec![
                (text("commit"), text(&b.commit)),
                (text("outcome"), text(b.outcome.name())),
                (text("preexisting"), Value::Integer(b.preexisting.into())),
            ]),
        ));
    }
    Value::Map(fields)
}

/// Records the result as `coordinate.check` on this (the peer's) chain.
pub fn record(node: &Node, result: &mut CheckResult) -> Result<(), NodeError> {
    let draft = EventDraft::new("coordinate", CHECK_EVENT, event_payload(result))
        .map_err(|e| NodeError::Input(e.to_string()))?;
    let stored = node.append(draft)?;
    result.event = Some(EventAt {
        seq: stored.event.seq,
        hash: stored.hash.to_hex(),
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diagnostics_hash_covers_every_field() {
        let d = Diagnostic {
            file: Some("src/main.rs".into()),
            line: Some(4),
            column: Some(5),
            origin: Origin::Peer,
            code: Some("E0063".into()),
            message: "missing field `b`".into(),
        };
        let base = diagnostics_hash(std::slice::from_ref(&d));
        assert_eq!(base, diagnostics_hash(std::slice::from_ref(&d)));
        assert_ne!(base, diagnostics_hash(&[]));
        let mut other = d.clone();
        other.line = Some(5);
        assert_ne!(base, diagnostics_hash(&[other]));
        let mut other = d;
        other.code = None;
        assert_ne!(base, diagnostics_hash(&[other]));
    }

    #[test]
    fn paths_are_normalised_lexically() {
        assert_eq!(normalise(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
    }
}
