//! USAGE: the question a node answers about its own code for an upstream project — which
//! manifests declare its packages, which files import them, where the named symbols are
//! used, and which files changed after the upstream's past releases. A local-path peer is
//! asked by running [`answer`] on its repository; a remote one runs the same function
//! behind `/weft/query/1`, so both give the same answer for the same repository.

mod bindings;
mod message;

pub use message::*;

use crate::deps::{self, Ecosystem};
use crate::facts::{FileFacts, ReferenceKind};
use crate::scan::{self, ScanOptions, ScannedFile, SourceFilter};
use crate::store::GraphStore;
use bindings::Bindings;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Upper bound on commits walked for co-change evidence.
const MAX_COMMITS: usize = 5000;
/// Upper bound on files reported as co-changing.
const MAX_COCHANGE: usize = 50;

/// The names code uses for an upstream package: its own, and a Cargo rename's.
fn local_names(query: &UsageQuery, declarations: &[Declaration]) -> Vec<(Ecosystem, String)> {
    let mut names: BTreeSet<(Ecosystem, String)> = query
        .packages
        .iter()
        .map(|p| (p.ecosystem, p.name.clone()))
        .collect();
    for d in declarations {
        names.insert((d.ecosystem, d.declared.name.clone()));
    }
    names.into_iter().collect()
}

/// Uses in one file: whether it imports the upstream, and where it uses the symbols.
fn file_uses(
    file: &ScannedFile,
    packages: &[(Ecosystem, String)],
    by_name: &BTreeMap<&str, Vec<&QuerySymbol>>,
) -> (bool, Vec<Use>) {
    let facts: &FileFacts = &file.facts;
    let b = Bindings::of(facts, Ecosystem::of(file.language), packages);
    if !b.linked {
        return (false, Vec::new());
    }
    let mut uses = Vec::new();
    for &(line, name) in &b.imported {
        for s in by_name.get(name).into_iter().flatten() {
            uses.push((line, *s, Via::Import));
        }
    }
    for r in &facts.references {
        for s in by_name.get(b.resolve(r)).into_iter().flatten() {
            if b.reaches(r, s) {
                let via = match r.kind {
                    ReferenceKind::Call => Via::Call,
                    ReferenceKind::Type => Via::Type,
                };
                uses.push((r.line, *s, via));
            }
        }
    }
    let uses = uses
        .into_iter()
        .map(|(line, s, via)| Use {
            path: file.path.clone(),
            line,
            name: s.name.clone(),
            owner: s.owner.clone(),
            via,
            enclosing: facts.enclosing(line).map(|s| s.qualified.clone()),
            text: String::new(),
        })
        .collect();
    (true, uses)
}

fn fill_texts(root: &Path, uses: &mut [Use]) {
    let mut current: Option<(String, Vec<String>)> = None;
    for u in uses.iter_mut() {
        if current.as_ref().map(|(p, _)| p) != Some(&u.path) {
            let text = std::fs::read_to_string(root.join(&u.path)).unwrap_or_default();
            current = Some((u.path.clone(), text.lines().map(str::to_string).collect()));
        }
        if let Some((_, lines)) = &current {
            let line = lines
                .get((u.line as usize).saturating_sub(1))
                .map_or("", |l| l.trim());
            u.text = line.chars().take(200).collect();
        }
    }
}

