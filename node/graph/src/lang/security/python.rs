//! Python: `os.system`/`os.popen` and `subprocess` with `shell=True` given a non-literal
//! command, `eval`/`exec` of a non-literal, SQL built by f-string, `%`, `.format()` or
//! `+` passed to `execute`-like calls, `verify=False` and `ssl.CERT_NONE`, `pickle`,
//! `marshal` and unsafe `yaml.load`, and credentials in strings.

use super::{
    any_built, binary, content, formatted_sql, named_secret, non_literal, report, scan_literal,
    tls_off, Built, BUILT_DEPTH,
};
use crate::facts::SecurityKind::{CodeInjection, CommandInjection, UnsafeDeserialization};
use crate::lang::shared::Ctx;
use tree_sitter::Node;

/// `subprocess` functions that run a shell given `shell=True`.
const SUBPROCESS: [&str; 5] = ["run", "call", "check_call", "check_output", "Popen"];

/// Methods that run the SQL text they are given (DB-API cursors, Django's `raw`).
const SQL_CALLS: [&str; 5] = ["execute", "executemany", "executescript", "raw", "mogrify"];

/// Modules whose `load`/`loads`/`Unpickler` build arbitrary objects.
const PICKLES: [&str; 5] = ["pickle", "cPickle", "_pickle", "dill", "cloudpickle"];

/// PyYAML loaders that build only plain data, as the end of the loader's name (lower
/// case, `_` dropped): `yaml.SafeLoader`, `CSafeLoader`, `BaseLoader`, `self._safe_loader`.
const SAFE_LOADERS: [&str; 2] = ["safeloader", "baseloader"];

/// Looks at one node entered by the walk.
pub(in crate::lang) fn visit(cx: &mut Ctx<'_>, node: Node<'_>, kind: &str) {
    match kind {
        "call" => call(cx, node),
        "assignment" => assignment(cx, node),
        "pair" => {
            if let (Some(key), Some(value)) = (
                node.child_by_field_name("key").and_then(|k| plain(cx, k)),
                node.child_by_field_name("value").and_then(|v| plain(cx, v)),
            ) {
                named_secret(cx, node, &key, &value);
            }
        }
        "string" if !interpolated(node) => {
            let text = cx.text(node);
            scan_literal(cx, node, text);
        }
        _ => {}
    }
}

/// Callees whose `verify` is not about TLS (PyJWT's `decode(token, verify=False)` skips
/// the signature check, another weakness).
fn verifies_tls(object: &str, name: &str) -> bool {
    name != "decode" && !object.contains("jwt")
}

/// Whether `object.name` builds arbitrary objects from any input: the pickles',
/// `marshal`'s and `jsonpickle`'s loaders, PyYAML's `unsafe_load`.
fn deserializer(cx: &Ctx<'_>, object: &str, name: &str) -> bool {
    match name {
        "load" | "loads" => PICKLES.contains(&object) || object == "marshal",
        "Unpickler" => PICKLES.contains(&object),
        "decode" => object == "jsonpickle",
        "unsafe_load" | "unsafe_load_all" => pyyaml(cx, object),
        _ => false,
    }
}

/// Whether `object` is PyYAML, imported whole above (`import yaml`, `import yaml as y`),
/// not some other module named `yaml` (`from googlecloudsdk.core import yaml`).
fn pyyaml(cx: &Ctx<'_>, object: &str) -> bool {
    cx.imports().iter().any(|i| {
        i.module == "yaml"
            && i.names.is_empty()
            && match i.renamed.first() {
                Some(r) => r.local == object,
                None => object == "yaml",
            }
    })
}

/// Whether a string node is an f-string with `{...}` in it.
fn interpolated(string: Node<'_>) -> bool {
    let mut cursor = string.walk();
    let found = string
        .named_children(&mut cursor)
        .any(|c| c.kind() == "interpolation");
    found
}

/// The content of a plain (not interpolated) string literal, escapes as written.
fn plain(cx: &Ctx<'_>, node: Node<'_>) -> Option<String> {
    content(cx, node, &["string"], |k| k == "string_content")
}

