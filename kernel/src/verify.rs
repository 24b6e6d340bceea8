//! Full verification of a stored chain: every hash, link, sequence, chain id, the
//! genesis, every stored signed head, and the witness and lineage events.
//!
//! The reader streams records from RocksDB and checks links, sequences and references;
//! the hashing (event hashes, Merkle leaves and nodes, head signatures) runs on two
//! workers over aligned batches of 4096 events. An aligned batch is a perfect subtree of
//! the RFC 6962 tree, so workers hash it independently and the reader only joins the
//! batch roots to the running frontier. Memory is bounded by a few batches in flight and
//! O(log n) frontier state, so it does not grow with the chain. Each failure carries
//! the sequence where it happens.

use crate::chain::{split_record, Chain, ChainError, Genesis};
use crate::event::{hash_encoded, peek_header, Event};
use crate::hash::Hash;
use crate::head::SignedHead;
use crate::merkle::{Frontier, MerkleHasher, Shake256Merkle};
use crate::store::{cf, seq_key};
use crate::witness::{self, External};
use rocksdb::{Direction, IteratorMode};
use serde::Serialize;
use std::sync::mpsc::sync_channel;

/// At most this many failures are listed; the rest are counted.
pub const MAX_LISTED_FAILURES: usize = 10_000;

/// Events per worker batch: a perfect Merkle subtree of level [`BATCH_LEVEL`].
const BATCH: u64 = 1 << BATCH_LEVEL;
const BATCH_LEVEL: u32 = 12;
/// Batches handed out and not yet joined, at most.
const IN_FLIGHT: usize = 4;

/// What kind of check failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// Recomputed hash differs from the stored one (listed first at a sequence: it is
    /// the most direct evidence of damage).
    Hash,
    /// Stored bytes do not decode as an event.
    Decode,
    /// Previous-hash link broken.
    Link,
    /// A sequence is missing, repeated or does not match its key.
    Sequence,
    /// Event names another chain.
    ChainId,
    /// Genesis missing or malformed.
    Genesis,
    /// A signed head fails.
    Head,
    /// A witness or lineage event fails its own check.
    Reference,
}

/// One failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Where.
    pub seq: u64,
    /// Which check.
    pub kind: FailureKind,
    /// Human-readable detail.
    pub detail: String,
}

/// The outcome of a verification.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VerifyReport {
    /// First sequence checked.
    pub from: u64,
    /// Events checked.
    pub events: u64,
    /// Signed heads checked.
    pub heads: u64,
    /// Failures in sequence order (at most [`MAX_LISTED_FAILURES`]).
    pub failures: Vec<Failure>,
    /// Total failures, listed or not.
    pub failure_count: u64,
    /// The last signed head such that it and everything before it verified: the end of
    /// the longest valid prefix.
    pub last_good_head: Option<u64>,
    /// References to other chains that could not be checked here.
    pub external_refs: u64,
    /// Merkle root of everything read.
    #[serde(serialize_with = "ser_hash_opt")]
    pub root: Option<Hash>,
}

fn ser_hash_opt<S: serde::Serializer>(h: &Option<Hash>, s: S) -> Result<S::Ok, S::Error> {
    match h {
        Some(h) => s.serialize_str(&h.to_hex()),
        None => s.serialize_none(),
    }
}

/// Failures found by one side of the pipeline.
#[derive(Default)]
struct Findings {
    listed: Vec<Failure>,
    count: u64,
}

impl Findings {
    fn fail(&mut self, seq: u64, kind: FailureKind, detail: impl Into<String>) {
        self.count += 1;
        if self.listed.len() < MAX_LISTED_FAILURES {
            self.listed.push(Failure {
                seq,
                kind,
                detail: detail.into(),
            });
        }
    }
}

impl VerifyReport {
    /// True when nothing failed.
    pub fn ok(&self) -> bool {
        self.failure_count == 0
    }
}

