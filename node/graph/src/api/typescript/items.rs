//! ITEMS: what one TypeScript or JavaScript module declares and exports, read from its
//! syntax tree for the API model. Declarations (exported or not: a later `export { x }`
//! may name them) with what the rules read — parameters, return types, overloads, class
//! and interface members, enum members, alias values — and the module's export
//! statements and imports. Which of them a dependent reaches is [`super::surface`]'s
//! business.
//!
//! Private class members (`private`, `#name`) are left out: nobody outside the class can
//! touch them. Protected members are kept: a subclass in a dependent uses them.

use super::types::{self, Ty};
use crate::lang::shared::code_between;
use std::collections::BTreeSet;
use tree_sitter::Node;

/// Deepest namespace nesting read.
const MAX_DEPTH: u32 = 16;

/// One parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Param {
    /// Its name (the pattern's text for a destructured one).
    pub name: String,
    /// `x?` or a default value: callers may leave it out.
    pub optional: bool,
    /// `...rest`.
    pub rest: bool,
    /// Its type, when written.
    pub ty: Option<Ty>,
}

/// One call signature: a function, an overload, a method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sig {
    /// `<T extends X>` as written, normalised ("" without).
    pub type_params: String,
    /// Parameters, `this` left out.
    pub params: Vec<Param>,
    /// Return type, when written.
    pub ret: Option<Ty>,
    /// The whole signature, normalised (to match overloads).
    pub text: String,
    /// An implementation (it has a body): hidden by overload signatures, if any.
    pub has_body: bool,
}

/// What a member of a class or interface is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MemberKind {
    /// A property (an accessor pair is one).
    Property,
    /// A method.
    Method,
    /// A class's constructor.
    Constructor,
    /// An interface's call signature `(x): T`.
    Call,
    /// An interface's construct signature `new (x): T`.
    Construct,
    /// An index signature `[k: string]: T`.
    Index,
}

/// A member of a class or interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    /// Its name (`constructor`, `(call)`, `new()`, `[string]` for the unnamed kinds).
    pub name: String,
    /// What it is.
    pub kind: MemberKind,
    /// `static`.
    pub is_static: bool,
    /// `x?`.
    pub optional: bool,
    /// `readonly`, or a getter without a setter.
    pub readonly: bool,
    /// `abstract`.
    pub is_abstract: bool,
    /// `protected`: API for subclasses only.
    pub protected: bool,
    /// A property's type.
    pub ty: Option<Ty>,
    /// A method's signatures (overloads, else the implementation's).
    pub sigs: Vec<Sig>,
    /// 1-based line.
    pub line: u32,
    /// Its text, normalised (bodies included: a body change behind an unannotated
    /// return type may change the inferred type).
    pub text: String,
}

/// `const`, `let` or `var`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VarKind {
    /// `const`.
    Const,
    /// `let`.
    Let,
    /// `var`.
    Var,
}

/// What a declaration is, with what the rules read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Detail {
    /// A function, with its overloads.
    Function {
        /// Overload signatures, else the implementation's.
        sigs: Vec<Sig>,
    },
    /// A class.
    Class {
        /// `abstract class`.
        is_abstract: bool,
        /// `<T>`.
        type_params: String,
        /// `extends …`, normalised (`implements` does not change what the class is).
        heritage: String,
        /// Public and protected members.
        members: Vec<Member>,
    },
    /// An interface (merged declarations concatenated).
    Interface {
        /// `<T>`.
        type_params: String,
        /// `extends …`, normalised.
        heritage: String,
        /// Members.
        members: Vec<Member>,
    },
    /// `type X = …`.
    Alias {
        /// `<T>`.
        type_params: String,
        /// The aliased type.
        value: Ty,
    },
    /// An enum.
    Enum {
        /// `const enum`.
        is_const: bool,
        /// Members with their explicit values.
        members: Vec<(String, Option<String>)>,
    },
    /// `const`/`let`/`var`.
    Variable {
        /// Which.
        kind: VarKind,
        /// Its type annotation.
        ty: Option<Ty>,
        /// The signature of a function or arrow function it holds.
        sig: Option<Sig>,
    },
    /// A namespace and what it exports.
    Namespace(Box<Module>),
    /// `export default <expression>`.
    Value,
}

/// One declaration of a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decl {
    /// Its local name (`default` for an anonymous default export).
    pub name: String,
    /// What it is.
    pub detail: Detail,
    /// 1-based line.
    pub line: u32,
    /// Its declaration as a reader sees it (up to the body), normalised.
    pub signature: String,
    /// Its whole text, normalised (comments and whitespace never count).
    pub body: String,
}

