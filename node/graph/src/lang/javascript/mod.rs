//! JavaScript, TypeScript and TSX share one grammar family and this module: functions,
//! classes and their members (`Class.method`), TS interfaces, aliases, enums and
//! namespaces, module-level `const`s, ES and CommonJS imports, and `.innerHTML =` as a
//! risky marker; security facts are `security::javascript`'s.

use super::security;
use super::shared::{self, has_operator, starts_upper, tidy_doc, Ctx, Event, KindNames, Step};
use crate::facts::{FileFacts, ReferenceKind, SymbolKind};
use modules::{unquote, Modules};
use tree_sitter::Node;

mod modules;

/// Extracts the facts of a parsed JavaScript, TypeScript or TSX file.
pub(super) fn extract(src: &str, kinds: &'static KindNames, root: Node<'_>) -> FileFacts {
    let cx = Ctx::new(
        src,
        kinds,
        |kind| matches!(kind, "comment" | "html_comment"),
        decision,
    );
    let modules = Modules::new(&cx, root);
    let mut visitor = Visitor {
        cx,
        modules,
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
    Class { exported: bool },
    Namespace,
    Function,
}

type Scope = shared::Scope<ScopeKind>;

struct Visitor<'s> {
    cx: Ctx<'s>,
    modules: Modules,
    scopes: Vec<Scope>,
}

impl<'s> Visitor<'s> {
    fn visit(&mut self, node: Node<'_>, event: Event) -> Step {
        if event == Event::Leave {
            // A CommonJS member function pushes its object's scope and its own.
            shared::leave_scopes(&mut self.scopes, node);
            return Step::Over;
        }
        let kind = self.cx.kind(node);
        security::javascript::visit(&mut self.cx, node, kind);
        match kind {
            "function_declaration" | "generator_function_declaration" | "function_signature" => {
                let kind = SymbolKind::Function;
                self.declare(node, node, kind, node.child_by_field_name("body"));
            }
            "class_declaration" | "abstract_class_declaration" => {
                let public = self.declare(node, node, SymbolKind::Class, None);
                self.push(node, ScopeKind::Class { exported: public });
            }
            "method_definition" | "abstract_method_signature" => self.member(node, node),
            "field_definition" | "public_field_definition"
                if node.child_by_field_name("value").is_some_and(is_function) =>
            {
                self.member(node, node);
            }
            "interface_declaration" => self.simple(node, SymbolKind::Interface),
            "type_alias_declaration" => self.simple(node, SymbolKind::Type),
            "enum_declaration" => self.simple(node, SymbolKind::Enum),
            "internal_module" | "module" => {
                self.simple(node, SymbolKind::Module);
                self.push(node, ScopeKind::Namespace);
            }
            "lexical_declaration" if self.cx.field_text(node, "kind") == Some("const") => {
                self.constants(node);
            }
            "import_statement" | "export_statement" => self.modules.statement(&mut self.cx, node),
            "call_expression" => self.call(node),
            "new_expression" => {
                let constructor = node.child_by_field_name("constructor");
                let name = last_name(&self.cx, constructor);
                let qualifier = receiver(&self.cx, constructor);
                self.cx
                    .qualified_reference(ReferenceKind::Call, node, qualifier, name);
            }
            "assignment_expression" | "augmented_assignment_expression" => {
                let left = node.child_by_field_name("left");
                if left.is_some_and(|l| {
                    l.kind() == "member_expression"
                        && self.cx.field_text(l, "property") == Some("innerHTML")
                }) {
                    self.cx.risky(node, "innerHTML");
                }
                if self.scopes.is_empty() {
                    self.assigned_function(node);
                }
            }
            "jsx_opening_element" | "jsx_self_closing_element" => {
                let name = last_name(&self.cx, node.child_by_field_name("name"));
                if starts_upper(name) {
                    self.cx.reference(ReferenceKind::Call, node, name);
                }
            }
            "class_heritage" | "extends_clause" => self.heritage(node),
            "type_identifier" if !is_declared_name(node) => {
                let name = self.cx.text(node);
                self.cx.reference(ReferenceKind::Type, node, name);
            }
            _ => {}
        }
        Step::Into
    }

    fn push(&mut self, node: Node<'_>, kind: ScopeKind) {
        let name = self.cx.field_text(node, "name").unwrap_or("");
        let path = self.path(&unquote(name));
        self.scopes.push(Scope {
            node: node.id(),
            path,
            kind,
        });
    }

    fn path(&self, name: &str) -> String {
        match self.scopes.last() {
            Some(scope) => format!("{}.{name}", scope.path),
            None => name.to_string(),
        }
    }

    /// Whether a declaration is exported: by an `export` in front of it or by name.
    fn is_exported(&self, statement: Node<'_>, name: &str) -> bool {
        if matches!(
            self.scopes.last().map(|s| s.kind),
            Some(ScopeKind::Function)
        ) {
            return false;
        }
        statement
            .parent()
            .is_some_and(|p| p.kind() == "export_statement")
            || (self.scopes.is_empty() && self.modules.exported.contains(name))
    }

