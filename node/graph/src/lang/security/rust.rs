//! Rust: `Command::new("sh").arg("-c").arg(x)` (or `.args(["-c", x])`) with a
//! non-literal `x` in the same chain, SQL built by `format!` passed to query-like calls
//! (sqlx, rusqlite, postgres, diesel's `sql_query`), `danger_accept_invalid_certs(true)`,
//! `danger_accept_invalid_hostnames(true)` and `set_verify(SslVerifyMode::NONE)`, and
//! credentials in strings. (`unsafe` is found by the language module.) No
//! deserialisation rule: serde decodes into the types the caller names.

use super::{
    any_built, content, formatted_sql, looks_like_sql, named_secret, non_literal, nth_argument,
    scan_literal, tls_off, Built, BUILT_DEPTH, SHELLS,
};
use crate::facts::SecurityKind::CommandInjection;
use crate::lang::shared::Ctx;
use tree_sitter::Node;

/// Functions and methods that run the SQL text they are given.
const SQL_CALLS: [&str; 15] = [
    "query",
    "query_as",
    "query_scalar",
    "execute",
    "prepare",
    "prepare_cached",
    "sql_query",
    "query_row",
    "query_map",
    "execute_batch",
    "raw_sql",
    "query_one",
    "query_opt",
    "simple_query",
    "batch_execute",
];

/// Longest method chain followed back to its `Command::new`.
const CHAIN_MAX: usize = 64;

/// Looks at one node entered by the walk.
pub(in crate::lang) fn visit(cx: &mut Ctx<'_>, node: Node<'_>, kind: &str) {
    let (name, value) = match kind {
        "call_expression" => return call(cx, node),
        "string_literal" | "raw_string_literal" => {
            let text = cx.text(node);
            scan_literal(cx, node, text);
            return;
        }
        "let_declaration" => ("pattern", "value"),
        "const_item" | "static_item" => ("name", "value"),
        "field_initializer" => ("field", "value"),
        "assignment_expression" => ("left", "right"),
        _ => return,
    };
    let name = node.child_by_field_name(name).map(|n| match n.kind() {
        "field_expression" => cx.field_text(n, "field").unwrap_or(""),
        _ => cx.text(n),
    });
    let value = node.child_by_field_name(value).and_then(|v| plain(cx, v));
    if let (Some(name), Some(value)) = (name, value) {
        named_secret(cx, node, name, &value);
    }
}

/// The content of a string literal, escapes as written.
fn plain(cx: &Ctx<'_>, node: Node<'_>) -> Option<String> {
    let kinds = ["string_literal", "raw_string_literal"];
    content(cx, node, &kinds, |k| k == "string_content")
}

/// The name a call calls: a method's, or a path's last segment.
fn called<'s>(cx: &Ctx<'s>, function: Node<'_>) -> &'s str {
    match function.kind() {
        "field_expression" => cx.field_text(function, "field").unwrap_or(""),
        "scoped_identifier" => cx.field_text(function, "name").unwrap_or(""),
        _ => cx.text(function),
    }
}

fn call(cx: &mut Ctx<'_>, node: Node<'_>) {
    let Some(function) = node.child_by_field_name("function") else {
        return;
    };
    let name = called(cx, function);
    let args = node.child_by_field_name("arguments");
    let first = nth_argument(args, 0);
    let first_text = first.map_or("", |a| cx.text(a));
    // Reported where the called name stands: a builder chain spans many lines.
    let at = function.child_by_field_name("field").unwrap_or(node);
    match name {
        "arg" | "args" => shell(cx, node, at, name),
        "danger_accept_invalid_certs" | "danger_accept_invalid_hostnames"
            if first_text == "true" =>
        {
            let what = match name {
                "danger_accept_invalid_certs" => "certificates",
                _ => "host names",
            };
            let construct = format!("{name}(true)");
            tls_off(cx, at, &construct, &format!("TLS {what} are not verified"));
        }
        "set_verify" if first_text.ends_with("SslVerifyMode::NONE") => {
            tls_off(cx, at, "SslVerifyMode::NONE", "TLS peers are not verified");
        }
        sql if SQL_CALLS.contains(&sql) => {
            let query = first.map(strip_reference).filter(|q| formats_sql(cx, *q));
            if let Some(query) = query {
                formatted_sql(
                    cx,
                    at,
                    &format!(".{sql}"),
                    query,
                    Some("format!"),
                    &["format!"],
                );
            }
        }
        _ => {}
    }
}

