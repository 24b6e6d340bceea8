//! COMMIT: an assessment's report written under `.weftos/artifacts/` and recorded on the
//! chain (`assess.complete`, naming the report's hash), so that a later reader can check
//! the report they hold is the one the node produced.

use crate::graph::assess::report::Report;
use crate::graph::assess::run::{self, Stages, WrittenReport};
use crate::graph::assess::scope::ScopeRequest;
use crate::{Node, NodeError};
use ciborium::value::Value;
use weft_kernel::witness;

/// What [`assess_and_record`] produced.
#[derive(Debug)]
pub struct Recorded {
    /// The report.
    pub report: Report,
    /// Where it was written.
    pub written: WrittenReport,
    /// The chain event recording it.
    pub event: weft_kernel::StoredEvent,
}

/// SCOPE → … → COMMIT for one request on `node`: the report is written under
/// `.weftos/artifacts/` and chained (what `weft assess` and the daemon's schedule run).
pub fn assess_and_record(
    node: &Node,
    request: &ScopeRequest,
    stages: &(dyn Stages + Sync),
) -> Result<Recorded, NodeError> {
    let graph = node.graph()?;
    let report = run::assess(
        &graph,
        request,
        &node.config().project.default_branch,
        stages,
    )?;
    let written = run::write_report(&node.layout().artifacts(), &report)?;
    let event = record(node, &written, &report)?;
    Ok(Recorded {
        report,
        written,
        event,
    })
}

/// Records a written report on the chain (`assess.complete`).
pub fn record(
    node: &Node,
    written: &WrittenReport,
    report: &Report,
) -> Result<weft_kernel::StoredEvent, NodeError> {
    let root = &node.layout().root;
    let rel = written
        .path
        .strip_prefix(root)
        .unwrap_or(&written.path)
        .to_string_lossy()
        .into_owned();
    let text = |s: &str| Value::Text(s.into());
    let count = |n: u32| Value::Integer(n.into());
    let mut details = vec![
        (text("scope"), text(&report.scope.kind)),
        (text("files"), count(report.scope.files.len() as u32)),
        (
            text("summary"),
            Value::Map(vec![
                (text("error"), count(report.summary.error)),
                (text("warning"), count(report.summary.warning)),
                (text("note"), count(report.summary.note)),
            ]),
        ),
    ];
    if let Some(commit) = &report.commit {
        details.push((text("commit"), text(commit)));
    }
    let draft = witness::assessment(&written.hash, written.size, &rel, details)
        .map_err(|e| NodeError::Input(e.to_string()))?;
    node.append(draft)
}
