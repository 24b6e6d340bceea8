//! TYPESCRIPT AND JAVASCRIPT API: each npm package of a tree (a `package.json` with a
//! `name`) modelled whole — the names a dependent imports from its entry points
//! ([`surface`], read by [`items`]) — and its changes classified by rules that follow
//! the "Semantic Versioning for TypeScript Types" specification's notion of breaking
//! (*widen what you accept, narrow what you provide*), with a declaration file's
//! declarations taken as the API where the package ships one ([`classify`]).
//!
//! Entry points come from `package.json`: `exports` (a string, conditions such as
//! `types`/`import`/`require`/`default`, subpaths such as `./client`), else
//! `types`/`typings`, else `module`/`main`, else `index.{ts,tsx,d.ts,js,…}`. A `.js`
//! target with a `.d.ts` beside it is read as the `.d.ts`; a target under a build
//! directory the tree does not hold (`dist/`, `lib/`, `build/`, `out/`) is looked for
//! under `src/` as TypeScript. Subpath patterns (`./*`) are not expanded. Entry points
//! added or removed under `exports` are the manifest rules' business (`export:PATH`).

mod classify;
mod items;
pub(crate) mod surface;
mod types;

use super::rules::{rules, Rule};
use super::{ApiChange, ChangeKind};
use crate::facts::SymbolKind;
use std::collections::BTreeSet;

