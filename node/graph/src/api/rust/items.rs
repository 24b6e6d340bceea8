//! The items one Rust file declares, read from its syntax tree for the API model:
//! declarations with what the SemVer rules look at (fields and their visibility,
//! variants and their forms, trait items and their defaults, attributes, qualifiers),
//! `pub use` trees, `mod` declarations and `impl` blocks. Where they are reachable from is
//! the crate's business ([`super::surface`]).

use crate::lang::shared::{code_between, collapse};
use tree_sitter::Node;

/// Deepest item nesting (inline modules, blocks of `extern`) followed.
const MAX_DEPTH: u32 = 32;
/// Most item-level macro invocations of one file whose bodies are read as items.
const MAX_MACRO_BODIES: u32 = 256;
/// Most bytes of one file's macro bodies parsed again, line-padded prefixes included
/// (each body is parsed as a text of its own: a hostile file cannot multiply its size).
const MAX_MACRO_BYTES: usize = 8 << 20;

/// What is left of one file's allowance for reading macro bodies as items.
#[derive(Debug)]
struct MacroBudget {
    bodies: std::cell::Cell<u32>,
    bytes: std::cell::Cell<usize>,
}

impl MacroBudget {
    /// Takes one body of `bytes` from the allowance; false when it is spent.
    fn take(&self, bytes: usize) -> bool {
        let (bodies, left) = (self.bodies.get(), self.bytes.get());
        if bodies == 0 || bytes > left {
            return false;
        }
        self.bodies.set(bodies - 1);
        self.bytes.set(left - bytes);
        true
    }
}

/// What the rules read from an item's attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Attrs {
    /// `#[non_exhaustive]`.
    pub non_exhaustive: bool,
    /// `#[doc(hidden)]`.
    pub hidden: bool,
    /// `#[must_use]`.
    pub must_use: bool,
    /// `#[macro_export]`.
    pub macro_export: bool,
    /// The `repr(...)` hints, each normalised (`C`, `u8`, `transparent`, `packed`).
    pub repr: Vec<String>,
    /// `#[path = "..."]` on a `mod`.
    pub path: Option<String>,
    /// `#[cfg(test)]` (the item is not compiled for dependents).
    pub cfg_test: bool,
}

impl Attrs {
    fn read(&mut self, text: &str) {
        let flat: String = text.split_whitespace().collect();
        let inner = flat
            .trim_start_matches("#[")
            .trim_start_matches("#![")
            .trim_end_matches(']');
        match inner {
            "non_exhaustive" => self.non_exhaustive = true,
            "macro_export" => self.macro_export = true,
            "cfg(test)" => self.cfg_test = true,
            _ if inner == "must_use" || inner.starts_with("must_use=") => self.must_use = true,
            _ if inner.starts_with("doc(") && inner.contains("hidden") => self.hidden = true,
            // Hidden in the default configuration (rustix's experimental modules): not a
            // promise to dependents either.
            _ if inner.starts_with("cfg_attr(") && inner.contains(",doc(hidden)") => {
                self.hidden = true
            }
            _ if inner.starts_with("repr(") => {
                let hints = inner
                    .trim_start_matches("repr(")
                    .trim_end_matches(')')
                    .split(',')
                    .map(str::to_string)
                    .filter(|h| !h.is_empty());
                self.repr.extend(hints);
                self.repr.sort();
            }
            _ if inner.starts_with("path=") => {
                let value = inner.trim_start_matches("path=").trim_matches('"');
                self.path = Some(value.to_string());
            }
            _ => {}
        }
    }
}

/// A field of a struct, union or variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    /// Its name (`0`, `1`, ... in a tuple form).
    pub name: String,
    /// Exactly `pub`.
    pub public: bool,
    /// Its type, as written (comments out, whitespace collapsed).
    pub ty: String,
    /// 1-based line.
    pub line: u32,
}

/// How a struct or variant holds its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// `{ a: T }`.
    Named,
    /// `(T)`.
    Tuple,
    /// No fields at all.
    Unit,
}

/// A variant of an enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Variant {
    /// Name.
    pub name: String,
    /// Form.
    pub form: Form,
    /// Fields.
    pub fields: Vec<Field>,
    /// Its own attributes.
    pub attrs: Attrs,
    /// Explicit discriminant, as written.
    pub discriminant: Option<String>,
    /// 1-based line.
    pub line: u32,
}

/// What kind of thing a trait item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TraitItemKind {
    /// `fn`.
    Method,
    /// `type`.
    Type,
    /// `const`.
    Const,
}

