//! SURFACE: an npm package's public API as a dependent imports it — every name each
//! entry point exports, following ES module exports (`export <decl>`, `export { a as b }`,
//! `export … from`, `export *`, `export * as ns`, imported bindings re-exported,
//! `export =` and CommonJS `module.exports`) through relative module specifiers to the
//! files of the tree; the public and protected members of classes and interfaces, enum
//! members and namespace exports under them. Unexported declarations, and modules no
//! entry point reaches, are not in it. Chains and cycles are bounded.

use super::items::{self, Decl, Detail, Member, MemberKind, Module, VarKind};
use crate::facts::SymbolKind;
use crate::lang::{self, Language};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// Most files read for one package (a hostile tree cannot make it grow without bound).
const MAX_FILES: usize = 2_000;
/// Most paths looked up for one package (each specifier tries a score of candidates).
const MAX_LOOKUPS: usize = 50_000;
/// Longest chain of re-exports followed.
const MAX_DEPTH: usize = 32;
/// Deepest `export * as ns` / namespace nesting expanded into the surface.
const MAX_NESTING: usize = 8;
/// Most items one package's surface holds.
const MAX_ITEMS: usize = 100_000;

/// What an item of the surface is, with what the rules read.
#[derive(Debug, Clone)]
pub(crate) enum What {
    /// An exported declaration.
    Decl(Detail),
    /// A member of a class (`in_class`) or interface.
    Member {
        /// The member.
        member: Member,
        /// Of a class (else an interface).
        in_class: bool,
    },
    /// A member of an enum with its value (explicit, or counted on from the previous).
    EnumMember(String),
    /// A module re-exported as a namespace (`export * as ns`).
    Namespace,
    /// Another package's export re-exported (`export { x } from 'pkg'`).
    External(String),
}

/// One item of the surface.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    /// Kind of symbol.
    pub kind: SymbolKind,
    /// Bare name.
    pub name: String,
    /// The key of the class, interface, enum or namespace it belongs to.
    pub owner: Option<String>,
    /// The file that declares it.
    pub file: String,
    /// 1-based line there.
    pub line: u32,
    /// Declaration, normalised.
    pub signature: String,
    /// Whole text, normalised.
    pub body: String,
    /// Which declaration it is (`file#local`), to recognise a rename.
    pub origin: String,
    /// Declared in TypeScript (types are written or inferred), not JavaScript.
    pub typed: bool,
    /// Declared in a declaration file (`.d.ts`): no bodies, nothing inferred.
    pub declaration_file: bool,
    /// The entry point (`.`, `./client`) it is reached from.
    pub entry: String,
    /// The `export *` statements it is reached through.
    pub via_star: Vec<String>,
    /// Exported as a type only (`export type { X }`): no value to import.
    pub type_only: bool,
    /// What the rules read.
    pub what: What,
}

/// A package's surface: items by the name dependents use (`f`, `C.prototype.m`,
/// `C.create`, `I.prop`, `E.A`, `ns.f`, `client/f` for the entry point `./client`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Surface {
    /// Items by key.
    pub items: BTreeMap<String, Item>,
    /// Every `export *` statement reached (`file: export * from 'spec'`).
    pub stars: BTreeSet<String>,
    /// Entry points that resolved to a file.
    pub entries: BTreeSet<String>,
}

/// Where a module specifier leads.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    File(String),
    External(String),
}

/// What an exported name is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// Declarations of `name` in `file`.
    Decl { file: String, name: String },
    /// A whole module.
    Module(String),
    /// Another package's export (`pkg#name`, `pkg#*`).
    External(String),
}

/// What an exported name is bound to, the `export *` statements it comes through, and
/// whether it is exported as a type only (`export type { X }`, `import type`).
#[derive(Debug, Clone)]
struct Bound {
    target: Target,
    via: Vec<String>,
    type_only: bool,
}

impl Bound {
    fn new(target: Target) -> Bound {
        Bound {
            target,
            via: Vec::new(),
            type_only: false,
        }
    }
}

type Exports = BTreeMap<String, Bound>;

struct Loader<'r> {
    read: &'r dyn Fn(&str) -> Option<String>,
    files: BTreeMap<String, Option<Rc<Module>>>,
    /// Files of `files` that were read.
    loaded: usize,
    exports: BTreeMap<String, Rc<Exports>>,
    in_progress: BTreeSet<String>,
    stars: BTreeSet<String>,
}