/// One export statement (or part of one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Export {
    /// `export <decl>`, `export { local as name }`, `export default local`.
    Local {
        /// The exported name.
        name: String,
        /// The local binding.
        local: String,
    },
    /// `export { name as alias } from 'spec'` (and an imported binding exported).
    From {
        /// The module specifier.
        spec: String,
        /// The name in that module (`default`, or `*` for the module itself).
        name: String,
        /// The exported name.
        alias: String,
    },
    /// `export * from 'spec'`.
    Star {
        /// The module specifier.
        spec: String,
    },
    /// `export = local` (CommonJS in a declaration file, `module.exports =` in JS).
    Equals {
        /// The local binding.
        local: String,
    },
}

/// One import binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Import {
    /// The local name it binds.
    pub local: String,
    /// The module specifier.
    pub spec: String,
    /// The imported name (`default`, `*` for a namespace import).
    pub name: String,
    /// `import type`, `import { type X }`: a type only.
    pub type_only: bool,
}

/// What one module (a file, or a namespace inside one) declares and exports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Module {
    /// Declarations, in order; a name may have several (overloads, merging).
    pub decls: Vec<Decl>,
    /// Export statements.
    pub exports: Vec<Export>,
    /// Imports.
    pub imports: Vec<Import>,
    /// Names exported as types only (`export type { X }`, `export { type X }`).
    pub type_only: BTreeSet<String>,
}

impl Module {
    /// The declarations named `name`.
    pub(crate) fn named<'m>(&'m self, name: &'m str) -> impl Iterator<Item = &'m Decl> + 'm {
        self.decls.iter().filter(move |d| d.name == name)
    }
}

struct Reader<'s> {
    src: &'s str,
}

/// Reads a parsed module.
pub(crate) fn read(src: &str, root: Node<'_>) -> Module {
    let reader = Reader { src };
    let mut module = Module::default();
    reader.statements(root, &mut module, 0);
    merge(&mut module);
    module
}

fn line(node: Node<'_>) -> u32 {
    u32::try_from(node.start_position().row + 1).unwrap_or(u32::MAX)
}

fn children<'t>(node: Node<'t>) -> Vec<Node<'t>> {
    let mut cursor = node.walk();
    node.children(&mut cursor).collect()
}

fn has_token(node: Node<'_>, token: &str) -> bool {
    children(node)
        .iter()
        .any(|c| !c.is_named() && c.kind() == token)
}

/// A string literal's contents.
fn unquote(text: &str) -> String {
    text.trim_matches(|c| c == '\'' || c == '"' || c == '`')
        .to_string()
}

