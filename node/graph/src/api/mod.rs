//! API DIFF: what changed in a repository's public surface between two commits — symbols
//! removed, renamed, re-signed, hidden or added, bodies changed behind an unchanged
//! signature, and manifest fields (package name, version, features, toolchain floors) —
//! each classified breaking, additive, internal or undetermined by a named rule
//! ([`rules`]).
//!
//! Keys of the configuration files users set (`[analysis] public_config`) are compared
//! too ([`config`]): removed and retyped keys break users like removed functions.
//!
//! Rust crates are modelled whole ([`rust`]): the surface a dependent reaches from the
//! crate root; so are npm packages ([`typescript`]): the names a dependent imports from
//! the package's entry points. Other languages are compared file by file, symbol by symbol, with their
//! languages' rules for a changed declaration ([`go`], [`python`]).

pub mod config;
mod exposed;
mod finding;
mod go;
mod python;
pub(crate) mod python_modules;
pub mod rules;
mod rust;
pub(crate) mod typescript;

pub use exposed::{exposed, sample_code};
use rules::Rule;

use crate::config_schema::{self, ConfigFormat, PublicConfig};
use crate::deps::{self, Ecosystem, Manifest};
use crate::facts::{Symbol, SymbolKind};
use crate::lang::Language;
use crate::scan::SourceFilter;
use crate::KnowledgeGraph;
use git2::{ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How a change reaches users of the package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// Code using the old API may stop compiling or behave differently.
    Breaking,
    /// The text alone cannot tell whether users break (the finding's note says why); a
    /// build check of the peer decides.
    Undetermined,
    /// New API; existing users are unaffected.
    Additive,
    /// Not part of the public API.
    Internal,
}

/// What happened to a symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// A public symbol is gone.
    Removed,
    /// A public symbol is gone and one of the same kind and shape took its place.
    Renamed,
    /// A public symbol's declaration changed.
    Signature,
    /// A public symbol is no longer public.
    Visibility,
    /// A public symbol is new (or newly public).
    Added,
    /// A body changed behind the same signature, or a private symbol changed.
    Body,
    /// A symbol moved to another file unchanged.
    Moved,
}

/// One changed symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiChange {
    /// What happened.
    pub change: ChangeKind,
    /// Breaking, additive or internal.
    pub class: Class,
    /// File (at the head; at the base for a removal).
    pub path: String,
    /// Kind of symbol.
    pub kind: SymbolKind,
    /// Qualified name within its file (`Type::method`, `Class.method`).
    pub qualified: String,
    /// Bare name, which users call it by.
    pub name: String,
    /// Enclosing type of a method (what users must name or import to reach it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Public in the base or the head.
    pub public: bool,
    /// Declaration at the base.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Declaration at the head.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// New qualified name of a renamed symbol.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renamed_to: Option<String>,
    /// Line at the head (None for a removal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Id of the rule that classified it (docs/coordination.md).
    #[serde(default)]
    pub rule: String,
    /// Why, where the rule needs saying (what breaks, or why it is undetermined).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One changed manifest field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestChange {
    /// The manifest.
    pub path: String,
    /// `name`, `version`, `feature:NAME`, `extra:NAME`, `rust-version`, `engines.node`,
    /// `requires-python`, `go`.
    pub field: String,
    /// Value at the base.
    pub before: Option<String>,
    /// Value at the head.
    pub after: Option<String>,
    /// How it reaches users.
    pub class: Class,
    /// Id of the rule that classified it.
    #[serde(default)]
    pub rule: String,
}

/// A package this repository publishes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Package {
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Name (crate, npm package, Python distribution, Go module path).
    pub name: String,
    /// Version at the head, if declared.
    pub version: Option<String>,
    /// Its manifest.
    pub manifest: String,
}

/// The diff between a base and the head commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiDiff {
    /// The base commit (None: no earlier release, every symbol is new).
    pub base_commit: Option<String>,
    /// The head commit.
    pub head_commit: String,
    /// Packages published at the head.
    pub packages: Vec<Package>,
    /// Symbol changes, breaking first.
    pub changes: Vec<ApiChange>,
    /// Manifest changes.
    pub manifest_changes: Vec<ManifestChange>,
    /// Keys of public configuration files removed, retyped or added.
    #[serde(default)]
    pub config_changes: Vec<config::ConfigChange>,
    /// Source files that differ.
    pub files_changed: u32,
}

