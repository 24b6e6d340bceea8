//! QUERY: the questions nodes ask each other about their repositories over
//! `/weft/query/1` (usage of an upstream's packages and symbols, semantic search, symbol
//! look-up): their bodies and bounds, answering one from a repository, and asking one
//! through the mesh. A local-path peer is answered by the same functions run on its
//! repository, so both ways give the same answer.

use crate::config::{PeerConfig, WeaveConfig};
use crate::engine::Node;
use crate::engine::{open_graph, view_graph};
use crate::graph::facts::Symbol;
use crate::graph::index::{Hit, LoadedIndex};
use crate::graph::lang::Language;
use crate::graph::store::GraphStoreError;
use crate::graph::usage::{self, Neighbour, NeighbourAsk, UsageAnswer, UsageQuery};
use crate::graph::{scan, GraphError, KnowledgeGraph};
use crate::layout::Layout;
use crate::provenance::{self, IndexProvenance};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use weft_kernel::store::StoreError;
use weft_net::mesh::MeshHandle;
use weft_net::query::{QueryRequest, QueryResponse};
use weft_net::{Multiaddr, PeerId};

/// Usage of an upstream's packages and symbols ([`UsageQuery`] → [`UsageAnswer`]).
pub const USAGE: &str = "usage";
/// Semantic search ([`SearchQuery`] → [`SearchAnswer`]).
pub const SEARCH: &str = "search";
/// Symbol look-up ([`SymbolsQuery`] → [`SymbolsAnswer`]).
pub const SYMBOLS: &str = "symbols";

/// How an answer from a repository without a search index begins.
pub const NO_INDEX: &str = "it has no search index yet";

/// How an answer from a repository whose saved index its chain does not vouch for
/// begins.
pub const UNVOUCHED: &str = "its search index is not the one its chain recorded";

/// How a mesh question that timed out is reported.
pub const NO_ANSWER: &str = "did not answer";

/// Longest search text, in characters.
const MAX_SEARCH_TEXT: usize = 2000;
/// Most results one search answer carries.
pub const MAX_SEARCH_HITS: u16 = 100;
/// Most symbols one symbols answer lists.
pub const MAX_SYMBOLS: u32 = 5000;
/// Longest doc comment carried per symbol, in characters.
const MAX_DOC: usize = 500;
/// Cosine similarity from which a peer symbol counts as a neighbour of a changed one.
pub const NEIGHBOUR_FLOOR: f32 = 0.75;
/// Nearest symbols looked at per changed symbol.
const NEIGHBOURS_PER_SYMBOL: usize = 3;
/// Most changed symbols whose neighbours one question asks for.
pub const MAX_NEIGHBOUR_ASKS: usize = 32;
/// Bounds on a usage question's lists.
const MAX_PACKAGES: usize = 64;
const MAX_QUERY_SYMBOLS: usize = 20_000;
const MAX_RELEASES: usize = 1000;
const MAX_NAME: usize = 256;
/// CBOR nesting accepted in a body.
const MAX_DEPTH: usize = 32;

/// Why a question got no answer. The message is what the asker is told (a refusal
/// travels as its text); the variant is what a caller decides on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The question is over its bounds, does not decode, or is of an unknown kind.
    #[error("{0}")]
    BadQuestion(String),
    /// The repository asked about is not a weft node, or its configuration is broken.
    #[error("{0}")]
    NotANode(String),
    /// The repository has no search index yet; the text says what to do.
    #[error("{NO_INDEX}: {0}")]
    NoIndex(String),
    /// Answering failed (the graph, the model, git).
    #[error("{0}")]
    Failed(String),
    /// The peer did not answer in time.
    #[error("{NO_ANSWER} within {0} s")]
    Timeout(u64),
    /// The repository's saved search index is not the one its chain recorded.
    #[error("{UNVOUCHED}: {0}")]
    Unvouched(String),
    /// The peer refused the question; its reason.
    #[error("refused: {0}")]
    Refused(String),
    /// The mesh could not deliver the question or its answer.
    #[error("{0}")]
    Unreachable(String),
    /// The peer's id is not known yet, so it cannot be asked over the mesh.
    #[error("its peer id is not known yet: give `peer_id` in [coordination] peers, or wait until its node has been reached")]
    UnknownPeer,
    /// A peer without a local path, and no daemon here to ask it over the mesh.
    #[error("{NO_DAEMON}")]
    NoDaemon,
}

