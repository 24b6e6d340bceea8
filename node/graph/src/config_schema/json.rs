//! JSON (and JSON with comments, as tsconfig allows): objects' keys and arrays' elements.

use super::{named_children, unquote, KeyPath, Keys, ValueType};
use tree_sitter::Node;

pub(super) fn extract(root: Node<'_>, keys: &mut Keys<'_>) {
    for value in named_children(root) {
        value_at(value, &KeyPath::default(), keys);
    }
}

fn type_of(node: Node<'_>, keys: &Keys<'_>) -> Option<ValueType> {
    Some(match node.kind() {
        "object" => ValueType::Table,
        "array" => ValueType::Array,
        "string" => ValueType::String,
        "number" => {
            let text = keys.text(node);
            if text.contains(['.', 'e', 'E']) {
                ValueType::Float
            } else {
                ValueType::Integer
            }
        }
        "true" | "false" => ValueType::Boolean,
        "null" => ValueType::Null,
        _ => return None,
    })
}

/// The keys inside a value at `path` (the value's own key is its caller's).
fn value_at(node: Node<'_>, path: &KeyPath, keys: &mut Keys<'_>) {
    if !keys.step() {
        return;
    }
    match node.kind() {
        "object" if keys.may_descend(path) => {
            for pair in named_children(node)
                .into_iter()
                .filter(|p| p.kind() == "pair")
            {
                let (Some(key), Some(value)) = (
                    pair.child_by_field_name("key"),
                    pair.child_by_field_name("value"),
                ) else {
                    continue;
                };
                let Some(ty) = type_of(value, keys) else {
                    continue;
                };
                let child = path.child(&unquote(keys.text(key)));
                if !keys.add(&child, ty, key) {
                    return;
                }
                value_at(value, &child, keys);
            }
        }
        "array" if keys.may_descend(path) => {
            let element = path.element();
            for item in named_children(node) {
                let Some(ty) = type_of(item, keys) else {
                    continue;
                };
                if !keys.add(&element, ty, item) {
                    return;
                }
                value_at(item, &element, keys);
            }
        }
        _ => {}
    }
}