/// Verifies the whole chain; `progress` is called with each sequence checked.
pub fn verify(chain: &Chain, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, ChainError> {
    verify_range(chain, 0, progress)
}

/// A batch of records for a worker: consecutive leaf positions from `first_pos`.
struct Job {
    first_pos: u64,
    genesis: Option<Genesis>,
    buf: Vec<u8>,
    records: Vec<JobRecord>,
}

struct JobRecord {
    seq: u64,
    start: usize,
    end: usize,
    head: Option<Box<[u8]>>,
}

/// A signed head that passed every check but its Merkle root, which only the reader can
/// check (it needs the frontier before the batch).
struct HeadAt {
    seq: u64,
    offset: usize,
    claimed_root: Hash,
    local_peaks: Vec<(u32, Hash)>,
}

struct JobResult {
    found: Findings,
    heads: Vec<HeadAt>,
    count: u64,
    /// Peaks of the batch's own frontier after its last leaf.
    end_peaks: Vec<(u32, Hash)>,
    /// Leaf hashes, only for a batch that does not start at an aligned position.
    leaves: Option<Vec<Hash>>,
}

impl Job {
    fn new(first_pos: u64) -> Job {
        Job {
            first_pos,
            genesis: None,
            buf: Vec::with_capacity(BATCH as usize * 256),
            records: Vec::with_capacity(BATCH as usize),
        }
    }

    fn aligned(&self) -> bool {
        self.first_pos.is_multiple_of(BATCH)
    }

    /// Hashes every event, builds the batch's Merkle subtree, checks its heads.
    fn run(self) -> JobResult {
        let mut found = Findings::default();
        let mut local = Frontier::<Shake256Merkle>::default();
        let mut heads = Vec::new();
        let mut leaves = (!self.aligned()).then(|| Vec::with_capacity(self.records.len()));
        for (offset, r) in self.records.iter().enumerate() {
            let record = &self.buf[r.start..r.end];
            let (encoded, stored) = match split_record(record) {
                Some((e, h)) => (e, Some(h)),
                None => (record, None),
            };
            let computed = hash_encoded(encoded);
            if let Some(stored) = stored.filter(|s| *s != computed) {
                found.fail(
                    r.seq,
                    FailureKind::Hash,
                    format!("content hashes to {computed}, stored hash is {stored}"),
                );
            }
            let leaf = Shake256Merkle::leaf(&computed.0);
            match &mut leaves {
                Some(list) => list.push(leaf),
                None => local.push(leaf, |_| {}),
            }
            if let Some(bytes) = &r.head {
                match check_head(bytes, r.seq, &computed, self.genesis.as_ref()) {
                    Ok(claimed_root) => heads.push(HeadAt {
                        seq: r.seq,
                        offset,
                        claimed_root,
                        local_peaks: local.peaks().to_vec(),
                    }),
                    Err(detail) => found.fail(r.seq, FailureKind::Head, detail),
                }
            }
        }
        JobResult {
            found,
            heads,
            count: self.records.len() as u64,
            end_peaks: local.peaks().to_vec(),
            leaves,
        }
    }
}

/// The reader's side of the Merkle tree: joins batch results in order.
struct Joiner {
    frontier: Frontier<Shake256Merkle>,
    found: Findings,
    /// Root of everything joined, including a final partial batch.
    root: Hash,
}

impl Joiner {
    fn join(&mut self, result: JobResult) {
        self.found.count += result.found.count;
        self.found.listed.extend(result.found.listed);
        let root_mismatch = |found: &mut Findings, head: &HeadAt, root: Hash| {
            if head.claimed_root != root {
                found.fail(
                    head.seq,
                    FailureKind::Head,
                    format!(
                        "head names Merkle root {}, the events give {root}",
                        head.claimed_root
                    ),
                );
            }
        };
        match result.leaves {
            Some(leaves) => {
                let mut heads = result.heads.iter().peekable();
                for (offset, leaf) in leaves.into_iter().enumerate() {
                    self.frontier.push(leaf, |_| {});
                    while let Some(head) = heads.next_if(|h| h.offset == offset) {
                        root_mismatch(&mut self.found, head, self.frontier.root());
                    }
                }
                self.root = self.frontier.root();
            }
            None => {
                for head in &result.heads {
                    root_mismatch(
                        &mut self.found,
                        head,
                        self.frontier.root_with(&head.local_peaks),
                    );
                }
                self.root = self.frontier.root_with(&result.end_peaks);
                if result.count == BATCH {
                    self.frontier
                        .push_subtree(BATCH_LEVEL, self.root_of_peaks(&result.end_peaks));
                }
            }
        }
    }

    fn root_of_peaks(&self, peaks: &[(u32, Hash)]) -> Hash {
        Frontier::<Shake256Merkle>::default().root_with(peaks)
    }
}

/// Verifies events `from..`; a start above 0 trusts the stored hash and Merkle subtrees
/// before it (used for the quick check at open).
pub fn verify_range(
    chain: &Chain,
    from: u64,
    progress: &mut dyn FnMut(u64),
) -> Result<VerifyReport, ChainError> {
    let (frontier, prev) = if from == 0 {
        (Frontier::<Shake256Merkle>::default(), Hash::ZERO)
    } else {
        let frontier = Frontier::from_source(&crate::chain::StoredSubtrees(chain.store()), from)?;
        let prev = chain.stored_hash(from - 1)?.ok_or(ChainError::Damaged {
            seq: from - 1,
            reason: "event missing".into(),
        })?;
        (frontier, prev)
    };
    let root = frontier.root();
    let mut joiner = Joiner {
        frontier,
        found: Findings::default(),
        root,
    };
    let read = std::thread::scope(|scope| {
        let mut workers = Vec::new();
        for _ in 0..2 {
            let (job_tx, job_rx) = sync_channel::<Job>(IN_FLIGHT);
            let (result_tx, result_rx) = sync_channel::<JobResult>(IN_FLIGHT);
            scope.spawn(move || {
                for job in job_rx {
                    if result_tx.send(job.run()).is_err() {
                        break;
                    }
                }
            });
            workers.push((job_tx, result_rx));
        }
        let mut in_flight = std::collections::VecDeque::new();
        let mut next = 0usize;
        let mut dispatch = |job: Job, joiner: &mut Joiner| {
            let w = next % workers.len();
            next += 1;
            // A worker only stops when its channel closes, so these cannot fail.
            let _ = workers[w].0.send(job);
            in_flight.push_back(w);
            if in_flight.len() > IN_FLIGHT {
                let w = in_flight.pop_front().expect("in flight");
                if let Ok(result) = workers[w].1.recv() {
                    joiner.join(result);
                }
            }
        };
        let read = read_side(chain, from, prev, progress, &mut joiner, &mut dispatch);
        for w in in_flight {
            if let Ok(result) = workers[w].1.recv() {
                joiner.join(result);
            }
        }
        drop(workers);
        read
    });
    let (mut found, read) = read?;
    found.count += joiner.found.count;
    found.listed.extend(joiner.found.listed);
    found.listed.sort_by_key(|f| (f.seq, f.kind));
    found.listed.truncate(MAX_LISTED_FAILURES);
    let mut report = VerifyReport {
        from,
        events: read.events,
        heads: read.heads,
        failure_count: found.count,
        failures: found.listed,
        external_refs: read.external_refs,
        root: Some(joiner.root),
        last_good_head: None,
    };
    if from == 0 && report.events == 0 {
        report.failure_count += 1;
        report.failures.insert(
            0,
            Failure {
                seq: 0,
                kind: FailureKind::Genesis,
                detail: "the chain has no events".into(),
            },
        );
    }
    // Every head before the first failure verified (a failing head is itself a failure).
    let limit = report.failures.first().map(|f| f.seq).unwrap_or(u64::MAX);
    report.last_good_head = last_head_below(chain, limit)?;
    Ok(report)
}

fn last_head_below(chain: &Chain, limit: u64) -> Result<Option<u64>, ChainError> {
    if limit == 0 {
        return Ok(None);
    }
    let store = chain.store();
    let start = seq_key(if limit == u64::MAX { limit } else { limit - 1 });
    let mut iter = store.db().iterator_cf(
        store.cf(cf::HEADS),
        IteratorMode::From(&start, Direction::Reverse),
    );
    match iter.next() {
        Some(item) => {
            let (k, _) = item.map_err(|e| ChainError::Store(store.rocks(e)))?;
            Ok(crate::store::key_seq(&k).filter(|s| *s < limit))
        }
        None => Ok(None),
    }
}

struct ReadSummary {
    events: u64,
    heads: u64,
    external_refs: u64,
}

/// Streams the records, checks what needs order (sequence, links, genesis, references)
/// and hands batches to the workers.
fn read_side(
    chain: &Chain,
    from: u64,
    mut prev: Hash,
    progress: &mut dyn FnMut(u64),
    joiner: &mut Joiner,
    dispatch: &mut dyn FnMut(Job, &mut Joiner),
) -> Result<(Findings, ReadSummary), ChainError> {
    let store = chain.store();
    let mut genesis = if from == 0 { None } else { chain.genesis() };
    let mut found = Findings::default();
    let mut external = External::default();
    let mut lookup = |seq: u64| chain.stored_hash(seq).ok().flatten();
    let mut heads = chain.signed_heads(from).peekable();
    let (mut expected, mut events, mut head_count) = (from, 0u64, 0u64);
    let mut pos = from;
    let mut job = Job::new(pos);
    // A full scan must not push everything else out of the block cache.
    let mut scan = rocksdb::ReadOptions::default();
    scan.fill_cache(false);
    let mut it = store.db().raw_iterator_cf_opt(store.cf(cf::EVENTS), scan);
    it.seek(seq_key(from));
    while let (Some(key), Some(record)) = (it.key(), it.value()) {
        let seq = crate::store::key_seq(key).ok_or_else(|| ChainError::Damaged {
            seq: expected,
            reason: format!("malformed event key {}", hex::encode(key)),
        })?;
        progress(seq);
        events += 1;
        if seq != expected {
            found.fail(
                expected,
                FailureKind::Sequence,
                format!("events {expected}..{seq} are missing"),
            );
        }
        expected = seq + 1;
        match split_record(record) {
            Some((encoded, stored)) => {
                check_event(
                    &mut found,
                    seq,
                    encoded,
                    &prev,
                    &mut genesis,
                    &mut lookup,
                    &mut external,
                );
                prev = stored;
            }
            None => found.fail(seq, FailureKind::Decode, "record is shorter than a hash"),
        }
        let mut head = None;
        while let Some(item) = heads.next_if(|h| matches!(h, Ok((s, _)) if *s <= seq)) {
            let (head_seq, bytes) = item?;
            head_count += 1;
            if head_seq < seq {
                found.fail(
                    head_seq,
                    FailureKind::Head,
                    "signed head for an event that is missing",
                );
            } else {
                head = Some(bytes);
            }
        }
        let start = job.buf.len();
        job.buf.extend_from_slice(record);
        job.records.push(JobRecord {
            seq,
            start,
            end: job.buf.len(),
            head,
        });
        pos += 1;
        if pos.is_multiple_of(BATCH) {
            job.genesis = genesis.clone();
            dispatch(std::mem::replace(&mut job, Job::new(pos)), joiner);
        }
        it.next();
    }
    it.status().map_err(|e| ChainError::Store(store.rocks(e)))?;
    if !job.records.is_empty() {
        job.genesis = genesis.clone();
        dispatch(job, joiner);
    }
    for item in heads {
        let (head_seq, _) = item?;
        head_count += 1;
        found.fail(
            head_seq,
            FailureKind::Head,
            format!("signed head at {head_seq} is beyond the last event"),
        );
    }
    if head_count == 0 && from == 0 && events > 0 {
        found.fail(expected - 1, FailureKind::Head, "no signed head is stored");
    }
    Ok((
        found,
        ReadSummary {
            events,
            heads: head_count,
            external_refs: external.foreign_refs.len() as u64,
        },
    ))
}

fn check_event(
    found: &mut Findings,
    seq: u64,
    encoded: &[u8],
    prev: &Hash,
    genesis: &mut Option<Genesis>,
    lookup: &mut dyn FnMut(u64) -> Option<Hash>,
    external: &mut External,
) {
    let Some(header) = peek_header(encoded) else {
        let why = Event::decode(encoded)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_else(|| "not an event".into());
        return found.fail(seq, FailureKind::Decode, why);
    };
    if header.seq != seq {
        found.fail(
            seq,
            FailureKind::Sequence,
            format!("event stored at {seq} says it is {}", header.seq),
        );
    }
    if header.prev_hash != *prev {
        found.fail(
            seq,
            FailureKind::Link,
            format!(
                "previous hash {} does not match event {}'s hash {prev}",
                header.prev_hash,
                seq.wrapping_sub(1)
            ),
        );
    }
    if let Some(g) = genesis.as_ref().filter(|_| seq != 0) {
        if header.chain_id != g.chain_id {
            found.fail(
                seq,
                FailureKind::ChainId,
                format!(
                    "event names chain {}, the genesis chain is {}",
                    header.chain_id, g.chain_id
                ),
            );
        }
    }
    // Only these kinds need their payload: the rest is covered by the hash.
    let needs_payload = seq == 0 || header.source == "witness" || header.source == "lineage";
    if !needs_payload {
        if crate::event::validate_kind(header.source, header.kind).is_err() {
            found.fail(
                seq,
                FailureKind::Decode,
                format!("kind `{}` is not `{}.<verb>`", header.kind, header.source),
            );
        }
        return;
    }
    let event = match Event::decode(encoded) {
        Ok(e) => e,
        Err(e) => return found.fail(seq, FailureKind::Decode, e.to_string()),
    };
    if seq == 0 {
        match Genesis::from_event(&event) {
            Ok(g) => *genesis = Some(g),
            Err(e) => found.fail(0, FailureKind::Genesis, e),
        }
    }
    if let Err(detail) = witness::check_event(&event, lookup, external) {
        found.fail(
            seq,
            FailureKind::Reference,
            format!("{}: {detail}", event.kind),
        );
    }
}

/// Checks a head except its Merkle root, which it returns for the reader to compare.
fn check_head(
    bytes: &[u8],
    seq: u64,
    hash: &Hash,
    genesis: Option<&Genesis>,
) -> Result<Hash, String> {
    let head = SignedHead::decode(bytes).map_err(|e| e.to_string())?;
    if head.seq != seq {
        return Err(format!("head stored at {seq} says it is {}", head.seq));
    }
    let genesis = genesis.ok_or("no valid genesis to check the signer against")?;
    if head.chain_id != genesis.chain_id {
        return Err(format!("head names chain {}", head.chain_id));
    }
    if head.signer != genesis.public_key {
        return Err(format!(
            "head is signed by {}, the chain's key is {}",
            crate::keys::fingerprint(&head.signer),
            crate::keys::fingerprint(&genesis.public_key)
        ));
    }
    head.verify_signature().map_err(|e| e.to_string())?;
    if head.head_hash != *hash {
        return Err(format!(
            "head names hash {}, the event hashes to {hash}",
            head.head_hash
        ));
    }
    Ok(head.merkle_root)
}
