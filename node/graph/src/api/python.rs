//! Python's call compatibility, read from two `def` headers: whether every call the old
//! signature accepts is still accepted by the new one (the parameter rules griffe's
//! breaking-change detection uses: a parameter removed, moved, made required or
//! keyword-only, a default removed; `*args`/`**kwargs` absorbing what was named).
//! Annotations are not checked: Python does not enforce them at a call.

use super::rules::{rules, Rule};

/// How a parameter may be passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Before `/`: by position only.
    PositionalOnly,
    /// By position or by name.
    Either,
    /// `*args`.
    VarPositional,
    /// After `*` or `*args`: by name only.
    KeywordOnly,
    /// `**kwargs`.
    VarKeyword,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Param {
    name: String,
    kind: Kind,
    default: bool,
}

/// The prefix before the parameters (`async def name`, with the name taken out) and the
/// parameters, or None when the header is not a plain `def`.
fn parse(header: &str) -> Option<(String, Vec<Param>)> {
    if !(header.starts_with("def ") || header.starts_with("async def ")) {
        return None;
    }
    let open = header.find('(')?;
    let close = matching_close(header, open)?;
    let prefix = header[..open].trim();
    let prefix = prefix
        .rsplit_once(' ')
        .map_or(prefix, |(head, _)| head)
        .to_string();
    let mut params: Vec<Param> = Vec::new();
    let mut kind = Kind::Either;
    for part in split_top_level(&header[open + 1..close]) {
        let part = part.trim();
        match part {
            "" => continue,
            "/" => {
                for p in params.iter_mut() {
                    if p.kind == Kind::Either {
                        p.kind = Kind::PositionalOnly;
                    }
                }
                continue;
            }
            "*" => {
                kind = Kind::KeywordOnly;
                continue;
            }
            _ => {}
        }
        let (this, rest) = if let Some(rest) = part.strip_prefix("**") {
            (Kind::VarKeyword, rest)
        } else if let Some(rest) = part.strip_prefix('*') {
            kind = Kind::KeywordOnly;
            (Kind::VarPositional, rest)
        } else {
            (kind, part)
        };
        let default = rest.contains('=');
        let name = rest
            .split([':', '='])
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        params.push(Param {
            name,
            kind: this,
            default,
        });
    }
    Some((prefix, params))
}

