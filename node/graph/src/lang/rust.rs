//! Rust: items become symbols (methods qualified `Type::method`, nested modules
//! `outer::inner::f`), `use` trees are flattened into imports, and `unsafe` blocks, fns,
//! impls and traits are security facts (the others are `security::rust`'s).

use super::security;
use super::shared::{self, collapse, compact, has_operator, tidy_doc, Ctx, Event, KindNames, Step};
use crate::facts::{FileFacts, ReferenceKind, Renamed, SecurityKind, Symbol, SymbolKind};
use tree_sitter::Node;

/// Extracts the facts of a parsed Rust file.
pub(super) fn extract(src: &str, kinds: &'static KindNames, root: Node<'_>) -> FileFacts {
    let cx = Ctx::new(
        src,
        kinds,
        |kind| matches!(kind, "line_comment" | "block_comment"),
        decision,
    );
    let mut visitor = Visitor {
        cx,
        scopes: Vec::new(),
        declared_name: None,
        path_type_name: None,
        depth: 0,
        siblings: Vec::new(),
    };
    Ctx::walk(
        root,
        &mut visitor,
        |v| &mut v.cx,
        |v, node, event| v.visit(node, event),
    );
    visitor.cx.finish()
}

/// One import a `use` tree flattens into.
#[derive(Debug)]
struct UseGroup {
    module: String,
    names: Vec<String>,
    renamed: Vec<Renamed>,
}

impl UseGroup {
    fn new(module: String, names: Vec<String>) -> UseGroup {
        UseGroup {
            module,
            names,
            renamed: Vec::new(),
        }
    }
}

type UseList = Vec<UseGroup>;

/// Node kinds whose `name` field declares a type name.
const DECLARES_TYPE_NAME: [&str; 7] = [
    "struct_item",
    "enum_item",
    "union_item",
    "trait_item",
    "type_item",
    "type_parameter",
    "associated_type",
];

/// Deepest `use` nesting followed; real code stays far below.
const MAX_USE_DEPTH: u32 = 64;

/// What encloses the current node, for qualified names and method visibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScopeKind {
    Module,
    Impl { of_trait: bool },
    Trait { public: bool },
    Function,
}

type Scope = shared::Scope<ScopeKind>;

struct Visitor<'s, 't> {
    cx: Ctx<'s>,
    scopes: Vec<Scope>,
    /// Id of the name node of the type declaration entered last: that name is declared
    /// there, not referenced (remembered on the way down because asking a node for its
    /// parent costs a descent from the root).
    declared_name: Option<usize>,
    /// Id of the name node of the path type entered last (`up::Client`): recorded there
    /// with its qualifier, so not again on its own.
    path_type_name: Option<usize>,
    /// Depth of the node being visited plus one.
    depth: usize,
    /// (depth, node) of the attribute and comment siblings right before the next node at
    /// each open depth, shallowest first: where doc comments are found, collected on the
    /// way down because `prev_sibling` also costs a descent from the root.
    siblings: Vec<(usize, Node<'t>)>,
}

impl<'s, 't> Visitor<'s, 't> {
    fn visit(&mut self, node: Node<'t>, event: Event) -> Step {
        if event == Event::Leave {
            self.depth -= 1;
            shared::leave_scopes(&mut self.scopes, node);
            return Step::Over;
        }
        let depth = self.depth;
        self.depth += 1;
        while self.siblings.last().is_some_and(|&(d, _)| d > depth) {
            self.siblings.pop();
        }
        let step = self.enter(node);
        if matches!(
            self.cx.kind(node),
            "attribute_item" | "line_comment" | "block_comment"
        ) {
            self.siblings.push((depth, node));
        } else {
            while self.siblings.last().is_some_and(|&(d, _)| d == depth) {
                self.siblings.pop();
            }
        }
        step
    }

    /// `///` and `/** */` comments right above the node being entered, attributes and
    /// plain comments skipped.
    fn doc_comment(&self) -> String {
        let depth = self.depth - 1;
        let start = self
            .siblings
            .iter()
            .rposition(|&(d, _)| d != depth)
            .map_or(0, |i| i + 1);
        let parts: Vec<&str> = self.siblings[start..]
            .iter()
            .filter(|(_, sibling)| sibling.child_by_field_name("outer").is_some())
            .filter_map(|(_, sibling)| sibling.child_by_field_name("doc"))
            .map(|doc| self.cx.text(doc).trim_end_matches(['\n', '\r']))
            .collect();
        tidy_doc(&parts.join("\n"))
    }

