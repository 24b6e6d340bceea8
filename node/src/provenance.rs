//! INDEX PROVENANCE (SOP 2 phase 3): each build of the search index is recorded on the
//! chain as `graph.index` (the embedding model, the hash of the vector set, the hash of
//! the saved file), and a saved index answers only once it is checked against the event
//! that recorded it. The graph's cache notes which event that is; an index no event of
//! this chain vouches for is rebuilt on the node itself and refused by a view of it.

use crate::engine::Node;
use crate::graph::index::{Hit, IndexDigest, LoadedIndex, SyncStats};
use crate::graph::scan::Scan;
use crate::graph::{embed::Embedder, KnowledgeGraph};
use crate::NodeError;
use ciborium::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use weft_kernel::cbor::read;
use weft_kernel::event::ChainId;
use weft_kernel::{Chain, Event, EventDraft, Hash};

/// The chain event recording a build of the search index.
pub const GRAPH_INDEX_EVENT: &str = "graph.index";
/// Where the graph's cache notes the event that recorded its index.
const RECORD_KEY: &str = "index.record";

/// Which event of which chain vouches for an index: carried by search answers, so the
/// asker can look the event up in its replica of the answering node's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexProvenance {
    /// The chain (its id, 32 hex digits).
    pub chain: String,
    /// Sequence of the `graph.index` event.
    pub seq: u64,
    /// Hash of that event.
    pub event: Hash,
    /// What it recorded.
    #[serde(flatten)]
    pub digest: IndexDigest,
}

/// The cache's note of the recording event.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct RecordRef {
    seq: u64,
    event: Hash,
}

/// Why an index is not vouched for by a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unvouched {
    /// The cache names no recording event.
    #[error("no `graph.index` event is noted for it")]
    NoRecord,
    /// The noted event is not on the chain, or is not the one noted.
    #[error("event {0} of the chain is not the `graph.index` event noted for it")]
    Missing(u64),
    /// The event records another index.
    #[error("event {0} records another index (other vectors or another file)")]
    Differs(u64),
}

/// The `graph.index` event for `digest`.
fn draft(digest: &IndexDigest) -> Result<EventDraft, NodeError> {
    let text = |s: &str| Value::Text(s.into());
    let payload = Value::Map(vec![
        (text("model"), text(&digest.model)),
        (text("dimensions"), Value::Integer(digest.dimensions.into())),
        (text("symbols"), Value::Integer(digest.symbols.into())),
        (text("vectors"), Value::Bytes(digest.vectors.0.to_vec())),
        (text("file"), Value::Bytes(digest.file.0.to_vec())),
    ]);
    EventDraft::new("graph", GRAPH_INDEX_EVENT, payload)
        .map_err(|e| NodeError::Input(e.to_string()))
}

/// The digest a `graph.index` event records; `None` for any other event or a malformed
/// payload.
pub fn decode(event: &Event) -> Option<IndexDigest> {
    if event.kind != GRAPH_INDEX_EVENT {
        return None;
    }
    let p = &event.payload;
    Some(IndexDigest {
        model: read::text(p, "model")?.to_string(),
        dimensions: u32::try_from(read::uint(p, "dimensions")?).ok()?,
        symbols: read::uint(p, "symbols")?,
        vectors: Hash::from_slice(read::bytes(p, "vectors")?)?,
        file: Hash::from_slice(read::bytes(p, "file")?)?,
    })
}

fn noted(graph: &KnowledgeGraph) -> Result<Option<RecordRef>, NodeError> {
    Ok(graph
        .store()
        .meta(RECORD_KEY)
        .map_err(crate::graph::GraphError::from)?)
}

/// Checks that `chain` holds the event the cache notes for its index, and that it
/// records `digest`.
pub fn check(
    chain: &Chain,
    graph: &KnowledgeGraph,
    digest: &IndexDigest,
) -> Result<Result<IndexProvenance, Unvouched>, NodeError> {
    let Some(note) = noted(graph)? else {
        return Ok(Err(Unvouched::NoRecord));
    };
    if note.seq >= chain.len() {
        return Ok(Err(Unvouched::Missing(note.seq)));
    }
    let stored = chain.event(note.seq)?;
    let Some(recorded) = decode(&stored.event).filter(|_| stored.hash == note.event) else {
        return Ok(Err(Unvouched::Missing(note.seq)));
    };
    if &recorded != digest {
        return Ok(Err(Unvouched::Differs(note.seq)));
    }
    Ok(Ok(IndexProvenance {
        chain: chain_id(chain),
        seq: note.seq,
        event: note.event,
        digest: recorded,
    }))
}