/// Files changed in the `window_days` after each release time, counted per file.
fn cochange(
    root: &Path,
    filter: &SourceFilter,
    releases: &[i64],
    window_days: u32,
) -> Vec<CoChange> {
    if releases.is_empty() {
        return Vec::new();
    }
    let Ok(repo) = git2::Repository::open(root) else {
        return Vec::new();
    };
    let window = i64::from(window_days.max(1)) * 86_400;
    let mut walk = match repo.revwalk() {
        Ok(w) => w,
        Err(_) => return Vec::new(),
    };
    if walk.push_head().is_err() {
        return Vec::new();
    }
    let mut followed: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for oid in walk.flatten().take(MAX_COMMITS) {
        let Ok(commit) = repo.find_commit(oid) else {
            continue;
        };
        let time = commit.time().seconds();
        let after: Vec<usize> = releases
            .iter()
            .enumerate()
            .filter(|(_, r)| time > **r && time <= **r + window)
            .map(|(i, _)| i)
            .collect();
        if after.is_empty() {
            continue;
        }
        let parent = commit.parent(0).ok().and_then(|p| p.tree().ok());
        let Ok(tree) = commit.tree() else { continue };
        let Ok(diff) = repo.diff_tree_to_tree(parent.as_ref(), Some(&tree), None) else {
            continue;
        };
        for delta in diff.deltas() {
            if let Some(path) = delta.new_file().path().and_then(|p| p.to_str()) {
                if filter.tracked_language(path).is_some() {
                    followed
                        .entry(path.to_string())
                        .or_default()
                        .extend(after.iter().copied());
                }
            }
        }
    }
    let mut out: Vec<CoChange> = followed
        .into_iter()
        .map(|(path, r)| CoChange {
            path,
            releases: r.len() as u32,
        })
        .collect();
    out.sort_by(|a, b| b.releases.cmp(&a.releases).then(a.path.cmp(&b.path)));
    out.truncate(MAX_COCHANGE);
    out
}

/// Answers `query` about the repository at `root`, with `cache` (the node's own graph
/// store, or a read-only view of a peer's) saving re-parsing.
pub fn answer(
    root: &Path,
    cache: &GraphStore,
    options: &ScanOptions,
    query: &UsageQuery,
) -> Result<UsageAnswer, crate::GraphError> {
    let scanned = scan::scan(root, cache, options, &|_, _| {}).map_err(crate::GraphError::from)?;
    let declarations: Vec<Declaration> = deps::manifests(root)
        .into_iter()
        .flat_map(|m| {
            let (path, ecosystem) = (m.path.clone(), m.ecosystem);
            m.dependencies
                .into_iter()
                .filter(move |d| {
                    query.packages.iter().any(|p| {
                        p.ecosystem == ecosystem && names_same(ecosystem, &p.name, d.package_name())
                    })
                })
                .map(move |declared| Declaration {
                    manifest: path.clone(),
                    ecosystem,
                    declared,
                })
        })
        .collect();
    let packages = local_names(query, &declarations);
    let mut by_name: BTreeMap<&str, Vec<&QuerySymbol>> = BTreeMap::new();
    for s in &query.symbols {
        by_name.entry(s.name.as_str()).or_default().push(s);
    }
    let mut importers = Vec::new();
    let mut uses = Vec::new();
    for file in &scanned.files {
        let (linked, found) = file_uses(file, &packages, &by_name);
        if linked {
            importers.push(file.path.clone());
        }
        uses.extend(found);
    }
    uses.sort();
    uses.dedup_by(|a, b| {
        (&a.path, a.line, &a.name, &a.owner) == (&b.path, b.line, &b.name, &b.owner)
    });
    let uses_omitted = uses.len().saturating_sub(MAX_USES) as u32;
    uses.truncate(MAX_USES);
    fill_texts(root, &mut uses);
    let filter = SourceFilter::new(options).map_err(crate::GraphError::from)?;
    let commit = git2::Repository::open(root)
        .ok()
        .and_then(|r| r.head().ok()?.target())
        .map(|o| o.to_string());
    Ok(UsageAnswer {
        commit,
        files_scanned: scanned.files.len() as u32,
        declarations,
        importers,
        uses,
        uses_omitted,
        cochange: cochange(root, &filter, &query.releases, query.window_days),
        neighbours: Vec::new(),
        neighbours_note: None,
    })
}

/// Whether two package names are the same package in an ecosystem's comparison.
fn names_same(ecosystem: Ecosystem, a: &str, b: &str) -> bool {
    match ecosystem {
        Ecosystem::Cargo => a.replace('-', "_") == b.replace('-', "_"),
        Ecosystem::Python => {
            let n = |s: &str| s.to_ascii_lowercase().replace(['-', '.'], "_");
            n(a) == n(b)
        }
        Ecosystem::Npm | Ecosystem::Go => a == b,
    }
}