impl QueryError {
    /// Whether the peer has no search index (said here or in its refusal).
    pub fn is_no_index(&self) -> bool {
        match self {
            QueryError::NoIndex(_) => true,
            QueryError::Refused(reason) => reason.starts_with(NO_INDEX),
            _ => false,
        }
    }

    /// Whether the peer's saved index is not vouched for by its chain (said here or in
    /// its refusal).
    pub fn is_unvouched(&self) -> bool {
        match self {
            QueryError::Unvouched(_) => true,
            QueryError::Refused(reason) => reason.starts_with(UNVOUCHED),
            _ => false,
        }
    }

    fn failed(e: impl std::fmt::Display) -> QueryError {
        QueryError::Failed(e.to_string())
    }
}

/// A semantic search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchQuery {
    /// What to look for, in words.
    pub text: String,
    /// Results wanted (at most [`MAX_SEARCH_HITS`]).
    pub k: u16,
}

/// Its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchAnswer {
    /// Whether the index was brought up to date with the working tree for this answer
    /// (else it is searched as last saved).
    pub fresh: bool,
    /// The nearest symbols, best first.
    pub hits: Vec<Hit>,
    /// The `graph.index` event of the answering node's chain that recorded the index
    /// searched: checked against that chain when the node answers itself, claimed by
    /// the cache when another node read its repository. Absent from older nodes.
    #[serde(default)]
    pub index: Option<IndexProvenance>,
}

/// A symbol look-up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolsQuery {
    /// Only files at or under this repository-relative path.
    pub path: Option<String>,
    /// Only symbols whose qualified name contains this (case-insensitive).
    pub name: Option<String>,
    /// Most symbols listed (at most [`MAX_SYMBOLS`]).
    pub limit: u32,
}

/// One symbol found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolEntry {
    /// File.
    pub path: String,
    /// Language.
    pub language: Language,
    /// The symbol (its doc cut to 500 characters).
    pub symbol: Symbol,
}

/// The answer to a [`SymbolsQuery`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolsAnswer {
    /// Source files analysed.
    pub files_scanned: u32,
    /// Matching symbols by file and line.
    pub symbols: Vec<SymbolEntry>,
    /// Matching symbols beyond the limit, not listed.
    pub omitted: u32,
}

/// A question's bounds, checked before it is answered.
trait Bounded {
    fn check(&self) -> Result<(), QueryError>;
}

fn at_most(what: &str, n: usize, limit: usize) -> Result<(), QueryError> {
    if n > limit {
        return Err(QueryError::BadQuestion(format!(
            "{what}: {n} given, at most {limit} accepted"
        )));
    }
    Ok(())
}

impl Bounded for UsageQuery {
    fn check(&self) -> Result<(), QueryError> {
        at_most("packages", self.packages.len(), MAX_PACKAGES)?;
        at_most("symbols", self.symbols.len(), MAX_QUERY_SYMBOLS)?;
        at_most("releases", self.releases.len(), MAX_RELEASES)?;
        at_most("neighbours", self.neighbours.len(), MAX_NEIGHBOUR_ASKS)?;
        let longest_text = self.neighbours.iter().map(|n| n.text.len()).max();
        at_most("neighbour text", longest_text.unwrap_or(0), MAX_SEARCH_TEXT)?;
        let longest = self
            .packages
            .iter()
            .map(|p| p.name.len())
            .chain(self.symbols.iter().map(|s| s.name.len()))
            .max()
            .unwrap_or(0);
        at_most("name length", longest, MAX_NAME)?;
        at_most("window_days", self.window_days as usize, 3650)
    }
}

