//! Writes the fuzz targets' seed corpora, fuzz/corpus/<target>/, with weft's own
//! encoders: a small chain in a temporary store gives events, heads, proofs, a segment
//! file, sync ranges and evidence; the net and node types give adverts, envelopes,
//! question and answer bodies and control frames. Each target also gets a few hand-picked
//! edge inputs (`edge-*`). Run it after a format changes:
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --example seeds
//! ```
//!
//! Chain ids and times come from the clock, so a new run writes other bytes of the same
//! shapes; the committed seeds are one such run.

use ciborium::value::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use weft_fuzz::{query_wire, sync_wire, to_cbor};
use weft_kernel::event::{Event, EventDraft, MAX_SEQ};
use weft_kernel::hash::Hash;
use weft_kernel::head::SignedHead;
use weft_kernel::replica::serve;
use weft_kernel::{cbor, proof, segment, Chain, NodeKey, Store};
use weft_net::query::{QueryRequest, QueryResponse};
use weft_net::wire::{decode_head, Advert, Calibration, Evidence, ForkProof, SignedAdvert};
use weft_net::wire::{to_wire_hashes, SYNC_MAX_BYTES, SYNC_MAX_EVENTS};
use weft_net::wire::{SyncRequest, SyncResponse};
use weft_node::daemon::control::{tag, write_frame, Request};
use weft_node::graph::deps::{Declared, Ecosystem};
use weft_node::graph::facts::{Symbol, SymbolKind};
use weft_node::graph::index::{Hit, IndexEntry};
use weft_node::graph::lang::Language;
use weft_node::graph::usage::{
    CoChange, Declaration, NeighbourAsk, QueryPackage, QuerySymbol, UsageAnswer, UsageQuery, Use,
    Via,
};
use weft_node::query::{SearchAnswer, SearchQuery, SymbolEntry, SymbolsAnswer, SymbolsQuery};

type Seeds = Vec<(&'static str, Vec<u8>)>;

fn main() {
    let root = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let key = NodeKey::from_seed(&[7; 32]);
    let chain = small_chain(dir.path(), &key);
    let targets: Vec<(&str, Seeds)> = vec![
        ("event", events(&chain)),
        ("canonical_cbor", canonical_cbor()),
        ("signed_head", heads(&chain, &key)),
        ("advert", adverts(&chain, &key)),
        ("evidence", evidence(&chain, &key)),
        ("sync_request", sync_requests(&chain)),
        ("sync_response", sync_responses(&chain)),
        ("query_envelope", query_envelopes()),
        ("query_body", query_bodies()),
        ("segment_file", segment_files(&chain, &key)),
        ("inclusion_proof", proofs(&chain)),
        ("weave_toml", weave_tomls(&key)),
        ("control_frame", control_frames()),
    ];
    for (target, seeds) in targets {
        let out = root.join(target);
        std::fs::create_dir_all(&out).expect("corpus directory");
        for (name, bytes) in seeds {
            std::fs::write(out.join(name), bytes).expect("write a seed");
        }
        println!("{target}: written to {}", out.display());
    }
}

/// A chain of a genesis and four events with payloads of every CBOR kind the kernel
/// accepts, appended in two batches (so there are two signed heads).
fn small_chain(dir: &Path, key: &NodeKey) -> Chain {
    let store = Arc::new(Store::create(&dir.join("chain")).expect("store"));
    let chain = Chain::create(store, key.clone(), "fuzz-seeds").expect("chain");
    let payloads = [
        cbor::map([
            ("i", Value::Integer(1.into())),
            ("note", Value::Text("one".into())),
        ]),
        cbor::map([
            ("float", Value::Float(0.25)),
            ("negative", Value::Integer((-7).into())),
            ("bytes", Value::Bytes(vec![0, 1, 2, 255])),
        ]),
        Value::Array(vec![
            Value::Null,
            Value::Bool(true),
            Value::Text("é".into()),
        ]),
        cbor::map([("nested", cbor::map([("deeper", Value::Array(vec![]))]))]),
    ];
    let drafts: Vec<EventDraft> = payloads
        .into_iter()
        .map(|p| EventDraft::new("test", "test.seed.event", p).expect("draft"))
        .collect();
    let (first, second) = drafts.split_at(2);
    chain.append_batch(first.to_vec()).expect("first batch");
    chain.append_batch(second.to_vec()).expect("second batch");
    chain
}

fn head(chain: &Chain) -> SignedHead {
    chain.latest_signed_head().expect("a signed head")
}

fn events(chain: &Chain) -> Seeds {
    let mut seeds: Seeds = chain
        .events(0)
        .map(|e| e.expect("event").event)
        .map(|e| (seq_name(e.seq), e.encode()))
        .collect();
    let mut last = chain.event(1).expect("event").event;
    last.seq = MAX_SEQ;
    seeds.push(("edge-max-seq", last.encode()));
    last.seq = u64::MAX;
    seeds.push(("edge-past-max-seq", last.encode()));
    seeds
}

fn seq_name(seq: u64) -> &'static str {
    ["genesis", "event-1", "event-2", "event-3", "event-4"][seq as usize]
}

