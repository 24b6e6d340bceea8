//! The assessment report: a versioned JSON document of findings with stable ids
//! (`docs/assessment.md`).

use serde::{Deserialize, Serialize};

/// Schema identifier written in every report; bumped on incompatible change.
pub const REPORT_SCHEMA: &str = "weft.assessment/1";

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Note,
    /// Should be looked at.
    Warning,
    /// Should block.
    Error,
}

impl Severity {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// From which severity findings fail a run (`--fail-on`, `[assessment] fail_on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// Never.
    None,
    /// A warning or an error.
    Warning,
    /// An error.
    Error,
}

impl FailOn {
    /// The least severity that fails, if any does.
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::None => None,
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Error => Some(Severity::Error),
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id: derived from rule, path and symbol (never the line), so the same
    /// problem keeps its id while code moves.
    pub id: String,
    /// Rule id (`hotspot`, `cochange-missing`, ...).
    pub rule: String,
    /// Severity.
    pub severity: Severity,
    /// Repository-relative path, `/`-separated.
    pub path: String,
    /// Qualified symbol name, "" when the finding is about the whole file.
    pub symbol: String,
    /// First line, 1-based (1 for whole-file findings).
    pub line: u32,
    /// Last line, 1-based, inclusive.
    pub end_line: u32,
    /// One-sentence message.
    pub message: String,
    /// Rule-specific numbers behind the message.
    pub evidence: serde_json::Value,
}

/// Static description of a rule (SARIF rule metadata, docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleInfo {
    /// Rule id.
    pub id: String,
    /// Short title.
    pub title: String,
    /// What it detects and why it matters.
    pub description: String,
    /// Default severity.
    pub severity: Severity,
    /// The CWE (Common Weakness Enumeration) number of a security rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwe: Option<u32>,
}

/// Findings per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Errors.
    pub error: u32,
    /// Warnings.
    pub warning: u32,
    /// Notes.
    pub note: u32,
}

/// What was assessed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScopeInfo {
    /// `commit`, `staged`, `ci`, `full`, `since` or `watch`.
    pub kind: String,
    /// The base revision, when the scope is a range.
    pub base: Option<String>,
    /// The files in scope (repository-relative), sorted.
    pub files: Vec<String>,
}

/// A whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`REPORT_SCHEMA`].
    pub schema: String,
    /// weft version that wrote it.
    pub tool_version: String,
    /// RFC 3339 UTC time of the run.
    pub created: String,
    /// HEAD commit (hex), if any.
    pub commit: Option<String>,
    /// Scope.
    pub scope: ScopeInfo,
    /// Files parsed / taken from cache during the scan.
    pub files_scanned: u32,
    /// The rules that ran.
    pub rules: Vec<RuleInfo>,
    /// Findings, sorted by path, line, rule.
    pub findings: Vec<Finding>,
    /// Counts.
    pub summary: Summary,
}
