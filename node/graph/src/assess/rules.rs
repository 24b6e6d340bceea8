//! ANALYZE: the assessment rules. Each turns the knowledge graph (facts, history,
//! dependencies, the API at the last release) into findings with stable ids. The rules
//! that read the import graph are in its `architecture` and `doc_gap` modules, the
//! security rules (`sec-*`, one per CWE) in `security`.

mod architecture;
mod doc_gap;
mod security;

use super::layers::LayerPattern;
use super::report::{Finding, RuleInfo, Severity};
use crate::config_schema::scan::ConfigFile;
use crate::config_schema::ConfigFacts;
use crate::deps::DependencyIssue;
use crate::facts::{MarkerKind, Symbol};
use crate::history::{History, MiningConfig};
use crate::imports::ImportGraph;
use crate::scan::{Scan, ScannedFile};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// Every rule: id, title, description, default severity.
pub const RULES: &[(&str, &str, &str, Severity)] = &[
    ("hotspot", "Hotspot", "A file among the repository's highest churn × complexity: changed often and hard to change safely. Refactoring candidates and where bugs cluster.", Severity::Warning),
    ("cochange-missing", "Usual co-change partner unchanged", "A changed file whose usual co-change partners (from git history: coupling degree and confidence above the thresholds) did not change with it. Often a forgotten update.", Severity::Warning),
    ("public-api-changed", "Public API changed since the last release", "A public symbol was removed (error), its signature changed (warning) or it was added (note) since the last release tag, or a key of a public configuration file ([analysis] public_config) was removed or retyped (error) or added (note): peers and users may break.", Severity::Warning),
    ("ownership-risk", "Single owner of a busy file", "One author made nearly all commits to a frequently changed file: knowledge concentrated in one person.", Severity::Note),
    ("long-function", "Long function", "A function with more lines of code than the configured limit (max_function_loc).", Severity::Warning),
    ("complex-function", "Complex function", "A function whose cyclomatic complexity is above the configured limit (max_complexity); twice the limit is an error.", Severity::Warning),
    ("todo", "TODO/FIXME comments", "TODO, FIXME, XXX and HACK comments in a file: known unfinished work.", Severity::Note),
    ("risky-construct", "Construct that needs a careful review", "JS/TS `.innerHTML =`: a construct that needs a careful review and maps to no security rule.", Severity::Warning),
    ("sec-unsafe-code", "Unsafe code (CWE-676)", "Rust `unsafe` blocks, functions, impls and traits; Go's `unsafe` package: memory safety rests on the author, not the compiler.", Severity::Warning),
    ("sec-command-injection", "Shell command from a non-literal (CWE-78)", "A shell runs a command line that is not a string literal: Python os.system/os.popen/subprocess with shell=True, JS child_process.exec/execSync, Go exec.Command(\"sh\", \"-c\", x), Rust Command::new(\"sh\").arg(\"-c\").arg(x).", Severity::Warning),
    ("sec-code-injection", "Code evaluated from a non-literal (CWE-95)", "eval/exec (Python), eval/new Function (JS/TS) of a value that is not a literal.", Severity::Warning),
    ("sec-sql-injection", "SQL built by string formatting (CWE-89)", "Text that reads as SQL, built by f-string, %, .format, +, template literal, fmt.Sprintf or format!, passed straight to an execute/query call instead of using parameters.", Severity::Warning),
    ("sec-tls-verification-disabled", "TLS verification disabled (CWE-295)", "Certificate or host name verification turned off: verify=False, ssl.CERT_NONE, rejectUnauthorized: false, NODE_TLS_REJECT_UNAUTHORIZED=0, InsecureSkipVerify: true, danger_accept_invalid_certs(true).", Severity::Error),
    ("sec-unsafe-deserialization", "Deserialisation that builds arbitrary objects (CWE-502)", "pickle, marshal, jsonpickle, yaml.load without a safe Loader (Python) and node-serialize unserialize (JS) of a non-literal input: a crafted input runs code.", Severity::Warning),
    ("sec-hardcoded-secret", "Hard-coded secret (CWE-798)", "A credential in a string literal: a known token format (AWS, GitHub, Slack, Stripe, Google, PEM private key) anywhere, or a high-entropy string assigned to a password/secret/token/key name (not in tests, examples, docs). Shown redacted.", Severity::Error),
    ("dependency-unused", "Declared dependency not used", "A package declared in a manifest that no source file imports.", Severity::Note),
    ("dependency-undeclared", "Imported package not declared", "A source file imports a package its manifest does not declare.", Severity::Warning),
    ("implicit-dependency", "Coupling the imports do not show", "Two files that change together strongly (co-change confidence above implicit_min_confidence) although neither imports the other: a dependency the code does not state.", Severity::Note),
    ("import-cycle", "Import cycle", "Modules (files; Go packages) that import each other, directly or through others; reported once per cycle with one concrete loop of imports.", Severity::Warning),
    ("layer-violation", "Import against the layer order", "A file imports a file of a higher layer than its own ([architecture] layers, highest first).", Severity::Warning),
    ("god-file", "God file", "A file among the highest size × fan-in × churn: large, imported by many files and changed often.", Severity::Note),
    ("doc-gap", "Undocumented public API", "A public symbol without a doc comment, ranked by how many files of the repository use it and by its file's churn.", Severity::Note),
];