/// The index of the `)` closing the `(` at `open`.
fn matching_close(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices().skip_while(|(i, _)| *i < open) {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits on the commas outside brackets and string literals.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0usize, None::<char>, 0);
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth = depth.saturating_sub(1),
            (None, ',') if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

rules! {
    RULES:
    CALLS_ACCEPTED = "python/calls-still-accepted", Additive, "Every call the old parameters accept, the new ones accept (parameters added with defaults, `*args`/`**kwargs` absorbing what was named).";
    OBJECT_CHANGED_KIND = "python/object-changed-kind", Breaking, "A def became async (or the reverse): callers get another kind of object.";
    PARAMETER_MOVED = "python/parameter-moved", Breaking, "A parameter passed by position is at another place.";
    PARAMETER_REMOVED = "python/parameter-removed", Breaking, "A parameter callers pass is gone, and no `*args`/`**kwargs` takes it.";
    PARAMETER_CHANGED_KIND = "python/parameter-changed-kind", Breaking, "A parameter became keyword-only or positional-only: calls passing it the old way fail.";
    PARAMETER_ADDED_REQUIRED = "python/parameter-added-required", Breaking, "A new parameter has no default: existing calls lack it.";
    PARAMETER_CHANGED_REQUIRED = "python/parameter-changed-required", Breaking, "A parameter lost its default: calls that left it out fail.";
    ATTRIBUTE_CHANGED_TYPE = "python/attribute-changed-type", Undetermined, "An attribute's annotation changed: Python does not enforce it, type checkers of dependents may fail.";
    CLASS_REMOVED_BASE = "python/class-removed-base", Breaking, "A class lost a base class: `isinstance` checks and inherited members break.";
    CLASS_ADDED_BASE = "python/class-added-base", Additive, "A class gained a base class and kept every other.";
    METHOD_MOVED_TO_BASE = "python/method-moved-to-base", Internal, "A method left a class for one of its base classes: instances still have it.";
    NOW_REEXPORTED = "python/now-reexported", Internal, "A definition left the module, which now imports the name from elsewhere: `from module import name` still works.";
    CLASS_BASES_REORDERED = "python/class-bases-reordered", Undetermined, "A class's bases are in another order: the method resolution order changed.";
}

/// Removals from a Python module that now imports the same name: still importable there
/// (attrs 24 moved `attr.define` to `attrs` and re-exports it).
pub(super) fn reexported_now(
    path: &str,
    imported: &std::collections::BTreeSet<String>,
    changes: &mut [super::ApiChange],
) {
    if !(path.ends_with(".py") || path.ends_with(".pyi")) {
        return;
    }
    for c in changes.iter_mut() {
        let top = c.qualified.split('.').next().unwrap_or("");
        if c.change == super::ChangeKind::Removed && imported.contains(top) {
            c.change = super::ChangeKind::Moved;
            c.class = NOW_REEXPORTED.class;
            c.rule = NOW_REEXPORTED.id.to_string();
        }
    }
}

/// The bases a class header names (`class C(A, m.B, metaclass=M)` → `A`, `m.B`).
pub(super) fn class_bases(header: &str) -> Vec<String> {
    bases(header)
        .unwrap_or_default()
        .into_iter()
        .filter(|b| !b.contains('='))
        .collect()
}

/// `class C(A, B)` as its bases, or None when the header is not a class's.
fn bases(header: &str) -> Option<Vec<String>> {
    let rest = header.strip_prefix("class ")?;
    let Some(open) = rest.find('(') else {
        return Some(Vec::new());
    };
    let close = matching_close(rest, open)?;
    Some(
        split_top_level(&rest[open + 1..close])
            .into_iter()
            .map(|b| b.split_whitespace().collect::<String>())
            .filter(|b| !b.is_empty())
            .collect(),
    )
}

/// The rule for a class header or attribute declaration changed.
fn declaration_rule(before: &str, after: &str) -> Option<&'static Rule> {
    if let (Some(old), Some(new)) = (bases(before), bases(after)) {
        let name = |h: &str| {
            h.split(['(', ':'])
                .next()
                .map(str::trim)
                .map(str::to_string)
        };
        if name(before) != name(after) {
            return None;
        }
        return Some(if old.iter().any(|b| !new.contains(b)) {
            CLASS_REMOVED_BASE
        } else if new.len() > old.len() {
            CLASS_ADDED_BASE
        } else {
            CLASS_BASES_REORDERED
        });
    }
    let attribute = |h: &str| {
        !h.contains(['(', ' ']) || h.split_once(": ").is_some_and(|(n, _)| !n.contains(' '))
    };
    (attribute(before) && attribute(after)).then_some(ATTRIBUTE_CHANGED_TYPE)
}

/// The rule for a public `def` header changed from `before` to `after`; None when either
/// header cannot be read as a `def`.
pub(super) fn signature_rule(before: &str, after: &str) -> Option<&'static Rule> {
    let Some(accepted) = calls_still_accepted(before, after) else {
        return declaration_rule(before, after);
    };
    Some(match accepted {
        Ok(()) => CALLS_ACCEPTED,
        Err(rule) => rule,
    })
}