/// Brings the index of `node`'s graph up to date with `scan` and opens it, vouched for
/// by the node's chain: a fresh build is recorded as `graph.index`; a saved index the
/// chain does not vouch for (damaged, replaced, copied from elsewhere, or built without
/// a record) is rebuilt from the cached vectors and recorded.
pub fn sync_recorded(
    node: &Node,
    graph: &KnowledgeGraph,
    scan: &Scan,
    embedder: &mut Embedder,
    progress: &dyn Fn(u64, u64),
) -> Result<(SyncStats, LoadedIndex, IndexProvenance), NodeError> {
    let mut stats = graph.sync_index(scan, embedder, progress)?;
    let mut loaded = open(graph)?;
    match check(node.chain(), graph, loaded.digest())? {
        Ok(provenance) => return Ok((stats, loaded, provenance)),
        Err(why) if !stats.rebuilt => {
            tracing::warn!(%why, "the search index is not the one the chain recorded: rebuilding it");
            graph
                .index()
                .discard()
                .map_err(crate::graph::GraphError::from)?;
            stats = graph.sync_index(scan, embedder, progress)?;
            loaded = open(graph)?;
            if let Ok(provenance) = check(node.chain(), graph, loaded.digest())? {
                return Ok((stats, loaded, provenance));
            }
        }
        Err(_) => {}
    }
    let stored = node.append(draft(loaded.digest())?)?;
    let note = RecordRef {
        seq: stored.event.seq,
        event: stored.hash,
    };
    graph
        .store()
        .put_meta(RECORD_KEY, &note)
        .map_err(crate::graph::GraphError::from)?;
    let provenance = IndexProvenance {
        chain: chain_id(node.chain()),
        seq: note.seq,
        event: note.event,
        digest: loaded.digest().clone(),
    };
    Ok((stats, loaded, provenance))
}

fn chain_id(chain: &Chain) -> String {
    chain
        .genesis()
        .map(|g| g.chain_id.to_hex())
        .unwrap_or_default()
}

fn open(graph: &KnowledgeGraph) -> Result<LoadedIndex, NodeError> {
    Ok(graph
        .index()
        .open(graph.store())
        .map_err(crate::graph::GraphError::from)?)
}

/// The `k` symbols of `index` nearest to `text`.
pub fn search(
    embedder: &mut Embedder,
    index: &LoadedIndex,
    text: &str,
    k: usize,
) -> Result<Vec<Hit>, NodeError> {
    use crate::graph::GraphError;
    let vector = embedder.embed(&[text]).map_err(GraphError::from)?.remove(0);
    Ok(index.search(&vector, k, false).map_err(GraphError::from)?)
}

/// What the asker's copy of the answering node's chain says of the provenance an answer
/// carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "checked", content = "reason")]
pub enum Vouched {
    /// The asker's replica (or view) of that chain holds the event, and it records
    /// this index.
    Replica,
    /// The asker cannot tell: no copy of that chain, or one that does not reach the
    /// event yet.
    Unchecked(String),
    /// The asker's copy of that chain holds another event there, or one recording
    /// another index: the answer is not from the index it claims.
    Contradicted(String),
}

