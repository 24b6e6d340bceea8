//! CLASSIFY: two surfaces of a crate compared item by item, each change given the Cargo
//! book's SemVer rule that decides it (weft's own where the book has none).

use super::items::{Attrs, Detail, Field, FnShape, Form, Variant};
use super::surface::{Entry, Item, Surface};
use super::*;
use crate::api::finding::{self, found, noted, Found, Shown};
use crate::api::{ApiChange, ChangeKind};
use crate::facts::SymbolKind;

/// Compares the crate's surface at the base and the head.
pub(crate) fn diff(old: &Surface, new: &Surface, out: &mut Vec<ApiChange>) {
    let mut removed = Vec::new();
    for (key, o) in &old.items {
        match new.items.get(key) {
            None => removed.push(key),
            Some(n) => {
                for f in changed(key, o, n) {
                    out.push(to_change(key, f, Some(o), Some(n)));
                }
            }
        }
    }
    let mut added: Vec<&String> = new
        .items
        .keys()
        .filter(|k| !old.items.contains_key(*k))
        .collect();
    for key in removed {
        let o = &old.items[key];
        if removal_covered(key, o, old, new) {
            continue;
        }
        // A twin of the same kind and shape in the same place is a rename.
        let parent = parent_of(key);
        let twin = added.iter().position(|k| {
            let n = &new.items[*k];
            n.kind == o.kind && parent_of(k) == parent && shape(n) == shape(o)
        });
        if let Some(i) = twin {
            let to = added.remove(i);
            let mut c = to_change(
                key,
                found(ChangeKind::Renamed, ITEM_REMOVE),
                Some(o),
                Some(&new.items[to]),
            );
            c.renamed_to = Some(to.clone());
            out.push(c);
            continue;
        }
        out.push(to_change(key, removal(o, new), Some(o), None));
    }
    for key in added {
        let n = &new.items[key];
        if let Some(f) = addition(key, n, old) {
            out.push(to_change(key, f, None, Some(n)));
        }
    }
}

fn to_change(key: &str, f: Found, old: Option<&Item>, new: Option<&Item>) -> ApiChange {
    finding::to_change(key, f, old.map(shown), new.map(shown))
}

fn shown(item: &Item) -> Shown<'_> {
    Shown {
        kind: item.kind,
        name: &item.name,
        owner: item.owner.as_deref(),
        file: &item.file,
        line: item.line,
        signature: &item.signature,
    }
}

fn parent_of(key: &str) -> &str {
    key.rfind("::")
        .or_else(|| key.rfind('.'))
        .map_or("", |i| &key[..i])
}

fn shape(item: &Item) -> String {
    item.signature.replacen(&item.name, "\u{0}", 1)
}

/// A removal another change already accounts for: a member of an item that is itself
/// gone, became another kind of item or changed form.
fn removal_covered(key: &str, o: &Item, old: &Surface, new: &Surface) -> bool {
    let parent = parent_of(key);
    let member = matches!(o.kind, SymbolKind::Field | SymbolKind::Variant)
        || matches!(o.entry, Entry::TraitItem { .. });
    if !member || parent.is_empty() {
        return false;
    }
    match (old.items.get(parent), new.items.get(parent)) {
        (Some(_), None) => true,
        (Some(was), Some(now)) => now.kind != was.kind || form(was) != form(now),
        _ => false,
    }
}

fn form(item: &Item) -> Option<Form> {
    match &item.entry {
        Entry::Decl {
            detail: Detail::Struct { form, .. },
            ..
        } => Some(*form),
        _ => None,
    }
}