impl Bounded for SearchQuery {
    fn check(&self) -> Result<(), QueryError> {
        if self.text.trim().is_empty() {
            return Err(QueryError::BadQuestion("the search text is empty".into()));
        }
        at_most("search text", self.text.chars().count(), MAX_SEARCH_TEXT)?;
        at_most("k", self.k as usize, MAX_SEARCH_HITS as usize)
    }
}

impl Bounded for SymbolsQuery {
    fn check(&self) -> Result<(), QueryError> {
        at_most("limit", self.limit as usize, MAX_SYMBOLS as usize)?;
        at_most(
            "path length",
            self.path.as_deref().map_or(0, str::len),
            1024,
        )?;
        at_most(
            "name length",
            self.name.as_deref().map_or(0, str::len),
            MAX_NAME,
        )
    }
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("CBOR encoding into a Vec cannot fail");
    out
}

fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, QueryError> {
    ciborium::de::from_reader_with_recursion_limit(bytes, MAX_DEPTH)
        .map_err(|e| QueryError::BadQuestion(format!("{what} does not decode: {e}")))
}

/// Whether answering may update the repository's own caches first (its own daemon), or
/// must only read them (another node reading a local-path peer).
#[derive(Debug, Clone, Copy)]
pub enum Access<'a> {
    /// The node's own repository: bring the search index up to date first (and record
    /// a rebuilt one on the node's chain).
    Own(&'a Node),
    /// Another node's: read-only, the index as last saved.
    ReadOnly,
}

fn load_config(root: &Path) -> Result<WeaveConfig, QueryError> {
    if !Layout::new(root).weftos().is_dir() {
        return Err(QueryError::NotANode(format!(
            "{} is not a weft node: run `weft init` there",
            root.display()
        )));
    }
    WeaveConfig::load(root).map_err(|e| QueryError::NotANode(e.to_string()))
}

/// Answers a usage question on the repository at `root`, reading its graph cache
/// read-only.
pub fn usage_at(root: &Path, query: &UsageQuery) -> Result<UsageAnswer, QueryError> {
    query.check()?;
    let config = load_config(root)?;
    let graph = view_graph(&Layout::new(root), &config);
    let mut answer = usage::answer(root, graph.store(), &graph.scan_options(), query)
        .map_err(QueryError::failed)?;
    if !query.neighbours.is_empty() {
        match neighbours(&graph, &query.neighbours) {
            Ok(found) => answer.neighbours = found,
            Err(note) => answer.neighbours_note = Some(note.to_string()),
        }
    }
    Ok(answer)
}

/// The peer's indexed symbols within [`NEIGHBOUR_FLOOR`] of each asked text, from the
/// index as last saved (read-only on both paths, so a local read and the peer's daemon
/// answer alike).
fn neighbours(
    graph: &KnowledgeGraph,
    asked: &[NeighbourAsk],
) -> Result<Vec<Neighbour>, QueryError> {
    if crate::graph::index::indexed_count(graph.store()).unwrap_or(0) == 0 {
        return Err(QueryError::NoIndex(
            "semantic neighbours not looked for".into(),
        ));
    }
    let mut embedder = graph.embedder().map_err(QueryError::failed)?;
    let texts: Vec<&str> = asked.iter().map(|a| a.text.as_str()).collect();
    let vectors = embedder.embed(&texts).map_err(QueryError::failed)?;
    let loaded = graph
        .index()
        .open(graph.store())
        .map_err(QueryError::failed)?;
    let mut found = Vec::new();
    for (ask, vector) in asked.iter().zip(&vectors) {
        let hits = loaded
            .search(vector, NEIGHBOURS_PER_SYMBOL, false)
            .map_err(QueryError::failed)?;
        found.extend(
            hits.into_iter()
                .filter(|h| h.score >= NEIGHBOUR_FLOOR)
                .map(|h| Neighbour {
                    of: ask.symbol.clone(),
                    path: h.entry.path,
                    qualified: h.entry.qualified,
                    kind: h.entry.kind,
                    line: h.entry.line,
                    score: h.score,
                }),
        );
    }
    Ok(found)
}

