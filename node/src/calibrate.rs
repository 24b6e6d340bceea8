//! Boot calibration (integration patterns, ECC): when the daemon starts, the node measures
//! its own speed in one bounded run, records the figures on its chain (`ecc.calibration`)
//! and advertises them in its capability advert (NodeEccCapability), so that a peer who
//! must choose whom to ask first can prefer the faster nodes.
//!
//! Three figures, each measured on a fixed workload so that nodes' figures compare:
//! - **embeddings per second**: [`EMBED_TEXTS`], symbol texts as weft embeds them, through
//!   the installed model in batches of [`EMBED_BATCH`] (the model's loading counts
//!   against the phase's time, not the figure);
//! - **search latency**: the median time of one search of the node's own index as last
//!   saved (the query embedded, then its nearest symbols found; the index is opened and
//!   its vector set checked once, before the timed searches), what answering a peer's
//!   search costs beyond that check;
//! - **verify throughput**: events per second of the kernel's range check (each event's
//!   decoding, hash and link, the Merkle tree, the head's signature) over a synthetic
//!   range of [`VERIFY_EVENTS`] events signed by a throw-away key, checked against an
//!   empty replica and never stored: the work a node does for every range it syncs,
//!   without the disk, and independent of how long its own chain is.
//!
//! A figure that cannot be measured (no model installed, no index built yet, the
//! temporary replica cannot be created) is absent, with the reason on the chain, never
//! zero. Each phase runs for a third of the budget and at most a bounded count of units,
//! and always at least one unit: the run ends within the budget plus one unit per phase.

use crate::engine::{view_graph, Node};
use crate::NodeError;
use ciborium::value::Value;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use weft_kernel::cbor;
use weft_kernel::event::Event;
use weft_kernel::hash::Hash;
use weft_kernel::merkle::{root_of, MerkleHasher, Shake256Merkle};
use weft_kernel::replica::{Range, Replica};
use weft_kernel::{EventDraft, NodeKey, SignedHead, Store};
use weft_net::wire::Calibration;

/// The chain event recording a calibration.
pub const CALIBRATION_EVENT: &str = "ecc.calibration";
/// Its source (reserved: only the daemon writes it).
pub const CALIBRATION_SOURCE: &str = "ecc";

/// Texts per embedding batch.
pub const EMBED_BATCH: usize = 16;
/// Most texts one run embeds.
pub const EMBED_MAX: u64 = 512;
/// Most searches one run makes, and the hits each asks for.
pub const SEARCH_MAX: usize = 32;
const SEARCH_K: usize = 10;
/// Events of the synthetic range, and the most checks of it one run makes.
pub const VERIFY_EVENTS: u64 = 512;
const VERIFY_MAX_ROUNDS: u64 = 64;

/// Symbol texts as weft embeds them (kind and name, signature, doc): the embedding
/// workload, the same on every node.
pub const EMBED_TEXTS: [&str; EMBED_BATCH] = [
    "function parse_config\nfn parse_config(path: &Path) -> Result<Config, Error>\nReads weave.toml and checks every key.",
    "method Chain::append\nfn append(&self, draft: EventDraft) -> Result<StoredEvent, ChainError>\nAppends one event, durably.",
    "struct PeerBook\npub struct PeerBook\nEvery followed peer, its replica and its newest head.",
    "function verify_inclusion\nfn verify_inclusion(index: u64, size: u64, leaf: &Hash, path: &[Hash], root: &Hash)",
    "class HttpClient\nclass HttpClient:\nA small HTTP client with retries and timeouts.",
    "function load_model\ndef load_model(path: str) -> Model\nLoads the weights and checks their hash.",
    "enum Decision\npub enum Decision\nPermit, warn, defer to a human, or deny.",
    "function render_table\nfn render_table(rows: &[Row], width: usize) -> String\nAligns columns for a terminal.",
    "method Index::search\nfn search(&self, query: &[f32], k: usize) -> Vec<Hit>\nThe k nearest vectors by cosine.",
    "function handle_request\nasync fn handle_request(req: Request) -> Response\nRoutes one request to its handler.",
    "struct Merkle\nstruct Merkle\nRFC 6962 tree over SHAKE-256 with inclusion and consistency proofs.",
    "function tokenize\ndef tokenize(text: str) -> list[str]\nSplits text into word pieces.",
    "trait Storage\npub trait Storage\nWhere log entries and snapshots are kept.",
    "function main\nfn main()\nParses the arguments and runs the command.",
    "method Gate::decide\nfn decide(&self, action: &str, effect: &Effect) -> Decision",
    "function retry_with_backoff\nfn retry_with_backoff<F>(attempts: u32, f: F) -> Result<T, E>\nRetries with exponential backoff.",
];

