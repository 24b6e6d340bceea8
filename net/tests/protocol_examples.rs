//! The examples in docs/protocol.md are what weft's own encoders write. Each message is
//! built here from fixed inputs (the seed-7 key of the known-answer vectors, fixed
//! times, a two-event chain made by hand), encoded by the product code (the wire module,
//! the mesh's request-response codecs), checked to be valid (heads and adverts verify,
//! evidence proves, the range extends a replica), and compared with the diagnostic
//! notation and hex printed under its marker `<!-- example: NAME -->` in the document.
//! A change to either side alone fails here; the failure prints the block to paste.

mod common;

use ciborium::value::Value;
use common::{wire_bytes, Side};
use std::collections::BTreeSet;
use std::sync::Arc;
use weft_kernel::cbor;
use weft_kernel::event::{ChainId, Event};
use weft_kernel::hash::Hash;
use weft_kernel::head::SignedHead;
use weft_kernel::keys::NodeKey;
use weft_kernel::merkle::{
    consistency_path, inclusion_path, root_of, InMemory, MerkleHasher, Shake256Merkle,
};
use weft_kernel::replica::{Range, Replica};
use weft_kernel::Store;
use weft_net::mesh::{message_id, query_codec, sync_codec, MAX_INBOUND_PER_PEER};
use weft_net::query::{QueryRequest, QueryResponse, MAX_QUERIES_PER_PEER};
use weft_net::wire::{
    decode_head, reannounced, to_wire_hashes, Advert, Calibration, Evidence, ForkProof,
    SignedAdvert, SyncRequest, SyncResponse, Topic, SYNC_MAX_BYTES,
};

const DOC: &str = include_str!("../../docs/protocol.md");
/// The genesis time of the example chain (2023-11-14T22:13:20Z), ns.
const T0: u64 = 1_700_000_000_000_000_000;
const SECOND: u64 = 1_000_000_000;
/// Byte strings under these keys hold CBOR, shown as `<<…>>`.
const EMBEDDED: [&str; 5] = ["first", "second", "head", "events", "body"];
/// Widest inline array before it is broken into lines.
const WIDTH: usize = 72;

fn key() -> NodeKey {
    NodeKey::from_seed(&[7; 32])
}

fn note(chain_id: ChainId, seq: u64, prev: Hash, text: &str) -> Event {
    Event {
        chain_id,
        seq,
        prev_hash: prev,
        timestamp_ns: T0 + seq * SECOND,
        source: "test".into(),
        kind: "test.note".into(),
        payload: Value::Text(text.into()),
    }
}

/// A history on the example chain: the genesis, then a note per text.
struct History {
    events: Vec<Event>,
    leaves: Vec<Hash>,
}

impl History {
    fn new(notes: &[&str]) -> History {
        let genesis = weft_kernel::chain::genesis_event(&key().public_key(), T0, "upstream")
            .expect("a genesis");
        let chain_id = genesis.chain_id;
        let mut events = vec![genesis];
        for (i, text) in notes.iter().enumerate() {
            let prev = events[i].hash();
            events.push(note(chain_id, i as u64 + 1, prev, text));
        }
        let leaves = events
            .iter()
            .map(|e| Shake256Merkle::leaf(&e.hash().0))
            .collect();
        History { events, leaves }
    }

    /// Its head, signed `after` seconds past the genesis.
    fn head(&self, after: u64) -> SignedHead {
        let last = self.events.last().expect("a genesis at least");
        SignedHead::sign(
            &key(),
            last.chain_id,
            last.seq,
            last.hash(),
            root_of::<Shake256Merkle>(&self.leaves),
            T0 + after * SECOND,
        )
    }

    fn audit_path(&self, index: u64) -> Vec<Hash> {
        let size = self.leaves.len() as u64;
        inclusion_path::<Shake256Merkle, _>(&InMemory::<Shake256Merkle>(&self.leaves), index, size)
            .expect("in memory")
    }
}