impl ApiDiff {
    /// Changes of one class.
    pub fn count(&self, class: Class) -> usize {
        self.changes.iter().filter(|c| c.class == class).count()
            + self
                .manifest_changes
                .iter()
                .filter(|c| c.class == class)
                .count()
            + self
                .config_changes
                .iter()
                .filter(|c| c.class == class)
                .count()
    }
}

#[derive(Default)]
struct TreeFiles {
    sources: BTreeMap<String, (Oid, Language)>,
    manifests: BTreeMap<String, Oid>,
    /// Public configuration files.
    configs: BTreeMap<String, (Oid, ConfigFormat)>,
}

/// The API diff failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Reading a commit's tree or blobs failed.
    #[error("git: {0}")]
    Git(String),
    /// The knowledge graph (parsing a file at a revision, the source filter).
    #[error(transparent)]
    Graph(#[from] crate::GraphError),
    /// `[analysis] public_config`.
    #[error(transparent)]
    PublicConfig(#[from] config_schema::PublicConfigError),
}

fn git(e: git2::Error) -> ApiError {
    ApiError::Git(e.message().to_string())
}

fn tree_files(
    repo: &Repository,
    commit: Oid,
    filter: &SourceFilter,
    public: &PublicConfig,
) -> Result<TreeFiles, ApiError> {
    let tree = repo
        .find_commit(commit)
        .and_then(|c| c.tree())
        .map_err(git)?;
    let mut files = TreeFiles::default();
    tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() != Some(ObjectType::Blob) {
            return TreeWalkResult::Ok;
        }
        let Some(name) = entry.name() else {
            return TreeWalkResult::Ok;
        };
        let path = format!("{dir}{name}");
        if deps::is_manifest(name) {
            files.manifests.insert(path.clone(), entry.id());
        }
        if public.is_public(&path) {
            if let Some(format) = config_schema::format_of(&path) {
                files.configs.insert(path.clone(), (entry.id(), format));
            }
        }
        if let Some(lang) = filter.tracked_language(&path) {
            files.sources.insert(path, (entry.id(), lang));
        }
        TreeWalkResult::Ok
    })
    .map_err(git)?;
    // Manifests and configuration of skipped directories (vendored code, node_modules)
    // are not ours.
    files
        .manifests
        .retain(|path, _| !crate::scan::in_skipped_dir(path));
    files
        .configs
        .retain(|path, _| !crate::scan::in_skipped_dir(path));
    Ok(files)
}

fn blob_text(repo: &Repository, id: Oid) -> Option<String> {
    let blob = repo.find_blob(id).ok()?;
    String::from_utf8(blob.content().to_vec()).ok()
}

/// A file's symbols at one revision, each with a hash of its source lines (to see a
/// body change behind an unchanged signature).
#[derive(Default)]
struct Side {
    symbols: Vec<(Symbol, u64)>,
    /// The names the file imports (by the local name it binds).
    imported: BTreeSet<String>,
}

fn side(
    graph: &KnowledgeGraph,
    repo: &Repository,
    id: Oid,
    language: Language,
) -> Result<Side, ApiError> {
    let Some(text) = blob_text(repo, id) else {
        return Ok(Side::default());
    };
    let facts = graph.facts_of(language, &text)?;
    let lines: Vec<&str> = text.lines().collect();
    let symbols = facts
        .symbols
        .into_iter()
        .map(|s| {
            let from = (s.start_line as usize).saturating_sub(1).min(lines.len());
            let to = (s.end_line as usize).min(lines.len()).max(from);
            let body = lines[from..to].join("\n");
            let hash =
                weft_kernel::hash::domain_hash("weft/coordinate/body/v1", &[body.as_bytes()]);
            let short = u64::from_be_bytes(hash.0[..8].try_into().expect("8 bytes"));
            (s, short)
        })
        .collect();
    let mut imported = BTreeSet::new();
    for import in &facts.imports {
        imported.extend(import.names.iter().cloned());
        imported.extend(import.renamed.iter().map(|r| r.local.clone()));
    }
    Ok(Side { symbols, imported })
}

fn owner_of(qualified: &str) -> Option<String> {
    let cut = qualified.rfind("::").or_else(|| qualified.rfind('.'))?;
    Some(qualified[..cut].to_string())
}

