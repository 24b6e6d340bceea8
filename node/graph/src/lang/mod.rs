//! Tree-sitter extraction: one module per language family turns a parse tree into
//! [`FileFacts`].
//!
//! Rules where languages leave a choice:
//!
//! - **Symbol spans** are the declaration node itself: Rust attributes and Python
//!   decorators are not part of a symbol's lines.
//! - **Nested named functions** are separate symbols qualified by their enclosing
//!   function (`outer::inner::pick::helper`, `load_all.check`), never public, and their
//!   decision points do not count toward the enclosing function; closures and lambdas do.
//! - **Complexity** is 1 plus: `if`/`elif`/`else if`, each loop (`for`, `while`, `loop`,
//!   `do`, comprehension `for`/`if`), each `case`/match arm except the default (`default:`,
//!   `_ =>`, `case _:`), `catch`/`except`, ternaries, `&&`, `||` (JS/TS also `??`,
//!   Python `and`/`or`). Rust `?` does not count.
//! - **Signatures** run from the declaration's start to its body, whitespace collapsed;
//!   declarations without a body (consts, aliases, `type` items) give their first line.
//! - **Rust**: public means exactly `pub`; methods of `impl Trait for X` are public, and
//!   the methods of a trait are as public as the trait. `use a::b::{c, d as e}` imports
//!   module `a::b` names `[c, d]`; `use a::b;` is module `a` names `[b]`; `use a::*` names
//!   `["*"]`; `use serde;` and `extern crate serde;` are module `serde` with no names.
//!   `d as e` is renamed `d` → `e`; `use up as u` renamed `up` → `u`; `as _` binds
//!   nothing. Macro invocations are not calls; `Self` is not a type reference. Calls and
//!   type references through a path keep it as qualifier (`up::client` of
//!   `up::client::f()`, `up` of `up::Client`); method calls on a value have none.
//! - **Python**: `import a.b as c` is module `a.b` with no names, renamed `b` → `c`;
//!   `from a import b as c` names `[b]`, renamed `b` → `c`. An attribute call `x.y.f()`
//!   has qualifier `x.y`. A plain name assigned at module level is a variable, at class
//!   level a field (its signature `name` or `name: annotation`). Type references are the names in
//!   annotations and the base classes of a class.
//! - **JavaScript/TypeScript**: constants are the `const` declarations at module or
//!   namespace level (exported or not); one whose value is an arrow function or function
//!   expression is a function instead, and a class field holding one is a method. Import
//!   names are the imported (not local) names, `default` for a default import and `*`
//!   for a namespace import or `export *`. Renamed: `import { f as g }` `f` → `g`,
//!   `import * as ns` `*` → `ns`, a default import `default` → its local name.
//!   `require('m')` and `import('m')` with a string literal are whole-module imports.
//!   A member call or `new` (`ns.f()`, `new a.B()`) has the object as qualifier.
//!   CommonJS member functions at module level are symbols: `exports.f = function ...`
//!   an exported function `f`, `obj.m = function ...` and `T.prototype.m = ...` methods
//!   `obj.m`, `T.m`. JSX elements with a capitalised name count as calls.
//! - **Go**: imports name no names; an aliased one is renamed (last path element →
//!   alias), a dot import names `["*"]`, `_` binds nothing. A selector call `x.F()` has
//!   qualifier `x`, a qualified type `up.Client` qualifier `up`. Predeclared types
//!   (`int`, `string`, `error`...) are not type references.
//! - **Markers**: TODO words are matched case-sensitively as whole words, one marker per
//!   comment line.

mod go;
mod javascript;
mod python;
mod rust;
mod security;
pub(crate) mod shared;

use super::facts::FileFacts;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::OnceLock;
use tree_sitter::Parser;

/// Bumped whenever extraction output changes: cached facts of an older version are
/// parsed again.
pub const EXTRACTOR_VERSION: u32 = 9;

/// A supported source language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Rust (`.rs`).
    Rust,
    /// Python (`.py`, `.pyi`).
    Python,
    /// JavaScript (`.js`, `.jsx`, `.mjs`, `.cjs`).
    JavaScript,
    /// TypeScript (`.ts`, `.mts`, `.cts`).
    TypeScript,
    /// TypeScript with JSX (`.tsx`).
    Tsx,
    /// Go (`.go`).
    Go,
}

