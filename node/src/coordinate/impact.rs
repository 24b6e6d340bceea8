//! IMPACT: the report `weft coordinate impact` prints and records — the API diff, and per
//! peer the declarations, the affected files and symbols with the evidence for each, a
//! severity, a ranked summary and the effect vector the gate scores.

use crate::graph::api::{ApiChange, ApiDiff, ChangeKind, Class};
use crate::graph::usage::{
    CoChange, Neighbour, NeighbourAsk, QueryPackage, QuerySymbol, UsageAnswer, UsageQuery, Use, Via,
};
use crate::graph::version::{admits, Admits};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Schema name written in every report.
pub const SCHEMA: &str = "weft.impact/1";

pub use super::outcome::Severity;

/// Where a peer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeerState {
    /// Its declarations take the version, or it imports the project from source.
    Affected,
    /// Every declaration pins another version: not affected now (listed with what would
    /// break when it moves).
    Pinned,
    /// It neither declares nor imports the project.
    NotDependent,
    /// It could not be asked.
    Unreachable,
}

/// A declaration and whether it takes the version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclarationStatus {
    /// Manifest.
    pub manifest: String,
    /// Package.
    pub package: String,
    /// `normal`, `dev`, ...
    pub kind: String,
    /// Version requirement.
    pub requirement: Option<String>,
    /// `path`, `git`, `workspace`, `replace`.
    pub source: Option<String>,
    /// `yes`, `no` or `unknown`: whether it takes the released version.
    pub takes_version: String,
}

/// One use of a changed symbol, with the change and its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedUse {
    /// Line.
    pub line: u32,
    /// The symbol used.
    pub symbol: String,
    /// Import, call or type.
    pub via: Via,
    /// What happened to it.
    pub change: ChangeKind,
    /// Its class.
    pub class: Class,
    /// The peer's symbol around the use.
    pub enclosing: Option<String>,
    /// The line's text.
    pub text: String,
    /// `static`: an import or reference by name.
    pub evidence: String,
    /// With `--check`: whether the build reported an error at this file and line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed: Option<bool>,
}

/// One affected file of a peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedFile {
    /// Path in the peer.
    pub path: String,
    /// Worst use.
    pub severity: Severity,
    /// The peer's symbols containing uses.
    pub symbols: Vec<String>,
    /// Uses.
    pub uses: Vec<AffectedUse>,
    /// After how many past releases this file also changed (weaker evidence).
    pub cochanged_after_releases: u32,
}

/// One peer in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerImpact {
    /// Peer name.
    pub name: String,
    /// `path` (read directly) or `mesh` (asked over `/weft/query/1`).
    pub via: String,
    /// Affected, pinned, not dependent, unreachable.
    pub state: PeerState,
    /// Worst effect (what it would be, for a pinned peer).
    pub severity: Severity,
    /// Why it could not be asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The peer's commit that was analysed.
    pub commit: Option<String>,
    /// Declarations of the project's packages.
    pub declarations: Vec<DeclarationStatus>,
    /// Files importing the project.
    pub importers: u32,
    /// Affected files, worst first.
    pub files: Vec<AffectedFile>,
    /// Uses not listed (over the answer's bound).
    pub uses_omitted: u32,
    /// Files that changed after past releases but use nothing that changed now.
    pub cochange: Vec<CoChange>,
    /// Uses of breaking changes.
    pub breaking_uses: u32,
    /// Peer symbols semantically close to breaking changed ones (weaker evidence: they
    /// count towards neither state nor severity).
    pub neighbours: Vec<Neighbour>,
    /// Why neighbours were not looked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub neighbours_note: Option<String>,
    /// Ranking score (higher first).
    pub score: f64,
    /// With `--check`: the build check of the peer against this head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<super::outcome::CheckResult>,
}