    fn enter(&mut self, node: Node<'t>) -> Step {
        let kind = self.cx.kind(node);
        security::rust::visit(&mut self.cx, node, kind);
        if DECLARES_TYPE_NAME.contains(&kind) {
            self.declared_name = node.child_by_field_name("name").map(|n| n.id());
        }
        match kind {
            "function_item" | "function_signature_item" => self.function(node),
            "struct_item" | "union_item" => {
                self.item(node, SymbolKind::Struct);
            }
            "enum_item" => {
                self.item(node, SymbolKind::Enum);
            }
            "type_item" => {
                self.item(node, SymbolKind::Type);
            }
            "const_item" | "static_item" => {
                self.item(node, SymbolKind::Const);
            }
            "trait_item" => {
                self.unsafe_modifier(node);
                let public = self.item(node, SymbolKind::Trait);
                self.enter_scope(node, ScopeKind::Trait { public });
            }
            "mod_item" => {
                self.item(node, SymbolKind::Module);
                self.enter_scope(node, ScopeKind::Module);
            }
            "impl_item" => {
                self.unsafe_modifier(node);
                let of_trait = node.child_by_field_name("trait").is_some();
                let path = self.path(&type_name(&self.cx, node.child_by_field_name("type")));
                self.scopes.push(Scope {
                    node: node.id(),
                    path,
                    kind: ScopeKind::Impl { of_trait },
                });
            }
            "use_declaration" => {
                if let Some(arg) = node.child_by_field_name("argument") {
                    let mut out = Vec::new();
                    self.use_tree(arg, "", 0, &mut out);
                    for group in out {
                        let import = self.cx.import(node, &group.module, group.names);
                        import.renamed = group.renamed;
                    }
                }
                return Step::Over;
            }
            "extern_crate_declaration" => {
                if let Some(name) = self.cx.field_text(node, "name") {
                    self.cx.import(node, name, Vec::new());
                }
                return Step::Over;
            }
            "macro_definition" | "attribute_item" | "inner_attribute_item" => return Step::Over,
            "call_expression" => {
                let (qualifier, name) = callee(&self.cx, node.child_by_field_name("function"));
                self.cx
                    .qualified_reference(ReferenceKind::Call, node, qualifier, name);
            }
            "scoped_type_identifier" => {
                let name = node.child_by_field_name("name");
                self.path_type_name = name.map(|n| n.id());
                let path = self.cx.field_text(node, "path");
                let name = name.map_or("", |n| self.cx.text(n));
                self.cx
                    .qualified_reference(ReferenceKind::Type, node, path, name);
            }
            "type_identifier"
                if self.declared_name != Some(node.id())
                    && self.path_type_name != Some(node.id())
                    && self.cx.text(node) != "Self" =>
            {
                let name = self.cx.text(node);
                self.cx.reference(ReferenceKind::Type, node, name);
            }
            "unsafe_block" => self.unsafe_code(node, "unsafe block"),
            _ => {}
        }
        Step::Into
    }

    fn enter_scope(&mut self, node: Node<'_>, kind: ScopeKind) {
        let name = self.cx.field_text(node, "name").unwrap_or("");
        let path = self.path(name);
        self.scopes.push(Scope {
            node: node.id(),
            path,
            kind,
        });
    }

    /// `name` qualified by the enclosing scopes.
    fn path(&self, name: &str) -> String {
        match self.scopes.last() {
            Some(scope) if !scope.path.is_empty() => format!("{}::{name}", scope.path),
            _ => name.to_string(),
        }
    }

    /// Adds a non-callable item; returns whether it is public.
    fn item(&mut self, node: Node<'_>, kind: SymbolKind) -> bool {
        let Some(name) = self.cx.field_text(node, "name") else {
            return false;
        };
        let public = self.is_pub(node) || self.in_public_trait();
        let signature = self.cx.header(node, node.child_by_field_name("body"));
        self.add(node, kind, name, public, signature);
        public
    }

    /// Records a symbol qualified by the enclosing scopes, with its doc comment; the
    /// caller fills in what only it knows (complexity).
    fn add(
        &mut self,
        node: Node<'_>,
        kind: SymbolKind,
        name: &str,
        public: bool,
        signature: String,
    ) -> &mut Symbol {
        let doc = self.doc_comment();
        let qualified = self.path(name);
        // `#[doc(hidden)]` on the item or anything enclosing it takes it out of the API
        // dependents may rely on (the Cargo book's SemVer chapter).
        let public = public && !doc_hidden(&self.cx, node);
        let symbol = self.cx.symbol(node, kind, name, qualified);
        symbol.public = public;
        symbol.signature = signature;
        symbol.doc = doc;
        symbol
    }