/// Questions the search phase asks the node's index, in turn.
const SEARCH_QUERIES: [&str; 4] = [
    "parse the configuration file",
    "append an event to the chain",
    "retry a failed request",
    "entry point of the program",
];

/// What one phase measured, or why it could not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The figure, the units of work behind it, and the time they took.
    Measured {
        /// The figure (per second, or microseconds for a search).
        figure: u64,
        /// Texts embedded, searches made or events checked.
        count: u64,
        /// Time of the measured work, microseconds.
        micros: u64,
    },
    /// Why there is no figure.
    Absent(String),
}

impl Phase {
    fn figure(&self) -> Option<u64> {
        match self {
            Phase::Measured { figure, .. } => Some(*figure),
            Phase::Absent(_) => None,
        }
    }

    /// A rate: `count` units in `elapsed`, per second (at least 1 once anything ran).
    fn rate(count: u64, elapsed: Duration) -> Phase {
        let micros = micros(elapsed).max(1);
        let per_s = u128::from(count) * 1_000_000 / u128::from(micros);
        Phase::Measured {
            figure: u64::try_from(per_s).unwrap_or(u64::MAX).max(1),
            count,
            micros,
        }
    }
}

/// One calibration run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Run {
    /// Embeddings per second.
    pub embed: Phase,
    /// Median search latency, µs.
    pub search: Phase,
    /// Events verified per second.
    pub verify: Phase,
    /// The budget it was given, ms.
    pub budget_ms: u64,
    /// What it took, ms.
    pub ms: u64,
    /// When it ended, ns since the epoch.
    pub time_ns: u64,
}

impl Run {
    /// The figures as the advert carries them.
    pub fn calibration(&self) -> Calibration {
        Calibration {
            embed_per_s: self.embed.figure(),
            search_us: self.search.figure(),
            verify_per_s: self.verify.figure(),
            time_ns: self.time_ns,
        }
    }