/// Whether every call `before` accepts, `after` accepts too (else the rule it breaks);
/// None when either header cannot be read as a `def`.
fn calls_still_accepted(before: &str, after: &str) -> Option<Result<(), &'static Rule>> {
    let (old_prefix, old) = parse(before)?;
    let (new_prefix, new) = parse(after)?;
    if old_prefix != new_prefix {
        // `def` ↔ `async def`: callers see another thing.
        return Some(Err(OBJECT_CHANGED_KIND));
    }
    let positional = |params: &[Param]| -> Vec<Param> {
        params
            .iter()
            .filter(|p| matches!(p.kind, Kind::PositionalOnly | Kind::Either))
            .cloned()
            .collect()
    };
    let (old_pos, new_pos) = (positional(&old), positional(&new));
    let new_star = new.iter().any(|p| p.kind == Kind::VarPositional);
    let new_kwargs = new.iter().any(|p| p.kind == Kind::VarKeyword);
    // Why a parameter of the old header is not where callers pass it.
    let lost = |p: &Param| -> &'static Rule {
        match new.iter().find(|n| n.name == p.name) {
            Some(n) if n.kind != p.kind => PARAMETER_CHANGED_KIND,
            Some(_) => PARAMETER_MOVED,
            None => PARAMETER_REMOVED,
        }
    };
    // Arguments passed by position keep their place.
    for (i, p) in old_pos.iter().enumerate() {
        match new_pos.get(i) {
            Some(n) if p.kind == Kind::PositionalOnly || n.name == p.name => {}
            None if new_star => {}
            _ => return Some(Err(lost(p))),
        }
    }
    if old.iter().any(|p| p.kind == Kind::VarPositional) && !new_star {
        return Some(Err(PARAMETER_REMOVED));
    }
    // Arguments passed by name still find a parameter of that name (or `**kwargs`).
    for p in old
        .iter()
        .filter(|p| matches!(p.kind, Kind::Either | Kind::KeywordOnly))
    {
        let named = new
            .iter()
            .any(|n| n.name == p.name && matches!(n.kind, Kind::Either | Kind::KeywordOnly));
        if !named && !new_kwargs {
            return Some(Err(lost(p)));
        }
    }
    if old.iter().any(|p| p.kind == Kind::VarKeyword) && !new_kwargs {
        return Some(Err(PARAMETER_REMOVED));
    }
    // Nothing newly required: a required parameter must have been required before,
    // under its name and (for positional ones) at its place.
    for (i, n) in new.iter().enumerate() {
        let required = !n.default
            && matches!(
                n.kind,
                Kind::PositionalOnly | Kind::Either | Kind::KeywordOnly
            );
        if !required {
            continue;
        }
        let was_required = match n.kind {
            Kind::KeywordOnly => old
                .iter()
                .any(|o| o.name == n.name && !o.default && o.kind != Kind::VarKeyword),
            _ => {
                let at = new_pos.iter().position(|p| p.name == n.name).unwrap_or(i);
                old_pos.get(at).is_some_and(|o| !o.default)
            }
        };
        if !was_required {
            let existed = old.iter().any(|o| o.name == n.name);
            return Some(Err(if existed {
                PARAMETER_CHANGED_REQUIRED
            } else {
                PARAMETER_ADDED_REQUIRED
            }));
        }
    }
    Some(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_the_old_signature_accepts_still_work_or_not() {
        let rule = |before: &str, after: &str| signature_rule(before, after).map(|r| r.id);
        let compatible = [
            ("def f(x)", "def f(x, y=1)"),
            ("def f(x)", "def f(*x, **y)"),
            ("def f(x, y=1)", "def f(x, y=2)"),
            ("def f(x: int) -> int", "def f(x: str) -> str"),
            ("def f(x, *, y)", "def f(x, *, y=1)"),
            ("def f(x, /)", "def f(renamed, /)"),
            ("def f(x)", "def f(x, **kw)"),
            (
                "async def f(a, b: dict[str, int] = {'a': 1, 'b': 2})",
                "async def f(a, b=None, c=3)",
            ),
        ];
        for (before, after) in compatible {
            assert_eq!(
                rule(before, after),
                Some(CALLS_ACCEPTED.id),
                "{before} -> {after}"
            );
        }
        let breaking = [
            ("def f(x)", "def f(x, *, y)", PARAMETER_ADDED_REQUIRED),
            ("def f(x, y=1)", "def f(x, y)", PARAMETER_CHANGED_REQUIRED),
            ("def f(x, y)", "def f(y, x)", PARAMETER_MOVED),
            ("def f(x)", "def f(y)", PARAMETER_REMOVED),
            ("def f(x, y)", "def f(x)", PARAMETER_REMOVED),
            ("def f(x, y)", "def f(x, *, y)", PARAMETER_CHANGED_KIND),
            ("def f(*args)", "def f(a)", PARAMETER_REMOVED),
            ("def f(**kw)", "def f(a=1)", PARAMETER_REMOVED),
            ("def f(x)", "async def f(x)", OBJECT_CHANGED_KIND),
            ("def f(x)", "def f(x, /)", PARAMETER_CHANGED_KIND),
        ];
        for (before, after, expected) in breaking {
            assert_eq!(
                rule(before, after),
                Some(expected.id),
                "{before} -> {after}"
            );
        }
        assert_eq!(rule("class C", "class C(Base)"), Some(CLASS_ADDED_BASE.id));
        assert_eq!(
            rule("class C(A, B)", "class C(A)"),
            Some(CLASS_REMOVED_BASE.id)
        );
        assert_eq!(
            rule("class C(A, B)", "class C(B, A)"),
            Some(CLASS_BASES_REORDERED.id)
        );
        assert_eq!(
            rule("timeout: float", "timeout: int"),
            Some(ATTRIBUTE_CHANGED_TYPE.id)
        );
        assert_eq!(rule("def f(x)", "timeout: int"), None);
    }
}