fn canonical_cbor() -> Seeds {
    vec![
        ("map", hex("a3616102616384f5f622f93e0062626201")),
        (
            "floats",
            cbor::encode(&Value::Array(vec![Value::Float(1.5), Value::Float(1e300)])),
        ),
        (
            "integers",
            cbor::encode(&Value::Array(vec![
                Value::Integer(u64::MAX.into()),
                Value::Integer((-1).into()),
            ])),
        ),
        ("edge-unsorted-map", hex("a2616201616102")),
        ("edge-long-int", hex("1801")),
        ("edge-tag", hex("c11a5f000000")),
        ("edge-nan", hex("f97e00")),
        ("edge-indefinite", hex("9f0102ff")),
    ]
}

fn hex(text: &str) -> Vec<u8> {
    ::hex::decode(text).expect("hex")
}

fn heads(chain: &Chain, key: &NodeKey) -> Seeds {
    let h = head(chain);
    let at = |seq| SignedHead::sign(key, h.chain_id, seq, h.head_hash, h.merkle_root, h.time_ns);
    let json = serde_json::to_vec(&h.to_json()).expect("json");
    decode_head(&h.encode()).expect("the head seed is accepted");
    vec![
        ("head", h.encode()),
        ("head-json", json),
        ("edge-max-seq", at(MAX_SEQ).encode()),
        ("edge-past-max-seq", at(u64::MAX).encode()),
        (
            "edge-unsigned",
            SignedHead {
                signature: [0; 64],
                ..h.clone()
            }
            .encode(),
        ),
    ]
}

fn advert(chain: &Chain) -> Advert {
    Advert {
        version: "0.1.0".into(),
        project: "fuzz-seeds".into(),
        chain_id: head(chain).chain_id.to_hex(),
        head_seq: head(chain).seq,
        languages: vec!["rust".into(), "python".into()],
        symbols: 120,
        vectors: 118,
        model: "all-MiniLM-L6-v2".into(),
        dims: 384,
        hnsw: true,
        services: vec!["sync".into(), "search".into(), "impact".into()],
        p95_us: 1500,
        time_ns: head(chain).time_ns,
        signer: [0; 32],
        calibration: Some(Calibration {
            embed_per_s: Some(180),
            search_us: None,
            verify_per_s: Some(250_000),
            time_ns: head(chain).time_ns,
        }),
    }
}

fn adverts(chain: &Chain, key: &NodeKey) -> Seeds {
    let full = Advert {
        languages: vec!["x".repeat(128); 16],
        ..advert(chain)
    };
    let over = Advert {
        services: vec!["sync".into(); 17],
        ..advert(chain)
    };
    let zero = Advert {
        calibration: Some(Calibration {
            search_us: Some(0),
            ..Calibration::default()
        }),
        ..advert(chain)
    };
    let uncalibrated = Advert {
        calibration: None,
        ..advert(chain)
    };
    let valid = advert(chain).sign(key).encode();
    SignedAdvert::decode(&valid).expect("the advert seed is accepted");
    vec![
        ("advert", valid),
        ("advert-uncalibrated", uncalibrated.sign(key).encode()),
        ("edge-full-lists", full.sign(key).encode()),
        ("edge-list-over-bound", over.sign(key).encode()),
        ("edge-calibration-zero", zero.sign(key).encode()),
    ]
}