/// Answers a search on the repository at `root`.
pub fn search_at(
    root: &Path,
    query: &SearchQuery,
    access: Access,
) -> Result<SearchAnswer, QueryError> {
    query.check()?;
    let config = load_config(root)?;
    let layout = Layout::new(root);
    let k = query.k as usize;
    // The own index is refreshed under the graph's lock; when another command holds it,
    // the saved index answers rather than nothing. Any other failure to open is reported:
    // a graph that cannot be opened is not one without an index.
    let mut own_chain = None;
    if let Access::Own(node) = access {
        match open_graph(&layout, &config) {
            Ok(graph) => {
                let mut embedder = graph.embedder().map_err(QueryError::failed)?;
                let scanned = graph.scan(&|_, _| {}).map_err(QueryError::failed)?;
                let (_, loaded, provenance) =
                    provenance::sync_recorded(node, &graph, &scanned, &mut embedder, &|_, _| {})
                        .map_err(QueryError::failed)?;
                let hits = provenance::search(&mut embedder, &loaded, &query.text, k)
                    .map_err(QueryError::failed)?;
                return Ok(SearchAnswer {
                    fresh: true,
                    hits,
                    index: Some(provenance),
                });
            }
            Err(GraphError::Store(GraphStoreError::Store(StoreError::Locked { .. }))) => {}
            Err(e) => return Err(QueryError::failed(e)),
        }
        own_chain = Some(node.chain());
    }
    let graph = view_graph(&layout, &config);
    if crate::graph::index::indexed_count(graph.store()).unwrap_or(0) == 0 {
        return Err(QueryError::NoIndex(
            "run `weft search` there (or start its daemon, which builds it when asked)".into(),
        ));
    }
    // Another node's repository: its chain is read as a view, beside its daemon.
    let viewed;
    let chain = match own_chain {
        Some(chain) => chain,
        None => {
            viewed = crate::replicas::view_chain(&layout.chain()).map_err(QueryError::failed)?;
            &viewed
        }
    };
    let (loaded, index) = open_saved(&graph, chain)?;
    let mut embedder = graph.embedder().map_err(QueryError::failed)?;
    let hits =
        provenance::search(&mut embedder, &loaded, &query.text, k).map_err(QueryError::failed)?;
    Ok(SearchAnswer {
        fresh: false,
        hits,
        index: Some(index),
    })
}

/// The saved index of `graph`, checked against the event of `chain` that recorded it:
/// refused when none vouches for it.
fn open_saved(
    graph: &KnowledgeGraph,
    chain: &weft_kernel::Chain,
) -> Result<(LoadedIndex, IndexProvenance), QueryError> {
    let loaded = graph
        .index()
        .open(graph.store())
        .map_err(QueryError::failed)?;
    let index = provenance::check(chain, graph, loaded.digest())
        .map_err(QueryError::failed)?
        .map_err(|why| {
            QueryError::Unvouched(format!(
                "{why}; run `weft search` there to rebuild and record it"
            ))
        })?;
    Ok((loaded, index))
}

