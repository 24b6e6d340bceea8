//! TOML: tables (`[a.b]`), arrays of tables (`[[a]]`, whose keys are under `a[]`, and so
//! are later `[a.b]` headers: they extend the last element), dotted keys, inline tables
//! and arrays.

use super::{named_children, unquote, KeyPath, Keys, ValueType};
use std::collections::HashSet;
use tree_sitter::Node;

pub(super) fn extract(root: Node<'_>, keys: &mut Keys<'_>) {
    // Paths declared `[[...]]`: a header naming one continues its last element.
    let mut arrays: HashSet<String> = HashSet::new();
    for item in named_children(root) {
        if !keys.step() {
            return;
        }
        match item.kind() {
            "pair" => pair(item, &KeyPath::default(), keys),
            kind @ ("table" | "table_array_element") => {
                let children = named_children(item);
                let Some((header, pairs)) = children.split_first() else {
                    continue;
                };
                let Some(path) = header_path(*header, kind == "table", &mut arrays, keys) else {
                    continue;
                };
                for p in pairs.iter().filter(|p| p.kind() == "pair") {
                    pair(*p, &path, keys);
                }
            }
            _ => {}
        }
    }
}

/// The segments of a key (`a`, `"a.b"`, `a.b.c`), read without recursion: a dotted key
/// of many thousand segments nests as deep in the tree.
fn segments(key: Node<'_>, keys: &Keys<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![key];
    while let Some(node) = stack.pop() {
        match node.kind() {
            "dotted_key" => stack.extend(named_children(node).into_iter().rev()),
            "bare_key" => out.push(keys.text(node).to_string()),
            "quoted_key" => out.push(unquote(keys.text(node))),
            _ => {}
        }
        if out.len() > super::MAX_DEPTH {
            break;
        }
    }
    out
}

/// Records a header's tables and returns the path its pairs are under; None when it
/// is too deep or the bounds are spent.
fn header_path(
    header: Node<'_>,
    plain: bool,
    arrays: &mut HashSet<String>,
    keys: &mut Keys<'_>,
) -> Option<KeyPath> {
    let names = segments(header, keys);
    let last = names.len().checked_sub(1)?;
    let mut path = KeyPath::default();
    for (i, name) in names.iter().enumerate() {
        if !keys.may_descend(&path) {
            return None;
        }
        path = path.child(name);
        if i == last && !plain {
            // `[[a]]`: `a` is an array whose elements are tables.
            if !keys.add(&path, ValueType::Array, header) {
                return None;
            }
            arrays.insert(path.text.clone());
            path = path.element();
            if !keys.add(&path, ValueType::Table, header) {
                return None;
            }
        } else if arrays.contains(&path.text) {
            path = path.element();
        } else if !keys.add(&path, ValueType::Table, header) {
            return None;
        }
    }
    Some(path)
}

fn type_of(node: Node<'_>) -> Option<ValueType> {
    Some(match node.kind() {
        "string" => ValueType::String,
        "integer" => ValueType::Integer,
        "float" => ValueType::Float,
        "boolean" => ValueType::Boolean,
        "offset_date_time" | "local_date_time" | "local_date" | "local_time" => ValueType::Datetime,
        "array" => ValueType::Array,
        "inline_table" => ValueType::Table,
        _ => return None,
    })
}

/// `key = value` under `table`: the dotted key's intermediate tables, the key, and what
/// its value holds.
fn pair(node: Node<'_>, table: &KeyPath, keys: &mut Keys<'_>) {
    let children = named_children(node);
    let (Some(key), Some(value)) = (children.first(), children.last()) else {
        return;
    };
    let Some(ty) = type_of(*value) else {
        return;
    };
    let names = segments(*key, keys);
    let mut path = table.clone();
    for (i, name) in names.iter().enumerate() {
        if !keys.may_descend(&path) {
            return;
        }
        path = path.child(name);
        let of = if i + 1 == names.len() {
            ty
        } else {
            ValueType::Table
        };
        if !keys.add(&path, of, *key) {
            return;
        }
    }
    if !names.is_empty() {
        value_at(*value, &path, keys);
    }
}

/// The keys inside a value at `path`.
fn value_at(node: Node<'_>, path: &KeyPath, keys: &mut Keys<'_>) {
    if !keys.step() {
        return;
    }
    match node.kind() {
        "inline_table" if keys.may_descend(path) => {
            for p in named_children(node)
                .into_iter()
                .filter(|p| p.kind() == "pair")
            {
                pair(p, path, keys);
            }
        }
        "array" if keys.may_descend(path) => {
            let element = path.element();
            for item in named_children(node) {
                let Some(ty) = type_of(item) else { continue };
                if !keys.add(&element, ty, item) {
                    return;
                }
                value_at(item, &element, keys);
            }
        }
        _ => {}
    }
}
