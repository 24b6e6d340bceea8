//! SURFACE: a library crate's public API as a dependent reaches it — every item nameable
//! from the crate root through public modules and `pub use` re-exports (`pub use … as`,
//! globs, chains of them), under each path it is nameable by; the public fields,
//! variants and trait items of those items; the inherent methods and trait impls of their
//! types; `#[macro_export]` macros at the root. `pub` items of private modules that no
//! re-export reaches, `#[doc(hidden)]` items and `#[cfg(test)]` code are not in it.

use super::items::{self, Attrs, Decl, Detail, FileItems, Impl, TraitItem, UseBinding, Variant};
use crate::facts::SymbolKind;
use crate::lang::{self, Language};
use std::collections::{BTreeMap, BTreeSet};

/// Most modules a crate is read into (a hostile tree cannot make it loop or grow).
const MAX_MODULES: usize = 10_000;
/// Deepest module nesting followed.
const MAX_MODULE_DEPTH: usize = 32;
/// Rounds of re-export resolution (chains of `pub use` longer than this are not followed).
const MAX_ROUNDS: usize = 8;
/// Most names all modules together export, and most items a surface holds: globs of globs
/// in a hostile tree multiply, the surface stays bounded (real crates stay far below: the
/// 573 crates of a registry cache average 300 items).
const MAX_EXPORTS: usize = 200_000;

/// What an item of the surface is, with what its rules read.
#[derive(Debug, Clone)]
pub(crate) enum Entry {
    /// A declared item.
    Decl {
        /// Attributes.
        attrs: Attrs,
        /// Fields, variants, trait items, qualifiers.
        detail: Detail,
        /// For a trait: implementors outside the crate cannot exist.
        sealed: bool,
    },
    /// A public field of a struct.
    Field {
        /// Its type.
        ty: String,
    },
    /// A variant of an enum.
    Variant(Variant),
    /// An item of a trait.
    TraitItem {
        /// The item.
        item: TraitItem,
        /// The trait is sealed.
        sealed: bool,
    },
    /// `impl Trait for Type`.
    Impl {
        /// The trait's bare name.
        trait_name: String,
    },
    /// A re-export of another crate's item.
    Reexport {
        /// Its path.
        target: String,
    },
    /// The crate root's `#![no_std]`.
    NoStd,
}

/// One item of the surface.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    /// Kind of symbol.
    pub kind: SymbolKind,
    /// Bare name.
    pub name: String,
    /// The type or trait it belongs to.
    pub owner: Option<String>,
    /// The file that declares it.
    pub file: String,
    /// 1-based line there.
    pub line: u32,
    /// Declaration, normalised (`core::`/`alloc::` spelt `std::`).
    pub signature: String,
    /// Hash of its text.
    pub body: u64,
    /// What the rules read.
    pub entry: Entry,
}

/// A crate's surface: items by the path dependents name them by (`a::b::Item`, fields
/// `a::S.field`, trait impls `impl Trait for a::S`, macros `name!`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Surface {
    /// Items by path.
    pub items: BTreeMap<String, Item>,
    /// Names of the traits each type of the crate implements, by the type's bare name.
    pub trait_impls: BTreeMap<String, BTreeSet<String>>,
    /// The names item-level macro invocations of the crate mention.
    pub macro_words: BTreeSet<String>,
}

struct Module {
    parent: Option<usize>,
    file: String,
    children: BTreeMap<String, usize>,
    public_children: BTreeSet<String>,
    decls: Vec<Decl>,
    uses: Vec<UseBinding>,
    impls: Vec<Impl>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    Decl(usize, usize),
    Module(usize),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Export {
    Local(Target),
    External(String),
}

struct Crate {
    modules: Vec<Module>,
    macro_words: BTreeSet<String>,
    exports: Vec<BTreeMap<String, Export>>,
    /// The names `exports` holds in all, kept as they are added (the bound is checked on
    /// every binding).
    exported: usize,
    no_std: bool,
}

/// Reads the crate whose library root is `root` (`src/lib.rs`), its files read through
/// `read` (repository-relative paths).
pub(crate) fn build(root: &str, read: &dyn Fn(&str) -> Option<String>) -> Surface {
    let mut krate = Crate {
        modules: Vec::new(),
        macro_words: BTreeSet::new(),
        exports: Vec::new(),
        exported: 0,
        no_std: false,
    };
    let mut seen = BTreeSet::new();
    if let Some(items) = parse(root, read) {
        krate.no_std = items.no_std;
        let dir = parent_dir(root).to_string();
        krate.load(None, root, &dir, items, 0, read, &mut seen);
    }
    krate.resolve();
    krate.surface()
}

fn parse(path: &str, read: &dyn Fn(&str) -> Option<String>) -> Option<FileItems> {
    let text = read(path)?;
    let tree = lang::parse(Language::Rust, &text).ok()?;
    Some(items::read(&text, tree.root_node()))
}

fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// `a/./b/../c` → `a/c`.
fn normalise(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p),
        }
    }
    out.join("/")
}