fn change(
    change: ChangeKind,
    rule: &'static Rule,
    path: &str,
    old: Option<&Symbol>,
    new: Option<&Symbol>,
) -> ApiChange {
    let s = new.or(old).expect("a change has a symbol on one side");
    let named = old.unwrap_or(s);
    ApiChange {
        change,
        class: rule.class,
        path: path.to_string(),
        kind: named.kind,
        qualified: named.qualified.clone(),
        name: named.name.clone(),
        owner: (named.kind == SymbolKind::Method)
            .then(|| owner_of(&named.qualified))
            .flatten(),
        public: old.is_some_and(|o| o.public) || new.is_some_and(|n| n.public),
        before: old.map(|o| o.signature.clone()),
        after: new.map(|n| n.signature.clone()),
        renamed_to: None,
        line: new.map(|n| n.start_line),
        rule: rule.id.to_string(),
        note: None,
    }
}

/// How a public declaration's change reaches users, by its language's rules for a
/// declaration compared as text ([`go::signature_rule`], [`python::signature_rule`],
/// [`rust::signature_rule`] for Rust files outside any library crate); every other change
/// is breaking.
fn signature_change(path: &str, before: &str, after: &str) -> (ChangeKind, &'static Rule) {
    let rule = if path.ends_with(".rs") {
        rust::signature_rule(before, after)
    } else if path.ends_with(".go") {
        go::signature_rule(before, after)
    } else if path.ends_with(".py") || path.ends_with(".pyi") {
        python::signature_rule(before, after)
    } else {
        None
    };
    let rule = rule.unwrap_or(rules::SIGNATURE);
    let kind = if rule.class == Class::Internal {
        ChangeKind::Body
    } else {
        ChangeKind::Signature
    };
    (kind, rule)
}

/// The declaration with its own name taken out, to recognise a rename.
fn shape(s: &Symbol) -> String {
    s.signature.replacen(&s.name, "\u{0}", 1)
}

/// Compares one file's symbols at the two revisions.
fn diff_file(path: &str, old: &Side, new: &Side, out: &mut Vec<ApiChange>) {
    fn by_name(side: &Side) -> BTreeMap<&str, (&Symbol, u64)> {
        side.symbols
            .iter()
            .map(|(s, h)| (s.qualified.as_str(), (s, *h)))
            .collect()
    }
    let (before, after) = (by_name(old), by_name(new));
    let mut removed = Vec::new();
    let mut added: Vec<&Symbol> = Vec::new();
    for (name, (o, oh)) in &before {
        match after.get(name) {
            None => removed.push(o),
            Some((n, nh)) => {
                let kind = match (o.public, n.public) {
                    (true, false) => Some((ChangeKind::Visibility, rules::VISIBILITY)),
                    (false, true) => Some((ChangeKind::Added, rules::ADDED)),
                    (true, true) if o.signature != n.signature => {
                        Some(signature_change(path, &o.signature, &n.signature))
                    }
                    _ if oh != nh => Some((ChangeKind::Body, rules::BODY)),
                    _ => None,
                };
                if let Some((kind, rule)) = kind {
                    out.push(change(kind, rule, path, Some(o), Some(n)));
                }
            }
        }
    }
    for (name, (n, _)) in &after {
        if !before.contains_key(name) {
            added.push(n);
        }
    }
    for o in removed {
        if !o.public {
            out.push(change(ChangeKind::Body, rules::BODY, path, Some(o), None));
            continue;
        }
        // A bare name (an attribute, a variable) has no shape to recognise it by.
        let shaped = !matches!(
            o.kind,
            SymbolKind::Variable | SymbolKind::Const | SymbolKind::Field
        );
        let twin = added
            .iter()
            .position(|n| shaped && n.public && n.kind == o.kind && shape(n) == shape(o));
        match twin {
            Some(i) => {
                let n = added.remove(i);
                let mut c = change(ChangeKind::Renamed, rules::RENAMED, path, Some(o), Some(n));
                c.renamed_to = Some(n.qualified.clone());
                out.push(c);
            }
            None => out.push(change(
                ChangeKind::Removed,
                rules::REMOVED,
                path,
                Some(o),
                None,
            )),
        }
    }
    for n in added {
        let (kind, rule) = if n.public {
            (ChangeKind::Added, rules::ADDED)
        } else {
            (ChangeKind::Body, rules::BODY)
        };
        out.push(change(kind, rule, path, None, Some(n)));
    }
}