    fn function(&mut self, node: Node<'_>) {
        self.unsafe_modifier(node);
        let Some(name) = self.cx.field_text(node, "name") else {
            return;
        };
        let scope = self.scopes.last().map(|s| s.kind);
        let kind = match scope {
            Some(ScopeKind::Impl { .. } | ScopeKind::Trait { .. }) => SymbolKind::Method,
            _ => SymbolKind::Function,
        };
        let public = match scope {
            Some(ScopeKind::Impl { of_trait: true }) => true,
            Some(ScopeKind::Trait { public }) => public,
            Some(ScopeKind::Function) => false,
            _ => self.is_pub(node),
        };
        let body = node.child_by_field_name("body");
        let signature = match body {
            Some(_) => self.cx.header(node, body),
            None => collapse(self.cx.text(node)),
        };
        self.add(node, kind, name, public, signature);
        self.cx.measure(body);
        if body.is_some() {
            self.enter_scope(node, ScopeKind::Function);
        }
    }

    fn in_public_trait(&self) -> bool {
        matches!(
            self.scopes.last().map(|s| s.kind),
            Some(ScopeKind::Trait { public: true } | ScopeKind::Impl { of_trait: true })
        )
    }

    /// Exactly `pub`: `pub(crate)` and friends are not the public API.
    fn is_pub(&self, node: Node<'_>) -> bool {
        let mut cursor = node.walk();
        let public = node
            .named_children(&mut cursor)
            .any(|c| c.kind() == "visibility_modifier" && self.cx.text(c) == "pub");
        public
    }

    fn unsafe_modifier(&mut self, node: Node<'_>) {
        let mut cursor = node.walk();
        let modifiers = node
            .children(&mut cursor)
            .find(|c| c.kind() == "function_modifiers");
        let holder = modifiers.unwrap_or(node);
        let mut cursor = holder.walk();
        let is_unsafe = holder.children(&mut cursor).any(|c| c.kind() == "unsafe");
        if is_unsafe {
            let construct = match node.kind() {
                "impl_item" => "unsafe impl",
                "trait_item" => "unsafe trait",
                _ => "unsafe fn",
            };
            self.unsafe_code(node, construct);
        }
    }

    fn unsafe_code(&mut self, node: Node<'_>, construct: &str) {
        let reason = format!("`{construct}`: memory safety rests on the author, not the compiler");
        self.cx
            .security(node, SecurityKind::UnsafeCode, construct, reason);
    }

    /// Flattens a use tree into imports: the names a list imports share their prefix as
    /// module; a single path `a::b` is module `a`, names `[b]`; a lone crate name is a
    /// whole-module import; an alias records the original name, and the local one in
    /// `renamed` (`_` binds nothing).
    /// Nesting deeper than [`MAX_USE_DEPTH`] is dropped rather than risking the stack.
    fn use_tree(&self, node: Node<'_>, prefix: &str, depth: u32, out: &mut UseList) {
        if depth > MAX_USE_DEPTH {
            return;
        }
        match node.kind() {
            "scoped_use_list" => {
                let path = node
                    .child_by_field_name("path")
                    .map_or(String::new(), |p| join(prefix, &compact(self.cx.text(p))));
                let path = if path.is_empty() {
                    prefix.to_string()
                } else {
                    path
                };
                if let Some(list) = node.child_by_field_name("list") {
                    self.use_tree(list, &path, depth + 1, out);
                }
            }
            "use_list" => {
                let slot = out.len();
                let mut group = UseGroup::new(prefix.to_string(), Vec::new());
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    let simple = match child.kind() {
                        "use_as_clause" => child.child_by_field_name("path"),
                        _ => Some(child),
                    }
                    .filter(|n| matches!(n.kind(), "identifier" | "self" | "super" | "crate"));
                    let Some(name) = simple else {
                        self.use_tree(child, prefix, depth + 1, out);
                        continue;
                    };
                    let name = self.cx.text(name);
                    // At the root of a `use` (`use {serde_json as json, …};`) a lone name
                    // is a crate imported whole, not a name imported from a nameless module.
                    if prefix.is_empty() {
                        let mut whole = UseGroup::new(name.to_string(), Vec::new());
                        if let Some(local) = self.alias(child) {
                            whole.renamed.push(Renamed {
                                name: name.to_string(),
                                local,
                            });
                        }
                        out.push(whole);
                        continue;
                    }
                    group.names.push(name.to_string());
                    if let Some(local) = self.alias(child) {
                        group.renamed.push(Renamed {
                            name: name.to_string(),
                            local,
                        });
                    }
                }
                if !group.names.is_empty() {
                    out.insert(slot, group);
                }
            }
            "use_as_clause" => {
                if let Some(path) = node.child_by_field_name("path") {
                    let before = out.len();
                    self.use_tree(path, prefix, depth + 1, out);
                    let local = self.alias(node);
                    if let (Some(local), Some(group)) = (local, out.get_mut(before)) {
                        let name = match group.names.first() {
                            Some(name) => name.clone(),
                            None => group.module.rsplit("::").next().unwrap_or("").to_string(),
                        };
                        group.renamed.push(Renamed { name, local });
                    }
                }
            }
            "use_wildcard" => {
                let path = node.named_child(0).map_or("", |p| self.cx.text(p));
                out.push(UseGroup::new(
                    join(prefix, &compact(path)),
                    vec!["*".to_string()],
                ));
            }
            "line_comment" | "block_comment" => {}
            _ => {
                let full = join(prefix, &compact(self.cx.text(node)));
                match full.rsplit_once("::") {
                    Some((module, name)) if !module.is_empty() => {
                        out.push(UseGroup::new(module.to_string(), vec![name.to_string()]));
                    }
                    _ => out.push(UseGroup::new(full, Vec::new())),
                }
            }
        }
    }

