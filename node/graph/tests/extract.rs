//! Tree-sitter extraction checked exactly against hand-written fixtures, one per
//! language: every symbol with its span and visibility, every import, the calls, the
//! markers and the line counts. Complexities are counted by hand in the comments.

use weft_graph::facts::{FileFacts, MarkerKind, ReferenceKind, Symbol, SymbolKind};
use weft_graph::lang::{extract, Language};

use MarkerKind::{Risky, Todo};
use SymbolKind::*;

fn facts(language: Language, source: &str) -> FileFacts {
    extract(language, source).expect("fixture parses")
}

/// (rule, construct, line) of the security facts.
fn security(facts: &FileFacts) -> Vec<(&str, &str, u32)> {
    facts
        .security
        .iter()
        .map(|s| (s.kind.rule(), s.construct.as_str(), s.line))
        .collect()
}

fn symbols(facts: &FileFacts) -> Vec<(SymbolKind, &str, u32, u32, bool)> {
    facts
        .symbols
        .iter()
        .map(|s| {
            (
                s.kind,
                s.qualified.as_str(),
                s.start_line,
                s.end_line,
                s.public,
            )
        })
        .collect()
}

fn symbol<'f>(facts: &'f FileFacts, qualified: &str) -> &'f Symbol {
    facts
        .symbols
        .iter()
        .find(|s| s.qualified == qualified)
        .unwrap_or_else(|| panic!("no symbol {qualified}"))
}

fn imports(facts: &FileFacts) -> Vec<(&str, Vec<&str>, u32)> {
    facts
        .imports
        .iter()
        .map(|i| {
            let names = i.names.iter().map(String::as_str).collect();
            (i.module.as_str(), names, i.line)
        })
        .collect()
}

fn references(facts: &FileFacts, kind: ReferenceKind) -> Vec<(&str, u32)> {
    facts
        .references
        .iter()
        .filter(|r| r.kind == kind)
        .map(|r| (r.name.as_str(), r.line))
        .collect()
}

fn calls(facts: &FileFacts) -> Vec<(&str, u32)> {
    references(facts, ReferenceKind::Call)
}

fn types(facts: &FileFacts) -> Vec<(&str, u32)> {
    references(facts, ReferenceKind::Type)
}

fn markers(facts: &FileFacts) -> Vec<(MarkerKind, &str, u32)> {
    facts
        .markers
        .iter()
        .map(|m| (m.kind, m.label.as_str(), m.line))
        .collect()
}

#[test]
fn languages_by_path_and_name() {
    use std::path::Path;
    let by_path = |p: &str| Language::from_path(Path::new(p));
    assert_eq!(by_path("src/lib.rs"), Some(Language::Rust));
    assert_eq!(by_path("a/b.pyi"), Some(Language::Python));
    assert_eq!(by_path("x.py"), Some(Language::Python));
    for js in ["a.js", "a.jsx", "a.mjs", "a.cjs"] {
        assert_eq!(by_path(js), Some(Language::JavaScript), "{js}");
    }
    for ts in ["a.ts", "a.mts", "a.cts", "types/index.d.ts"] {
        assert_eq!(by_path(ts), Some(Language::TypeScript), "{ts}");
    }
    assert_eq!(by_path("App.tsx"), Some(Language::Tsx));
    assert_eq!(by_path("main.go"), Some(Language::Go));
    assert_eq!(by_path("README.md"), None);
    assert_eq!(by_path("Makefile"), None);

    let names: Vec<&str> = [
        Language::Rust,
        Language::Python,
        Language::JavaScript,
        Language::TypeScript,
        Language::Tsx,
        Language::Go,
    ]
    .into_iter()
    .map(Language::as_str)
    .collect();
    assert_eq!(
        names,
        ["rust", "python", "javascript", "typescript", "tsx", "go"]
    );
    assert_eq!(Language::from_name("py"), Some(vec![Language::Python]));
    assert_eq!(Language::from_name("js"), Some(vec![Language::JavaScript]));
    assert_eq!(
        Language::from_name("ts"),
        Some(vec![Language::TypeScript, Language::Tsx])
    );
    assert_eq!(
        Language::from_name("typescript"),
        Some(vec![Language::TypeScript, Language::Tsx])
    );
    assert_eq!(Language::from_name("go"), Some(vec![Language::Go]));
    assert_eq!(Language::from_name("rust"), Some(vec![Language::Rust]));
    assert_eq!(Language::from_name("tsx"), None);
    assert_eq!(Language::from_name("cobol"), None);
}