/// A removal in one file and an identical addition in another is a move.
fn pair_moves(changes: &mut Vec<ApiChange>) {
    let mut i = 0;
    while i < changes.len() {
        let c = &changes[i];
        if c.change == ChangeKind::Removed {
            let twin = changes.iter().position(|a| {
                a.change == ChangeKind::Added
                    && a.path != c.path
                    && a.qualified == c.qualified
                    && a.kind == c.kind
                    && a.after == c.before
            });
            if let Some(j) = twin {
                let added = changes.remove(j);
                let i = if j < i { i - 1 } else { i };
                let moved = &mut changes[i];
                moved.change = ChangeKind::Moved;
                moved.class = rules::MOVED.class;
                moved.rule = rules::MOVED.id.to_string();
                moved.after = added.after;
                moved.line = added.line;
                moved.renamed_to = Some(format!("{}:{}", added.path, added.qualified));
            }
        }
        i += 1;
    }
}

/// What a manifest exposes to its users, field by field.
fn surface(path: &str, text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let name = path.rsplit('/').next().unwrap_or(path);
    let toml_doc = || toml::from_str::<toml::Value>(text).ok();
    let str_at = |v: &toml::Value, keys: &[&str]| -> Option<String> {
        let mut cur = v;
        for k in keys {
            cur = cur.get(k)?;
        }
        cur.as_str().map(str::to_string)
    };
    match name {
        "Cargo.toml" => {
            if let Some(doc) = toml_doc() {
                for (field, keys) in [
                    ("name", &["package", "name"][..]),
                    ("version", &["package", "version"]),
                    ("rust-version", &["package", "rust-version"]),
                ] {
                    if let Some(v) = str_at(&doc, keys) {
                        out.insert(field.to_string(), v);
                    }
                }
                out.extend(rust::features(&doc));
            }
        }
        "package.json" => {
            if let Ok(doc) = serde_json::from_str::<serde_json::Value>(text) {
                for field in ["name", "version"] {
                    if let Some(v) = doc.get(field).and_then(|v| v.as_str()) {
                        out.insert(field.to_string(), v.to_string());
                    }
                }
                if let Some(engines) = doc.get("engines").and_then(|e| e.as_object()) {
                    for (k, v) in engines {
                        out.insert(format!("engines.{k}"), v.as_str().unwrap_or("").into());
                    }
                }
                if let Some(exports) = doc.get("exports").and_then(|e| e.as_object()) {
                    for (k, target) in exports {
                        out.insert(format!("export:{k}"), target.to_string());
                    }
                }
            }
        }
        "pyproject.toml" => {
            if let Some(doc) = toml_doc() {
                for (field, keys) in [
                    ("name", &["project", "name"][..]),
                    ("version", &["project", "version"]),
                    ("requires-python", &["project", "requires-python"]),
                ] {
                    if let Some(v) = str_at(&doc, keys) {
                        out.insert(field.to_string(), v);
                    }
                }
                if let Some(extras) = doc
                    .get("project")
                    .and_then(|p| p.get("optional-dependencies"))
                    .and_then(|e| e.as_table())
                {
                    for k in extras.keys() {
                        out.insert(format!("extra:{k}"), "declared".into());
                    }
                }
            }
        }
        "go.mod" => {
            for line in text.lines().map(str::trim) {
                if let Some(m) = line.strip_prefix("module ") {
                    out.insert("name".into(), m.trim().to_string());
                } else if let Some(g) = line.strip_prefix("go ") {
                    out.insert("go".into(), g.trim().to_string());
                }
            }
        }
        _ => {}
    }
    out
}

/// A toolchain floor going up breaks users on older toolchains; going down adds some.
fn floor_rule(before: &str, after: &str) -> &'static Rule {
    let digits = |s: &str| -> Vec<u64> {
        s.trim_start_matches(|c: char| !c.is_ascii_digit())
            .split('.')
            .map_while(|p| p.parse().ok())
            .collect()
    };
    if digits(after) > digits(before) {
        rules::MANIFEST_FLOOR_RAISED
    } else {
        rules::MANIFEST_FLOOR_LOWERED
    }
}