    /// The local name a `use_as_clause` binds; None for another node or `as _`.
    fn alias(&self, node: Node<'_>) -> Option<String> {
        if node.kind() != "use_as_clause" {
            return None;
        }
        let alias = self.cx.field_text(node, "alias")?;
        (alias != "_").then(|| alias.to_string())
    }
}

/// Whether `node` or an item enclosing it carries `#[doc(hidden)]`.
fn doc_hidden(cx: &Ctx<'_>, node: Node<'_>) -> bool {
    let mut at = Some(node);
    while let Some(item) = at {
        let mut prev = item.prev_named_sibling();
        while let Some(sibling) = prev {
            match sibling.kind() {
                "attribute_item" => {
                    let text: String = cx.text(sibling).split_whitespace().collect();
                    if text.contains("doc(hidden)") {
                        return true;
                    }
                }
                "line_comment" | "block_comment" => {}
                _ => break,
            }
            prev = sibling.prev_named_sibling();
        }
        at = item.parent();
    }
    false
}

/// McCabe decision points of Rust: `if`, loops, match arms other than a bare `_`,
/// `&&`/`||`. Nested `fn` items are their own symbols.
fn decision(node: Node<'_>, kind: &str) -> Option<u32> {
    match kind {
        "function_item" => None,
        "if_expression" | "while_expression" | "loop_expression" | "for_expression" => Some(1),
        "match_arm" => {
            let pattern = node.child_by_field_name("pattern");
            // A pattern of one anonymous one-byte token is `_`, the default arm.
            let wildcard =
                pattern.is_some_and(|p| p.named_child_count() == 0 && p.byte_range().len() == 1);
            Some(u32::from(!wildcard))
        }
        "binary_expression" => Some(u32::from(has_operator(node, &["&&", "||"]))),
        "let_chain" => {
            let mut cursor = node.walk();
            let count = node
                .children(&mut cursor)
                .filter(|c| c.kind() == "&&")
                .count();
            Some(u32::try_from(count).unwrap_or(u32::MAX))
        }
        _ => Some(0),
    }
}

/// The bare type name an `impl` is for (`Cache<T>` -> `Cache`, `fmt::Formatter` ->
/// `Formatter`).
fn type_name(cx: &Ctx<'_>, mut node: Option<Node<'_>>) -> String {
    while let Some(current) = node {
        node = match current.kind() {
            "generic_type" | "reference_type" | "pointer_type" => {
                current.child_by_field_name("type")
            }
            "scoped_type_identifier" => current.child_by_field_name("name"),
            _ => return compact(cx.text(current)),
        };
    }
    String::new()
}

/// The path before the callee's last name segment (only a path: a method call's receiver
/// is a value), and that segment.
fn callee<'s>(cx: &Ctx<'s>, mut node: Option<Node<'_>>) -> (Option<&'s str>, &'s str) {
    while let Some(current) = node {
        match current.kind() {
            "identifier" => return (None, cx.text(current)),
            "scoped_identifier" => {
                let name = cx.field_text(current, "name").unwrap_or("");
                return (cx.field_text(current, "path"), name);
            }
            "field_expression" => return (None, cx.field_text(current, "field").unwrap_or("")),
            "generic_function" => node = current.child_by_field_name("function"),
            _ => return (None, ""),
        }
    }
    (None, "")
}

fn join(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path.to_string(),
        (_, true) => prefix.to_string(),
        _ => format!("{prefix}::{path}"),
    }
}