/// An item of a trait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TraitItem {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: TraitItemKind,
    /// Implementors need not write it.
    pub provided: bool,
    /// Its declaration up to the body or default.
    pub signature: String,
    /// Whether it keeps the trait dyn compatible.
    pub dispatchable: bool,
    /// A method's types, as compared.
    pub shape: Option<FnShape>,
    /// Its own attributes.
    pub attrs: Attrs,
    /// 1-based line.
    pub line: u32,
}

/// A function's qualifiers and the parts of its signature the rules compare.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct FnShape {
    /// `const fn`.
    pub is_const: bool,
    /// `unsafe fn`.
    pub is_unsafe: bool,
    /// `async fn`.
    pub is_async: bool,
    /// Parameters, `self` included.
    pub arity: usize,
    /// The type parameters' names (lifetimes and consts included), in order.
    pub generics: Vec<String>,
    /// Every `Param: Bound` pair the generics and the `where` clause state.
    pub bounds: Vec<String>,
    /// `fn name(types) -> type`: parameter names dropped, generics numbered by position
    /// (`G0`, `'G1`), as in `generics` and `bounds`.
    pub bare: String,
}

/// What an item is, with what its rules read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Detail {
    /// A free function or a method.
    Function(FnShape),
    /// A struct or union.
    Struct {
        /// `union`.
        union: bool,
        /// How it holds its fields.
        form: Form,
        /// All its fields, public or not.
        fields: Vec<Field>,
        /// Its generics as written.
        generics: String,
    },
    /// An enum.
    Enum {
        /// Its variants.
        variants: Vec<Variant>,
        /// Its generics as written.
        generics: String,
    },
    /// A trait.
    Trait {
        /// `unsafe trait`.
        is_unsafe: bool,
        /// Supertraits, each as written.
        supertraits: Vec<String>,
        /// Its items.
        items: Vec<TraitItem>,
        /// Its generics as written.
        generics: String,
    },
    /// A `type` alias (its whole declaration is the signature).
    Alias,
    /// A `const` or `static`.
    Value {
        /// `static`.
        is_static: bool,
        /// `static mut`.
        mutable: bool,
        /// Its type.
        ty: String,
    },
    /// `macro_rules!`: the matchers of its rules.
    Macro(Vec<String>),
}

/// A named item a file declares.
#[derive(Debug, Clone)]
pub(crate) struct Decl {
    /// Name.
    pub name: String,
    /// Exactly `pub`.
    pub public: bool,
    /// Attributes.
    pub attrs: Attrs,
    /// What it is.
    pub detail: Detail,
    /// Declaration up to its body, comments out, whitespace collapsed.
    pub signature: String,
    /// Hash of its whole text (a body changed behind the same signature).
    pub body: u64,
    /// 1-based line.
    pub line: u32,
}

/// One path a `pub use` binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UseBinding {
    /// The path, segment by segment.
    pub path: Vec<String>,
    /// `as NAME` (None: the path's last segment; `_` binds nothing and is dropped).
    pub alias: Option<String>,
    /// `path::*`.
    pub glob: bool,
    /// 1-based line.
    pub line: u32,
}

/// An `impl` block.
#[derive(Debug, Clone)]
pub(crate) struct Impl {
    /// The bare name of the type it is for (`Cache` of `Cache<T>`).
    pub self_name: String,
    /// The trait, as written, for `impl Trait for Type`.
    pub of_trait: Option<String>,
    /// `impl<..> Trait for Type`, normalised.
    pub signature: String,
    /// Its items (for an inherent impl, only the `pub` ones).
    pub items: Vec<Decl>,
    /// 1-based line.
    pub line: u32,
}

/// A `mod` declared in a file.
#[derive(Debug, Clone)]
pub(crate) struct ModDecl {
    /// Name.
    pub name: String,
    /// Exactly `pub`, and not hidden.
    pub public: bool,
    /// `#[path]`.
    pub path_attr: Option<String>,
    /// The items of an inline module (None: `mod name;`, in its own file).
    pub inline: Option<Box<FileItems>>,
}

/// Everything a file (or an inline module) declares at its top level.
#[derive(Debug, Clone, Default)]
pub(crate) struct FileItems {
    /// Named items.
    pub decls: Vec<Decl>,
    /// `pub use` bindings.
    pub uses: Vec<UseBinding>,
    /// Modules.
    pub mods: Vec<ModDecl>,
    /// `impl` blocks.
    pub impls: Vec<Impl>,
    /// `#![no_std]` at the top of the file.
    pub no_std: bool,
    /// The names item-level macro invocations mention (what they may generate).
    pub macro_words: std::collections::BTreeSet<String>,
}

/// Reads the items of a parsed file.
pub(crate) fn read(src: &str, root: Node<'_>) -> FileItems {
    let reader = Reader {
        src,
        macro_budget: std::rc::Rc::new(MacroBudget {
            bodies: std::cell::Cell::new(MAX_MACRO_BODIES),
            bytes: std::cell::Cell::new(MAX_MACRO_BYTES),
        }),
    };
    let mut out = FileItems::default();
    reader.container(root, 0, &mut out);
    out
}