/// `&x` → `x`.
fn strip_reference(node: Node<'_>) -> Node<'_> {
    match node.kind() {
        "reference_expression" => node.child_by_field_name("value").unwrap_or(node),
        _ => node,
    }
}

/// Whether `node` is `format!(...)` of SQL text with a `{}` placeholder.
fn formats_sql(cx: &Ctx<'_>, node: Node<'_>) -> bool {
    if node.kind() != "macro_invocation" || cx.field_text(node, "macro") != Some("format") {
        return false;
    }
    let mut cursor = node.walk();
    let tokens = node
        .named_children(&mut cursor)
        .find(|c| c.kind() == "token_tree");
    let Some(template) = tokens
        .and_then(|t| t.named_child(0))
        .and_then(|s| plain(cx, s))
    else {
        return false;
    };
    template.replace("{{", "").contains('{') && looks_like_sql(&template)
}

/// `.arg(x)` or `.args([...])` (the call `node`, its name at `at`) with a non-literal
/// after a `-c` in a chain rooted at `Command::new(shell)`.
fn shell(cx: &mut Ctx<'_>, node: Node<'_>, at: Node<'_>, name: &str) {
    let args = node.child_by_field_name("arguments");
    let Some(arg) = nth_argument(args, 0).map(strip_reference) else {
        return;
    };
    let Some(how) = built(cx, arg, 0) else { return };
    // The inner calls of the chain, innermost last, and the program it runs.
    let mut dash_c = arg.kind() == "array_expression" && holds_dash_c(cx, arg);
    let name_at = at;
    let mut at = node;
    let mut program = None;
    for _ in 0..CHAIN_MAX {
        let Some(function) = at.child_by_field_name("function") else {
            break;
        };
        if function.kind() != "field_expression" {
            if cx.text(function).ends_with("Command::new") {
                let first = nth_argument(at.child_by_field_name("arguments"), 0);
                program = first.and_then(|p| plain(cx, p));
            }
            break;
        }
        let Some(receiver) = function.child_by_field_name("value") else {
            break;
        };
        if at.id() != node.id() && called(cx, function) == "arg" {
            let value = nth_argument(at.child_by_field_name("arguments"), 0);
            dash_c |= value.and_then(|v| plain(cx, v)).as_deref() == Some("-c");
        }
        if receiver.kind() != "call_expression" {
            break;
        }
        at = receiver;
    }
    if dash_c && program.is_some_and(|p| SHELLS.contains(&p.as_str())) {
        let construct = format!("Command::new(sh).{name}(-c …)");
        non_literal(
            cx,
            name_at,
            Some(how),
            CommandInjection,
            &construct,
            "command line",
        );
    }
}

/// Whether an array of arguments holds the literal `-c`.
fn holds_dash_c(cx: &Ctx<'_>, array: Node<'_>) -> bool {
    let mut cursor = array.walk();
    let found = array
        .named_children(&mut cursor)
        .any(|c| plain(cx, c).as_deref() == Some("-c"));
    found
}

/// None for a literal (strings, numbers, constants, arrays of them), else how the value
/// is built.
fn built(cx: &Ctx<'_>, node: Node<'_>, depth: u32) -> Built {
    if depth > BUILT_DEPTH {
        return Some("expression");
    }
    match node.kind() {
        "string_literal" | "raw_string_literal" | "integer_literal" | "float_literal"
        | "boolean_literal" | "char_literal" => None,
        "reference_expression" => built(cx, strip_reference(node), depth + 1),
        "array_expression" | "parenthesized_expression" => {
            any_built(node, |p| built(cx, p, depth + 1))
        }
        "macro_invocation" if cx.field_text(node, "macro") == Some("format") => Some("format!"),
        "identifier" => Some("variable"),
        "field_expression" => Some("field"),
        "call_expression" => Some("call result"),
        _ => Some("expression"),
    }
}