    /// Adds a top-level-style declaration spanning `node`; `statement` is where `export`
    /// and the JSDoc comment attach. Returns whether it is public.
    fn declare(
        &mut self,
        node: Node<'_>,
        statement: Node<'_>,
        kind: SymbolKind,
        body: Option<Node<'_>>,
    ) -> bool {
        let Some(name) = self.cx.field_text(node, "name").map(unquote) else {
            return false;
        };
        let public = self.is_exported(statement, &name);
        let signature = match kind {
            SymbolKind::Class | SymbolKind::Interface | SymbolKind::Enum | SymbolKind::Module => {
                self.cx.header(node, node.child_by_field_name("body"))
            }
            _ => self.cx.header(node, body),
        };
        self.add(node, statement, kind, &name, public, signature, body);
        public
    }

    /// CommonJS-style definitions at module level: `exports.parse = function (...) {}`
    /// (an exported function `parse`) and `res.send = function send(...) {}` or
    /// `Router.prototype.use = ...` (methods `res.send`, `Router.use`).
    fn assigned_function(&mut self, node: Node<'_>) {
        let (Some(left), Some(right)) = (
            node.child_by_field_name("left"),
            node.child_by_field_name("right"),
        ) else {
            return;
        };
        if left.kind() != "member_expression" || !is_function(right) {
            return;
        }
        let (Some(name), Some(object)) = (
            self.cx.field_text(left, "property"),
            left.child_by_field_name("object"),
        ) else {
            return;
        };
        let object = self.cx.text(object).replace(".prototype", "");
        if name == "exports" || name == "prototype" {
            return;
        }
        let exported = object == "exports" || object == "module.exports";
        let kind = if exported {
            SymbolKind::Function
        } else {
            self.scopes.push(Scope {
                node: node.id(),
                path: object,
                kind: ScopeKind::Namespace,
            });
            SymbolKind::Method
        };
        let statement = node
            .parent()
            .filter(|p| p.kind() == "expression_statement")
            .unwrap_or(node);
        let body = right.child_by_field_name("body");
        let signature = self.cx.header(node, body);
        self.add(node, statement, kind, name, exported, signature, body);
    }

    fn simple(&mut self, node: Node<'_>, kind: SymbolKind) {
        self.declare(node, node, kind, None);
    }

    #[allow(clippy::too_many_arguments)] // one call per symbol shape; a struct adds nothing
    fn add(
        &mut self,
        node: Node<'_>,
        statement: Node<'_>,
        kind: SymbolKind,
        name: &str,
        public: bool,
        signature: String,
        body: Option<Node<'_>>,
    ) {
        let doc = jsdoc(&self.cx, statement);
        let qualified = self.path(name);
        let symbol = self.cx.symbol(node, kind, name, qualified.clone());
        symbol.public = public;
        symbol.signature = signature;
        symbol.doc = doc;
        if kind.is_callable() {
            self.cx.measure(body);
        }
        if kind.is_callable() && body.is_some() {
            self.scopes.push(Scope {
                node: node.id(),
                path: qualified,
                kind: ScopeKind::Function,
            });
        }
    }

    /// A method, or a class field holding a function.
    fn member(&mut self, node: Node<'_>, statement: Node<'_>) {
        let Some(ScopeKind::Class { exported }) = self.scopes.last().map(|s| s.kind) else {
            return;
        };
        let class_node = node.parent().and_then(|body| body.parent());
        if class_node.map(|c| c.id()) != self.scopes.last().map(|s| s.node) {
            return;
        }
        let name_node = node
            .child_by_field_name("name")
            .or_else(|| node.child_by_field_name("property"));
        let Some(name_node) = name_node else { return };
        let mut cursor = node.walk();
        let hidden = node
            .children(&mut cursor)
            .any(|c| c.kind() == "accessibility_modifier" && self.cx.text(c) != "public");
        let public = exported && !hidden && name_node.kind() != "private_property_identifier";
        let name = unquote(self.cx.text(name_node));
        let (body, header_end) = match node.child_by_field_name("value") {
            Some(value) => (
                value.child_by_field_name("body"),
                value.child_by_field_name("body"),
            ),
            None => (
                node.child_by_field_name("body"),
                node.child_by_field_name("body"),
            ),
        };
        let signature = self.cx.header(node, header_end);
        self.add(
            node,
            statement,
            SymbolKind::Method,
            &name,
            public,
            signature,
            body,
        );
    }

