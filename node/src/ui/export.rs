//! `weft ui --export DIR`: the page and the answers to the questions its views ask,
//! written as static files that open from `file://` (a CI artifact): `data.js` sets
//! `window.WEFT_DATA`, a map from each request path ([`Question::key`]) to its answer,
//! and the page reads that map instead of asking a server.

use super::bundle::Bundle;
use super::question::{Question, MAX_PAGE};
use super::{answer_error, answer_json, Answerer};
use serde_json::{Map, Value};
use std::path::Path;

/// Chain events exported, newest first, in pages of [`EXPORT_PAGE`].
pub const EXPORT_EVENTS: u64 = 1000;
/// Events per exported page (the page's own page size).
pub const EXPORT_PAGE: u64 = 50;
/// Newest events exported with their inclusion proofs.
pub const EXPORT_PROOFS: u64 = 100;
/// Newest impact reports exported by sequence (the newest also as `/api/impact`).
pub const EXPORT_IMPACTS: u64 = 20;

/// What an export wrote.
#[derive(Debug, serde::Serialize)]
pub struct Exported {
    /// Answers written.
    pub answers: usize,
    /// Questions whose command failed, with why (the page shows them as missing).
    pub failed: Vec<(String, String)>,
}

/// Asks `question` and keeps its answer in `data` (or why it failed); the answer, to read.
fn ask<'a>(
    answerer: &dyn Answerer,
    question: &Question,
    data: &'a mut Map<String, Value>,
    failed: &mut Vec<(String, String)>,
) -> Option<&'a Value> {
    let captured = answerer.answer(&question.args());
    let result = if captured.code == 0 {
        answer_json(&captured, question.prints_lines())
    } else {
        Err(answer_error(&captured))
    };
    match result {
        Ok(value) => {
            let key = question.key();
            data.insert(key.clone(), value);
            data.get(&key)
        }
        Err(why) => {
            failed.push((question.key(), why));
            None
        }
    }
}

/// Writes the page and its data to `dir` (created if needed; the five files replaced).
pub fn export(dir: &Path, bundle: Bundle, answerer: &dyn Answerer) -> Result<Exported, String> {
    let mut data = Map::new();
    let mut failed = Vec::new();
    for q in [
        Question::Status,
        Question::Peers,
        Question::Release,
        Question::Modules,
        Question::Cluster,
        Question::Impact(None),
    ] {
        ask(answerer, &q, &mut data, &mut failed);
    }
    let length = ask(answerer, &Question::Head, &mut data, &mut failed)
        .and_then(|h| h["length"].as_u64())
        .unwrap_or(0);
    let first = length.saturating_sub(EXPORT_EVENTS) / EXPORT_PAGE * EXPORT_PAGE;
    for from in (first..length).step_by(EXPORT_PAGE as usize) {
        let page = Question::Chain {
            from,
            limit: EXPORT_PAGE,
            kind: None,
        };
        ask(answerer, &page, &mut data, &mut failed);
    }
    for seq in length.saturating_sub(EXPORT_PROOFS)..length {
        ask(answerer, &Question::Proof(seq), &mut data, &mut failed);
    }
    let impacts = Question::Chain {
        from: 0,
        limit: MAX_PAGE,
        kind: Some(crate::coordinate::IMPACT_EVENT.into()),
    };
    let seqs: Vec<u64> = ask(answerer, &impacts, &mut data, &mut failed)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e["seq"].as_u64())
        .collect();
    for seq in seqs.iter().rev().take(EXPORT_IMPACTS as usize) {
        ask(
            answerer,
            &Question::Impact(Some(*seq)),
            &mut data,
            &mut failed,
        );
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let answers = data.len();
    let data_js = format!("window.WEFT_DATA = {};\n", Value::Object(data));
    for (name, bytes) in [
        ("index.html", bundle.index),
        ("app.js", bundle.app_js),
        ("app.css", bundle.app_css),
        ("data.js", data_js.as_bytes()),
    ] {
        let path = dir.join(name);
        weft_kernel::atomic::write_atomically(&path, bytes)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(Exported { answers, failed })
}
