//! Python: functions, classes and methods (`Class.method`) with docstrings, module and
//! class attributes (plain names assigned at those levels), `__all__`
//! or underscore visibility, imports as written (relative dots kept); security facts are
//! `security::python`'s.

use super::security;
use super::shared::{self, compact, has_operator, tidy_doc, Ctx, Event, KindNames, Step};
use crate::facts::{FileFacts, ReferenceKind, Renamed, SymbolKind};
use tree_sitter::Node;

/// Extracts the facts of a parsed Python file.
pub(super) fn extract(src: &str, kinds: &'static KindNames, root: Node<'_>) -> FileFacts {
    let cx = Ctx::new(src, kinds, |kind| kind == "comment", decision);
    let all = dunder_all(&cx, root);
    let mut visitor = Visitor {
        cx,
        all,
        scopes: Vec::new(),
    };
    Ctx::walk(
        root,
        &mut visitor,
        |v| &mut v.cx,
        |v, node, event| v.visit(node, event),
    );
    visitor.cx.finish()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScopeKind {
    /// A class, and whether it is public (a private class's members are private too).
    Class {
        public: bool,
    },
    Function,
}

type Scope = shared::Scope<ScopeKind>;

struct Visitor<'s> {
    cx: Ctx<'s>,
    /// The names `__all__` lists, when it is a plain list or tuple of strings.
    all: Option<Vec<String>>,
    scopes: Vec<Scope>,
}

impl<'s> Visitor<'s> {
    fn visit(&mut self, node: Node<'_>, event: Event) -> Step {
        if event == Event::Leave {
            shared::leave_scopes(&mut self.scopes, node);
            return Step::Over;
        }
        let kind = self.cx.kind(node);
        security::python::visit(&mut self.cx, node, kind);
        match kind {
            "function_definition" => self.definition(node, ScopeKind::Function),
            "class_definition" => {
                self.definition(node, ScopeKind::Class { public: false });
                self.superclasses(node);
            }
            "type_alias_statement" => self.type_alias(node),
            "assignment" => self.attribute(node),
            "import_statement" | "import_from_statement" | "future_import_statement" => {
                self.import(node);
                return Step::Over;
            }
            "call" => self.call(node),
            "identifier" if in_annotation(node) => {
                let name = self.cx.text(node);
                self.cx.reference(ReferenceKind::Type, node, name);
            }
            "attribute" if node.parent().is_some_and(|p| p.kind() == "type") => {
                let name = self.cx.field_text(node, "attribute").unwrap_or("");
                self.cx.reference(ReferenceKind::Type, node, name);
                return Step::Over;
            }
            _ => {}
        }
        Step::Into
    }

    /// Module level: listed in `__all__` if there is one, else not `_`-prefixed.
    fn module_public(&self, name: &str) -> bool {
        match &self.all {
            Some(all) => all.iter().any(|n| n == name),
            None => !name.starts_with('_'),
        }
    }

    fn path(&self, name: &str) -> String {
        match self.scopes.last() {
            Some(scope) => format!("{}.{name}", scope.path),
            None => name.to_string(),
        }
    }

    fn definition(&mut self, node: Node<'_>, scope_kind: ScopeKind) {
        let Some(name) = self.cx.field_text(node, "name") else {
            return;
        };
        let enclosing = self.scopes.last().map(|s| s.kind);
        let public = match enclosing {
            None => self.module_public(name),
            Some(ScopeKind::Class { public }) => {
                public && (!name.starts_with('_') || (name.len() > 4 && name.ends_with("__")))
            }
            Some(ScopeKind::Function) => false,
        };
        let kind = match (scope_kind, enclosing) {
            (ScopeKind::Class { .. }, _) => SymbolKind::Class,
            (ScopeKind::Function, Some(ScopeKind::Class { .. })) => SymbolKind::Method,
            (ScopeKind::Function, _) => SymbolKind::Function,
        };
        let body = node.child_by_field_name("body");
        // The header ends at the `:` before the body; comments may sit between the two.
        let mut cursor = node.walk();
        let colon = node.children(&mut cursor).find(|c| c.kind() == ":");
        let signature = self.cx.header(node, colon.or(body));
        let doc = body.map_or(String::new(), |b| docstring(&self.cx, b));
        let qualified = self.path(name);
        let symbol = self.cx.symbol(node, kind, name, qualified.clone());
        symbol.public = public;
        symbol.signature = signature;
        symbol.doc = doc;
        if matches!(kind, SymbolKind::Function | SymbolKind::Method) {
            self.cx.measure(body);
        }
        let kind = match scope_kind {
            ScopeKind::Class { .. } => ScopeKind::Class { public },
            other => other,
        };
        self.scopes.push(Scope {
            node: node.id(),
            path: qualified,
            kind,
        });
    }