/// Rule ids, for validating `[assessment.rules]`.
pub fn rule_ids() -> impl Iterator<Item = &'static str> {
    RULES.iter().map(|r| r.0)
}

/// A rule's configured level: off, or the severity its findings get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleLevel {
    /// The rule does not run.
    Off,
    /// Its findings are notes.
    Note,
    /// Its findings are warnings.
    Warning,
    /// Its findings are errors.
    Error,
}

/// What the rules are configured with: thresholds and per-rule levels (the node builds it
/// from `[assessment]`).
#[derive(Debug, Clone, PartialEq)]
pub struct RuleConfig {
    /// Per-rule level overriding the default severity.
    pub levels: BTreeMap<String, RuleLevel>,
    /// A function longer than this many lines of code is reported.
    pub max_function_loc: u32,
    /// A function with a cyclomatic complexity above this is reported.
    pub max_complexity: u32,
    /// Hotspots: at most this many files, the highest churn × complexity.
    pub hotspot_count: u32,
    /// Hotspots: a file needs at least this many commits.
    pub hotspot_min_commits: u32,
    /// Ownership risk: a file with at least this many commits...
    pub ownership_min_commits: u32,
    /// ...of which one author made at least this share (0–1).
    pub ownership_share: f64,
    /// Implicit dependencies: a pair needs at least this co-change confidence (0–1, the
    /// higher of its two directions).
    pub implicit_min_confidence: f64,
    /// God files: at most this many files, the highest size × fan-in × churn.
    pub god_file_count: u32,
    /// God files: a file needs at least this many lines of code...
    pub god_file_min_loc: u32,
    /// ...this many files importing it...
    pub god_file_min_fan_in: u32,
    /// ...and this many commits.
    pub god_file_min_commits: u32,
    /// Documentation gaps: at most this many symbols, the most used first.
    pub doc_gap_count: u32,
    /// The layers, highest first (`[architecture] layers`); empty: no layer rule.
    pub layers: Vec<LayerPattern>,
}

impl RuleConfig {
    /// The god-file thresholds the rule and the module graph share.
    pub fn god_file_limits(&self) -> crate::assess::modules::GodFileLimits {
        crate::assess::modules::GodFileLimits {
            count: self.god_file_count,
            min_loc: self.god_file_min_loc,
            min_fan_in: self.god_file_min_fan_in,
            min_commits: self.god_file_min_commits,
        }
    }
}

impl Default for RuleConfig {
    fn default() -> Self {
        RuleConfig {
            levels: BTreeMap::new(),
            max_function_loc: 60,
            max_complexity: 15,
            hotspot_count: 10,
            hotspot_min_commits: 5,
            ownership_min_commits: 10,
            ownership_share: 0.8,
            implicit_min_confidence: 0.5,
            god_file_count: 5,
            god_file_min_loc: 300,
            god_file_min_fan_in: 5,
            god_file_min_commits: 5,
            doc_gap_count: 20,
            layers: Vec::new(),
        }
    }
}

/// The public API of files at the last release tag.
#[derive(Debug, Clone, Default)]
pub struct ApiBaseline {
    /// The tag.
    pub tag: String,
    /// Public symbols per file; a file absent from the map did not exist at the tag.
    pub files: BTreeMap<String, Vec<Symbol>>,
    /// Keys of the public configuration files in scope at the tag; a file absent from
    /// the map did not exist there.
    pub config: BTreeMap<String, ConfigFacts>,
}

