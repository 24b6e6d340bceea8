//! Rust imports to files. A file named `lib.rs` or `main.rs` is a crate root; any other
//! file belongs to the crate of the nearest directory above it holding a `lib.rs`
//! (preferred) or `main.rs`, and is its own root when there is none (an integration
//! test). Module `a::b` of a crate rooted in directory `d` is `d/a/b.rs` or
//! `d/a/b/mod.rs`; a path that goes on into an inline module or an item ends at the
//! deepest module with a file. Paths written in code (`crate::a::f()`) count as `use`s
//! of their module. `#[path]` attributes are not followed.

use super::{join, parent_dir, EdgeKind, Repo, Resolved};
use crate::deps::Ecosystem;
use crate::facts::{Import, Symbol, SymbolKind};
use crate::scan::ScannedFile;
use std::collections::BTreeMap;

/// `super::super::…` deeper than this is not followed.
const MAX_SUPERS: usize = 64;

/// A path of more segments than this is not followed: real module trees are far
/// shallower, and each segment tried costs a lookup of the whole prefix.
const MAX_SEGMENTS: usize = 64;

/// Only this many inline modules (`mod tests { … }`) of a file scope its imports; each
/// import and path looks through them.
const MAX_INLINE_MODULES: usize = 256;

/// The workspace's crates by the name code uses for them.
pub(super) struct Crates {
    /// `weft_graph` → `node/graph/src/lib.rs`.
    roots: BTreeMap<String, String>,
    /// (crate root, name) → the root of the crate it re-exports under that name
    /// (`pub use weft_graph as graph;` in `node/src/lib.rs`), so `crate::graph::x`
    /// there reaches the other crate's module `x`.
    aliases: BTreeMap<(String, String), String>,
}

/// The crate and module a file is.
struct Place {
    /// The crate root file.
    root: String,
    /// The directory module paths are taken from.
    dir: String,
    /// The file's module path in its crate (`[]` for the root).
    segments: Vec<String>,
}

impl Crates {
    /// Crates from the Cargo manifests whose `src/lib.rs` was scanned, by package name
    /// (`-` as `_`) and by the names dependencies rename them to.
    pub(super) fn of(repo: &Repo<'_>) -> Crates {
        let cargo = || {
            repo.manifests
                .iter()
                .filter(|m| m.ecosystem == Ecosystem::Cargo)
        };
        let mut roots = BTreeMap::new();
        for m in cargo() {
            let lib = join(parent_dir(&m.path), "src/lib.rs");
            if let (Some(name), true) = (&m.package, repo.has(&lib)) {
                roots.insert(name.replace('-', "_"), lib);
            }
        }
        let renamed: Vec<(String, String)> = cargo()
            .flat_map(|m| &m.dependencies)
            .filter_map(|d| {
                let lib = roots.get(&d.package.as_ref()?.replace('-', "_"))?;
                Some((d.name.replace('-', "_"), lib.clone()))
            })
            .collect();
        for (name, lib) in renamed {
            roots.entry(name).or_insert(lib);
        }
        let mut aliases = BTreeMap::new();
        for file in repo
            .files
            .iter()
            .filter(|f| roots.values().any(|r| *r == f.path))
        {
            for import in file.facts.imports.iter().filter(|i| i.names.is_empty()) {
                let Some(target) = roots.get(import.module.as_str()) else {
                    continue;
                };
                for r in &import.renamed {
                    aliases.insert((file.path.clone(), r.local.clone()), target.clone());
                }
            }
        }
        Crates { roots, aliases }
    }

    /// The files `file`'s imports and `mod` declarations name.
    pub(super) fn resolve(&self, repo: &Repo<'_>, file: &ScannedFile) -> Vec<Resolved> {
        let place = place(repo, &file.path);
        let symbols = &file.facts.symbols;
        let mut out = Vec::new();
        for s in symbols.iter().filter(|s| is_declaration(s)) {
            let mut segments = place.segments.clone();
            segments.extend(s.qualified.split("::").map(str::to_string));
            if let Some(child) = module_file(repo, &place, &segments, false) {
                out.push(Resolved {
                    to: child,
                    kind: EdgeKind::Declares,
                    line: s.start_line,
                    module: s.qualified.clone(),
                    names: Vec::new(),
                    whole: false,
                    into_descendant: true,
                });
            }
        }
        // A path written in code (`super::rules::run(…)`, `weft_kernel::hash::shake256(…)`)
        // uses its module as much as a `use` does.
        let paths = file.facts.references.iter().filter_map(|r| {
            let qualifier = r.qualifier.as_deref()?;
            Some(Import {
                module: qualifier.to_string(),
                names: vec![r.name.clone()],
                renamed: Vec::new(),
                line: r.line,
            })
        });
        let uses: Vec<Import> = file.facts.imports.iter().cloned().chain(paths).collect();
        let inline: Vec<&Symbol> = symbols
            .iter()
            .filter(|s| s.kind == SymbolKind::Module && !is_declaration(s))
            .take(MAX_INLINE_MODULES)
            .collect();
        for import in &uses {
            let mut current = place.segments.clone();
            current.extend(inline_module(&inline, import.line));
            for to in self.targets(repo, &place, &current, import) {
                let into_descendant =
                    to.1.len() > place.segments.len() && to.1.starts_with(&place.segments) && to.2;
                out.push(Resolved {
                    to: to.0,
                    kind: EdgeKind::Import,
                    line: import.line,
                    module: import.module.clone(),
                    names: import.names.clone(),
                    whole: to.3,
                    into_descendant,
                });
            }
        }
        out
    }

