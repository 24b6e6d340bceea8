//! YAML: mappings and sequences of every document of a stream (block and flow style),
//! scalars typed by the core schema (or their `!!` tag), aliases resolved to their
//! anchor's node and merge keys (`<<: *base`) expanded into the mapping that holds them.

use super::{named_children, unquote, KeyPath, Keys, ValueType};
use std::collections::HashMap;
use tree_sitter::Node;

/// Most anchors remembered per file.
const MAX_ANCHORS: usize = 10_000;

/// The anchors of a stream: per name, where each is (its start byte, in source order)
/// and the node it names.
type Anchors<'t> = HashMap<String, Vec<(usize, Node<'t>)>>;

/// The document being walked: where it starts, and the stream's anchors.
struct Doc<'a, 't> {
    start: usize,
    anchors: &'a Anchors<'t>,
}

pub(super) fn extract(root: Node<'_>, keys: &mut Keys<'_>) {
    let anchors = anchors(root, keys);
    let mut document = 0u32;
    for doc in named_children(root)
        .into_iter()
        .filter(|d| d.kind() == "document")
    {
        if !keys.step() {
            return;
        }
        keys.document = document;
        document = document.saturating_add(1);
        let doc_ctx = Doc {
            start: doc.start_byte(),
            anchors: &anchors,
        };
        for node in named_children(doc) {
            if matches!(node.kind(), "block_node" | "flow_node") {
                value_at(node, &KeyPath::default(), &doc_ctx, keys);
            }
        }
    }
}

/// Every anchor of the stream (at most [`MAX_ANCHORS`]), found without recursion.
fn anchors<'t>(root: Node<'t>, keys: &Keys<'_>) -> Anchors<'t> {
    let mut out: Anchors<'t> = HashMap::new();
    let mut count = 0usize;
    let mut cursor = root.walk();
    let mut visited = 0usize;
    'walk: loop {
        let node = cursor.node();
        visited += 1;
        if node.kind() == "anchor" {
            if let (Some(name), Some(parent)) = (node.named_child(0), node.parent()) {
                out.entry(keys.text(name).to_string())
                    .or_default()
                    .push((node.start_byte(), parent));
                count += 1;
            }
        }
        if count >= MAX_ANCHORS || visited > super::MAX_WORK {
            break;
        }
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    out
}

/// What a node holds once its wrappers (block/flow node, anchor, tag) are taken off,
/// aliases followed: the content node and the tag, if any.
fn content<'t>(
    node: Node<'t>,
    doc: &Doc<'_, 't>,
    keys: &Keys<'_>,
) -> (Option<Node<'t>>, Option<String>) {
    let mut node = node;
    let mut tag = None;
    // Each alias step goes to an earlier anchor, so this ends; the bound is for safety.
    for _ in 0..8 {
        let mut inner = None;
        for child in named_children(node) {
            match child.kind() {
                "tag" => tag = Some(keys.text(child).to_string()),
                "anchor" => {}
                _ => inner = Some(child),
            }
        }
        let Some(found) = inner else {
            return (None, tag);
        };
        if found.kind() != "alias" {
            return (Some(found), tag);
        }
        match resolve(found, doc, keys) {
            Some(target) => node = target,
            None => return (None, tag),
        }
    }
    (None, tag)
}

/// The node an alias names: the last anchor of that name before it, unless the alias
/// lies inside that anchor's node (a cycle, which YAML does not allow).
fn resolve<'t>(alias: Node<'t>, doc: &Doc<'_, 't>, keys: &Keys<'_>) -> Option<Node<'t>> {
    let at = alias.start_byte();
    let named = doc.anchors.get(keys.text(alias.named_child(0)?))?;
    let before = named.partition_point(|(start, _)| *start < at);
    let &(start, node) = named.get(before.checked_sub(1)?)?;
    (start >= doc.start && !node.byte_range().contains(&at)).then_some(node)
}

/// A YAML 1.1 timestamp (`2001-12-14`, `2001-12-14t21:59:43.10-05:00`, `2001-12-14
/// 21:59:43`): the grammar's core schema (YAML 1.2) has none, but compose files and CI
/// workflows are read by YAML 1.1 loaders.
fn is_timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |from: usize, n: usize| {
        b.len() >= from + n && b[from..from + n].iter().all(u8::is_ascii_digit)
    };
    if !(digits(0, 4) && b.get(4) == Some(&b'-')) {
        return false;
    }
    // Month and day of one or two digits.
    let mut i = 5;
    for part in 0..2 {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 2 {
            i += 1;
        }
        if i == start || (part == 0 && b.get(i) != Some(&b'-')) {
            return false;
        }
        if part == 0 {
            i += 1;
        }
    }
    match b.get(i) {
        None => true,
        Some(b'T' | b't' | b' ' | b'\t') => {
            let rest = text[i + 1..].trim_start();
            rest.len() >= 5 && rest.as_bytes()[0].is_ascii_digit() && rest.contains(':')
        }
        _ => false,
    }
}