#[test]
fn rust() {
    let f = facts(Language::Rust, RUST);
    assert_eq!(
        symbols(&f),
        [
            (Const, "MAX", 8, 8, true),
            (Const, "COUNTER", 9, 9, false),
            (Struct, "Cache", 13, 15, true),
            (Method, "Cache::new", 19, 21, true),
            (Method, "Cache::get", 24, 34, false),
            (Method, "Cache::fmt", 38, 40, true),
            (Trait, "Store", 43, 45, true),
            (Method, "Store::load", 44, 44, true),
            (Module, "outer", 47, 59, true),
            (Module, "outer::inner", 48, 58, true),
            (Enum, "outer::inner::Mode", 49, 49, true),
            (Function, "outer::inner::pick", 50, 57, true),
            (Function, "outer::inner::pick::helper", 55, 55, false),
            (Type, "Id", 61, 61, false),
            (Function, "raw", 63, 66, true),
        ]
    );
    assert_eq!(symbol(&f, "Cache::get").name, "get");
    assert_eq!(
        imports(&f),
        [
            ("std::collections", vec!["HashMap", "BTreeSet"], 2),
            ("std", vec!["fmt"], 3),
            ("crate::store", vec!["*"], 4),
            ("serde", vec![], 5),
        ]
    );

    let get = symbol(&f, "Cache::get");
    assert_eq!(
        get.signature,
        "pub(crate) fn get(&self, key: &str, fallback: bool) -> Option<T>"
    );
    assert_eq!(get.doc, "", "a plain // comment is not a doc");
    // if, else if, && = 1 + 3
    assert_eq!(get.complexity, 4);
    assert_eq!(get.loc, 11);
    // the closure's if, arms Fast, Slow-if, Slow = 1 + 4; helper's if is its own
    assert_eq!(symbol(&f, "outer::inner::pick").complexity, 5);
    assert_eq!(symbol(&f, "outer::inner::pick::helper").complexity, 2);
    assert_eq!(symbol(&f, "Cache::new").complexity, 1);
    assert_eq!(symbol(&f, "Cache::new").doc, "Makes an empty cache.");
    assert_eq!(symbol(&f, "Cache").doc, "A cache of values.");
    assert_eq!(symbol(&f, "Cache").signature, "pub struct Cache<T>");
    assert_eq!(symbol(&f, "MAX").signature, "pub const MAX: u32 = 3;");
    assert_eq!(symbol(&f, "MAX").complexity, 0);
    assert_eq!(
        symbol(&f, "Store::load").signature,
        "fn load(&self, id: u64) -> Vec<u8>;"
    );

    assert_eq!(
        calls(&f),
        [
            ("new", 20),
            ("get", 25),
            ("Some", 26),
            ("clone", 26),
            ("is_empty", 27),
            ("len", 31),
            ("f", 53),
            ("helper", 55),
        ]
    );
    assert_eq!(
        types(&f),
        [
            ("HashMap", 14),
            ("String", 14),
            ("T", 14),
            ("Clone", 17),
            ("Cache", 17),
            ("T", 17),
            ("Cache", 20),
            ("Option", 24),
            ("T", 24),
            ("Display", 37),
            ("Cache", 37),
            ("T", 37),
            ("Formatter", 38),
            ("Result", 38),
            ("Vec", 44),
            ("Mode", 50),
        ]
    );
    assert_eq!(markers(&f), [(Todo, "TODO", 23), (Todo, "FIXME", 64),]);
    assert_eq!(
        security(&f),
        [
            ("sec-unsafe-code", "unsafe fn", 63),
            ("sec-unsafe-code", "unsafe block", 65),
        ]
    );
    // 66 lines - 9 blank - 6 comment-only
    assert_eq!(f.loc, 51);
}

#[test]
fn python() {
    let f = facts(Language::Python, PYTHON);
    assert_eq!(
        symbols(&f),
        [
            (Class, "Loader", 12, 37, true),
            (Method, "Loader.__init__", 18, 19, true),
            (Method, "Loader._scan", 21, 33, false),
            (Method, "Loader.size", 36, 37, true),
            (Function, "load_all", 40, 53, true),
            (Function, "load_all.check", 42, 43, false),
            (Function, "helper", 56, 60, false),
            (Type, "Alias", 63, 63, false),
        ]
    );
    assert_eq!(
        imports(&f),
        [
            ("os", vec![], 2),
            ("os.path", vec![], 3),
            ("json", vec![], 3),
            (".", vec!["sibling"], 4),
            ("..pkg.mod", vec!["alpha", "beta"], 5),
            ("typing", vec!["*"], 6),
            ("pickle", vec![], 7),
            ("subprocess", vec![], 7),
        ]
    );

    let loader = symbol(&f, "Loader");
    assert_eq!(loader.signature, "class Loader(Base)");
    assert_eq!(loader.doc, "Loads things.\n\nMore detail here.");
    assert_eq!(loader.complexity, 0);
    let scan = symbol(&f, "Loader._scan");
    assert_eq!(scan.signature, "def _scan(self, items)");
    // comprehension for + if + and, for, if, elif, or, except = 1 + 8
    assert_eq!(scan.complexity, 9);
    let load_all = symbol(&f, "load_all");
    assert_eq!(load_all.doc, "Load every path.");
    // for, `case True` (the `case _` default does not count); check's ternary is its own
    assert_eq!(load_all.complexity, 3);
    assert_eq!(symbol(&f, "load_all.check").complexity, 2);
    // the lambda's `or` counts toward helper
    assert_eq!(symbol(&f, "helper").complexity, 2);
    assert_eq!(
        symbol(&f, "Loader.__init__").signature,
        "def __init__(self, root: str) -> None"
    );

    assert_eq!(
        calls(&f),
        [
            ("startswith", 23),
            ("endswith", 25),
            ("endswith", 27),
            ("endswith", 27),
            ("system", 31),
            ("len", 37),
            ("loads", 46),
            ("check", 46),
            ("append", 47),
            ("eval", 50),
            ("run", 59),
        ]
    );
    assert!(types(&f).contains(&("Base", 12)));
    assert!(types(&f).contains(&("str", 18)));
    assert!(!types(&f).iter().any(|(name, _)| *name == "Alias"));
    assert_eq!(markers(&f), [(Todo, "TODO", 22),]);
    // `eval("1 + 1")` and `subprocess.run(["ls"], shell=True)` have literal arguments.
    assert_eq!(
        security(&f),
        [
            ("sec-command-injection", "os.system", 31),
            ("sec-unsafe-deserialization", "pickle.loads", 46),
        ]
    );
    // 63 lines - 13 blank - 2 comment-only
    assert_eq!(f.loc, 48);
}

