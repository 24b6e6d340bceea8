//! OUTCOME: what a build check found and how affected a peer is: the types the impact
//! report and the build checks share, below both (the report carries a peer's check
//! result; the checks read the report's peers).

use ciborium::value::Value;
use serde::{Deserialize, Serialize};

/// Diagnostics kept in a result (the count says how many there were).
pub const MAX_DIAGNOSTICS: usize = 50;
/// Domain of the diagnostics hash.
pub const DIAGNOSTICS_DOMAIN: &str = "weft.check.diagnostics/1";

/// How much a peer is affected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Not affected.
    None,
    /// It depends on the project; nothing it uses changed its API.
    Informational,
    /// It depends on the project, which only added API.
    Additive,
    /// It uses something removed, renamed, re-signed or hidden.
    Breaking,
}

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The toolchain accepted the peer built against the upstream's head.
    Pass,
    /// It reported errors (or failed): the peer does not build against the head.
    Fail,
    /// It ran out of time; its process group was killed.
    Timeout,
    /// Nothing proved either way (a toolchain not found, a remote peer, an unresolvable
    /// dependency): `reason` says why. Never a pass.
    NotChecked,
}

impl Outcome {
    /// The name used in reports and events.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Timeout => "timeout",
            Outcome::NotChecked => "not-checked",
        }
    }
}

/// Whose file a diagnostic is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// The checked peer's (the path is relative to its root).
    Peer,
    /// The upstream's (relative to its root).
    Upstream,
    /// Elsewhere (a dependency's, a tool's), or no file at all.
    Other,
}

/// One error the toolchain reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// The file, relative to the root of its repository (see `origin`).
    pub file: Option<String>,
    /// Line (1-based).
    pub line: Option<u32>,
    /// Column (1-based).
    pub column: Option<u32>,
    /// Whose file it is.
    pub origin: Origin,
    /// The tool's error code (`E0063`, `TS2345`, `ImportError`, ...).
    pub code: Option<String>,
    /// The message's first line.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic without a location.
    pub fn general(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: None,
            line: None,
            column: None,
            origin: Origin::Other,
            code: None,
            message: message.into(),
        }
    }

    fn to_value(&self) -> Value {
        let opt_text = |v: &Option<String>| v.as_deref().map_or(Value::Null, |s| s.into());
        let opt_int = |v: Option<u32>| v.map_or(Value::Null, |n| Value::Integer(n.into()));
        weft_kernel::cbor::map([
            ("file", opt_text(&self.file)),
            ("line", opt_int(self.line)),
            ("column", opt_int(self.column)),
            (
                "origin",
                Value::Text(format!("{:?}", self.origin).to_lowercase()),
            ),
            ("code", opt_text(&self.code)),
            ("message", Value::Text(self.message.clone())),
        ])
    }
}

/// SHAKE-256 (domain [`DIAGNOSTICS_DOMAIN`]) over the canonical CBOR array of the listed
/// diagnostics (each a map: file, line, column, origin, code, message; absent values
/// null): recomputable from a report.
pub fn diagnostics_hash(diagnostics: &[Diagnostic]) -> weft_kernel::Hash {
    let value = Value::Array(diagnostics.iter().map(Diagnostic::to_value).collect());
    let bytes = weft_kernel::cbor::encode_canonical(value).expect("diagnostics encode");
    weft_kernel::hash::domain_hash(DIAGNOSTICS_DOMAIN, &[&bytes])
}

/// An event on a chain, as a report names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventAt {
    /// Its sequence.
    pub seq: u64,
    /// Its hash (hex).
    pub hash: String,
}

/// The outcome of checking one peer against an upstream's head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// What ran: `cargo check`, `go build + go vet`, `python import`, `tsc`, `command`,
    /// or `none`.
    pub tool: String,
    /// The command line(s) run.
    pub command: Option<String>,
    /// The toolchain's version (`cargo --version`, ...).
    pub toolchain: Option<String>,
    /// The upstream's project name.
    pub upstream: String,
    /// The upstream commit the peer was checked against.
    pub upstream_commit: String,
    /// The peer's commit that was checked.
    pub commit: Option<String>,
    /// Pass, fail, timeout, not-checked.
    pub outcome: Outcome,
    /// Why (always given for not-checked and timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// Errors reported, at most [`MAX_DIAGNOSTICS`].
    pub diagnostics: Vec<Diagnostic>,
    /// How many errors there were in all.
    pub diagnostics_total: u32,
    /// [`diagnostics_hash`] of `diagnostics` (hex).
    pub diagnostics_hash: String,
    /// The `coordinate.check` event on the peer's chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventAt>,
    /// The `witness.head` on the upstream's chain covering that event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness_seq: Option<u64>,
    /// Why it was not witnessed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness_error: Option<String>,
    /// Errors in the peer's files at lines the static model did not list.
    #[serde(default)]
    pub unpredicted: Vec<Diagnostic>,
    /// The peer's severity by static analysis alone, when the check changed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_severity: Option<Severity>,
    /// The build against the upstream's base, run when this one failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
}

/// The peer built against the upstream's base commit, after it failed against the head:
/// what the change itself broke is what fails now and did not then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// The upstream's base commit.
    pub commit: String,
    /// How that build ended.
    pub outcome: Outcome,
    /// Errors of the head's build the base's build reported too (same file, line and
    /// message), left out of `diagnostics`.
    pub preexisting: u32,
}

impl CheckResult {
    /// Whether the failure is the change's: the build fails against the head, and either
    /// built against the base or fails now with errors it did not have then.
    pub fn failed_by_change(&self) -> bool {
        self.outcome == Outcome::Fail
            && match &self.baseline {
                Some(b) if b.outcome == Outcome::Fail => self.diagnostics_total > 0,
                _ => true,
            }
    }
}

impl CheckResult {
    /// A peer that was not checked, and why.
    pub fn not_checked(upstream: &str, upstream_commit: &str, reason: impl Into<String>) -> Self {
        CheckResult {
            tool: "none".into(),
            command: None,
            toolchain: None,
            upstream: upstream.into(),
            upstream_commit: upstream_commit.into(),
            commit: None,
            outcome: Outcome::NotChecked,
            reason: Some(reason.into()),
            duration_ms: 0,
            diagnostics: Vec::new(),
            diagnostics_total: 0,
            diagnostics_hash: diagnostics_hash(&[]).to_hex(),
            event: None,
            witness_seq: None,
            witness_error: None,
            unpredicted: Vec::new(),
            static_severity: None,
            baseline: None,
        }
    }

    /// `outcome` with the reason, as one line (`not-checked: go not found`).
    pub fn summary(&self) -> String {
        match &self.reason {
            Some(r) => format!("{}: {r}", self.outcome.name()),
            None => self.outcome.name().into(),
        }
    }
}