/// Answers a symbol look-up on the repository at `root`, reading its graph cache
/// read-only.
pub fn symbols_at(root: &Path, query: &SymbolsQuery) -> Result<SymbolsAnswer, QueryError> {
    query.check()?;
    let config = load_config(root)?;
    let graph = view_graph(&Layout::new(root), &config);
    let scanned = graph.scan(&|_, _| {}).map_err(QueryError::failed)?;
    let prefix = query.path.as_deref().unwrap_or("").trim_matches('/');
    let needle = query.name.as_deref().map(str::to_lowercase);
    let mut answer = SymbolsAnswer {
        files_scanned: u32::try_from(scanned.files.len()).unwrap_or(u32::MAX),
        ..SymbolsAnswer::default()
    };
    for file in scanned
        .files
        .iter()
        .filter(|f| scan::is_under(&f.path, prefix))
    {
        for symbol in &file.facts.symbols {
            if needle
                .as_deref()
                .is_some_and(|n| !symbol.qualified.to_lowercase().contains(n))
            {
                continue;
            }
            if answer.symbols.len() >= query.limit as usize {
                answer.omitted += 1;
                continue;
            }
            let mut symbol = symbol.clone();
            if let Some((cut, _)) = symbol.doc.char_indices().nth(MAX_DOC) {
                symbol.doc.truncate(cut);
            }
            answer.symbols.push(SymbolEntry {
                path: file.path.clone(),
                language: file.language,
                symbol,
            });
        }
    }
    Ok(answer)
}

fn answer_body(
    root: &Path,
    kind: &str,
    body: &[u8],
    access: Access,
) -> Result<Vec<u8>, QueryError> {
    match kind {
        USAGE => Ok(encode(&usage_at(root, &decode("usage question", body)?)?)),
        SEARCH => Ok(encode(&search_at(
            root,
            &decode("search question", body)?,
            access,
        )?)),
        SYMBOLS => Ok(encode(&symbols_at(
            root,
            &decode("symbols question", body)?,
        )?)),
        other => Err(QueryError::BadQuestion(format!(
            "unknown query kind `{other}` (this node answers {USAGE}, {SEARCH}, {SYMBOLS})"
        ))),
    }
}

/// Answers a query on the repository at `root`.
pub fn answer(root: &Path, request: &QueryRequest, access: Access) -> QueryResponse {
    match answer_body(root, &request.kind, &request.body, access) {
        Ok(body) => QueryResponse::Answer { body },
        Err(e) => QueryResponse::Refused {
            reason: e.to_string(),
        },
    }
}

/// Asks a peer without a local path over the mesh.
pub trait PeerAsker {
    /// Answers `query` for `peer`, or says why it could not.
    fn ask(&self, peer: &PeerConfig, query: &UsageQuery) -> Result<UsageAnswer, QueryError>;
}

/// Why a peer without a local path cannot be asked outside a daemon.
pub const NO_DAEMON: &str = "it has no local path, and no daemon runs here to ask it over the mesh: start one with `weft node start`";

/// The asker outside a daemon: there is no mesh to ask through.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoMesh;

impl PeerAsker for NoMesh {
    fn ask(&self, _peer: &PeerConfig, _query: &UsageQuery) -> Result<UsageAnswer, QueryError> {
        Err(QueryError::NoDaemon)
    }
}

/// Where a peer is reached on the mesh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Its peer id.
    pub peer: PeerId,
    /// Where to dial it when it is not connected.
    pub addr: Option<Multiaddr>,
    /// Whether its latest advert says it holds a search index (none seen yet: unknown).
    pub indexed: Option<bool>,
    /// The search latency its latest advert's calibration gives, µs (none: unknown).
    pub search_us: Option<u64>,
}

/// Asks peers over the mesh: the daemon's handle, the runtime the mesh runs on, and
/// where each peer is reached.
#[derive(Debug, Clone)]
pub struct MeshAsker {
    /// The mesh.
    pub mesh: MeshHandle,
    /// Its runtime (questions are asked from the command's own thread).
    pub runtime: tokio::runtime::Handle,
    /// Peers by name.
    pub routes: BTreeMap<String, Route>,
    /// How long one answer is waited for.
    pub timeout: Duration,
}