#[test]
fn python_without_all_uses_underscores() {
    let source = "def visible():\n    pass\n\ndef _hidden():\n    pass\n\nclass K:\n    def _p(self): pass\n    def __eq__(self, o): pass\n";
    let f = facts(Language::Python, source);
    assert_eq!(
        symbols(&f),
        [
            (Function, "visible", 1, 2, true),
            (Function, "_hidden", 4, 5, false),
            (Class, "K", 7, 9, true),
            (Method, "K._p", 8, 8, false),
            (Method, "K.__eq__", 9, 9, true),
        ]
    );
}

#[test]
fn javascript() {
    let f = facts(Language::JavaScript, JAVASCRIPT);
    assert_eq!(
        symbols(&f),
        [
            (Const, "cp", 2, 2, false),
            (Function, "greet", 8, 10, true),
            (Function, "handler", 12, 21, true),
            (Class, "Widget", 23, 33, true),
            (Method, "Widget.create", 25, 27, true),
            (Method, "Widget.render", 28, 32, true),
            (Function, "ids", 35, 40, true),
            (Const, "LIMIT", 42, 42, true),
            (Const, "notes", 44, 44, false),
        ]
    );
    assert_eq!(
        imports(&f),
        [
            ("child_process", vec![], 2),
            ("child_process", vec![], 3),
            ("react", vec!["default"], 4),
            ("./lib.js", vec!["default", "named"], 5),
        ]
    );
    assert_eq!(symbol(&f, "greet").doc, "Greets someone.");
    assert_eq!(symbol(&f, "greet").signature, "function greet(name)");
    let handler = symbol(&f, "handler");
    assert_eq!(handler.signature, "const handler = async (req, res) =>");
    // if, ||, catch = 1 + 3
    assert_eq!(handler.complexity, 4);
    // ternary
    assert_eq!(symbol(&f, "Widget.render").complexity, 2);
    // while
    assert_eq!(symbol(&f, "ids").complexity, 2);
    assert_eq!(
        calls(&f),
        [
            ("status", 14),
            ("exec", 17),
            ("error", 19),
            ("Widget", 26),
            ("setTimeout", 48),
            ("eval", 48),
            ("run", 49),
        ]
    );
    assert_eq!(types(&f), [("Component", 23)]);
    assert_eq!(markers(&f), [(Todo, "HACK", 29), (Risky, "innerHTML", 30),]);
    // `eval('1')` and `run('ls /tmp')` have literal arguments.
    assert_eq!(
        security(&f),
        [("sec-command-injection", "child_process.exec", 17)]
    );
    // 49 lines - 6 blank - 3 comment-only
    assert_eq!(f.loc, 40);
}

#[test]
fn commonjs_member_functions() {
    let src = r#"'use strict';
exports.parse = function parse(text) {
  return text ? JSON.parse(text) : null;
};

res.send = function send(body) {
  function inner() {}
  return body;
};

Router.prototype.use = (fn) => fn;
module.exports.version = '1';
"#;
    let f = facts(Language::JavaScript, src);
    assert_eq!(
        symbols(&f),
        [
            (Function, "parse", 2, 4, true),
            (Method, "res.send", 6, 9, false),
            (Function, "res.send.inner", 7, 7, false),
            (Method, "Router.use", 11, 11, false),
        ]
    );
    // 1 + the ternary.
    assert_eq!(symbol(&f, "parse").complexity, 2);
    assert_eq!(
        symbol(&f, "res.send").signature,
        "res.send = function send(body)"
    );
}