/// What the rules look at.
pub struct Inputs<'a> {
    /// The scan of the working tree.
    pub scan: &'a Scan,
    /// Mined history.
    pub history: &'a History,
    /// Mining thresholds (for coupling).
    pub mining: &'a MiningConfig,
    /// Changed files; None: every file is in scope.
    pub changed: Option<&'a BTreeSet<String>>,
    /// Dependency mismatches.
    pub dependency_issues: &'a [DependencyIssue],
    /// API at the last release, if there is a release tag.
    pub baseline: Option<&'a ApiBaseline>,
    /// The working tree's public configuration files (`[analysis] public_config`).
    pub public_config: &'a [ConfigFile],
    /// Thresholds and severity overrides.
    pub config: &'a RuleConfig,
    /// The imports between the repository's files.
    pub imports: &'a ImportGraph,
}

impl Inputs<'_> {
    fn in_scope(&self, path: &str) -> bool {
        self.changed.is_none_or(|c| c.contains(path))
    }

    fn scoped_files(&self) -> impl Iterator<Item = &ScannedFile> {
        self.scan.files.iter().filter(|f| self.in_scope(&f.path))
    }
}

/// Rule metadata, with severities as configured; rules set to `off` are left out.
pub fn active_rules(config: &RuleConfig) -> Vec<RuleInfo> {
    RULES
        .iter()
        .filter_map(|(id, title, description, severity)| {
            let severity = match config.levels.get(*id) {
                Some(RuleLevel::Off) => return None,
                Some(RuleLevel::Note) => Severity::Note,
                Some(RuleLevel::Warning) => Severity::Warning,
                Some(RuleLevel::Error) => Severity::Error,
                None => *severity,
            };
            Some(RuleInfo {
                id: id.to_string(),
                title: title.to_string(),
                description: description.to_string(),
                severity,
                cwe: security::cwe(id),
            })
        })
        .collect()
}

/// A finding's stable id: rule, path, symbol and a rule-specific key, never the line.
/// Each part is length-prefixed so that no two different tuples hash the same input.
pub fn finding_id(rule: &str, path: &str, symbol: &str, key: &str) -> String {
    let mut h = weft_kernel::hash::DomainHasher::new("weft/assess/finding/v1");
    for part in [rule, path, symbol, key] {
        h.update(&(part.len() as u32).to_be_bytes())
            .update(part.as_bytes());
    }
    hex::encode(&h.finish().0[..16])
}

struct Emitter<'a> {
    rules: BTreeMap<&'a str, &'a RuleInfo>,
    findings: Vec<Finding>,
}

/// Where a finding points.
struct At<'a> {
    path: &'a str,
    symbol: &'a str,
    key: &'a str,
    lines: (u32, u32),
}

impl<'a> At<'a> {
    fn file(path: &'a str) -> At<'a> {
        At {
            path,
            symbol: "",
            key: "",
            lines: (1, 1),
        }
    }

    fn symbol(path: &'a str, s: &'a Symbol) -> At<'a> {
        At {
            path,
            symbol: &s.qualified,
            key: "",
            lines: (s.start_line, s.end_line),
        }
    }
}

impl Emitter<'_> {
    /// Whether `rule` runs (so that a rule set to `off` costs nothing).
    fn active(&self, rule: &str) -> bool {
        self.rules.contains_key(rule)
    }

    /// Adds a finding if its rule is active; `severity` overrides the rule's default only
    /// when the rule's severity was not configured.
    fn emit(
        &mut self,
        rule: &str,
        at: At<'_>,
        severity: Option<Severity>,
        message: String,
        evidence: serde_json::Value,
    ) {
        let Some(info) = self.rules.get(rule) else {
            return;
        };
        self.findings.push(Finding {
            id: finding_id(rule, at.path, at.symbol, at.key),
            rule: rule.to_string(),
            severity: severity.unwrap_or(info.severity),
            path: at.path.to_string(),
            symbol: at.symbol.to_string(),
            line: at.lines.0.max(1),
            end_line: at.lines.1.max(at.lines.0).max(1),
            message,
            evidence,
        });
    }
}

