//! Differences between two reports by finding id (SOP 5: improvement over time). Ids
//! never depend on the line, so a finding whose code moved counts as unchanged.

use std::collections::HashSet;

use serde::Serialize;

use crate::assess::format::table;
use crate::assess::report::{Finding, Report};

/// Findings of a newer report set against an older one; each list sorted by path, line,
/// rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReportDiff {
    /// In the newer report only.
    pub new: Vec<Finding>,
    /// In the older report only.
    pub fixed: Vec<Finding>,
    /// In both, as the newer report has them (current lines and message).
    pub unchanged: Vec<Finding>,
}

/// Compares `old` with `new` by finding id.
pub fn diff(old: &Report, new: &Report) -> ReportDiff {
    let old_ids = ids(old);
    let new_ids = ids(new);
    ReportDiff {
        new: sorted_where(&new.findings, |f| !old_ids.contains(f.id.as_str())),
        fixed: sorted_where(&old.findings, |f| !new_ids.contains(f.id.as_str())),
        unchanged: sorted_where(&new.findings, |f| old_ids.contains(f.id.as_str())),
    }
}

/// Renders the new and fixed findings as tables under `new: N` and `fixed: N`, then
/// `unchanged: N` as a count only: the unchanged findings are the old news.
pub fn render_table(diff: &ReportDiff) -> String {
    let mut out = section("new", &diff.new);
    out.push_str(&section("fixed", &diff.fixed));
    out.push_str(&format!("unchanged: {}\n", diff.unchanged.len()));
    out
}

fn section(name: &str, findings: &[Finding]) -> String {
    format!(
        "{name}: {}\n{}",
        findings.len(),
        table::rows(findings, "  ")
    )
}

fn ids(report: &Report) -> HashSet<&str> {
    report.findings.iter().map(|f| f.id.as_str()).collect()
}

/// The findings that satisfy `keep`, sorted.
fn sorted_where(findings: &[Finding], keep: impl Fn(&Finding) -> bool) -> Vec<Finding> {
    let mut kept: Vec<Finding> = findings.iter().filter(|f| keep(f)).cloned().collect();
    sort(&mut kept);
    kept
}

/// Report order (path, line, rule), then id so equal keys still sort deterministically.
fn sort(findings: &mut [Finding]) {
    findings
        .sort_by(|a, b| (&a.path, a.line, &a.rule, &a.id).cmp(&(&b.path, b.line, &b.rule, &b.id)));
}
