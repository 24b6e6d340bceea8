//! ANALYZE, architecture: what the import graph and the history say of the code's
//! structure together. Implicit dependencies (co-change without an import), import
//! cycles, imports against the configured layer order, and god files (size × fan-in ×
//! churn). Rankings are over the whole repository; a changed-files run reports only the
//! findings touching a file in scope.

use super::{At, Emitter, Inputs};
use crate::assess::layers::layer_of;
use crate::assess::modules::{god_file_ranking, Ranked};
use crate::imports::{cycles, unit, EdgeKind};
use serde_json::json;

/// At most this many implicit dependencies are reported, the strongest first.
pub const MAX_IMPLICIT: usize = 50;

/// At most this many members of a cycle are listed in its evidence (all are counted).
const MAX_LISTED: usize = 50;

/// At most this many importers of a god file are listed in its evidence.
const MAX_IMPORTERS_LISTED: usize = 10;

/// Pairs of files that change together strongly with no import either way.
pub(super) fn implicit_dependencies(inputs: &Inputs<'_>, out: &mut Emitter<'_>) {
    if !out.active("implicit-dependency") {
        return;
    }
    let mut pairs: Vec<_> = inputs
        .history
        .couplings(inputs.mining)
        .into_iter()
        .filter(|c| inputs.scan.file(&c.file).is_some() && inputs.scan.file(&c.partner).is_some())
        // Go files of one package use each other without imports.
        .filter(|c| !(c.file.ends_with(".go") && unit(&c.file) == unit(&c.partner)))
        .filter(|c| !inputs.imports.linked(&c.file, &c.partner))
        .map(|c| {
            let reverse = f64::from(c.shared_revs) / f64::from(c.partner_revs.max(1));
            (c.confidence.max(reverse), reverse, c)
        })
        .filter(|(best, _, _)| *best >= inputs.config.implicit_min_confidence)
        .collect();
    pairs.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(b.2.shared_revs.cmp(&a.2.shared_revs))
            .then_with(|| (&a.2.file, &a.2.partner).cmp(&(&b.2.file, &b.2.partner)))
    });
    for (best, reverse, c) in pairs.into_iter().take(MAX_IMPLICIT) {
        if !(inputs.in_scope(&c.file) || inputs.in_scope(&c.partner)) {
            continue;
        }
        out.emit(
            "implicit-dependency",
            At {
                key: &c.partner,
                ..At::file(&c.file)
            },
            None,
            format!(
                "changes with {} ({:.0}% confidence, {} shared commits) but neither file imports the other",
                c.partner,
                best * 100.0,
                c.shared_revs
            ),
            json!({
                "partner": c.partner,
                "confidence": best,
                "file_to_partner": c.confidence,
                "partner_to_file": reverse,
                "support": c.support,
                "shared_revs": c.shared_revs,
                "file_revs": c.file_revs,
                "partner_revs": c.partner_revs,
                "degree": c.degree,
                "imports": "none either way",
            }),
        );
    }
}

/// Each import cycle once, keyed by its members.
pub(super) fn import_cycles(inputs: &Inputs<'_>, out: &mut Emitter<'_>) {
    if !out.active("import-cycle") {
        return;
    }
    for cycle in cycles::cycles(inputs.imports) {
        let Some(first) = cycle.steps.first() else {
            continue;
        };
        let touched = inputs.changed.is_none_or(|changed| {
            changed
                .iter()
                .any(|p| cycle.members.binary_search(&unit(p)).is_ok())
        });
        if !touched {
            continue;
        }
        let key = cycle.members.join("\n");
        let mut loop_names: Vec<String> = cycle.steps.iter().map(|s| unit(&s.from)).collect();
        loop_names.push(unit(&first.from));
        let steps: Vec<_> = cycle
            .steps
            .iter()
            .map(|s| json!({"from": s.from, "to": s.to, "line": s.line, "module": s.module}))
            .collect();
        out.emit(
            "import-cycle",
            At {
                path: &first.from,
                symbol: "",
                key: &key,
                lines: (first.line, first.line),
            },
            None,
            format!(
                "import cycle of {} modules; one loop: {}",
                cycle.members.len(),
                loop_names.join(" → ")
            ),
            json!({
                "size": cycle.members.len(),
                "members": cycle.members.iter().take(MAX_LISTED).collect::<Vec<_>>(),
                "cycle": steps,
            }),
        );
    }
}

/// Imports from a file into one of a higher layer.
pub(super) fn layer_violations(inputs: &Inputs<'_>, out: &mut Emitter<'_>) {
    let layers = &inputs.config.layers;
    if layers.is_empty() || !out.active("layer-violation") {
        return;
    }
    for (from, to, edge) in inputs.imports.edges() {
        if edge.kind != EdgeKind::Import || !inputs.in_scope(from) {
            continue;
        }
        let (Some(own), Some(target)) = (layer_of(layers, from), layer_of(layers, to)) else {
            continue;
        };
        if target >= own {
            continue;
        }
        let (own_name, target_name) = (layers[own].as_str(), layers[target].as_str());
        out.emit(
            "layer-violation",
            At {
                path: from,
                symbol: "",
                key: to,
                lines: (edge.line, edge.line),
            },
            None,
            format!(
                "layer `{own_name}` imports {to} of the higher layer `{target_name}` (`{}`)",
                edge.module
            ),
            json!({
                "to": to,
                "line": edge.line,
                "module": edge.module,
                "layer": own_name,
                "layer_rank": own,
                "to_layer": target_name,
                "to_layer_rank": target,
            }),
        );
    }
}

/// The files with the highest lines of code × fan-in × commits, over the minimums.
pub(super) fn god_files(inputs: &Inputs<'_>, out: &mut Emitter<'_>) {
    let cfg = inputs.config;
    if !out.active("god-file") {
        return;
    }
    let ranked = god_file_ranking(
        &inputs.scan.files,
        inputs.history,
        inputs.imports,
        cfg.god_file_limits(),
    );
    for (
        rank,
        Ranked {
            score,
            path,
            loc,
            fan_in,
            commits,
        },
    ) in ranked.into_iter().enumerate()
    {
        if !inputs.in_scope(path) {
            continue;
        }
        let importers: Vec<&str> = inputs
            .imports
            .importers(path)
            .take(MAX_IMPORTERS_LISTED)
            .collect();
        out.emit(
            "god-file",
            At::file(path),
            None,
            format!(
                "god file #{}: {loc} lines of code × {fan_in} importing files × {commits} commits (score {score})",
                rank + 1
            ),
            json!({
                "rank": rank + 1,
                "loc": loc,
                "fan_in": fan_in,
                "commits": commits,
                "score": score,
                "importers": importers,
            }),
        );
    }
}