/// Runs every active rule.
pub fn run(inputs: &Inputs<'_>, rules: &[RuleInfo]) -> Vec<Finding> {
    let mut out = Emitter {
        rules: rules.iter().map(|r| (r.id.as_str(), r)).collect(),
        findings: Vec::new(),
    };
    let configured = |rule: &str| inputs.config.levels.contains_key(rule);
    hotspots(inputs, &mut out);
    cochange(inputs, &mut out);
    public_api(inputs, &mut out, configured("public-api-changed"));
    public_config(inputs, &mut out, configured("public-api-changed"));
    ownership(inputs, &mut out);
    functions(inputs, &mut out, configured("complex-function"));
    markers(inputs, &mut out);
    dependencies(inputs, &mut out);
    architecture::implicit_dependencies(inputs, &mut out);
    architecture::import_cycles(inputs, &mut out);
    architecture::layer_violations(inputs, &mut out);
    architecture::god_files(inputs, &mut out);
    doc_gap::doc_gaps(inputs, &mut out);
    security::security(inputs, &mut out);
    let mut findings = out.findings;
    findings
        .sort_by(|a, b| (&a.path, a.line, &a.rule, &a.id).cmp(&(&b.path, b.line, &b.rule, &b.id)));
    findings
}

fn file_complexity(file: &ScannedFile) -> u32 {
    file.facts.symbols.iter().map(|s| s.complexity).sum()
}

fn hotspots(inputs: &Inputs<'_>, out: &mut Emitter<'_>) {
    let cfg = inputs.config;
    let mut ranked: Vec<(u64, &ScannedFile, u32, u32)> = inputs
        .scan
        .files
        .iter()
        .filter_map(|f| {
            let commits = inputs.history.file(&f.path)?.commits;
            let complexity = file_complexity(f);
            (commits >= cfg.hotspot_min_commits && complexity > 0).then(|| {
                (
                    u64::from(commits) * u64::from(complexity),
                    f,
                    commits,
                    complexity,
                )
            })
        })
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.path.cmp(&b.1.path)));
    for (rank, (score, file, commits, complexity)) in ranked
        .into_iter()
        .take(cfg.hotspot_count as usize)
        .enumerate()
    {
        if inputs.in_scope(&file.path) {
            out.emit(
                "hotspot",
                At::file(&file.path),
                None,
                format!("hotspot #{}: {commits} commits × complexity {complexity} (score {score})", rank + 1),
                json!({"rank": rank + 1, "commits": commits, "complexity": complexity, "score": score}),
            );
        }
    }
}

fn cochange(inputs: &Inputs<'_>, out: &mut Emitter<'_>) {
    let Some(changed) = inputs.changed else {
        return;
    };
    for path in changed {
        if inputs.scan.file(path).is_none() && inputs.history.file(path).is_none() {
            continue;
        }
        let missing: Vec<_> = inputs
            .history
            .coupling(path, inputs.mining)
            .into_iter()
            .filter(|c| !changed.contains(&c.partner))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let names: Vec<String> = missing
            .iter()
            .map(|c| format!("{} ({:.0}% confidence)", c.partner, c.confidence * 100.0))
            .collect();
        let evidence: Vec<_> = missing
            .iter()
            .map(|c| json!({"partner": c.partner, "shared_revs": c.shared_revs, "degree": c.degree, "support": c.support, "confidence": c.confidence}))
            .collect();
        out.emit(
            "cochange-missing",
            At::file(path),
            None,
            format!("changed without its usual partners: {}", names.join(", ")),
            json!({"partners": evidence}),
        );
    }
}

fn public_api(inputs: &Inputs<'_>, out: &mut Emitter<'_>, configured: bool) {
    let Some(base) = inputs.baseline else {
        return;
    };
    let sev = |s: Severity| (!configured).then_some(s);
    // Tests, examples and Go's internal packages have no users outside the repository.
    for file in inputs
        .scoped_files()
        .filter(|f| crate::api::exposed(&f.path))
    {
        let old: BTreeMap<&str, &Symbol> = base
            .files
            .get(&file.path)
            .map(|v| v.iter().map(|s| (s.qualified.as_str(), s)).collect())
            .unwrap_or_default();
        let new: BTreeMap<&str, &Symbol> = file
            .facts
            .symbols
            .iter()
            .filter(|s| s.public)
            .map(|s| (s.qualified.as_str(), s))
            .collect();
        for (name, s) in &new {
            match old.get(name) {
                None => out.emit(
                    "public-api-changed",
                    At::symbol(&file.path, s),
                    sev(Severity::Note),
                    format!("public {} `{name}` added since {}", s.kind.as_str(), base.tag),
                    json!({"change": "added", "tag": base.tag, "signature": s.signature}),
                ),
                Some(o) if o.signature != s.signature => out.emit(
                    "public-api-changed",
                    At::symbol(&file.path, s),
                    sev(Severity::Warning),
                    format!("public {} `{name}` changed signature since {}", s.kind.as_str(), base.tag),
                    json!({"change": "signature", "tag": base.tag, "before": o.signature, "after": s.signature}),
                ),
                Some(_) => {}
            }
        }
        for (name, o) in old.iter().filter(|(n, _)| !new.contains_key(*n)) {
            out.emit(
                "public-api-changed",
                At {
                    path: &file.path,
                    symbol: name,
                    key: "",
                    lines: (1, 1),
                },
                sev(Severity::Error),
                format!(
                    "public {} `{name}` removed since {}",
                    o.kind.as_str(),
                    base.tag
                ),
                json!({"change": "removed", "tag": base.tag, "before": o.signature}),
            );
        }
    }
}