/// Extraction failed.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The grammar could not be loaded (version mismatch between tree-sitter and grammar).
    #[error("tree-sitter grammar for {0:?} failed to load: {1}")]
    Grammar(Language, String),
    /// The parser gave up (time-out or cancellation).
    #[error("tree-sitter could not parse the {0:?} source")]
    Parse(Language),
}

impl Language {
    /// The language of a file, by extension.
    pub fn from_path(path: &Path) -> Option<Language> {
        match path.extension()?.to_str()? {
            "rs" => Some(Language::Rust),
            "py" | "pyi" => Some(Language::Python),
            "js" | "jsx" | "mjs" | "cjs" => Some(Language::JavaScript),
            "ts" | "mts" | "cts" => Some(Language::TypeScript),
            "tsx" => Some(Language::Tsx),
            "go" => Some(Language::Go),
            _ => None,
        }
    }

    /// Name as in configuration and JSON (`rust`, `python`, `javascript`, `typescript`,
    /// `tsx`, `go`).
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::JavaScript => "javascript",
            Language::TypeScript => "typescript",
            Language::Tsx => "tsx",
            Language::Go => "go",
        }
    }

    /// Parses a configuration name (`rust`, `python`, `javascript`/`js`,
    /// `typescript`/`ts` (covers tsx), `go`).
    pub fn from_name(name: &str) -> Option<Vec<Language>> {
        let languages = match name {
            "rust" => vec![Language::Rust],
            "python" | "py" => vec![Language::Python],
            "javascript" | "js" => vec![Language::JavaScript],
            "typescript" | "ts" => vec![Language::TypeScript, Language::Tsx],
            "go" => vec![Language::Go],
            _ => return None,
        };
        Some(languages)
    }

    fn grammar(self) -> tree_sitter::Language {
        match self {
            Language::Rust => tree_sitter_rust::LANGUAGE.into(),
            Language::Python => tree_sitter_python::LANGUAGE.into(),
            Language::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Language::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Language::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Language::Go => tree_sitter_go::LANGUAGE.into(),
        }
    }
}

/// Parses one file (for the API models, which read the tree their own way).
pub(crate) fn parse(language: Language, source: &str) -> Result<tree_sitter::Tree, ExtractError> {
    // One parser per thread, kept between files: its stacks stay allocated.
    thread_local! {
        static PARSER: std::cell::RefCell<Parser> = std::cell::RefCell::new(Parser::new());
    }
    PARSER.with(|parser| {
        let mut parser = parser.borrow_mut();
        parser
            .set_language(&language.grammar())
            .map_err(|e| ExtractError::Grammar(language, e.to_string()))?;
        parser
            .parse(source, None)
            .ok_or(ExtractError::Parse(language))
    })
}

/// Extracts the facts of one file. Syntax errors do not fail extraction: tree-sitter
/// recovers, and whatever parsed is reported.
pub fn extract(language: Language, source: &str) -> Result<FileFacts, ExtractError> {
    let tree = parse(language, source)?;
    let root = tree.root_node();
    let kinds = kind_names(language);
    Ok(match language {
        Language::Rust => rust::extract(source, kinds, root),
        Language::Python => python::extract(source, kinds, root),
        Language::JavaScript | Language::TypeScript | Language::Tsx => {
            javascript::extract(source, kinds, root)
        }
        Language::Go => go::extract(source, kinds, root),
    })
}

/// The node kind names of `language`'s grammar, built once per process.
fn kind_names(language: Language) -> &'static shared::KindNames {
    static TABLES: [OnceLock<shared::KindNames>; 6] = [const { OnceLock::new() }; 6];
    let slot = match language {
        Language::Rust => 0,
        Language::Python => 1,
        Language::JavaScript => 2,
        Language::TypeScript => 3,
        Language::Tsx => 4,
        Language::Go => 5,
    };
    TABLES[slot].get_or_init(|| shared::KindNames::of(&language.grammar()))
}