/// Every example the document shows, by marker name, in the document's order.
fn examples() -> Vec<(&'static str, Vec<u8>)> {
    let honest = History::new(&["hello"]);
    let head = honest.head(2);
    let chain_id = head.chain_id;

    // Heads: the gossiped form, what its signature covers, a re-announcement.
    let gossiped = head.encode();
    assert_eq!(decode_head(&gossiped), Ok(head.clone()));
    let domain = b"weft/exochain/head/v1\0";
    let message = head.message();
    assert!(message.starts_with(domain));
    let signed_array = message[domain.len()..].to_vec();
    let again = reannounced(&head, &key(), T0 + 32 * SECOND);
    assert_eq!(decode_head(&again.encode()), Ok(again.clone()));

    let advert = Advert {
        version: "0.1.0".into(),
        project: "upstream".into(),
        chain_id: chain_id.to_hex(),
        head_seq: 1,
        languages: vec!["rust".into()],
        symbols: 120,
        vectors: 120,
        model: "all-MiniLM-L6-v2/int8/mean/l2".into(),
        dims: 384,
        hnsw: true,
        services: vec!["sync".into(), "query".into()],
        p95_us: 850,
        time_ns: T0 + 3 * SECOND,
        signer: [0; 32],
        calibration: None,
    }
    .sign(&key());
    assert_eq!(SignedAdvert::decode(&advert.encode()), Ok(advert.clone()));
    // The same node once its start-up calibration ran (no search index yet: that figure
    // is left out).
    let calibrated = Advert {
        calibration: Some(Calibration {
            embed_per_s: Some(180),
            search_us: None,
            verify_per_s: Some(250_000),
            time_ns: T0 + 3 * SECOND,
        }),
        time_ns: T0 + 4 * SECOND,
        ..advert.advert.clone()
    }
    .sign(&key());
    assert_eq!(
        SignedAdvert::decode(&calibrated.encode()),
        Ok(calibrated.clone())
    );

    // Evidence: another event at sequence 1 under the same key, at one sequence
    // (conflict) and as the history of a later head (fork).
    let other = History::new(&["goodbye"]);
    let conflict = Evidence::conflict(&head, &other.head(4));
    assert_eq!(conflict.verify().expect("a conflict").kind, "conflict");
    let longer = History::new(&["goodbye", "again"]);
    let fork = Evidence {
        first: head.encode(),
        second: longer.head(5).encode(),
        fork: Some(ForkProof {
            event_hash: longer.events[1].hash().0,
            audit_path: to_wire_hashes(&longer.audit_path(1)),
        }),
    };
    assert_eq!(fork.verify().expect("a fork").kind, "fork");

    // Sync: the first event of the honest chain, with the proofs that tie it to the head.
    let request = SyncRequest {
        chain_id: chain_id.0,
        from: 0,
        max_count: 1,
        max_bytes: SYNC_MAX_BYTES,
    };
    let range = Range {
        from: 0,
        events: vec![honest.events[0].encode()],
        head: head.clone(),
        consistency: consistency_path::<Shake256Merkle, _>(
            &InMemory::<Shake256Merkle>(&honest.leaves),
            1,
            2,
        )
        .expect("in memory"),
        first_path: honest.audit_path(0),
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::create(dir.path()).expect("store"));
    let replica = Replica::open(store, key().public_key()).expect("replica");
    let extended = replica.extend(&range).expect("the example range verifies");
    assert_eq!((extended.stored, extended.at_head), (1, false));
    let busy = SyncResponse::Refused {
        reason: format!("busy: {MAX_INBOUND_PER_PEER} requests in flight"),
    };

    // Queries: a `search` question and its answer, as the node encodes them (serde, in
    // field order); the mesh carries the bodies without reading them.
    let body = |entries: Vec<(&str, Value)>| {
        cbor::encode(&Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (Value::Text(k.into()), v))
                .collect(),
        ))
    };
    let question = QueryRequest {
        kind: "search".into(),
        body: body(vec![
            ("text", Value::Text("parse the config".into())),
            ("k", Value::Integer(5.into())),
        ]),
    };
    let answer = QueryResponse::Answer {
        body: body(vec![
            ("fresh", Value::Bool(true)),
            ("hits", Value::Array(vec![])),
        ]),
    };
    let refused = QueryResponse::Refused {
        reason: format!("busy: {MAX_QUERIES_PER_PEER} queries in flight"),
    };

    vec![
        ("head", gossiped),
        ("head-signed", signed_array),
        ("head-reannounced", again.encode()),
        ("advert", advert.encode()),
        ("advert-calibrated", calibrated.encode()),
        ("evidence-conflict", conflict.encode()),
        ("evidence-fork", fork.encode()),
        (
            "sync-request",
            wire_bytes(sync_codec, Side::Request(request)),
        ),
        (
            "sync-range",
            wire_bytes(sync_codec, Side::Response(SyncResponse::from_range(&range))),
        ),
        ("sync-refused", wire_bytes(sync_codec, Side::Response(busy))),
        (
            "query-request",
            wire_bytes(query_codec, Side::Request(question)),
        ),
        (
            "query-answer",
            wire_bytes(query_codec, Side::Response(answer)),
        ),
        (
            "query-refused",
            wire_bytes(query_codec, Side::Response(refused)),
        ),
    ]
}

