//! What static analysis knows of one file: symbols, imports, references, markers. These
//! values are cached by file content hash, so they must not depend on the file's path.

use serde::{Deserialize, Serialize};

/// Facts extracted from one source file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FileFacts {
    /// Non-blank, non-comment-only lines.
    pub loc: u32,
    /// Declared symbols, in source order.
    pub symbols: Vec<Symbol>,
    /// Imports / uses.
    pub imports: Vec<Import>,
    /// Call sites and type references by name.
    pub references: Vec<Reference>,
    /// TODO/FIXME comments and risky constructs without a security rule (`innerHTML =`).
    pub markers: Vec<Marker>,
    /// Constructs with security implications (`docs/assessment.md`, the `sec-*` rules),
    /// in line order. A hard-coded secret is kept redacted, never as written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security: Vec<SecurityFact>,
}

impl FileFacts {
    /// The innermost symbol whose span holds `line`.
    pub fn enclosing(&self, line: u32) -> Option<&Symbol> {
        self.symbols
            .iter()
            .filter(|s| s.start_line <= line && line <= s.end_line)
            .min_by_key(|s| s.end_line - s.start_line)
    }
}

/// Kind of a declared symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SymbolKind {
    /// Free function.
    Function,
    /// Function attached to a type (impl block, class body, Go receiver).
    Method,
    /// Struct (Rust, Go).
    Struct,
    /// Class (Python, JS/TS).
    Class,
    /// Enum.
    Enum,
    /// Trait (Rust).
    Trait,
    /// Interface (TS, Go).
    Interface,
    /// Type alias or other named type.
    Type,
    /// Constant (incl. Rust `static`).
    Const,
    /// Package-level variable (Go `var`).
    Variable,
    /// Module / namespace.
    Module,
    /// A field of a struct, or an attribute of a class (API models).
    Field,
    /// A variant of an enum (API models).
    Variant,
    /// A macro (API models: Rust `#[macro_export]`).
    Macro,
    /// A trait implemented for a type (API models: Rust `impl Trait for Type`).
    Impl,
}

impl SymbolKind {
    /// Lower-case name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SymbolKind::Function => "function",
            SymbolKind::Method => "method",
            SymbolKind::Struct => "struct",
            SymbolKind::Class => "class",
            SymbolKind::Enum => "enum",
            SymbolKind::Trait => "trait",
            SymbolKind::Interface => "interface",
            SymbolKind::Type => "type",
            SymbolKind::Const => "const",
            SymbolKind::Variable => "variable",
            SymbolKind::Module => "module",
            SymbolKind::Field => "field",
            SymbolKind::Variant => "variant",
            SymbolKind::Macro => "macro",
            SymbolKind::Impl => "impl",
        }
    }

    /// Functions and methods: the kinds with a body whose complexity is measured.
    pub fn is_callable(self) -> bool {
        matches!(self, SymbolKind::Function | SymbolKind::Method)
    }
}

/// One declared symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Symbol {
    /// Kind.
    pub kind: SymbolKind,
    /// Bare name.
    pub name: String,
    /// Name qualified by its enclosing items within the file (`Type::method` in Rust,
    /// `Class.method` in Python/JS/TS, `Type.Method` in Go, `outer::inner` for nested
    /// Rust modules).
    pub qualified: String,
    /// First line, 1-based.
    pub start_line: u32,
    /// Last line, 1-based, inclusive.
    pub end_line: u32,
    /// Part of the public API.
    pub public: bool,
    /// Declaration text up to the body (one line, whitespace collapsed).
    pub signature: String,
    /// Doc comment / docstring, trimmed ("" if none).
    pub doc: String,
    /// Lines of code of the declaration (non-blank, non-comment).
    pub loc: u32,
    /// Cyclomatic complexity (functions and methods; 0 for other kinds).
    pub complexity: u32,
}

/// One import / use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    /// The module named, as written (`std::collections`, `os.path`, `./util`, `fmt`).
    pub module: String,
    /// Names imported from it (empty for a whole-module import), as the module spells
    /// them.
    pub names: Vec<String>,
    /// Imported names bound under another local name (`use up::f as g`, `import { f as
    /// g }`, `from up import f as g`); a whole module bound under another name (`use up
    /// as u`, `import up.client as c`) has the module's last segment as `name`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renamed: Vec<Renamed>,
    /// Line, 1-based.
    pub line: u32,
}

