//! API DIFF: what changed in a repository's public surface between two commits — symbols
//! removed, renamed, re-signed, hidden or added, bodies changed behind an unchanged
//! signature, and manifest fields (package name, version, features, toolchain floors) —
//! each classified breaking, additive or internal.

mod python;

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
    }
}

#[derive(Default)]
struct TreeFiles {
    sources: BTreeMap<String, (Oid, Language)>,
    manifests: BTreeMap<String, Oid>,
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
}

fn git(e: git2::Error) -> ApiError {
    ApiError::Git(e.message().to_string())
}

fn tree_files(
    repo: &Repository,
    commit: Oid,
    filter: &SourceFilter,
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
        if let Some(lang) = filter.tracked_language(&path) {
            files.sources.insert(path, (entry.id(), lang));
        }
        TreeWalkResult::Ok
    })
    .map_err(git)?;
    // Manifests of skipped directories (vendored code, node_modules) are not ours.
    files
        .manifests
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
    Ok(Side { symbols })
}

fn owner_of(qualified: &str) -> Option<String> {
    let cut = qualified.rfind("::").or_else(|| qualified.rfind('.'))?;
    Some(qualified[..cut].to_string())
}

fn change(
    change: ChangeKind,
    class: Class,
    path: &str,
    old: Option<&Symbol>,
    new: Option<&Symbol>,
) -> ApiChange {
    let s = new.or(old).expect("a change has a symbol on one side");
    let named = old.unwrap_or(s);
    ApiChange {
        change,
        class,
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
    }
}

/// How a public declaration's change reaches users (see [`rust_signature_change`] and
/// [`python::calls_still_accepted`]); every other language's change is breaking.
fn signature_change(path: &str, before: &str, after: &str) -> (ChangeKind, Class) {
    if path.ends_with(".rs") {
        return rust_signature_change(before, after);
    }
    if path.ends_with(".go") && go_fields_only_added(before, after) {
        return (ChangeKind::Signature, Class::Additive);
    }
    if path.ends_with(".py") || path.ends_with(".pyi") {
        if let Some(accepted) = python::calls_still_accepted(before, after) {
            let class = if accepted {
                Class::Additive
            } else {
                Class::Breaking
            };
            return (ChangeKind::Signature, class);
        }
    }
    (ChangeKind::Signature, Class::Breaking)
}

/// How a Rust declaration's change reaches users. Rust's rules (the Cargo book's
/// SemVer chapter) make a few textual changes compatible: a path spelt through `core`
/// or `alloc` names the same item as through `std`; making a function `const`, or no
/// longer `unsafe`, breaks no caller. Every other change is breaking.
fn rust_signature_change(before: &str, after: &str) -> (ChangeKind, Class) {
    let (before, after) = (std_paths(before), std_paths(after));
    if before == after {
        return (ChangeKind::Body, Class::Internal);
    }
    let loosened = |from: &str, to: &str, qualifier: &str| {
        from.replacen(&format!("{qualifier} fn "), "fn ", 1)
            == to.replacen(&format!("{qualifier} fn "), "fn ", 1)
    };
    let became_const = !before.contains("const fn ")
        && after.contains("const fn ")
        && loosened(&before, &after, "const");
    let lost_unsafe = before.contains("unsafe fn ")
        && !after.contains("unsafe fn ")
        && loosened(&before, &after, "unsafe");
    if became_const || lost_unsafe {
        return (ChangeKind::Signature, Class::Additive);
    }
    (ChangeKind::Signature, Class::Breaking)
}

/// Whether a Go struct only gained fields (apidiff: compatible; an interface that gains
/// a method is not, since its implementations no longer satisfy it).
fn go_fields_only_added(before: &str, after: &str) -> bool {
    let fields = |signature: &str| -> Option<(String, Vec<String>)> {
        let (head, rest) = signature.split_once(" struct { ")?;
        let body = rest.strip_suffix(" }")?;
        let fields = body
            .split("; ")
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect();
        Some((head.to_string(), fields))
    };
    match (fields(before), fields(after)) {
        (Some((old_head, old)), Some((new_head, new))) => {
            old_head == new_head && old.iter().all(|f| new.contains(f))
        }
        _ => false,
    }
}

