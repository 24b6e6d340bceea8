//! Python imports to files. Relative imports (`from . import x`, `from ..core import y`)
//! resolve from the importing file's package; absolute ones (`import pkg.mod`) against
//! the modules the repository holds, each named from the directory above its topmost
//! package (the directories with an `__init__.py`), else from the repository root or
//! `src/`. Module `a.b` is `a/b.py`, `a/b/__init__.py` or their `.pyi` stubs; `from a
//! import b` names submodule `a.b` when there is one, else module `a`.

use super::{parent_dir, EdgeKind, Repo, Resolved};
use crate::api::python_modules;
use crate::lang::Language;
use crate::scan::ScannedFile;
use std::collections::BTreeMap;

/// A module name of more dotted parts than this is not followed (each part tried costs
/// a lookup of the whole prefix).
const MAX_PARTS: usize = 64;

/// The repository's Python modules by dotted name.
pub(super) struct Modules {
    by_name: BTreeMap<String, String>,
}

/// The module path of a Python file, without extension and `/__init__`.
fn stem(path: &str) -> &str {
    let stem = path
        .strip_suffix(".pyi")
        .or_else(|| path.strip_suffix(".py"))
        .unwrap_or(path);
    if stem == "__init__" {
        return "";
    }
    stem.strip_suffix("/__init__").unwrap_or(stem)
}

impl Modules {
    /// Names every scanned Python file; a name two files could have goes to the one its
    /// package layout gives it, then to the first by path.
    pub(super) fn of(repo: &Repo<'_>) -> Modules {
        let python: Vec<&str> = repo
            .files
            .iter()
            .filter(|f| f.language == Language::Python)
            .map(|f| f.path.as_str())
            .collect();
        let mut by_name = BTreeMap::new();
        for path in &python {
            let mut top = parent_dir(path);
            while !top.is_empty() && repo.has(&super::join(top, "__init__.py")) {
                top = parent_dir(top);
            }
            add(&mut by_name, path, top);
        }
        for path in &python {
            add(&mut by_name, path, "");
            add(&mut by_name, path, "src");
        }
        Modules { by_name }
    }

    /// The files `file`'s imports name.
    pub(super) fn resolve(&self, repo: &Repo<'_>, file: &ScannedFile) -> Vec<Resolved> {
        let dir = parent_dir(&file.path);
        let mut out = Vec::new();
        for import in &file.facts.imports {
            if import.module.matches('.').count() >= MAX_PARTS {
                continue;
            }
            let targets: Vec<(String, bool)> = if import.module.starts_with('.') {
                let Some(base) = python_modules::resolve(dir, &import.module) else {
                    continue;
                };
                self.targets(import, |name| {
                    let path = match name {
                        Some(n) => super::join(&base, n),
                        None => base.clone(),
                    };
                    file_of(repo, &path)
                })
            } else {
                self.targets(import, |name| {
                    let dotted = match name {
                        Some(n) => format!("{}.{n}", import.module),
                        None => import.module.clone(),
                    };
                    self.deepest(&dotted, name.is_some())
                })
            };
            out.extend(targets.into_iter().map(|(to, whole)| Resolved {
                to,
                whole,
                kind: EdgeKind::Import,
                line: import.line,
                module: import.module.clone(),
                names: import.names.clone(),
                into_descendant: false,
            }));
        }
        out.sort_by(|a, b| a.to.cmp(&b.to));
        out.dedup_by(|a, b| a.to == b.to);
        out
    }

    /// Each imported name as a submodule, else the module itself; with whether the
    /// import takes that module whole.
    fn targets(
        &self,
        import: &crate::facts::Import,
        find: impl Fn(Option<&str>) -> Option<String>,
    ) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        if import.names.is_empty() {
            out.extend(find(None).map(|f| (f, true)));
        }
        for name in &import.names {
            match find(Some(name)).filter(|_| name != "*") {
                Some(f) => out.push((f, true)),
                None => out.extend(find(None).map(|f| (f, name == "*"))),
            }
        }
        out
    }

    /// The module `dotted` names; when `exact` is false, its deepest enclosing module
    /// the repository holds (`import a.b.c` loads `a` and `a.b` too).
    fn deepest(&self, dotted: &str, exact: bool) -> Option<String> {
        if exact {
            return self.by_name.get(dotted).cloned();
        }
        let mut name = dotted;
        loop {
            if let Some(f) = self.by_name.get(name) {
                return Some(f.clone());
            }
            name = name.rsplit_once('.')?.0;
        }
    }
}

/// Names `path` relative to `root` (a directory above it, "" for the repository root).
fn add(by_name: &mut BTreeMap<String, String>, path: &str, root: &str) {
    let rel = match root {
        "" => path,
        r => match path.strip_prefix(r).and_then(|p| p.strip_prefix('/')) {
            Some(rel) => rel,
            None => return,
        },
    };
    let name = stem(rel).replace('/', ".");
    if !name.is_empty() && !name.contains(['-', ' ']) {
        by_name.entry(name).or_insert_with(|| path.to_string());
    }
}

/// The file of the module at slash path `base`.
fn file_of(repo: &Repo<'_>, base: &str) -> Option<String> {
    let candidates = if base.is_empty() {
        vec!["__init__.py".to_string(), "__init__.pyi".to_string()]
    } else {
        ["py", "pyi"]
            .iter()
            .flat_map(|ext| [format!("{base}.{ext}"), format!("{base}/__init__.{ext}")])
            .collect()
    };
    candidates.into_iter().find(|c| repo.has(c))
}