/// The base the changes are measured from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Base {
    /// `release` (the last `release.publish` on the chain), `tag`, `given` or `none`.
    pub origin: String,
    /// The revision as named (tag, ref, release version).
    pub name: Option<String>,
    /// Its commit.
    pub commit: Option<String>,
}

/// Counts over the peers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Peers asked.
    pub peers: u32,
    /// Peers affected now.
    pub affected: u32,
    /// Affected peers with breaking uses.
    pub breaking_peers: u32,
    /// Breaking uses over affected peers.
    pub breaking_uses: u32,
    /// Pinned peers.
    pub pinned: u32,
    /// Unreachable peers.
    pub unreachable: u32,
    /// Breaking API changes.
    pub breaking_changes: u32,
    /// Additive API changes.
    pub additive_changes: u32,
    /// Internal changes.
    pub internal_changes: u32,
    /// Changes the text alone cannot classify (a build check decides).
    #[serde(default)]
    pub undetermined_changes: u32,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImpactReport {
    /// [`SCHEMA`].
    pub schema: String,
    /// Project name.
    pub project: String,
    /// Chain id (hex).
    pub chain_id: String,
    /// The version the impact is computed for.
    pub version: Option<String>,
    /// Base.
    pub base: Base,
    /// What changed.
    pub api: ApiDiff,
    /// Peers, ranked.
    pub peers: Vec<PeerImpact>,
    /// Counts.
    pub summary: Summary,
}

/// The question for peers: the project's packages and the public symbols whose uses
/// matter (breaking ones, and public bodies that changed, as information).
pub fn query_for(api: &ApiDiff, releases: Vec<i64>, window_days: u32) -> UsageQuery {
    let mut symbols: Vec<QuerySymbol> = api
        .changes
        .iter()
        .filter(|c| c.public && c.change != ChangeKind::Added && c.change != ChangeKind::Moved)
        .map(|c| QuerySymbol {
            name: c.name.clone(),
            owner: c.owner.clone(),
        })
        .collect();
    symbols.sort();
    symbols.dedup();
    UsageQuery {
        packages: api
            .packages
            .iter()
            .map(|p| QueryPackage {
                ecosystem: p.ecosystem,
                name: p.name.clone(),
            })
            .collect(),
        symbols,
        releases,
        window_days,
        neighbours: neighbour_asks(api),
    }
}

/// The change a use names: same name and owner, the worst one if several match.
fn change_for<'a>(api: &'a ApiDiff, u: &Use) -> Option<&'a ApiChange> {
    api.changes
        .iter()
        .filter(|c| c.public && c.name == u.name && c.owner == u.owner)
        .filter(|c| c.change != ChangeKind::Added && c.change != ChangeKind::Moved)
        .min_by_key(|c| c.class)
}

/// An undetermined change counts as breaking: a gate fails closed until a build check of
/// the peer decides it (`check::join`).
pub fn severity_of(class: Class) -> Severity {
    match class {
        Class::Breaking | Class::Undetermined => Severity::Breaking,
        Class::Additive => Severity::Additive,
        Class::Internal => Severity::Informational,
    }
}

/// The version a peer's declaration is checked against: the one being released, else
/// the package's version at the head.
fn declaration_status(
    api: &ApiDiff,
    version: Option<&str>,
    d: &crate::graph::usage::Declaration,
) -> DeclarationStatus {
    let package = d.declared.package_name().to_string();
    let target = version.map(str::to_string).or_else(|| {
        api.packages
            .iter()
            .find(|p| p.ecosystem == d.ecosystem)
            .and_then(|p| p.version.clone())
    });
    let takes = match (&d.declared.source, &d.declared.requirement, &target) {
        // From source (a path, a workspace, git): it gets whatever the project has now.
        (Some(s), _, _) if s != "replace" => Admits::Yes,
        (_, Some(req), Some(v)) => admits(d.ecosystem, req, v),
        (_, None, _) => Admits::Yes,
        _ => Admits::Unknown,
    };
    DeclarationStatus {
        manifest: d.manifest.clone(),
        package,
        kind: d.declared.kind.clone(),
        requirement: d.declared.requirement.clone(),
        source: d.declared.source.clone(),
        takes_version: match takes {
            Admits::Yes => "yes",
            Admits::No => "no",
            Admits::Unknown => "unknown",
        }
        .into(),
    }
}

