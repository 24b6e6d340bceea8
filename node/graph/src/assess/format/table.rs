//! Plain-text table of a report for terminals and logs: one aligned row per finding, then
//! a summary line. No colours, so the output is the same in a pipe, a file or a CI log.

use crate::assess::format::annotations::line_span;
use crate::assess::report::{Finding, Report};

/// Space between columns.
const GAP: &str = "  ";

/// Renders `report` as rows `severity  path:line  rule  message` and a summary line,
/// or `no findings ...` when there are none. Every line ends with `\n`.
pub fn render(report: &Report) -> String {
    if report.findings.is_empty() {
        return format!("no findings {}\n", scope_suffix(report));
    }
    let mut out = rows(&report.findings, "");
    out.push_str(&summary_line(report));
    out.push('\n');
    out
}

/// Renders `findings` as aligned rows, each prefixed by `indent`; "" when empty.
/// Shared with the report diff so both tables look alike.
pub fn rows(findings: &[Finding], indent: &str) -> String {
    let cells: Vec<[String; 4]> = findings.iter().map(row_cells).collect();
    let widths = column_widths(&cells);
    let mut out = String::new();
    for cells in &cells {
        out.push_str(indent);
        // The message is last and unpadded, so no line carries trailing blanks.
        for (cell, width) in cells[..3].iter().zip(widths) {
            out.push_str(cell);
            out.push_str(&" ".repeat(width - display_width(cell)));
            out.push_str(GAP);
        }
        out.push_str(&cells[3]);
        out.push('\n');
    }
    out
}

/// The cells of one row; line breaks in the message would break the table, so they
/// become spaces.
fn row_cells(finding: &Finding) -> [String; 4] {
    [
        finding.severity.as_str().to_owned(),
        format!("{}:{}", finding.path, line_span(finding).0),
        finding.rule.clone(),
        finding.message.replace(['\r', '\n'], " "),
    ]
}

/// Width of each padded column (all but the message).
fn column_widths(cells: &[[String; 4]]) -> [usize; 3] {
    let mut widths = [0; 3];
    for row in cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(display_width(cell));
        }
    }
    widths
}

/// Characters rather than bytes, so non-ASCII paths and symbols stay aligned.
fn display_width(cell: &str) -> usize {
    cell.chars().count()
}

/// `3 errors, 2 warnings, 1 note in 14 files (scope: commit)`.
fn summary_line(report: &Report) -> String {
    let s = report.summary;
    format!(
        "{}, {}, {} {}",
        counted(s.error as usize, "error"),
        counted(s.warning as usize, "warning"),
        counted(s.note as usize, "note"),
        scope_suffix(report)
    )
}

/// `in 14 files (scope: commit)`.
fn scope_suffix(report: &Report) -> String {
    format!(
        "in {} (scope: {})",
        counted(report.scope.files.len(), "file"),
        report.scope.kind
    )
}

/// `1 note`, `2 notes`, `0 errors`.
fn counted(n: usize, noun: &str) -> String {
    let plural = if n == 1 { "" } else { "s" };
    format!("{n} {noun}{plural}")
}