/// `public-api-changed` for the keys of public configuration files: removed or retyped
/// (an error unless the rule's level is configured), added or widened (a note).
fn public_config(inputs: &Inputs<'_>, out: &mut Emitter<'_>, configured: bool) {
    let Some(base) = inputs.baseline else {
        return;
    };
    let empty = ConfigFacts::default();
    for file in inputs
        .public_config
        .iter()
        .filter(|f| inputs.in_scope(&f.path))
    {
        let before = base.config.get(&file.path).unwrap_or(&empty);
        for c in crate::api::config::key_changes(&file.path, before, &file.facts) {
            let severity = match c.class {
                crate::api::Class::Breaking => Severity::Error,
                _ => Severity::Note,
            };
            let change = format!("{:?}", c.change).to_lowercase();
            let types = |t: &[crate::config_schema::ValueType]| -> Vec<&str> {
                t.iter().map(|v| v.as_str()).collect()
            };
            out.emit(
                "public-api-changed",
                At {
                    path: &file.path,
                    symbol: &c.key,
                    key: "config",
                    lines: (c.line, c.line),
                },
                (!configured).then_some(severity),
                format!("public config key `{}` {change} since {}", c.key, base.tag),
                json!({"change": change, "tag": base.tag, "config_rule": c.rule, "before": types(&c.before), "after": types(&c.after)}),
            );
        }
    }
}

fn ownership(inputs: &Inputs<'_>, out: &mut Emitter<'_>) {
    let cfg = inputs.config;
    for file in inputs.scoped_files() {
        let Some(h) = inputs.history.file(&file.path) else {
            continue;
        };
        let Some(main) = h.authors.first() else {
            continue;
        };
        if h.commits >= cfg.ownership_min_commits && h.main_author_share >= cfg.ownership_share {
            out.emit(
                "ownership-risk",
                At::file(&file.path),
                None,
                format!(
                    "{} made {:.0}% of its {} commits",
                    main.name,
                    h.main_author_share * 100.0,
                    h.commits
                ),
                json!({"author": main.name, "share": h.main_author_share, "commits": h.commits, "authors": h.authors.len()}),
            );
        }
    }
}

fn functions(inputs: &Inputs<'_>, out: &mut Emitter<'_>, configured: bool) {
    let cfg = inputs.config;
    for file in inputs.scoped_files() {
        for s in file.facts.symbols.iter().filter(|s| s.kind.is_callable()) {
            let measures = [
                (
                    "long-function",
                    "lines of code",
                    "loc",
                    s.loc,
                    cfg.max_function_loc,
                ),
                (
                    "complex-function",
                    "cyclomatic complexity",
                    "complexity",
                    s.complexity,
                    cfg.max_complexity,
                ),
            ];
            for (rule, what, key, value, limit) in measures {
                if value <= limit {
                    continue;
                }
                // Far over the complexity limit is an error unless the rule's severity
                // was configured.
                let severity = (rule == "complex-function" && !configured && value > 2 * limit)
                    .then_some(Severity::Error);
                out.emit(
                    rule,
                    At::symbol(&file.path, s),
                    severity,
                    format!("`{}`: {what} {value} (limit {limit})", s.qualified),
                    json!({key: value, "limit": limit}),
                );
            }
        }
    }
}