    fn superclasses(&mut self, node: Node<'_>) {
        let Some(list) = node.child_by_field_name("superclasses") else {
            return;
        };
        let mut cursor = list.walk();
        for base in list.named_children(&mut cursor) {
            let name = match base.kind() {
                "identifier" => self.cx.text(base),
                "attribute" => self.cx.field_text(base, "attribute").unwrap_or(""),
                _ => "",
            };
            self.cx.reference(ReferenceKind::Type, base, name);
        }
    }

    fn type_alias(&mut self, node: Node<'_>) {
        let Some(left) = node.child_by_field_name("left") else {
            return;
        };
        let text = self.cx.text(left);
        let name = text.split('[').next().unwrap_or("").trim();
        if name.is_empty() {
            return;
        }
        let public = self.scopes.is_empty() && self.module_public(name);
        let signature = self.cx.header(node, None);
        let qualified = self.path(name);
        let symbol = self.cx.symbol(node, SymbolKind::Type, name, qualified);
        symbol.public = public;
        symbol.signature = signature;
    }

    /// A module or class attribute: a plain name assigned at module or class level
    /// (`LIMIT = 3`, `timeout: float = 1.0`), its annotation part of its declaration, its
    /// value not.
    fn attribute(&mut self, node: Node<'_>) {
        let enclosing = self.scopes.last().map(|s| s.kind);
        if enclosing == Some(ScopeKind::Function) {
            return;
        }
        let Some(left) = node.child_by_field_name("left") else {
            return;
        };
        if left.kind() != "identifier" {
            return;
        }
        let name = self.cx.text(left);
        if matches!(name, "__all__" | "__slots__") {
            return;
        }
        let (kind, public) = match enclosing {
            None => (SymbolKind::Variable, self.module_public(name)),
            Some(ScopeKind::Class { public }) => {
                (SymbolKind::Field, public && !name.starts_with('_'))
            }
            Some(ScopeKind::Function) => return,
        };
        let signature = match node.child_by_field_name("type") {
            Some(ty) => format!("{name}: {}", self.cx.code(ty)),
            None => name.to_string(),
        };
        let qualified = self.path(name);
        let symbol = self.cx.symbol(node, kind, name, qualified);
        symbol.public = public;
        symbol.signature = signature;
    }

    fn import(&mut self, node: Node<'_>) {
        let mut cursor = node.walk();
        let imported: Vec<Node<'_>> = node.children_by_field_name("name", &mut cursor).collect();
        // `import a, b` imports two modules; `from m import a, b` two names of one.
        let module = match node.kind() {
            "import_statement" => None,
            "future_import_statement" => Some("__future__".to_string()),
            _ => Some(
                self.cx
                    .field_text(node, "module_name")
                    .map_or(String::new(), compact),
            ),
        };
        match module {
            None => {
                for name in imported {
                    let module = compact(self.cx.text(original(name)));
                    let renamed: Vec<Renamed> = renamed(&self.cx, name).into_iter().collect();
                    self.cx.import(node, &module, Vec::new()).renamed = renamed;
                }
            }
            Some(module) => {
                let mut names: Vec<String> = imported
                    .iter()
                    .map(|n| compact(self.cx.text(original(*n))))
                    .collect();
                let renamed: Vec<Renamed> = imported
                    .into_iter()
                    .filter_map(|n| renamed(&self.cx, n))
                    .collect();
                let mut cursor = node.walk();
                if node
                    .named_children(&mut cursor)
                    .any(|c| c.kind() == "wildcard_import")
                {
                    names.push("*".to_string());
                }
                self.cx.import(node, &module, names).renamed = renamed;
            }
        }
    }

    fn call(&mut self, node: Node<'_>) {
        let Some((object, name)) = security::python::callee(&self.cx, node) else {
            return;
        };
        let qualifier = Some(object).filter(|o| !o.is_empty());
        self.cx
            .qualified_reference(ReferenceKind::Call, node, qualifier, name);
    }
}

