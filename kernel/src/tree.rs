//! The resource tree: a namespaced tree with a Merkle root, every change a chain event.
//!
//! A node's hash is SHAKE-256 in domain `weft/tree/node/v1` over the canonical CBOR
//! `[path, kind, {metadata}, [[child name, child hash]...]]` (metadata and children
//! sorted), so equal roots mean equal trees. A change rewrites the node and each
//! ancestor's entry for it: cost grows with depth × fan-out, never with tree size.
//!
//! Mutations plan their writes against a [`NodeSource`] (RocksDB for the live tree, a
//! map for replay), so the live tree and `weft tree verify`'s replay share one code path.

use crate::cbor::{self, read};
use crate::chain::{Chain, ChainError, StoredEvent};
use crate::event::{EventDraft, EventError};
use crate::hash::{domain_hash, domains, Hash};
use crate::store::{cf, Store, StoreError};
use ciborium::value::Value;
use rocksdb::{Direction, IteratorMode, WriteBatch};
use std::collections::BTreeMap;

/// Namespaces created at bootstrap.
pub const BOOTSTRAP: [&str; 9] = [
    "/kernel",
    "/kernel/services",
    "/kernel/agents",
    "/kernel/cron",
    "/apps",
    "/network",
    "/network/peers",
    "/environments",
    "/releases",
];
/// Deepest accepted path.
pub const MAX_DEPTH: usize = 32;
/// Longest accepted path.
pub const MAX_PATH_LEN: usize = 512;

/// Tree errors.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    /// Bad path syntax.
    #[error("path `{0}` is invalid: use /-separated names of letters, digits, `.`, `_`, `-`, `@`, `+` (no empty, `.` or `..` parts, at most {MAX_DEPTH} deep)")]
    Path(String),
    /// Bad kind.
    #[error("kind `{0}` is invalid: use a lower-case word such as namespace, service, agent, peer, environment, release")]
    Kind(String),
    /// Bad metadata key.
    #[error("metadata key `{0}` is invalid: use 1-64 of letters, digits, `.`, `_`, `-`")]
    MetaKey(String),
    /// No such node.
    #[error("no node at {0}")]
    NotFound(String),
    /// Parent missing.
    #[error("parent {parent} of {path} does not exist: create it first")]
    NoParent {
        /// The path.
        path: String,
        /// Its parent.
        parent: String,
    },
    /// Node has children and no recursive flag.
    #[error("{0} has children: remove them first or remove recursively")]
    HasChildren(String),
    /// The root can't be removed.
    #[error("the root cannot be removed")]
    RemoveRoot,
    /// Stored node unreadable.
    #[error("stored tree node {path} is damaged: {detail}; run `weft tree verify`")]
    Damaged {
        /// Path.
        path: String,
        /// What.
        detail: String,
    },
    /// A tree event on the chain cannot be replayed.
    #[error("tree event {seq}: {detail}")]
    BadEvent {
        /// Sequence.
        seq: u64,
        /// What.
        detail: String,
    },
    /// Store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Chain failure.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// Event failure.
    #[error(transparent)]
    Event(#[from] EventError),
}

/// One stored node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Full path.
    pub path: String,
    /// Kind.
    pub kind: String,
    /// Metadata.
    pub meta: BTreeMap<String, String>,
    /// Child name → child hash.
    pub children: BTreeMap<String, Hash>,
    /// This node's hash.
    pub hash: Hash,
    /// Sequence of the chain event that last changed this node.
    pub seq: u64,
}

impl Node {
    fn new(path: &str, kind: &str, meta: BTreeMap<String, String>, seq: u64) -> Node {
        let mut n = Node {
            path: path.to_string(),
            kind: kind.to_string(),
            meta,
            children: BTreeMap::new(),
            hash: Hash::ZERO,
            seq,
        };
        n.rehash();
        n
    }

    fn rehash(&mut self) {
        self.hash = node_hash(&self.path, &self.kind, &self.meta, &self.children);
    }