#[test]
fn typescript() {
    let f = facts(Language::TypeScript, TYPESCRIPT);
    assert_eq!(
        symbols(&f),
        [
            (Const, "PORT", 10, 10, true),
            (Const, "secret", 11, 11, false),
            (Interface, "User", 17, 20, true),
            (Type, "Id", 22, 22, true),
            (Enum, "Color", 24, 24, false),
            (Module, "Util", 26, 30, true),
            (Function, "Util.clamp", 27, 29, true),
            (Class, "Repo", 33, 58, true),
            (Method, "Repo.constructor", 37, 39, true),
            (Method, "Repo.find", 41, 49, true),
            (Method, "Repo.render", 51, 53, false),
            (Method, "Repo.onClick", 55, 57, true),
            (Function, "compute", 60, 69, true),
            (Const, "lazy", 72, 72, false),
        ]
    );
    assert_eq!(
        imports(&f),
        [
            ("fs", vec!["default"], 1),
            ("node:fs/promises", vec!["readFile", "writeFile"], 2),
            ("path", vec!["*"], 3),
            ("./config", vec!["Config"], 4),
            ("./polyfill", vec![], 5),
            ("./helper", vec!["helper"], 6),
            ("./types", vec!["*"], 7),
            ("./lazy", vec![], 72),
        ]
    );
    assert_eq!(symbol(&f, "PORT").doc, "Default port.");
    assert_eq!(symbol(&f, "PORT").signature, "const PORT = 8080");
    assert_eq!(symbol(&f, "User").doc, "A user record.");
    assert_eq!(symbol(&f, "Repo").doc, "Keeps users.");
    assert_eq!(
        symbol(&f, "Repo").signature,
        "class Repo<T extends User> extends Base implements Store"
    );
    assert_eq!(
        symbol(&f, "Repo.find").signature,
        "find(id: Id): T | undefined"
    );
    // two ternaries
    assert_eq!(symbol(&f, "Util.clamp").complexity, 3);
    // for-of, if, && = 1 + 3
    assert_eq!(symbol(&f, "Repo.find").complexity, 4);
    // case 1, case 2, ?? (default does not count) = 1 + 3
    assert_eq!(symbol(&f, "compute").complexity, 4);
    assert_eq!(
        calls(&f),
        [
            ("Map", 34),
            ("values", 43),
            ("log", 56),
            ("eval", 63),
            ("Function", 65),
        ]
    );
    assert_eq!(
        types(&f),
        [
            ("User", 33),
            ("Base", 33),
            ("Store", 33),
            ("Map", 34),
            ("Id", 34),
            ("T", 34),
            ("Config", 37),
            ("Id", 41),
            ("T", 41),
            ("HTMLElement", 51),
            ("Event", 55),
        ]
    );
    assert_eq!(
        markers(&f),
        [(Todo, "FIXME", 42), (Risky, "innerHTML", 52),]
    );
    // `eval('1')` and `new Function('return 2')` have literal arguments.
    assert_eq!(security(&f), []);
    // 72 lines - 12 blank - 6 comment-only (JSDoc blocks included)
    assert_eq!(f.loc, 54);
}

#[test]
fn tsx() {
    let f = facts(Language::Tsx, TSX);
    assert_eq!(
        symbols(&f),
        [
            (Interface, "Props", 4, 7, false),
            (Function, "List", 10, 21, true),
            (Function, "Row", 23, 23, false),
            (Class, "Panel", 25, 30, true),
            (Method, "Panel.title", 27, 29, true),
        ]
    );
    assert_eq!(
        imports(&f),
        [
            ("react", vec!["default", "useState"], 1),
            ("./types", vec!["Item"], 2),
        ]
    );
    let list = symbol(&f, "List");
    assert_eq!(
        list.signature,
        "function List({ items, onPick }: Props): JSX.Element"
    );
    assert_eq!(list.doc, "Shows a list.");
    // && and the ternary inside the map callback = 1 + 2
    assert_eq!(list.complexity, 3);
    assert_eq!(symbol(&f, "Panel.title").complexity, 2);
    assert_eq!(
        calls(&f),
        [
            ("useState", 11),
            ("map", 15),
            ("Row", 16),
            ("onPick", 16),
            ("setOpen", 18),
            ("Map", 26),
        ]
    );
    assert!(types(&f).contains(&("Element", 10)));
    assert!(types(&f).contains(&("Props", 25)));
    assert!(!types(&f).iter().any(|(name, _)| *name == "Panel"));
    assert_eq!(markers(&f), [(Todo, "TODO", 12)]);
    // 30 lines - 4 blank - 2 comment-only
    assert_eq!(f.loc, 24);
}

#[test]
fn go() {
    let f = facts(Language::Go, GO);
    assert_eq!(
        symbols(&f),
        [
            (Const, "MaxSize", 14, 14, true),
            (Const, "minSize", 17, 17, false),
            (Const, "DefaultTTL", 18, 18, true),
            (Struct, "Entry", 22, 25, true),
            (Interface, "Getter", 27, 29, true),
            (Type, "id", 31, 31, false),
            (Method, "Store.Get", 34, 42, true),
            (Function, "classify", 44, 58, false),
            (Function, "run", 60, 67, false),
        ]
    );
    assert_eq!(
        imports(&f),
        [
            ("fmt", vec![], 5),
            ("os/exec", vec![], 6),
            ("unsafe", vec![], 7),
            ("strings", vec![], 10),
        ]
    );
    let max = symbol(&f, "MaxSize");
    assert_eq!(max.doc, "MaxSize is the largest entry.\nIt is exported.");
    assert_eq!(max.signature, "const MaxSize = 1024");
    assert_eq!(symbol(&f, "minSize").signature, "const minSize = 1");
    assert_eq!(
        symbol(&f, "Entry").signature,
        "type Entry struct { Key string; Value []byte }"
    );
    let get = symbol(&f, "Store.Get");
    assert_eq!(get.name, "Get");
    assert_eq!(
        get.signature,
        "func (s *Store) Get(key string) (*Entry, error)"
    );
    assert_eq!(get.doc, "Get looks up a key.");
    // for, if, && = 1 + 3
    assert_eq!(get.complexity, 4);
    // two cases (default does not count), the closure's ||, if = 1 + 4
    assert_eq!(symbol(&f, "classify").complexity, 5);
    assert_eq!(
        calls(&f),
        [
            ("Errorf", 41),
            ("TrimSpace", 41),
            ("f", 53),
            ("Pointer", 61),
            ("Command", 63),
            ("Run", 64),
        ]
    );
    assert_eq!(
        types(&f),
        [("Entry", 28), ("Store", 34), ("Entry", 34), ("Entry", 65)]
    );
    assert_eq!(markers(&f), [(Todo, "TODO", 35),]);
    // `osexec.Command("sh", "-c", "ls")` runs a literal command line.
    assert_eq!(
        security(&f),
        [
            ("sec-unsafe-code", "import unsafe", 7),
            ("sec-unsafe-code", "unsafe.Pointer", 61),
        ]
    );
    // 67 lines - 10 blank - 6 comment-only
    assert_eq!(f.loc, 51);
}

