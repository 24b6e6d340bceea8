//! SARIF 2.1.0 rendering for GitHub code scanning: one run, the rules as reporting
//! descriptors, each finding as a result with a relative location and the finding id as
//! its partial fingerprint, so alerts follow a finding while its lines move.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::assess::format::annotations::line_span;
use crate::assess::report::{Finding, Report, RuleInfo};

/// The `$schema` written in every log.
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// SARIF version.
pub const SARIF_VERSION: &str = "2.1.0";

/// Key of the finding id in `partialFingerprints`; versioned so a change in how ids are
/// derived can use a new key instead of silently re-keying every alert.
pub const FINGERPRINT_KEY: &str = "weftFindingId/v1";

/// Renders `report` as a SARIF 2.1.0 log.
pub fn render(report: &Report) -> Value {
    json!({
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [run(report)],
    })
}

/// The single run. No `uriBaseId`: GitHub resolves relative uris against the checkout,
/// and the report does not know the absolute root an `originalUriBaseIds` entry needs.
fn run(report: &Report) -> Value {
    let rule_index = rule_indices(&report.rules);
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|finding| result(finding, rule_index.get(finding.rule.as_str()).copied()))
        .collect();
    json!({
        "tool": {
            "driver": {
                "name": "weft",
                "version": report.tool_version,
                "rules": report.rules.iter().map(descriptor).collect::<Vec<_>>(),
            },
        },
        "invocations": [{ "executionSuccessful": true }],
        "columnKind": "utf16CodeUnits",
        "results": results,
    })
}

/// Position of each rule id in `rules`; the first wins if an id repeats.
fn rule_indices(rules: &[RuleInfo]) -> HashMap<&str, usize> {
    let mut indices = HashMap::new();
    for (i, rule) in rules.iter().enumerate() {
        indices.entry(rule.id.as_str()).or_insert(i);
    }
    indices
}

/// A rule's `reportingDescriptor`.
fn descriptor(rule: &RuleInfo) -> Value {
    json!({
        "id": rule.id,
        "name": camel_case(&rule.id),
        "shortDescription": { "text": rule.title },
        "fullDescription": { "text": rule.description },
        // weft's severity names are SARIF's level names.
        "defaultConfiguration": { "level": rule.severity.as_str() },
        "help": { "text": rule.description },
        "properties": { "tags": tags(rule) },
    })
}

/// A rule's tags: a security rule is tagged `security` and with its CWE the way GitHub
/// code scanning reads it (`external/cwe/cwe-78`); the others `maintainability`.
fn tags(rule: &RuleInfo) -> Vec<String> {
    match rule.cwe {
        Some(cwe) => vec!["security".to_string(), format!("external/cwe/cwe-{cwe}")],
        None => vec!["maintainability".to_string()],
    }
}

/// A finding's `result`. `ruleIndex` is left out for a rule the report does not list,
/// since a wrong index is worse than none.
fn result(finding: &Finding, rule_index: Option<usize>) -> Value {
    let (start_line, end_line) = line_span(finding);
    let mut result = json!({
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": finding.severity.as_str(),
        "message": { "text": finding.message },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": relative_uri(&finding.path) },
                "region": { "startLine": start_line, "endLine": end_line },
            },
        }],
        "partialFingerprints": { FINGERPRINT_KEY: finding.id },
        "properties": { "symbol": finding.symbol, "evidence": finding.evidence },
    });
    if let (None, Some(fields)) = (rule_index, result.as_object_mut()) {
        // The schema wants an integer; `shift_remove` keeps the other keys in order.
        fields.shift_remove("ruleIndex");
    }
    result
}

/// `hotspot` -> `Hotspot`, `cochange-missing` -> `CochangeMissing`.
pub fn camel_case(id: &str) -> String {
    id.split(|c: char| !c.is_alphanumeric())
        .map(capitalized)
        .collect()
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A repository-relative path as a relative URI reference (RFC 3986): bytes a path may
/// not hold are percent-encoded. `:` is encoded too, since in a first segment it would
/// read as a scheme. Leading `/` and `./` are dropped so the uri can never be absolute or
/// a network path (`//host`).
pub fn relative_uri(path: &str) -> String {
    let path = path.trim_start_matches("./").trim_start_matches('/');
    let mut uri = String::with_capacity(path.len());
    for &byte in path.as_bytes() {
        if is_uri_path_byte(byte) {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

/// RFC 3986 `pchar` without `:` (unreserved, sub-delims, `@`), plus the `/` separator.
fn is_uri_path_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@/".contains(&byte)
}
