//! SARIF 2.1.0 rendering of an impact report: one result per affected use, located in
//! the peer's file with the peer's name as `uriBaseId` (each peer is its own checkout),
//! and with `--check` one per build error in a peer's file.

use super::impact::{ImpactReport, PeerState};
use crate::graph::api::Class;
use crate::graph::assess::format::sarif::{SARIF_SCHEMA, SARIF_VERSION};
use serde_json::{json, Value};

const RULES: [(&str, &str, &str); 4] = [
    (
        "coordinate/breaking-use",
        "A peer uses an API this release removes, renames, re-signs or hides",
        "error",
    ),
    (
        "coordinate/changed-use",
        "A peer uses an API whose implementation changed behind the same signature",
        "note",
    ),
    (
        "coordinate/pinned-breaking-use",
        "A peer pinned to an older version uses an API this release breaks",
        "warning",
    ),
    (
        "coordinate/build-error",
        "A peer does not build against this head: its toolchain reports an error here",
        "error",
    ),
];

/// The build errors of a checked peer located in its own files.
fn build_errors(report: &ImpactReport, results: &mut Vec<Value>) {
    const RULE: usize = 3;
    for peer in &report.peers {
        let Some(check) = &peer.check else { continue };
        for d in &check.diagnostics {
            let (Some(file), Some(line), super::check::Origin::Peer) = (&d.file, d.line, d.origin)
            else {
                continue;
            };
            results.push(json!({
                "ruleId": RULES[RULE].0,
                "ruleIndex": RULE,
                "level": RULES[RULE].2,
                "message": {"text": format!(
                    "{}: {} against {} {}: {}{}",
                    peer.name,
                    check.tool,
                    report.project,
                    report.version.as_deref().unwrap_or("HEAD"),
                    d.code.as_deref().map(|c| format!("[{c}] ")).unwrap_or_default(),
                    d.message,
                )},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": file, "uriBaseId": peer.name},
                        "region": {"startLine": line.max(1)},
                    },
                }],
                "partialFingerprints": {
                    "weftBuildError/v1": format!("{}:{file}:{line}:{}", peer.name, d.message),
                },
            }));
        }
    }
}

/// Renders `report` as a SARIF log.
pub fn render(report: &ImpactReport) -> Value {
    let mut results = Vec::new();
    for peer in &report.peers {
        for file in &peer.files {
            for u in &file.uses {
                let rule = match (u.class, peer.state) {
                    (Class::Breaking, PeerState::Pinned) => 2,
                    (Class::Breaking, _) => 0,
                    _ => 1,
                };
                results.push(json!({
                    "ruleId": RULES[rule].0,
                    "ruleIndex": rule,
                    "level": RULES[rule].2,
                    "message": {"text": format!(
                        "{}: `{}` ({:?}) is {} in {} {}",
                        peer.name,
                        u.symbol,
                        u.via,
                        format!("{:?}", u.change).to_lowercase(),
                        report.project,
                        report.version.as_deref().unwrap_or("HEAD"),
                    )},
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": {"uri": file.path, "uriBaseId": peer.name},
                            "region": {"startLine": u.line.max(1)},
                        },
                    }],
                    "partialFingerprints": {
                        "weftImpactUse/v1": format!("{}:{}:{}:{}", peer.name, file.path, u.symbol, u.line),
                    },
                }));
            }
        }
    }
    build_errors(report, &mut results);
    json!({
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": "weft",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": RULES.iter().map(|(id, text, level)| json!({
                    "id": id,
                    "shortDescription": {"text": text},
                    "defaultConfiguration": {"level": level},
                })).collect::<Vec<_>>(),
            }},
            "invocations": [{"executionSuccessful": true}],
            "results": results,
        }],
    })
}