fn manifest_changes(
    path: &str,
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
    out: &mut Vec<ManifestChange>,
) {
    let cargo = path.rsplit('/').next() == Some("Cargo.toml");
    let fields: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for field in fields {
        let (b, a) = (before.get(field), after.get(field));
        if b == a {
            continue;
        }
        let rule = match (field.as_str(), b, a) {
            ("version", _, _) => rules::MANIFEST_VERSION,
            ("name", _, _) => rules::MANIFEST_NAME,
            (f, Some(b), Some(a))
                if f == "rust-version"
                    || f == "go"
                    || f == "requires-python"
                    || f.starts_with("engines.") =>
            {
                floor_rule(b, a)
            }
            (f, b, a) if cargo && f.starts_with("feature:") => {
                rust::feature_rule(b.map(String::as_str), a.map(String::as_str))
            }
            (_, Some(_), None) => rules::MANIFEST_FIELD_REMOVED,
            (_, None, Some(_)) => rules::MANIFEST_FIELD_ADDED,
            _ => rules::MANIFEST_FIELD_CHANGED,
        };
        out.push(ManifestChange {
            path: path.to_string(),
            field: field.clone(),
            before: b.cloned(),
            after: a.cloned(),
            class: rule.class,
            rule: rule.id.to_string(),
        });
    }
}

/// The packages the head's manifests publish (those that name themselves).
fn packages(manifests: &[Manifest]) -> Vec<Package> {
    let mut out: Vec<Package> = manifests
        .iter()
        .filter_map(|m| {
            Some(Package {
                ecosystem: m.ecosystem,
                name: m.package.clone()?,
                version: m.version.clone(),
                manifest: m.path.clone(),
            })
        })
        .collect();
    out.sort();
    out.dedup_by(|a, b| a.ecosystem == b.ecosystem && a.name == b.name);
    out
}

/// What the `__init__` modules of a revision re-export (read only when a Python file
/// changed).
/// A Python method that left a class for one of the class's bases (at the head) is still
/// there for callers: `python/method-moved-to-base`, not removed or renamed. The head's
/// classes are read only when a method left a class.
fn python_methods_moved_to_bases(
    graph: &KnowledgeGraph,
    repo: &Repository,
    new: &TreeFiles,
    changes: &mut [ApiChange],
) {
    let python = |p: &str| p.ends_with(".py") || p.ends_with(".pyi");
    let left = |c: &ApiChange| {
        python(&c.path)
            && c.kind == SymbolKind::Method
            && matches!(c.change, ChangeKind::Removed | ChangeKind::Renamed)
    };
    if !changes.iter().any(left) {
        return;
    }
    // Every class of the head: its bases, and its methods.
    let mut bases: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut methods: BTreeSet<String> = BTreeSet::new();
    for (_, (id, lang)) in new.sources.iter().filter(|(p, _)| python(p)) {
        let Some(facts) = blob_text(repo, *id).and_then(|t| graph.facts_of(*lang, &t).ok()) else {
            continue;
        };
        for s in facts.symbols {
            match s.kind {
                SymbolKind::Class => {
                    bases
                        .entry(s.qualified.clone())
                        .or_default()
                        .extend(python::class_bases(&s.signature));
                }
                SymbolKind::Method => {
                    methods.insert(s.qualified);
                }
                _ => {}
            }
        }
    }
    for c in changes.iter_mut().filter(|c| left(c)) {
        let Some((class, method)) = c.qualified.rsplit_once('.') else {
            continue;
        };
        let inherited = bases.get(class).into_iter().flatten().find(|base| {
            let base = base.rsplit('.').next().unwrap_or(base);
            methods.contains(&format!("{base}.{method}"))
        });
        if let Some(base) = inherited {
            c.change = ChangeKind::Moved;
            c.class = python::METHOD_MOVED_TO_BASE.class;
            c.rule = python::METHOD_MOVED_TO_BASE.id.to_string();
            c.note = Some(format!("`{class}` inherits `{method}` from `{base}`"));
        }
    }
}

fn python_inits(
    graph: &KnowledgeGraph,
    repo: &Repository,
    files: &TreeFiles,
) -> python_modules::Reexports {
    let inits: Vec<(&String, crate::facts::FileFacts)> = files
        .sources
        .iter()
        .filter(|(p, _)| p.ends_with("__init__.py") || p.ends_with("__init__.pyi"))
        .filter_map(|(p, (id, lang))| {
            let text = blob_text(repo, *id)?;
            Some((p, graph.facts_of(*lang, &text).ok()?))
        })
        .collect();
    python_modules::Reexports::of(inits.iter().map(|(p, f)| (p.as_str(), f)))
}