impl Reader<'_> {
    fn text(&self, node: Node<'_>) -> String {
        code_between(self.src, node, node.start_byte(), node.end_byte())
    }

    fn raw(&self, node: Node<'_>) -> &str {
        self.src.get(node.byte_range()).unwrap_or("")
    }

    fn name_of(&self, node: Node<'_>) -> Option<String> {
        let name = node.child_by_field_name("name")?;
        Some(match name.kind() {
            "string" => unquote(self.raw(name)),
            _ => self.raw(name).to_string(),
        })
    }

    /// The text of `node` up to its body, normalised.
    fn head(&self, node: Node<'_>) -> String {
        let end = node
            .child_by_field_name("body")
            .map_or(node.end_byte(), |b| b.start_byte());
        let text = code_between(self.src, node, node.start_byte(), end);
        types::tight(text.trim_end_matches(';'))
    }

    fn whole(&self, node: Node<'_>) -> String {
        types::tight(&self.text(node))
    }

    fn statements(&self, parent: Node<'_>, module: &mut Module, depth: u32) {
        for node in children(parent) {
            match node.kind() {
                "export_statement" => self.export(node, module, depth),
                "import_statement" => self.import(node, module),
                "expression_statement" => self.commonjs(node, module),
                _ => self.declaration(node, module, depth, None),
            }
        }
    }

    /// A declaration statement; `exported` names it as exported under that name.
    fn declaration(&self, node: Node<'_>, module: &mut Module, depth: u32, exported: Option<&str>) {
        let decls = match node.kind() {
            "ambient_declaration" => {
                for child in children(node).into_iter().filter(|c| c.is_named()) {
                    self.declaration(child, module, depth, exported);
                }
                return;
            }
            "function_declaration" | "generator_function_declaration" | "function_signature" => {
                vec![self.function(node)]
            }
            "class_declaration" | "abstract_class_declaration" | "class" => {
                vec![self.class(node)]
            }
            "interface_declaration" => vec![self.interface(node)],
            "type_alias_declaration" => vec![self.alias(node)],
            "enum_declaration" => vec![self.enumeration(node)],
            "lexical_declaration" | "variable_declaration" => self.variables(node),
            "internal_module" | "module" => match self.namespace(node, depth) {
                Some(d) => vec![d],
                None => return,
            },
            "import_alias" => {
                // `import A = N.B`: an alias of another binding; kept as a value.
                let name = children(node)
                    .into_iter()
                    .find(|c| c.kind() == "identifier")
                    .map(|c| self.raw(c).to_string());
                match name {
                    Some(name) => vec![Decl {
                        name,
                        detail: Detail::Value,
                        line: line(node),
                        signature: self.whole(node),
                        body: self.whole(node),
                    }],
                    None => return,
                }
            }
            _ => return,
        };
        for mut decl in decls {
            if let Some(as_name) = exported {
                let name = if decl.name.is_empty() {
                    decl.name = "default".into();
                    "default".to_string()
                } else {
                    decl.name.clone()
                };
                let export_name = if as_name.is_empty() {
                    name.clone()
                } else {
                    as_name.to_string()
                };
                module.exports.push(Export::Local {
                    name: export_name,
                    local: name,
                });
            }
            if !decl.name.is_empty() {
                module.decls.push(decl);
            }
        }
    }

    fn export(&self, node: Node<'_>, module: &mut Module, depth: u32) {
        let is_default = has_token(node, "default");
        let source = node
            .child_by_field_name("source")
            .map(|s| unquote(self.raw(s)));
        if let Some(decl) = node.child_by_field_name("declaration") {
            self.declaration(
                decl,
                module,
                depth,
                Some(if is_default { "default" } else { "" }),
            );
            return;
        }
        if let Some(value) = node.child_by_field_name("value") {
            match value.kind() {
                "identifier" => module.exports.push(Export::Local {
                    name: "default".into(),
                    local: self.raw(value).to_string(),
                }),
                "class" => self.declaration(value, module, depth, Some("default")),
                _ => {
                    let sig = matches!(value.kind(), "function_expression" | "arrow_function")
                        .then(|| self.sig(value));
                    let detail = match sig {
                        Some(sig) => Detail::Function { sigs: vec![sig] },
                        None => Detail::Value,
                    };
                    module.decls.push(Decl {
                        name: "default".into(),
                        detail,
                        line: line(value),
                        signature: format!("export default {}", self.head(value)),
                        body: self.whole(value),
                    });
                    module.exports.push(Export::Local {
                        name: "default".into(),
                        local: "default".into(),
                    });
                }
            }
            return;
        }
        let parts = children(node);
        if has_token(node, "=") {
            // `export = x;`
            if let Some(target) = parts
                .iter()
                .find(|c| c.is_named() && !c.kind().contains("comment"))
            {
                let local = self.raw(*target).to_string();
                module.exports.push(Export::Equals { local });
            }
            return;
        }
        if has_token(node, "as") && has_token(node, "namespace") {
            // `export as namespace X` (a UMD global): not a module export.
            return;
        }
        for part in &parts {
            match part.kind() {
                "export_clause" => {
                    for spec in children(*part)
                        .into_iter()
                        .filter(|c| c.kind() == "export_specifier")
                    {
                        let Some(name) = spec.child_by_field_name("name") else {
                            continue;
                        };
                        let name = unquote(self.raw(name));
                        let alias = spec
                            .child_by_field_name("alias")
                            .map_or_else(|| name.clone(), |a| unquote(self.raw(a)));
                        if has_token(node, "type") || has_token(spec, "type") {
                            module.type_only.insert(alias.clone());
                        }
                        match &source {
                            Some(spec) => module.exports.push(Export::From {
                                spec: spec.clone(),
                                name,
                                alias,
                            }),
                            None => module.exports.push(Export::Local {
                                name: alias,
                                local: name,
                            }),
                        }
                    }
                }
                "namespace_export" => {
                    let alias = children(*part)
                        .into_iter()
                        .rfind(|c| c.is_named())
                        .map(|c| unquote(self.raw(c)));
                    if let (Some(spec), Some(alias)) = (&source, alias) {
                        module.exports.push(Export::From {
                            spec: spec.clone(),
                            name: "*".into(),
                            alias,
                        });
                    }
                }
                "*" if !part.is_named() => {
                    if let Some(spec) = &source {
                        module.exports.push(Export::Star { spec: spec.clone() });
                    }
                }
                _ => {}
            }
        }
    }

    fn import(&self, node: Node<'_>, module: &mut Module) {
        let Some(spec) = node
            .child_by_field_name("source")
            .map(|s| unquote(self.raw(s)))
        else {
            return;
        };
        let Some(clause) = children(node)
            .into_iter()
            .find(|c| c.kind() == "import_clause")
        else {
            return;
        };
        let all_types = has_token(node, "type");
        for part in children(clause) {
            match part.kind() {
                "identifier" => module.imports.push(Import {
                    local: self.raw(part).to_string(),
                    spec: spec.clone(),
                    name: "default".into(),
                    type_only: all_types,
                }),
                "namespace_import" => {
                    if let Some(local) = children(part).into_iter().rfind(|c| c.is_named()) {
                        module.imports.push(Import {
                            local: self.raw(local).to_string(),
                            spec: spec.clone(),
                            name: "*".into(),
                            type_only: all_types,
                        });
                    }
                }
                "named_imports" => {
                    for s in children(part)
                        .into_iter()
                        .filter(|c| c.kind() == "import_specifier")
                    {
                        let Some(name) = s.child_by_field_name("name") else {
                            continue;
                        };
                        let name = unquote(self.raw(name));
                        let local = s
                            .child_by_field_name("alias")
                            .map_or_else(|| name.clone(), |a| self.raw(a).to_string());
                        module.imports.push(Import {
                            local,
                            spec: spec.clone(),
                            name,
                            type_only: all_types || has_token(s, "type"),
                        });
                    }
                }
                _ => {}
            }
        }
    }

    /// `module.exports = x`, `module.exports = { a, b: c }`, `exports.f = …`,
    /// `module.exports.f = …` at module level.
    fn commonjs(&self, node: Node<'_>, module: &mut Module) {
        let Some(assign) = node
            .named_child(0)
            .filter(|n| n.kind() == "assignment_expression")
        else {
            return;
        };
        let (Some(left), Some(right)) = (
            assign.child_by_field_name("left"),
            assign.child_by_field_name("right"),
        ) else {
            return;
        };
        let target: String = self.raw(left).split_whitespace().collect();
        if target == "module.exports" {
            match right.kind() {
                "identifier" => module.exports.push(Export::Equals {
                    local: self.raw(right).to_string(),
                }),
                "object" => {
                    for pair in children(right) {
                        match pair.kind() {
                            "shorthand_property_identifier" => {
                                let name = self.raw(pair).to_string();
                                module.exports.push(Export::Local {
                                    name: name.clone(),
                                    local: name,
                                });
                            }
                            "pair" => {
                                let (Some(k), Some(v)) = (
                                    pair.child_by_field_name("key"),
                                    pair.child_by_field_name("value"),
                                ) else {
                                    continue;
                                };
                                let name = unquote(self.raw(k));
                                self.commonjs_member(&name, v, module);
                            }
                            "method_definition" => {
                                if let Some(name) = self.name_of(pair) {
                                    self.commonjs_member(&name, pair, module);
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {
                    self.commonjs_member("\u{0}module", right, module);
                    if let Some(Export::Local { local, .. }) = module.exports.pop() {
                        module.exports.push(Export::Equals { local });
                    }
                }
            }
            return;
        }
        let member = target
            .strip_prefix("module.exports.")
            .or_else(|| target.strip_prefix("exports."));
        if let Some(name) = member.filter(|m| !m.contains('.')) {
            self.commonjs_member(name, right, module);
        }
    }

    fn commonjs_member(&self, name: &str, value: Node<'_>, module: &mut Module) {
        if value.kind() == "identifier" {
            module.exports.push(Export::Local {
                name: name.to_string(),
                local: self.raw(value).to_string(),
            });
            return;
        }
        let local = format!("{name}\u{0}exports");
        let detail = match value.kind() {
            "function_expression" | "function" | "arrow_function" | "method_definition" => {
                Detail::Function {
                    sigs: vec![self.sig(value)],
                }
            }
            "class" => match self.class(value).detail {
                d @ Detail::Class { .. } => d,
                _ => Detail::Value,
            },
            _ => Detail::Value,
        };
        module.decls.push(Decl {
            name: local.clone(),
            detail,
            line: line(value),
            signature: format!("exports.{name} = {}", self.head(value)),
            body: self.whole(value),
        });
        module.exports.push(Export::Local {
            name: name.to_string(),
            local,
        });
    }

    fn params(&self, node: Option<Node<'_>>) -> Vec<Param> {
        let Some(node) = node else { return Vec::new() };
        let mut out = Vec::new();
        for p in children(node).into_iter().filter(|c| c.is_named()) {
            let (pattern, optional, ty) = match p.kind() {
                "required_parameter" | "optional_parameter" => (
                    p.child_by_field_name("pattern"),
                    p.kind() == "optional_parameter" || p.child_by_field_name("value").is_some(),
                    p.child_by_field_name("type")
                        .map(|t| types::read(self.src, t)),
                ),
                "identifier" | "object_pattern" | "array_pattern" | "rest_pattern" => {
                    (Some(p), false, None)
                }
                "assignment_pattern" => (p.child_by_field_name("left"), true, None),
                _ => continue,
            };
            let Some(pattern) = pattern else { continue };
            if pattern.kind() == "this" {
                continue;
            }
            let rest = pattern.kind() == "rest_pattern";
            let name = types::tight(self.raw(pattern).trim_start_matches("..."));
            out.push(Param {
                name,
                optional,
                rest,
                ty,
            });
        }
        out
    }

    fn sig(&self, node: Node<'_>) -> Sig {
        Sig {
            type_params: node
                .child_by_field_name("type_parameters")
                .map(|t| self.whole(t))
                .unwrap_or_default(),
            params: self.params(node.child_by_field_name("parameters")),
            ret: node
                .child_by_field_name("return_type")
                .map(|t| types::read(self.src, t)),
            text: self.head(node),
            has_body: node.child_by_field_name("body").is_some(),
        }
    }

    fn function(&self, node: Node<'_>) -> Decl {
        Decl {
            name: self.name_of(node).unwrap_or_default(),
            detail: Detail::Function {
                sigs: vec![self.sig(node)],
            },
            line: line(node),
            signature: self.head(node),
            body: self.whole(node),
        }
    }

    fn class(&self, node: Node<'_>) -> Decl {
        let is_abstract = node.kind() == "abstract_class_declaration";
        let heritage = children(node)
            .into_iter()
            .find(|c| c.kind() == "class_heritage")
            .map(|h| {
                // `implements` only checks the class; what it is comes from `extends`
                // (TypeScript's `extends_clause`, JavaScript's heritage itself).
                let parts = children(h);
                match parts.iter().find(|c| c.kind() == "extends_clause") {
                    Some(e) => self.whole(*e),
                    None if parts.iter().any(|c| c.kind() == "implements_clause") => String::new(),
                    None => self.whole(h),
                }
            })
            .unwrap_or_default();
        let members = node
            .child_by_field_name("body")
            .map(|b| self.members(b))
            .unwrap_or_default();
        Decl {
            name: self.name_of(node).unwrap_or_default(),
            detail: Detail::Class {
                is_abstract,
                type_params: node
                    .child_by_field_name("type_parameters")
                    .map(|t| self.whole(t))
                    .unwrap_or_default(),
                heritage,
                members,
            },
            line: line(node),
            signature: self.head(node),
            body: self.whole(node),
        }
    }

    fn interface(&self, node: Node<'_>) -> Decl {
        let heritage = children(node)
            .into_iter()
            .find(|c| c.kind() == "extends_type_clause")
            .map(|h| self.whole(h))
            .unwrap_or_default();
        let members = node
            .child_by_field_name("body")
            .map(|b| self.members(b))
            .unwrap_or_default();
        Decl {
            name: self.name_of(node).unwrap_or_default(),
            detail: Detail::Interface {
                type_params: node
                    .child_by_field_name("type_parameters")
                    .map(|t| self.whole(t))
                    .unwrap_or_default(),
                heritage,
                members,
            },
            line: line(node),
            signature: self.head(node),
            body: self.whole(node),
        }
    }

    fn alias(&self, node: Node<'_>) -> Decl {
        let value = node
            .child_by_field_name("value")
            .map(|v| types::read(self.src, v))
            .unwrap_or_default();
        Decl {
            name: self.name_of(node).unwrap_or_default(),
            detail: Detail::Alias {
                type_params: node
                    .child_by_field_name("type_parameters")
                    .map(|t| self.whole(t))
                    .unwrap_or_default(),
                value,
            },
            line: line(node),
            signature: self.whole(node).trim_end_matches(';').to_string(),
            body: self.whole(node),
        }
    }

    fn enumeration(&self, node: Node<'_>) -> Decl {
        let mut members = Vec::new();
        if let Some(body) = node.child_by_field_name("body") {
            for m in children(body) {
                match m.kind() {
                    "enum_assignment" => {
                        if let Some(name) = self.name_of(m) {
                            let value = m.child_by_field_name("value").map(|v| self.whole(v));
                            members.push((name, value));
                        }
                    }
                    "property_identifier" | "string" | "number" => {
                        members.push((unquote(self.raw(m)), None));
                    }
                    _ => {}
                }
            }
        }
        Decl {
            name: self.name_of(node).unwrap_or_default(),
            detail: Detail::Enum {
                is_const: has_token(node, "const"),
                members,
            },
            line: line(node),
            signature: self.head(node),
            body: self.whole(node),
        }
    }

    fn variables(&self, node: Node<'_>) -> Vec<Decl> {
        let kind = match node.child_by_field_name("kind").map(|k| k.kind()) {
            Some("let") => VarKind::Let,
            Some("const") => VarKind::Const,
            _ if has_token(node, "var") => VarKind::Var,
            _ => VarKind::Const,
        };
        let keyword = match kind {
            VarKind::Const => "const",
            VarKind::Let => "let",
            VarKind::Var => "var",
        };
        let mut out = Vec::new();
        for d in children(node)
            .into_iter()
            .filter(|c| c.kind() == "variable_declarator")
        {
            let Some(name) = d.child_by_field_name("name") else {
                continue;
            };
            if name.kind() != "identifier" {
                continue;
            }
            let value = d.child_by_field_name("value");
            let sig = value
                .filter(|v| {
                    matches!(
                        v.kind(),
                        "arrow_function" | "function_expression" | "function"
                    )
                })
                .map(|v| self.sig(v));
            let ty = d
                .child_by_field_name("type")
                .map(|t| types::read(self.src, t));
            // An annotated variable's type is its annotation, whatever function it holds.
            let sig = if ty.is_some() { None } else { sig };
            let signature = match (&ty, &sig) {
                (Some(t), _) => format!("{keyword} {}: {}", self.raw(name), t.text),
                (None, Some(s)) => format!("{keyword} {} = {}", self.raw(name), s.text),
                (None, None) => format!("{keyword} {}", self.raw(name)),
            };
            out.push(Decl {
                name: self.raw(name).to_string(),
                detail: Detail::Variable { kind, ty, sig },
                line: line(d),
                signature,
                body: self.whole(d),
            });
        }
        out
    }

    fn namespace(&self, node: Node<'_>, depth: u32) -> Option<Decl> {
        let name = self.name_of(node)?;
        let mut inner = Module::default();
        if depth < MAX_DEPTH {
            if let Some(body) = node.child_by_field_name("body") {
                self.statements(body, &mut inner, depth + 1);
            }
        }
        merge(&mut inner);
        // In an ambient namespace (`declare namespace`, or one inside it) every
        // declaration is exported unless an export statement says otherwise.
        let mut ambient = false;
        let mut at = node.parent();
        for _ in 0..64 {
            let Some(p) = at else { break };
            if p.kind() == "ambient_declaration" {
                ambient = true;
                break;
            }
            at = p.parent();
        }
        if ambient && inner.exports.is_empty() {
            inner.exports = inner
                .decls
                .iter()
                .map(|d| Export::Local {
                    name: d.name.clone(),
                    local: d.name.clone(),
                })
                .collect();
        }
        Some(Decl {
            name,
            detail: Detail::Namespace(Box::new(inner)),
            line: line(node),
            signature: self.head(node),
            body: self.whole(node),
        })
    }

    /// The public and protected members of a class or interface body.
    fn members(&self, body: Node<'_>) -> Vec<Member> {
        let mut out: Vec<Member> = Vec::new();
        // Accessor pairs: (name, static) → (getter type, has setter, setter type).
        for m in children(body).into_iter().filter(|c| c.is_named()) {
            let kind = m.kind();
            let name_node = m
                .child_by_field_name("name")
                .or_else(|| m.child_by_field_name("property"));
            if name_node.is_some_and(|n| n.kind() == "private_property_identifier") {
                continue;
            }
            let access = children(m)
                .into_iter()
                .find(|c| c.kind() == "accessibility_modifier")
                .map(|a| self.raw(a).to_string());
            if access.as_deref() == Some("private") {
                continue;
            }
            let protected = access.as_deref() == Some("protected");
            let name = name_node.map(|n| match n.kind() {
                "string" => unquote(self.raw(n)),
                _ => types::tight(self.raw(n)),
            });
            let is_static = has_token(m, "static");
            let optional = has_token(m, "?");
            let is_abstract = has_token(m, "abstract") || kind == "abstract_method_signature";
            let mut member = Member {
                name: name.clone().unwrap_or_default(),
                kind: MemberKind::Property,
                is_static,
                optional,
                readonly: has_token(m, "readonly"),
                is_abstract,
                protected,
                ty: None,
                sigs: Vec::new(),
                line: line(m),
                text: self.whole(m),
            };
            match kind {
                "public_field_definition" | "field_definition" | "property_signature" => {
                    member.ty = m
                        .child_by_field_name("type")
                        .map(|t| types::read(self.src, t));
                }
                "method_definition" | "method_signature" | "abstract_method_signature" => {
                    let sig = self.sig(m);
                    if has_token(m, "get") || has_token(m, "set") {
                        let getter = has_token(m, "get");
                        let ty = if getter {
                            sig.ret.clone()
                        } else {
                            sig.params.first().and_then(|p| p.ty.clone())
                        };
                        self.accessor(&mut out, member, getter, ty);
                        continue;
                    }
                    if member.name == "constructor" {
                        member.kind = MemberKind::Constructor;
                        self.parameter_properties(m, &mut out);
                    } else {
                        member.kind = MemberKind::Method;
                    }
                    let same = out.iter().position(|p| {
                        p.name == member.name
                            && p.is_static == member.is_static
                            && matches!(p.kind, MemberKind::Method | MemberKind::Constructor)
                    });
                    if let Some(i) = same {
                        // Overload signatures hide the implementation's.
                        let prev = &mut out[i];
                        if !sig.has_body {
                            prev.sigs.retain(|s| !s.has_body);
                            prev.sigs.push(sig);
                        } else if prev.sigs.iter().all(|s| s.has_body) {
                            prev.sigs.push(sig);
                        }
                        prev.text.push(' ');
                        prev.text.push_str(&member.text);
                        continue;
                    }
                    member.sigs = vec![sig];
                }
                "call_signature" | "construct_signature" => {
                    let construct = kind == "construct_signature";
                    member.kind = if construct {
                        MemberKind::Construct
                    } else {
                        MemberKind::Call
                    };
                    member.name = if construct { "new()" } else { "(call)" }.into();
                    let mut sig = self.sig(m);
                    if construct && sig.ret.is_none() {
                        sig.ret = m
                            .child_by_field_name("type")
                            .map(|t| types::read(self.src, t));
                    }
                    if let Some(prev) = out.iter_mut().find(|p| p.kind == member.kind) {
                        prev.sigs.push(sig);
                        continue;
                    }
                    member.sigs = vec![sig];
                }
                "index_signature" => {
                    member.kind = MemberKind::Index;
                    let key = m
                        .child_by_field_name("index_type")
                        .map(|t| types::tight(self.raw(t)))
                        .unwrap_or_default();
                    member.name = format!("[{key}]");
                    member.ty = m
                        .child_by_field_name("type")
                        .map(|t| types::read(self.src, t));
                }
                _ => continue,
            }
            if member.name.is_empty() {
                continue;
            }
            out.push(member);
        }
        out
    }

    fn accessor(&self, out: &mut Vec<Member>, member: Member, getter: bool, ty: Option<Ty>) {
        if let Some(prev) = out.iter_mut().find(|p| {
            p.name == member.name
                && p.is_static == member.is_static
                && p.kind == MemberKind::Property
        }) {
            if getter {
                prev.ty = ty.or(prev.ty.take());
            } else {
                prev.readonly = false;
                if prev.ty.is_none() {
                    prev.ty = ty;
                }
            }
            prev.text.push(' ');
            prev.text.push_str(&member.text);
            return;
        }
        out.push(Member {
            readonly: getter,
            ty,
            ..member
        });
    }

    /// `constructor(public readonly a: string)` declares the property `a`.
    fn parameter_properties(&self, ctor: Node<'_>, out: &mut Vec<Member>) {
        let Some(params) = ctor.child_by_field_name("parameters") else {
            return;
        };
        for p in children(params).into_iter().filter(|c| c.is_named()) {
            let access = children(p)
                .into_iter()
                .find(|c| c.kind() == "accessibility_modifier")
                .map(|a| self.raw(a).to_string());
            let readonly = has_token(p, "readonly");
            if access.is_none() && !readonly {
                continue;
            }
            if access.as_deref() == Some("private") {
                continue;
            }
            let Some(pattern) = p.child_by_field_name("pattern") else {
                continue;
            };
            out.push(Member {
                name: self.raw(pattern).to_string(),
                kind: MemberKind::Property,
                is_static: false,
                optional: p.kind() == "optional_parameter",
                readonly,
                is_abstract: false,
                protected: access.as_deref() == Some("protected"),
                ty: p
                    .child_by_field_name("type")
                    .map(|t| types::read(self.src, t)),
                sigs: Vec::new(),
                line: line(p),
                text: self.whole(p),
            });
        }
    }
}

/// Merges the declarations of one name the way TypeScript does: a function's overload
/// signatures replace its implementation's, an interface's declarations add up.
fn merge(module: &mut Module) {
    let mut out: Vec<Decl> = Vec::with_capacity(module.decls.len());
    for decl in std::mem::take(&mut module.decls) {
        let prev = out.iter_mut().find(|p| {
            p.name == decl.name
                && std::mem::discriminant(&p.detail) == std::mem::discriminant(&decl.detail)
                && matches!(p.detail, Detail::Function { .. } | Detail::Interface { .. })
        });
        let Some(prev) = prev else {
            out.push(decl);
            continue;
        };
        match (&mut prev.detail, decl.detail) {
            (Detail::Function { sigs }, Detail::Function { sigs: more }) => {
                sigs.extend(more);
                // The implementation of overloads is not callable as such.
                if sigs.iter().any(|s| !s.has_body) {
                    sigs.retain(|s| !s.has_body);
                }
                prev.signature = sigs
                    .iter()
                    .map(|s| s.text.as_str())
                    .collect::<Vec<_>>()
                    .join("; ");
            }
            (Detail::Interface { members, .. }, Detail::Interface { members: more, .. }) => {
                members.extend(more)
            }
            _ => {}
        }
        prev.body.push(' ');
        prev.body.push_str(&decl.body);
    }
    module.decls = out;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::{self, Language};

    fn module(src: &str) -> Module {
        let tree = lang::parse(Language::TypeScript, src).expect("parses");
        read(src, tree.root_node())
    }

    #[test]
    fn parameters_read_optional_default_and_rest() {
        let m = module(
            "export function f(this: W, a: string, b?: number, c = 3, ...r: string[]): void {}",
        );
        let Detail::Function { sigs } = &m.decls[0].detail else {
            panic!("a function")
        };
        let p: Vec<(&str, bool, bool)> = sigs[0]
            .params
            .iter()
            .map(|p| (p.name.as_str(), p.optional, p.rest))
            .collect();
        assert_eq!(
            p,
            [
                ("a", false, false),
                ("b", true, false),
                ("c", true, false),
                ("r", false, true)
            ]
        );
        assert_eq!(sigs[0].ret.as_ref().map(|t| t.text.as_str()), Some("void"));
        assert_eq!(
            m.exports,
            [Export::Local {
                name: "f".into(),
                local: "f".into()
            }]
        );
    }

    #[test]
    fn overloads_hide_the_implementation() {
        let m = module(
            "export function g(x: number): string;\nexport function g(x: string): string;\nexport function g(x: any) { return x; }",
        );
        assert_eq!(m.decls.len(), 1);
        let Detail::Function { sigs } = &m.decls[0].detail else {
            panic!("a function")
        };
        assert_eq!(sigs.len(), 2);
    }

    #[test]
    fn private_members_are_left_out_and_accessors_are_properties() {
        let m = module(
            "export class C { private p = 1; #q = 2; protected r: string; constructor(public readonly a: string) {} get x(): number { return 1 } m(): void {} }",
        );
        let Detail::Class { members, .. } = &m.decls[0].detail else {
            panic!("a class")
        };
        let names: Vec<(&str, bool)> = members
            .iter()
            .map(|m| (m.name.as_str(), m.readonly))
            .collect();
        assert_eq!(
            names,
            [
                ("r", false),
                ("a", true),
                ("constructor", false),
                ("x", true),
                ("m", false)
            ]
        );
    }

    #[test]
    fn export_forms_are_read() {
        let m = module(
            "export * from './a';\nexport * as ns from './b';\nexport { c as d } from './c';\nimport e from './e';\nexport { e };\nexport = Foo;\nexport default 42;",
        );
        assert!(m.exports.contains(&Export::Star { spec: "./a".into() }));
        assert!(m.exports.contains(&Export::From {
            spec: "./b".into(),
            name: "*".into(),
            alias: "ns".into()
        }));
        assert!(m.exports.contains(&Export::From {
            spec: "./c".into(),
            name: "c".into(),
            alias: "d".into()
        }));
        assert!(m.exports.contains(&Export::Equals {
            local: "Foo".into()
        }));
        assert!(m
            .imports
            .iter()
            .any(|i| i.local == "e" && i.name == "default"));
        assert!(m.decls.iter().any(|d| d.name == "default"));
    }

    #[test]
    fn hostile_input_does_not_panic() {
        for src in [
            "export {",
            "export default",
            "class { constructor(",
            "enum E { = }",
            "export * as from",
            "module.exports = {a:",
            "function f(...){}",
        ] {
            let _ = module(src);
        }
    }
}
