//! The upstream's side of `impact --check`: for each selected peer, `weft -C <peer>
//! coordinate check --upstream <this repository> --commit <head>` runs as a subprocess
//! of the current executable (in the peer's daemon when one runs there), so the outcome
//! is recorded by the peer's own node key; its `coordinate.check` event is then read
//! back from the peer's chain (verified under the key trusted for it), witnessed here,
//! and the outcome joined to the report. Peers reached over the mesh run their own
//! check: they are reported not checked.

use super::{
    interrupted, join, run, CheckError, CheckResult, Outcome, CHECK_EVENT, DEFAULT_TIMEOUT_SECS,
};
use crate::config::{PeerConfig, WeaveConfig};
use crate::coordinate::impact::{ImpactReport, PeerState};
use crate::coordinate::peers;
use crate::{Node, NodeError};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use weft_kernel::cbor::read;

/// Extra time the peer's `weft` gets beyond its check's limit (exports, recording).
const OVERHEAD: Duration = Duration::from_secs(120);

/// Which peers `--check` builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Those found affected.
    Affected,
    /// Every selected peer.
    All,
}

/// What `impact --check` is asked.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Which peers.
    pub scope: Scope,
    /// Time limit per peer (default: the peer's `[coordination] check_timeout`, else
    /// 600 s).
    pub timeout: Option<Duration>,
}

/// Checks the selected peers of `report` one at a time and joins the outcomes;
/// `progress` hears the name of each peer as its check starts.
pub fn check_peers(
    node: &Node,
    report: &mut ImpactReport,
    options: &CheckOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<(), NodeError> {
    let config = node.current_config()?;
    let head = report.api.head_commit.clone();
    let baseline = report.api.base_commit.clone();
    let upstream = report.project.clone();
    for peer in report.peers.iter_mut() {
        let selected = match options.scope {
            Scope::Affected => peer.state == PeerState::Affected,
            Scope::All => true,
        };
        if !selected {
            continue;
        }
        let Some(spec) = config
            .coordination
            .peers
            .iter()
            .find(|p| p.name == peer.name)
        else {
            continue;
        };
        progress(&peer.name);
        let result = match peers::local_root(node, spec) {
            Some(root) => {
                let mut result = delegate(
                    node,
                    &root,
                    (&head, baseline.as_deref()),
                    options.timeout,
                    &upstream,
                )
                .map_err(crate::coordinate::CoordinateError::Check)?;
                witness(node, spec, &mut result);
                result
            }
            None => CheckResult::not_checked(
                &upstream,
                &head,
                "remote peer (runs its own check: weft coordinate check)",
            ),
        };
        join::apply(peer, result);
    }
    report.summary = crate::coordinate::impact::summarise(&report.api, &mut report.peers);
    Ok(())
}

/// Runs `weft coordinate check` in the peer at `root`.
fn delegate(
    node: &Node,
    root: &Path,
    (head, baseline): (&str, Option<&str>),
    timeout: Option<Duration>,
    upstream: &str,
) -> Result<CheckResult, CheckError> {
    let exe = std::env::current_exe().map_err(|source| CheckError::Spawn {
        program: "weft".into(),
        source,
    })?;
    let limit = timeout.unwrap_or_else(|| {
        let secs = WeaveConfig::load(root)
            .ok()
            .and_then(|c| c.coordination.check_timeout)
            .unwrap_or(DEFAULT_TIMEOUT_SECS);
        Duration::from_secs(secs)
    });
    let mut cmd = Command::new(&exe);
    cmd.arg("-C")
        .arg(root)
        .args(["--json", "coordinate", "check", "--upstream"])
        .arg(&node.layout().root)
        .args(["--commit", head]);
    if let Some(base) = baseline {
        cmd.args(["--base", base]);
    }
    if let Some(t) = timeout {
        cmd.arg("--check-timeout")
            .arg(t.as_secs().max(1).to_string());
    }
    let done = match run::run(
        cmd,
        Instant::now() + limit + OVERHEAD,
        run::Stop::Terminate,
        run::all,
    ) {
        Ok(done) => done,
        Err(CheckError::Interrupted) => return Err(CheckError::Interrupted),
        // This peer could not be checked; the others still are.
        Err(e) => return Ok(CheckResult::not_checked(upstream, head, e.to_string())),
    };
    // A Ctrl-C reaches the peer's `weft` as well as this one, which may see that child
    // exit before its own handler has marked the interrupt: the child's word counts.
    if interrupted() || done.stderr.contains("interrupted:") {
        return Err(CheckError::Interrupted);
    }
    let name = root.display().to_string();
    if done.timed_out {
        let mut r = CheckResult::not_checked(upstream, head, "");
        r.outcome = Outcome::Timeout;
        r.reason = Some(format!(
            "`weft coordinate check` in {name} did not finish in {} s: it was stopped",
            (limit + OVERHEAD).as_secs()
        ));
        return Ok(r);
    }
    match serde_json::from_str::<CheckResult>(&done.stdout.join("\n")) {
        Ok(r) => Ok(r),
        Err(_) => {
            let said = done
                .stderr
                .lines()
                .rev()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("no output")
                .trim_start_matches("error: ")
                .to_string();
            Ok(CheckResult::not_checked(
                upstream,
                head,
                format!("`weft coordinate check` failed in the peer: {said}"),
            ))
        }
    }
}

/// Reads the peer's `coordinate.check` event back from its chain (verified under the
/// key trusted for it) and witnesses the head covering it here (note `check NAME SEQ`).
/// What fails is said in `witness_error`; the outcome stands either way.
fn witness(node: &Node, spec: &PeerConfig, result: &mut CheckResult) {
    match witness_inner(node, spec, result) {
        Ok(seq) => result.witness_seq = Some(seq),
        Err(e) => result.witness_error = Some(e),
    }
}

fn witness_inner(node: &Node, spec: &PeerConfig, result: &CheckResult) -> Result<u64, String> {
    let Some(at) = &result.event else {
        return Err("the peer recorded no coordinate.check event".into());
    };
    let mut pins = crate::pins::Pins::load(&node.layout().peers()).map_err(|e| e.to_string())?;
    let trusted = peers::trusted_peer_chain(node, spec, &mut pins).map_err(|e| e.to_string())?;
    if trusted.verified_to.is_none_or(|v| v < at.seq) {
        return Err(format!(
            "no verified signed head of the peer covers its event {}",
            at.seq
        ));
    }
    let stored = trusted.chain.event(at.seq).map_err(|e| e.to_string())?;
    let e = &stored.event;
    let hash_ok = stored.hash.to_hex() == at.hash;
    let payload_ok = e.kind == CHECK_EVENT
        && read::text(&e.payload, "upstream_commit") == Some(result.upstream_commit.as_str())
        && read::text(&e.payload, "outcome") == Some(result.outcome.name())
        && read::bytes(&e.payload, "diagnostics_hash").map(hex::encode)
            == Some(result.diagnostics_hash.clone());
    if !(hash_ok && payload_ok) {
        return Err(format!(
            "the peer's event {} is not the check it reported",
            at.seq
        ));
    }
    let head = peers::verified_head(&trusted.chain)
        .filter(|h| h.seq >= at.seq)
        .ok_or("no verified signed head covers the event")?;
    let note = format!("check {} {}", spec.name, at.seq);
    let draft =
        weft_kernel::witness::witness_head(&head, None, Some(&note)).map_err(|e| e.to_string())?;
    node.append(draft)
        .map(|s| s.event.seq)
        .map_err(|e| e.to_string())
}
