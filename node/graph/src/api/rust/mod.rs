//! RUST API: each library crate of a tree modelled whole — the surface a dependent
//! reaches from the crate root ([`surface`], read by [`items`]) — and its changes
//! classified by the Cargo book's SemVer chapter ([`classify`]); Cargo features, implicit
//! ones included, from the manifest. Rule ids are the book's anchors
//! (`rust/struct-add-public-field-when-no-private`) where the book names the rule.

mod classify;
mod items;
mod surface;

use super::rules::{rules, Rule};
use super::ApiChange;
use std::collections::{BTreeMap, BTreeSet};

rules! {
    RULES:
    ITEM_REMOVE = "rust/item-remove", Breaking, "A public item (or field, variant, trait item) is gone, renamed or moved from a path dependents name it by.";
    ITEM_NEW = "rust/item-new", Additive, "A public item is new.";
    ITEM_SIGNATURE = "rust/item-signature", Breaking, "A public item's declaration changed in a way no finer rule makes compatible.";
    MAYBE_MACRO_GENERATED = "rust/item-maybe-macro-generated", Undetermined, "An item is gone from the source, but an item-level macro invocation of the crate names it: it may generate it now.";
    ITEM_KIND_CHANGED = "rust/item-kind-changed", Breaking, "The path names another kind of item (a struct became an enum, a fn a macro).";
    IMPL_ITEM_NEW = "rust/impl-item-new", Additive, "An inherent method or const is new (possibly breaking: it can shadow a trait method of the same name).";
    STRUCT_ADD_PRIVATE_FIELD_WHEN_PUBLIC = "rust/struct-add-private-field-when-public", Breaking, "A private field added to a struct whose fields were all public: literals and exhaustive patterns break.";
    STRUCT_ADD_PUBLIC_FIELD_WHEN_NO_PRIVATE = "rust/struct-add-public-field-when-no-private", Breaking, "A public field added to a struct with no private field: literals and exhaustive patterns break.";
    STRUCT_PRIVATE_FIELD_WITH_PRIVATE = "rust/struct-private-field-with-private", Additive, "Fields added or private fields removed where a private field already was: nobody outside could build or exhaustively match it.";
    STRUCT_TUPLE_NORMAL_WITH_PRIVATE = "rust/struct-tuple-normal-with-private", Additive, "A struct with only private fields went between tuple and named form.";
    STRUCT_FORM_CHANGED = "rust/struct-form-changed", Breaking, "A struct with public fields (or a unit struct) changed form: literals, patterns and field access of the old form break.";
    FIELD_TYPE_CHANGED = "rust/field-type-changed", Breaking, "A public field's type changed.";
    ENUM_VARIANT_NEW = "rust/enum-variant-new", Breaking, "A variant added to an exhaustive enum: exhaustive matches break.";
    ENUM_VARIANT_NEW_NON_EXHAUSTIVE = "rust/enum-variant-new-non-exhaustive", Additive, "A variant added to a #[non_exhaustive] enum.";
    ENUM_FIELDS_NEW = "rust/enum-fields-new", Breaking, "A field added to an exhaustive variant.";
    ENUM_VARIANT_KIND_CHANGED = "rust/enum-variant-kind-changed", Breaking, "A variant changed between unit, tuple and struct form.";
    ENUM_VARIANT_FIELDS_CHANGED = "rust/enum-variant-fields-changed", Breaking, "A variant's field was removed or retyped.";
    ENUM_DISCRIMINANT_CHANGED = "rust/enum-discriminant-changed", Breaking, "An explicit discriminant changed: `as` casts give other numbers.";
    ATTR_ADDING_NON_EXHAUSTIVE = "rust/attr-adding-non-exhaustive", Breaking, "#[non_exhaustive] added to an enum, variant or struct with no private fields.";
    NON_EXHAUSTIVE_WITH_PRIVATE = "rust/non-exhaustive-with-private", Additive, "#[non_exhaustive] added to a struct that has a private field (it could not be built outside already).";
    NON_EXHAUSTIVE_REMOVED = "rust/non-exhaustive-removed", Additive, "#[non_exhaustive] removed: dependents may do more.";
    MUST_USE_ADDED = "rust/must-use-added", Additive, "#[must_use] added: a lint, never an error by default.";
    REPR_C_ADD = "rust/repr-c-add", Additive, "repr(C) added to a type of default representation.";
    REPR_CHANGED = "rust/repr-changed", Breaking, "A repr hint removed or changed (repr-c-remove, repr-int-enum-change, repr-transparent-remove, repr-packed-*).";
    TRAIT_NEW_ITEM_NO_DEFAULT = "rust/trait-new-item-no-default", Breaking, "A trait gained an item without a default: implementors break.";
    TRAIT_NEW_DEFAULT_ITEM = "rust/trait-new-default-item", Additive, "A trait gained an item with a default (possibly breaking: ambiguity with another trait's item).";
    TRAIT_SEALED_NEW_ITEM = "rust/trait-sealed-new-item", Additive, "A sealed trait (a supertrait or required item dependents cannot name) gained an item: no implementor outside the crate exists.";
    TRAIT_ITEM_SIGNATURE = "rust/trait-item-signature", Breaking, "A trait item's signature changed: callers or implementors break.";
    TRAIT_ITEM_DEFAULT_REMOVED = "rust/trait-item-default-removed", Breaking, "A trait item lost its default: implementors that relied on it break.";
    TRAIT_ITEM_DEFAULT_ADDED = "rust/trait-item-default-added", Additive, "A required trait item gained a default.";
    TRAIT_OBJECT_SAFETY = "rust/trait-object-safety", Breaking, "The trait is no longer dyn compatible: `dyn Trait` breaks.";
    TRAIT_SUPERTRAIT_ADDED = "rust/trait-supertrait-added", Breaking, "A supertrait added: implementors must implement it too.";
    TRAIT_SUPERTRAIT_REMOVED = "rust/trait-supertrait-removed", Breaking, "A supertrait removed: code using its items through this trait's bound breaks.";
    TRAIT_NOW_SEALED = "rust/trait-now-sealed", Breaking, "The trait became sealed: implementors outside the crate break.";
    IMPL_REMOVED = "rust/impl-removed", Breaking, "A type no longer implements a trait.";
    IMPL_ADDED = "rust/impl-added", Additive, "A type implements another trait.";
    INHERENT_METHOD_TO_TRAIT = "rust/inherent-method-to-trait", Breaking, "An inherent method moved into a trait the type implements: callers must import the trait.";
    FN_CHANGE_ARITY = "rust/fn-change-arity", Breaking, "A function gained or lost parameters.";
    FN_CONST_ADDED = "rust/fn-const-added", Additive, "A function became `const fn`.";
    FN_CONST_REMOVED = "rust/fn-const-removed", Breaking, "A function is no longer `const fn`.";
    FN_UNSAFE_SAFE = "rust/fn-unsafe-safe", Additive, "An unsafe function became safe.";
    FN_SAFE_UNSAFE = "rust/fn-safe-unsafe", Breaking, "A safe function became unsafe.";
    FN_GENERIC_NEW = "rust/fn-generic-new", Undetermined, "A function gained a type parameter: breaks calls that name its parameters (`f::<T>()`) or cannot infer it.";
    GENERIC_BOUNDS_TIGHTEN = "rust/generic-bounds-tighten", Breaking, "A generic parameter gained a bound.";
    GENERIC_BOUNDS_LOOSEN = "rust/generic-bounds-loosen", Additive, "A generic parameter lost a bound.";
    GENERIC_NEW_DEFAULT = "rust/generic-new-default", Additive, "A type gained a generic parameter with a default.";
    CONST_TO_STATIC = "rust/const-to-static", Breaking, "A const became a static: uses in const contexts and patterns break.";
    STATIC_TO_CONST = "rust/static-to-const", Undetermined, "A static became a const: readers compile, but interior mutability and address identity no longer hold.";
    VALUE_CHANGED = "rust/value-changed", Internal, "A const or static has another value behind the same type.";
    MACRO_RULES_ADDED = "rust/macro-rules-added", Additive, "An exported macro gained rules; every old matcher is still there.";
    MACRO_RULES_CHANGED = "rust/macro-rules-changed", Undetermined, "An exported macro's matcher changed or went: whether invocations still match needs a build.";
    REEXPORT_TARGET_CHANGED = "rust/reexport-target-changed", Undetermined, "A public path re-exports another crate's item than before.";
    NO_STD_TO_STD = "rust/attr-no-std-to-std", Breaking, "#![no_std] removed: dependents without std break.";
    CARGO_FEATURE_ADD = "rust/cargo-feature-add", Additive, "A Cargo feature is new.";
    CARGO_FEATURE_REMOVE = "rust/cargo-feature-remove", Breaking, "A Cargo feature is gone: dependents that enable it fail to resolve.";
    CARGO_REMOVE_OPT_DEP = "rust/cargo-remove-opt-dep", Breaking, "An optional dependency is gone, and with it the implicit feature of its name.";
    CARGO_FEATURE_REMOVE_ANOTHER = "rust/cargo-feature-remove-another", Undetermined, "A feature no longer enables something it did: breaking when that changes public items or behaviour.";
    CARGO_FEATURE_ENABLES_MORE = "rust/cargo-feature-enables-more", Additive, "A feature enables more than before.";
}