rules! {
    RULES:
    EXPORT_REMOVED = "typescript/export-removed", Breaking, "An exported name (or a namespace's export) is gone from an entry point: imports of it fail.";
    EXPORT_ADDED = "typescript/export-added", Additive, "An entry point exports a new name.";
    EXPORT_RENAMED = "typescript/export-renamed", Breaking, "An export is gone and the same declaration (or one of the same shape) is exported under another name (`export { f as g }`).";
    EXPORT_STAR_REMOVED = "typescript/export-star-removed", Breaking, "An `export * from` statement is gone, and the names it re-exported with it.";
    EXPORT_BECAME_TYPE_ONLY = "typescript/export-became-type-only", Breaking, "A class, enum, function or variable is now exported with `export type` (or through `import type`): only its type can be imported, value uses fail.";
    KIND_CHANGED = "typescript/kind-changed", Breaking, "An export or member is another kind of thing (a class became a function, a property a method).";
    DEFAULT_EXPORT_KIND_CHANGED = "typescript/default-export-kind-changed", Breaking, "The default export (or `export =`) is another kind of thing than before.";
    INTERFACE_ALIAS_SWAP = "typescript/interface-alias-swap", Undetermined, "An interface became a type alias or back: uses as a type compile, declaration merging and `implements` of a non-object type do not.";
    REEXPORT_TARGET_CHANGED = "typescript/reexport-target-changed", Undetermined, "An export re-exports another package's item than before (or its own declaration instead).";
    TYPES_ENTRY_MOVED = "typescript/types-entry-moved", Undetermined, "package.json `types`/`typings` points at another file: the declarations are compared, but tools and deep imports of the old file may break.";
    REQUIRED_PARAMETER_ADDED = "typescript/required-parameter-added", Breaking, "A function or method gained a required parameter: calls without it fail.";
    OPTIONAL_PARAMETER_ADDED = "typescript/optional-parameter-added", Additive, "A function or method gained an optional parameter (`x?`, or one with a default).";
    REST_PARAMETER_ADDED = "typescript/rest-parameter-added", Additive, "A function or method gained a rest parameter, or a parameter became one.";
    PARAMETER_REMOVED = "typescript/parameter-removed", Breaking, "A parameter is gone (or a rest parameter is no longer one): TypeScript rejects the extra argument; JavaScript ignores it.";
    PARAMETER_BECAME_REQUIRED = "typescript/parameter-became-required", Breaking, "An optional parameter (or one with a default) became required.";
    PARAMETER_BECAME_OPTIONAL = "typescript/parameter-became-optional", Additive, "A required parameter became optional or gained a default.";
    PARAMETER_UNION_WIDENED = "typescript/parameter-union-widened", Additive, "A parameter's plain union (literals, predefined types, names) gained members: it accepts more.";
    PARAMETER_UNION_NARROWED = "typescript/parameter-union-narrowed", Breaking, "A parameter's plain union lost members: calls passing them fail.";
    PARAMETER_TYPE_CHANGED = "typescript/parameter-type-changed", Breaking, "A parameter's type changed between unrelated literal or predefined types.";
    RETURN_UNION_WIDENED = "typescript/return-union-widened", Breaking, "A return type (or a type users only read: a readonly class property, an exported variable) gained union members: readers must handle them.";
    RETURN_UNION_NARROWED = "typescript/return-union-narrowed", Additive, "A return type (or a read-only type) lost union members: it provides less.";
    RETURN_TYPE_CHANGED = "typescript/return-type-changed", Breaking, "A return type (or a read-only type) changed between unrelated literal or predefined types.";
    PROPERTY_TYPE_CHANGED = "typescript/property-type-changed", Breaking, "The type of a property that is both read and written or implemented (an interface's, a mutable class property, an index signature) changed.";
    TYPE_TEXT_CHANGED = "typescript/type-text-changed", Undetermined, "A type's text changed in a way the text cannot decide (names that may be aliases, object, function or generic types, an annotation added or dropped).";
    INFERRED_TYPE_CHANGED = "typescript/inferred-type-changed", Undetermined, "An export of a TypeScript source without a type annotation changed its body or initializer: the inferred type may have changed.";
    OVERLOAD_ADDED = "typescript/overload-added", Additive, "A function or method gained an overload signature.";
    OVERLOAD_REMOVED = "typescript/overload-removed", Breaking, "An overload signature is gone (or changed while the count changed): calls matching it fail.";
    TYPE_PARAMETERS_CHANGED = "typescript/type-parameters-changed", Undetermined, "Type parameters changed: uses that name type arguments break unless the new ones have defaults; inference may differ.";
    INTERFACE_REQUIRED_MEMBER_ADDED = "typescript/interface-required-member-added", Breaking, "An interface gained a required property, method, call or index signature: object literals and implementations lack it.";
    INTERFACE_OPTIONAL_MEMBER_ADDED = "typescript/interface-optional-member-added", Additive, "An interface gained an optional member.";
    INTERFACE_MEMBER_REMOVED = "typescript/interface-member-removed", Breaking, "An interface member is gone: readers of it fail (and object literals with it are excess-property errors).";
    PROPERTY_BECAME_REQUIRED = "typescript/property-became-required", Breaking, "An optional property became required: object literals and implementations without it fail.";
    PROPERTY_BECAME_OPTIONAL = "typescript/property-became-optional", Breaking, "A required property became optional: readers now get `T | undefined` (breaking under strictNullChecks).";
    READONLY_ADDED = "typescript/readonly-added", Breaking, "A property became `readonly` (or lost its setter): assignments fail.";
    READONLY_REMOVED = "typescript/readonly-removed", Additive, "A property is no longer `readonly`.";
    CLASS_MEMBER_ADDED = "typescript/class-member-added", Additive, "A class gained a public or protected member (not abstract).";
    CLASS_MEMBER_REMOVED = "typescript/class-member-removed", Breaking, "A public or protected class member is gone or became private.";
    ABSTRACT_MEMBER_ADDED = "typescript/abstract-member-added", Breaking, "A class gained an abstract member, or a member became abstract: subclasses must implement it.";
    CLASS_MADE_ABSTRACT = "typescript/class-made-abstract", Breaking, "A class became abstract: `new` of it fails.";
    MEMBER_VISIBILITY_NARROWED = "typescript/member-visibility-narrowed", Breaking, "A public member became protected: only subclasses may use it.";
    MEMBER_VISIBILITY_WIDENED = "typescript/member-visibility-widened", Additive, "A protected member became public.";
    HERITAGE_CHANGED = "typescript/heritage-changed", Undetermined, "A class's `extends`/`implements` or an interface's `extends` changed: inherited members and assignability need the compiler.";
    ALIAS_UNION_WIDENED = "typescript/alias-union-widened", Undetermined, "A type alias's plain union gained members: additive where it types inputs, breaking where users read it or switch over it exhaustively.";
    ALIAS_UNION_NARROWED = "typescript/alias-union-narrowed", Breaking, "A type alias's plain union lost members: values of them no longer type-check, comparisons with them are errors.";
    ENUM_MEMBER_ADDED = "typescript/enum-member-added", Additive, "An enum gained a member (possibly breaking: an exhaustive switch no longer is; TypeScript does not require one).";
    ENUM_MEMBER_REMOVED = "typescript/enum-member-removed", Breaking, "An enum member is gone.";
    ENUM_VALUE_CHANGED = "typescript/enum-value-changed", Breaking, "An enum member's value changed (explicitly, or because members before it moved): stored and compared values differ.";
    DECLARATION_CHANGED = "typescript/declaration-changed", Undetermined, "A declaration changed in a way no finer rule decides (`const enum` ↔ `enum`).";
}