    /// `const` declarations at module or namespace level.
    fn constants(&mut self, declaration: Node<'_>) {
        if !at_module_level(declaration) {
            return;
        }
        let mut cursor = declaration.walk();
        let declarators: Vec<Node<'_>> = declaration
            .named_children(&mut cursor)
            .filter(|c| c.kind() == "variable_declarator")
            .collect();
        for declarator in declarators {
            let Some(name) = declarator.child_by_field_name("name") else {
                continue;
            };
            if name.kind() != "identifier" {
                continue;
            }
            let name = self.cx.text(name);
            let public = self.is_exported(declaration, name);
            let value = declarator.child_by_field_name("value");
            let (kind, body) = match value {
                Some(v) if is_function(v) => (SymbolKind::Function, v.child_by_field_name("body")),
                _ => (SymbolKind::Const, None),
            };
            let signature = format!("const {}", self.cx.header(declarator, body));
            self.add(declarator, declaration, kind, name, public, signature, body);
        }
    }

    fn call(&mut self, node: Node<'_>) {
        if self.modules.call_import(&mut self.cx, node) {
            return;
        }
        let Some(function) = node.child_by_field_name("function") else {
            return;
        };
        let name = last_name(&self.cx, Some(function));
        let qualifier = receiver(&self.cx, Some(function));
        self.cx
            .qualified_reference(ReferenceKind::Call, node, qualifier, name);
        let shell = self.modules.runs_shell(&self.cx, function, name);
        security::javascript::call(&mut self.cx, node, name, shell);
    }

    fn heritage(&mut self, node: Node<'_>) {
        let mut cursor = node.walk();
        let bases: Vec<Node<'_>> = match node.kind() {
            "extends_clause" => node.children_by_field_name("value", &mut cursor).collect(),
            _ => node.named_children(&mut cursor).collect(),
        };
        for base in bases {
            if matches!(base.kind(), "identifier" | "member_expression") {
                let name = last_name(&self.cx, Some(base));
                self.cx.reference(ReferenceKind::Type, base, name);
            }
        }
    }
}

/// McCabe decision points of JS/TS; nested named functions and classes are symbols (or
/// hold them) of their own.
fn decision(node: Node<'_>, kind: &str) -> Option<u32> {
    match kind {
        "function_declaration"
        | "generator_function_declaration"
        | "method_definition"
        | "class_declaration"
        | "abstract_class_declaration"
        | "class" => None,
        "if_statement" | "for_statement" | "for_in_statement" | "while_statement"
        | "do_statement" | "switch_case" | "catch_clause" | "ternary_expression" => Some(1),
        "binary_expression" => Some(u32::from(has_operator(node, &["&&", "||", "??"]))),
        _ => Some(0),
    }
}

fn is_function(node: Node<'_>) -> bool {
    matches!(
        node.kind(),
        "arrow_function" | "function_expression" | "function" | "generator_function"
    )
}

/// Whether a declaration sits at module or namespace level (not in a block or function).
fn at_module_level(node: Node<'_>) -> bool {
    let mut parent = node.parent();
    while let Some(p) =
        parent.filter(|p| matches!(p.kind(), "export_statement" | "ambient_declaration"))
    {
        parent = p.parent();
    }
    parent.is_some_and(|p| match p.kind() {
        "program" => true,
        "statement_block" => p
            .parent()
            .is_some_and(|g| matches!(g.kind(), "internal_module" | "module")),
        _ => false,
    })
}

fn is_declared_name(node: Node<'_>) -> bool {
    node.parent().is_some_and(|parent| {
        matches!(
            parent.kind(),
            "class_declaration"
                | "abstract_class_declaration"
                | "interface_declaration"
                | "type_alias_declaration"
                | "type_parameter"
                | "class"
        ) && parent.child_by_field_name("name").map(|n| n.id()) == Some(node.id())
    })
}

/// The object a member callee is called on (`ns` of `ns.f()`), as written.
fn receiver<'s>(cx: &Ctx<'s>, node: Option<Node<'_>>) -> Option<&'s str> {
    node.filter(|n| n.kind() == "member_expression")
        .and_then(|n| cx.field_text(n, "object"))
}

/// The last name segment of a callee, constructor or JSX tag.
fn last_name<'s>(cx: &Ctx<'s>, node: Option<Node<'_>>) -> &'s str {
    let Some(node) = node else { return "" };
    match node.kind() {
        "identifier" | "property_identifier" | "private_property_identifier" => cx.text(node),
        "member_expression" => last_name(cx, node.child_by_field_name("property")),
        "nested_identifier" => last_name(
            cx,
            node.named_child(
                u32::try_from(node.named_child_count().saturating_sub(1)).unwrap_or(0),
            ),
        ),
        _ => "",
    }
}

/// The `/** */` comment directly above `statement` (or above its `export`).
fn jsdoc(cx: &Ctx<'_>, statement: Node<'_>) -> String {
    let anchor = match statement.parent() {
        Some(p) if p.kind() == "export_statement" => p,
        _ => statement,
    };
    let Some(comment) = anchor.prev_sibling().filter(|c| c.kind() == "comment") else {
        return String::new();
    };
    let text = cx.text(comment);
    let adjacent = comment.end_position().row + 1 >= anchor.start_position().row;
    match text.strip_prefix("/**").and_then(|t| t.strip_suffix("*/")) {
        Some(inner) if adjacent => tidy_doc(inner),
        _ => String::new(),
    }
}