#[test]
fn markers_need_the_whole_word() {
    let source = "// TODOS are not TODO-less\n// mastodon\nfn f() {} // FIXME\n";
    let f = facts(Language::Rust, source);
    assert_eq!(markers(&f), [(Todo, "TODO", 1), (Todo, "FIXME", 3)]);
    assert_eq!(f.loc, 1);
}

#[test]
fn marker_text_is_trimmed_and_capped() {
    let long = format!("    // TODO {}\n", "x".repeat(300));
    let f = facts(Language::Go, &format!("package p\n{long}"));
    assert_eq!(f.markers.len(), 1);
    assert_eq!(f.markers[0].text.chars().count(), 200);
    assert!(f.markers[0].text.starts_with("// TODO xxx"));
}

/// Random bytes, truncations and pathological nesting: extraction may find little, but
/// it must return without panicking (a panic fails the test).
#[test]
fn garbage_does_not_panic() {
    let languages = [
        Language::Rust,
        Language::Python,
        Language::JavaScript,
        Language::TypeScript,
        Language::Tsx,
        Language::Go,
    ];
    let fixtures = [RUST, PYTHON, JAVASCRIPT, TYPESCRIPT, TSX, GO];
    let mut inputs: Vec<String> = vec![
        String::new(),
        "\n\n\n".into(),
        "é ü 中文 🦀".into(),
        "(".repeat(5000),
        "{".repeat(5000),
        "[".repeat(5000),
        format!("use a::{}", "{b::".repeat(2000)),
        format!("x = {}1", "1 + ".repeat(5000)),
        "\"unterminated".into(),
        "/* unterminated".into(),
        "\u{0}\u{1}\r\r\n\t".into(),
    ];
    for fixture in fixtures {
        let chars: Vec<char> = fixture.chars().collect();
        for cut in (0..chars.len()).step_by(37) {
            inputs.push(chars[..cut].iter().collect());
        }
        // Every line swapped with the next: plausible tokens in broken order.
        let mut lines: Vec<&str> = fixture.lines().collect();
        for pair in lines.chunks_mut(2) {
            pair.reverse();
        }
        inputs.push(lines.join("\n"));
    }
    // A small xorshift generator: deterministic pseudo-random text.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..200 {
        let len = (state % 400) as usize;
        let text: String = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let alphabet = b"{}()[];:,.<>=!&|?*/\\\"'`#@ \n\tabcfnrsuxyz019_";
                alphabet[(state % alphabet.len() as u64) as usize] as char
            })
            .collect();
        inputs.push(text);
    }
    for language in languages {
        for input in &inputs {
            let f = extract(language, input).expect("parsers never give up without a timeout");
            for s in &f.symbols {
                assert!(s.start_line <= s.end_line, "{language:?}: {s:?}");
            }
        }
    }
}

const RUST: &str = r#"//! Crate docs are not item docs.
use std::collections::{HashMap, BTreeSet as Set};
use std::fmt;
use crate::store::*;
extern crate serde;

/// Maximum retries.
pub const MAX: u32 = 3;
static mut COUNTER: u32 = 0;

/// A cache of values.
#[derive(Debug)]
pub struct Cache<T> {
    map: HashMap<String, T>,
}

impl<T: Clone> Cache<T> {
    /// Makes an empty cache.
    pub fn new() -> Self {
        Cache { map: HashMap::new() }
    }

    // TODO: evict old entries
    pub(crate) fn get(&self, key: &str, fallback: bool) -> Option<T> {
        if let Some(v) = self.map.get(key) {
            Some(v.clone())
        } else if fallback && key.is_empty() {
            None
        } else {
            let s = "TODO in a string";
            let _ = s.len();
            None
        }
    }
}

impl<T> fmt::Display for Cache<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cache")
    }
}

pub trait Store {
    fn load(&self, id: u64) -> Vec<u8>;
}

pub mod outer {
    pub mod inner {
        pub enum Mode { Fast, Slow }
        pub fn pick(m: Mode, n: i32) -> i32 {
            let f = |x: i32| if x > 0 { x } else { -x };
            match m {
                Mode::Fast => f(n),
                Mode::Slow if n > 10 => 2,
                Mode::Slow => { fn helper() -> i32 { if true { 1 } else { 2 } } helper() }
            }
        }
    }
}

type Id = u64;

pub unsafe fn raw(p: *const u8) -> u8 {
    /* FIXME: check alignment */
    unsafe { *p }
}
"#;

const PYTHON: &str = r#""""Module docstring."""
import os
import os.path as osp, json
from . import sibling
from ..pkg.mod import (alpha, beta as b)
from typing import *
import pickle, subprocess