fn evidence(chain: &Chain, key: &NodeKey) -> Seeds {
    let latest = head(chain);
    let forged = |seq, hash: Hash| {
        SignedHead::sign(
            key,
            latest.chain_id,
            seq,
            hash,
            Hash([9; 32]),
            latest.time_ns,
        )
    };
    let conflict = Evidence::conflict(&latest, &forged(latest.seq, Hash([1; 32])));
    // A head claiming another event at 1 than the one the latest head's history holds.
    let range = serve(chain, 1, 1, SYNC_MAX_BYTES).expect("range");
    let at_one = Event::decode(&range.events[0]).expect("event").hash();
    let fork = Evidence {
        first: forged(1, Hash([2; 32])).encode(),
        second: latest.encode(),
        fork: Some(ForkProof {
            event_hash: at_one.0,
            audit_path: to_wire_hashes(&range.first_path),
        }),
    };
    for proof in [&conflict, &fork] {
        Evidence::decode_verified(&proof.encode()).expect("the evidence seed proves");
    }
    let same = Evidence::conflict(&latest, &latest);
    vec![
        ("conflict", conflict.encode()),
        ("fork", fork.encode()),
        ("edge-same-history", same.encode()),
    ]
}

fn sync_requests(chain: &Chain) -> Seeds {
    let mut wire = sync_wire();
    let request = |chain_id, from, max_count, max_bytes| SyncRequest {
        chain_id,
        from,
        max_count,
        max_bytes,
    };
    let own = head(chain).chain_id.0;
    vec![
        (
            "own-chain",
            wire.write_request(request([0; 16], 0, SYNC_MAX_EVENTS, SYNC_MAX_BYTES)),
        ),
        ("by-id", wire.write_request(request(own, 3, 16, 4096))),
        (
            "edge-extremes",
            wire.write_request(request(own, u64::MAX, u32::MAX, u64::MAX)),
        ),
        (
            "edge-zero-counts",
            wire.write_request(request(own, 0, 0, 0)),
        ),
    ]
}

fn sync_responses(chain: &Chain) -> Seeds {
    let mut wire = sync_wire();
    let mut range = |from, count| {
        let r = serve(chain, from, count, SYNC_MAX_BYTES).expect("range");
        wire.write_response(SyncResponse::from_range(&r))
    };
    let whole = range(0, SYNC_MAX_EVENTS);
    let middle = range(1, 2);
    let empty = range(head(chain).size(), 8);
    let refused = wire.write_response(SyncResponse::Refused {
        reason: "not a peer this node serves".into(),
    });
    vec![
        ("whole-chain", whole),
        ("middle-with-consistency", middle),
        ("empty-at-head", empty),
        ("refused", refused),
    ]
}

fn usage_query() -> UsageQuery {
    UsageQuery {
        packages: vec![QueryPackage {
            ecosystem: Ecosystem::Cargo,
            name: "weft-kernel".into(),
        }],
        symbols: vec![QuerySymbol {
            name: "append".into(),
            owner: Some("Chain".into()),
        }],
        releases: vec![1_700_000_000],
        window_days: 14,
        neighbours: vec![NeighbourAsk {
            symbol: "Chain::append".into(),
            text: "method Chain::append\npub fn append(&self, draft: EventDraft)".into(),
        }],
    }
}

fn search_query() -> SearchQuery {
    SearchQuery {
        text: "parse a configuration file".into(),
        k: 5,
    }
}

fn symbols_query() -> SymbolsQuery {
    SymbolsQuery {
        path: Some("kernel/src".into()),
        name: Some("decode".into()),
        limit: 50,
    }
}

fn usage_answer() -> UsageAnswer {
    UsageAnswer {
        commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
        files_scanned: 12,
        declarations: vec![Declaration {
            manifest: "Cargo.toml".into(),
            ecosystem: Ecosystem::Cargo,
            declared: Declared {
                name: "weft-kernel".into(),
                kind: "normal".into(),
                requirement: Some("^0.1".into()),
                source: Some("path".into()),
                package: None,
            },
        }],
        importers: vec!["src/lib.rs".into()],
        uses: vec![Use {
            path: "src/lib.rs".into(),
            line: 7,
            name: "append".into(),
            owner: Some("Chain".into()),
            via: Via::Call,
            enclosing: Some("record".into()),
            text: "chain.append(draft)?;".into(),
        }],
        uses_omitted: 0,
        cochange: vec![CoChange {
            path: "src/lib.rs".into(),
            releases: 2,
        }],
        neighbours: vec![],
        neighbours_note: Some("it has no search index yet".into()),
    }
}