/// The language a file is parsed as.
pub(crate) fn language_of(path: &str) -> Option<Language> {
    let ext = path.rsplit_once('.').map(|(_, e)| e)?;
    match ext {
        "ts" | "mts" | "cts" => Some(Language::TypeScript),
        "tsx" => Some(Language::Tsx),
        "js" | "jsx" | "mjs" | "cjs" => Some(Language::JavaScript),
        _ => None,
    }
}

/// Whether a path is a declaration file (`.d.ts`, `.d.mts`, `.d.cts`).
pub(crate) fn is_declaration_file(path: &str) -> bool {
    [".d.ts", ".d.mts", ".d.cts"]
        .iter()
        .any(|e| path.ends_with(e))
}

fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// `a/./b/../c` → `a/c`; None when it climbs above the root.
pub(crate) fn normalise(path: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            p => out.push(p),
        }
    }
    Some(out.join("/"))
}

/// The files a relative import of `base` (already joined and normalised) may mean, in
/// the order TypeScript tries them; declaration files first when `from` is one.
pub(crate) fn candidates(base: &str, from_declaration: bool) -> Vec<String> {
    let mut out = Vec::new();
    let swaps: [(&str, &[&str]); 4] = [
        (".js", &[".ts", ".tsx", ".d.ts"]),
        (".jsx", &[".tsx", ".d.ts"]),
        (".mjs", &[".mts", ".d.mts"]),
        (".cjs", &[".cts", ".d.cts"]),
    ];
    for (ext, to) in swaps {
        if let Some(stem) = base.strip_suffix(ext) {
            if from_declaration {
                out.extend(to.iter().rev().map(|t| format!("{stem}{t}")));
            } else {
                out.extend(to.iter().map(|t| format!("{stem}{t}")));
            }
            out.push(base.to_string());
            return out;
        }
    }
    if language_of(base).is_some() {
        out.push(base.to_string());
    }
    let mut exts = vec![
        ".ts", ".tsx", ".d.ts", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs",
    ];
    if from_declaration {
        exts.retain(|e| *e != ".d.ts");
        exts.insert(0, ".d.ts");
    }
    for ext in &exts {
        out.push(format!("{base}{ext}"));
    }
    for ext in &exts {
        out.push(if base.is_empty() {
            format!("index{ext}")
        } else {
            format!("{base}/index{ext}")
        });
    }
    out
}

