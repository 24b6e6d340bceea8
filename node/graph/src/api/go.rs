//! Go's compatibility rules for a declaration compared as text: those of
//! golang.org/x/exp/apidiff that the declaration alone decides — struct fields added,
//! removed or retyped and comparability, interface methods added (and sealed interfaces),
//! a method's receiver `*T` → `T`, a result channel losing its direction, and the same
//! signature spelt another way (grouped parameter names, other parameter names,
//! `interface{}` for `any`).

use super::rules::{rules, Rule};

rules! {
    RULES:
    STRUCT_FIELDS_ADDED = "go/struct-fields-added", Additive, "A struct only gained fields (apidiff: compatible; unkeyed literals of it were never guaranteed).";
    STRUCT_NO_LONGER_COMPARABLE = "go/struct-no-longer-comparable", Breaking, "A comparable struct gained a field of a slice, map or func type: `==` and map keys of it break.";
    STRUCT_FIELD_REMOVED = "go/struct-field-removed", Breaking, "An exported struct field is gone.";
    STRUCT_FIELD_TYPE_CHANGED = "go/struct-field-type-changed", Breaking, "An exported struct field has another type.";
    INTERFACE_METHOD_ADDED = "go/interface-method-added", Breaking, "An interface gained a method: its implementations outside the package no longer satisfy it.";
    SEALED_INTERFACE_METHOD_ADDED = "go/sealed-interface-method-added", Additive, "An interface with an unexported method gained a method: nothing outside the package can implement it.";
    INTERFACE_METHOD_REMOVED = "go/interface-method-removed", Breaking, "An interface lost a method: callers of it through the interface break.";
    RECEIVER_POINTER_TO_VALUE = "go/receiver-pointer-to-value", Additive, "A method's receiver went from `*T` to `T`: both method sets still have it.";
    RECEIVER_VALUE_TO_POINTER = "go/receiver-value-to-pointer", Breaking, "A method's receiver went from `T` to `*T`: values of `T` lose it.";
    RESULT_CHAN_DIRECTION_DROPPED = "go/result-chan-direction-dropped", Additive, "A result went from `<-chan T` or `chan<- T` to `chan T`: still assignable where the old type was.";
    FOREIGN_TYPE_RENAMED = "go/foreign-type-renamed", Undetermined, "A type now names another package's type by another name: the same type only if one is an alias of the other.";
    SAME_SIGNATURE = "go/same-signature", Internal, "The same types spelt another way (parameter names, grouping, `any` for `interface{}`).";
}

/// The rule for a public declaration changed from `before` to `after`, if a Go rule
/// decides it.
pub(super) fn signature_rule(before: &str, after: &str) -> Option<&'static Rule> {
    if let (Some(old), Some(new)) = (members(before, "struct"), members(after, "struct")) {
        return struct_rule(&old, &new);
    }
    if let (Some(old), Some(new)) = (members(before, "interface"), members(after, "interface")) {
        return interface_rule(&old, &new);
    }
    if let Some(rule) = foreign_rule(before, after) {
        return Some(rule);
    }
    func_rule(before, after)
}

/// `type T pkg.A` → `type T pkg.B` (cobra 1.10 followed pflag's rename of
/// `ParseErrorsWhitelist` to `ParseErrorsAllowlist`, which kept the old name as an alias).
fn foreign_rule(before: &str, after: &str) -> Option<&'static Rule> {
    let named = |s: &str| -> Option<(String, String)> {
        let rest = s.strip_prefix("type ")?;
        let (name, ty) = rest.split_once(' ')?;
        let ty = ty.trim_start_matches("= ").trim();
        let qualified = ty.split_once('.').is_some_and(|(p, t)| {
            !p.is_empty()
                && p.chars().all(|c| c.is_alphanumeric() || c == '_')
                && t.chars().all(|c| c.is_alphanumeric() || c == '_')
        });
        qualified.then(|| (name.to_string(), ty.to_string()))
    };
    match (named(before), named(after)) {
        (Some((a, _)), Some((b, _))) if a == b => Some(FOREIGN_TYPE_RENAMED),
        _ => None,
    }
}

/// The head (`type S`) and the `; `-separated members of a struct or interface type.
fn members(signature: &str, keyword: &str) -> Option<(String, Vec<String>)> {
    let (head, rest) = signature.split_once(&format!(" {keyword} {{"))?;
    let body = rest.trim().strip_suffix('}')?.trim();
    let members = body
        .split(';')
        .map(|m| m.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|m| !m.is_empty())
        .collect();
    Some((head.to_string(), members))
}