/// A Python file's symbols as a dependent sees them: in a private module, only the
/// names an `__init__` re-exports.
fn python_visibility(path: &str, side: &mut Side, lends: &python_modules::Reexports) {
    let private = python_modules::private_module(path);
    for (symbol, _) in &mut side.symbols {
        if private && symbol.public {
            let top = symbol.qualified.split('.').next().unwrap_or("");
            symbol.public = lends.lends(path, top);
        }
    }
}

fn commit_tree(repo: &Repository, commit: Oid) -> Result<git2::Tree<'_>, ApiError> {
    repo.find_commit(commit).and_then(|c| c.tree()).map_err(git)
}

/// The text of the file at `path` in `tree` (any file of the tree: a module's file may
/// lie where the source filter does not look).
fn text_at(repo: &Repository, tree: &git2::Tree<'_>, path: &str) -> Option<String> {
    let entry = tree.get_path(std::path::Path::new(path)).ok()?;
    blob_text(repo, entry.id())
}

/// The manifests called `name` of a revision, with their text.
fn manifest_texts(
    repo: &Repository,
    files: &TreeFiles,
    tree: &git2::Tree<'_>,
    name: &str,
) -> Vec<(String, String)> {
    files
        .manifests
        .keys()
        .filter(|p| p.rsplit('/').next() == Some(name))
        .filter_map(|p| Some((p.clone(), text_at(repo, tree, p)?)))
        .collect()
}

/// The id of the directory `dir` of `tree` (the tree itself for ""): equal ids, nothing
/// under it changed.
fn subtree(tree: &git2::Tree<'_>, dir: &str) -> Option<Oid> {
    if dir.is_empty() {
        Some(tree.id())
    } else {
        tree.get_path(std::path::Path::new(dir))
            .ok()
            .map(|e| e.id())
    }
}

/// A package a whole-package model answers for: a Rust crate ([`rust`]), an npm package
/// ([`typescript`]).
trait Modelled: Clone {
    /// Its directory, "" at the root.
    fn dir(&self) -> &str;
    /// Whether the model of one of `packages` answers for the file at `path` (the
    /// file-by-file diff then leaves it alone).
    fn covers(packages: &[Self], path: &str) -> bool;
    /// Compares the package at two revisions (either side may lack it).
    fn diff(
        old: Option<&Self>,
        new: Option<&Self>,
        read_old: &dyn Fn(&str) -> Option<String>,
        read_new: &dyn Fn(&str) -> Option<String>,
        out: &mut Vec<ApiChange>,
    );
}

impl Modelled for rust::Crate {
    fn dir(&self) -> &str {
        &self.dir
    }

    fn covers(crates: &[Self], path: &str) -> bool {
        path.ends_with(".rs") && rust::crate_of(crates, path).is_some()
    }

    fn diff(
        old: Option<&Self>,
        new: Option<&Self>,
        read_old: &dyn Fn(&str) -> Option<String>,
        read_new: &dyn Fn(&str) -> Option<String>,
        out: &mut Vec<ApiChange>,
    ) {
        let (old_root, new_root) = (
            old.and_then(|c| c.root.as_deref()),
            new.and_then(|c| c.root.as_deref()),
        );
        rust::diff_crate(old_root, new_root, read_old, read_new, out);
    }
}

impl Modelled for typescript::Package {
    fn dir(&self) -> &str {
        &self.dir
    }

    /// A package.json without entry points leaves its files to the file-level diff.
    fn covers(packages: &[Self], path: &str) -> bool {
        typescript::is_source(path)
            && typescript::package_of(packages, path).is_some_and(|p| !p.entries.is_empty())
    }

    fn diff(
        old: Option<&Self>,
        new: Option<&Self>,
        read_old: &dyn Fn(&str) -> Option<String>,
        read_new: &dyn Fn(&str) -> Option<String>,
        out: &mut Vec<ApiChange>,
    ) {
        typescript::diff_package(old, new, read_old, read_new, out);
    }
}

/// One kind of modelled package at both revisions.
struct Packages<P> {
    old: Vec<P>,
    new: Vec<P>,
}