impl Loader<'_> {
    fn load(&mut self, path: &str) -> Option<Rc<Module>> {
        if let Some(m) = self.files.get(path) {
            return m.clone();
        }
        if self.loaded >= MAX_FILES || self.files.len() >= MAX_LOOKUPS {
            return None;
        }
        let module = language_of(path).and_then(|lang| {
            let text = (self.read)(path)?;
            let tree = lang::parse(lang, &text).ok()?;
            Some(Rc::new(items::read(&text, tree.root_node())))
        });
        self.loaded += usize::from(module.is_some());
        self.files.insert(path.to_string(), module.clone());
        module
    }

    fn source(&mut self, from: &str, spec: &str) -> Option<Source> {
        let relative =
            spec == "." || spec == ".." || spec.starts_with("./") || spec.starts_with("../");
        if !relative {
            if spec.starts_with('/') || spec.is_empty() {
                return None;
            }
            return Some(Source::External(spec.to_string()));
        }
        let joined = if parent_dir(from).is_empty() {
            spec.to_string()
        } else {
            format!("{}/{spec}", parent_dir(from))
        };
        let base = normalise(&joined)?;
        candidates(&base, is_declaration_file(from))
            .into_iter()
            .find(|c| self.load(c).is_some())
            .map(Source::File)
    }

    /// What `local`, a binding of `file`, is: a declaration or an imported binding.
    fn binding(&mut self, file: &str, module: &Module, local: &str, depth: usize) -> Option<Bound> {
        if module.named(local).next().is_some() {
            return Some(Bound::new(Target::Decl {
                file: file.to_string(),
                name: local.to_string(),
            }));
        }
        let import = module.imports.iter().find(|i| i.local == local)?.clone();
        let mut bound = self.imported(file, &import.spec, &import.name, depth)?;
        bound.type_only |= import.type_only;
        Some(bound)
    }

    /// The export `name` of the module `spec` imports from `file`.
    fn imported(&mut self, file: &str, spec: &str, name: &str, depth: usize) -> Option<Bound> {
        match self.source(file, spec)? {
            Source::External(pkg) => Some(Bound::new(Target::External(format!("{pkg}#{name}")))),
            Source::File(f) if name == "*" => Some(Bound::new(Target::Module(f))),
            Source::File(f) => self.exports_of(&f, depth + 1).get(name).cloned(),
        }
    }

    /// Every name `file` exports, with what it is bound to and the `export *` statements
    /// it comes through.
    fn exports_of(&mut self, file: &str, depth: usize) -> Rc<Exports> {
        if let Some(done) = self.exports.get(file) {
            return done.clone();
        }
        if depth > MAX_DEPTH || !self.in_progress.insert(file.to_string()) {
            return Rc::new(Exports::new());
        }
        let mut out = Exports::new();
        if let Some(module) = self.load(file) {
            for export in &module.exports {
                let (name, bound) = match export {
                    items::Export::Local { name, local } => {
                        (name.clone(), self.binding(file, &module, local, depth))
                    }
                    items::Export::Equals { local } => (
                        "export=".to_string(),
                        self.binding(file, &module, local, depth),
                    ),
                    items::Export::From { spec, name, alias } => {
                        (alias.clone(), self.imported(file, spec, name, depth))
                    }
                    items::Export::Star { .. } => continue,
                };
                if let Some(mut bound) = bound {
                    bound.type_only |= module.type_only.contains(&name);
                    out.entry(name).or_insert(bound);
                }
            }
            for export in &module.exports {
                let items::Export::Star { spec } = export else {
                    continue;
                };
                let star = format!("{file}: export * from '{spec}'");
                self.stars.insert(star.clone());
                match self.source(file, spec) {
                    Some(Source::File(f)) => {
                        for (name, bound) in self.exports_of(&f, depth + 1).iter() {
                            if name == "default" || name == "export=" {
                                continue;
                            }
                            let mut chain = vec![star.clone()];
                            chain.extend(bound.via.iter().cloned());
                            out.entry(name.clone()).or_insert(Bound {
                                target: bound.target.clone(),
                                via: chain,
                                type_only: bound.type_only,
                            });
                        }
                    }
                    Some(Source::External(pkg)) => {
                        out.entry(format!("* from '{pkg}'")).or_insert(Bound {
                            target: Target::External(format!("{pkg}#*")),
                            via: vec![star],
                            type_only: false,
                        });
                    }
                    None => {}
                }
            }
        }
        self.in_progress.remove(file);
        let out = Rc::new(out);
        self.exports.insert(file.to_string(), out.clone());
        out
    }
}

/// Reads the surface of the package whose entry points are `entries` (subpath, file),
/// its files read through `read` (repository-relative paths).
pub(crate) fn build(
    entries: &[(String, String)],
    read: &dyn Fn(&str) -> Option<String>,
) -> Surface {
    let mut loader = Loader {
        read,
        files: BTreeMap::new(),
        loaded: 0,
        exports: BTreeMap::new(),
        in_progress: BTreeSet::new(),
        stars: BTreeSet::new(),
    };
    let mut surface = Surface::default();
    let mut visits = 0usize;
    for (subpath, file) in entries {
        if loader.load(file).is_none() {
            continue;
        }
        surface.entries.insert(subpath.clone());
        let prefix = match subpath.trim_start_matches("./") {
            "" | "." => String::new(),
            sub => format!("{sub}/"),
        };
        let exports = loader.exports_of(file, 0);
        let mut emitter = Emitter {
            loader: &mut loader,
            surface: &mut surface,
            entry: subpath,
            visits: &mut visits,
        };
        for (name, bound) in exports.iter() {
            emitter.target(&format!("{prefix}{name}"), name, bound, 0);
        }
    }
    surface.stars = loader.stars;
    surface
}

struct Emitter<'a, 'r> {
    loader: &'a mut Loader<'r>,
    surface: &'a mut Surface,
    entry: &'a str,
    /// Targets expanded so far (`export * as` of each other can branch exponentially).
    visits: &'a mut usize,
}

fn kind_of(detail: &Detail) -> SymbolKind {
    match detail {
        Detail::Function { .. } => SymbolKind::Function,
        Detail::Class { .. } => SymbolKind::Class,
        Detail::Interface { .. } => SymbolKind::Interface,
        Detail::Alias { .. } => SymbolKind::Type,
        Detail::Enum { .. } => SymbolKind::Enum,
        Detail::Variable { sig: Some(_), .. } => SymbolKind::Function,
        Detail::Variable {
            kind: VarKind::Const,
            ..
        } => SymbolKind::Const,
        Detail::Variable { .. } | Detail::Value => SymbolKind::Variable,
        Detail::Namespace(_) => SymbolKind::Module,
    }
}