    /// The `ecc.calibration` event: per phase its figure, count and milliseconds, or
    /// `absent` with the reason; the budget and the run's time.
    pub fn draft(&self) -> Result<EventDraft, NodeError> {
        let int = |n: u64| Value::Integer(n.into());
        let phase = |p: &Phase, figure: &str, unit: &str| match p {
            Phase::Measured {
                figure: f,
                count,
                micros,
            } => cbor::map([(figure, int(*f)), (unit, int(*count)), ("us", int(*micros))]),
            Phase::Absent(why) => cbor::map([("absent", Value::Text(why.clone()))]),
        };
        let payload = cbor::map([
            ("embed", phase(&self.embed, "per_s", "texts")),
            ("search", phase(&self.search, "median_us", "searches")),
            ("verify", phase(&self.verify, "per_s", "events")),
            ("budget_ms", int(self.budget_ms)),
            ("ms", int(self.ms)),
        ]);
        EventDraft::new(CALIBRATION_SOURCE, CALIBRATION_EVENT, payload)
            .map_err(|e| NodeError::Input(e.to_string()))
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Measures `node` within `budget` (see the module docs). Never fails: what cannot be
/// measured is absent from the run.
pub fn run(node: &Node, budget: Duration) -> Run {
    let started = Instant::now();
    let share = budget / 3;
    let verify = verify_phase(share);
    let (embed, embedder) = embed_phase(node, share);
    let search = match embedder {
        Some(mut embedder) => search_phase(node, &mut embedder, share),
        None => Phase::Absent("no embedding model to embed the query".into()),
    };
    Run {
        embed,
        search,
        verify,
        budget_ms: u64::try_from(budget.as_millis()).unwrap_or(u64::MAX),
        ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        time_ns: weft_kernel::chain::now_ns(),
    }
}

/// Measures and records: the run, and the sequence of its `ecc.calibration` event.
pub fn run_and_record(node: &Node, budget: Duration) -> Result<(Run, u64), NodeError> {
    let run = run(node, budget);
    let event = node.append(run.draft()?)?;
    Ok((run, event.event.seq))
}

fn embed_phase(node: &Node, share: Duration) -> (Phase, Option<crate::graph::embed::Embedder>) {
    let started = Instant::now();
    let graph = view_graph(node.layout(), node.config());
    let mut embedder = match graph.embedder() {
        Ok(embedder) => embedder,
        Err(e) => return (Phase::Absent(format!("no embedding model: {e}")), None),
    };
    let mut embedded = 0u64;
    let mut work = Duration::ZERO;
    while embedded == 0 || (started.elapsed() < share && embedded < EMBED_MAX) {
        let batch = Instant::now();
        match embedder.embed(&EMBED_TEXTS) {
            Ok(vectors) => embedded += vectors.len() as u64,
            Err(e) => return (Phase::Absent(format!("embedding failed: {e}")), None),
        }
        work += batch.elapsed();
    }
    (Phase::rate(embedded, work), Some(embedder))
}

fn search_phase(
    node: &Node,
    embedder: &mut crate::graph::embed::Embedder,
    share: Duration,
) -> Phase {
    let started = Instant::now();
    let graph = view_graph(node.layout(), node.config());
    if crate::graph::index::indexed_count(graph.store()).unwrap_or(0) == 0 {
        return Phase::Absent("no search index yet (`weft search` builds it)".into());
    }
    // Opened (and its vector set checked) once: the figure is one query's cost.
    let loaded = match graph.index().open(graph.store()) {
        Ok(loaded) => loaded,
        Err(e) => return Phase::Absent(format!("the saved index cannot be opened: {e}")),
    };
    let mut times = Vec::with_capacity(SEARCH_MAX);
    while times.is_empty() || (started.elapsed() < share && times.len() < SEARCH_MAX) {
        let query = SEARCH_QUERIES[times.len() % SEARCH_QUERIES.len()];
        let one = Instant::now();
        if let Err(e) = crate::provenance::search(embedder, &loaded, query, SEARCH_K) {
            return Phase::Absent(format!("searching the index failed: {e}"));
        }
        times.push(micros(one.elapsed()));
    }
    let total = times.iter().sum();
    times.sort_unstable();
    Phase::Measured {
        figure: times[times.len() / 2].max(1),
        count: times.len() as u64,
        micros: total,
    }
}

fn verify_phase(share: Duration) -> Phase {
    let started = Instant::now();
    let (range, signer) = synthetic_range(VERIFY_EVENTS);
    let replica = tempfile::tempdir()
        .map_err(|e| e.to_string())
        .and_then(|dir| {
            let store = Store::create(dir.path()).map_err(|e| e.to_string())?;
            let replica = Replica::open(Arc::new(store), signer).map_err(|e| e.to_string())?;
            Ok((dir, replica))
        });
    let (_dir, replica) = match replica {
        Ok(made) => made,
        Err(e) => return Phase::Absent(format!("no temporary replica to check against: {e}")),
    };
    let mut checked = 0u64;
    let mut work = Duration::ZERO;
    let mut rounds = 0;
    while rounds == 0 || (started.elapsed() < share && rounds < VERIFY_MAX_ROUNDS) {
        let input = range.clone();
        let one = Instant::now();
        if let Err(e) = replica.check(input, None) {
            return Phase::Absent(format!("the synthetic range did not verify: {e}"));
        }
        work += one.elapsed();
        checked += VERIFY_EVENTS;
        rounds += 1;
    }
    Phase::rate(checked, work)
}

/// A range of a made-up chain: a genesis of a throw-away key, then `events - 1` events of
/// about 300 bytes, and the key's signed head over all of them. The key's seed is fixed
/// (it signs nothing but this range, which is never stored), so every node checks the
/// same bytes.
fn synthetic_range(events: u64) -> (Range, [u8; 32]) {
    const T0: u64 = 1_700_000_000_000_000_000;
    let key = NodeKey::from_seed(&[0x5a; 32]);
    let public_key = key.public_key();
    let genesis = weft_kernel::chain::genesis_event(&public_key, T0, "calibration")
        .expect("a genesis of text, bytes and an integer encodes");
    let chain_id = genesis.chain_id;
    let mut list = vec![genesis];
    let note = "x".repeat(200);
    for seq in 1..events.max(1) {
        let prev_hash = list.last().map_or(Hash::ZERO, Event::hash);
        list.push(Event {
            chain_id,
            seq,
            prev_hash,
            timestamp_ns: T0 + seq,
            source: "calibration".into(),
            kind: "calibration.sample".into(),
            payload: canonical(cbor::map([
                ("n", Value::Integer(seq.into())),
                ("note", Value::Text(note.clone())),
            ])),
        });
    }
    let leaves: Vec<Hash> = list
        .iter()
        .map(|e| Shake256Merkle::leaf(&e.hash().0))
        .collect();
    let last = list.last().map_or(Hash::ZERO, Event::hash);
    let head = SignedHead::sign(
        &key,
        chain_id,
        events.max(1) - 1,
        last,
        root_of::<Shake256Merkle>(&leaves),
        T0 + events,
    );
    let range = Range {
        from: 0,
        events: list.iter().map(Event::encode).collect(),
        head,
        consistency: Vec::new(),
        first_path: Vec::new(),
    };
    (range, public_key)
}

fn canonical(value: Value) -> Value {
    cbor::canonicalize(value).expect("a map of text keys, integers and strings is canonical")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload_entry<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
        match value {
            Value::Map(entries) => entries
                .iter()
                .find_map(|(k, v)| (k.as_text() == Some(key)).then_some(v)),
            _ => None,
        }
    }

    #[test]
    fn the_verify_phase_checks_whole_ranges_within_its_bounds() {
        let (range, signer) = synthetic_range(VERIFY_EVENTS);
        assert_eq!(range.events.len() as u64, VERIFY_EVENTS);
        assert_eq!(range.head.size(), VERIFY_EVENTS);
        assert_eq!(range.head.signer, signer);
        // A zero share still checks one range: a figure, never a pretend zero.
        match verify_phase(Duration::ZERO) {
            Phase::Measured { figure, count, .. } => {
                assert!(figure >= 1);
                assert_eq!(count, VERIFY_EVENTS);
            }
            absent => panic!("the synthetic range is checked: {absent:?}"),
        }
        match verify_phase(Duration::from_millis(50)) {
            Phase::Measured { count, .. } => {
                assert_eq!(count % VERIFY_EVENTS, 0, "whole ranges");
                assert!((VERIFY_EVENTS..=VERIFY_EVENTS * VERIFY_MAX_ROUNDS).contains(&count));
            }
            absent => panic!("the synthetic range is checked: {absent:?}"),
        }
    }

    #[test]
    fn rates_are_whole_and_positive() {
        let rate = |count, micros| Phase::rate(count, Duration::from_micros(micros)).figure();
        assert_eq!(rate(512, 1_000), Some(512_000));
        assert_eq!(
            rate(1, 10_000_000),
            Some(1),
            "slower than one a second rounds up"
        );
        assert_eq!(rate(16, 0), Some(16_000_000), "no division by zero");
    }

    #[test]
    fn the_event_and_the_advert_say_what_was_measured_and_what_was_not() {
        let run = Run {
            embed: Phase::Absent("no embedding model: not installed".into()),
            search: Phase::Absent("no embedding model to embed the query".into()),
            verify: Phase::Measured {
                figure: 250_000,
                count: 1024,
                micros: 4096,
            },
            budget_ms: 3000,
            ms: 1100,
            time_ns: 7,
        };
        assert_eq!(
            run.calibration(),
            Calibration {
                embed_per_s: None,
                search_us: None,
                verify_per_s: Some(250_000),
                time_ns: 7,
            }
        );
        let draft = run.draft().expect("draft");
        assert_eq!(
            (draft.source.as_str(), draft.kind.as_str()),
            (CALIBRATION_SOURCE, CALIBRATION_EVENT)
        );
        assert!(weft_kernel::event::is_reserved(&draft.source));
        let embed = payload_entry(&draft.payload, "embed").expect("embed");
        assert!(payload_entry(embed, "absent").is_some_and(Value::is_text));
        assert!(payload_entry(embed, "per_s").is_none());
        let verify = payload_entry(&draft.payload, "verify").expect("verify");
        for key in ["per_s", "events", "us"] {
            assert!(
                payload_entry(verify, key).is_some_and(Value::is_integer),
                "{key}"
            );
        }
        for key in ["budget_ms", "ms"] {
            assert!(payload_entry(&draft.payload, key).is_some_and(Value::is_integer));
        }
    }
}
