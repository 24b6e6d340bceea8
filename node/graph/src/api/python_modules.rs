//! Which Python modules' symbols a dependent can import: not tests, docs, examples or
//! build scripts; in a private module (`_impl.py`, or under `_vendor/`), only the names a
//! package's `__init__` re-exports (`from ._impl import define`, `from ._impl import *`).

use crate::facts::FileFacts;
use std::collections::BTreeSet;

/// Directories whose modules no dependent imports.
const NOT_API_DIRS: [&str; 9] = [
    "tests",
    "test",
    "testing",
    "docs",
    "doc",
    "examples",
    "example",
    "benchmarks",
    "scripts",
];

/// What a revision's `__init__` modules re-export from private ones.
#[derive(Debug, Default)]
pub(super) struct Reexports {
    /// (module path without `.py`, name); `*` for a star import.
    names: BTreeSet<(String, String)>,
}

/// A module's path without its extension, and without a trailing `/__init__`.
fn module_key(path: &str) -> &str {
    let stem = path
        .strip_suffix(".pyi")
        .or_else(|| path.strip_suffix(".py"))
        .unwrap_or(path);
    stem.strip_suffix("/__init__").unwrap_or(stem)
}

/// Whether a file is outside what a package exposes (tests, docs, examples, set-up).
pub(super) fn not_api(path: &str) -> bool {
    let mut parts = path.split('/').collect::<Vec<_>>();
    let file = parts.pop().unwrap_or("");
    parts.iter().any(|d| NOT_API_DIRS.contains(d))
        || file.starts_with("test_")
        || file.ends_with("_test.py")
        || matches!(
            file,
            "conftest.py" | "setup.py" | "noxfile.py" | "fabfile.py" | "__main__.py"
        )
}

/// Whether the module is private by name: it, or a package holding it, starts with `_`.
pub(crate) fn private_module(path: &str) -> bool {
    module_key(path)
        .split('/')
        .any(|part| part.starts_with('_') && !(part.starts_with("__") && part.ends_with("__")))
}

impl Reexports {
    /// Reads the imports of the `__init__` modules of a revision.
    pub(super) fn of<'f>(inits: impl Iterator<Item = (&'f str, &'f FileFacts)>) -> Reexports {
        let mut names = BTreeSet::new();
        for (path, facts) in inits {
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            for import in &facts.imports {
                let Some(target) = resolve(dir, &import.module) else {
                    continue;
                };
                for name in &import.names {
                    names.insert((target.clone(), name.clone()));
                }
            }
        }
        Reexports { names }
    }

    /// Whether the top-level `name` of the module at `path` is re-exported.
    pub(super) fn lends(&self, path: &str, name: &str) -> bool {
        let key = module_key(path).to_string();
        self.names.contains(&(key.clone(), name.to_string()))
            || self.names.contains(&(key, "*".to_string()))
    }
}

/// The module path (`pkg/_impl`) an import written in a module of `dir` names: relative
/// ones from `dir` (`._impl`, `..core`), absolute dotted ones from the root (`pkg._impl`).
pub(crate) fn resolve(dir: &str, module: &str) -> Option<String> {
    let dots = module.chars().take_while(|c| *c == '.').count();
    let rest = module[dots..].replace('.', "/");
    if dots == 0 {
        return Some(rest);
    }
    let mut base: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for _ in 1..dots {
        base.pop()?;
    }
    if !rest.is_empty() {
        base.push(&rest);
    }
    Some(base.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tests_docs_and_private_modules_are_told_apart() {
        assert!(not_api("tests/test_api.py"));
        assert!(not_api("docs/conf.py"));
        assert!(not_api("src/pkg/test_util.py"));
        assert!(not_api("setup.py"));
        assert!(!not_api("src/pkg/api.py"));
        assert!(private_module("attr/_make.py"));
        assert!(private_module("pkg/_vendor/six.py"));
        assert!(!private_module("pkg/__init__.py"));
        assert!(!private_module("pkg/client.py"));
        assert_eq!(resolve("attr", "._make").as_deref(), Some("attr/_make"));
        assert_eq!(resolve("a/b", "..core").as_deref(), Some("a/core"));
        assert_eq!(resolve("", "pkg._impl").as_deref(), Some("pkg/_impl"));
        assert_eq!(resolve("", "..x"), None, "above the root");
    }
}
