//! ANALYZE, documentation gaps: public symbols of the files dependents can use
//! ([`crate::api::exposed`]) that have no doc comment, ranked so the few worth writing
//! first come out on top: by how many files of the repository use the symbol (files
//! importing its file and naming it, or importing the module whole and calling or naming
//! it; for a method, also calling it by name), then by its file's churn. Only the top `doc_gap_count` are reported.
//!
//! Left out: modules (their docs are inner `//!` comments in the module's own file),
//! trait implementations and their items (documented at the trait), fields, variants,
//! Python's dunder methods and private modules; overloads count once.

use super::{At, Emitter, Inputs};
use crate::facts::{Symbol, SymbolKind};
use crate::scan::ScannedFile;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// At most this many users of a symbol are listed in its evidence (all are counted).
const MAX_USERS_LISTED: usize = 5;

/// Only the first this many undocumented symbols of a file are ranked: counting a
/// symbol's users looks at every importer of its file, so a generated file of a hundred
/// thousand functions imported everywhere must not cost their product.
const MAX_GAPS_PER_FILE: usize = 2_000;

/// The undocumented public symbols, most used first, as findings.
pub(super) fn doc_gaps(inputs: &Inputs<'_>, out: &mut Emitter<'_>) {
    if !out.active("doc-gap") {
        return;
    }
    let mut referenced: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut gaps: Vec<(usize, u32, &ScannedFile, &Symbol, Vec<&str>)> = Vec::new();
    for file in inputs.scan.files.iter().filter(|f| exposed(&f.path)) {
        let churn = inputs.history.file(&file.path).map_or(0, |h| h.commits);
        // Overloads (`@overload`, TypeScript signatures) share a name and so an id: the
        // first stands for them.
        let mut seen = BTreeSet::new();
        let candidates = file.facts.symbols.iter().filter(|s| undocumented(file, s));
        for s in candidates.take(MAX_GAPS_PER_FILE) {
            if !seen.insert(s.qualified.as_str()) {
                continue;
            }
            let users = users(inputs, &mut referenced, &file.path, s);
            gaps.push((users.len(), churn, file, s, users));
        }
    }
    let undocumented = gaps.len();
    gaps.sort_by(|a, b| {
        (b.0, b.1)
            .cmp(&(a.0, a.1))
            .then_with(|| (&a.2.path, &a.3.qualified).cmp(&(&b.2.path, &b.3.qualified)))
    });
    for (rank, (uses, churn, file, s, users)) in gaps
        .into_iter()
        .take(inputs.config.doc_gap_count as usize)
        .enumerate()
    {
        if !inputs.in_scope(&file.path) {
            continue;
        }
        let listed: Vec<&str> = users.into_iter().take(MAX_USERS_LISTED).collect();
        out.emit(
            "doc-gap",
            At::symbol(&file.path, s),
            None,
            format!(
                "public {} `{}` has no doc comment (#{} of {undocumented}: used by {uses} file(s), {churn} commits)",
                s.kind.as_str(),
                s.qualified,
                rank + 1
            ),
            json!({
                "rank": rank + 1,
                "undocumented": undocumented,
                "uses": uses,
                "users": listed,
                "churn": churn,
                "kind": s.kind.as_str(),
            }),
        );
    }
}

/// Files whose public symbols dependents use: [`crate::api::exposed`], and for Python not
/// a private module (`_compat.py`, `_impl/`).
fn exposed(path: &str) -> bool {
    let python = path.ends_with(".py") || path.ends_with(".pyi");
    crate::api::exposed(path) && !(python && crate::api::python_modules::private_module(path))
}

/// A public symbol a doc comment belongs on and that has none.
fn undocumented(file: &ScannedFile, s: &Symbol) -> bool {
    let kind_counts = !matches!(
        s.kind,
        SymbolKind::Module | SymbolKind::Impl | SymbolKind::Field | SymbolKind::Variant
    );
    // Python's `__init__`, `__repr__`, …: protocol methods, documented by the protocol
    // (and a constructor by its class).
    let dunder = s.name.len() > 4 && s.name.starts_with("__") && s.name.ends_with("__");
    s.public && s.doc.trim().is_empty() && kind_counts && !dunder && !in_trait_impl(file, s)
}

/// A Rust item public only because it implements a trait (a method, an associated type
/// or const of `impl Trait for T`): no `pub`, and no trait of the file declares it.
fn in_trait_impl(file: &ScannedFile, s: &Symbol) -> bool {
    file.path.ends_with(".rs")
        && !s.signature.starts_with("pub")
        && !file.facts.symbols.iter().any(|t| {
            t.kind == SymbolKind::Trait
                && s.qualified
                    .strip_prefix(t.qualified.as_str())
                    .is_some_and(|rest| rest.starts_with("::"))
        })
}

/// The files using `s` of the file at `path`: its importers that reach the symbol's
/// top-level item (naming it, or importing the whole module (or `*`) and referencing it)
/// and, for a member (`Type::method`, `Class.method`), also reference the member's name:
/// a class used everywhere does not make each of its methods used everywhere.
fn users<'a>(
    inputs: &Inputs<'a>,
    referenced: &mut BTreeMap<&'a str, BTreeSet<&'a str>>,
    path: &str,
    s: &Symbol,
) -> Vec<&'a str> {
    let top = s.qualified.split([':', '.']).next().unwrap_or(&s.name);
    let member = top != s.qualified;
    let (imports, scan) = (inputs.imports, inputs.scan);
    let mut out = Vec::new();
    for importer in imports.importers(path) {
        let Some(edge) = imports.edge(importer, path) else {
            continue;
        };
        let names = referenced.entry(importer).or_insert_with(|| {
            scan.file(importer).map_or_else(BTreeSet::new, |f| {
                f.facts.references.iter().map(|r| r.name.as_str()).collect()
            })
        });
        let reaches_top = edge.names.contains(top) || (edge.whole && names.contains(top));
        let uses = if member {
            reaches_top && names.contains(s.name.as_str())
        } else {
            reaches_top
        };
        if uses {
            out.push(importer);
        }
    }
    out
}
