//! Go's compatibility rules for a declaration compared as text (those of
//! golang.org/x/exp/apidiff that the declaration alone decides).

use super::rules::{rules, Rule};

rules! {
    RULES:
    STRUCT_FIELDS_ADDED = "go/struct-fields-added", Additive, "A struct only gained fields (apidiff: compatible; unkeyed literals of it were never guaranteed).";
}

/// The rule for a public declaration changed from `before` to `after`, if a Go rule
/// decides it.
pub(super) fn signature_rule(before: &str, after: &str) -> Option<&'static Rule> {
    fields_only_added(before, after).then_some(STRUCT_FIELDS_ADDED)
}

/// Whether a Go struct only gained fields (an interface that gains a method is not
/// compatible: its implementations no longer satisfy it).
fn fields_only_added(before: &str, after: &str) -> bool {
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