impl Crate {
    /// Adds the module `items` (read from `file`) and, depth first, its submodules, whose
    /// files are found under `child_dir`.
    #[allow(clippy::too_many_arguments)]
    fn load(
        &mut self,
        parent: Option<usize>,
        file: &str,
        child_dir: &str,
        items: FileItems,
        depth: usize,
        read: &dyn Fn(&str) -> Option<String>,
        seen: &mut BTreeSet<String>,
    ) -> usize {
        let index = self.modules.len();
        self.macro_words.extend(items.macro_words);
        self.modules.push(Module {
            parent,
            file: file.to_string(),
            children: BTreeMap::new(),
            public_children: BTreeSet::new(),
            decls: items.decls,
            uses: items.uses,
            impls: items.impls,
        });
        if depth >= MAX_MODULE_DEPTH {
            return index;
        }
        for m in items.mods {
            if self.modules.len() >= MAX_MODULES {
                break;
            }
            let child = match m.inline {
                Some(inline) => {
                    let dir = join(child_dir, &m.name);
                    Some(self.load(Some(index), file, &dir, *inline, depth + 1, read, seen))
                }
                None => {
                    let candidates = match &m.path_attr {
                        Some(p) => vec![normalise(&join(parent_dir(file), p))],
                        None => vec![
                            join(child_dir, &format!("{}.rs", m.name)),
                            join(child_dir, &format!("{}/mod.rs", m.name)),
                        ],
                    };
                    let found = candidates
                        .into_iter()
                        .find_map(|path| parse(&path, read).map(|items| (path, items)));
                    match found {
                        Some((path, items)) if seen.insert(path.clone()) => {
                            let is_mod_rs = path.ends_with("/mod.rs");
                            let dir = if is_mod_rs {
                                parent_dir(&path).to_string()
                            } else {
                                path.trim_end_matches(".rs").to_string()
                            };
                            Some(self.load(Some(index), &path, &dir, items, depth + 1, read, seen))
                        }
                        _ => None,
                    }
                }
            };
            if let Some(child) = child {
                self.modules[index].children.insert(m.name.clone(), child);
                if m.public {
                    self.modules[index].public_children.insert(m.name);
                }
            }
        }
        index
    }