fn type_of(content: Option<Node<'_>>, tag: Option<&str>, keys: &Keys<'_>) -> ValueType {
    match tag {
        Some("!!str" | "!!binary") => return ValueType::String,
        Some("!!int") => return ValueType::Integer,
        Some("!!float") => return ValueType::Float,
        Some("!!bool") => return ValueType::Boolean,
        Some("!!null") => return ValueType::Null,
        Some("!!timestamp") => return ValueType::Datetime,
        Some("!!map" | "!!omap") => return ValueType::Table,
        Some("!!seq") => return ValueType::Array,
        _ => {}
    }
    let Some(node) = content else {
        return ValueType::Null;
    };
    match node.kind() {
        "block_mapping" | "flow_mapping" => ValueType::Table,
        "block_sequence" | "flow_sequence" => ValueType::Array,
        "plain_scalar" => match node.named_child(0).map(|c| c.kind()) {
            Some("boolean_scalar") => ValueType::Boolean,
            Some("integer_scalar") => ValueType::Integer,
            Some("float_scalar") => ValueType::Float,
            Some("null_scalar") => ValueType::Null,
            Some("timestamp_scalar") => ValueType::Datetime,
            _ if is_timestamp(keys.text(node)) => ValueType::Datetime,
            _ => ValueType::String,
        },
        _ => ValueType::String,
    }
}

/// A key's text: a scalar's value, an alias's scalar, or a complex key as written
/// (whitespace collapsed).
fn key_text<'t>(key: Node<'t>, doc: &Doc<'_, 't>, keys: &Keys<'_>) -> String {
    match content(key, doc, keys).0 {
        Some(node) if matches!(node.kind(), "double_quote_scalar" | "single_quote_scalar") => {
            unquote(keys.text(node))
        }
        Some(node) => keys
            .text(node)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        None => String::new(),
    }
}

/// The keys inside the value `node` at `path`.
fn value_at<'t>(node: Node<'t>, path: &KeyPath, doc: &Doc<'_, 't>, keys: &mut Keys<'_>) {
    if !keys.step() {
        return;
    }
    let (Some(inner), _) = content(node, doc, keys) else {
        return;
    };
    match inner.kind() {
        "block_mapping" | "flow_mapping" if keys.may_descend(path) => {
            mapping(inner, path, doc, keys);
        }
        "block_sequence" | "flow_sequence" if keys.may_descend(path) => {
            let element = path.element();
            for item in named_children(inner) {
                // A block item wraps its node; a flow item is the node (or a one-pair map).
                let value = match item.kind() {
                    "block_sequence_item" => named_children(item).into_iter().next(),
                    "flow_pair" => {
                        if !keys.add(&element, ValueType::Table, item) {
                            return;
                        }
                        pair(item, &element, doc, keys);
                        continue;
                    }
                    _ => Some(item),
                };
                let (found, tag) = match value {
                    Some(v) => content(v, doc, keys),
                    None => (None, None),
                };
                if !keys.add(&element, type_of(found, tag.as_deref(), keys), item) {
                    return;
                }
                if let Some(v) = value {
                    value_at(v, &element, doc, keys);
                }
            }
        }
        _ => {}
    }
}

/// The pairs of a mapping under `path`.
fn mapping<'t>(node: Node<'t>, path: &KeyPath, doc: &Doc<'_, 't>, keys: &mut Keys<'_>) {
    for item in named_children(node) {
        match item.kind() {
            "block_mapping_pair" | "flow_pair" if !pair(item, path, doc, keys) => return,
            // `{a, b}`: keys without values.
            "flow_node" => {
                let child = path.child(&key_text(item, doc, keys));
                if !keys.add(&child, ValueType::Null, item) {
                    return;
                }
            }
            _ => {}
        }
    }
}

/// One `key: value` under `path`; a merge key's mappings are walked at `path` itself.
/// False once the bounds are spent.
fn pair<'t>(node: Node<'t>, path: &KeyPath, doc: &Doc<'_, 't>, keys: &mut Keys<'_>) -> bool {
    let key = node.child_by_field_name("key");
    let value = node.child_by_field_name("value");
    let name = key.map(|k| key_text(k, doc, keys)).unwrap_or_default();
    if name == "<<" {
        if let Some(value) = value {
            merge(value, path, doc, keys);
        }
        return keys.step();
    }
    let (found, tag) = match value {
        Some(v) => content(v, doc, keys),
        None => (None, None),
    };
    let child = path.child(&name);
    if !keys.add(
        &child,
        type_of(found, tag.as_deref(), keys),
        key.unwrap_or(node),
    ) {
        return false;
    }
    if let Some(v) = value {
        value_at(v, &child, doc, keys);
    }
    true
}

/// `<<: *base` or `<<: [*a, *b]`: the named mappings' pairs belong to the mapping that
/// holds the merge key.
fn merge<'t>(value: Node<'t>, path: &KeyPath, doc: &Doc<'_, 't>, keys: &mut Keys<'_>) {
    let here = path.expanded();
    if !keys.step() || !keys.may_descend(&here) {
        return;
    }
    let (Some(inner), _) = content(value, doc, keys) else {
        return;
    };
    match inner.kind() {
        "block_mapping" | "flow_mapping" => mapping(inner, &here, doc, keys),
        "block_sequence" | "flow_sequence" => {
            for item in named_children(inner) {
                let item = match item.kind() {
                    "block_sequence_item" => named_children(item).into_iter().next(),
                    _ => Some(item),
                };
                if let Some(item) = item {
                    merge(item, &here, doc, keys);
                }
            }
        }
        _ => {}
    }
}
