//! Go: functions, receiver methods (`Type.Method`), named types, constants and
//! package-level variables, exported when capitalised; imports by path; uses of package
//! `unsafe` as security facts (the others are `security::go`'s).

use super::security;
use super::shared::{has_operator, starts_upper, tidy_doc, Ctx, Event, KindNames, Step};
use crate::facts::{FileFacts, ReferenceKind, Renamed, SecurityKind, SymbolKind};
use tree_sitter::Node;

/// Types every Go file may name without declaring them; references to them say nothing
/// about the project's structure.
const PREDECLARED: [&str; 22] = [
    "any",
    "bool",
    "byte",
    "comparable",
    "complex64",
    "complex128",
    "error",
    "float32",
    "float64",
    "int",
    "int8",
    "int16",
    "int32",
    "int64",
    "rune",
    "string",
    "uint",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "uintptr",
];

/// What package `unsafe` has that steps around the type system.
const UNSAFE_OPERATIONS: [&str; 6] = [
    "Pointer",
    "Add",
    "Slice",
    "SliceData",
    "String",
    "StringData",
];

/// Extracts the facts of a parsed Go file.
pub(super) fn extract(src: &str, kinds: &'static KindNames, root: Node<'_>) -> FileFacts {
    let cx = Ctx::new(src, kinds, |kind| kind == "comment", decision);
    let mut visitor = Visitor {
        cx,
        unsafe_name: "unsafe".to_string(),
        exec_name: "exec".to_string(),
    };
    Ctx::walk(
        root,
        &mut visitor,
        |v| &mut v.cx,
        |v, node, event| match event {
            Event::Enter => v.visit(node),
            Event::Leave => Step::Over,
        },
    );
    visitor.cx.finish()
}

struct Visitor<'s> {
    cx: Ctx<'s>,
    /// The local name of package `unsafe` (it may be imported under an alias).
    unsafe_name: String,
    /// The local name of package `os/exec`.
    exec_name: String,
}

impl<'s> Visitor<'s> {
    fn visit(&mut self, node: Node<'_>) -> Step {
        let kind = self.cx.kind(node);
        security::go::visit(&mut self.cx, node, kind);
        match kind {
            "function_declaration" => self.function(node, SymbolKind::Function),
            "method_declaration" => self.function(node, SymbolKind::Method),
            "type_spec" | "type_alias" => {
                let kind = match node.child_by_field_name("type").map(|t| t.kind()) {
                    Some("struct_type") if node.kind() == "type_spec" => SymbolKind::Struct,
                    Some("interface_type") if node.kind() == "type_spec" => SymbolKind::Interface,
                    _ => SymbolKind::Type,
                };
                self.spec(node, kind, "type");
            }
            "const_spec" => self.spec(node, SymbolKind::Const, "const"),
            // Only package-level variables are API; a function's are its own.
            "var_spec" if !in_function(node) => self.spec(node, SymbolKind::Variable, "var"),
            "import_spec" => {
                self.import(node);
                return Step::Over;
            }
            "call_expression" => self.call(node),
            "selector_expression" | "qualified_type" if self.names_unsafe(node) => {
                let name = self
                    .cx
                    .field_text(node, "field")
                    .or_else(|| self.cx.field_text(node, "name"))
                    .unwrap_or("");
                // `Sizeof`, `Alignof` and `Offsetof` are constants the compiler computes.
                if !UNSAFE_OPERATIONS.contains(&name) {
                    return Step::Into;
                }
                let construct = format!("unsafe.{name}");
                let reason = format!("`{construct}` bypasses Go's type and memory safety");
                self.cx
                    .security(node, SecurityKind::UnsafeCode, &construct, reason);
            }
            "qualified_type" => {
                let package = self.cx.field_text(node, "package");
                let name = self.cx.field_text(node, "name").unwrap_or("");
                self.cx
                    .qualified_reference(ReferenceKind::Type, node, package, name);
            }
            "type_identifier" if !is_not_a_reference(node) => {
                let name = self.cx.text(node);
                if !PREDECLARED.contains(&name) {
                    self.cx.reference(ReferenceKind::Type, node, name);
                }
            }
            _ => {}
        }
        Step::Into
    }