struct Reader<'s> {
    src: &'s str,
    /// Macro bodies still to be read as items in this file.
    macro_budget: std::rc::Rc<MacroBudget>,
}

impl<'s> Reader<'s> {
    fn text(&self, node: Node<'_>) -> &'s str {
        self.src.get(node.byte_range()).unwrap_or("")
    }

    fn code(&self, node: Node<'_>) -> String {
        code_between(self.src, node, node.start_byte(), node.end_byte())
    }

    /// `node`'s text up to `until` (its body), comments out.
    fn head(&self, node: Node<'_>, until: Option<Node<'_>>) -> String {
        let end = until.map_or(node.end_byte(), |b| b.start_byte());
        let text = code_between(self.src, node, node.start_byte(), end);
        tidy(text.trim_end_matches(';').trim())
    }

    fn field(&self, node: Node<'_>, name: &str) -> Option<String> {
        node.child_by_field_name(name).map(|n| self.code(n))
    }

    fn is_pub(&self, node: Node<'_>) -> bool {
        let mut cursor = node.walk();
        let public = node
            .named_children(&mut cursor)
            .any(|c| c.kind() == "visibility_modifier" && self.text(c) == "pub");
        public
    }

    fn body_hash(&self, node: Node<'_>) -> u64 {
        let hash = weft_kernel::hash::domain_hash(
            "weft/coordinate/body/v1",
            &[self.code(node).as_bytes()],
        );
        u64::from_be_bytes(hash.0[..8].try_into().expect("8 bytes"))
    }

    /// The items of a source file or `{ ... }` of items, attributes attached to the item
    /// after them.
    fn container(&self, node: Node<'_>, depth: u32, out: &mut FileItems) {
        if depth > MAX_DEPTH {
            return;
        }
        let mut attrs = Attrs::default();
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            match child.kind() {
                "attribute_item" => {
                    attrs.read(self.text(child));
                    continue;
                }
                "inner_attribute_item" => {
                    let flat: String = self.text(child).split_whitespace().collect();
                    out.no_std |= flat == "#![no_std]";
                    continue;
                }
                "line_comment" | "block_comment" => continue,
                _ => {}
            }
            let taken = std::mem::take(&mut attrs);
            if taken.cfg_test {
                continue;
            }
            self.item(child, taken, depth, out);
        }
    }

    fn item(&self, node: Node<'_>, attrs: Attrs, depth: u32, out: &mut FileItems) {
        match node.kind() {
            "function_item" | "function_signature_item" => {
                if let Some(d) = self.function(node, attrs) {
                    out.decls.push(d);
                }
            }
            "struct_item" | "union_item" => out.decls.extend(self.structure(node, attrs)),
            "enum_item" => out.decls.extend(self.enumeration(node, attrs)),
            "trait_item" => out.decls.extend(self.trait_decl(node, attrs)),
            "type_item" => {
                let Some(name) = self.field(node, "name") else {
                    return;
                };
                let signature = self.head(node, None);
                out.decls
                    .push(self.decl(node, name, attrs, Detail::Alias, signature));
            }
            "const_item" | "static_item" => out.decls.extend(self.value(node, attrs)),
            "macro_definition" => out.decls.extend(self.macro_decl(node, attrs)),
            "mod_item" => {
                let Some(name) = self.field(node, "name") else {
                    return;
                };
                let inline = node.child_by_field_name("body").map(|body| {
                    let mut items = FileItems::default();
                    self.container(body, depth + 1, &mut items);
                    Box::new(items)
                });
                out.mods.push(ModDecl {
                    name,
                    public: self.is_pub(node) && !attrs.hidden,
                    path_attr: attrs.path,
                    inline,
                });
            }
            "use_declaration" if self.is_pub(node) && !attrs.hidden => {
                if let Some(arg) = node.child_by_field_name("argument") {
                    let line = line_of(node);
                    let text = collapse(&self.code(arg))
                        .replace(" ::", "::")
                        .replace(":: ", "::")
                        .replace("{ ", "{")
                        .replace(" }", "}")
                        .replace(" ,", ",");
                    flatten_use(&text, &mut Vec::new(), line, 0, &mut out.uses);
                }
            }
            "impl_item" => out.impls.extend(self.impl_block(node)),
            "macro_invocation" | "expression_statement" => {
                let call = match node.kind() {
                    "expression_statement" => node
                        .named_child(0)
                        .filter(|c| c.kind() == "macro_invocation"),
                    _ => Some(node),
                };
                let Some(call) = call else { return };
                let words = self
                    .text(call)
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .filter(|w| w.len() > 1)
                    .map(str::to_string);
                out.macro_words.extend(words);
                if let Some(items) = self.macro_items(call, depth) {
                    out.decls.extend(items.decls);
                    out.uses.extend(items.uses);
                    out.mods.extend(items.mods);
                    out.impls.extend(items.impls);
                    out.macro_words.extend(items.macro_words);
                }
            }
            "foreign_mod_item" => {
                if let Some(body) = node.child_by_field_name("body") {
                    self.container(body, depth + 1, out);
                }
            }
            _ => {}
        }
    }