impl MeshAsker {
    /// Asks the peer called `name` a question of `kind` and decodes its answer.
    pub fn ask<Q: Serialize, A: DeserializeOwned>(
        &self,
        name: &str,
        kind: &str,
        question: &Q,
    ) -> Result<A, QueryError> {
        let route = self.routes.get(name).ok_or(QueryError::UnknownPeer)?;
        let request = QueryRequest {
            kind: kind.into(),
            body: encode(question),
        };
        let asked = self.mesh.query(route.peer, route.addr.clone(), request);
        let response = self
            .runtime
            .block_on(async { tokio::time::timeout(self.timeout, asked).await })
            .map_err(|_| QueryError::Timeout(self.timeout.as_secs()))?
            .map_err(|e| QueryError::Unreachable(e.to_string()))?;
        match response {
            QueryResponse::Answer { body } => {
                decode("the answer", &body).map_err(|e| QueryError::Unreachable(e.to_string()))
            }
            QueryResponse::Refused { reason } => Err(QueryError::Refused(reason)),
        }
    }
}

/// How cheaply a peer of a fan-out is asked, cheapest first: read from a local path (no
/// network, no advert needed), then over the mesh by the search latency its advert's
/// calibration gives, then over the mesh with no calibration known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reach {
    /// Read directly from its repository.
    Local,
    /// Asked over the mesh; its advertised search latency, µs.
    Calibrated(u64),
    /// Asked over the mesh; no calibration known.
    Uncalibrated,
}

impl Reach {
    /// The reach of a peer read from a local path (`local`), else by its mesh route.
    pub fn of(local: bool, route: Option<&Route>) -> Reach {
        match (local, route.and_then(|r| r.search_us)) {
            (true, _) => Reach::Local,
            (false, Some(us)) => Reach::Calibrated(us),
            (false, None) => Reach::Uncalibrated,
        }
    }
}

/// Cuts a fan-out to at most `max` peers: `peers` (name, reach, item) ordered by reach,
/// ties by name (so the cut is the same every time), the first `max` asked and the rest
/// left out. Returns (asked, left out), each in that order.
pub fn fan_out<T>(mut peers: Vec<(String, Reach, T)>, max: usize) -> (Vec<T>, Vec<T>) {
    peers.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    let left_out = peers.split_off(max.min(peers.len()));
    let items = |list: Vec<(String, Reach, T)>| list.into_iter().map(|(_, _, t)| t).collect();
    (items(peers), items(left_out))
}