/// A struct field's name and type (an embedded field is its own name and type).
fn field(member: &str) -> (String, String) {
    match member.split_once(' ') {
        Some((name, ty)) => (name.to_string(), normal_type(ty)),
        None => (member.to_string(), member.to_string()),
    }
}

fn comparable(ty: &str) -> bool {
    !(ty.starts_with("[]") || ty.starts_with("map[") || ty.starts_with("func"))
}

fn exported(name: &str) -> bool {
    name.trim_start_matches('*')
        .rsplit('.')
        .next()
        .is_some_and(|n| n.starts_with(|c: char| c.is_uppercase()))
}

fn struct_rule(old: &(String, Vec<String>), new: &(String, Vec<String>)) -> Option<&'static Rule> {
    if old.0 != new.0 {
        return None;
    }
    let (of, nf): (Vec<_>, Vec<_>) = (
        old.1.iter().map(|m| field(m)).collect(),
        new.1.iter().map(|m| field(m)).collect(),
    );
    for (name, ty) in of.iter().filter(|(n, _)| exported(n)) {
        match nf.iter().find(|(n, _)| n == name) {
            None => return Some(STRUCT_FIELD_REMOVED),
            Some((_, t)) if t != ty => return Some(STRUCT_FIELD_TYPE_CHANGED),
            _ => {}
        }
    }
    let added: Vec<&(String, String)> = nf
        .iter()
        .filter(|(n, _)| !of.iter().any(|(o, _)| o == n))
        .collect();
    let was_comparable = of.iter().all(|(_, t)| comparable(t));
    if was_comparable && added.iter().any(|(_, t)| !comparable(t)) {
        return Some(STRUCT_NO_LONGER_COMPARABLE);
    }
    // Unexported fields removed or retyped, fields added: nothing outside can tell.
    Some(STRUCT_FIELDS_ADDED)
}

fn interface_rule(
    old: &(String, Vec<String>),
    new: &(String, Vec<String>),
) -> Option<&'static Rule> {
    if old.0 != new.0 {
        return None;
    }
    let norm = |ms: &[String]| -> Vec<String> { ms.iter().map(|m| normal_method(m)).collect() };
    let (om, nm) = (norm(&old.1), norm(&new.1));
    if om.iter().any(|m| !nm.contains(m)) {
        return Some(INTERFACE_METHOD_REMOVED);
    }
    if nm.iter().any(|m| !om.contains(m)) {
        let sealed = om
            .iter()
            .any(|m| !exported(m.split('(').next().unwrap_or("")));
        return Some(if sealed {
            SEALED_INTERFACE_METHOD_ADDED
        } else {
            INTERFACE_METHOD_ADDED
        });
    }
    Some(SAME_SIGNATURE)
}

/// An interface method as its types: `Read(p []byte) (n int, err error)` → `Read([]byte) (int, error)`.
fn normal_method(member: &str) -> String {
    match member.find('(') {
        Some(open) => format!(
            "{}{}",
            &member[..open],
            normal_params_and_results(&member[open..])
        ),
        None => member.to_string(),
    }
}

fn func_rule(before: &str, after: &str) -> Option<&'static Rule> {
    let (old, new) = (parse_func(before)?, parse_func(after)?);
    if old.name != new.name || old.params != new.params {
        return None;
    }
    let receiver = match (&old.receiver, &new.receiver) {
        (Some(o), Some(n)) if o != n => {
            if o.strip_prefix('*') == Some(n.as_str()) {
                Some(RECEIVER_POINTER_TO_VALUE)
            } else if n.strip_prefix('*') == Some(o.as_str()) {
                Some(RECEIVER_VALUE_TO_POINTER)
            } else {
                return None;
            }
        }
        (o, n) if o == n => None,
        _ => return None,
    };
    if receiver == Some(RECEIVER_VALUE_TO_POINTER) {
        return receiver;
    }
    if old.results == new.results {
        return Some(receiver.unwrap_or(SAME_SIGNATURE));
    }
    let dropped = old.results.len() == new.results.len()
        && old.results.iter().zip(&new.results).all(|(o, n)| {
            o == n
                || (n.starts_with("chan ")
                    && (o.strip_prefix("<-") == Some(n.as_str())
                        || o.replacen("chan<- ", "chan ", 1) == *n))
        });
    dropped.then_some(RESULT_CHAN_DIRECTION_DROPPED)
}