/// A public item is gone.
fn removal(o: &Item, new: &Surface) -> Found {
    let generated_name = match &o.entry {
        Entry::Impl { trait_name } => trait_name.as_str(),
        _ => o.name.as_str(),
    };
    if new.macro_words.contains(generated_name) {
        return noted(
            ChangeKind::Removed,
            MAYBE_MACRO_GENERATED,
            format!("gone from the source, but a macro invocation of the crate names `{generated_name}`: it may generate it"),
        );
    }
    if o.kind == SymbolKind::Method {
        if let Some(owner) = &o.owner {
            // Moved into a trait the type implements: callers must import the trait.
            let traits = new.trait_impls.get(owner);
            let via = traits.into_iter().flatten().find(|t| {
                new.items.iter().any(|(k, i)| {
                    i.kind == SymbolKind::Trait
                        && i.name == **t
                        && new.items.contains_key(&format!("{k}::{}", o.name))
                })
            });
            if let Some(t) = via {
                return noted(
                    ChangeKind::Moved,
                    INHERENT_METHOD_TO_TRAIT,
                    format!(
                        "`{}` is now a method of trait `{t}`: callers must import `{t}`",
                        o.name
                    ),
                );
            }
        }
    }
    match o.entry {
        Entry::Impl { ref trait_name } => noted(
            ChangeKind::Removed,
            IMPL_REMOVED,
            format!("`{}` no longer implements `{trait_name}`", o.name),
        ),
        Entry::NoStd => found(ChangeKind::Removed, NO_STD_TO_STD),
        _ => found(ChangeKind::Removed, ITEM_REMOVE),
    }
}

/// A public item is new.
fn addition(key: &str, n: &Item, old: &Surface) -> Option<Found> {
    let parent = parent_of(key);
    let parent_is_new = !parent.is_empty() && !old.items.contains_key(parent);
    Some(match &n.entry {
        // Members of a new item are part of its addition.
        _ if parent_is_new && n.owner.is_some() => return None,
        Entry::TraitItem { item, sealed } => match (item.provided, sealed) {
            (_, true) => found(ChangeKind::Added, TRAIT_SEALED_NEW_ITEM),
            (false, false) => noted(
                ChangeKind::Added,
                TRAIT_NEW_ITEM_NO_DEFAULT,
                format!("implementors of `{parent}` must now write `{}`", item.name),
            ),
            (true, false) => noted(
                ChangeKind::Added,
                TRAIT_NEW_DEFAULT_ITEM,
                "possibly breaking: a call may now be ambiguous with another trait's item of that name",
            ),
        },
        // The enum's own change says what a new variant breaks.
        Entry::Variant(_) => found(ChangeKind::Added, ITEM_NEW),
        Entry::Field { .. } => found(ChangeKind::Added, ITEM_NEW),
        Entry::Impl { .. } => found(ChangeKind::Added, IMPL_ADDED),
        _ if n.kind == SymbolKind::Method || n.owner.is_some() => found(ChangeKind::Added, IMPL_ITEM_NEW),
        _ => found(ChangeKind::Added, ITEM_NEW),
    })
}