/// Turns one peer's answer into its part of the report.
pub fn assess_peer(
    name: &str,
    via: &str,
    api: &ApiDiff,
    version: Option<&str>,
    answer: &UsageAnswer,
) -> PeerImpact {
    let declarations: Vec<DeclarationStatus> = answer
        .declarations
        .iter()
        .map(|d| declaration_status(api, version, d))
        .collect();
    let cochange: BTreeMap<&str, u32> = answer
        .cochange
        .iter()
        .map(|c| (c.path.as_str(), c.releases))
        .collect();
    let mut files: BTreeMap<&str, AffectedFile> = BTreeMap::new();
    for u in &answer.uses {
        let Some(change) = change_for(api, u) else {
            continue;
        };
        let file = files
            .entry(u.path.as_str())
            .or_insert_with(|| AffectedFile {
                path: u.path.clone(),
                severity: Severity::None,
                symbols: Vec::new(),
                uses: Vec::new(),
                cochanged_after_releases: cochange.get(u.path.as_str()).copied().unwrap_or(0),
            });
        file.severity = file.severity.max(severity_of(change.class));
        if let Some(e) = &u.enclosing {
            if !file.symbols.contains(e) {
                file.symbols.push(e.clone());
            }
        }
        file.uses.push(AffectedUse {
            line: u.line,
            symbol: match &u.owner {
                Some(o) => format!("{o}.{}", u.name),
                None => u.name.clone(),
            },
            via: u.via,
            change: change.change,
            class: change.class,
            enclosing: u.enclosing.clone(),
            text: u.text.clone(),
            evidence: "static".into(),
            confirmed: None,
        });
    }
    let mut files: Vec<AffectedFile> = files.into_values().collect();
    files.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.path.cmp(&b.path)));
    let breaking_uses = files
        .iter()
        .flat_map(|f| &f.uses)
        .filter(|u| u.class == Class::Breaking)
        .count() as u32;
    let depends = !declarations.is_empty() || !answer.importers.is_empty();
    let used_severity = files
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::None);
    let severity = if !depends {
        Severity::None
    } else if used_severity > Severity::Informational {
        used_severity
    } else if api.count(Class::Additive) > 0 {
        Severity::Additive
    } else {
        Severity::Informational
    };
    let pinned = !declarations.is_empty() && declarations.iter().all(|d| d.takes_version == "no");
    let state = if !depends {
        PeerState::NotDependent
    } else if pinned {
        PeerState::Pinned
    } else {
        PeerState::Affected
    };
    let listed: std::collections::BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let cochange = answer
        .cochange
        .iter()
        .filter(|c| !listed.contains(c.path.as_str()))
        .cloned()
        .collect();
    let score = match state {
        PeerState::Affected => {
            f64::from(severity as u8) * 1000.0 + f64::from(breaking_uses.min(999))
        }
        _ => 0.0,
    };
    PeerImpact {
        name: name.into(),
        via: via.into(),
        state,
        severity,
        error: None,
        commit: answer.commit.clone(),
        declarations,
        importers: answer.importers.len() as u32,
        files,
        uses_omitted: answer.uses_omitted,
        cochange,
        breaking_uses,
        score,
        neighbours: answer.neighbours.clone(),
        neighbours_note: answer.neighbours_note.clone(),
        check: None,
    }
}