    /// (file, its module path, whether it is in the importer's crate, whether an imported
    /// name is that module itself) for each file one import names: the module each
    /// imported name is, else the deepest module of the path that has a file.
    fn targets(
        &self,
        repo: &Repo<'_>,
        place: &Place,
        current: &[String],
        import: &Import,
    ) -> Vec<(String, Vec<String>, bool, bool)> {
        let segments: Vec<&str> = import
            .module
            .split("::")
            .filter(|s| !s.is_empty())
            .take(MAX_SEGMENTS + 1)
            .collect();
        if segments.len() > MAX_SEGMENTS {
            return Vec::new();
        }
        let Some(&first) = segments.first() else {
            return Vec::new();
        };
        let (other, mut path, rest) = match first {
            "crate" => (None, Vec::new(), &segments[1..]),
            "self" => (None, current.to_vec(), &segments[1..]),
            "super" => {
                let supers = segments.iter().take_while(|s| **s == "super").count();
                if supers > current.len() || supers > MAX_SUPERS {
                    return Vec::new();
                }
                let base = current[..current.len() - supers].to_vec();
                (None, base, &segments[supers..])
            }
            _ if module_file(repo, place, &child_of(current, first), true).is_some() => {
                (None, current.to_vec(), &segments[..])
            }
            _ => {
                let Some(root) = self.roots.get(first) else {
                    return Vec::new();
                };
                let other = Place {
                    root: root.clone(),
                    dir: parent_dir(root).to_string(),
                    segments: Vec::new(),
                };
                (Some(other), Vec::new(), &segments[1..])
            }
        };
        path.extend(rest.iter().map(|s| s.to_string()));
        let crate_root = other.as_ref().map_or(&place.root, |o| &o.root);
        let aliased = path.first().and_then(|first| {
            let root = self.aliases.get(&(crate_root.clone(), first.clone()))?;
            Some(Place {
                root: root.clone(),
                dir: parent_dir(root).to_string(),
                segments: Vec::new(),
            })
        });
        let other = match aliased {
            Some(target) => {
                path.remove(0);
                Some(target)
            }
            None => other,
        };
        let same = other.is_none();
        let crate_place = other.as_ref().unwrap_or(place);
        let mut out = Vec::new();
        let deepest = |path: &[String]| deepest(repo, crate_place, path);
        if import.names.is_empty() {
            out.extend(deepest(&path).map(|(f, p)| (f, p, true)));
        }
        for name in &import.names {
            let own = child_of(&path, name);
            let exact = (!matches!(name.as_str(), "self" | "*"))
                .then(|| module_file(repo, crate_place, &own, true))
                .flatten();
            match exact {
                Some(f) => out.push((f, own, true)),
                None => out.extend(deepest(&path).map(|(f, p)| (f, p, name == "*"))),
            }
        }
        out.sort();
        out.dedup();
        out.into_iter()
            .map(|(f, p, whole)| (f, p, same, whole))
            .collect()
    }
}

fn child_of(path: &[String], name: &str) -> Vec<String> {
    let mut out = path.to_vec();
    out.push(name.to_string());
    out
}

/// The deepest prefix of `path` that is a module with a file, and that prefix.
fn deepest(repo: &Repo<'_>, place: &Place, path: &[String]) -> Option<(String, Vec<String>)> {
    (0..=path.len())
        .rev()
        .find_map(|n| module_file(repo, place, &path[..n], true).map(|f| (f, path[..n].to_vec())))
}

/// The file of module `segments` of the crate `place` belongs to; the root for `[]`
/// (when `root_too`).
fn module_file(
    repo: &Repo<'_>,
    place: &Place,
    segments: &[String],
    root_too: bool,
) -> Option<String> {
    if segments.is_empty() {
        return (root_too && repo.has(&place.root)).then(|| place.root.clone());
    }
    let base = join(&place.dir, &segments.join("/"));
    [format!("{base}.rs"), format!("{base}/mod.rs")]
        .into_iter()
        .find(|f| repo.has(f))
}

/// The crate root of `path`, its directory and `path`'s module path in it.
fn place(repo: &Repo<'_>, path: &str) -> Place {
    let name = path.rsplit('/').next().unwrap_or(path);
    let own_root = || Place {
        root: path.to_string(),
        dir: parent_dir(path).to_string(),
        segments: Vec::new(),
    };
    if matches!(name, "lib.rs" | "main.rs") {
        return own_root();
    }
    let mut dir = parent_dir(path);
    loop {
        let root = ["lib.rs", "main.rs"]
            .into_iter()
            .map(|r| join(dir, r))
            .find(|r| repo.has(r));
        if let Some(root) = root {
            let rel = path
                .strip_prefix(dir)
                .unwrap_or(path)
                .trim_start_matches('/');
            let stem = rel.strip_suffix(".rs").unwrap_or(rel);
            let mut segments: Vec<String> = stem.split('/').map(str::to_string).collect();
            if segments.last().is_some_and(|s| s == "mod") {
                segments.pop();
            }
            return Place {
                root,
                dir: dir.to_string(),
                segments,
            };
        }
        if dir.is_empty() {
            return own_root();
        }
        dir = parent_dir(dir);
    }
}

/// `mod child;`: a module declared without a body, whose code is in another file.
fn is_declaration(s: &Symbol) -> bool {
    s.kind == SymbolKind::Module && s.signature.trim_end().ends_with(';')
}

/// The path of the innermost of the inline modules (`mod tests { … }`) enclosing `line`.
fn inline_module(inline: &[&Symbol], line: u32) -> Vec<String> {
    inline
        .iter()
        .filter(|s| s.start_line <= line && line <= s.end_line)
        .min_by_key(|s| s.end_line - s.start_line)
        .map(|s| s.qualified.split("::").map(str::to_string).collect())
        .unwrap_or_default()
}
