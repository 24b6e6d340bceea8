//! Package dependencies: what manifests declare (Cargo.toml, package.json,
//! pyproject.toml, requirements*.txt, go.mod) and how that matches what the code imports.

mod manifest;

use super::lang::Language;
use super::scan::ScannedFile;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Package ecosystems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    /// Cargo.toml.
    Cargo,
    /// package.json.
    Npm,
    /// pyproject.toml / requirements*.txt.
    Python,
    /// go.mod.
    Go,
}

impl Ecosystem {
    /// The ecosystem whose manifests declare the packages code in `language` imports.
    pub fn of(language: Language) -> Ecosystem {
        match language {
            Language::Rust => Ecosystem::Cargo,
            Language::Python => Ecosystem::Python,
            Language::JavaScript | Language::TypeScript | Language::Tsx => Ecosystem::Npm,
            Language::Go => Ecosystem::Go,
        }
    }
}

/// One declared dependency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Declared {
    /// Package name as declared (for a renamed Cargo dependency, the name the code uses).
    pub name: String,
    /// `normal`, `dev`, `build`, `optional` or `peer`.
    pub kind: String,
    /// The version requirement as written (`^1.2`, `>=1,<2`, `v1.4.0`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
    /// Where it comes from when not from a registry: `path`, `git` or `workspace` (a
    /// Go `replace` by a local directory counts as `path`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The package's real name when the manifest renames it (Cargo `package = ...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
}

impl Declared {
    /// The package this declaration pulls in.
    pub fn package_name(&self) -> &str {
        self.package.as_deref().unwrap_or(&self.name)
    }
}

/// One manifest file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// Repository-relative path.
    pub path: String,
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// The package's own name (crate, npm package, Go module path), if declared.
    pub package: Option<String>,
    /// The package's own version, if declared (Go modules take theirs from tags).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Declared dependencies.
    pub dependencies: Vec<Declared>,
    /// Why the manifest could not be read fully, if it could not.
    pub error: Option<String>,
}

impl Manifest {
    fn dir(&self) -> &str {
        self.path.rsplit_once('/').map_or("", |(d, _)| d)
    }
}

const MANIFEST_NAMES: [&str; 4] = ["Cargo.toml", "package.json", "pyproject.toml", "go.mod"];

/// Reads a manifest's text (from a revision rather than the working tree); None when the
/// file name is not a manifest's.
pub fn parse_manifest_text(rel: &str, text: &str) -> Option<Manifest> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    is_manifest(name).then(|| manifest::parse_manifest(rel, name, Ok(text.to_string())))
}

/// Whether a file name is a manifest's.
pub fn is_manifest(name: &str) -> bool {
    MANIFEST_NAMES.contains(&name) || (name.starts_with("requirements") && name.ends_with(".txt"))
}