/// What changed in an item present on both sides.
fn changed(key: &str, o: &Item, n: &Item) -> Vec<Found> {
    let mut out = Vec::new();
    if o.kind != n.kind {
        out.push(noted(
            ChangeKind::Signature,
            ITEM_KIND_CHANGED,
            format!(
                "`{key}` was a {} and is a {}",
                o.kind.as_str(),
                n.kind.as_str()
            ),
        ));
        return out;
    }
    match (&o.entry, &n.entry) {
        (
            Entry::Decl {
                attrs: oa,
                detail: od,
                sealed: os,
            },
            Entry::Decl {
                attrs: na,
                detail: nd,
                sealed: ns,
            },
        ) => {
            attributes(oa, na, od, &mut out);
            match (od, nd) {
                (Detail::Function(of), Detail::Function(nf)) => out.extend(function(of, nf)),
                (
                    Detail::Struct {
                        form: oform,
                        fields: of,
                        generics: og,
                        ..
                    },
                    Detail::Struct {
                        form: nform,
                        fields: nf,
                        generics: ng,
                        ..
                    },
                ) => {
                    out.extend(generics(og, ng));
                    out.extend(structure(*oform, of, *nform, nf, na.non_exhaustive));
                }
                (
                    Detail::Enum {
                        variants: ov,
                        generics: og,
                    },
                    Detail::Enum {
                        variants: nv,
                        generics: ng,
                    },
                ) => {
                    out.extend(generics(og, ng));
                    out.extend(enumeration(ov, nv, oa.non_exhaustive || na.non_exhaustive));
                }
                (
                    Detail::Trait {
                        is_unsafe: ou,
                        supertraits: osup,
                        items: oi,
                        generics: og,
                    },
                    Detail::Trait {
                        is_unsafe: nu,
                        supertraits: nsup,
                        items: ni,
                        generics: ng,
                    },
                ) => {
                    out.extend(generics(og, ng));
                    if ou != nu {
                        out.push(found(ChangeKind::Signature, ITEM_SIGNATURE));
                    }
                    let norm = |v: &Vec<String>| -> BTreeSet<String> {
                        v.iter().map(|s| std_paths(s)).collect()
                    };
                    let (osup, nsup) = (norm(osup), norm(nsup));
                    if nsup.difference(&osup).next().is_some() && !ns {
                        out.push(noted(
                            ChangeKind::Signature,
                            TRAIT_SUPERTRAIT_ADDED,
                            format!(
                                "implementors must now implement {}",
                                nsup.difference(&osup)
                                    .cloned()
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        ));
                    }
                    if osup.difference(&nsup).next().is_some() {
                        out.push(noted(
                            ChangeKind::Signature,
                            TRAIT_SUPERTRAIT_REMOVED,
                            format!(
                                "code relying on {} through this trait breaks",
                                osup.difference(&nsup)
                                    .cloned()
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        ));
                    }
                    let dyn_ok = |items: &Vec<super::items::TraitItem>, sup: &BTreeSet<String>| {
                        items
                            .iter()
                            .filter(|i| !i.attrs.hidden || !i.provided)
                            .all(|i| i.dispatchable)
                            && !sup.contains("Sized")
                    };
                    if dyn_ok(oi, &osup) && !dyn_ok(ni, &nsup) {
                        out.push(noted(
                            ChangeKind::Signature,
                            TRAIT_OBJECT_SAFETY,
                            "`dyn` of it no longer compiles",
                        ));
                    }
                    if !os && *ns {
                        out.push(found(ChangeKind::Signature, TRAIT_NOW_SEALED));
                    }
                }
                (
                    Detail::Value {
                        is_static: os_,
                        mutable: om,
                        ty: ot,
                    },
                    Detail::Value {
                        is_static: ns_,
                        mutable: nm,
                        ty: nt,
                    },
                ) => {
                    if std_paths(ot) != std_paths(nt) || om != nm {
                        out.push(found(ChangeKind::Signature, ITEM_SIGNATURE));
                    } else if !os_ && *ns_ {
                        out.push(found(ChangeKind::Signature, CONST_TO_STATIC));
                    } else if *os_ && !ns_ {
                        out.push(noted(
                            ChangeKind::Signature,
                            STATIC_TO_CONST,
                            "compiles for readers, but each use of a const is a fresh copy: interior mutability and address identity no longer hold",
                        ));
                    } else if o.body != n.body {
                        out.push(found(ChangeKind::Body, VALUE_CHANGED));
                    }
                }
                (Detail::Macro(oarms), Detail::Macro(narms)) => {
                    if oarms != narms {
                        if oarms.iter().all(|a| narms.contains(a)) {
                            out.push(found(ChangeKind::Signature, MACRO_RULES_ADDED));
                        } else {
                            out.push(noted(
                                ChangeKind::Signature,
                                MACRO_RULES_CHANGED,
                                "a matcher changed or went: whether invocations still match is for the build check",
                            ));
                        }
                    }
                }
                _ => {
                    if o.signature != n.signature {
                        out.push(found(ChangeKind::Signature, ITEM_SIGNATURE));
                    }
                }
            }
        }
        (Entry::Field { ty: ot }, Entry::Field { ty: nt }) if std_paths(ot) != std_paths(nt) => {
            out.push(noted(
                ChangeKind::Signature,
                FIELD_TYPE_CHANGED,
                format!("`{}` was `{ot}` and is `{nt}`", o.name),
            ));
        }
        (Entry::Variant(ov), Entry::Variant(nv)) => out.extend(variant(ov, nv)),
        (
            Entry::TraitItem {
                item: oi,
                sealed: _,
            },
            Entry::TraitItem {
                item: ni,
                sealed: ns,
            },
        ) => {
            let same = match (&oi.shape, &ni.shape) {
                (Some(a), Some(b)) => same_fn(a, b),
                _ => std_paths(&oi.signature) == std_paths(&ni.signature),
            };
            if !same {
                out.push(found(ChangeKind::Signature, TRAIT_ITEM_SIGNATURE));
            } else if oi.provided && !ni.provided && !ns {
                out.push(noted(
                    ChangeKind::Signature,
                    TRAIT_ITEM_DEFAULT_REMOVED,
                    format!("implementors must now write `{}`", ni.name),
                ));
            } else if !oi.provided && ni.provided {
                out.push(found(ChangeKind::Signature, TRAIT_ITEM_DEFAULT_ADDED));
            }
        }
        (Entry::Reexport { target: ot }, Entry::Reexport { target: nt }) if ot != nt => {
            out.push(noted(
                ChangeKind::Signature,
                REEXPORT_TARGET_CHANGED,
                format!("now re-exports `{nt}` (was `{ot}`): the same item only if one re-exports the other"),
            ));
        }
        _ => {}
    }
    if out.is_empty()
        && (o.body != n.body || o.signature != n.signature)
        && matches!(o.kind, SymbolKind::Function | SymbolKind::Method)
    {
        out.push(found(ChangeKind::Body, crate::api::rules::BODY));
    }
    if out.is_empty() && o.file != n.file {
        out.push(found(ChangeKind::Moved, crate::api::rules::MOVED));
    }
    out
}

fn attributes(o: &Attrs, n: &Attrs, detail: &Detail, out: &mut Vec<Found>) {
    let has_private = match detail {
        Detail::Struct { fields, form, .. } => {
            *form != Form::Unit && fields.iter().any(|f| !f.public)
        }
        _ => false,
    };
    let exhaustible = matches!(detail, Detail::Struct { .. } | Detail::Enum { .. });
    if exhaustible && !o.non_exhaustive && n.non_exhaustive {
        if has_private {
            out.push(found(ChangeKind::Signature, NON_EXHAUSTIVE_WITH_PRIVATE));
        } else {
            out.push(noted(
                ChangeKind::Signature,
                ATTR_ADDING_NON_EXHAUSTIVE,
                "dependents can no longer build it with a literal or match it exhaustively",
            ));
        }
    }
    if exhaustible && o.non_exhaustive && !n.non_exhaustive {
        out.push(found(ChangeKind::Signature, NON_EXHAUSTIVE_REMOVED));
    }
    if !o.must_use && n.must_use {
        out.push(found(ChangeKind::Signature, MUST_USE_ADDED));
    }
    if o.repr != n.repr {
        let lost: Vec<&String> = o.repr.iter().filter(|r| !n.repr.contains(r)).collect();
        let gained: Vec<&String> = n.repr.iter().filter(|r| !o.repr.contains(r)).collect();
        let only_c_added = lost.is_empty() && gained.iter().all(|r| *r == "C");
        if only_c_added {
            out.push(found(ChangeKind::Signature, REPR_C_ADD));
        } else {
            let what = |v: &[&String]| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
            out.push(noted(
                ChangeKind::Signature,
                REPR_CHANGED,
                format!(
                    "repr lost [{}], gained [{}]: layout dependents may rely on changed",
                    what(&lost),
                    what(&gained)
                ),
            ));
        }
    }
}

fn same_fn(a: &FnShape, b: &FnShape) -> bool {
    std_paths(&a.bare) == std_paths(&b.bare)
        && a.generics == b.generics
        && a.bounds == b.bounds
        && (a.is_const, a.is_unsafe, a.is_async) == (b.is_const, b.is_unsafe, b.is_async)
}

fn function(o: &FnShape, n: &FnShape) -> Vec<Found> {
    let mut out = Vec::new();
    let (ob, nb) = (std_paths(&o.bare), std_paths(&n.bare));
    let same_generics = o.generics == n.generics && o.bounds == n.bounds;
    if ob == nb && same_generics {
        if o.is_async != n.is_async {
            out.push(found(ChangeKind::Signature, ITEM_SIGNATURE));
        }
        if o.is_const && !n.is_const {
            out.push(noted(
                ChangeKind::Signature,
                FN_CONST_REMOVED,
                "callers in const contexts break",
            ));
        }
        if !o.is_const && n.is_const {
            out.push(found(ChangeKind::Signature, FN_CONST_ADDED));
        }
        if o.is_unsafe && !n.is_unsafe {
            out.push(found(ChangeKind::Signature, FN_UNSAFE_SAFE));
        }
        if !o.is_unsafe && n.is_unsafe {
            out.push(found(ChangeKind::Signature, FN_SAFE_UNSAFE));
        }
        return out;
    }
    if o.arity != n.arity {
        out.push(noted(
            ChangeKind::Signature,
            FN_CHANGE_ARITY,
            format!("{} parameters, was {}", n.arity, o.arity),
        ));
        return out;
    }
    if ob != nb {
        out.push(found(ChangeKind::Signature, ITEM_SIGNATURE));
        return out;
    }
    if o.generics != n.generics {
        let added_only = n.generics.len() > o.generics.len() && n.generics.starts_with(&o.generics);
        if added_only {
            out.push(noted(
                ChangeKind::Signature,
                FN_GENERIC_NEW,
                "calls that name the type parameters (`f::<T>()`) break, and so do calls that cannot infer the new one; others compile",
            ));
        } else {
            out.push(found(ChangeKind::Signature, ITEM_SIGNATURE));
        }
        return out;
    }
    out.extend(bounds(&o.bounds, &n.bounds));
    out
}

fn bounds(o: &[String], n: &[String]) -> Option<Found> {
    let tightened: Vec<&String> = n.iter().filter(|b| !o.contains(b)).collect();
    let loosened = o.iter().any(|b| !n.contains(b));
    if !tightened.is_empty() {
        let list: Vec<&str> = tightened.iter().map(|s| s.as_str()).collect();
        return Some(noted(
            ChangeKind::Signature,
            GENERIC_BOUNDS_TIGHTEN,
            format!("new bounds: {}", list.join(", ")),
        ));
    }
    loosened.then(|| found(ChangeKind::Signature, GENERIC_BOUNDS_LOOSEN))
}

/// A type's generic parameters: appending defaulted ones is compatible.
fn generics(o: &str, n: &str) -> Option<Found> {
    if std_paths(o) == std_paths(n) {
        return None;
    }
    let params = |g: &str| -> Vec<String> {
        let inner = g.trim().trim_start_matches('<').trim_end_matches('>');
        let mut out = Vec::new();
        let mut depth = 0i32;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '<' | '(' | '[' => depth += 1,
                '>' | ')' | ']' => depth -= 1,
                ',' if depth == 0 => {
                    out.push(inner[start..i].trim().to_string());
                    start = i + 1;
                }
                _ => {}
            }
        }
        let last = inner[start..].trim();
        if !last.is_empty() {
            out.push(last.to_string());
        }
        out
    };
    let (op, np) = (params(o), params(n));
    let appended_defaults = np.len() > op.len()
        && np.starts_with(&op)
        && np[op.len()..].iter().all(|p| p.contains('='));
    Some(if appended_defaults {
        found(ChangeKind::Signature, GENERIC_NEW_DEFAULT)
    } else {
        found(ChangeKind::Signature, ITEM_SIGNATURE)
    })
}