    fn encode(&self) -> Vec<u8> {
        cbor::encode(&cbor::map([
            ("kind", Value::Text(self.kind.clone())),
            ("meta", meta_value(&self.meta)),
            (
                "children",
                Value::Map(
                    self.children
                        .iter()
                        .map(|(k, h)| (Value::Text(k.clone()), Value::Bytes(h.0.to_vec())))
                        .collect(),
                ),
            ),
            ("hash", Value::Bytes(self.hash.0.to_vec())),
            ("seq", Value::Integer(self.seq.into())),
        ]))
    }

    fn decode(path: &str, bytes: &[u8]) -> Result<Node, TreeError> {
        let damaged = |detail: &str| TreeError::Damaged {
            path: path.to_string(),
            detail: detail.to_string(),
        };
        let v = cbor::decode(bytes).map_err(|e| damaged(&e.to_string()))?;
        let kind = read::text(&v, "kind")
            .ok_or_else(|| damaged("no kind"))?
            .to_string();
        let meta = text_map(read::field(&v, "meta")).ok_or_else(|| damaged("bad metadata"))?;
        let mut children = BTreeMap::new();
        if let Some(Value::Map(entries)) = read::field(&v, "children") {
            for (k, h) in entries {
                let name = k.as_text().ok_or_else(|| damaged("bad child name"))?;
                let hash = h
                    .as_bytes()
                    .and_then(|b| Hash::from_slice(b))
                    .ok_or_else(|| damaged("bad child hash"))?;
                children.insert(name.to_string(), hash);
            }
        }
        let hash = read::bytes(&v, "hash")
            .and_then(Hash::from_slice)
            .ok_or_else(|| damaged("no hash"))?;
        let seq = read::uint(&v, "seq").ok_or_else(|| damaged("no seq"))?;
        Ok(Node {
            path: path.to_string(),
            kind,
            meta,
            children,
            hash,
            seq,
        })
    }

    /// JSON view.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "path": self.path,
            "kind": self.kind,
            "meta": self.meta,
            "children": self.children.keys().collect::<Vec<_>>(),
            "hash": self.hash.to_hex(),
            "seq": self.seq,
        })
    }
}

fn meta_value(meta: &BTreeMap<String, String>) -> Value {
    Value::Map(
        meta.iter()
            .map(|(k, v)| (Value::Text(k.clone()), Value::Text(v.clone())))
            .collect(),
    )
}

fn text_map(v: Option<&Value>) -> Option<BTreeMap<String, String>> {
    match v {
        None => Some(BTreeMap::new()),
        Some(Value::Map(entries)) => entries
            .iter()
            .map(|(k, v)| Some((k.as_text()?.to_string(), v.as_text()?.to_string())))
            .collect(),
        _ => None,
    }
}

/// The hash of a node from its parts.
pub fn node_hash(
    path: &str,
    kind: &str,
    meta: &BTreeMap<String, String>,
    children: &BTreeMap<String, Hash>,
) -> Hash {
    let value = Value::Array(vec![
        Value::Text(path.to_string()),
        Value::Text(kind.to_string()),
        meta_value(meta),
        Value::Array(
            children
                .iter()
                .map(|(k, h)| {
                    Value::Array(vec![Value::Text(k.clone()), Value::Bytes(h.0.to_vec())])
                })
                .collect(),
        ),
    ]);
    let bytes = cbor::encode_canonical(value).expect("tree nodes hold only text and bytes");
    domain_hash(domains::TREE_NODE, &[&bytes])
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@+".contains(c))
}

/// Checks a path and returns it normalised (no trailing slash).
pub fn validate_path(path: &str) -> Result<String, TreeError> {
    let bad = || TreeError::Path(path.to_string());
    if path == "/" {
        return Ok("/".into());
    }
    let trimmed = path.strip_suffix('/').unwrap_or(path);
    let rest = trimmed.strip_prefix('/').ok_or_else(bad)?;
    let parts: Vec<&str> = rest.split('/').collect();
    if parts.len() > MAX_DEPTH
        || trimmed.len() > MAX_PATH_LEN
        || !parts.iter().all(|p| valid_name(p))
    {
        return Err(bad());
    }
    Ok(trimmed.to_string())
}