/// None for a literal (strings, numbers, constants, lists and tuples of them), else how
/// the value is built.
fn built(cx: &Ctx<'_>, node: Node<'_>, depth: u32) -> Built {
    if depth > BUILT_DEPTH {
        return Some("expression");
    }
    let all_literal = |node: Node<'_>| any_built(node, |p| built(cx, p, depth + 1));
    match node.kind() {
        "string" => interpolated(node).then_some("f-string"),
        "concatenated_string" => all_literal(node).map(|_| "f-string"),
        "integer" | "float" | "true" | "false" | "none" => None,
        "list" | "tuple" | "parenthesized_expression" => all_literal(node),
        "binary_operator" => binary(node, |n| built(cx, n, depth + 1)),
        "call" => {
            let format = node
                .child_by_field_name("function")
                .filter(|f| f.kind() == "attribute")
                .and_then(|f| cx.field_text(f, "attribute"))
                == Some("format");
            Some(if format { ".format()" } else { "call result" })
        }
        "identifier" => Some("variable"),
        "attribute" => Some("attribute"),
        "subscript" => Some("subscript"),
        _ => Some("expression"),
    }
}

/// The `index`th positional argument, or the keyword argument `keyword`.
fn argument<'t>(
    args: Option<Node<'t>>,
    index: usize,
    keyword: &str,
    cx: &Ctx<'_>,
) -> Option<Node<'t>> {
    let args = args?;
    let mut cursor = args.walk();
    let all: Vec<Node<'t>> = args
        .named_children(&mut cursor)
        .filter(|c| c.kind() != "comment")
        .collect();
    let by_name = all.iter().find_map(|a| {
        (a.kind() == "keyword_argument" && cx.field_text(*a, "name") == Some(keyword))
            .then(|| a.child_by_field_name("value"))
            .flatten()
    });
    by_name.or_else(|| {
        all.into_iter()
            .filter(|a| !matches!(a.kind(), "keyword_argument" | "dictionary_splat"))
            .nth(index)
    })
}

/// The object and name a call calls: `("", "eval")`, `("os.path", "join")`; None when
/// the callee is not a name or an attribute.
pub(in crate::lang) fn callee<'s>(cx: &Ctx<'s>, call: Node<'_>) -> Option<(&'s str, &'s str)> {
    let function = call.child_by_field_name("function")?;
    match function.kind() {
        "identifier" => Some(("", cx.text(function))),
        "attribute" => Some((
            cx.field_text(function, "object").unwrap_or(""),
            cx.field_text(function, "attribute").unwrap_or(""),
        )),
        _ => None,
    }
}

fn call(cx: &mut Ctx<'_>, node: Node<'_>) {
    let Some((object, name)) = callee(cx, node) else {
        return;
    };
    let args = node.child_by_field_name("arguments");
    keywords(cx, args, verifies_tls(object, name));
    // Reported where the called name stands, in a multi-line chain too.
    let node = node
        .child_by_field_name("function")
        .and_then(|f| f.child_by_field_name("attribute"))
        .unwrap_or(node);
    let first = argument(args, 0, "", cx);
    let first_built = first.and_then(|a| built(cx, a, 0));
    match (object, name) {
        ("os", "system" | "popen") | ("subprocess", "getoutput" | "getstatusoutput") => {
            let construct = format!("{object}.{name}");
            non_literal(
                cx,
                node,
                first_built,
                CommandInjection,
                &construct,
                "command",
            );
        }
        ("subprocess" | "", _) if SUBPROCESS.contains(&name) && shell_true(cx, args) => {
            let command = argument(args, 0, "args", cx).and_then(|a| built(cx, a, 0));
            let construct = match object {
                "" => format!("{name}(shell=True)"),
                _ => format!("subprocess.{name}(shell=True)"),
            };
            non_literal(cx, node, command, CommandInjection, &construct, "command");
        }
        ("", "eval" | "exec") => {
            non_literal(cx, node, first_built, CodeInjection, name, "argument");
        }
        (yaml, "load" | "load_all") if first_built.is_some() && pyyaml(cx, yaml) => {
            yaml_load(cx, node, args, name);
        }
        _ if deserializer(cx, object, name) => {
            let construct = format!("{object}.{name}");
            non_literal(
                cx,
                node,
                first_built,
                UnsafeDeserialization,
                &construct,
                "input",
            );
        }
        ("ssl", "_create_unverified_context") => {
            let reason = "an SSL context that checks neither certificates nor host names";
            tls_off(cx, node, "ssl._create_unverified_context", reason);
        }
        (_, method) if SQL_CALLS.contains(&method) => sql(cx, node, first, &format!(".{method}")),
        ("" | "sqlalchemy" | "sa", "text") => sql(cx, node, first, "text"),
        _ => {}
    }
}

