//! The usage question and its answer: what an upstream asks a peer about its code, and
//! what the peer says. Both travel as CBOR bodies of `/weft/query/1` (docs/protocol.md),
//! so their field order and names are a wire format (known answers in tests/formats.rs).

use crate::deps::{Declared, Ecosystem};
use crate::facts::SymbolKind;
use serde::{Deserialize, Serialize};

/// Upper bound on uses reported per answer (the rest are counted).
pub const MAX_USES: usize = 5000;

/// A package asked about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QueryPackage {
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Name.
    pub name: String,
}

/// A symbol asked about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QuerySymbol {
    /// Bare name.
    pub name: String,
    /// Enclosing type of a method.
    pub owner: Option<String>,
}

/// The usage question.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageQuery {
    /// Packages of the upstream.
    pub packages: Vec<QueryPackage>,
    /// Symbols whose uses are wanted.
    pub symbols: Vec<QuerySymbol>,
    /// Unix times of the upstream's past releases, for co-change evidence.
    pub releases: Vec<i64>,
    /// Days after a release in which a change counts as following it.
    pub window_days: u32,
    /// Breaking changed symbols whose look-alikes in the peer's search index are wanted.
    #[serde(default)]
    pub neighbours: Vec<NeighbourAsk>,
}

/// A changed symbol, as its text is embedded.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NeighbourAsk {
    /// Its qualified name upstream.
    pub symbol: String,
    /// Its text as the index embeds symbols (kind, qualified name, declaration).
    pub text: String,
}

/// A peer symbol semantically close to a changed one: weaker evidence than a use, since
/// nothing says it depends on it (a wrapper, a copy, a reimplementation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Neighbour {
    /// The upstream symbol it resembles.
    pub of: String,
    /// File in the peer.
    pub path: String,
    /// Its qualified name.
    pub qualified: String,
    /// Its kind.
    pub kind: SymbolKind,
    /// Its first line.
    pub line: u32,
    /// Cosine similarity of the two texts.
    pub score: f32,
}

/// A manifest declaring an upstream package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declaration {
    /// Manifest path.
    pub manifest: String,
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// The declaration.
    pub declared: Declared,
}

/// How a use reaches the symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// Named in an import.
    Import,
    /// Called.
    Call,
    /// Named as a type.
    Type,
}

/// One use of an upstream symbol.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Use {
    /// File.
    pub path: String,
    /// Line, 1-based.
    pub line: u32,
    /// The symbol's bare name.
    pub name: String,
    /// Its owner, for a method.
    pub owner: Option<String>,
    /// Import, call or type reference.
    pub via: Via,
    /// The peer's symbol containing the use.
    pub enclosing: Option<String>,
    /// The line, trimmed (at most 200 characters).
    pub text: String,
}

/// A file that changed after past upstream releases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoChange {
    /// File.
    pub path: String,
    /// How many of the releases it changed after (within the window).
    pub releases: u32,
}

/// The answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UsageAnswer {
    /// The peer's HEAD commit, if it has one.
    pub commit: Option<String>,
    /// Source files analysed.
    pub files_scanned: u32,
    /// Declarations of the packages.
    pub declarations: Vec<Declaration>,
    /// Files importing any of the packages.
    pub importers: Vec<String>,
    /// Uses of the symbols, by file and line.
    pub uses: Vec<Use>,
    /// Uses beyond [`MAX_USES`], not listed.
    pub uses_omitted: u32,
    /// Co-changing files, most releases first.
    pub cochange: Vec<CoChange>,
    /// Semantic neighbours of the changed symbols in the peer's search index.
    #[serde(default)]
    pub neighbours: Vec<Neighbour>,
    /// Why neighbours were not looked for, when they were asked for and not.
    #[serde(default)]
    pub neighbours_note: Option<String>,
}