/// Checks a kind.
pub fn validate_kind(kind: &str) -> Result<(), TreeError> {
    let mut chars = kind.chars();
    let ok = kind.len() <= 32
        && matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(TreeError::Kind(kind.to_string()))
    }
}

/// Checks metadata keys.
pub fn validate_meta(meta: &BTreeMap<String, String>) -> Result<(), TreeError> {
    for key in meta.keys() {
        if key.is_empty()
            || key.len() > 64
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return Err(TreeError::MetaKey(key.clone()));
        }
    }
    Ok(())
}

fn split(path: &str) -> Option<(String, String)> {
    if path == "/" {
        return None;
    }
    let cut = path.rfind('/').expect("validated paths start with /");
    let parent = if cut == 0 {
        "/".to_string()
    } else {
        path[..cut].to_string()
    };
    Some((parent, path[cut + 1..].to_string()))
}

fn child_prefix(path: &str) -> String {
    if path == "/" {
        "/".into()
    } else {
        format!("{path}/")
    }
}

/// Where a mutation reads current nodes from.
pub trait NodeSource {
    /// One node.
    fn node(&self, path: &str) -> Result<Option<Node>, TreeError>;
    /// Every descendant path of `path` (not `path` itself).
    fn descendants(&self, path: &str) -> Result<Vec<String>, TreeError>;
}

/// A planned mutation: nodes to write (None = delete), and the root after it.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Writes, the changed node first, then its ancestors up to the root.
    pub writes: Vec<(String, Option<Node>)>,
    /// Root hash after the mutation.
    pub root: Hash,
}

fn propagate(
    src: &dyn NodeSource,
    mut writes: Vec<(String, Option<Node>)>,
    start: &str,
    hash: Option<Hash>,
) -> Result<Plan, TreeError> {
    let (mut path, mut child_hash) = (start.to_string(), hash);
    let mut root = hash.unwrap_or(Hash::ZERO);
    while let Some((parent_path, name)) = split(&path) {
        let mut parent = src.node(&parent_path)?.ok_or_else(|| TreeError::NoParent {
            path: path.clone(),
            parent: parent_path.clone(),
        })?;
        match child_hash {
            Some(h) => parent.children.insert(name, h),
            None => parent.children.remove(&name),
        };
        parent.rehash();
        root = parent.hash;
        child_hash = Some(parent.hash);
        writes.push((parent_path.clone(), Some(parent)));
        path = parent_path;
    }
    Ok(Plan { writes, root })
}

/// Plans `set`: create the node or replace its kind and metadata (children stay).
pub fn plan_set(
    src: &dyn NodeSource,
    path: &str,
    kind: &str,
    meta: BTreeMap<String, String>,
    seq: u64,
) -> Result<Plan, TreeError> {
    let node = match src.node(path)? {
        Some(mut existing) => {
            existing.kind = kind.to_string();
            existing.meta = meta;
            existing.seq = seq;
            existing.rehash();
            existing
        }
        None => {
            if let Some((parent, _)) = split(path) {
                if src.node(&parent)?.is_none() {
                    return Err(TreeError::NoParent {
                        path: path.to_string(),
                        parent,
                    });
                }
            }
            Node::new(path, kind, meta, seq)
        }
    };
    let hash = node.hash;
    propagate(src, vec![(path.to_string(), Some(node))], path, Some(hash))
}

/// Plans `remove`.
pub fn plan_remove(src: &dyn NodeSource, path: &str, recursive: bool) -> Result<Plan, TreeError> {
    if path == "/" {
        return Err(TreeError::RemoveRoot);
    }
    let node = src
        .node(path)?
        .ok_or_else(|| TreeError::NotFound(path.to_string()))?;
    if !node.children.is_empty() && !recursive {
        return Err(TreeError::HasChildren(path.to_string()));
    }
    let mut writes = vec![(path.to_string(), None)];
    for d in src.descendants(path)? {
        writes.push((d, None));
    }
    propagate(src, writes, path, None)
}