/// `.execute(sql)` and the like with SQL text built by string formatting.
fn sql(cx: &mut Ctx<'_>, node: Node<'_>, query: Option<Node<'_>>, construct: &str) {
    let Some(query) = query else { return };
    let how = built(cx, query, 0);
    let formatting = ["f-string", "%-formatting", "concatenation", ".format()"];
    formatted_sql(cx, node, construct, query, how, &formatting);
}

/// `yaml.load` whose loader is not one of the safe ones.
fn yaml_load(cx: &mut Ctx<'_>, node: Node<'_>, args: Option<Node<'_>>, name: &str) {
    let loader = argument(args, 1, "Loader", cx).map(|l| cx.text(l));
    let safe = |l: &str| {
        let l: String = l
            .to_ascii_lowercase()
            .chars()
            .filter(|c| *c != '_')
            .collect();
        SAFE_LOADERS.iter().any(|s| l.ends_with(s))
    };
    if loader.is_some_and(safe) {
        return;
    }
    let reason = match loader {
        Some(l) => format!("`yaml.{name}` of a non-literal input with `Loader={l}`, which builds arbitrary Python objects"),
        None => format!("`yaml.{name}` of a non-literal input without a safe Loader (before PyYAML 6 the default builds arbitrary Python objects)"),
    };
    report(
        cx,
        node,
        UnsafeDeserialization,
        &format!("yaml.{name}"),
        reason,
    );
}

/// Whether the call passes `shell=True`.
fn shell_true(cx: &Ctx<'_>, args: Option<Node<'_>>) -> bool {
    argument(args, usize::MAX, "shell", cx).is_some_and(|v| v.kind() == "true")
}

/// The keyword arguments of a call: `verify=False` (when `tls` says the callee's
/// `verify` is about TLS), `cert_reqs=ssl.CERT_NONE`, `password="..."`.
fn keywords(cx: &mut Ctx<'_>, args: Option<Node<'_>>, tls: bool) {
    let Some(args) = args else { return };
    let mut cursor = args.walk();
    let keywords: Vec<Node<'_>> = args
        .named_children(&mut cursor)
        .filter(|a| a.kind() == "keyword_argument")
        .collect();
    for node in keywords {
        let (Some(name), Some(value)) = (
            cx.field_text(node, "name"),
            node.child_by_field_name("value"),
        ) else {
            continue;
        };
        if tls || name != "verify" {
            tls_setting(cx, node, name, value);
        }
        if let Some(content) = plain(cx, value) {
            named_secret(cx, node, name, &content);
        }
    }
}

/// `x.verify = False`, `ctx.verify_mode = ssl.CERT_NONE`, `ctx.check_hostname = False`,
/// `PASSWORD = "..."`.
fn assignment(cx: &mut Ctx<'_>, node: Node<'_>) {
    let (Some(left), Some(right)) = (
        node.child_by_field_name("left"),
        node.child_by_field_name("right"),
    ) else {
        return;
    };
    let name = match left.kind() {
        "identifier" => cx.text(left),
        "attribute" => cx.field_text(left, "attribute").unwrap_or(""),
        _ => return,
    };
    tls_setting(cx, node, name, right);
    if let Some(content) = plain(cx, right) {
        named_secret(cx, node, name, &content);
    }
}

/// A keyword or attribute `name` set to a value turning TLS verification off.
fn tls_setting(cx: &mut Ctx<'_>, node: Node<'_>, name: &str, value: Node<'_>) {
    let off = value.kind() == "false";
    let none = cx.text(value).ends_with("CERT_NONE");
    let (construct, reason) = match name {
        "verify" if off => ("verify=False", "certificate verification turned off"),
        "check_hostname" if off => ("check_hostname=False", "host name verification turned off"),
        "cert_reqs" | "verify_mode" if none => ("CERT_NONE", "certificates are not verified"),
        _ => return,
    };
    tls_off(cx, node, construct, reason);
}