/// Finds and reads every manifest under `root` (gitignore-aware, skipping the same
/// directories as the scan).
pub fn manifests(root: &Path) -> Vec<Manifest> {
    let mut out = Vec::new();
    let walk = ignore::WalkBuilder::new(root)
        .require_git(false)
        .filter_entry(|e| {
            !(e.file_type().is_some_and(|t| t.is_dir())
                && super::scan::SKIPPED_DIRS
                    .iter()
                    .any(|d| e.file_name() == *d))
        })
        .build();
    for entry in walk.flatten() {
        let name = entry.file_name().to_string_lossy();
        if !entry.file_type().is_some_and(|t| t.is_file()) || !is_manifest(&name) {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(root) else {
            continue;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        let text = std::fs::read_to_string(entry.path()).map_err(|e| e.to_string());
        out.push(manifest::parse_manifest(&rel, &name, text));
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// A mismatch between imports and declarations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DependencyIssue {
    /// The manifest concerned.
    pub manifest: String,
    /// The package.
    pub package: String,
    /// `unused` (declared, never imported) or `undeclared` (imported, not declared).
    pub issue: String,
    /// For `undeclared`: the first file importing it, and the line.
    pub file: Option<(String, u32)>,
}

/// Paths no manifest declares: the sysroot crates (`test` is the one `extern crate
/// test;` brings in for benchmarks) and the path keywords.
const RUST_BUILTIN: [&str; 8] = [
    "std",
    "core",
    "alloc",
    "proc_macro",
    "test",
    "crate",
    "self",
    "super",
];
const NODE_BUILTIN: [&str; 33] = [
    "assert",
    "async_hooks",
    "buffer",
    "child_process",
    "cluster",
    "console",
    "crypto",
    "dgram",
    "dns",
    "events",
    "fs",
    "http",
    "http2",
    "https",
    "inspector",
    "module",
    "net",
    "os",
    "path",
    "perf_hooks",
    "process",
    "querystring",
    "readline",
    "stream",
    "string_decoder",
    "timers",
    "tls",
    "tty",
    "url",
    "util",
    "v8",
    "vm",
    "zlib",
];
/// Python distributions whose import name differs from the distribution name.
const PYTHON_IMPORT_NAMES: [(&str, &str); 8] = [
    ("pyyaml", "yaml"),
    ("beautifulsoup4", "bs4"),
    ("scikit-learn", "sklearn"),
    ("pillow", "PIL"),
    ("python-dateutil", "dateutil"),
    ("opencv-python", "cv2"),
    ("protobuf", "google"),
    ("attrs", "attr"),
];

/// The package an import names, in the manifest's terms; None for the standard
/// library, relative imports and the package itself.
pub(crate) fn imported_package(
    ecosystem: Ecosystem,
    module: &str,
    own: Option<&str>,
) -> Option<String> {
    match ecosystem {
        Ecosystem::Cargo => {
            let first = module.split("::").next()?.trim_start_matches("::");
            let own = own.map(|o| o.replace('-', "_"));
            (!RUST_BUILTIN.contains(&first) && Some(first) != own.as_deref())
                .then(|| first.to_string())
        }
        Ecosystem::Npm => {
            if module.starts_with('.') || module.starts_with('/') || module.starts_with("node:") {
                return None;
            }
            let mut parts = module.split('/');
            let first = parts.next()?;
            let name = if first.starts_with('@') {
                format!("{first}/{}", parts.next()?)
            } else {
                first.to_string()
            };
            (!NODE_BUILTIN.contains(&name.as_str()) && Some(name.as_str()) != own).then_some(name)
        }
        Ecosystem::Python => (!module.starts_with('.'))
            .then(|| module.split('.').next().unwrap_or(module).to_string()),
        Ecosystem::Go => {
            let first = module.split('/').next()?;
            // The standard library's paths have no dot in their first element.
            (first.contains('.') && !own.is_some_and(|o| module.starts_with(o)))
                .then(|| module.to_string())
        }
    }
}

/// Normalised form used to compare a declared name with an imported one.
fn normalise(ecosystem: Ecosystem, declared: &str) -> String {
    match ecosystem {
        Ecosystem::Cargo => declared.replace('-', "_"),
        Ecosystem::Python => {
            let lower = declared.to_ascii_lowercase().replace('_', "-");
            PYTHON_IMPORT_NAMES
                .iter()
                .find(|(dist, _)| *dist == lower)
                .map_or_else(|| lower.replace(['-', '.'], "_"), |(_, m)| m.to_string())
        }
        Ecosystem::Npm | Ecosystem::Go => declared.to_string(),
    }
}

/// Whether an imported package name (from [`imported_package`]) is the declared one.
pub(crate) fn matches(ecosystem: Ecosystem, declared: &str, imported: &str) -> bool {
    match ecosystem {
        Ecosystem::Go => imported == declared || imported.starts_with(&format!("{declared}/")),
        Ecosystem::Python => normalise(ecosystem, declared).eq_ignore_ascii_case(imported),
        _ => normalise(ecosystem, declared) == imported,
    }
}

/// Declared-but-unused and used-but-undeclared dependencies. A source file belongs to the
/// nearest manifest of its ecosystem above it. Only normal dependencies can be unused
/// (dev, build and optional ones are used by tools and tests weft does not see);
/// undeclared imports are reported where the standard library is known (Rust, Node,
/// Go) — for Python a top-level import that is not a module of the repository and not
/// declared cannot be told apart from the standard library, so it is not reported.
/// Rust code often names a crate by path without a `use` (`anyhow::bail!`), so a crate
/// counts as used when a file under `root` owned by the manifest mentions `crate::`.
pub fn dependency_issues(
    root: &Path,
    manifests: &[Manifest],
    files: &[ScannedFile],
) -> Vec<DependencyIssue> {
    let mut imported: BTreeMap<usize, BTreeMap<String, (String, u32)>> = BTreeMap::new();
    let mut local_names: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let eco = Ecosystem::of(file.language);
        let Some(owner) = owning_manifest(manifests, eco, &file.path) else {
            continue;
        };
        let own = manifests[owner].package.as_deref();
        for import in &file.facts.imports {
            if let Some(pkg) = imported_package(eco, &import.module, own) {
                if eco == Ecosystem::Cargo
                    && local_names
                        .entry(owner)
                        .or_insert_with(|| local_rust_names(files, manifests, owner))
                        .contains(&pkg)
                {
                    continue;
                }
                imported
                    .entry(owner)
                    .or_default()
                    .entry(pkg)
                    .or_insert_with(|| (file.path.clone(), import.line));
            }
        }
    }
    let local_python: BTreeSet<String> = files
        .iter()
        .filter(|f| f.language == Language::Python)
        .flat_map(|f| {
            f.path
                .split('/')
                .map(|s| s.trim_end_matches(".py").to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    let mut issues = Vec::new();
    for (i, manifest) in manifests.iter().enumerate() {
        if manifest.error.is_some() {
            continue;
        }
        let eco = manifest.ecosystem;
        let used = imported.remove(&i).unwrap_or_default();
        let mut unused: Vec<&Declared> = manifest
            .dependencies
            .iter()
            .filter(|d| d.kind == "normal")
            // `@types/x` packages hold TypeScript declarations, never imported by name.
            .filter(|d| !(eco == Ecosystem::Npm && d.name.starts_with("@types/")))
            .filter(|d| !used.keys().any(|u| matches(eco, &d.name, u)))
            .collect();
        if eco == Ecosystem::Cargo && !unused.is_empty() {
            let idents: Vec<String> = unused.iter().map(|d| normalise(eco, &d.name)).collect();
            let mentioned = rust_mentions(root, rust_files_of(files, manifests, i), &idents);
            unused.retain(|d| !mentioned.contains(&normalise(eco, &d.name)));
        }
        for dep in unused {
            issues.push(DependencyIssue {
                manifest: manifest.path.clone(),
                package: dep.name.clone(),
                issue: "unused".into(),
                file: None,
            });
        }
        if eco == Ecosystem::Python {
            continue;
        }
        let workspace: Vec<String> = manifests
            .iter()
            .filter(|m| m.ecosystem == eco)
            .filter_map(|m| m.package.clone())
            .collect();
        for (pkg, at) in used {
            let declared = manifest
                .dependencies
                .iter()
                .any(|d| matches(eco, &d.name, &pkg));
            let sibling = workspace.iter().any(|w| matches(eco, w, &pkg));
            if !declared && !sibling && !local_python.contains(&pkg) {
                issues.push(DependencyIssue {
                    manifest: manifest.path.clone(),
                    package: pkg,
                    issue: "undeclared".into(),
                    file: Some(at),
                });
            }
        }
    }
    issues
}

/// The Rust files whose nearest Cargo manifest is `owner`.
fn rust_files_of<'f>(
    files: &'f [ScannedFile],
    manifests: &'f [Manifest],
    owner: usize,
) -> impl Iterator<Item = &'f ScannedFile> {
    files
        .iter()
        .filter(|f| f.language == Language::Rust)
        .filter(move |f| owning_manifest(manifests, Ecosystem::Cargo, &f.path) == Some(owner))
}

/// Names a `use` path may start with inside a crate without naming a dependency: its
/// modules (file and directory names, `mod` items) and its own types (`use Enum::*`).
fn local_rust_names(
    files: &[ScannedFile],
    manifests: &[Manifest],
    owner: usize,
) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for f in rust_files_of(files, manifests, owner) {
        names.extend(
            f.path
                .trim_end_matches(".rs")
                .split('/')
                .map(str::to_string),
        );
        names.extend(f.facts.symbols.iter().map(|s| s.name.clone()));
    }
    names
}

/// Which of `idents` some file in `owned` names as `ident::`, each file read once.
fn rust_mentions<'f>(
    root: &Path,
    owned: impl Iterator<Item = &'f ScannedFile>,
    idents: &[String],
) -> BTreeSet<String> {
    let needles: Vec<(String, &String)> = idents.iter().map(|i| (format!("{i}::"), i)).collect();
    let mut found = BTreeSet::new();
    for file in owned {
        if found.len() == idents.len() {
            break;
        }
        let Ok(text) = std::fs::read_to_string(root.join(&file.path)) else {
            continue;
        };
        for (needle, ident) in &needles {
            if text.contains(needle.as_str()) {
                found.insert((*ident).clone());
            }
        }
    }
    found
}

/// The manifest of `ecosystem` nearest above `path`.
fn owning_manifest(manifests: &[Manifest], ecosystem: Ecosystem, path: &str) -> Option<usize> {
    manifests
        .iter()
        .enumerate()
        .filter(|(_, m)| m.ecosystem == ecosystem)
        .filter(|(_, m)| m.dir().is_empty() || path.starts_with(&format!("{}/", m.dir())))
        .max_by_key(|(_, m)| m.dir().len())
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_map_to_packages() {
        use Ecosystem::*;
        assert_eq!(
            imported_package(Cargo, "serde_json::Value", Some("x")),
            Some("serde_json".into())
        );
        assert_eq!(imported_package(Cargo, "std::fs", None), None);
        // ripgrep's benches: `extern crate test;` is the sysroot's, never a dependency.
        assert_eq!(imported_package(Cargo, "test", None), None);
        assert_eq!(
            imported_package(Cargo, "my_crate::a", Some("my-crate")),
            None
        );
        assert_eq!(
            imported_package(Npm, "@scope/pkg/sub", None),
            Some("@scope/pkg".into())
        );
        assert_eq!(imported_package(Npm, "fs", None), None);
        assert_eq!(imported_package(Npm, "./local", None), None);
        assert_eq!(imported_package(Go, "fmt", None), None);
        assert_eq!(
            imported_package(Go, "example.com/m/internal", Some("example.com/m")),
            None
        );
        assert_eq!(
            imported_package(Python, "yaml.loader", None),
            Some("yaml".into())
        );
        assert!(matches(Python, "PyYAML", "yaml"));
        assert!(matches(Cargo, "serde-json", "serde_json"));
        assert!(matches(Go, "github.com/a/b", "github.com/a/b/sub"));
    }
}