    /// The items an item-level macro invocation's body declares, when the body is itself
    /// valid Rust items (`ast_struct! { pub struct Field { … } }` in syn,
    /// `cfg_if!`-free pass-through macros): a dependent sees what such a macro expands to,
    /// and pass-through macros expand to their input. Bodies that are not plain items
    /// (`bitflags!`'s own syntax) parse with errors and are left alone.
    fn macro_items(&self, call: Node<'_>, depth: u32) -> Option<FileItems> {
        let mut cursor = call.walk();
        let body = call
            .named_children(&mut cursor)
            .find(|c| c.kind() == "token_tree")?;
        if depth >= MAX_DEPTH {
            return None;
        }
        let text = self.text(body);
        let inner = text.get(1..text.len().saturating_sub(1))?;
        if !(inner.contains("pub ") || inner.contains("pub(")) {
            return None;
        }
        // Lines before the body kept as empty lines: the items keep their lines.
        let start = body.start_position();
        if !self
            .macro_budget
            .take(start.row + start.column + 1 + inner.len())
        {
            return None;
        }
        let mut snippet = "\n".repeat(start.row);
        snippet.push_str(&" ".repeat(start.column + 1));
        snippet.push_str(inner);
        let tree = crate::lang::parse(crate::lang::Language::Rust, &snippet).ok()?;
        let root = tree.root_node();
        if root.has_error() {
            return None;
        }
        let reader = Reader {
            src: &snippet,
            macro_budget: self.macro_budget.clone(),
        };
        let mut items = FileItems::default();
        reader.container(root, depth + 1, &mut items);
        Some(items)
    }

    fn decl(
        &self,
        node: Node<'_>,
        name: String,
        attrs: Attrs,
        detail: Detail,
        signature: String,
    ) -> Decl {
        Decl {
            name,
            public: self.is_pub(node),
            attrs,
            detail,
            signature,
            body: self.body_hash(node),
            line: line_of(node),
        }
    }

    fn function(&self, node: Node<'_>, attrs: Attrs) -> Option<Decl> {
        let name = self.field(node, "name")?;
        let signature = self.head(node, node.child_by_field_name("body"));
        let shape = self.fn_shape(node);
        Some(self.decl(node, name, attrs, Detail::Function(shape), signature))
    }