/// The live tree in RocksDB.
pub struct Tree<'a> {
    chain: &'a Chain,
}

struct StoredNodes<'a>(&'a Store);

/// A stored node record read at `path`, decoded.
fn decode_stored(path: &str, record: Option<Vec<u8>>) -> Result<Option<Node>, TreeError> {
    record.map(|bytes| Node::decode(path, &bytes)).transpose()
}

impl NodeSource for StoredNodes<'_> {
    fn node(&self, path: &str) -> Result<Option<Node>, TreeError> {
        decode_stored(path, self.0.get(cf::TREE, path.as_bytes())?)
    }

    fn descendants(&self, path: &str) -> Result<Vec<String>, TreeError> {
        let prefix = child_prefix(path);
        let mut out = Vec::new();
        let iter = self.0.db().iterator_cf(
            self.0.cf(cf::TREE),
            IteratorMode::From(prefix.as_bytes(), Direction::Forward),
        );
        for item in iter {
            let (k, _) = item.map_err(|e| self.0.rocks(e))?;
            if !k.starts_with(prefix.as_bytes()) {
                break;
            }
            if *k != *path.as_bytes() {
                out.push(String::from_utf8_lossy(&k).into_owned());
            }
        }
        Ok(out)
    }
}

/// Tree events' payloads.
fn set_payload(path: &str, kind: &str, meta: &BTreeMap<String, String>, root: &Hash) -> Value {
    cbor::map([
        ("path", Value::Text(path.to_string())),
        ("kind", Value::Text(kind.to_string())),
        ("meta", meta_value(meta)),
        ("root", Value::Bytes(root.0.to_vec())),
    ])
}

fn remove_payload(path: &str, recursive: bool, root: &Hash) -> Value {
    cbor::map([
        ("path", Value::Text(path.to_string())),
        ("recursive", Value::Bool(recursive)),
        ("root", Value::Bytes(root.0.to_vec())),
    ])
}

impl<'a> Tree<'a> {
    /// The tree of a chain.
    pub fn new(chain: &'a Chain) -> Tree<'a> {
        Tree { chain }
    }

    fn source(&self) -> StoredNodes<'_> {
        StoredNodes(self.chain.store())
    }

    /// Reads a node.
    pub fn get(&self, path: &str) -> Result<Option<Node>, TreeError> {
        let path = validate_path(path)?;
        self.source().node(&path)
    }

    /// The root hash (None before bootstrap).
    pub fn root(&self) -> Result<Option<Node>, TreeError> {
        self.source().node("/")
    }

    /// All nodes under `path` (inclusive), in path order.
    pub fn walk(&self, path: &str) -> Result<Vec<Node>, TreeError> {
        let path = validate_path(path)?;
        let src = self.source();
        let top = src
            .node(&path)?
            .ok_or_else(|| TreeError::NotFound(path.clone()))?;
        let mut out = vec![top];
        for d in src.descendants(&path)? {
            if let Some(n) = src.node(&d)? {
                out.push(n);
            }
        }
        Ok(out)
    }

    fn commit(
        &self,
        plan: Plan,
        changed: Option<String>,
        draft: EventDraft,
    ) -> Result<StoredEvent, TreeError> {
        let attach = Box::new(move |seq: u64, batch: &mut WriteBatch, store: &Store| {
            let family = store.cf(cf::TREE);
            for (path, node) in plan.writes {
                match node {
                    Some(mut node) => {
                        if Some(&path) == changed.as_ref() {
                            node.seq = seq;
                        }
                        batch.put_cf(family, path.as_bytes(), node.encode());
                    }
                    None => batch.delete_cf(family, path.as_bytes()),
                }
            }
        });
        Ok(self.chain.append_with(draft, Some(attach))?)
    }

