//! JavaScript/TypeScript: `child_process.exec`/`execSync` of a non-literal command,
//! `eval` and `new Function` of non-literals, SQL built by template literal or `+`
//! passed to `query`-like methods, `rejectUnauthorized: false`, `strictSSL: false` and
//! `NODE_TLS_REJECT_UNAUTHORIZED = '0'`, `node-serialize`'s `unserialize`, and
//! credentials in strings.

use super::{
    any_built, binary, content, formatted_sql, named_secret, non_literal, nth_argument,
    scan_literal, tls_off, Built, BUILT_DEPTH,
};
use crate::facts::SecurityKind::{CodeInjection, CommandInjection, UnsafeDeserialization};
use crate::lang::shared::Ctx;
use tree_sitter::Node;

/// Methods that run the SQL text they are given (pg, mysql, sqlite3, knex, Prisma's
/// unsafe raw queries, postgres.js `unsafe`).
const SQL_METHODS: [&str; 10] = [
    "query",
    "execute",
    "exec",
    "raw",
    "run",
    "all",
    "prepare",
    "unsafe",
    "$queryRawUnsafe",
    "$executeRawUnsafe",
];

/// Option keys whose `false` turns certificate verification off.
const TLS_OFF_KEYS: [&str; 2] = ["rejectUnauthorized", "strictSSL"];

/// Looks at one node entered by the walk (calls are [`call`]'s).
pub(in crate::lang) fn visit(cx: &mut Ctx<'_>, node: Node<'_>, kind: &str) {
    match kind {
        "new_expression" => {
            let constructor = node.child_by_field_name("constructor").map(|c| cx.text(c));
            if constructor == Some("Function") {
                let args = node.child_by_field_name("arguments");
                let how = args.and_then(|a| any_built(a, |p| built(cx, p, 0)));
                non_literal(cx, node, how, CodeInjection, "new Function", "body");
            }
        }
        "pair" => {
            let key = node.child_by_field_name("key").map(|k| name_of(cx, k));
            let value = node.child_by_field_name("value");
            setting(cx, node, key.as_deref(), value);
        }
        "assignment_expression" => {
            let left = node.child_by_field_name("left");
            let name = left.map(|l| match l.kind() {
                "member_expression" => cx.field_text(l, "property").unwrap_or("").to_string(),
                "subscript_expression" => l
                    .child_by_field_name("index")
                    .map_or(String::new(), |i| name_of(cx, i)),
                _ => cx.text(l).to_string(),
            });
            setting(cx, node, name.as_deref(), node.child_by_field_name("right"));
        }
        "variable_declarator" => {
            let name = node.child_by_field_name("name").map(|n| name_of(cx, n));
            setting(cx, node, name.as_deref(), node.child_by_field_name("value"));
        }
        "field_definition" | "public_field_definition" => {
            let name = node
                .child_by_field_name("property")
                .or_else(|| node.child_by_field_name("name"))
                .map(|n| name_of(cx, n));
            setting(cx, node, name.as_deref(), node.child_by_field_name("value"));
        }
        "string" | "template_string" if plain(cx, node).is_some() => {
            let text = cx.text(node);
            scan_literal(cx, node, text);
        }
        _ => {}
    }
}

/// A call: `eval`, SQL methods, `unserialize`, and (when `shell` says the callee is
/// `child_process.exec` or `execSync`, named `name`) shell commands.
pub(in crate::lang) fn call(cx: &mut Ctx<'_>, node: Node<'_>, name: &str, shell: bool) {
    let Some(function) = node.child_by_field_name("function") else {
        return;
    };
    // A tagged template (sql`... ${x}`) passes the values apart: no argument list.
    let args = node
        .child_by_field_name("arguments")
        .filter(|a| a.kind() == "arguments");
    let first = nth_argument(args, 0);
    let how = first.and_then(|a| built(cx, a, 0));
    // Reported where the called name stands, in a multi-line chain too.
    let node = function.child_by_field_name("property").unwrap_or(node);
    if shell {
        let construct = format!("child_process.{name}");
        non_literal(cx, node, how, CommandInjection, &construct, "command");
        return;
    }
    match (function.kind(), name) {
        ("identifier", "eval") => non_literal(cx, node, how, CodeInjection, "eval", "argument"),
        ("member_expression", "unserialize") => {
            non_literal(cx, node, how, UnsafeDeserialization, "unserialize", "input");
        }
        ("member_expression", method) if SQL_METHODS.contains(&method) => {
            if let Some(query) = first {
                let formatting = ["template literal with substitutions", "concatenation"];
                formatted_sql(cx, node, &format!(".{method}"), query, how, &formatting);
            }
        }
        _ => {}
    }
}

/// `key: value` or `name = value`: TLS verification turned off, or a credential.
fn setting(cx: &mut Ctx<'_>, node: Node<'_>, name: Option<&str>, value: Option<Node<'_>>) {
    let (Some(name), Some(value)) = (name, value) else {
        return;
    };
    let content = plain(cx, value);
    if TLS_OFF_KEYS.contains(&name) && value.kind() == "false" {
        let construct = format!("{name}: false");
        tls_off(cx, node, &construct, "TLS certificates are not verified");
    } else if name == "NODE_TLS_REJECT_UNAUTHORIZED"
        && (content.as_deref() == Some("0") || cx.text(value) == "0")
    {
        let reason = "TLS certificates are not verified by any request of the process";
        tls_off(cx, node, "NODE_TLS_REJECT_UNAUTHORIZED=0", reason);
    } else if let Some(content) = content {
        named_secret(cx, node, name, &content);
    }
}

/// A key or name as written, quotes dropped.
fn name_of(cx: &Ctx<'_>, node: Node<'_>) -> String {
    plain(cx, node).unwrap_or_else(|| cx.text(node).to_string())
}

/// The content of a string literal or a template literal without substitutions.
fn plain(cx: &Ctx<'_>, node: Node<'_>) -> Option<String> {
    content(cx, node, &["string", "template_string"], |k| {
        k == "string_fragment"
    })
}

/// None for a literal (strings, template literals without substitutions, numbers,
/// constants, arrays of them), else how the value is built.
fn built(cx: &Ctx<'_>, node: Node<'_>, depth: u32) -> Built {
    if depth > BUILT_DEPTH {
        return Some("expression");
    }
    match node.kind() {
        "string" | "number" | "true" | "false" | "null" | "undefined" => None,
        "template_string" => plain(cx, node)
            .is_none()
            .then_some("template literal with substitutions"),
        "array" | "parenthesized_expression" => any_built(node, |p| built(cx, p, depth + 1)),
        "binary_expression" => binary(node, |n| built(cx, n, depth + 1)),
        "identifier" => Some("variable"),
        "member_expression" | "subscript_expression" => Some("property"),
        "call_expression" => Some("call result"),
        _ => Some("expression"),
    }
}