/// A peer that could not be asked.
pub fn unreachable(name: &str, via: &str, error: String) -> PeerImpact {
    PeerImpact {
        name: name.into(),
        via: via.into(),
        state: PeerState::Unreachable,
        severity: Severity::None,
        error: Some(error),
        commit: None,
        declarations: Vec::new(),
        importers: 0,
        files: Vec::new(),
        uses_omitted: 0,
        cochange: Vec::new(),
        breaking_uses: 0,
        score: 0.0,
        neighbours: Vec::new(),
        neighbours_note: None,
        check: None,
    }
}

/// The breaking public symbols, as texts to find look-alikes of in a peer's index (the
/// form the index embeds: kind, qualified name, declaration), at most
/// [`crate::query::MAX_NEIGHBOUR_ASKS`].
fn neighbour_asks(api: &ApiDiff) -> Vec<NeighbourAsk> {
    let mut asks: Vec<NeighbourAsk> = api
        .changes
        .iter()
        .filter(|c| c.public && c.class == Class::Breaking)
        .map(|c| {
            let declaration = c.before.as_deref().or(c.after.as_deref()).unwrap_or("");
            NeighbourAsk {
                symbol: c.qualified.clone(),
                text: format!("{} {}\n{declaration}", c.kind.as_str(), c.qualified),
            }
        })
        .collect();
    asks.sort();
    asks.dedup();
    asks.truncate(crate::query::MAX_NEIGHBOUR_ASKS);
    asks
}

/// Ranks the peers and counts.
pub fn summarise(api: &ApiDiff, peers: &mut [PeerImpact]) -> Summary {
    peers.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.severity.cmp(&a.severity))
            .then(a.name.cmp(&b.name))
    });
    let affected = |p: &&PeerImpact| p.state == PeerState::Affected;
    Summary {
        peers: peers.len() as u32,
        affected: peers.iter().filter(affected).count() as u32,
        breaking_peers: peers
            .iter()
            .filter(affected)
            .filter(|p| p.severity == Severity::Breaking)
            .count() as u32,
        breaking_uses: peers.iter().filter(affected).map(|p| p.breaking_uses).sum(),
        pinned: peers
            .iter()
            .filter(|p| p.state == PeerState::Pinned)
            .count() as u32,
        unreachable: peers
            .iter()
            .filter(|p| p.state == PeerState::Unreachable)
            .count() as u32,
        breaking_changes: api.count(Class::Breaking) as u32,
        additive_changes: api.count(Class::Additive) as u32,
        internal_changes: api.count(Class::Internal) as u32,
        undetermined_changes: api.count(Class::Undetermined) as u32,
    }
}

/// The effect the gate scores for a release: `risk` from breaking uses in affected peers
/// that have not acknowledged the release (none: 0; else 0.5 rising towards 0.75 with
/// the number of uses), `novelty` from the size of the added API (up to 0.25). Together
/// they stay below the default threshold (0.8): the default rules warn about a breaking
/// release, and `weave.toml` rules decide whether it defers or is denied (e.g. `risk >=
/// 0.5` → blocking). Only dimensions the rule set knows are given.
pub fn effect(
    report: &ImpactReport,
    acknowledged: &[String],
    dimensions: &[String],
) -> BTreeMap<String, f64> {
    let unacked_uses: u32 = report
        .peers
        .iter()
        .filter(|p| p.state == PeerState::Affected && p.severity == Severity::Breaking)
        .filter(|p| !acknowledged.contains(&p.name))
        .map(|p| p.breaking_uses)
        .sum();
    let risk = if unacked_uses == 0 {
        0.0
    } else {
        0.5 + 0.25 * (1.0 - (-f64::from(unacked_uses) / 10.0).exp())
    };
    let novelty = (f64::from(report.summary.additive_changes) / 20.0).min(1.0) * 0.25;
    let mut out = BTreeMap::new();
    for (name, value) in [("risk", risk), ("novelty", novelty)] {
        if dimensions.iter().any(|d| d == name) {
            out.insert(name.to_string(), (value * 1e4).round() / 1e4);
        }
    }
    out
}