    /// `unsafe.X`, as an expression (`operand`) or a type (`package`).
    fn names_unsafe(&self, node: Node<'_>) -> bool {
        let package = node
            .child_by_field_name("operand")
            .or_else(|| node.child_by_field_name("package"));
        package.is_some_and(|p| self.cx.text(p) == self.unsafe_name)
    }

    fn function(&mut self, node: Node<'_>, kind: SymbolKind) {
        let Some(name) = self.cx.field_text(node, "name") else {
            return;
        };
        let qualified = match receiver_type(node.child_by_field_name("receiver")) {
            Some(receiver) => format!("{}.{name}", self.cx.text(receiver)),
            None => name.to_string(),
        };
        let body = node.child_by_field_name("body");
        let signature = self.cx.header(node, body);
        let doc = doc_comment(&self.cx, node);
        let symbol = self.cx.symbol(node, kind, name, qualified);
        symbol.public = starts_upper(name);
        symbol.signature = signature;
        symbol.doc = doc;
        self.cx.measure(body);
    }

    /// A type or const spec; one on its own (`const X = 1`) spans and documents its
    /// whole declaration, one in a `( ... )` group only itself.
    fn spec(&mut self, spec: Node<'_>, kind: SymbolKind, keyword: &str) {
        let declaration = spec.parent().filter(|d| {
            let mut cursor = d.walk();
            let grouped = d.children(&mut cursor).any(|c| c.kind() == "(");
            !grouped
        });
        let span = declaration.unwrap_or(spec);
        let first_line = self.cx.header(span, None);
        let first_line = first_line.trim_end_matches('{').trim_end();
        let mut signature = match declaration {
            Some(_) => first_line.to_string(),
            None => format!("{keyword} {first_line}"),
        };
        // A struct's fields and an interface's methods are its API, not just its name.
        if let Some(members) = self.members(spec) {
            signature = format!("{signature} {{ {} }}", members.join("; "));
        }
        let doc = doc_comment(&self.cx, span);
        let mut cursor = spec.walk();
        let names: Vec<Node<'_>> = spec.children_by_field_name("name", &mut cursor).collect();
        for name_node in names {
            let name = self.cx.text(name_node);
            let symbol = self.cx.symbol(span, kind, name, name.to_string());
            symbol.public = starts_upper(name);
            symbol.signature = signature.clone();
            symbol.doc = doc.clone();
        }
    }

    /// The fields of a struct type, or the methods and embedded types of an interface,
    /// each without comments, in source order; None for other types.
    fn members(&self, spec: Node<'_>) -> Option<Vec<String>> {
        let ty = spec.child_by_field_name("type")?;
        let list = match ty.kind() {
            "struct_type" => {
                let mut cursor = ty.walk();
                let fields = ty
                    .named_children(&mut cursor)
                    .find(|c| c.kind() == "field_declaration_list")?;
                fields
            }
            "interface_type" => ty,
            _ => return None,
        };
        let mut cursor = list.walk();
        let members = list
            .named_children(&mut cursor)
            .filter(|c| !c.kind().contains("comment"))
            .map(|c| self.cx.code(c))
            .collect();
        Some(members)
    }