/// Checks an answer's provenance against the chains the asker can read (its replicas
/// and local-path peers' chains, by id).
pub fn check_answer(chains: &HashMap<ChainId, Chain>, claimed: &IndexProvenance) -> Vouched {
    let Some(chain) = ChainId::from_hex(&claimed.chain).and_then(|id| chains.get(&id)) else {
        return Vouched::Unchecked(format!("no replica of chain {}", claimed.chain));
    };
    if claimed.seq >= chain.len() {
        return Vouched::Unchecked(format!(
            "the replica holds {} events, not yet event {}",
            chain.len(),
            claimed.seq
        ));
    }
    let stored = match chain.event(claimed.seq) {
        Ok(stored) => stored,
        Err(e) => return Vouched::Unchecked(format!("event {}: {e}", claimed.seq)),
    };
    if stored.hash != claimed.event {
        return Vouched::Contradicted(format!(
            "event {} of chain {} has another hash than the answer names",
            claimed.seq, claimed.chain
        ));
    }
    match decode(&stored.event) {
        Some(recorded) if recorded == claimed.digest => Vouched::Replica,
        Some(_) => Vouched::Contradicted(format!(
            "event {} records another index than the answer names",
            claimed.seq
        )),
        None => Vouched::Contradicted(format!(
            "event {} is not a `{GRAPH_INDEX_EVENT}` record",
            claimed.seq
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use weft_kernel::keys::NodeKey;
    use weft_kernel::Store;

    fn digest(symbols: u64) -> IndexDigest {
        IndexDigest {
            model: "all-MiniLM-L6-v2/int8/mean/l2".into(),
            dimensions: 384,
            symbols,
            vectors: weft_kernel::hash::shake256(b"vectors"),
            file: weft_kernel::hash::shake256(b"file"),
        }
    }

    /// A chain holding one `graph.index` event for `digest(12)`, and its provenance.
    fn recorded(dir: &std::path::Path) -> (Chain, IndexProvenance) {
        let store = Arc::new(Store::create(&dir.join("chain")).expect("store"));
        let chain = Chain::create(store, NodeKey::from_seed(&[7; 32]), "peer").expect("chain");
        let stored = chain
            .append(draft(&digest(12)).expect("draft"))
            .expect("append");
        let provenance = IndexProvenance {
            chain: chain_id(&chain),
            seq: stored.event.seq,
            event: stored.hash,
            digest: digest(12),
        };
        (chain, provenance)
    }

    #[test]
    fn a_graph_index_payload_decodes_to_what_was_recorded_and_nothing_else_decodes() {
        let dir = tempfile::tempdir().expect("tmp");
        let (chain, provenance) = recorded(dir.path());
        let event = chain.event(provenance.seq).expect("event").event;
        assert_eq!(event.source, "graph");
        assert_eq!(decode(&event), Some(digest(12)));
        let genesis = chain.event(0).expect("genesis").event;
        assert_eq!(decode(&genesis), None);
    }

    #[test]
    fn an_answer_is_vouched_for_only_by_the_event_that_records_its_very_index() {
        let dir = tempfile::tempdir().expect("tmp");
        let (chain, claimed) = recorded(dir.path());
        let id = chain.genesis().expect("genesis").chain_id;
        let chains = HashMap::from([(id, chain)]);
        assert_eq!(check_answer(&chains, &claimed), Vouched::Replica);

        let other_index = IndexProvenance {
            digest: digest(13),
            ..claimed.clone()
        };
        assert!(matches!(
            check_answer(&chains, &other_index),
            Vouched::Contradicted(_)
        ));
        let other_event = IndexProvenance {
            event: weft_kernel::hash::shake256(b"another event"),
            ..claimed.clone()
        };
        assert!(matches!(
            check_answer(&chains, &other_event),
            Vouched::Contradicted(_)
        ));
        // The genesis, named as if it were the record.
        let genesis = chains[&id].event(0).expect("genesis");
        let not_a_record = IndexProvenance {
            seq: 0,
            event: genesis.hash,
            ..claimed.clone()
        };
        assert!(matches!(
            check_answer(&chains, &not_a_record),
            Vouched::Contradicted(_)
        ));
        // Past what the replica holds, or of a chain not replicated: cannot tell.
        let ahead = IndexProvenance {
            seq: 99,
            ..claimed.clone()
        };
        assert!(matches!(
            check_answer(&chains, &ahead),
            Vouched::Unchecked(_)
        ));
        let elsewhere = IndexProvenance {
            chain: "00".repeat(16),
            ..claimed.clone()
        };
        assert!(matches!(
            check_answer(&chains, &elsewhere),
            Vouched::Unchecked(_)
        ));
        let garbage = IndexProvenance {
            chain: "not hex".into(),
            ..claimed
        };
        assert!(matches!(
            check_answer(&chains, &garbage),
            Vouched::Unchecked(_)
        ));
    }
}