/// `core::…` and `alloc::…` paths spelt as the `std::…` that re-exports them.
fn std_paths(signature: &str) -> String {
    let mut out = String::with_capacity(signature.len());
    let mut rest = signature;
    while let Some(i) = rest.find(['c', 'a']) {
        let (head, tail) = rest.split_at(i);
        out.push_str(head);
        let boundary = !out
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
        let crate_name = ["core::", "alloc::"]
            .into_iter()
            .find(|p| tail.starts_with(p));
        match crate_name {
            Some(name) if boundary => {
                out.push_str("std::");
                rest = &tail[name.len()..];
            }
            _ => {
                out.push_str(&tail[..1]);
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
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
                    (true, false) => Some((ChangeKind::Visibility, Class::Breaking)),
                    (false, true) => Some((ChangeKind::Added, Class::Additive)),
                    (true, true) if o.signature != n.signature => {
                        Some(signature_change(path, &o.signature, &n.signature))
                    }
                    _ if oh != nh => Some((ChangeKind::Body, Class::Internal)),
                    _ => None,
                };
                if let Some((kind, class)) = kind {
                    out.push(change(kind, class, path, Some(o), Some(n)));
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
            out.push(change(
                ChangeKind::Body,
                Class::Internal,
                path,
                Some(o),
                None,
            ));
            continue;
        }
        let twin = added
            .iter()
            .position(|n| n.public && n.kind == o.kind && shape(n) == shape(o));
        match twin {
            Some(i) => {
                let n = added.remove(i);
                let mut c = change(ChangeKind::Renamed, Class::Breaking, path, Some(o), Some(n));
                c.renamed_to = Some(n.qualified.clone());
                out.push(c);
            }
            None => out.push(change(
                ChangeKind::Removed,
                Class::Breaking,
                path,
                Some(o),
                None,
            )),
        }
    }
    for n in added {
        let (kind, class) = if n.public {
            (ChangeKind::Added, Class::Additive)
        } else {
            (ChangeKind::Body, Class::Internal)
        };
        out.push(change(kind, class, path, None, Some(n)));
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
                moved.class = Class::Internal;
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
                if let Some(features) = doc.get("features").and_then(|f| f.as_table()) {
                    for f in features.keys() {
                        out.insert(format!("feature:{f}"), "declared".into());
                    }
                }
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
                    for k in exports.keys() {
                        out.insert(format!("export:{k}"), "declared".into());
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
fn floor_class(before: &str, after: &str) -> Class {
    let digits = |s: &str| -> Vec<u64> {
        s.trim_start_matches(|c: char| !c.is_ascii_digit())
            .split('.')
            .map_while(|p| p.parse().ok())
            .collect()
    };
    if digits(after) > digits(before) {
        Class::Breaking
    } else {
        Class::Additive
    }
}

fn manifest_changes(
    path: &str,
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
    out: &mut Vec<ManifestChange>,
) {
    let fields: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for field in fields {
        let (b, a) = (before.get(field), after.get(field));
        if b == a {
            continue;
        }
        let class = match (field.as_str(), b, a) {
            ("version", _, _) => Class::Internal,
            ("name", _, _) => Class::Breaking,
            (f, Some(b), Some(a))
                if f == "rust-version"
                    || f == "go"
                    || f == "requires-python"
                    || f.starts_with("engines.") =>
            {
                floor_class(b, a)
            }
            (_, Some(_), None) => Class::Breaking,
            (_, None, Some(_)) => Class::Additive,
            _ => Class::Breaking,
        };
        out.push(ManifestChange {
            path: path.to_string(),
            field: field.clone(),
            before: b.cloned(),
            after: a.cloned(),
            class,
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

/// Diffs the public API of `graph`'s repository between `base` and `head`.
pub fn diff(
    graph: &KnowledgeGraph,
    repo: &Repository,
    base: Option<Oid>,
    head: Oid,
) -> Result<ApiDiff, ApiError> {
    let filter = SourceFilter::new(&graph.scan_options()).map_err(crate::GraphError::from)?;
    let old = match base {
        Some(base) => tree_files(repo, base, &filter)?,
        None => TreeFiles::default(),
    };
    let new = tree_files(repo, head, &filter)?;
    let paths: BTreeSet<&String> = old.sources.keys().chain(new.sources.keys()).collect();
    let mut changes = Vec::new();
    let mut files_changed = 0;
    let empty = Side::default();
    for path in paths {
        let (o, n) = (old.sources.get(path), new.sources.get(path));
        if o.map(|x| x.0) == n.map(|x| x.0) {
            continue;
        }
        files_changed += 1;
        let o = o.map(|(id, l)| side(graph, repo, *id, *l)).transpose()?;
        let n = n.map(|(id, l)| side(graph, repo, *id, *l)).transpose()?;
        diff_file(
            path,
            o.as_ref().unwrap_or(&empty),
            n.as_ref().unwrap_or(&empty),
            &mut changes,
        );
    }
    pair_moves(&mut changes);
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
    Ok(ApiDiff {
        base_commit: base.map(|b| b.to_string()),
        head_commit: head.to_string(),
        packages: packages(&head_manifests),
        changes,
        manifest_changes: manifest_out,
        files_changed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_signature_changes_follow_the_semver_rules() {
        let class = |before: &str, after: &str| signature_change("src/lib.rs", before, after).1;
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
            signature_change("m.go", "func F(x core.T)", "func F(x std.T)").1,
            Class::Breaking
        );
    }

    #[test]
    fn go_struct_fields_added_are_additive_and_interface_methods_are_not() {
        let class = |before: &str, after: &str| signature_change("p.go", before, after).1;
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