    /// Creates the root and bootstrap namespaces (once, at init).
    pub fn bootstrap(&self) -> Result<StoredEvent, TreeError> {
        let _guard = self.chain.mutation_guard();
        let mut mem = MemTree::default();
        let plan = mem.apply_bootstrap(0)?;
        let nodes: Vec<Value> = std::iter::once("/")
            .chain(BOOTSTRAP)
            .map(|p| {
                cbor::map([
                    ("path", Value::Text(p.into())),
                    ("kind", Value::Text("namespace".into())),
                ])
            })
            .collect();
        let payload = cbor::map([
            ("nodes", Value::Array(nodes)),
            ("root", Value::Bytes(plan.root.0.to_vec())),
        ]);
        let draft = EventDraft::new("tree", "tree.bootstrap", payload)?;
        let attach = Box::new(move |seq: u64, batch: &mut WriteBatch, store: &Store| {
            for node in mem.nodes.values_mut() {
                node.seq = seq;
                batch.put_cf(store.cf(cf::TREE), node.path.as_bytes(), node.encode());
            }
        });
        Ok(self.chain.append_with(draft, Some(attach))?)
    }

    /// Plans a `set` without committing it: what would be written and the root after it
    /// (a dry run; also what the benchmarks time, apart from the append).
    pub fn plan_set(
        &self,
        path: &str,
        kind: &str,
        meta: BTreeMap<String, String>,
    ) -> Result<Plan, TreeError> {
        let path = validate_path(path)?;
        plan_set(&self.source(), &path, kind, meta, 0)
    }

    /// Creates or updates a node.
    pub fn set(
        &self,
        path: &str,
        kind: &str,
        meta: BTreeMap<String, String>,
    ) -> Result<StoredEvent, TreeError> {
        let path = validate_path(path)?;
        validate_kind(kind)?;
        validate_meta(&meta)?;
        let _guard = self.chain.mutation_guard();
        let plan = plan_set(&self.source(), &path, kind, meta.clone(), 0)?;
        let draft = EventDraft::new(
            "tree",
            "tree.set",
            set_payload(&path, kind, &meta, &plan.root),
        )?;
        self.commit(plan, Some(path), draft)
    }

    /// Removes a node (and, if `recursive`, everything below it).
    pub fn remove(&self, path: &str, recursive: bool) -> Result<StoredEvent, TreeError> {
        let path = validate_path(path)?;
        let _guard = self.chain.mutation_guard();
        let plan = plan_remove(&self.source(), &path, recursive)?;
        let payload = remove_payload(&path, recursive, &plan.root);
        let draft = EventDraft::new("tree", "tree.remove", payload)?;
        self.commit(plan, None, draft)
    }

    /// Replaces the stored tree with one rebuilt from the chain (after import or repair).
    pub fn rebuild(&self) -> Result<Hash, TreeError> {
        let _guard = self.chain.mutation_guard();
        let replay = replay(self.chain)?;
        let store = self.chain.store();
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(store.cf(cf::TREE), b"".as_slice(), [0xffu8; 4].as_slice());
        for node in replay.tree.nodes.values() {
            batch.put_cf(store.cf(cf::TREE), node.path.as_bytes(), node.encode());
        }
        store.write_synced(batch)?;
        Ok(replay.tree.root())
    }
}

/// The tree as a transaction has staged it.
struct StagedNodes<'t, 'c>(&'t crate::txn::Txn<'c>);

impl NodeSource for StagedNodes<'_, '_> {
    fn node(&self, path: &str) -> Result<Option<Node>, TreeError> {
        decode_stored(path, self.0.get(cf::TREE, path.as_bytes())?)
    }

    fn descendants(&self, path: &str) -> Result<Vec<String>, TreeError> {
        let prefix = child_prefix(path);
        Ok(self
            .0
            .scan(cf::TREE, prefix.as_bytes())?
            .into_iter()
            .filter(|(k, _)| *k != path.as_bytes())
            .map(|(k, _)| String::from_utf8_lossy(&k).into_owned())
            .collect())
    }
}