/// `core::…` and `alloc::…` paths spelt as the `std::…` that re-exports them.
pub(crate) fn std_paths(signature: &str) -> String {
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

/// The rule for a Rust declaration compared as text (a file outside any library crate):
/// a path spelt through `core`/`alloc` is the same as through `std`; `const` added or
/// `unsafe` removed breaks no caller.
pub(super) fn signature_rule(before: &str, after: &str) -> Option<&'static Rule> {
    let (before, after) = (std_paths(before), std_paths(after));
    if before == after {
        return Some(super::rules::BODY);
    }
    let loosened = |from: &str, to: &str, qualifier: &str| {
        from.replacen(&format!("{qualifier} fn "), "fn ", 1)
            == to.replacen(&format!("{qualifier} fn "), "fn ", 1)
    };
    if !before.contains("const fn ")
        && after.contains("const fn ")
        && loosened(&before, &after, "const")
    {
        return Some(FN_CONST_ADDED);
    }
    if before.contains("unsafe fn ")
        && !after.contains("unsafe fn ")
        && loosened(&before, &after, "unsafe")
    {
        return Some(FN_UNSAFE_SAFE);
    }
    None
}

/// A manifest's features, explicit (`feature:NAME` = what it enables, sorted) and implicit
/// (an optional dependency no feature names as `dep:NAME`).
pub(super) fn features(doc: &toml::Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let explicit = doc.get("features").and_then(|f| f.as_table());
    let mut dep_refs = BTreeSet::new();
    if let Some(features) = explicit {
        for (name, enables) in features {
            let mut list: Vec<String> = enables
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            for e in &list {
                if let Some(dep) = e.strip_prefix("dep:") {
                    dep_refs.insert(dep.to_string());
                }
            }
            list.sort();
            out.insert(format!("feature:{name}"), format!("[{}]", list.join(", ")));
        }
    }
    for table in ["dependencies", "build-dependencies"] {
        let Some(deps) = doc.get(table).and_then(|d| d.as_table()) else {
            continue;
        };
        for (name, spec) in deps {
            let optional = spec.get("optional").and_then(|o| o.as_bool()) == Some(true);
            let key = format!("feature:{name}");
            if optional && !dep_refs.contains(name) && !out.contains_key(&key) {
                out.insert(key, IMPLICIT.into());
            }
        }
    }
    out
}

