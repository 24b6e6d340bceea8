//! GitHub Actions workflow commands (`::error file=...::message`), one per finding, so a
//! CI run annotates the changed lines. Escaping follows the runner's rules as in
//! `@actions/core` (`command.ts`): the runner decodes exactly these sequences, so any
//! other escaping would show up literally in the annotation.

use crate::assess::report::{Finding, Report, Severity};

/// Renders one workflow command line per finding (each ending in `\n`); "" when there
/// are none.
pub fn render(report: &Report) -> String {
    report.findings.iter().map(command).collect()
}

/// Escapes a command's message (the part after `::`).
pub fn escape_data(s: &str) -> String {
    // `%` first: the escapes introduced below contain `%` themselves.
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (`file=`, `title=`): `:` and `,` would otherwise end the
/// property list or the value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// `::error file=PATH,line=L,endLine=E,title=TITLE::MESSAGE\n`.
fn command(finding: &Finding) -> String {
    let (line, end_line) = line_span(finding);
    format!(
        "::{} file={},line={line},endLine={end_line},title={}::{}\n",
        command_name(finding.severity),
        escape_property(&finding.path),
        escape_property(&title(finding)),
        escape_data(&finding.message)
    )
}

/// The finding's first and last line, both at least 1 and in order: workflow commands
/// and SARIF regions are 1-based and reject line 0 or a range that ends before it starts.
pub(crate) fn line_span(finding: &Finding) -> (u32, u32) {
    let line = finding.line.max(1);
    (line, finding.end_line.max(line))
}

/// Workflow commands have no `note`; `notice` is the runner's lowest level.
fn command_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Note => "notice",
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

/// The rule id, with the symbol when the finding is about one (`hotspot: parse_config`).
fn title(finding: &Finding) -> String {
    if finding.symbol.is_empty() {
        finding.rule.clone()
    } else {
        format!("{}: {}", finding.rule, finding.symbol)
    }
}
