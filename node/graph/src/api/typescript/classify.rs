//! CLASSIFY: two surfaces of a package compared item by item, each change given the
//! rule that decides it. The rules follow what a dependent compiled with `strict` sees
//! (the "Semantic Versioning for TypeScript Types" specification's *widen what you
//! accept, narrow what you provide*): a parameter may accept more, a return type or a
//! property users read may provide less; an interface is both read and implemented.

use super::items::{Detail, Member, MemberKind, Param, Sig};
use super::surface::{Item, Surface, What};
use super::types::{self, Cmp, Ty};
use super::*;
use crate::api::finding::{self, noted, Found, Shown};
use crate::api::{ApiChange, ChangeKind};
use crate::facts::SymbolKind;

fn found(change: ChangeKind, rule: &'static Rule, note: impl Into<String>) -> Found {
    noted(change, rule, note)
}

/// Where a type is used, which decides what widening it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    /// Users pass it in (parameters).
    Input,
    /// Users read it (return types, readonly class properties, exported variables).
    Output,
    /// Both (interface properties, mutable class properties, index signatures).
    Both,
}

/// Compares the package's surface at the base and the head. Items of an entry point
/// removed from `exports` are left to the manifest rules (one `export:` change, not one per
/// name); those of an entry point added there are each new.
pub(crate) fn diff(
    old: &Surface,
    new: &Surface,
    listed: &BTreeSet<String>,
    out: &mut Vec<ApiChange>,
) {
    let skipped = |item: &Item| {
        listed.contains(&item.entry)
            && (!old.entries.contains(&item.entry) || !new.entries.contains(&item.entry))
    };
    let mut removed = Vec::new();
    for (key, o) in &old.items {
        if skipped(o) {
            continue;
        }
        match new.items.get(key) {
            None => removed.push(key),
            Some(n) => {
                for f in changed(key, o, n) {
                    out.push(to_change(key, f, Some(o), Some(n)));
                }
            }
        }
    }
    // A new entry point's names are each new API (additive), reported as such; a
    // removed one's are left to the manifest's `export:` rule, reported once.
    let mut added: Vec<&String> = new
        .items
        .iter()
        .filter(|(k, _)| !old.items.contains_key(*k))
        .map(|(k, _)| k)
        .collect();
    for key in removed {
        let o = &old.items[key];
        // A member of an item that is gone or changed kind is part of that change.
        if let Some(owner) = &o.owner {
            match (old.items.get(owner), new.items.get(owner)) {
                (Some(_), None) => continue,
                (Some(was), Some(now)) if was.kind != now.kind => continue,
                _ => {}
            }
        }
        let star_gone = o.via_star.iter().any(|s| !new.stars.contains(s));
        let twin = added.iter().position(|k| {
            let n = &new.items[*k];
            !star_gone
                && n.kind == o.kind
                && n.owner == o.owner
                && o.owner.is_none()
                && (n.origin == o.origin || shape(n) == shape(o))
        });
        if let Some(i) = twin {
            let to = added.remove(i);
            let n = &new.items[to];
            let mut c = to_change(
                key,
                found(
                    ChangeKind::Renamed,
                    EXPORT_RENAMED,
                    format!("imports of `{key}` must now name `{to}`"),
                ),
                Some(o),
                Some(n),
            );
            c.renamed_to = Some(to.clone());
            out.push(c);
            continue;
        }
        out.push(to_change(key, removal(key, o, new), Some(o), None));
    }
    for key in added {
        let n = &new.items[key];
        if let Some(f) = addition(n, old) {
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

fn shape(item: &Item) -> String {
    item.signature.replacen(&item.name, "\u{0}", 1)
}

/// A public item is gone.
fn removal(key: &str, o: &Item, new: &Surface) -> Found {
    if let Some(star) = o.via_star.iter().find(|s| !new.stars.contains(*s)) {
        return found(
            ChangeKind::Removed,
            EXPORT_STAR_REMOVED,
            format!("`{star}` is gone, and `{key}` with it"),
        );
    }
    match &o.what {
        What::External(_) if o.name.starts_with("* from") => found(
            ChangeKind::Removed,
            EXPORT_STAR_REMOVED,
            format!("`{}` is gone", o.name),
        ),
        What::Member { in_class: true, .. } => found(
            ChangeKind::Removed,
            CLASS_MEMBER_REMOVED,
            "gone, or no longer public or protected",
        ),
        What::Member {
            in_class: false, ..
        } => found(ChangeKind::Removed, INTERFACE_MEMBER_REMOVED, ""),
        What::EnumMember(_) => found(ChangeKind::Removed, ENUM_MEMBER_REMOVED, ""),
        _ => found(ChangeKind::Removed, EXPORT_REMOVED, ""),
    }
}

/// A public item is new.
fn addition(n: &Item, old: &Surface) -> Option<Found> {
    // Members of a new item are part of its addition; those of an item that was another
    // kind of thing (a type alias now an interface) are part of that change.
    if let Some(owner) = &n.owner {
        match old.items.get(owner) {
            None => return None,
            Some(was) if was.kind == SymbolKind::Type => return None,
            Some(_) => {}
        }
    }
    Some(match &n.what {
        What::Member {
            member,
            in_class: false,
        } => {
            if member.optional {
                found(ChangeKind::Added, INTERFACE_OPTIONAL_MEMBER_ADDED, "")
            } else {
                found(
                    ChangeKind::Added,
                    INTERFACE_REQUIRED_MEMBER_ADDED,
                    format!(
                        "object literals and implementations of `{}` must now provide `{}`",
                        n.owner.as_deref().unwrap_or(""),
                        member.name
                    ),
                )
            }
        }
        What::Member {
            member,
            in_class: true,
        } if member.is_abstract => found(
            ChangeKind::Added,
            ABSTRACT_MEMBER_ADDED,
            format!("subclasses must now implement `{}`", member.name),
        ),
        What::Member { .. } => found(ChangeKind::Added, CLASS_MEMBER_ADDED, ""),
        What::EnumMember(_) => found(
            ChangeKind::Added,
            ENUM_MEMBER_ADDED,
            "possibly breaking: a switch that covered every member (assertNever, a return after each case) no longer does",
        ),
        _ => found(ChangeKind::Added, EXPORT_ADDED, ""),
    })
}

fn kind_word(item: &Item) -> &'static str {
    match &item.what {
        What::Member { member, .. } => match member.kind {
            MemberKind::Property | MemberKind::Index => "property",
            _ => "method",
        },
        _ => item.kind.as_str(),
    }
}

/// What changed in an item present on both sides.
fn changed(key: &str, o: &Item, n: &Item) -> Vec<Found> {
    let mut out = Vec::new();
    let (ow, nw) = (kind_word(o), kind_word(n));
    if ow != nw {
        let swap = [SymbolKind::Interface, SymbolKind::Type];
        // A const holding a function and a function are both called the same way.
        let callable = |i: &Item| {
            i.kind == SymbolKind::Function
                || (i.kind == SymbolKind::Const
                    && i.signature
                        .split_once(':')
                        .is_some_and(|(_, ty)| ty.trim_start().starts_with(['(', '<'])))
        };
        let rule = if o.name == "default" || o.name == "export=" {
            DEFAULT_EXPORT_KIND_CHANGED
        } else if callable(o) && callable(n) {
            DECLARATION_CHANGED
        } else if swap.contains(&o.kind) && swap.contains(&n.kind) {
            INTERFACE_ALIAS_SWAP
        } else {
            KIND_CHANGED
        };
        let note = if rule == DECLARATION_CHANGED {
            format!("`{key}` was a {ow} and is a {nw}: both are called alike; whether the signatures agree needs the compiler")
        } else if rule == INTERFACE_ALIAS_SWAP {
            format!("`{key}` was a {ow} and is a {nw}: uses as a type compile, declaration merging and `implements` of a non-object type do not")
        } else {
            format!("`{key}` was a {ow} and is a {nw}")
        };
        out.push(found(ChangeKind::Signature, rule, note));
        return out;
    }
    let value = [
        SymbolKind::Class,
        SymbolKind::Enum,
        SymbolKind::Function,
        SymbolKind::Const,
        SymbolKind::Variable,
    ];
    if !o.type_only && n.type_only && o.owner.is_none() && value.contains(&o.kind) {
        out.push(found(
            ChangeKind::Signature,
            EXPORT_BECAME_TYPE_ONLY,
            format!("`{key}` is exported with `export type` now: using it as a value (`new`, calls, reads) fails"),
        ));
    }
    let typed = o.typed && n.typed;
    let inferable = typed && !o.declaration_file && !n.declaration_file;
    match (&o.what, &n.what) {
        (What::External(a), What::External(b)) if a != b => out.push(found(
            ChangeKind::Signature,
            REEXPORT_TARGET_CHANGED,
            format!("re-exported `{a}` before and `{b}` now: whether they are the same needs a build"),
        )),
        (What::External(a), What::Decl(_)) | (What::Decl(_), What::External(a)) => out.push(found(
            ChangeKind::Signature,
            REEXPORT_TARGET_CHANGED,
            format!("one side re-exports `{a}`, the other declares its own: whether they are the same needs a build"),
        )),
        (What::Decl(od), What::Decl(nd)) => decl(o, n, od, nd, typed, inferable, &mut out),
        (
            What::Member {
                member: om,
                in_class,
            },
            What::Member { member: nm, .. },
        ) => member(om, nm, *in_class, typed, inferable, &mut out),
        (What::EnumMember(a), What::EnumMember(b)) if a != b => out.push(found(
            ChangeKind::Signature,
            ENUM_VALUE_CHANGED,
            format!("`{key}` was `{a}` and is `{b}`: stored or compared values differ"),
        )),
        _ => {}
    }
    out
}

fn decl(
    o: &Item,
    n: &Item,
    od: &Detail,
    nd: &Detail,
    typed: bool,
    inferable: bool,
    out: &mut Vec<Found>,
) {
    if let (Some(os), Some(ns)) = (function_sigs(od), function_sigs(nd)) {
        signatures(os, ns, typed, out);
        inferred(os, ns, o, n, inferable, out);
        return;
    }
    match (od, nd) {
        (Detail::Variable { ty: ot, .. }, Detail::Variable { ty: nt, .. }) => {
            typed_at(
                ot.as_ref(),
                nt.as_ref(),
                Position::Output,
                typed,
                &o.name,
                out,
            );
            if ot.is_none() && nt.is_none() && inferable && o.body != n.body {
                out.push(found(
                    ChangeKind::Signature,
                    INFERRED_TYPE_CHANGED,
                    "no type annotation: its type is inferred from the initializer, which changed",
                ));
            }
        }
        (
            Detail::Class {
                is_abstract: oa,
                type_params: otp,
                heritage: oh,
                ..
            },
            Detail::Class {
                is_abstract: na,
                type_params: ntp,
                heritage: nh,
                ..
            },
        ) => {
            if !oa && *na {
                out.push(found(
                    ChangeKind::Signature,
                    CLASS_MADE_ABSTRACT,
                    "`new` of it no longer compiles",
                ));
            }
            type_params(otp, ntp, out);
            heritage(oh, nh, out);
        }
        (
            Detail::Interface {
                type_params: otp,
                heritage: oh,
                ..
            },
            Detail::Interface {
                type_params: ntp,
                heritage: nh,
                ..
            },
        ) => {
            type_params(otp, ntp, out);
            heritage(oh, nh, out);
        }
        (
            Detail::Alias {
                type_params: otp,
                value: ov,
            },
            Detail::Alias {
                type_params: ntp,
                value: nv,
            },
        ) => {
            type_params(otp, ntp, out);
            match types::compare(ov, nv) {
                Cmp::Same => {}
                Cmp::Wider => out.push(found(
                    ChangeKind::Signature,
                    ALIAS_UNION_WIDENED,
                    format!(
                        "gained {}: additive where it types what users pass in, breaking where it types what they read or switch over exhaustively",
                        types::missing(nv, ov).join(", ")
                    ),
                )),
                Cmp::Narrower | Cmp::Different => out.push(found(
                    ChangeKind::Signature,
                    ALIAS_UNION_NARROWED,
                    format!("lost {}", types::missing(ov, nv).join(", ")),
                )),
                Cmp::Unknown => out.push(unknown(&ov.text, &nv.text)),
            }
        }
        (Detail::Enum { is_const: oc, .. }, Detail::Enum { is_const: nc, .. }) if oc != nc => {
            out.push(found(
                ChangeKind::Signature,
                DECLARATION_CHANGED,
                "`const enum` ↔ `enum`: values are inlined or not; breaks `isolatedModules` users or code that reads the enum object",
            ));
        }
        (Detail::Value, Detail::Value) if inferable && o.body != n.body => {
            out.push(found(
                ChangeKind::Signature,
                INFERRED_TYPE_CHANGED,
                "the exported expression changed and its type is inferred from it",
            ));
        }
        _ => {}
    }
}

fn function_sigs(detail: &Detail) -> Option<&[Sig]> {
    match detail {
        Detail::Function { sigs } => Some(sigs),
        Detail::Variable { sig: Some(s), .. } => Some(std::slice::from_ref(s)),
        _ => None,
    }
}

/// A body changed behind a signature without a return type annotation.
fn inferred(os: &[Sig], ns: &[Sig], o: &Item, n: &Item, inferable: bool, out: &mut Vec<Found>) {
    let unannotated = |sigs: &[Sig]| sigs.iter().any(|s| s.ret.is_none());
    if inferable && unannotated(os) && unannotated(ns) && o.body != n.body {
        out.push(found(
            ChangeKind::Signature,
            INFERRED_TYPE_CHANGED,
            "no return type annotation: the return type is inferred from the body, which changed",
        ));
    }
}

fn unknown(before: &str, after: &str) -> Found {
    found(
        ChangeKind::Signature,
        TYPE_TEXT_CHANGED,
        format!("`{before}` became `{after}`: aliases, generics and structural types need the compiler to compare"),
    )
}

fn type_params(o: &str, n: &str, out: &mut Vec<Found>) {
    if o != n {
        out.push(found(
            ChangeKind::Signature,
            TYPE_PARAMETERS_CHANGED,
            format!("`{o}` became `{n}`: breaks uses that name type arguments unless the new ones have defaults"),
        ));
    }
}

fn heritage(o: &str, n: &str, out: &mut Vec<Found>) {
    if o != n {
        out.push(found(
            ChangeKind::Signature,
            HERITAGE_CHANGED,
            format!("`{o}` became `{n}`: inherited members and assignability need the compiler"),
        ));
    }
}

fn member(
    o: &Member,
    n: &Member,
    in_class: bool,
    typed: bool,
    inferable: bool,
    out: &mut Vec<Found>,
) {
    let name = &o.name;
    if !o.protected && n.protected {
        out.push(found(
            ChangeKind::Visibility,
            MEMBER_VISIBILITY_NARROWED,
            format!("`{name}` is protected now: only subclasses may use it"),
        ));
    } else if o.protected && !n.protected {
        out.push(found(ChangeKind::Signature, MEMBER_VISIBILITY_WIDENED, ""));
    }
    if !o.readonly && n.readonly {
        out.push(found(
            ChangeKind::Signature,
            READONLY_ADDED,
            format!("assignments to `{name}` no longer compile"),
        ));
    } else if o.readonly && !n.readonly {
        out.push(found(ChangeKind::Signature, READONLY_REMOVED, ""));
    }
    if !o.optional && n.optional {
        out.push(found(
            ChangeKind::Signature,
            PROPERTY_BECAME_OPTIONAL,
            format!("readers of `{name}` now get `undefined` too (strictNullChecks)"),
        ));
    } else if o.optional && !n.optional {
        out.push(found(
            ChangeKind::Signature,
            PROPERTY_BECAME_REQUIRED,
            format!("object literals and implementations without `{name}` no longer compile"),
        ));
    }
    if in_class && !o.is_abstract && n.is_abstract {
        out.push(found(
            ChangeKind::Signature,
            ABSTRACT_MEMBER_ADDED,
            format!("`{name}` became abstract: subclasses must implement it"),
        ));
    }
    match o.kind {
        MemberKind::Property | MemberKind::Index => {
            let position = if in_class && o.readonly && n.readonly {
                Position::Output
            } else {
                Position::Both
            };
            typed_at(o.ty.as_ref(), n.ty.as_ref(), position, typed, name, out);
            if in_class && inferable && o.ty.is_none() && n.ty.is_none() && o.text != n.text {
                out.push(found(
                    ChangeKind::Signature,
                    INFERRED_TYPE_CHANGED,
                    "no type annotation: its type is inferred from the initializer, which changed",
                ));
            }
        }
        _ => {
            signatures(&o.sigs, &n.sigs, typed, out);
            let unannotated = |sigs: &[Sig]| sigs.iter().any(|s| s.ret.is_none());
            if in_class
                && inferable
                && o.kind == MemberKind::Method
                && unannotated(&o.sigs)
                && unannotated(&n.sigs)
                && o.text != n.text
            {
                out.push(found(
                    ChangeKind::Signature,
                    INFERRED_TYPE_CHANGED,
                    "no return type annotation: the return type is inferred from the body, which changed",
                ));
            }
        }
    }
}

/// Overload sets compared: the same number pairwise, else overloads gone and new.
fn signatures(os: &[Sig], ns: &[Sig], typed: bool, out: &mut Vec<Found>) {
    if os.len() == ns.len() {
        for (o, n) in os.iter().zip(ns) {
            sig(o, n, typed, out);
        }
        return;
    }
    let texts = |s: &[Sig]| -> BTreeSet<String> { s.iter().map(|s| s.text.clone()).collect() };
    let (ot, nt) = (texts(os), texts(ns));
    for gone in ot.difference(&nt) {
        out.push(found(
            ChangeKind::Signature,
            OVERLOAD_REMOVED,
            format!("calls matching `{gone}` no longer compile"),
        ));
    }
    for new in nt.difference(&ot) {
        out.push(found(
            ChangeKind::Signature,
            OVERLOAD_ADDED,
            format!("`{new}`"),
        ));
    }
}

fn sig(o: &Sig, n: &Sig, typed: bool, out: &mut Vec<Found>) {
    type_params(&o.type_params, &n.type_params, out);
    params(&o.params, &n.params, typed, out);
    typed_at(
        o.ret.as_ref(),
        n.ret.as_ref(),
        Position::Output,
        typed,
        "the return type",
        out,
    );
}

fn params(op: &[Param], np: &[Param], typed: bool, out: &mut Vec<Found>) {
    let new_rest = np.last().filter(|p| p.rest).map(|_| np.len() - 1);
    for i in 0..op.len().max(np.len()) {
        match (op.get(i), np.get(i)) {
            (Some(o), Some(n)) => {
                if o.rest && !n.rest {
                    out.push(found(
                        ChangeKind::Signature,
                        PARAMETER_REMOVED,
                        format!("`...{}` is no longer a rest parameter: calls passing more arguments break", o.name),
                    ));
                    continue;
                }
                if !o.rest && n.rest {
                    out.push(found(
                        ChangeKind::Signature,
                        REST_PARAMETER_ADDED,
                        format!("`...{}` now takes the arguments from here on", n.name),
                    ));
                    continue;
                }
                if o.optional && !n.optional {
                    out.push(found(
                        ChangeKind::Signature,
                        PARAMETER_BECAME_REQUIRED,
                        format!("calls that leave out `{}` no longer compile", n.name),
                    ));
                } else if !o.optional && n.optional {
                    out.push(found(
                        ChangeKind::Signature,
                        PARAMETER_BECAME_OPTIONAL,
                        format!("`{}`", n.name),
                    ));
                }
                typed_at(
                    o.ty.as_ref(),
                    n.ty.as_ref(),
                    Position::Input,
                    typed,
                    &n.name,
                    out,
                );
            }
            (Some(o), None) => {
                if new_rest.is_some_and(|r| i > r) {
                    continue;
                }
                let note = if typed {
                    format!(
                        "calls passing `{}` no longer compile (too many arguments)",
                        o.name
                    )
                } else {
                    format!(
                        "calls passing `{}` still run, but the argument is ignored",
                        o.name
                    )
                };
                out.push(found(ChangeKind::Signature, PARAMETER_REMOVED, note));
            }
            (None, Some(n)) => {
                if op.last().is_some_and(|p| p.rest) {
                    continue;
                }
                let (rule, note) = if n.rest {
                    (REST_PARAMETER_ADDED, format!("`...{}`", n.name))
                } else if n.optional {
                    (OPTIONAL_PARAMETER_ADDED, format!("`{}`", n.name))
                } else {
                    (
                        REQUIRED_PARAMETER_ADDED,
                        format!("calls without `{}` no longer compile", n.name),
                    )
                };
                out.push(found(ChangeKind::Signature, rule, note));
            }
            (None, None) => {}
        }
    }
}

/// A type written at a position compared; `what` names it in notes.
fn typed_at(
    o: Option<&Ty>,
    n: Option<&Ty>,
    position: Position,
    typed: bool,
    what: &str,
    out: &mut Vec<Found>,
) {
    let (o, n) = match (o, n) {
        (Some(o), Some(n)) => (o, n),
        (None, None) => return,
        (o, n) => {
            if typed {
                let text =
                    |t: Option<&Ty>| t.map_or_else(|| "(inferred)".to_string(), |t| t.text.clone());
                out.push(unknown(&text(o), &text(n)));
            }
            return;
        }
    };
    let cmp = types::compare(o, n);
    let gained = || types::missing(n, o).join(", ");
    let lost = || types::missing(o, n).join(", ");
    let f = match (cmp, position) {
        (Cmp::Same, _) => return,
        (Cmp::Unknown, _) => unknown(&o.text, &n.text),
        (Cmp::Wider, Position::Input) => found(
            ChangeKind::Signature,
            PARAMETER_UNION_WIDENED,
            format!("`{what}` also accepts {}", gained()),
        ),
        (Cmp::Narrower, Position::Input) => found(
            ChangeKind::Signature,
            PARAMETER_UNION_NARROWED,
            format!("`{what}` no longer accepts {}", lost()),
        ),
        (Cmp::Different, Position::Input) => found(
            ChangeKind::Signature,
            PARAMETER_TYPE_CHANGED,
            format!("`{what}` was `{}` and is `{}`", o.text, n.text),
        ),
        (Cmp::Wider, Position::Output) => found(
            ChangeKind::Signature,
            RETURN_UNION_WIDENED,
            format!("{what} may now be {}: readers must handle it", gained()),
        ),
        (Cmp::Narrower, Position::Output) => found(
            ChangeKind::Signature,
            RETURN_UNION_NARROWED,
            format!("{what} is no longer {}", lost()),
        ),
        (Cmp::Different, Position::Output) => found(
            ChangeKind::Signature,
            RETURN_TYPE_CHANGED,
            format!("{what} was `{}` and is `{}`", o.text, n.text),
        ),
        (_, Position::Both) => found(
            ChangeKind::Signature,
            PROPERTY_TYPE_CHANGED,
            format!(
                "`{what}` was `{}` and is `{}`: it is both read and written (or implemented)",
                o.text, n.text
            ),
        ),
    };
    out.push(f);
}