fn symbol() -> Symbol {
    Symbol {
        kind: SymbolKind::Function,
        name: "decode".into(),
        qualified: "Event::decode".into(),
        start_line: 10,
        end_line: 40,
        public: true,
        signature: "pub fn decode(bytes: &[u8]) -> Result<Event, EventError>".into(),
        doc: "Decodes stored or received bytes.".into(),
        loc: 25,
        complexity: 4,
    }
}

fn search_answer() -> SearchAnswer {
    SearchAnswer {
        fresh: true,
        hits: vec![Hit {
            entry: IndexEntry {
                path: "src/config.rs".into(),
                qualified: "Config::parse".into(),
                kind: SymbolKind::Method,
                line: 3,
                end_line: 9,
                signature: "fn parse(text: &str) -> Config".into(),
                text_key: Hash([5; 32]),
            },
            score: 0.875,
        }],
    }
}

fn symbols_answer() -> SymbolsAnswer {
    SymbolsAnswer {
        files_scanned: 3,
        symbols: vec![SymbolEntry {
            path: "kernel/src/event.rs".into(),
            language: Language::Rust,
            symbol: symbol(),
        }],
        omitted: 1,
    }
}

fn query_envelopes() -> Seeds {
    let mut wire = query_wire();
    let request = |kind: &str, body| QueryRequest {
        kind: kind.into(),
        body,
    };
    vec![
        (
            "usage",
            wire.write_request(request("usage", to_cbor(&usage_query()))),
        ),
        (
            "search",
            wire.write_request(request("search", to_cbor(&search_query()))),
        ),
        (
            "answer",
            wire.write_response(QueryResponse::Answer {
                body: to_cbor(&search_answer()),
            }),
        ),
        (
            "refused",
            wire.write_response(QueryResponse::Refused {
                reason: "busy: 4 queries in flight".into(),
            }),
        ),
        (
            "edge-bad-kind",
            wire.write_request(request("Usage!", vec![])),
        ),
    ]
}

/// The target reads its first byte as the kind: 0 usage, 1 search, 2 symbols, 3 unknown.
fn query_bodies() -> Seeds {
    let body = |kind: u8, bytes: Vec<u8>| [vec![kind], bytes].concat();
    let nested = [vec![0x81u8; 40], vec![0x00]].concat();
    let over = SearchQuery {
        text: "x".repeat(2001),
        k: 5,
    };
    vec![
        ("usage-question", body(0, to_cbor(&usage_query()))),
        ("search-question", body(1, to_cbor(&search_query()))),
        ("symbols-question", body(2, to_cbor(&symbols_query()))),
        ("usage-answer", body(0, to_cbor(&usage_answer()))),
        ("search-answer", body(1, to_cbor(&search_answer()))),
        ("symbols-answer", body(2, to_cbor(&symbols_answer()))),
        ("edge-unknown-kind", body(3, to_cbor(&search_query()))),
        ("edge-too-deep", body(1, nested)),
        ("edge-over-bounds", body(1, to_cbor(&over))),
    ]
}

/// The target reads its first byte as the mode: even as is, odd with hashes recomputed.
fn segment_files(chain: &Chain, key: &NodeKey) -> Seeds {
    let mut file = Vec::new();
    segment::export(chain, key, &mut file, &mut |_| {}).expect("export");
    segment::verify_file(file.as_slice()).expect("the exported file verifies");
    let truncated = file[..file.len() - 64].to_vec();
    let mut flipped = file.clone();
    flipped[64 + 48 + 3] ^= 0x20;
    vec![
        ("export", [vec![0], file.clone()].concat()),
        ("export-rehashed", [vec![1], file].concat()),
        ("edge-truncated", [vec![0], truncated].concat()),
        ("edge-altered-rehashed", [vec![1], flipped].concat()),
    ]
}