fn stage_plan(txn: &mut crate::txn::Txn<'_>, plan: Plan) {
    for (path, node) in plan.writes {
        match node {
            Some(node) => txn.put(cf::TREE, path.as_bytes(), node.encode()),
            None => txn.delete(cf::TREE, path.as_bytes()),
        }
    }
}

/// [`Tree::set`] inside a transaction: planned against what it has staged, so that the
/// cluster's state machine re-plans every change from applied state.
pub fn set_in(
    txn: &mut crate::txn::Txn<'_>,
    path: &str,
    kind: &str,
    meta: BTreeMap<String, String>,
) -> Result<StoredEvent, TreeError> {
    let path = validate_path(path)?;
    validate_kind(kind)?;
    validate_meta(&meta)?;
    let plan = plan_set(&StagedNodes(txn), &path, kind, meta.clone(), txn.len())?;
    let payload = set_payload(&path, kind, &meta, &plan.root);
    let stored = txn.append(EventDraft::new("tree", "tree.set", payload)?)?;
    stage_plan(txn, plan);
    Ok(stored)
}

/// [`Tree::remove`] inside a transaction.
pub fn remove_in(
    txn: &mut crate::txn::Txn<'_>,
    path: &str,
    recursive: bool,
) -> Result<StoredEvent, TreeError> {
    let path = validate_path(path)?;
    let plan = plan_remove(&StagedNodes(txn), &path, recursive)?;
    let payload = remove_payload(&path, recursive, &plan.root);
    let stored = txn.append(EventDraft::new("tree", "tree.remove", payload)?)?;
    stage_plan(txn, plan);
    Ok(stored)
}

/// An in-memory tree for replay.
#[derive(Default, Debug, Clone)]
pub struct MemTree {
    nodes: BTreeMap<String, Node>,
}

impl NodeSource for MemTree {
    fn node(&self, path: &str) -> Result<Option<Node>, TreeError> {
        Ok(self.nodes.get(path).cloned())
    }
    fn descendants(&self, path: &str) -> Result<Vec<String>, TreeError> {
        let prefix = child_prefix(path);
        Ok(self
            .nodes
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(k, _)| k.as_str() != path)
            .map(|(k, _)| k.clone())
            .collect())
    }
}

impl MemTree {
    fn apply(&mut self, plan: Plan, changed: Option<&str>, seq: u64) -> Hash {
        for (path, node) in plan.writes {
            match node {
                Some(mut n) => {
                    if Some(path.as_str()) == changed {
                        n.seq = seq;
                    }
                    self.nodes.insert(path, n);
                }
                None => {
                    self.nodes.remove(&path);
                }
            }
        }
        plan.root
    }

    fn apply_bootstrap(&mut self, seq: u64) -> Result<Plan, TreeError> {
        self.nodes.insert(
            "/".into(),
            Node::new("/", "namespace", BTreeMap::new(), seq),
        );
        let mut root = self.root();
        for path in BOOTSTRAP {
            let plan = plan_set(self, path, "namespace", BTreeMap::new(), seq)?;
            root = self.apply(plan, Some(path), seq);
        }
        Ok(Plan {
            writes: vec![],
            root,
        })
    }

    /// Root hash (zero when empty).
    pub fn root(&self) -> Hash {
        self.nodes.get("/").map(|n| n.hash).unwrap_or(Hash::ZERO)
    }

