//! The repository's module graph (`weft modules`, the UI's code view): the import graph
//! folded onto its [units](crate::imports::unit) (a file, or a Go package directory),
//! with each unit's size, fan-in, fan-out and churn, the import cycles, and the hotspots
//! the god-file rule ranks (size × fan-in × churn, over its minimums), so the picture
//! and the assessment agree on what is hot.

use crate::history::History;
use crate::imports::{cycles, unit, EdgeKind, ImportGraph};
use crate::scan::ScannedFile;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Which files count as god files (from `[assessment]`, see [`super::rules::RuleConfig`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GodFileLimits {
    /// At most this many files.
    pub count: u32,
    /// Lines of code a file needs at least...
    pub min_loc: u32,
    /// ...files importing it...
    pub min_fan_in: u32,
    /// ...and commits.
    pub min_commits: u32,
}

/// One file ranked by the god-file score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranked<'a> {
    /// size × fan-in × commits.
    pub score: u64,
    /// The file.
    pub path: &'a str,
    /// Lines of code.
    pub loc: u32,
    /// Files importing it.
    pub fan_in: u32,
    /// Commits touching it.
    pub commits: u32,
}

/// The files over the god-file minimums, highest score first (ties by path), at most
/// `cfg.count`.
pub fn god_file_ranking<'a>(
    files: &'a [ScannedFile],
    history: &History,
    imports: &ImportGraph,
    cfg: GodFileLimits,
) -> Vec<Ranked<'a>> {
    let mut ranked: Vec<Ranked<'a>> = files
        .iter()
        .filter_map(|f| {
            let commits = history.file(&f.path)?.commits;
            let fan_in = u32::try_from(imports.fan_in(&f.path)).unwrap_or(u32::MAX);
            let loc = f.facts.loc;
            (loc >= cfg.min_loc && fan_in >= cfg.min_fan_in.max(1) && commits >= cfg.min_commits)
                .then(|| Ranked {
                    score: u64::from(loc)
                        .saturating_mul(u64::from(fan_in))
                        .saturating_mul(u64::from(commits)),
                    path: f.path.as_str(),
                    loc,
                    fan_in,
                    commits,
                })
        })
        .collect();
    ranked.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.path.cmp(b.path)));
    ranked.truncate(cfg.count as usize);
    ranked
}

/// One unit of the module graph.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Module {
    /// The unit: a file path, or a Go package directory ending in `/`.
    pub id: String,
    /// Files in it.
    pub files: u32,
    /// Lines of code.
    pub lines: u64,
    /// Other units importing it.
    pub fan_in: u32,
    /// Other units it imports.
    pub fan_out: u32,
    /// Commits touching its files (summed over files).
    pub churn: u64,
    /// Whether one of its files is a god-file hotspot.
    pub hotspot: bool,
    /// Its best god-file score relative to the top one (0 to 1; 0 when not ranked).
    pub score: f64,
}

/// An import between two units.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ModuleEdge {
    /// Importing unit.
    pub from: String,
    /// Imported unit.
    pub to: String,
    /// Importing files × imported files joined by an import.
    pub imports: u32,
}

/// The whole module graph.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ModuleGraph {
    /// Units, by id.
    pub modules: Vec<Module>,
    /// Imports between units, by (from, to).
    pub edges: Vec<ModuleEdge>,
    /// Import cycles, each its members sorted.
    pub cycles: Vec<Vec<String>>,
    /// Whether the import graph was cut at its edge bound.
    pub truncated: bool,
}

impl ModuleGraph {
    /// Folds `imports` onto units.
    pub fn build(
        files: &[ScannedFile],
        history: &History,
        imports: &ImportGraph,
        cfg: GodFileLimits,
    ) -> ModuleGraph {
        let mut modules: BTreeMap<String, Module> = BTreeMap::new();
        for f in files {
            let id = unit(&f.path);
            let m = modules.entry(id.clone()).or_insert_with(|| Module {
                id,
                files: 0,
                lines: 0,
                fan_in: 0,
                fan_out: 0,
                churn: 0,
                hotspot: false,
                score: 0.0,
            });
            m.files += 1;
            m.lines += u64::from(f.facts.loc);
            m.churn += history.file(&f.path).map_or(0, |h| u64::from(h.commits));
        }
        let mut edges: BTreeMap<(String, String), u32> = BTreeMap::new();
        for (from, to, edge) in imports.edges() {
            let (u, v) = (unit(from), unit(to));
            if edge.kind != EdgeKind::Import || u == v {
                continue;
            }
            *edges.entry((u, v)).or_default() += 1;
        }
        let mut fan_in: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        let mut fan_out: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (u, v) in edges.keys() {
            fan_in.entry(v).or_default().insert(u);
            fan_out.entry(u).or_default().insert(v);
        }
        for m in modules.values_mut() {
            m.fan_in = fan_in.get(m.id.as_str()).map_or(0, |s| s.len() as u32);
            m.fan_out = fan_out.get(m.id.as_str()).map_or(0, |s| s.len() as u32);
        }
        let ranked = god_file_ranking(files, history, imports, cfg);
        let top = ranked.first().map_or(1, |r| r.score.max(1)) as f64;
        for r in &ranked {
            if let Some(m) = modules.get_mut(&unit(r.path)) {
                m.hotspot = true;
                m.score = m.score.max(r.score as f64 / top);
            }
        }
        ModuleGraph {
            modules: modules.into_values().collect(),
            edges: edges
                .into_iter()
                .map(|((from, to), imports)| ModuleEdge { from, to, imports })
                .collect(),
            cycles: cycles::cycles(imports)
                .into_iter()
                .map(|c| c.members)
                .collect(),
            truncated: imports.truncated(),
        }
    }
}