impl PeerAsker for MeshAsker {
    fn ask(&self, peer: &PeerConfig, query: &UsageQuery) -> Result<UsageAnswer, QueryError> {
        MeshAsker::ask(self, &peer.name, USAGE, query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::usage::QuerySymbol;

    #[test]
    fn a_cut_fan_out_asks_local_peers_then_the_fastest_calibrated_ones() {
        let peers = || {
            vec![
                ("slow".to_string(), Reach::Calibrated(90_000), "slow"),
                ("unknown-b".to_string(), Reach::Uncalibrated, "unknown-b"),
                ("disk".to_string(), Reach::Local, "disk"),
                ("fast".to_string(), Reach::Calibrated(3_000), "fast"),
                ("unknown-a".to_string(), Reach::Uncalibrated, "unknown-a"),
                ("fast-too".to_string(), Reach::Calibrated(3_000), "fast-too"),
            ]
        };
        let (asked, left) = fan_out(peers(), 3);
        assert_eq!(asked, ["disk", "fast", "fast-too"]);
        assert_eq!(left, ["slow", "unknown-a", "unknown-b"]);
        // The same peers in another order are cut the same way.
        let mut reversed = peers();
        reversed.reverse();
        assert_eq!(fan_out(reversed, 3), (asked, left));
        let (all, none) = fan_out(peers(), 16);
        assert_eq!(all.len(), 6);
        assert!(none.is_empty());
        let (nobody, everyone) = fan_out(peers(), 0);
        assert!(nobody.is_empty());
        assert_eq!(everyone.len(), 6);
    }

    #[test]
    fn a_peer_s_reach_comes_from_its_path_or_its_advert() {
        let route = |search_us| Route {
            peer: PeerId::random(),
            addr: None,
            indexed: Some(true),
            search_us,
        };
        assert_eq!(Reach::of(true, Some(&route(Some(5)))), Reach::Local);
        assert_eq!(
            Reach::of(false, Some(&route(Some(5)))),
            Reach::Calibrated(5)
        );
        assert_eq!(Reach::of(false, Some(&route(None))), Reach::Uncalibrated);
        assert_eq!(Reach::of(false, None), Reach::Uncalibrated);
    }

    #[test]
    fn questions_over_their_bounds_are_refused_before_any_work() {
        let many = UsageQuery {
            symbols: vec![
                QuerySymbol {
                    name: "f".into(),
                    owner: None
                };
                MAX_QUERY_SYMBOLS + 1
            ],
            ..UsageQuery::default()
        };
        assert!(many
            .check()
            .expect_err("too many")
            .to_string()
            .contains("symbols"));
        let long = SearchQuery {
            text: "x".repeat(MAX_SEARCH_TEXT + 1),
            k: 5,
        };
        assert!(long.check().is_err());
        let empty = SearchQuery {
            text: "  ".into(),
            k: 5,
        };
        assert!(empty.check().is_err());
        let greedy = SymbolsQuery {
            limit: MAX_SYMBOLS + 1,
            ..SymbolsQuery::default()
        };
        assert!(greedy.check().is_err());
    }

    #[test]
    fn unknown_kinds_and_garbage_bodies_are_refused_with_a_reason() {
        let dir = tempfile::tempdir().expect("tmp");
        let refused = |kind: &str, body: &[u8]| match answer(
            dir.path(),
            &QueryRequest {
                kind: kind.into(),
                body: body.to_vec(),
            },
            Access::ReadOnly,
        ) {
            QueryResponse::Refused { reason } => reason,
            other => panic!("answered: {other:?}"),
        };
        assert!(refused("telemetry", b"").contains("unknown query kind"));
        assert!(refused(USAGE, &[0xff, 0x00]).contains("does not decode"));
        // 40 nested arrays: over the depth limit, refused without recursing further.
        let nested = [vec![0x81u8; 40], vec![0x00]].concat();
        assert!(refused(SEARCH, &nested).contains("does not decode"));
        // A well-formed question on a directory that is not a node.
        let question = encode(&SymbolsQuery {
            limit: 10,
            ..SymbolsQuery::default()
        });
        assert!(refused(SYMBOLS, &question).contains("not a weft node"));
    }

    #[test]
    fn own_search_falls_back_to_the_saved_index_only_when_the_graph_is_locked() {
        let dir = tempfile::tempdir().expect("tmp");
        git2::Repository::init(dir.path()).expect("git init");
        crate::init::init(dir.path()).expect("weft init");
        let layout = Layout::new(dir.path());
        let config = WeaveConfig::load(dir.path()).expect("config");
        let question = SearchQuery {
            text: "parse".into(),
            k: 3,
        };
        // Another command holds the graph: the saved index answers (here: there is none).
        let held = open_graph(&layout, &config).expect("open graph");
        let node = Node::open(dir.path(), crate::engine::OpenMode::Checked).expect("open node");
        let locked = search_at(dir.path(), &question, Access::Own(&node)).expect_err("no index");
        assert!(locked.to_string().starts_with(NO_INDEX), "{locked}");
        drop(held);
        // A graph that cannot be opened at all is reported as such, not as no index.
        let graph_dir = layout.graph();
        if graph_dir.exists() {
            std::fs::remove_dir_all(&graph_dir).expect("remove graph");
        }
        std::fs::write(&graph_dir, b"not a directory").expect("plant a file");
        let broken = search_at(dir.path(), &question, Access::Own(&node)).expect_err("cannot open");
        assert!(!broken.to_string().starts_with(NO_INDEX), "{broken}");
    }
}