/// The imported name of an import list entry (`x` of `x as y`).
fn original(n: Node<'_>) -> Node<'_> {
    match n.kind() {
        "aliased_import" => n.child_by_field_name("name").unwrap_or(n),
        _ => n,
    }
}

/// The local name `x as y` binds, with `x`'s last dotted segment as the name bound.
fn renamed(cx: &Ctx<'_>, n: Node<'_>) -> Option<Renamed> {
    let local = cx.field_text(n, "alias")?;
    let name = compact(cx.text(original(n)));
    Some(Renamed {
        name: name.rsplit('.').next().unwrap_or("").to_string(),
        local: local.to_string(),
    })
}

/// McCabe decision points of Python; nested `def` and `class` are their own symbols.
fn decision(node: Node<'_>, kind: &str) -> Option<u32> {
    match kind {
        "function_definition" | "class_definition" => None,
        "if_statement"
        | "elif_clause"
        | "for_statement"
        | "while_statement"
        | "except_clause"
        | "conditional_expression"
        | "for_in_clause"
        | "if_clause" => Some(1),
        "case_clause" => {
            let mut cursor = node.walk();
            let default = node
                .named_children(&mut cursor)
                .filter(|c| c.kind() == "case_pattern")
                .all(|p| p.named_child_count() == 0 && p.byte_range().len() == 1);
            Some(u32::from(!default))
        }
        "boolean_operator" => Some(u32::from(has_operator(node, &["and", "or"]))),
        _ => Some(0),
    }
}

/// Whether an identifier names a type in an annotation (`x: Foo`, `list[Foo]`), the
/// alias name of a `type` statement excluded.
fn in_annotation(node: Node<'_>) -> bool {
    let Some(parent) = node.parent() else {
        return false;
    };
    match parent.kind() {
        "generic_type" => true,
        "type" => !parent.parent().is_some_and(|g| {
            g.kind() == "type_alias_statement"
                && g.child_by_field_name("left").map(|l| l.id()) == Some(parent.id())
        }),
        _ => false,
    }
}

/// The docstring: a string literal as the body's first statement.
fn docstring(cx: &Ctx<'_>, body: Node<'_>) -> String {
    let Some(first) = body.named_child(0) else {
        return String::new();
    };
    let string = match (first.kind(), first.named_child(0)) {
        ("expression_statement", Some(s)) if s.kind() == "string" => s,
        _ => return String::new(),
    };
    let mut cursor = string.walk();
    let content: String = string
        .named_children(&mut cursor)
        .filter(|c| c.kind() == "string_content")
        .map(|c| cx.text(c))
        .collect();
    tidy_doc(&content)
}

/// `__all__ = [...]` (or a tuple) at module level, if every element is a plain string.
fn dunder_all(cx: &Ctx<'_>, root: Node<'_>) -> Option<Vec<String>> {
    let mut cursor = root.walk();
    let mut found = None;
    for statement in root.named_children(&mut cursor) {
        let Some(assignment) = statement.named_child(0) else {
            continue;
        };
        if statement.kind() != "expression_statement"
            || assignment.kind() != "assignment"
            || cx.field_text(assignment, "left") != Some("__all__")
        {
            continue;
        }
        found = assignment
            .child_by_field_name("right")
            .and_then(|list| string_list(cx, list));
    }
    found
}

fn string_list(cx: &Ctx<'_>, list: Node<'_>) -> Option<Vec<String>> {
    if !matches!(list.kind(), "list" | "tuple") {
        return None;
    }
    let mut cursor = list.walk();
    let items: Vec<Node<'_>> = list.named_children(&mut cursor).collect();
    items
        .into_iter()
        .filter(|item| item.kind() != "comment")
        .map(|item| {
            let mut cursor = item.walk();
            let parts: Vec<Node<'_>> = item.named_children(&mut cursor).collect();
            let plain = item.kind() == "string"
                && parts
                    .iter()
                    .all(|p| matches!(p.kind(), "string_start" | "string_content" | "string_end"));
            plain.then(|| {
                parts
                    .iter()
                    .filter(|p| p.kind() == "string_content")
                    .map(|p| cx.text(*p))
                    .collect()
            })
        })
        .collect()
}
