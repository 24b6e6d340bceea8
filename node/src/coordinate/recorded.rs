//! Reading back a recorded impact report (`weft coordinate report`, the UI's impact
//! view): the `coordinate.impact` event names the report file and its SHAKE-256 hash,
//! and the file is only shown when it still has that hash.

use super::{CoordinateError, IMPACT_EVENT};
use crate::{Node, NodeError};
use serde::Serialize;
use std::io::Read;
use std::path::Path;
use weft_kernel::cbor;

/// Largest report file read back: a recorded report is never near this, and a file
/// swapped for a huge one must not be read into memory.
pub const MAX_REPORT_BYTES: u64 = 256 << 20;

/// An impact report as recorded, checked against its event.
#[derive(Debug, Serialize)]
pub struct RecordedImpact {
    /// The `coordinate.impact` event's sequence.
    pub seq: u64,
    /// The event's hash (hex).
    pub event: String,
    /// The report file, relative to the repository.
    pub path: String,
    /// The report document (docs/coordination.md), exactly as written.
    pub report: serde_json::Value,
}

/// The impact report recorded at `seq`, or the newest one when `seq` is None.
pub fn recorded_impact(node: &Node, seq: Option<u64>) -> Result<RecordedImpact, NodeError> {
    let chain = node.chain();
    let stored = match seq {
        Some(seq) => {
            if seq >= chain.len() {
                return Err(input(format!(
                    "the chain has {} events: there is no event {seq}",
                    chain.len()
                )));
            }
            let stored = chain.event(seq)?;
            if stored.event.kind != IMPACT_EVENT {
                return Err(input(format!(
                    "event {seq} is a {}, not a {IMPACT_EVENT}: `weft chain log --kind {IMPACT_EVENT}` lists them",
                    stored.event.kind
                )));
            }
            stored
        }
        None => newest_impact(node)?.ok_or_else(|| {
            input("no impact report recorded yet: run `weft coordinate impact`".into())
        })?,
    };
    let payload = &stored.event.payload;
    let field = |key: &str| cbor::read::text(payload, key);
    let (Some(path), Some(hash)) = (field("path"), cbor::read::bytes(payload, "hash")) else {
        return Err(mismatch(
            stored.event.seq,
            "its payload names no report file and hash",
        ));
    };
    let rel = Path::new(path);
    let inside = rel.starts_with(".weftos/artifacts/impact")
        && rel
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !inside {
        return Err(mismatch(
            stored.event.seq,
            &format!("its report path {path:?} is not under .weftos/artifacts/impact/"),
        ));
    }
    let file = node.layout().root.join(rel);
    let bytes = read_bounded(&file)?;
    if weft_kernel::hash::shake256(&bytes).0.as_slice() != hash {
        return Err(mismatch(
            stored.event.seq,
            &format!(
                "{path} no longer has the hash the event recorded (changed after it was written)"
            ),
        ));
    }
    let report = serde_json::from_slice(&bytes)
        .map_err(|e| mismatch(stored.event.seq, &format!("{path} is not JSON: {e}")))?;
    Ok(RecordedImpact {
        seq: stored.event.seq,
        event: stored.hash.to_hex(),
        path: path.to_string(),
        report,
    })
}

/// The newest `coordinate.impact` event, read from the head backwards.
fn newest_impact(node: &Node) -> Result<Option<weft_kernel::StoredEvent>, NodeError> {
    let chain = node.chain();
    for seq in (0..chain.len()).rev() {
        let stored = chain.event(seq)?;
        if stored.event.kind == IMPACT_EVENT {
            return Ok(Some(stored));
        }
    }
    Ok(None)
}

fn read_bounded(file: &Path) -> Result<Vec<u8>, NodeError> {
    let opened = std::fs::File::open(file).map_err(|e| NodeError::io(file, e))?;
    let mut bytes = Vec::new();
    opened
        .take(MAX_REPORT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| NodeError::io(file, e))?;
    if bytes.len() as u64 > MAX_REPORT_BYTES {
        return Err(input(format!(
            "{}: larger than {MAX_REPORT_BYTES} bytes, not a report weft wrote",
            file.display()
        )));
    }
    Ok(bytes)
}

fn input(message: String) -> NodeError {
    NodeError::Coordinate(CoordinateError::Input(message))
}

fn mismatch(seq: u64, why: &str) -> NodeError {
    NodeError::Coordinate(CoordinateError::ReportMismatch(format!(
        "the impact report of event {seq}: {why}"
    )))
}