/// RFC 8949 §8 diagnostic notation, one map entry per line; byte strings that hold CBOR
/// (`embedded`) as `<<…>>`.
fn diag(value: &Value, embedded: bool, indent: usize) -> String {
    let pad = |n: usize| "  ".repeat(n);
    match value {
        Value::Integer(i) => i128::from(*i).to_string(),
        Value::Bytes(b) if embedded => match cbor::decode(b) {
            Ok(inner) => format!("<<{}>>", diag(&inner, false, indent)),
            Err(_) => format!("h'{}'", hex::encode(b)),
        },
        Value::Bytes(b) => format!("h'{}'", hex::encode(b)),
        Value::Text(t) => serde_json::to_string(t).expect("a string"),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Float(f) => f.to_string(),
        Value::Tag(tag, inner) => format!("{tag}({})", diag(inner, false, indent)),
        Value::Array(items) if items.is_empty() => "[]".into(),
        Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|v| diag(v, embedded, indent + 1))
                .collect();
            let inline = format!("[{}]", parts.join(", "));
            if !inline.contains('\n') && indent * 2 + inline.len() <= WIDTH {
                return inline;
            }
            let lines: Vec<String> = parts
                .iter()
                .map(|p| format!("{}{p}", pad(indent + 1)))
                .collect();
            format!("[\n{}\n{}]", lines.join(",\n"), pad(indent))
        }
        Value::Map(entries) if entries.is_empty() => "{}".into(),
        Value::Map(entries) => {
            let lines: Vec<String> = entries
                .iter()
                .map(|(k, v)| {
                    let inner = matches!(k, Value::Text(t) if EMBEDDED.contains(&t.as_str()));
                    format!(
                        "{}{}: {}",
                        pad(indent + 1),
                        diag(k, false, indent + 1),
                        diag(v, inner, indent + 1)
                    )
                })
                .collect();
            format!("{{\n{}\n{}}}", lines.join(",\n"), pad(indent))
        }
        other => panic!("no diagnostic notation for {other:?}"),
    }
}

/// The block the document carries for one example.
fn block(name: &str, bytes: &[u8]) -> String {
    let value = cbor::decode(bytes).expect("each example is one CBOR item");
    let hex = hex::encode(bytes);
    let lines: Vec<&str> = hex
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("hex is ASCII"))
        .collect();
    format!(
        "<!-- example: {name} -->\n```cbor-diag\n{}\n```\n\n```hex\n{}\n```\n",
        diag(&value, false, 0),
        lines.join("\n")
    )
}

#[test]
fn every_example_in_the_protocol_document_is_what_the_encoders_write() {
    let examples = examples();
    let mut stale = Vec::new();
    for (name, bytes) in &examples {
        let expected = block(name, bytes);
        if !DOC.contains(&expected) {
            stale.push(expected);
        }
    }
    assert!(
        stale.is_empty(),
        "docs/protocol.md does not show these examples as the encoders write them; \
         the blocks should read:\n\n{}",
        stale.join("\n")
    );
    // And nothing in the document claims to be an example that is not checked here.
    let marked: BTreeSet<&str> = DOC
        .match_indices("<!-- example: ")
        .filter_map(|(at, m)| DOC[at + m.len()..].split(" -->").next())
        .collect();
    let known: BTreeSet<&str> = examples.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        marked, known,
        "examples in the document without a check, or missing"
    );
}

#[test]
fn the_documented_message_id_is_the_mesh_s() {
    let (_, head) = &examples()[0];
    let id = hex::encode(message_id(&Topic::Heads.name("acme"), head));
    assert_eq!(id.len(), 64, "32 bytes");
    assert!(
        DOC.contains(&format!("`{id}`")),
        "docs/protocol.md should give the head example's id on /weft/acme/heads/1 as `{id}`"
    );
}