    fn import(&mut self, spec: Node<'_>) {
        let Some(path) = self.cx.field_text(spec, "path") else {
            return;
        };
        let path = path.trim_matches(['"', '`']);
        let alias = self.cx.field_text(spec, "name");
        let local = alias.unwrap_or_else(|| path.rsplit('/').next().unwrap_or(path));
        match path {
            "unsafe" => {
                self.unsafe_name = local.to_string();
                let reason = "package `unsafe` steps around Go's type and memory safety";
                self.cx.security(
                    spec,
                    SecurityKind::UnsafeCode,
                    "import unsafe",
                    reason.to_string(),
                );
            }
            "os/exec" => self.exec_name = local.to_string(),
            _ => {}
        }
        // A dot import puts the package's names in scope; `_` binds nothing.
        let (names, renamed) = match alias {
            Some(".") => (vec!["*".to_string()], Vec::new()),
            Some("_") | None => (Vec::new(), Vec::new()),
            Some(alias) => (
                Vec::new(),
                vec![Renamed {
                    name: path.rsplit('/').next().unwrap_or(path).to_string(),
                    local: alias.to_string(),
                }],
            ),
        };
        self.cx.import(spec, path, names).renamed = renamed;
    }

    fn call(&mut self, node: Node<'_>) {
        let Some(function) = node.child_by_field_name("function") else {
            return;
        };
        let (qualifier, name) = match function.kind() {
            "identifier" => (None, self.cx.text(function)),
            "selector_expression" => (
                self.cx.field_text(function, "operand"),
                self.cx.field_text(function, "field").unwrap_or(""),
            ),
            _ => return,
        };
        self.cx
            .qualified_reference(ReferenceKind::Call, node, qualifier, name);
        let exec = self.cx.field_text(function, "operand") == Some(self.exec_name.as_str());
        security::go::call(&mut self.cx, node, name, exec);
    }
}

/// McCabe decision points of Go: `if`, `for`, each non-default case, `&&`/`||`.
fn decision(node: Node<'_>, kind: &str) -> Option<u32> {
    Some(match kind {
        "if_statement" | "for_statement" | "expression_case" | "type_case"
        | "communication_case" => 1,
        "binary_expression" => u32::from(has_operator(node, &["&&", "||"])),
        _ => 0,
    })
}

/// The receiver's type name (`(s *Store)` -> `Store`, `(l List[T])` -> `List`).
fn receiver_type(receiver: Option<Node<'_>>) -> Option<Node<'_>> {
    let mut node = receiver?.named_child(0)?.child_by_field_name("type")?;
    loop {
        node = match node.kind() {
            "pointer_type" | "parenthesized_type" => node.named_child(0)?,
            "generic_type" => node.child_by_field_name("type")?,
            _ => return Some(node),
        };
    }
}

/// Whether a type identifier is a name rather than a reference of its own: the one a
/// type declaration declares, or that of a package-qualified type (`Client` of
/// `up.Client`, recorded with its qualifier there). One look at the parent, which costs
/// a descent from the root.
fn is_not_a_reference(node: Node<'_>) -> bool {
    node.parent().is_some_and(|parent| match parent.kind() {
        "type_spec" | "type_alias" => {
            parent.child_by_field_name("name").map(|n| n.id()) == Some(node.id())
        }
        "qualified_type" => true,
        _ => false,
    })
}

/// The `//` comment lines directly above `node`, without blank lines between.
fn doc_comment(cx: &Ctx<'_>, node: Node<'_>) -> String {
    let mut lines = Vec::new();
    let mut next_row = node.start_position().row;
    let mut prev = node.prev_sibling();
    while let Some(comment) = prev.filter(|c| c.kind() == "comment") {
        let Some(text) = cx.text(comment).strip_prefix("//") else {
            break;
        };
        if comment.end_position().row + 1 != next_row {
            break;
        }
        lines.push(text);
        next_row = comment.start_position().row;
        prev = comment.prev_sibling();
    }
    lines.reverse();
    tidy_doc(&lines.join("\n"))
}

/// Whether `node` lies inside a function or method (or a function literal).
fn in_function(node: Node<'_>) -> bool {
    let mut at = node.parent();
    while let Some(n) = at {
        if matches!(
            n.kind(),
            "function_declaration" | "method_declaration" | "func_literal"
        ) {
            return true;
        }
        at = n.parent();
    }
    false
}