__all__ = ["Loader", "load_all"]


class Loader(Base):
    """Loads things.

    More detail here.
    """

    def __init__(self, root: str) -> None:
        self.root = root

    def _scan(self, items):
        # TODO: make this lazy
        out = [x for x in items if x and not x.startswith(".")]
        for name in out:
            if name.endswith(".py"):
                yield name
            elif name.endswith(".pyc") or name.endswith(".pyo"):
                continue
            else:
                try:
                    os.system("ls " + name)
                except OSError:
                    pass

    @property
    def size(self):
        return len(self.root)


def load_all(paths, strict=False):
    """Load every path."""
    def check(p):
        return p if p else None
    results = []
    for p in paths:
        data = pickle.loads(check(p))
        results.append(data)
    match strict:
        case True:
            eval("1 + 1")
        case _:
            pass
    return results


def helper():
    s = "FIXME not a marker"
    # eval("x") in a comment is harmless
    subprocess.run(["ls"], shell=True)
    return lambda v: v or s


type Alias = list[int]
"#;

const JAVASCRIPT: &str = r#"'use strict';
const cp = require('child_process');
const { exec: run } = require('child_process');
import React from 'react';
import Default, { named } from "./lib.js";

/** Greets someone. */
export function greet(name) {
  return `hi ${name}`;
}

export const handler = async (req, res) => {
  if (!req.ok || req.retry) {
    res.status(500);
  }
  try {
    await cp.exec(req.cmd);
  } catch (err) {
    console.error(err);
  }
};

class Widget extends React.Component {
  #count = 0;
  static create() {
    return new Widget();
  }
  render() {
    // HACK: direct DOM write
    this.el.innerHTML = '<b>' + this.#count + '</b>';
    return this.#count > 0 ? 'many' : 'none';
  }
}

function* ids() {
  let i = 0;
  while (true) {
    yield i++;
  }
}

const LIMIT = 10;
/* eval('not code') */
const notes = "XXX inside a string";

export { Widget, ids as identifiers };
export default LIMIT;
setTimeout(() => eval('1'), LIMIT);
run('ls /tmp');
"#;

const TYPESCRIPT: &str = r#"import fs from 'fs';
import { readFile, writeFile as wf } from 'node:fs/promises';
import * as path from 'path';
import type { Config } from './config';
import './polyfill';
export { helper } from './helper';
export * from './types';

/** Default port. */
export const PORT = 8080;
const secret = 'TODO: not a marker';
let counter = 0;

/**
 * A user record.
 */
export interface User {
  id: number;
  name: string;
}

export type Id = string | number;

enum Color { Red, Green }

export namespace Util {
  export function clamp(v: number, lo: number, hi: number): number {
    return v < lo ? lo : v > hi ? hi : v;
  }
}

/** Keeps users. */
export class Repo<T extends User> extends Base implements Store {
  private items: Map<Id, T> = new Map();
  #hidden = 1;

  constructor(private readonly cfg: Config) {
    super();
  }

  find(id: Id): T | undefined {
    // FIXME: linear scan
    for (const item of this.items.values()) {
      if (item.id === id && item.name) {
        return item;
      }
    }
    return undefined;
  }

  protected render(el: HTMLElement, html: string): void {
    el.innerHTML = html;
  }

  onClick = (e: Event) => {
    console.log(e);
  };
}

function compute(x: number): number {
  switch (x) {
    case 1:
      return eval('1');
    case 2:
      return new Function('return 2')();
    default:
      return x ?? 0;
  }
}

export default compute;
const lazy = import('./lazy');
"#;

const TSX: &str = r#"import React, { useState } from 'react';
import type { Item } from './types';

interface Props {
  items: Item[];
  onPick?: (item: Item) => void;
}

/** Shows a list. */
export function List({ items, onPick }: Props): JSX.Element {
  const [open, setOpen] = useState<boolean>(false);
  // TODO: virtualise long lists
  return (
    <ul className="list">
      {items.map((item) =>
        item.visible && open ? <Row key={item.id} item={item} onClick={() => onPick?.(item)} /> : null
      )}
      <button onClick={() => setOpen(!open)}>toggle</button>
    </ul>
  );
}

const Row = ({ item }: { item: Item }) => <li>{item.label}</li>;

export default class Panel extends React.Component<Props> {
  private cache = new Map<string, Item>();
  public title(): string {
    return this.props.items.length > 0 ? 'Items' : 'Empty';
  }
}
"#;

const GO: &str = r#"// Package store keeps things.
package store

import (
	"fmt"
	osexec "os/exec"
	"unsafe"
)

import "strings"

// MaxSize is the largest entry.
// It is exported.
const MaxSize = 1024

const (
	minSize   = 1
	DefaultTTL = 60
)

// Entry is one value.
type Entry struct {
	Key   string
	Value []byte
}

type Getter interface {
	Get(key string) (*Entry, error)
}

type id = int

// Get looks up a key.
func (s *Store) Get(key string) (*Entry, error) {
	// TODO(ann): shard the lock
	for i, e := range s.entries {
		if e.Key == key && i >= 0 {
			return &e, nil
		}
	}
	return nil, fmt.Errorf("missing %s", strings.TrimSpace(key))
}