/// The values of an enum's members: explicit ones as written, the others counted on.
fn enum_values(members: &[(String, Option<String>)]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut prev: Option<String> = None;
    for (name, value) in members {
        let value = match (value, &prev) {
            (Some(v), _) => v.clone(),
            (None, None) => "0".to_string(),
            (None, Some(p)) => match p.parse::<i64>() {
                Ok(n) => n.saturating_add(1).to_string(),
                Err(_) => format!("{p} + 1"),
            },
        };
        prev = Some(value.clone());
        out.push((name.clone(), value));
    }
    out
}

impl Emitter<'_, '_> {
    fn insert(&mut self, key: String, item: Item) {
        if self.surface.items.len() < MAX_ITEMS {
            self.surface.items.entry(key).or_insert(item);
        }
    }

    fn target(&mut self, key: &str, name: &str, bound: &Bound, depth: usize) {
        *self.visits += 1;
        if depth > MAX_NESTING || *self.visits > MAX_ITEMS {
            return;
        }
        let (via, type_only) = (bound.via.as_slice(), bound.type_only);
        match &bound.target {
            Target::Decl { file, name: local } => {
                let Some(module) = self.loader.load(file) else {
                    return;
                };
                // The declaration that names a value or type comes first; a namespace
                // merged with it adds its exports under it.
                let mut decls: Vec<&Decl> = module.named(local).collect();
                decls.sort_by_key(|d| matches!(d.detail, Detail::Namespace(_)));
                for decl in decls {
                    self.decl(key, name, file, decl, via, type_only, None, depth);
                }
            }
            Target::Module(file) => {
                self.insert(
                    key.to_string(),
                    Item {
                        kind: SymbolKind::Module,
                        name: name.to_string(),
                        owner: None,
                        file: file.clone(),
                        line: 1,
                        signature: format!("export * as {name}"),
                        body: String::new(),
                        origin: format!("{file}#*"),
                        typed: language_of(file) != Some(Language::JavaScript),
                        declaration_file: is_declaration_file(file),
                        entry: self.entry.to_string(),
                        via_star: via.to_vec(),
                        type_only,
                        what: What::Namespace,
                    },
                );
                let exports = self.loader.exports_of(file, 0);
                for (inner, b) in exports.iter() {
                    let mut chain = via.to_vec();
                    chain.extend(b.via.iter().cloned());
                    let inner_bound = Bound {
                        target: b.target.clone(),
                        via: chain,
                        type_only: type_only || b.type_only,
                    };
                    self.target(&format!("{key}.{inner}"), inner, &inner_bound, depth + 1);
                }
            }
            Target::External(to) => {
                self.insert(
                    key.to_string(),
                    Item {
                        kind: SymbolKind::Module,
                        name: name.to_string(),
                        owner: None,
                        file: String::new(),
                        line: 0,
                        signature: format!("export from '{to}'"),
                        body: String::new(),
                        origin: to.clone(),
                        typed: true,
                        declaration_file: false,
                        entry: self.entry.to_string(),
                        via_star: via.to_vec(),
                        type_only,
                        what: What::External(to.clone()),
                    },
                );
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn decl(
        &mut self,
        key: &str,
        name: &str,
        file: &str,
        decl: &Decl,
        via: &[String],
        type_only: bool,
        owner: Option<&str>,
        depth: usize,
    ) {
        let typed = language_of(file) != Some(Language::JavaScript);
        let declaration_file = is_declaration_file(file);
        let base = Item {
            kind: kind_of(&decl.detail),
            name: name.to_string(),
            owner: owner.map(str::to_string),
            file: file.to_string(),
            line: decl.line,
            signature: decl.signature.clone(),
            body: decl.body.clone(),
            origin: format!("{file}#{}", decl.name),
            typed,
            declaration_file,
            entry: self.entry.to_string(),
            via_star: via.to_vec(),
            type_only,
            what: What::Decl(decl.detail.clone()),
        };
        let member = |item: &Item,
                      name: &str,
                      line: u32,
                      signature: String,
                      body: String,
                      what: What,
                      kind| Item {
            kind,
            name: name.to_string(),
            owner: Some(key.to_string()),
            line,
            signature,
            body,
            what,
            ..item.clone()
        };
        match &decl.detail {
            Detail::Class { members, .. } | Detail::Interface { members, .. } => {
                let in_class = matches!(decl.detail, Detail::Class { .. });
                for m in members {
                    let path = if !in_class || m.is_static || m.kind == MemberKind::Constructor {
                        format!("{key}.{}", m.name)
                    } else {
                        format!("{key}.prototype.{}", m.name)
                    };
                    let kind = match m.kind {
                        MemberKind::Method
                        | MemberKind::Call
                        | MemberKind::Construct
                        | MemberKind::Constructor => SymbolKind::Method,
                        MemberKind::Property | MemberKind::Index => SymbolKind::Field,
                    };
                    let what = What::Member {
                        member: m.clone(),
                        in_class,
                    };
                    let item = member(
                        &base,
                        &m.name,
                        m.line,
                        m.text.clone(),
                        m.text.clone(),
                        what,
                        kind,
                    );
                    self.insert(path, item);
                }
            }
            Detail::Enum { members, .. } => {
                for (m, value) in enum_values(members) {
                    let signature = format!("{m} = {value}");
                    let item = member(
                        &base,
                        &m,
                        decl.line,
                        signature.clone(),
                        signature,
                        What::EnumMember(value),
                        SymbolKind::Variant,
                    );
                    self.insert(format!("{key}.{m}"), item);
                }
            }
            Detail::Namespace(inner) if depth < MAX_NESTING => {
                for export in &inner.exports {
                    let items::Export::Local { name: n, local } = export else {
                        continue;
                    };
                    for d in inner.named(local) {
                        let inner_key = format!("{key}.{n}");
                        self.decl(&inner_key, n, file, d, via, type_only, Some(key), depth + 1);
                    }
                }
            }
            _ => {}
        }
        self.insert(key.to_string(), base);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn surface(files: &[(&str, &str)], entry: &str) -> Surface {
        let files: BTreeMap<String, String> = files
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect();
        let read = |p: &str| files.get(p).cloned();
        build(&[(".".to_string(), entry.to_string())], &read)
    }

    #[test]
    fn re_exports_are_followed_and_cycles_end() {
        let s = surface(
            &[
                ("index.ts", "export * from './a';\nexport { b as c } from './b.js';\nexport * as ns from './n';"),
                ("a.ts", "export * from './index';\nexport function fa(): void {}\nfunction hidden() {}"),
                ("b.ts", "export const b: number = 1;"),
                ("n/index.ts", "export interface I { x: string }"),
            ],
            "index.ts",
        );
        let keys: Vec<&str> = s.items.keys().map(String::as_str).collect();
        assert_eq!(keys, ["c", "fa", "ns", "ns.I", "ns.I.x"]);
        assert_eq!(s.items["fa"].via_star, ["index.ts: export * from './a'"]);
    }

    #[test]
    fn namespaces_of_each_other_stay_bounded() {
        let many: String = (0..20)
            .map(|i| format!("export * as n{i} from './index';\n"))
            .collect();
        let chain: Vec<(String, String)> = (0..100)
            .map(|i| {
                (
                    format!("a{i}.ts"),
                    format!(
                        "export * from './a{}';\nexport const v{i}: number = {i};",
                        i + 1
                    ),
                )
            })
            .collect();
        let mut files: Vec<(&str, &str)> = vec![("index.ts", many.as_str())];
        files.extend(chain.iter().map(|(p, t)| (p.as_str(), t.as_str())));
        let s = surface(&files, "index.ts");
        assert!(s.items.len() <= MAX_ITEMS);
        let s = surface(&files, "a0.ts");
        assert!(s.items.contains_key("v0") && !s.items.contains_key("v99"));
    }

    #[test]
    fn members_are_keyed_by_how_they_are_reached() {
        let s = surface(
            &[("index.d.ts", "export declare class C { static make(): C; run(): void; }\nexport declare enum E { A, B = 5, C }")],
            "index.d.ts",
        );
        assert!(s.items.contains_key("C.make"));
        assert!(s.items.contains_key("C.prototype.run"));
        assert!(matches!(&s.items["E.C"].what, What::EnumMember(v) if v == "6"));
    }

    #[test]
    fn module_paths_stay_inside_the_tree() {
        assert_eq!(normalise("a/../../b"), None);
        assert_eq!(normalise("a/./b/../c").as_deref(), Some("a/c"));
        assert_eq!(candidates("src/m.js", false)[0], "src/m.ts");
    }
}