/// An imported name and the local name code uses for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renamed {
    /// The name as the module spells it.
    pub name: String,
    /// The name this file binds it to.
    pub local: String,
}

/// Kind of a reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReferenceKind {
    /// A call site (callee's last name segment).
    Call,
    /// A reference to a type by name.
    Type,
}

/// A use of a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// Call or type.
    pub kind: ReferenceKind,
    /// The referenced name (last path segment).
    pub name: String,
    /// The path written before the name, separators as written: `up::client` in Rust's
    /// `up::client::f()`, `c` in Python's or JS's `c.f()`. None for a bare name, a Rust
    /// method call on a value, or a receiver that is not a plain path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
    /// Line, 1-based.
    pub line: u32,
}

/// Kind of a marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MarkerKind {
    /// `TODO`, `FIXME`, `XXX` or `HACK` in a comment.
    Todo,
    /// A construct that needs a careful review but maps to no security rule (JS/TS
    /// `.innerHTML =`); the rest are [`SecurityFact`]s.
    Risky,
}

/// A line worth pointing at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    /// What it is.
    pub kind: MarkerKind,
    /// Short label: `TODO`, `FIXME`, `unsafe block`, `eval`, ...
    pub label: String,
    /// Line, 1-based.
    pub line: u32,
    /// The line's text, trimmed, at most 200 characters.
    pub text: String,
}

/// What a security fact is: one kind per `sec-*` rule and CWE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecurityKind {
    /// Code the compiler does not check for memory safety (Rust `unsafe`, Go `unsafe`).
    UnsafeCode,
    /// A shell command line built from a non-literal value.
    CommandInjection,
    /// Code evaluated from a non-literal value (`eval`, `exec`, `new Function`).
    CodeInjection,
    /// SQL text built by string formatting and passed to a query call.
    SqlInjection,
    /// TLS certificate or host name verification turned off.
    TlsVerificationDisabled,
    /// A deserialiser that can build arbitrary objects fed a non-literal value.
    UnsafeDeserialization,
    /// A credential written in the source.
    HardcodedSecret,
}

impl SecurityKind {
    /// Every kind, in rule order.
    pub const ALL: [SecurityKind; 7] = [
        SecurityKind::UnsafeCode,
        SecurityKind::CommandInjection,
        SecurityKind::CodeInjection,
        SecurityKind::SqlInjection,
        SecurityKind::TlsVerificationDisabled,
        SecurityKind::UnsafeDeserialization,
        SecurityKind::HardcodedSecret,
    ];

    /// The assessment rule reporting it.
    pub fn rule(self) -> &'static str {
        match self {
            SecurityKind::UnsafeCode => "sec-unsafe-code",
            SecurityKind::CommandInjection => "sec-command-injection",
            SecurityKind::CodeInjection => "sec-code-injection",
            SecurityKind::SqlInjection => "sec-sql-injection",
            SecurityKind::TlsVerificationDisabled => "sec-tls-verification-disabled",
            SecurityKind::UnsafeDeserialization => "sec-unsafe-deserialization",
            SecurityKind::HardcodedSecret => "sec-hardcoded-secret",
        }
    }

    /// Its CWE number (MITRE's Common Weakness Enumeration).
    pub fn cwe(self) -> u32 {
        match self {
            SecurityKind::UnsafeCode => 676,
            SecurityKind::CommandInjection => 78,
            SecurityKind::CodeInjection => 95,
            SecurityKind::SqlInjection => 89,
            SecurityKind::TlsVerificationDisabled => 295,
            SecurityKind::UnsafeDeserialization => 502,
            SecurityKind::HardcodedSecret => 798,
        }
    }
}

/// A construct with security implications, found in the syntax tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityFact {
    /// Which rule it is for.
    pub kind: SecurityKind,
    /// Line, 1-based.
    pub line: u32,
    /// What was found, short and stable (`os.system`, `unsafe block`, `password
    /// DB_PASSWORD`): the key of the finding id.
    pub construct: String,
    /// Why it is reported (`non-literal command (f-string)`); a secret appears only
    /// redacted (its first characters and its length).
    pub reason: String,
    /// Found by a heuristic (a credential's name and the value's entropy) rather than by
    /// a format; such secrets are not reported in tests, examples and docs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub heuristic: bool,
}