func classify(n int) string {
	msg := "XXX in string"
	switch {
	case n < 0:
		return "neg"
	case n == 0, n == 1:
		return msg
	default:
		f := func(x int) bool { return x > 2 || x < -2 }
		if f(n) {
			return "big"
		}
		return "other"
	}
}

func run() {
	p := unsafe.Pointer(nil)
	_ = p
	cmd := osexec.Command("sh", "-c", "ls")
	_ = cmd.Run()
	e := Entry{Key: "k"}
	_ = e
}
"#;

#[test]
fn rust_use_trees_and_block_docs() {
    let source = "use a::{b::{c, d as e}, f, g::*};\nuse ::std::io;\n\n/** Block\n * doc. */\n#[inline]\nfn k() {}\n";
    let f = facts(Language::Rust, source);
    assert_eq!(
        imports(&f),
        [
            ("a", vec!["f"], 1),
            ("a::b", vec!["c", "d"], 1),
            ("a::g", vec!["*"], 1),
            ("::std", vec!["io"], 2),
        ]
    );
    assert_eq!(symbol(&f, "k").doc, "Block\ndoc.");
    assert_eq!(symbols(&f), [(Function, "k", 7, 7, false)]);
}

/// ripgrep's `use { grep_matcher::Matcher, serde_json as json };`: a brace group at the
/// root of a `use` imports whole crates, never a name from a nameless module (which made
/// `deps` report serde_json as declared and never imported).
#[test]
fn rust_use_group_at_the_root_imports_whole_crates() {
    let source = "use {\n    grep_matcher::Matcher,\n    serde_json as json,\n    regex,\n};\n";
    let f = facts(Language::Rust, source);
    let mut found = imports(&f);
    found.sort();
    assert_eq!(
        found,
        [
            ("grep_matcher", vec!["Matcher"], 1),
            ("regex", vec![], 1),
            ("serde_json", vec![], 1),
        ]
    );
    assert_eq!(renamed(&f), [("serde_json", vec![("serde_json", "json")])]);
}

/// `#[doc(hidden)]` items are not public API, nor is anything inside a hidden item
/// (the Cargo book: changes to them are not breaking).
#[test]
fn rust_doc_hidden_items_are_not_public_api() {
    let source = "pub fn shown() {}\n#[doc(hidden)]\npub fn hidden() {}\n#[doc( hidden )]\n/// Internal.\npub mod private {\n    pub fn inner() {}\n}\npub struct S;\nimpl S {\n    #[doc(hidden)]\n    pub fn secret(&self) {}\n    pub fn open(&self) {}\n}\n";
    let f = facts(Language::Rust, source);
    let public: Vec<(&str, bool)> = f
        .symbols
        .iter()
        .map(|s| (s.qualified.as_str(), s.public))
        .collect();
    for (name, want) in [
        ("shown", true),
        ("hidden", false),
        ("private", false),
        ("private::inner", false),
        ("S", true),
        ("S::secret", false),
        ("S::open", true),
    ] {
        assert!(public.contains(&(name, want)), "{name}: {public:?}");
    }
}

/// (module, [(name, local)]) of every import that binds a name under another one.
fn renamed(facts: &FileFacts) -> Vec<(&str, Vec<(&str, &str)>)> {
    facts
        .imports
        .iter()
        .filter(|i| !i.renamed.is_empty())
        .map(|i| {
            let pairs = i
                .renamed
                .iter()
                .map(|r| (r.name.as_str(), r.local.as_str()))
                .collect();
            (i.module.as_str(), pairs)
        })
        .collect()
}

/// (qualifier, name, line) of every reference of `kind`.
fn qualified(facts: &FileFacts, kind: ReferenceKind) -> Vec<(Option<&str>, &str, u32)> {
    facts
        .references
        .iter()
        .filter(|r| r.kind == kind)
        .map(|r| (r.qualifier.as_deref(), r.name.as_str(), r.line))
        .collect()
}

#[test]
fn rust_aliases_and_paths() {
    let source = "use up::f as g;\nuse up::{h, client::{self as c, Conn as K}, T as _};\nuse up as u;\n\nfn run(x: up::Client, y: K) {\n    g();\n    up::client::send::<u8>();\n    ::up::f();\n    x.close();\n    <K as Tr>::make();\n}\n";
    let f = facts(Language::Rust, source);
    assert_eq!(
        imports(&f),
        [
            ("up", vec!["f"], 1),
            ("up", vec!["h", "T"], 2),
            ("up::client", vec!["self", "Conn"], 2),
            ("up", vec![], 3),
        ]
    );
    assert_eq!(
        renamed(&f),
        [
            ("up", vec![("f", "g")]),
            ("up::client", vec![("self", "c"), ("Conn", "K")]),
            ("up", vec![("up", "u")]),
        ]
    );
    assert_eq!(
        qualified(&f, ReferenceKind::Call),
        [
            (None, "g", 6),
            (Some("up::client"), "send", 7),
            (Some("::up"), "f", 8),
            (None, "close", 9),
            (None, "make", 10),
        ]
    );
    assert_eq!(
        qualified(&f, ReferenceKind::Type),
        [
            (Some("up"), "Client", 5),
            (None, "K", 5),
            (None, "K", 10),
            (None, "Tr", 10),
        ]
    );
}

