//! Go: `exec.Command("sh", "-c", x)` with a non-literal `x`, SQL built by `fmt.Sprintf`
//! or `+` passed to `database/sql`-like methods, `InsecureSkipVerify: true`, and
//! credentials in strings. (`unsafe` is found by the language module, which tracks the
//! package's local name.) No deserialisation rule: `encoding/gob`, `json` and `xml`
//! decode into the types the caller names, they do not build arbitrary objects.

use super::{
    any_built, binary, content, formatted_sql, named_secret, non_literal, nth_argument,
    scan_literal, tls_off, Built, BUILT_DEPTH, SHELLS,
};
use crate::facts::SecurityKind::CommandInjection;
use crate::lang::shared::Ctx;
use tree_sitter::Node;

/// Methods that run the SQL text they are given (`database/sql`, sqlx, gorm's `Raw`).
const SQL_METHODS: [&str; 14] = [
    "Query",
    "QueryContext",
    "QueryRow",
    "QueryRowContext",
    "Exec",
    "ExecContext",
    "Prepare",
    "PrepareContext",
    "Raw",
    "Select",
    "Get",
    "MustExec",
    "Queryx",
    "QueryRowx",
];

/// Looks at one node entered by the walk (calls are [`call`]'s).
pub(in crate::lang) fn visit(cx: &mut Ctx<'_>, node: Node<'_>, kind: &str) {
    match kind {
        "keyed_element" => {
            let key = node.child_by_field_name("key");
            let value = node.child_by_field_name("value");
            if let (Some(key), Some(value)) = (key, value) {
                let key = cx.text(key).trim_matches(['"', '`']).to_string();
                setting(cx, node, &key, unwrap(value));
            }
        }
        "assignment_statement" | "short_var_declaration" => {
            let left = node.child_by_field_name("left");
            let right = node.child_by_field_name("right");
            assignments(cx, node, left, right);
        }
        "const_spec" | "var_spec" => {
            let value = node.child_by_field_name("value");
            let mut cursor = node.walk();
            let names: Vec<Node<'_>> = node.children_by_field_name("name", &mut cursor).collect();
            for (i, name) in names.into_iter().enumerate() {
                if let Some(value) = nth_argument(value, i) {
                    let name = cx.text(name).to_string();
                    setting(cx, node, &name, value);
                }
            }
        }
        "interpreted_string_literal" | "raw_string_literal" => {
            let text = cx.text(node);
            scan_literal(cx, node, text);
        }
        _ => {}
    }
}

/// `a, b = x, y`: each name with its value.
fn assignments(cx: &mut Ctx<'_>, node: Node<'_>, left: Option<Node<'_>>, right: Option<Node<'_>>) {
    let mut i = 0;
    while let (Some(target), Some(value)) = (nth_argument(left, i), nth_argument(right, i)) {
        let name = match target.kind() {
            "selector_expression" => cx.field_text(target, "field").unwrap_or(""),
            _ => cx.text(target),
        }
        .to_string();
        setting(cx, node, &name, value);
        i += 1;
    }
}

/// The expression of a composite literal's element.
fn unwrap(node: Node<'_>) -> Node<'_> {
    match node.kind() {
        "literal_element" => node.named_child(0).unwrap_or(node),
        _ => node,
    }
}

/// `name` set to `value`: TLS verification turned off, or a credential.
fn setting(cx: &mut Ctx<'_>, node: Node<'_>, name: &str, value: Node<'_>) {
    if name == "InsecureSkipVerify" && value.kind() == "true" {
        let reason = "TLS certificates and host names are not verified";
        tls_off(cx, node, "InsecureSkipVerify: true", reason);
    } else if let Some(content) = plain(cx, value) {
        named_secret(cx, node, name, &content);
    }
}

/// The content of a string literal, escapes as written.
fn plain(cx: &Ctx<'_>, node: Node<'_>) -> Option<String> {
    let kinds = ["interpreted_string_literal", "raw_string_literal"];
    content(cx, node, &kinds, |k| k.ends_with("_content"))
}

/// A call: `exec.Command`/`CommandContext` running a shell (when `exec` says the callee
/// is package `os/exec`'s, named `name`), and SQL methods.
pub(in crate::lang) fn call(cx: &mut Ctx<'_>, node: Node<'_>, name: &str, exec: bool) {
    let args = node.child_by_field_name("arguments");
    // Reported where the called name stands, in a multi-line chain too.
    let node = node
        .child_by_field_name("function")
        .and_then(|f| f.child_by_field_name("field"))
        .unwrap_or(node);
    match name {
        "Command" | "CommandContext" if exec => {
            let skip = usize::from(name == "CommandContext");
            let literal = |i: usize| {
                nth_argument(args, skip + i)
                    .and_then(|a| plain(cx, a))
                    .unwrap_or_default()
            };
            if SHELLS.contains(&literal(0).as_str()) && literal(1) == "-c" {
                let how = nth_argument(args, skip + 2).and_then(|a| built(cx, a, 0));
                let construct = format!("exec.{name}(sh -c)");
                non_literal(cx, node, how, CommandInjection, &construct, "command line");
            }
        }
        method if SQL_METHODS.contains(&method) => {
            let mut i = 0;
            while let Some(arg) = nth_argument(args, i) {
                let how = built(cx, arg, 0);
                if formatted_sql(
                    cx,
                    node,
                    &format!(".{method}"),
                    arg,
                    how,
                    &["fmt.Sprintf", "concatenation"],
                ) {
                    return;
                }
                i += 1;
            }
        }
        _ => {}
    }
}

/// None for a literal (strings, numbers, constants), else how the value is built.
fn built(cx: &Ctx<'_>, node: Node<'_>, depth: u32) -> Built {
    if depth > BUILT_DEPTH {
        return Some("expression");
    }
    match node.kind() {
        "interpreted_string_literal"
        | "raw_string_literal"
        | "int_literal"
        | "float_literal"
        | "rune_literal"
        | "true"
        | "false"
        | "nil" => None,
        "parenthesized_expression" => any_built(node, |p| built(cx, p, depth + 1)),
        "binary_expression" => binary(node, |n| built(cx, n, depth + 1)),
        "call_expression" => {
            let function = node.child_by_field_name("function").map(|f| cx.text(f));
            Some(if function == Some("fmt.Sprintf") {
                "fmt.Sprintf"
            } else {
                "call result"
            })
        }
        "identifier" => Some("variable"),
        "selector_expression" => Some("field"),
        _ => Some("expression"),
    }
}