struct Func {
    receiver: Option<String>,
    name: String,
    params: Vec<String>,
    results: Vec<String>,
}

/// `func (r *T) Name(a, b int) (x int, err error)` as its receiver type, name and the
/// types of its parameters and results.
fn parse_func(signature: &str) -> Option<Func> {
    let rest = signature.strip_prefix("func ")?.trim();
    let (receiver, rest) = if rest.starts_with('(') {
        let close = matching(rest, 0)?;
        let types = param_types(&rest[1..close]);
        (types.into_iter().next(), rest[close + 1..].trim())
    } else {
        (None, rest)
    };
    let open = rest.find('(')?;
    let name = rest[..open].trim().to_string();
    let close = matching(rest, open)?;
    let params = param_types(&rest[open + 1..close]);
    let tail = rest[close + 1..].trim();
    let results = if tail.starts_with('(') {
        let end = matching(tail, 0)?;
        param_types(&tail[1..end])
    } else if tail.is_empty() {
        Vec::new()
    } else {
        vec![normal_type(tail)]
    };
    Some(Func {
        receiver,
        name,
        params,
        results,
    })
}

fn normal_params_and_results(text: &str) -> String {
    let Some(close) = matching(text, 0) else {
        return text.to_string();
    };
    let params = param_types(&text[1..close]).join(", ");
    let tail = text[close + 1..].trim();
    let results = if tail.starts_with('(') {
        matching(tail, 0).map_or(tail.to_string(), |end| {
            format!("({})", param_types(&tail[1..end]).join(", "))
        })
    } else {
        normal_type(tail)
    };
    format!("({params}) {results}").trim().to_string()
}

/// The index of the bracket closing the one at `open`.
fn matching(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in text.char_indices().skip_while(|(i, _)| *i < open) {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The types of a parameter list, names dropped and groups expanded (`a, b int` →
/// `int, int`).
fn param_types(list: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in list.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(list[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(list[start..].trim());
    let parts: Vec<&str> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    // Named lists have a space-separated name in at least one part.
    let named = parts.iter().any(|p| {
        let first = p.split_whitespace().next().unwrap_or("");
        p.contains(' ')
            && !first.starts_with(['*', '[', '<'])
            && !matches!(first, "func" | "chan" | "map" | "interface" | "struct")
            && !first.ends_with(']')
    });
    if !named {
        return parts.iter().map(|p| normal_type(p)).collect();
    }
    let mut types = vec![String::new(); parts.len()];
    let mut pending = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        match p.split_once(' ') {
            Some((_, ty)) => {
                let ty = normal_type(ty);
                for j in pending.drain(..) {
                    types[j] = ty.clone();
                }
                types[i] = ty;
            }
            None => pending.push(i),
        }
    }
    types
}

fn normal_type(ty: &str) -> String {
    let ty = ty.split_whitespace().collect::<Vec<_>>().join(" ");
    ty.replace("interface{}", "any")
        .replace("interface {}", "any")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_spelt_another_way_are_the_same() {
        let rule = |a: &str, b: &str| signature_rule(a, b).map(|r| r.id);
        assert_eq!(
            rule("func F(a int, b int) error", "func F(x, y int) error"),
            Some(SAME_SIGNATURE.id)
        );
        assert_eq!(
            rule("func F(v interface{})", "func F(v any)"),
            Some(SAME_SIGNATURE.id)
        );
        assert_eq!(
            rule("func F(a int)", "func F(a int64)"),
            None,
            "another type"
        );
        assert_eq!(
            rule("func (c *C) M()", "func (c C) M()"),
            Some(RECEIVER_POINTER_TO_VALUE.id)
        );
        assert_eq!(
            rule("func (c C) M()", "func (c *C) M()"),
            Some(RECEIVER_VALUE_TO_POINTER.id)
        );
        assert_eq!(
            rule("func F() <-chan int", "func F() chan int"),
            Some(RESULT_CHAN_DIRECTION_DROPPED.id)
        );
        assert_eq!(
            rule("func F(c <-chan int)", "func F(c chan int)"),
            None,
            "a parameter's direction matters"
        );
        assert_eq!(
            rule(
                "type I interface { Read(p []byte) (n int, err error) }",
                "type I interface { Read(b []byte) (int, error) }"
            ),
            Some(SAME_SIGNATURE.id)
        );
    }
}