/// Build directories a `main`/`types` target may point into without the tree holding
/// them (compiled output): their sources are looked for under `src/`.
const BUILD_DIRS: [&str; 6] = ["dist", "lib", "build", "out", "esm", "cjs"];

/// Most entry points read from one `exports` map.
const MAX_ENTRIES: usize = 256;

/// An npm package of a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Package {
    /// Its directory (the manifest's), "" at the root.
    pub dir: String,
    /// Its manifest.
    pub manifest: String,
    /// Entry points: subpath (`.`, `./client`) and the file read for it.
    pub entries: Vec<(String, String)>,
    /// Subpaths an `exports` object lists.
    pub listed: BTreeSet<String>,
    /// `types` (or `typings`), as written.
    pub types: Option<String>,
}

fn join(dir: &str, path: &str) -> Option<String> {
    let path = path.trim_start_matches("./");
    let joined = if dir.is_empty() {
        path.to_string()
    } else {
        format!("{dir}/{path}")
    };
    surface::normalise(&joined)
}

/// The file an entry target (`./dist/index.js`) is read as, if the tree has one.
fn resolve_target(dir: &str, target: &str, exists: &dyn Fn(&str) -> bool) -> Option<String> {
    if target.contains('*') {
        return None;
    }
    let path = join(dir, target)?;
    let mut tries: Vec<String> = Vec::new();
    for (js, dts) in [(".js", ".d.ts"), (".mjs", ".d.mts"), (".cjs", ".d.cts")] {
        if let Some(stem) = path.strip_suffix(js) {
            tries.push(format!("{stem}{dts}"));
        }
    }
    tries.extend(surface::candidates(&path, true));
    // Compiled output the tree does not hold: its TypeScript sources under src/.
    let rel = path
        .strip_prefix(dir)
        .map_or(path.as_str(), |r| r.trim_start_matches('/'));
    if let Some((first, rest)) = rel.split_once('/') {
        if BUILD_DIRS.contains(&first) {
            let stem = [".d.ts", ".d.mts", ".d.cts", ".js", ".mjs", ".cjs", ".ts"]
                .iter()
                .find_map(|e| rest.strip_suffix(e))
                .unwrap_or(rest);
            if let Some(src) = join(dir, &format!("src/{stem}")) {
                tries.extend(surface::candidates(&src, false));
            }
        }
    }
    tries.into_iter().find(|p| exists(p))
}

/// The file a conditional target reads: `types` first, then the other conditions.
fn conditional(
    dir: &str,
    value: &serde_json::Value,
    exists: &dyn Fn(&str) -> bool,
    depth: u32,
) -> Option<String> {
    if depth > 8 {
        return None;
    }
    match value {
        serde_json::Value::String(s) => resolve_target(dir, s, exists),
        serde_json::Value::Array(list) => list
            .iter()
            .take(MAX_ENTRIES)
            .find_map(|v| conditional(dir, v, exists, depth + 1)),
        serde_json::Value::Object(map) => {
            let preferred = ["types", "import", "module", "require", "node", "default"];
            preferred
                .iter()
                .filter_map(|k| map.get(*k))
                .chain(
                    map.iter()
                        .filter(|(k, _)| !preferred.contains(&k.as_str()))
                        .map(|(_, v)| v),
                )
                .find_map(|v| conditional(dir, v, exists, depth + 1))
        }
        _ => None,
    }
}

/// The package a manifest declares, if it names one.
fn package(path: &str, text: &str, exists: &dyn Fn(&str) -> bool) -> Option<Package> {
    let doc: serde_json::Value = serde_json::from_str(text).ok()?;
    doc.get("name")?.as_str()?;
    let dir = path
        .strip_suffix("package.json")
        .unwrap_or("")
        .trim_end_matches('/')
        .to_string();
    let field = |k: &str| doc.get(k).and_then(|v| v.as_str());
    let types = field("types")
        .or_else(|| field("typings"))
        .map(str::to_string);
    let mut entries = Vec::new();
    let mut listed = BTreeSet::new();
    match doc.get("exports") {
        Some(serde_json::Value::Object(map)) if map.keys().any(|k| k.starts_with('.')) => {
            for (sub, target) in map.iter().take(MAX_ENTRIES) {
                if !sub.starts_with('.') || sub.contains('*') {
                    continue;
                }
                listed.insert(sub.clone());
                if let Some(file) = conditional(&dir, target, exists, 0) {
                    entries.push((sub.clone(), file));
                }
            }
        }
        Some(value) => {
            if let Some(file) = conditional(&dir, value, exists, 0) {
                entries.push((".".to_string(), file));
            }
        }
        None => {}
    }
    if !entries.iter().any(|(s, _)| s == ".") && (listed.is_empty() || listed.contains(".")) {
        let fallback = ["types", "typings", "module", "main"]
            .iter()
            .filter_map(|k| field(k))
            .find_map(|t| resolve_target(&dir, t, exists))
            .or_else(|| resolve_target(&dir, "./index", exists));
        if let Some(file) = fallback {
            entries.push((".".to_string(), file));
        }
    }
    Some(Package {
        dir,
        manifest: path.to_string(),
        entries,
        listed,
        types,
    })
}