#[test]
fn python_aliases_and_attribute_calls() {
    let source = "import up.client as c, os\nfrom up import f as g, h\n\n\ndef run():\n    g()\n    c.send()\n    up.sub.f()\n    make().go()\n";
    let f = facts(Language::Python, source);
    assert_eq!(
        imports(&f),
        [
            ("up.client", vec![], 1),
            ("os", vec![], 1),
            ("up", vec!["f", "h"], 2)
        ]
    );
    assert_eq!(
        renamed(&f),
        [
            ("up.client", vec![("client", "c")]),
            ("up", vec![("f", "g")])
        ]
    );
    assert_eq!(
        qualified(&f, ReferenceKind::Call),
        [
            (None, "g", 6),
            (Some("c"), "send", 7),
            (Some("up.sub"), "f", 8),
            (None, "go", 9),
            (None, "make", 9),
        ]
    );
}

#[test]
fn typescript_aliases_and_member_calls() {
    let source = "import { f as g, h } from 'up';\nimport * as ns from 'up';\nexport { k as m } from 'up';\n\nexport function run(): void {\n  g();\n  ns.sub.f();\n  new ns.Client();\n  make().go();\n}\n";
    let f = facts(Language::TypeScript, source);
    assert_eq!(
        imports(&f),
        [
            ("up", vec!["f", "h"], 1),
            ("up", vec!["*"], 2),
            ("up", vec!["k"], 3)
        ]
    );
    assert_eq!(
        renamed(&f),
        [("up", vec![("f", "g")]), ("up", vec![("*", "ns")])]
    );
    assert_eq!(
        qualified(&f, ReferenceKind::Call),
        [
            (None, "g", 6),
            (Some("ns.sub"), "f", 7),
            (Some("ns"), "Client", 8),
            (None, "go", 9),
            (None, "make", 9),
        ]
    );
}

#[test]
fn go_aliases_and_qualified_names() {
    let source = "package main\n\nimport (\n\tc \"example.com/up/client\"\n\t. \"example.com/dot\"\n\t_ \"example.com/side\"\n\t\"example.com/up/v2\"\n)\n\nfunc run(x up.Client) {\n\tc.Send()\n\tDotted()\n\tx.Close()\n}\n";
    let f = facts(Language::Go, source);
    assert_eq!(
        imports(&f),
        [
            ("example.com/up/client", vec![], 4),
            ("example.com/dot", vec!["*"], 5),
            ("example.com/side", vec![], 6),
            ("example.com/up/v2", vec![], 7),
        ]
    );
    assert_eq!(
        renamed(&f),
        [("example.com/up/client", vec![("client", "c")])]
    );
    assert_eq!(
        qualified(&f, ReferenceKind::Call),
        [
            (Some("c"), "Send", 11),
            (None, "Dotted", 12),
            (Some("x"), "Close", 13),
        ]
    );
    assert_eq!(
        qualified(&f, ReferenceKind::Type),
        [(Some("up"), "Client", 10)]
    );
}

/// Go's package-level `var`s are API (a changed or removed exported var breaks
/// dependents); a function's own variables are not symbols at all.
#[test]
fn go_package_variables_are_symbols_and_locals_are_not() {
    let source = "package p\n\n// Default is the default.\nvar Default = New()\n\nvar (\n\tmu  sync.Mutex\n\tMax int = 3\n)\n\nfunc New() *T {\n\tvar Local = 1\n\t_ = func() { var Inner = 2; _ = Inner }\n\treturn nil\n}\n";
    let f = facts(Language::Go, source);
    let vars: Vec<(&str, bool, &str)> = f
        .symbols
        .iter()
        .filter(|s| s.kind == SymbolKind::Variable)
        .map(|s| (s.name.as_str(), s.public, s.doc.as_str()))
        .collect();
    assert_eq!(
        vars,
        [
            ("Default", true, "Default is the default."),
            ("mu", false, ""),
            ("Max", true, "")
        ]
    );
}

/// A trailing comment is not part of a declaration: editing it changes no signature.
#[test]
fn comments_are_not_part_of_signatures() {
    let go = facts(
        Language::Go,
        "package p\n\nconst Limit = 10 // was 5\n\nvar URL = \"http://example.org\" // not a comment inside\n\nfunc F(a int /* count */, b string) error {\n\treturn nil\n}\n",
    );
    let sig = |f: &FileFacts, name: &str| symbol(f, name).signature.clone();
    assert_eq!(sig(&go, "Limit"), "const Limit = 10");
    assert_eq!(sig(&go, "URL"), "var URL = \"http://example.org\"");
    assert_eq!(sig(&go, "F"), "func F(a int, b string) error");
    let rust = facts(Language::Rust, "pub fn f(x: u8 /* bits */) -> u8 { x }\n");
    assert_eq!(sig(&rust, "f"), "pub fn f(x: u8) -> u8");
}

/// A Go struct's fields and an interface's methods are part of its signature.
#[test]
fn go_type_signatures_carry_fields_and_methods() {
    let f = facts(
        Language::Go,
        "package p\n\ntype S struct {\n\tA int // count\n\tB, C string\n}\n\ntype I interface {\n\tM() error\n\tfmt.Stringer\n}\n",
    );
    assert_eq!(
        symbol(&f, "S").signature,
        "type S struct { A int; B, C string }"
    );
    assert_eq!(
        symbol(&f, "I").signature,
        "type I interface { M() error; fmt.Stringer }"
    );
}