fn proofs(chain: &Chain) -> Seeds {
    let proof = |seq| {
        let doc = proof::prove(chain, seq).expect("proof");
        proof::verify_proof(&doc, None).expect("the proof verifies");
        serde_json::to_vec_pretty(&doc).expect("json")
    };
    let mut altered = proof::prove(chain, 2).expect("proof");
    altered["leaf_index"] = serde_json::json!(u64::MAX);
    vec![
        ("genesis", proof(0)),
        ("middle", proof(2)),
        ("last", proof(head(chain).seq)),
        (
            "edge-leaf-past-tree",
            serde_json::to_vec(&altered).expect("json"),
        ),
    ]
}

fn weave_tomls(key: &NodeKey) -> Seeds {
    let peer = weft_net::identity::peer_id(&key.public_key()).expect("an Ed25519 peer id");
    let initial = weft_node::config::render_initial(&weft_node::config::ProjectConfig {
        name: "fuzz-seeds".into(),
        languages: vec!["rust".into()],
        source_dirs: vec!["src".into()],
        default_branch: "main".into(),
    });
    let full = format!(
        r#"[project]
name = "demo"
languages = ["rust", "python"]
source_dirs = ["src", "lib"]
default_branch = "main"

[analysis]
ignore = ["vendor/**"]
max_commits = 1000
min_coupling = 40.0

[assessment]
fail_on = "warning"
schedule = "0 2 * * *"
max_complexity = 12
ownership_share = 0.75

[governance]
threshold = 0.7
dimensions = ["risk", "security"]

[governance.environments.production]
threshold = 0.5

[[governance.rules]]
id = "risky-release"
action = "release.*"
when = ["risk >= 0.6"]
severity = "blocking"
message = "a human approves risky releases"

[network]
listen = ["/ip4/127.0.0.1/tcp/0"]
organisation = "acme"
trust = "listed"
announce_interval = 10
witness_interval = 0

[[coordination.peers]]
name = "upstream"
path = "../upstream"

[[coordination.peers]]
name = "remote"
addr = "/ip4/127.0.0.1/tcp/4001"
peer_id = "{peer}"
"#
    );
    vec![
        ("initial", initial.into_bytes()),
        ("full", full.into_bytes()),
        ("empty", Vec::new()),
        ("edge-unknown-key", b"[network]\norganisaton = \"acme\"\n".to_vec()),
        ("edge-withdrawn-key", b"[embeddings]\nruntime = \"/tmp/libonnxruntime.so\"\n".to_vec()),
        ("edge-twice-listed", b"[[coordination.peers]]\nname = \"a\"\npath = \"x\"\n[[coordination.peers]]\nname = \"a\"\npath = \"y\"\n".to_vec()),
    ]
}

fn control_frames() -> Seeds {
    let frame = |tag, bytes: &[u8]| {
        let mut out = Vec::new();
        write_frame(&mut out, tag, bytes).expect("frame");
        out
    };
    let request = serde_json::to_vec(&Request {
        args: vec!["chain".into(), "log".into(), "--json".into()],
        cwd: "/tmp/repo".into(),
    })
    .expect("json");
    let with_stdin = [
        frame(tag::REQUEST, &request),
        frame(tag::STDIN, b"line one\nli"),
        frame(tag::STDIN, b"ne two\n"),
        frame(tag::STDIN_END, b""),
    ]
    .concat();
    let answer = [
        frame(tag::STDOUT, b"{\"seq\":0}\n"),
        frame(tag::STDERR, b"warning\n"),
        frame(tag::EXIT, &[0]),
    ]
    .concat();
    vec![
        (
            "request-no-stdin",
            [frame(tag::REQUEST, &request), frame(tag::STDIN_END, b"")].concat(),
        ),
        ("request-with-stdin", with_stdin),
        ("daemon-answer", answer),
        (
            "edge-huge-length",
            vec![tag::REQUEST, 0xff, 0xff, 0xff, 0xff],
        ),
        ("edge-short-header", vec![tag::REQUEST, 0]),
        (
            "edge-exit-in-stdin",
            [frame(tag::REQUEST, &request), frame(tag::EXIT, &[1])].concat(),
        ),
    ]
}