fn markers(inputs: &Inputs<'_>, out: &mut Emitter<'_>) {
    for file in inputs.scoped_files() {
        let todos: Vec<_> = file
            .facts
            .markers
            .iter()
            .filter(|m| m.kind == MarkerKind::Todo)
            .collect();
        if let Some(first) = todos.first() {
            let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
            todos
                .iter()
                .for_each(|m| *counts.entry(m.label.as_str()).or_default() += 1);
            let summary: Vec<String> = counts.iter().map(|(l, n)| format!("{n} {l}")).collect();
            let lines: Vec<u32> = todos.iter().map(|m| m.line).collect();
            out.emit(
                "todo",
                At {
                    lines: (first.line, first.line),
                    ..At::file(&file.path)
                },
                None,
                format!("{} open marker(s): {}", todos.len(), summary.join(", ")),
                json!({"counts": counts, "lines": lines}),
            );
        }
        let risky = by_symbol(
            file,
            file.facts
                .markers
                .iter()
                .filter(|m| m.kind == MarkerKind::Risky)
                .map(|m| (m.line, m.label.as_str(), ())),
        );
        for ((symbol, label), hits) in &risky {
            let lines: Vec<u32> = hits.iter().map(|h| h.0).collect();
            out.emit(
                "risky-construct",
                At {
                    path: &file.path,
                    symbol,
                    key: label,
                    lines: (lines[0], lines[0]),
                },
                None,
                format!(
                    "{label}{} ({} occurrence(s)): review carefully",
                    in_symbol(symbol),
                    lines.len()
                ),
                json!({"construct": label, "lines": lines}),
            );
        }
    }
}

/// Occurrences in `file` (line, key, what else the rule needs) grouped by enclosing
/// symbol and key, in line order: a rule reports each group once, so that its finding id
/// (rule, path, symbol, key) is unique.
fn by_symbol<K: Ord, T>(
    file: &ScannedFile,
    items: impl Iterator<Item = (u32, K, T)>,
) -> BTreeMap<(String, K), Vec<(u32, T)>> {
    let mut groups: BTreeMap<(String, K), Vec<(u32, T)>> = BTreeMap::new();
    for (line, key, item) in items {
        let symbol = file
            .facts
            .enclosing(line)
            .map(|s| s.qualified.clone())
            .unwrap_or_default();
        groups.entry((symbol, key)).or_default().push((line, item));
    }
    for hits in groups.values_mut() {
        hits.sort_by_key(|h| h.0);
    }
    groups
}

/// " in `symbol`", or "" for the file's top level.
fn in_symbol(symbol: &str) -> String {
    if symbol.is_empty() {
        String::new()
    } else {
        format!(" in `{symbol}`")
    }
}

fn dependencies(inputs: &Inputs<'_>, out: &mut Emitter<'_>) {
    for issue in inputs.dependency_issues {
        let in_scope = inputs.in_scope(&issue.manifest)
            || issue.file.as_ref().is_some_and(|(f, _)| inputs.in_scope(f));
        if !in_scope {
            continue;
        }
        match (&issue.file, issue.issue.as_str()) {
            (Some((file, line)), "undeclared") => out.emit(
                "dependency-undeclared",
                At {
                    path: file,
                    symbol: &issue.package,
                    key: "",
                    lines: (*line, *line),
                },
                None,
                format!(
                    "imports `{}`, which {} does not declare",
                    issue.package, issue.manifest
                ),
                json!({"package": issue.package, "manifest": issue.manifest}),
            ),
            _ => out.emit(
                "dependency-unused",
                At {
                    path: &issue.manifest,
                    symbol: &issue.package,
                    key: "",
                    lines: (1, 1),
                },
                None,
                format!("declares `{}`, which no source file imports", issue.package),
                json!({"package": issue.package}),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::finding_id;

    /// Known answers from Python's hashlib (independent implementation):
    /// shake_256(b"weft/assess/finding/v1\0" + b"".join(len(p).to_bytes(4, "big") + p
    /// for p in parts)).hexdigest(32)[:32]
    #[test]
    fn finding_ids_match_the_reference_and_do_not_shift_with_boundaries() {
        assert_eq!(finding_id("todo", "src/a.rs", "", ""), ID_TODO);
        assert_eq!(
            finding_id("risky-construct", "src/lib.rs", "helper", "unsafe"),
            ID_RISKY
        );
        assert_ne!(finding_id("ab", "c", "", ""), finding_id("a", "bc", "", ""));
    }

    const ID_TODO: &str = "e6e2d542abb96b5976114b32a4d02224";
    const ID_RISKY: &str = "fa49a8c6e0110e9cc8101bb2aa8efbd3";
}
