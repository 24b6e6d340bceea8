//! The repository's internal import graph: each scanned file's imports resolved to the
//! repository files they name. Rust `crate::`/`self::`/`super::` paths, child modules and
//! workspace crates by package name ([`rust`]); Python relative imports and absolute
//! imports of packages the repository holds ([`python`]); JS/TS relative specifiers
//! ([`script`]); Go import paths under a `go.mod` module path ([`go`]). An import of
//! anything outside the repository is not an edge. [`cycles`] finds the import cycles.
//!
//! It sits above [`crate::api`] because it reuses its Python and TypeScript path helpers.

pub mod cycles;
mod go;
mod python;
mod rust;
mod script;

use crate::deps::Manifest;
use crate::lang::Language;
use crate::scan::ScannedFile;
use std::collections::{BTreeMap, BTreeSet};

/// At most this many edges are kept: a hostile repository of many files each importing
/// a huge Go package cannot make the graph grow without bound.
pub const MAX_EDGES: usize = 500_000;

/// How one file reaches another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EdgeKind {
    /// An import (`use`, `import`, `from … import`, `require`).
    Import,
    /// A Rust `mod child;` declaration: the parent owns the child's file. It ties the two
    /// files together but is not a use of the child's code.
    Declares,
}

/// What the first import from one file into another says (one edge per ordered pair).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// Import or declaration.
    pub kind: EdgeKind,
    /// Line of the first import (or declaration) making the edge.
    pub line: u32,
    /// The module as written there.
    pub module: String,
    /// Names imported over all the imports between the two files (`*` for a glob).
    pub names: BTreeSet<String>,
    /// Some import takes the module whole (`import m`, `use crate::m;`, `from . import
    /// m`, `use m::*`): code may use any of its names through it.
    pub whole: bool,
    /// Rust: the target is a descendant module of the source (`use child::X` or `pub use`
    /// in the parent). The parent owns its children, so this is not a cycle's back edge.
    pub into_descendant: bool,
}

/// One resolved import of a file, before it is merged into the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// The target file.
    pub(crate) to: String,
    /// Import or declaration.
    pub(crate) kind: EdgeKind,
    /// Line.
    pub(crate) line: u32,
    /// The module as written.
    pub(crate) module: String,
    /// Names imported.
    pub(crate) names: Vec<String>,
    /// The module itself is imported (see [`Edge::whole`]).
    pub(crate) whole: bool,
    /// See [`Edge::into_descendant`].
    pub(crate) into_descendant: bool,
}

/// What the resolvers look files up in.
pub(crate) struct Repo<'a> {
    /// Every scanned file.
    pub(crate) files: &'a [ScannedFile],
    /// Paths of the scanned files.
    pub(crate) paths: BTreeSet<&'a str>,
    /// Package manifests.
    pub(crate) manifests: &'a [Manifest],
}

impl Repo<'_> {
    /// Whether `path` is a scanned file.
    pub(crate) fn has(&self, path: &str) -> bool {
        self.paths.contains(path)
    }
}

/// The directory part of a repository-relative path ("" at the root).
pub(crate) fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// `dir/name`, or `name` at the root.
pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Files and the imports between them, ordered by path.
#[derive(Debug, Default)]
pub struct ImportGraph {
    edges: BTreeMap<(String, String), Edge>,
    importers: BTreeMap<String, BTreeSet<String>>,
    truncated: bool,
}

impl ImportGraph {
    /// Resolves the imports of every scanned file; `manifests` give crate names and Go
    /// module paths.
    pub fn build(files: &[ScannedFile], manifests: &[Manifest]) -> ImportGraph {
        let repo = Repo {
            files,
            paths: files.iter().map(|f| f.path.as_str()).collect(),
            manifests,
        };
        let rust = rust::Crates::of(&repo);
        let python = python::Modules::of(&repo);
        let go = go::Packages::of(&repo);
        let mut graph = ImportGraph::default();
        for file in files {
            let resolved = match file.language {
                Language::Rust => rust.resolve(&repo, file),
                Language::Python => python.resolve(&repo, file),
                Language::JavaScript | Language::TypeScript | Language::Tsx => {
                    script::resolve(&repo, file)
                }
                Language::Go => go.resolve(file),
            };
            for r in resolved {
                graph.add(&file.path, r);
            }
        }
        graph
    }

    fn add(&mut self, from: &str, r: Resolved) {
        if r.to == from {
            return;
        }
        let key = (from.to_string(), r.to.clone());
        let exists = self.edges.contains_key(&key);
        if !exists && self.edges.len() >= MAX_EDGES {
            self.truncated = true;
            return;
        }
        let import = r.kind == EdgeKind::Import;
        let whole = import && (r.whole || r.names.is_empty() || r.names.iter().any(|n| n == "*"));
        if import {
            self.importers
                .entry(r.to.clone())
                .or_default()
                .insert(from.to_string());
        }
        if let Some(edge) = self.edges.get_mut(&key) {
            // An import outranks a declaration: `mod a; use a::X;` is a use of `a`.
            if r.kind < edge.kind {
                edge.kind = r.kind;
                edge.line = r.line;
                edge.module = r.module;
                edge.into_descendant = r.into_descendant;
            }
            edge.names.extend(r.names);
            edge.whole |= whole;
            return;
        }
        self.edges.insert(
            key,
            Edge {
                kind: r.kind,
                line: r.line,
                module: r.module,
                whole,
                names: r.names.into_iter().collect(),
                into_descendant: r.into_descendant,
            },
        );
    }

    /// Every edge, by (from, to).
    pub fn edges(&self) -> impl Iterator<Item = (&str, &str, &Edge)> {
        self.edges
            .iter()
            .map(|((from, to), e)| (from.as_str(), to.as_str(), e))
    }

    /// The edge from `from` to `to`, if there is one.
    pub fn edge(&self, from: &str, to: &str) -> Option<&Edge> {
        self.edges.get(&(from.to_string(), to.to_string()))
    }

    /// Whether either file imports (or declares) the other.
    pub fn linked(&self, a: &str, b: &str) -> bool {
        self.edge(a, b).is_some() || self.edge(b, a).is_some()
    }

    /// The files importing `path` (declarations do not count).
    pub fn importers(&self, path: &str) -> impl Iterator<Item = &str> {
        self.importers
            .get(path)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// How many files import `path`.
    pub fn fan_in(&self, path: &str) -> usize {
        self.importers.get(path).map_or(0, BTreeSet::len)
    }

    /// Whether edges were left out at [`MAX_EDGES`].
    pub fn truncated(&self) -> bool {
        self.truncated
    }
}

/// What a cycle is made of: a Go package is its directory (Go files of one package see
/// each other without imports), anything else its file. A directory ends in `/`.
pub fn unit(path: &str) -> String {
    if path.ends_with(".go") {
        match parent_dir(path) {
            "" => "./".to_string(),
            dir => format!("{dir}/"),
        }
    } else {
        path.to_string()
    }
}

#[cfg(test)]
mod tests;