impl<P: Modelled> Packages<P> {
    /// The packages `find` reads from each revision's files and tree.
    fn of(
        old: &TreeFiles,
        old_tree: Option<&git2::Tree<'_>>,
        new: &TreeFiles,
        new_tree: &git2::Tree<'_>,
        find: impl Fn(&TreeFiles, &git2::Tree<'_>) -> Vec<P>,
    ) -> Packages<P> {
        Packages {
            old: old_tree.map(|t| find(old, t)).unwrap_or_default(),
            new: find(new, new_tree),
        }
    }

    /// Whether a file's changes are the business of a package's model.
    fn covers(&self, path: &str) -> bool {
        P::covers(&self.old, path) || P::covers(&self.new, path)
    }

    /// Diffs every package whose directory differs between the trees.
    fn diff(
        &self,
        repo: &Repository,
        old_tree: Option<&git2::Tree<'_>>,
        new_tree: &git2::Tree<'_>,
        out: &mut Vec<ApiChange>,
    ) {
        let dirs: BTreeSet<&str> = self.old.iter().chain(&self.new).map(P::dir).collect();
        for dir in dirs {
            if old_tree.and_then(|t| subtree(t, dir)) == subtree(new_tree, dir) {
                continue;
            }
            let find = |list: &[P]| list.iter().find(|p| p.dir() == dir).cloned();
            let (old, new) = (find(&self.old), find(&self.new));
            let read_old = |p: &str| old_tree.and_then(|t| text_at(repo, t, p));
            let read_new = |p: &str| text_at(repo, new_tree, p);
            P::diff(old.as_ref(), new.as_ref(), &read_old, &read_new, out);
        }
    }
}

/// Diffs the public API of `graph`'s repository between `base` and `head`.
pub fn diff(
    graph: &KnowledgeGraph,
    repo: &Repository,
    base: Option<Oid>,
    head: Oid,
) -> Result<ApiDiff, ApiError> {
    let filter = SourceFilter::new(&graph.scan_options()).map_err(crate::GraphError::from)?;
    let public = PublicConfig::new(&graph.config().public_config)?;
    let old = match base {
        Some(base) => tree_files(repo, base, &filter, &public)?,
        None => TreeFiles::default(),
    };
    let new = tree_files(repo, head, &filter, &public)?;
    let mut changes = Vec::new();
    let old_tree = base.map(|b| commit_tree(repo, b)).transpose()?;
    let new_tree = commit_tree(repo, head)?;
    let crates = Packages::of(&old, old_tree.as_ref(), &new, &new_tree, |files, tree| {
        let sources: BTreeSet<String> = files.sources.keys().cloned().collect();
        rust::crates(&manifest_texts(repo, files, tree, "Cargo.toml"), &sources)
    });
    crates.diff(repo, old_tree.as_ref(), &new_tree, &mut changes);
    let npm = Packages::of(&old, old_tree.as_ref(), &new, &new_tree, |files, tree| {
        let exists = |p: &str| tree.get_path(std::path::Path::new(p)).is_ok();
        typescript::packages(&manifest_texts(repo, files, tree, "package.json"), &exists)
    });
    npm.diff(repo, old_tree.as_ref(), &new_tree, &mut changes);
    let paths: BTreeSet<&String> = old.sources.keys().chain(new.sources.keys()).collect();
    let mut files_changed = 0;
    let empty = Side::default();
    let mut python_reexports = None;
    for path in paths {
        let (o, n) = (old.sources.get(path), new.sources.get(path));
        if o.map(|x| x.0) == n.map(|x| x.0) {
            continue;
        }
        files_changed += 1;
        if crates.covers(path) || npm.covers(path) {
            continue;
        }
        let mut o = o.map(|(id, l)| side(graph, repo, *id, *l)).transpose()?;
        let mut n = n.map(|(id, l)| side(graph, repo, *id, *l)).transpose()?;
        if !exposed(path) {
            for side in [&mut o, &mut n].into_iter().flatten() {
                for (symbol, _) in &mut side.symbols {
                    symbol.public = false;
                }
            }
        } else if path.ends_with(".py") || path.ends_with(".pyi") {
            let (old_lends, new_lends) = python_reexports.get_or_insert_with(|| {
                (
                    python_inits(graph, repo, &old),
                    python_inits(graph, repo, &new),
                )
            });
            for (side, lends) in [(&mut o, &*old_lends), (&mut n, &*new_lends)] {
                if let Some(side) = side {
                    python_visibility(path, side, lends);
                }
            }
        }
        let first = changes.len();
        diff_file(
            path,
            o.as_ref().unwrap_or(&empty),
            n.as_ref().unwrap_or(&empty),
            &mut changes,
        );
        if let Some(n) = &n {
            python::reexported_now(path, &n.imported, &mut changes[first..]);
        }
    }
    pair_moves(&mut changes);
    python_methods_moved_to_bases(graph, repo, &new, &mut changes);
    changes.sort_by(|a, b| {
        (a.class, &a.path, a.line, &a.qualified).cmp(&(b.class, &b.path, b.line, &b.qualified))
    });
    let mut manifest_out = Vec::new();
    let mut head_manifests = Vec::new();
    let paths: BTreeSet<&String> = old.manifests.keys().chain(new.manifests.keys()).collect();
    for path in paths {
        let text = |side: &TreeFiles| side.manifests.get(path).and_then(|id| blob_text(repo, *id));
        let (b, a) = (text(&old), text(&new));
        if let Some(a) = &a {
            head_manifests.extend(deps::parse_manifest_text(path, a));
        }
        if b != a {
            manifest_changes(
                path,
                &b.map(|t| surface(path, &t)).unwrap_or_default(),
                &a.map(|t| surface(path, &t)).unwrap_or_default(),
                &mut manifest_out,
            );
        }
    }
    let mut config_changes = config::diff(graph, repo, &old.configs, &new.configs)?;
    config_changes.sort_by(|a, b| {
        (a.class, &a.path, a.line, &a.key).cmp(&(b.class, &b.path, b.line, &b.key))
    });
    Ok(ApiDiff {
        base_commit: base.map(|b| b.to_string()),
        head_commit: head.to_string(),
        packages: packages(&head_manifests),
        changes,
        manifest_changes: manifest_out,
        config_changes,
        files_changed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_signature_changes_follow_the_semver_rules() {
        let class =
            |before: &str, after: &str| signature_change("src/lib.rs", before, after).1.class;
        // Same item, other spelling.
        assert_eq!(
            class(
                "pub fn f(x: &dyn core::fmt::Debug)",
                "pub fn f(x: &dyn std::fmt::Debug)"
            ),
            Class::Internal
        );
        assert_eq!(
            class(
                "pub fn v() -> alloc::vec::Vec<u8>",
                "pub fn v() -> std::vec::Vec<u8>"
            ),
            Class::Internal
        );
        // A crate or module merely ending in "core" is not core.
        assert_eq!(
            class("pub fn g(x: mycore::T)", "pub fn g(x: mystd::T)"),
            Class::Breaking
        );
        // Minor changes.
        assert_eq!(
            class("pub fn n() -> u8", "pub const fn n() -> u8"),
            Class::Additive
        );
        assert_eq!(
            class("pub unsafe fn r(p: *const u8)", "pub fn r(p: *const u8)"),
            Class::Additive
        );
        // Major ones.
        assert_eq!(
            class("pub const fn n() -> u8", "pub fn n() -> u8"),
            Class::Breaking
        );
        assert_eq!(
            class("pub fn r(p: *const u8)", "pub unsafe fn r(p: *const u8)"),
            Class::Breaking
        );
        assert_eq!(
            class("pub fn n() -> u8", "pub const fn n() -> u16"),
            Class::Breaking
        );
        // Other languages keep the plain rule.
        assert_eq!(
            signature_change("m.go", "func F(x core.T)", "func F(x std.T)")
                .1
                .class,
            Class::Breaking
        );
    }

    #[test]
    fn go_struct_fields_added_are_additive_and_interface_methods_are_not() {
        let class = |before: &str, after: &str| signature_change("p.go", before, after).1.class;
        let s = "type S struct { A int; B string }";
        assert_eq!(
            class(s, "type S struct { A int; B string; C bool }"),
            Class::Additive
        );
        assert_eq!(
            class(s, "type S struct { A int }"),
            Class::Breaking,
            "a field removed"
        );
        assert_eq!(
            class(s, "type S struct { A int64; B string }"),
            Class::Breaking
        );
        assert_eq!(
            class("type I interface { M() }", "type I interface { M(); N() }"),
            Class::Breaking,
            "implementations of I no longer satisfy it"
        );
    }
}