fn structure(
    oform: Form,
    of: &[Field],
    nform: Form,
    nf: &[Field],
    non_exhaustive: bool,
) -> Vec<Found> {
    let mut out = Vec::new();
    let old_private = of.iter().any(|f| !f.public);
    let new_private = nf.iter().any(|f| !f.public);
    if oform != nform {
        let all_private = of.iter().all(|f| !f.public)
            && nf.iter().all(|f| !f.public)
            && !of.is_empty()
            && !nf.is_empty();
        out.push(if all_private {
            found(ChangeKind::Signature, STRUCT_TUPLE_NORMAL_WITH_PRIVATE)
        } else {
            noted(
                ChangeKind::Signature,
                STRUCT_FORM_CHANGED,
                format!(
                    "{oform:?} form became {nform:?}: literals and patterns of the old form break"
                ),
            )
        });
        return out;
    }
    let added: Vec<&Field> = nf
        .iter()
        .filter(|f| !of.iter().any(|o| o.name == f.name))
        .collect();
    let removed_private = of
        .iter()
        .any(|o| !o.public && !nf.iter().any(|f| f.name == o.name));
    if !added.is_empty() && !non_exhaustive {
        let private_added = added.iter().any(|f| !f.public);
        if !old_private && oform != Form::Unit || (oform == Form::Unit && !of.is_empty()) {
            let rule = if private_added {
                STRUCT_ADD_PRIVATE_FIELD_WHEN_PUBLIC
            } else {
                STRUCT_ADD_PUBLIC_FIELD_WHEN_NO_PRIVATE
            };
            let names: Vec<&str> = added.iter().map(|f| f.name.as_str()).collect();
            out.push(noted(
                ChangeKind::Signature,
                rule,
                format!(
                    "struct literals and exhaustive patterns lack {}",
                    names.join(", ")
                ),
            ));
        } else if oform == Form::Unit {
            out.push(found(ChangeKind::Signature, STRUCT_FORM_CHANGED));
        } else {
            out.push(found(
                ChangeKind::Signature,
                STRUCT_PRIVATE_FIELD_WITH_PRIVATE,
            ));
        }
    } else if removed_private && new_private {
        out.push(found(
            ChangeKind::Signature,
            STRUCT_PRIVATE_FIELD_WITH_PRIVATE,
        ));
    } else if removed_private && !new_private && !non_exhaustive {
        // The last private field went: dependents may now build it, nothing breaks.
        out.push(found(
            ChangeKind::Signature,
            STRUCT_PRIVATE_FIELD_WITH_PRIVATE,
        ));
    }
    out
}

