//! Go imports to files: an import path under the module path of a `go.mod` in the
//! repository (`example.com/app/store` with module `example.com/app`) is the package
//! directory below that `go.mod`, and names every non-test `.go` file directly in it.

use super::{join, parent_dir, EdgeKind, Repo, Resolved};
use crate::deps::Ecosystem;
use crate::lang::Language;
use crate::scan::ScannedFile;
use std::collections::BTreeMap;

/// The repository's Go modules and package directories.
pub(super) struct Packages {
    /// Module path → directory of its `go.mod`.
    modules: BTreeMap<String, String>,
    /// Package directory → its non-test `.go` files.
    dirs: BTreeMap<String, Vec<String>>,
}

impl Packages {
    /// Reads the `go.mod` manifests and groups the scanned Go files by directory.
    pub(super) fn of(repo: &Repo<'_>) -> Packages {
        let modules = repo
            .manifests
            .iter()
            .filter(|m| m.ecosystem == Ecosystem::Go)
            .filter_map(|m| Some((m.package.clone()?, parent_dir(&m.path).to_string())))
            .collect();
        let mut dirs: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for f in repo
            .files
            .iter()
            .filter(|f| f.language == Language::Go && !f.path.ends_with("_test.go"))
        {
            dirs.entry(parent_dir(&f.path).to_string())
                .or_default()
                .push(f.path.clone());
        }
        Packages { modules, dirs }
    }

    /// The directory of the package an import path names, when a module here holds it
    /// (the longest module path that is a prefix of it).
    fn package_dir(&self, import: &str) -> Option<String> {
        let (module, dir) = self
            .modules
            .iter()
            .filter(|(m, _)| {
                import == m.as_str()
                    || import
                        .strip_prefix(m.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            })
            .max_by_key(|(m, _)| m.len())?;
        let sub = import[module.len()..].trim_start_matches('/');
        Some(match sub {
            "" => dir.clone(),
            s => join(dir, s),
        })
    }

    /// The files of the packages `file` imports.
    pub(super) fn resolve(&self, file: &ScannedFile) -> Vec<Resolved> {
        let mut out = Vec::new();
        for import in &file.facts.imports {
            let Some(dir) = self.package_dir(&import.module) else {
                continue;
            };
            for to in self.dirs.get(&dir).into_iter().flatten() {
                out.push(Resolved {
                    to: to.clone(),
                    kind: EdgeKind::Import,
                    line: import.line,
                    module: import.module.clone(),
                    names: import.names.clone(),
                    whole: true,
                    into_descendant: false,
                });
            }
        }
        out
    }
}