/// The value of an implicit feature.
const IMPLICIT: &str = "optional dependency";

/// The rule for a feature changed from `before` to `after` (values of [`features`]).
pub(super) fn feature_rule(before: Option<&str>, after: Option<&str>) -> &'static Rule {
    let list = |v: &str| -> BTreeSet<String> {
        v.trim_matches(['[', ']'])
            .split(", ")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    match (before, after) {
        (Some(IMPLICIT), None) => CARGO_REMOVE_OPT_DEP,
        (Some(_), None) => CARGO_FEATURE_REMOVE,
        (None, _) => CARGO_FEATURE_ADD,
        (Some(b), Some(a)) => {
            if list(b).difference(&list(a)).next().is_some() {
                CARGO_FEATURE_REMOVE_ANOTHER
            } else {
                CARGO_FEATURE_ENABLES_MORE
            }
        }
    }
}

/// A package of a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Crate {
    /// Its directory (the manifest's), "" at the root.
    pub dir: String,
    /// Its library root file (None: binaries only, which no dependent can use).
    pub root: Option<String>,
}

/// The packages a tree's manifests declare, each with its library root when its
/// `[lib] path` (or `src/lib.rs`) is among `sources`.
pub(super) fn crates(manifests: &[(String, String)], sources: &BTreeSet<String>) -> Vec<Crate> {
    let mut out = Vec::new();
    for (path, text) in manifests {
        if path.rsplit('/').next() != Some("Cargo.toml") {
            continue;
        }
        let Ok(doc) = toml::from_str::<toml::Value>(text) else {
            continue;
        };
        if doc.get("package").is_none() {
            continue;
        }
        let dir = path
            .strip_suffix("Cargo.toml")
            .unwrap_or("")
            .trim_end_matches('/');
        let lib = doc
            .get("lib")
            .and_then(|l| l.get("path"))
            .and_then(|p| p.as_str())
            .unwrap_or("src/lib.rs");
        let root = surface_path(dir, lib);
        out.push(Crate {
            dir: dir.to_string(),
            root: sources.contains(&root).then_some(root),
        });
    }
    out
}