    fn fn_shape(&self, node: Node<'_>) -> FnShape {
        let mut shape = FnShape::default();
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            if child.kind() == "function_modifiers" {
                let text = self.text(child);
                let words: Vec<&str> = text.split_whitespace().collect();
                shape.is_const = words.contains(&"const");
                shape.is_unsafe = words.contains(&"unsafe");
                shape.is_async = words.contains(&"async");
            }
        }
        if let Some(params) = node.child_by_field_name("parameters") {
            let mut cursor = params.walk();
            shape.arity = params
                .named_children(&mut cursor)
                .filter(|p| {
                    matches!(
                        p.kind(),
                        "parameter" | "self_parameter" | "variadic_parameter" | "_"
                    )
                })
                .count();
        }
        let generics = node.child_by_field_name("type_parameters");
        self.generics(generics, &mut shape.generics, &mut shape.bounds);
        let mut cursor = node.walk();
        let where_clause = node
            .named_children(&mut cursor)
            .find(|c| c.kind() == "where_clause");
        if let Some(w) = where_clause {
            self.where_bounds(w, &mut shape.bounds);
        }
        shape.bounds.sort();
        shape.bounds.dedup();
        // What callers depend on, parameter names and the names of generics aside: the
        // parameters' and result's types, generics numbered by position.
        let mut types = Vec::new();
        if let Some(params) = node.child_by_field_name("parameters") {
            let mut cursor = params.walk();
            for p in params.named_children(&mut cursor) {
                match p.kind() {
                    "parameter" => types.push(self.field(p, "type").unwrap_or_default()),
                    "self_parameter" => types.push(self.code(p).replace("mut self", "self")),
                    "variadic_parameter" => types.push("...".into()),
                    _ => {}
                }
            }
        }
        let ret = self
            .field(node, "return_type")
            .unwrap_or_else(|| "()".into());
        let name = self.field(node, "name").unwrap_or_default();
        let bare = format!("fn {name}({}) -> {ret}", types.join(", "));
        let positions: Vec<(String, String)> = shape
            .generics
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let to = if g.starts_with('\'') {
                    format!("'G{i}")
                } else {
                    format!("G{i}")
                };
                (g.clone(), to)
            })
            .collect();
        shape.bare = tidy(&rename(&bare, &positions));
        for bound in &mut shape.bounds {
            *bound = rename(bound, &positions);
        }
        shape.bounds.sort();
        for g in &mut shape.generics {
            *g = rename(g, &positions);
        }
        shape
    }

    /// The names of `<...>` and the bounds it states.
    fn generics(&self, node: Option<Node<'_>>, names: &mut Vec<String>, bounds: &mut Vec<String>) {
        let Some(node) = node else { return };
        let mut cursor = node.walk();
        for param in node.named_children(&mut cursor) {
            let name = match param.kind() {
                "lifetime" => self.code(param),
                "type_identifier" => self.code(param),
                "constrained_type_parameter"
                | "optional_type_parameter"
                | "const_parameter"
                | "lifetime_parameter"
                | "type_parameter" => {
                    let left = param
                        .child_by_field_name("left")
                        .or_else(|| param.child_by_field_name("name"))
                        .or_else(|| param.named_child(0));
                    let name = left.map(|l| self.code(l)).unwrap_or_default();
                    if let Some(b) = param.child_by_field_name("bounds") {
                        split_bounds(&name, &self.code(b), bounds);
                    }
                    name
                }
                _ => continue,
            };
            names.push(name);
        }
    }

    fn where_bounds(&self, node: Node<'_>, bounds: &mut Vec<String>) {
        let mut cursor = node.walk();
        for predicate in node.named_children(&mut cursor) {
            if predicate.kind() != "where_predicate" {
                continue;
            }
            let left = self.field(predicate, "left").unwrap_or_default();
            if let Some(b) = predicate.child_by_field_name("bounds") {
                split_bounds(&left, &self.code(b), bounds);
            }
        }
    }

    fn fields(&self, body: Option<Node<'_>>) -> (Form, Vec<Field>) {
        let Some(body) = body else {
            return (Form::Unit, Vec::new());
        };
        let mut fields = Vec::new();
        let mut cursor = body.walk();
        match body.kind() {
            "field_declaration_list" => {
                let mut attrs = Attrs::default();
                for f in body.named_children(&mut cursor) {
                    match f.kind() {
                        "attribute_item" => attrs.read(self.text(f)),
                        "field_declaration" => {
                            let taken = std::mem::take(&mut attrs);
                            fields.push(Field {
                                name: self.field(f, "name").unwrap_or_default(),
                                public: self.is_pub(f) && !taken.hidden,
                                ty: self.field(f, "type").unwrap_or_default(),
                                line: line_of(f),
                            });
                        }
                        _ => {}
                    }
                }
                (Form::Named, fields)
            }
            _ => {
                let mut public = false;
                let mut hidden = false;
                for child in body.children(&mut cursor) {
                    match child.kind() {
                        "visibility_modifier" => public = self.text(child) == "pub",
                        "attribute_item" => {
                            let mut a = Attrs::default();
                            a.read(self.text(child));
                            hidden |= a.hidden;
                        }
                        "(" | ")" | "," | "line_comment" | "block_comment" => {}
                        _ => {
                            fields.push(Field {
                                name: fields.len().to_string(),
                                public: public && !hidden,
                                ty: self.code(child),
                                line: line_of(child),
                            });
                            public = false;
                            hidden = false;
                        }
                    }
                }
                (Form::Tuple, fields)
            }
        }
    }

    fn structure(&self, node: Node<'_>, attrs: Attrs) -> Option<Decl> {
        let name = self.field(node, "name")?;
        let body = node.child_by_field_name("body");
        let (form, fields) = self.fields(body);
        let generics = self.generics_text(node);
        let head_end = body.filter(|b| b.kind() == "field_declaration_list");
        let signature = self.head(node, head_end);
        let signature = match form {
            // `pub struct S(pub u8, u16);`: its fields are compared one by one.
            Form::Tuple => signature.split('(').next().unwrap_or("").trim().to_string(),
            _ => signature,
        };
        let detail = Detail::Struct {
            union: node.kind() == "union_item",
            form,
            fields,
            generics,
        };
        Some(self.decl(node, name, attrs, detail, signature))
    }

    fn generics_text(&self, node: Node<'_>) -> String {
        self.field(node, "type_parameters").unwrap_or_default()
    }

    fn enumeration(&self, node: Node<'_>, attrs: Attrs) -> Option<Decl> {
        let name = self.field(node, "name")?;
        let body = node.child_by_field_name("body");
        let mut variants = Vec::new();
        if let Some(body) = body {
            let mut attrs = Attrs::default();
            let mut cursor = body.walk();
            for v in body.named_children(&mut cursor) {
                match v.kind() {
                    "attribute_item" => attrs.read(self.text(v)),
                    "enum_variant" => {
                        let taken = std::mem::take(&mut attrs);
                        let (form, fields) = self.fields(v.child_by_field_name("body"));
                        variants.push(Variant {
                            name: self.field(v, "name").unwrap_or_default(),
                            form,
                            fields,
                            attrs: taken,
                            discriminant: self.field(v, "value"),
                            line: line_of(v),
                        });
                    }
                    _ => {}
                }
            }
        }
        let signature = self.head(node, body);
        let detail = Detail::Enum {
            variants,
            generics: self.generics_text(node),
        };
        Some(self.decl(node, name, attrs, detail, signature))
    }

    fn trait_decl(&self, node: Node<'_>, attrs: Attrs) -> Option<Decl> {
        let name = self.field(node, "name")?;
        let body = node.child_by_field_name("body");
        let mut cursor = node.walk();
        let is_unsafe = node.children(&mut cursor).any(|c| c.kind() == "unsafe");
        let supertraits = self
            .field(node, "bounds")
            .map(|b| {
                b.split('+')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let mut items = Vec::new();
        if let Some(body) = body {
            let mut attrs = Attrs::default();
            let mut cursor = body.walk();
            for child in body.named_children(&mut cursor) {
                if child.kind() == "attribute_item" {
                    attrs.read(self.text(child));
                    continue;
                }
                if matches!(child.kind(), "line_comment" | "block_comment") {
                    continue;
                }
                let taken = std::mem::take(&mut attrs);
                items.extend(self.trait_item(child, taken));
            }
        }
        let signature = self.head(node, body);
        let detail = Detail::Trait {
            is_unsafe,
            supertraits,
            items,
            generics: self.generics_text(node),
        };
        Some(self.decl(node, name, attrs, detail, signature))
    }

    fn trait_item(&self, node: Node<'_>, attrs: Attrs) -> Option<TraitItem> {
        let name = self.field(node, "name")?;
        let (kind, provided, signature) = match node.kind() {
            "function_signature_item" => (TraitItemKind::Method, false, self.head(node, None)),
            "function_item" => (
                TraitItemKind::Method,
                true,
                self.head(node, node.child_by_field_name("body")),
            ),
            "associated_type" => (TraitItemKind::Type, false, self.head(node, None)),
            "type_item" => (
                TraitItemKind::Type,
                true,
                self.head(node, node.child_by_field_name("type")),
            ),
            "const_item" => {
                let value = node.child_by_field_name("value");
                (
                    TraitItemKind::Const,
                    value.is_some(),
                    self.head(node, value),
                )
            }
            _ => return None,
        };
        let signature = signature.trim_end_matches('=').trim().to_string();
        let dispatchable = match kind {
            TraitItemKind::Const => false,
            TraitItemKind::Type => node.child_by_field_name("type_parameters").is_none(),
            TraitItemKind::Method => method_dispatchable(&signature),
        };
        let shape = (kind == TraitItemKind::Method).then(|| self.fn_shape(node));
        Some(TraitItem {
            name,
            kind,
            provided,
            signature,
            dispatchable,
            shape,
            attrs,
            line: line_of(node),
        })
    }

    fn value(&self, node: Node<'_>, attrs: Attrs) -> Option<Decl> {
        let name = self.field(node, "name")?;
        let is_static = node.kind() == "static_item";
        let mut cursor = node.walk();
        let mutable = node
            .children(&mut cursor)
            .any(|c| c.kind() == "mutable_specifier");
        let ty = self.field(node, "type").unwrap_or_default();
        let signature = self.head(node, node.child_by_field_name("value"));
        let signature = signature.trim_end_matches('=').trim().to_string();
        let detail = Detail::Value {
            is_static,
            mutable,
            ty,
        };
        Some(self.decl(node, name, attrs, detail, signature))
    }

    fn macro_decl(&self, node: Node<'_>, attrs: Attrs) -> Option<Decl> {
        if !attrs.macro_export {
            return None;
        }
        let name = self.field(node, "name")?;
        let mut cursor = node.walk();
        let mut arms: Vec<String> = node
            .named_children(&mut cursor)
            .filter(|c| c.kind() == "macro_rule")
            .filter_map(|rule| rule.child_by_field_name("left"))
            .map(|left| self.code(left).split_whitespace().collect())
            .collect();
        arms.sort();
        let signature = format!("macro_rules! {name}");
        let mut decl = self.decl(node, name, attrs, Detail::Macro(arms), signature);
        decl.public = true;
        Some(decl)
    }

    fn impl_block(&self, node: Node<'_>) -> Option<Impl> {
        let ty = node.child_by_field_name("type")?;
        let self_type = self.code(ty);
        let self_name = bare_type_name(&self_type);
        // `Self` and the type's own name are the same type: spelt `Self` on both sides.
        let of_trait = self.field(node, "trait").map(|t| selfify(&t, &self_type));
        let body = node.child_by_field_name("body");
        let signature = self.head(node, body);
        let mut items = Vec::new();
        if let Some(body) = body {
            let mut attrs = Attrs::default();
            let mut cursor = body.walk();
            for child in body.named_children(&mut cursor) {
                if child.kind() == "attribute_item" {
                    attrs.read(self.text(child));
                    continue;
                }
                let taken = std::mem::take(&mut attrs);
                let decl = match child.kind() {
                    "function_item" | "function_signature_item" => self.function(child, taken),
                    "const_item" => self.value(child, taken),
                    _ => None,
                };
                let decl = decl.map(|mut d| {
                    d.signature = selfify(&d.signature, &self_type);
                    if let Detail::Function(shape) = &mut d.detail {
                        shape.bare = selfify(&shape.bare, &self_type);
                        for bound in &mut shape.bounds {
                            *bound = selfify(bound, &self_type);
                        }
                    }
                    d
                });
                items.extend(decl.filter(|d| of_trait.is_some() || d.public));
            }
        }
        Some(Impl {
            self_name,
            of_trait,
            signature,
            items,
            line: line_of(node),
        })
    }
}

/// `text` with each whole name of `names` (`T`, `'a`) spelt as its replacement.
fn rename(text: &str, names: &[(String, String)]) -> String {
    if names.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        match names.iter().find(|(from, _)| from == word) {
            Some((_, to)) => out.push_str(to),
            None => out.push_str(word),
        }
        word.clear();
    };
    for c in text.chars() {
        let part = c.is_alphanumeric() || c == '_' || (c == '\'' && word.is_empty());
        if part {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// `text` with the whole-word occurrences of `self_type` (an impl's type, `Command` or
/// `Cache<T>`) spelt `Self`.
fn selfify(text: &str, self_type: &str) -> String {
    if self_type.is_empty() {
        return text.to_string();
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(self_type) {
        let before = if at > 0 {
            rest[..at].chars().last()
        } else {
            out.chars().last()
        };
        let after = rest[at + self_type.len()..].chars().next();
        out.push_str(&rest[..at]);
        let generic_follows = after == Some('<') && !self_type.contains('<');
        if word(before) || after.is_some_and(|c| c.is_alphanumeric() || c == '_') || generic_follows
        {
            out.push_str(self_type);
        } else {
            out.push_str("Self");
        }
        rest = &rest[at + self_type.len()..];
    }
    out.push_str(rest);
    out
}

/// A declaration's text without the layout choices that do not change it: spaces inside
/// brackets, a trailing comma.
fn tidy(text: &str) -> String {
    let mut out = collapse(text);
    for (from, to) in [
        ("( ", "("),
        (" )", ")"),
        (",)", ")"),
        ("< ", "<"),
        (" >", ">"),
        (",>", ">"),
        ("[ ", "["),
        (" ]", "]"),
        (",]", "]"),
    ] {
        out = out.replace(from, to);
    }
    out
}

fn line_of(node: Node<'_>) -> u32 {
    u32::try_from(node.start_position().row + 1).unwrap_or(u32::MAX)
}

/// `Param: A + B` as the pairs `Param: A`, `Param: B`.
fn split_bounds(param: &str, bounds: &str, out: &mut Vec<String>) {
    let param: String = param.split_whitespace().collect();
    let mut depth = 0i32;
    let mut start = 0;
    let bytes = bounds.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'<' | b'(' | b'[' => depth += 1,
            b'>' | b')' | b']' => depth -= 1,
            b'+' if depth == 0 => {
                push_bound(&param, &bounds[start..i], out);
                start = i + 1;
            }
            _ => {}
        }
    }
    push_bound(&param, &bounds[start..], out);
}

fn push_bound(param: &str, bound: &str, out: &mut Vec<String>) {
    let bound: String = bound.split_whitespace().collect();
    if !bound.is_empty() {
        out.push(format!("{param}:{}", super::std_paths(&bound)));
    }
}

/// Whether a trait method keeps its trait dyn compatible (the Reference's rules, read from
/// the text: a receiver, no type parameters, no `Self` by value in its return type, no
/// `impl Trait`, not `async`) unless `where Self: Sized` exempts it.
fn method_dispatchable(signature: &str) -> bool {
    let flat: String = signature.split_whitespace().collect();
    if flat.contains("Self:Sized") {
        return true;
    }
    let Some(open) = signature.find('(') else {
        return false;
    };
    let head = &signature[..open];
    let rest = &signature[open..];
    let has_receiver = {
        let params = rest.trim_start_matches('(').trim_start();
        params.starts_with("self")
            || params.starts_with("&self")
            || params.starts_with("&mut self")
            || params.starts_with("mut self")
            || params.starts_with('&')
                && params
                    .split(',')
                    .next()
                    .is_some_and(|p| p.contains(" self") || p.ends_with("self"))
    };
    let generic = head
        .split_once('<')
        .is_some_and(|(_, g)| g.split(',').any(|p| !p.trim().starts_with('\'')));
    let returns_self = rest
        .split_once("->")
        .is_some_and(|(_, ret)| mentions_self_type(ret));
    has_receiver
        && !generic
        && !returns_self
        && !rest.contains("impl ")
        && !head.split_whitespace().any(|w| w == "async")
}

/// Whether `text` names `Self` itself (not `Self::Assoc`).
fn mentions_self_type(text: &str) -> bool {
    let mut rest = text;
    while let Some(at) = rest.find("Self") {
        let before = rest[..at].chars().last();
        let after = &rest[at + 4..];
        let word_start = !before.is_some_and(|c| c.is_alphanumeric() || c == '_');
        let word_end = !after.starts_with(|c: char| c.is_alphanumeric() || c == '_');
        if word_start && word_end && !after.starts_with("::") {
            return true;
        }
        rest = after;
    }
    false
}

/// The bare name of a type as an `impl` names it (`Cache` of `crate::a::Cache<T>`,
/// `&'a Foo` → `Foo`).
pub(crate) fn bare_type_name(text: &str) -> String {
    let text = text.trim_start_matches('&').trim_start();
    let text = text
        .strip_prefix('\'')
        .map_or(text, |t| t.split_once(' ').map_or("", |(_, r)| r));
    let text = text.trim_start_matches("mut ").trim();
    let no_generics = text.split('<').next().unwrap_or(text);
    no_generics
        .rsplit("::")
        .next()
        .unwrap_or(no_generics)
        .trim()
        .to_string()
}

/// Flattens a `use` tree's text (`a::{b, c::{d as e, *}}`) into bindings.
fn flatten_use(
    text: &str,
    prefix: &mut Vec<String>,
    line: u32,
    depth: u32,
    out: &mut Vec<UseBinding>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let text = text.trim_start_matches("::");
    if let Some(open) = text.find('{') {
        let head = &text[..open];
        let close = text.rfind('}').unwrap_or(text.len());
        let inner = &text[open + 1..close.max(open + 1)];
        let pushed = push_segments(head, prefix);
        for part in split_top(inner) {
            flatten_use(part, prefix, line, depth + 1, out);
        }
        prefix.truncate(prefix.len() - pushed);
        return;
    }
    let (path, alias) = match text.split_once(" as ") {
        Some((p, a)) => (p.trim(), Some(a.trim().to_string())),
        None => (text.trim(), None),
    };
    if path.is_empty() {
        return;
    }
    let mut full = prefix.clone();
    push_segments(path, &mut full);
    let glob = full.last().is_some_and(|s| s == "*");
    if glob {
        full.pop();
    }
    if full.last().is_some_and(|s| s == "self") {
        full.pop();
    }
    if alias.as_deref() == Some("_") {
        return;
    }
    out.push(UseBinding {
        path: full,
        alias,
        glob,
        line,
    });
}

fn push_segments(path: &str, into: &mut Vec<String>) -> usize {
    let segments: Vec<String> = path
        .split("::")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let n = segments.len();
    into.extend(segments);
    n
}

/// Splits a `use` list's inside at its top-level commas.
fn split_top(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(src: &str) -> FileItems {
        let tree = crate::lang::parse(crate::lang::Language::Rust, src).expect("parses");
        read(src, tree.root_node())
    }

    #[test]
    fn pass_through_macro_bodies_are_read_within_a_budget() {
        let body = |n: usize| format!("m! {{ pub fn f{n}() {{}} }}\n");
        let few: String = (0..10).map(body).collect();
        assert_eq!(read_text(&few).decls.len(), 10);
        // Far down a long file every body costs its padded length: the bytes run out
        // long before the count of bodies does.
        let long = format!(
            "{}{}",
            "\n".repeat(200_000),
            (0..250).map(body).collect::<String>()
        );
        let read = read_text(&long).decls.len();
        assert!(
            read > 0 && read <= MAX_MACRO_BYTES / 200_000,
            "{read} bodies read"
        );
    }
}
