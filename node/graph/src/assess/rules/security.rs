//! ANALYZE, security implications: the `sec-*` rules, one per CWE, reading the security
//! facts extraction found in each file's syntax tree (`lang::security`). One finding per
//! enclosing symbol, rule and construct, its lines in the evidence, its id keyed on the
//! construct. A secret found only by its name and entropy is not reported in tests,
//! examples and docs, whose credentials are made up; one matching a token format is
//! reported everywhere, since a real token leaks wherever it is committed.

use super::{by_symbol, in_symbol, At, Emitter, Inputs};
use crate::facts::{SecurityFact, SecurityKind};
use serde_json::json;

/// The CWE number of a security rule, None for the other rules.
pub(super) fn cwe(rule: &str) -> Option<u32> {
    SecurityKind::ALL
        .iter()
        .find(|k| k.rule() == rule)
        .map(|k| k.cwe())
}

/// The security findings of the files in scope.
pub(super) fn security(inputs: &Inputs<'_>, out: &mut Emitter<'_>) {
    if !SecurityKind::ALL.iter().any(|k| out.active(k.rule())) {
        return;
    }
    for file in inputs.scoped_files() {
        let sample = crate::api::sample_code(&file.path);
        let facts = file
            .facts
            .security
            .iter()
            .filter(|f| out.active(f.kind.rule()) && !(sample && f.heuristic))
            .map(|f| (f.line, (f.kind, f.construct.as_str()), f));
        for ((symbol, (kind, construct)), hits) in &by_symbol(file, facts) {
            let Some(&(line, first)) = hits.first() else {
                continue;
            };
            let lines: Vec<u32> = hits.iter().map(|h| h.0).collect();
            out.emit(
                kind.rule(),
                At {
                    path: &file.path,
                    symbol,
                    key: construct,
                    lines: (line, line),
                },
                None,
                message(first, symbol, lines.len()),
                json!({
                    "construct": construct,
                    "reason": first.reason,
                    "cwe": format!("CWE-{}", kind.cwe()),
                    "lines": lines,
                }),
            );
        }
    }
}

/// `os.system in `run`: non-literal command (f-string) (CWE-78)`, with the count when
/// the construct occurs more than once there.
fn message(fact: &SecurityFact, symbol: &str, count: usize) -> String {
    let times = if count > 1 {
        format!(", {count} occurrences")
    } else {
        String::new()
    };
    format!(
        "{}{}: {} (CWE-{}{times})",
        fact.construct,
        in_symbol(symbol),
        fact.reason,
        fact.kind.cwe()
    )
}