/// The npm packages a tree's manifests declare (`package.json` files with a `name`).
pub(super) fn packages(
    manifests: &[(String, String)],
    exists: &dyn Fn(&str) -> bool,
) -> Vec<Package> {
    manifests
        .iter()
        .filter(|(p, _)| p.rsplit('/').next() == Some("package.json"))
        .filter_map(|(p, t)| package(p, t, exists))
        .collect()
}

/// Which package a file belongs to: the one with the longest directory holding it.
pub(super) fn package_of<'p>(packages: &'p [Package], path: &str) -> Option<&'p Package> {
    packages
        .iter()
        .filter(|p| crate::scan::is_under(path, &p.dir))
        .max_by_key(|p| p.dir.len())
}

/// Whether a file is TypeScript or JavaScript (the files a package model covers).
pub(super) fn is_source(path: &str) -> bool {
    surface::language_of(path).is_some()
}

/// Compares one package at two revisions (either side may lack it).
pub(super) fn diff_package(
    old: Option<&Package>,
    new: Option<&Package>,
    read_old: &dyn Fn(&str) -> Option<String>,
    read_new: &dyn Fn(&str) -> Option<String>,
    out: &mut Vec<ApiChange>,
) {
    let entries = |p: Option<&Package>| p.map(|p| p.entries.clone()).unwrap_or_default();
    let old_surface = surface::build(&entries(old), read_old);
    let new_surface = surface::build(&entries(new), read_new);
    let listed: BTreeSet<String> = old
        .iter()
        .chain(new.iter())
        .flat_map(|p| p.listed.iter().cloned())
        .collect();
    classify::diff(&old_surface, &new_surface, &listed, out);
    let (Some(o), Some(n)) = (old, new) else {
        return;
    };
    if let (Some(a), Some(b)) = (&o.types, &n.types) {
        let same = join(&o.dir, a) == join(&n.dir, b);
        if !same {
            out.push(ApiChange {
                change: ChangeKind::Moved,
                class: TYPES_ENTRY_MOVED.class,
                path: n.manifest.clone(),
                kind: SymbolKind::Module,
                qualified: "package.json#types".into(),
                name: "types".into(),
                owner: None,
                public: true,
                before: Some(a.clone()),
                after: Some(b.clone()),
                renamed_to: None,
                line: None,
                rule: TYPES_ENTRY_MOVED.id.to_string(),
                note: Some("the declarations behind it are compared; tools or deep imports naming the old file may break".into()),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_points_come_from_exports_then_types_then_main() {
        let tree = [
            "pkg/dist/index.js",
            "pkg/dist/index.d.ts",
            "pkg/src/client.ts",
            "pkg/index.js",
        ];
        let exists = |p: &str| tree.contains(&p);
        let manifest = r#"{"name":"p","exports":{".":{"import":"./dist/index.js"},"./client":"./dist/client.js","./*":"./dist/*.js"}}"#;
        let p = package("pkg/package.json", manifest, &exists).expect("a package");
        assert_eq!(
            p.entries,
            [
                (".".to_string(), "pkg/dist/index.d.ts".to_string()),
                ("./client".to_string(), "pkg/src/client.ts".to_string())
            ]
        );
        let p = package(
            "pkg/package.json",
            r#"{"name":"p","main":"index.js"}"#,
            &exists,
        )
        .expect("a package");
        assert_eq!(p.entries, [(".".to_string(), "pkg/index.js".to_string())]);
        let p = package("pkg/package.json", r#"{"name":"p"}"#, &exists).expect("a package");
        assert_eq!(p.entries, [(".".to_string(), "pkg/index.js".to_string())]);
        assert!(package("package.json", r#"{"private":true}"#, &exists).is_none());
        assert!(package("package.json", "not json", &exists).is_none());
    }
}