fn enumeration(ov: &[Variant], nv: &[Variant], non_exhaustive: bool) -> Vec<Found> {
    let visible = |v: &&Variant| !v.attrs.hidden;
    let added: Vec<&Variant> = nv
        .iter()
        .filter(visible)
        .filter(|v| !ov.iter().any(|o| o.name == v.name))
        .collect();
    let mut out = Vec::new();
    if !added.is_empty() {
        let names: Vec<&str> = added.iter().map(|v| v.name.as_str()).collect();
        out.push(if non_exhaustive {
            found(ChangeKind::Signature, ENUM_VARIANT_NEW_NON_EXHAUSTIVE)
        } else {
            noted(
                ChangeKind::Signature,
                ENUM_VARIANT_NEW,
                format!("exhaustive matches lack {}", names.join(", ")),
            )
        });
    }
    let discriminants = |vs: &[Variant]| -> Vec<(String, Option<String>)> {
        vs.iter()
            .map(|v| (v.name.clone(), v.discriminant.clone()))
            .collect()
    };
    let explicit = ov.iter().any(|v| v.discriminant.is_some());
    if explicit && added.is_empty() {
        let common: Vec<_> = discriminants(ov)
            .into_iter()
            .filter(|(n, _)| nv.iter().any(|v| &v.name == n))
            .collect();
        let now: Vec<_> = discriminants(nv)
            .into_iter()
            .filter(|(n, _)| ov.iter().any(|v| &v.name == n))
            .collect();
        if common != now {
            out.push(found(ChangeKind::Signature, ENUM_DISCRIMINANT_CHANGED));
        }
    }
    out
}