    /// Fills `exports`: each module's public declarations and modules, then its `pub use`
    /// bindings, resolved until nothing changes.
    fn resolve(&mut self) {
        self.exports = self
            .modules
            .iter()
            .enumerate()
            .map(|(m, module)| {
                let mut out = BTreeMap::new();
                for (d, decl) in module.decls.iter().enumerate() {
                    if decl.public && !decl.attrs.hidden && !matches!(decl.detail, Detail::Macro(_))
                    {
                        out.insert(decl.name.clone(), Export::Local(Target::Decl(m, d)));
                    }
                }
                for name in &module.public_children {
                    out.insert(
                        name.clone(),
                        Export::Local(Target::Module(module.children[name])),
                    );
                }
                out
            })
            .collect();
        self.exported = self.exports.iter().map(BTreeMap::len).sum();
        for _ in 0..MAX_ROUNDS {
            let mut changed = false;
            for m in 0..self.modules.len() {
                for binding in self.modules[m].uses.clone() {
                    changed |= self.bind(m, &binding);
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// Adds what one `pub use` binding of module `m` exports; whether anything was new.
    fn bind(&mut self, m: usize, binding: &UseBinding) -> bool {
        if self.exported >= MAX_EXPORTS {
            return false;
        }
        let Some(target) = self.lookup(m, &binding.path) else {
            return false;
        };
        if binding.glob {
            let source = match target {
                Export::Local(Target::Module(source)) => source,
                // Another crate's names cannot be listed: the glob itself is the item.
                Export::External(path) => {
                    let name = format!("{path}::*");
                    let export = Export::External(name.clone());
                    return self.export(m, name, export);
                }
                Export::Local(Target::Decl(..)) => return false,
            };
            let mut changed = false;
            for (name, export) in self.exports[source].clone() {
                if self.exported >= MAX_EXPORTS {
                    break;
                }
                if !self.exports[m].contains_key(&name) {
                    changed |= self.export(m, name, export);
                }
            }
            return changed;
        }
        let name = binding
            .alias
            .clone()
            .or_else(|| binding.path.last().cloned());
        let Some(name) = name else { return false };
        self.export(m, name, target)
    }

    /// Module `m` exports `export` as `name`; whether that is new.
    fn export(&mut self, m: usize, name: String, export: Export) -> bool {
        match self.exports[m].insert(name, export.clone()) {
            None => {
                self.exported += 1;
                true
            }
            Some(was) => was != export,
        }
    }

    /// What `path`, written in module `m`, names.
    fn lookup(&self, m: usize, path: &[String]) -> Option<Export> {
        let (first, rest) = path.split_first()?;
        let mut at = match first.as_str() {
            "crate" | "$crate" => 0,
            "self" => m,
            "super" => self.modules[m].parent?,
            name => match self.step(m, name) {
                Some(Export::Local(Target::Module(child))) => child,
                Some(found) if rest.is_empty() => return Some(found),
                Some(_) => return None,
                // A path that starts with no name of this crate names another crate.
                None => return Some(Export::External(path.join("::"))),
            },
        };
        for (i, segment) in rest.iter().enumerate() {
            let last = i + 1 == rest.len();
            let found = match segment.as_str() {
                "super" => Export::Local(Target::Module(self.modules[at].parent?)),
                "self" => Export::Local(Target::Module(at)),
                name => self.step(at, name)?,
            };
            match found {
                Export::Local(Target::Module(child)) => at = child,
                other if last => return Some(other),
                _ => return None,
            }
        }
        Some(Export::Local(Target::Module(at)))
    }

    /// `name` inside module `m`, as code of the crate sees it: a submodule, an export, or
    /// a `pub` declaration (of a module code of the crate may reach even if dependents
    /// cannot).
    fn step(&self, m: usize, name: &str) -> Option<Export> {
        if let Some(&child) = self.modules[m].children.get(name) {
            return Some(Export::Local(Target::Module(child)));
        }
        if let Some(export) = self.exports[m].get(name) {
            return Some(export.clone());
        }
        let module = &self.modules[m];
        module
            .decls
            .iter()
            .position(|d| d.name == name && d.public)
            .map(|d| Export::Local(Target::Decl(m, d)))
    }

    /// The items dependents can name, walking exports from the root.
    fn surface(&self) -> Surface {
        let mut surface = Surface {
            macro_words: self.macro_words.clone(),
            ..Surface::default()
        };
        if self.modules.is_empty() {
            return surface;
        }
        let mut public_decls: BTreeMap<(usize, usize), Vec<String>> = BTreeMap::new();
        let mut externals = Vec::new();
        let mut queue = vec![(0usize, String::new(), 0usize)];
        let mut expanded: BTreeMap<usize, usize> = BTreeMap::new();
        let mut named = 0usize;
        while let Some((m, prefix, depth)) = queue.pop() {
            let times = expanded.entry(m).or_default();
            *times += 1;
            if *times > 4 || depth > MAX_MODULE_DEPTH {
                continue;
            }
            for (name, export) in &self.exports[m] {
                if named >= MAX_EXPORTS {
                    break;
                }
                named += 1;
                let path = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}::{name}")
                };
                match export {
                    Export::Local(Target::Module(child)) => queue.push((*child, path, depth + 1)),
                    Export::Local(Target::Decl(dm, d)) => {
                        public_decls.entry((*dm, *d)).or_default().push(path)
                    }
                    Export::External(target) => externals.push((m, path, target.clone())),
                }
            }
        }
        let public_names: BTreeSet<&str> = public_decls
            .keys()
            .map(|&(m, d)| self.modules[m].decls[d].name.as_str())
            .collect();
        for module in &self.modules {
            for imp in &module.impls {
                if let Some(t) = &imp.of_trait {
                    surface
                        .trait_impls
                        .entry(imp.self_name.clone())
                        .or_default()
                        .insert(items::bare_type_name(t));
                }
            }
        }
        for (&(m, d), paths) in &public_decls {
            let decl = &self.modules[m].decls[d];
            let sealed = self.sealed(decl, &public_names);
            for path in paths {
                self.emit(&mut surface, m, decl, path, sealed);
            }
        }
        for (m, path, target) in externals {
            let name = path.rsplit("::").next().unwrap_or(&path).to_string();
            surface.items.insert(
                path.clone(),
                Item {
                    kind: SymbolKind::Type,
                    name,
                    owner: None,
                    file: self.modules[m].file.clone(),
                    line: 0,
                    signature: format!("pub use {target}"),
                    body: 0,
                    entry: Entry::Reexport { target },
                },
            );
        }
        for module in &self.modules {
            for decl in &module.decls {
                if matches!(decl.detail, Detail::Macro(_)) && !decl.attrs.hidden {
                    let item = item(module, decl, SymbolKind::Macro, None, entry(decl, false));
                    surface.items.insert(format!("{}!", decl.name), item);
                }
            }
        }
        if self.no_std {
            let root = &self.modules[0];
            surface.items.insert(
                "#![no_std]".into(),
                Item {
                    kind: SymbolKind::Module,
                    name: "no_std".into(),
                    owner: None,
                    file: root.file.clone(),
                    line: 1,
                    signature: "#![no_std]".into(),
                    body: 0,
                    entry: Entry::NoStd,
                },
            );
        }
        surface
    }

    /// A trait no one outside the crate can implement: a supertrait dependents cannot
    /// name, or a required item hidden from them.
    fn sealed(&self, decl: &Decl, public_names: &BTreeSet<&str>) -> bool {
        let Detail::Trait {
            supertraits, items, ..
        } = &decl.detail
        else {
            return false;
        };
        let local_private = |bound: &String| {
            let name = items::bare_type_name(bound);
            !public_names.contains(name.as_str())
                && self.modules.iter().any(|m| {
                    m.decls
                        .iter()
                        .any(|d| d.name == name && matches!(d.detail, Detail::Trait { .. }))
                })
        };
        supertraits.iter().any(local_private) || items.iter().any(|i| i.attrs.hidden && !i.provided)
    }

    /// Adds a public declaration named `path`, and its members.
    fn emit(&self, surface: &mut Surface, m: usize, decl: &Decl, path: &str, sealed: bool) {
        let module = &self.modules[m];
        let kind = match &decl.detail {
            Detail::Function(_) => SymbolKind::Function,
            Detail::Struct { .. } => SymbolKind::Struct,
            Detail::Enum { .. } => SymbolKind::Enum,
            Detail::Trait { .. } => SymbolKind::Trait,
            Detail::Alias => SymbolKind::Type,
            Detail::Value { .. } => SymbolKind::Const,
            Detail::Macro(_) => SymbolKind::Macro,
        };
        let owner = Some(decl.name.clone());
        match &decl.detail {
            Detail::Struct { fields, .. } => {
                for f in fields.iter().filter(|f| f.public) {
                    let mut field = item(
                        module,
                        decl,
                        SymbolKind::Field,
                        owner.clone(),
                        Entry::Field { ty: f.ty.clone() },
                    );
                    field.name = f.name.clone();
                    field.line = f.line;
                    field.signature = super::std_paths(&format!("pub {}: {}", f.name, f.ty));
                    field.body = 0;
                    surface.items.insert(format!("{path}.{}", f.name), field);
                }
            }
            Detail::Enum { variants, .. } => {
                for v in variants.iter().filter(|v| !v.attrs.hidden) {
                    let mut variant = item(
                        module,
                        decl,
                        SymbolKind::Variant,
                        owner.clone(),
                        Entry::Variant(v.clone()),
                    );
                    variant.name = v.name.clone();
                    variant.line = v.line;
                    variant.signature = variant_signature(v);
                    variant.body = 0;
                    surface.items.insert(format!("{path}::{}", v.name), variant);
                }
            }
            Detail::Trait { items, .. } => {
                for t in items.iter().filter(|t| !t.attrs.hidden) {
                    let kind = match t.kind {
                        items::TraitItemKind::Method => SymbolKind::Method,
                        items::TraitItemKind::Type => SymbolKind::Type,
                        items::TraitItemKind::Const => SymbolKind::Const,
                    };
                    let entry = Entry::TraitItem {
                        item: t.clone(),
                        sealed,
                    };
                    let mut member = item(module, decl, kind, owner.clone(), entry);
                    member.name = t.name.clone();
                    member.line = t.line;
                    member.signature = super::std_paths(&t.signature);
                    member.body = 0;
                    surface.items.insert(format!("{path}::{}", t.name), member);
                }
            }
            _ => {}
        }
        if matches!(
            decl.detail,
            Detail::Struct { .. } | Detail::Enum { .. } | Detail::Alias
        ) {
            self.emit_impls(surface, decl, path);
        }
        surface.items.insert(
            path.to_string(),
            item(module, decl, kind, None, entry(decl, sealed)),
        );
    }

    /// The inherent methods and trait impls of the type `decl`, named through `path`.
    fn emit_impls(&self, surface: &mut Surface, decl: &Decl, path: &str) {
        for module in &self.modules {
            for imp in module.impls.iter().filter(|i| i.self_name == decl.name) {
                match &imp.of_trait {
                    None => {
                        for d in imp.items.iter().filter(|d| !d.attrs.hidden) {
                            let kind = match d.detail {
                                Detail::Function(_) => SymbolKind::Method,
                                _ => SymbolKind::Const,
                            };
                            let member =
                                item(module, d, kind, Some(decl.name.clone()), entry(d, false));
                            surface.items.insert(format!("{path}::{}", d.name), member);
                        }
                    }
                    Some(t) => {
                        let trait_name = items::bare_type_name(t);
                        let signature = super::std_paths(&imp.signature);
                        surface.items.insert(
                            format!("impl {} for {path}", super::std_paths(t)),
                            Item {
                                kind: SymbolKind::Impl,
                                name: decl.name.clone(),
                                owner: None,
                                file: module.file.clone(),
                                line: imp.line,
                                signature,
                                body: 0,
                                entry: Entry::Impl { trait_name },
                            },
                        );
                    }
                }
            }
        }
    }
}

fn entry(decl: &Decl, sealed: bool) -> Entry {
    Entry::Decl {
        attrs: decl.attrs.clone(),
        detail: decl.detail.clone(),
        sealed,
    }
}

fn item(
    module: &Module,
    decl: &Decl,
    kind: SymbolKind,
    owner: Option<String>,
    entry: Entry,
) -> Item {
    Item {
        kind,
        name: decl.name.clone(),
        owner,
        file: module.file.clone(),
        line: decl.line,
        signature: super::std_paths(&decl.signature),
        body: decl.body,
        entry,
    }
}

/// `V`, `V(u8, pub String)`, `V { a: u8 }`: how the variant reads.
fn variant_signature(v: &Variant) -> String {
    let fields: Vec<String> = v
        .fields
        .iter()
        .map(|f| match v.form {
            items::Form::Named => format!("{}: {}", f.name, f.ty),
            _ => f.ty.clone(),
        })
        .collect();
    let text = match v.form {
        items::Form::Unit => v.name.clone(),
        items::Form::Tuple => format!("{}({})", v.name, fields.join(", ")),
        items::Form::Named => format!("{} {{ {} }}", v.name, fields.join(", ")),
    };
    super::std_paths(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_of_globs_stay_bounded() {
        // 40 modules of 200 functions, each re-exporting every other one by glob.
        let mut lib = String::new();
        for m in 0..40 {
            lib.push_str(&format!("pub mod m{m} {{\n"));
            for other in 0..40 {
                if other != m {
                    lib.push_str(&format!("    pub use crate::m{other}::*;\n"));
                }
            }
            for f in 0..200 {
                lib.push_str(&format!("    pub fn f{m}_{f}() {{}}\n"));
            }
            lib.push_str("}\n");
        }
        let read = |p: &str| (p == "src/lib.rs").then(|| lib.clone());
        let surface = build("src/lib.rs", &read);
        // Uncapped, the 40 modules would name 320,000 paths.
        assert!(
            surface.items.len() <= MAX_EXPORTS,
            "{}",
            surface.items.len()
        );
        assert!(surface.items.contains_key("m0::f0_0"));
    }
}