    /// Nodes in path order.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.values()
    }

    /// Applies one tree event from the chain; returns the root it records, if any.
    pub fn apply_event(&mut self, stored: &StoredEvent) -> Result<Option<Hash>, TreeError> {
        let e = &stored.event;
        let bad = |detail: &str| TreeError::BadEvent {
            seq: e.seq,
            detail: detail.to_string(),
        };
        let p = &e.payload;
        let recorded = read::bytes(p, "root").and_then(Hash::from_slice);
        match e.kind.as_str() {
            "tree.bootstrap" => {
                self.nodes.clear();
                self.apply_bootstrap(e.seq)?;
            }
            "tree.set" => {
                let path = read::text(p, "path").ok_or_else(|| bad("no path"))?;
                let kind = read::text(p, "kind").ok_or_else(|| bad("no kind"))?;
                let meta = text_map(read::field(p, "meta")).ok_or_else(|| bad("bad metadata"))?;
                let plan =
                    plan_set(self, path, kind, meta, e.seq).map_err(|err| bad(&err.to_string()))?;
                self.apply(plan, Some(path), e.seq);
            }
            "tree.remove" => {
                let path = read::text(p, "path").ok_or_else(|| bad("no path"))?;
                let recursive = matches!(read::field(p, "recursive"), Some(Value::Bool(true)));
                let plan =
                    plan_remove(self, path, recursive).map_err(|err| bad(&err.to_string()))?;
                self.apply(plan, None, e.seq);
            }
            _ => return Ok(None),
        }
        Ok(recorded)
    }
}

/// The result of replaying the chain's tree events.
#[derive(Debug, Clone)]
pub struct Replay {
    /// The rebuilt tree.
    pub tree: MemTree,
    /// Tree events replayed.
    pub events: u64,
    /// Events whose recorded root differs from the replayed one: (seq, recorded, replayed).
    pub root_mismatches: Vec<(u64, Hash, Hash)>,
}

/// Replays every tree event of the chain.
pub fn replay(chain: &Chain) -> Result<Replay, TreeError> {
    let mut out = Replay {
        tree: MemTree::default(),
        events: 0,
        root_mismatches: Vec::new(),
    };
    for item in chain.events(0) {
        let stored = item?;
        if stored.event.source != "tree" {
            continue;
        }
        out.events += 1;
        if let Some(recorded) = out.tree.apply_event(&stored)? {
            let now = out.tree.root();
            if recorded != now {
                out.root_mismatches.push((stored.event.seq, recorded, now));
            }
        }
    }
    Ok(out)
}

/// Differences between the stored tree and a replay.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TreeVerify {
    /// Tree events replayed.
    pub events: u64,
    /// Root rebuilt from the chain.
    pub replayed_root: String,
    /// Root stored.
    pub stored_root: Option<String>,
    /// Problems, each naming a path or sequence.
    pub problems: Vec<String>,
}

/// Replays the chain and compares with the stored tree node by node.
pub fn verify_tree(tree: &Tree<'_>) -> Result<TreeVerify, TreeError> {
    let r = replay(tree.chain)?;
    let mut out = TreeVerify {
        events: r.events,
        replayed_root: r.tree.root().to_hex(),
        ..TreeVerify::default()
    };
    for (seq, recorded, replayed) in &r.root_mismatches {
        out.problems.push(format!(
            "event {seq} records root {recorded}, replay gives {replayed}"
        ));
    }
    let src = tree.source();
    out.stored_root = src.node("/")?.map(|n| n.hash.to_hex());
    let mut stored_paths = src.descendants("/")?;
    stored_paths.insert(0, "/".into());
    let stored_set: std::collections::BTreeSet<&String> = stored_paths.iter().collect();
    for path in &stored_paths {
        match (src.node(path), r.tree.nodes.get(path)) {
            (Err(e), _) => out.problems.push(e.to_string()),
            (Ok(Some(s)), Some(m)) if &s != m => out
                .problems
                .push(format!("{path}: stored node differs from the replayed one")),
            (Ok(Some(s)), _) if s.hash != node_hash(&s.path, &s.kind, &s.meta, &s.children) => out
                .problems
                .push(format!("{path}: stored hash does not match its content")),
            (Ok(_), None) => out.problems.push(format!(
                "{path}: stored but not produced by any chain event"
            )),
            _ => {}
        }
    }
    for path in r.tree.nodes.keys() {
        if !stored_set.contains(path) {
            out.problems
                .push(format!("{path}: on the chain but missing from the store"));
        }
    }
    Ok(out)
}