fn variant(o: &Variant, n: &Variant) -> Vec<Found> {
    let mut out = Vec::new();
    if !o.attrs.non_exhaustive && n.attrs.non_exhaustive {
        out.push(found(ChangeKind::Signature, ATTR_ADDING_NON_EXHAUSTIVE));
    }
    if o.form != n.form {
        out.push(noted(
            ChangeKind::Signature,
            ENUM_VARIANT_KIND_CHANGED,
            format!(
                "{:?} variant became {:?}: constructors and patterns break",
                o.form, n.form
            ),
        ));
        return out;
    }
    let retyped = o.fields.iter().any(|f| {
        n.fields
            .iter()
            .any(|g| g.name == f.name && std_paths(&g.ty) != std_paths(&f.ty))
    });
    let gone = o
        .fields
        .iter()
        .any(|f| !n.fields.iter().any(|g| g.name == f.name));
    let added = n
        .fields
        .iter()
        .any(|g| !o.fields.iter().any(|f| f.name == g.name));
    if retyped || gone {
        out.push(found(ChangeKind::Signature, ENUM_VARIANT_FIELDS_CHANGED));
    } else if added && !o.attrs.non_exhaustive {
        out.push(noted(
            ChangeKind::Signature,
            ENUM_FIELDS_NEW,
            "constructors and exhaustive patterns of the variant lack the new fields",
        ));
    } else if added {
        out.push(found(ChangeKind::Signature, ITEM_NEW));
    }
    out
}