fn surface_path(dir: &str, file: &str) -> String {
    let file = file.trim_start_matches("./");
    if dir.is_empty() {
        file.to_string()
    } else {
        format!("{dir}/{file}")
    }
}

/// Which crate a file belongs to: the one with the longest directory holding it.
pub(super) fn crate_of<'c>(crates: &'c [Crate], path: &str) -> Option<&'c Crate> {
    crates
        .iter()
        .filter(|c| c.dir.is_empty() || path.starts_with(&format!("{}/", c.dir)))
        .max_by_key(|c| c.dir.len())
}

/// Compares one crate at two revisions (either side may lack it).
pub(super) fn diff_crate(
    old_root: Option<&str>,
    new_root: Option<&str>,
    read_old: &dyn Fn(&str) -> Option<String>,
    read_new: &dyn Fn(&str) -> Option<String>,
    out: &mut Vec<ApiChange>,
) {
    let old = old_root
        .map(|r| surface::build(r, read_old))
        .unwrap_or_default();
    let new = new_root
        .map(|r| surface::build(r, read_new))
        .unwrap_or_default();
    let mut found = Vec::new();
    classify::diff(&old, &new, &mut found);
    // An item nameable by several paths (`util::helper` and its re-export `helper`)
    // changed once: reported once, under its shortest path.
    found.sort_by(|a, b| (a.qualified.len(), &a.qualified).cmp(&(b.qualified.len(), &b.qualified)));
    let mut seen = BTreeSet::new();
    for change in found {
        let same = (
            change.path.clone(),
            change.line,
            change.kind,
            change.name.clone(),
            change.rule.clone(),
            change.before.clone(),
            change.after.clone(),
        );
        if seen.insert(same) {
            out.push(change);
        }
    }
}
