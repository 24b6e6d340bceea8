//! Full verification of a stored chain: every hash, link, sequence, chain id, the
//! genesis, every stored signed head, and the witness and lineage events.
//!
//! The sequence space is cut into aligned ranges of 4096 events; each is a perfect
//! subtree of the RFC 6962 tree, so two workers read, hash and check their ranges
//! independently (event hashes, links inside the range, references, the range's Merkle
//! subtree, head signatures) while the joiner takes the results in order, checks the
//! links between ranges and every head's Merkle root from the running frontier. Memory
//! is bounded by the ranges in flight and O(log n) frontier state, so it does not grow
//! with the chain. Each failure carries the sequence where it happens.

use crate::chain::{split_record, Chain, ChainError, Genesis};
use crate::cluster::Signers;
use crate::event::{hash_encoded, peek_header, Event};
use crate::hash::Hash;
use crate::head::SignedHead;
use crate::keys::NodeKey;
use crate::merkle::{Frontier, MerkleHasher, Shake256Merkle};
use crate::store::Store;
use crate::store::{cf, seq_key};
use crate::witness::{self, External};
use rocksdb::{Direction, IteratorMode};
use serde::Serialize;
use std::sync::mpsc::sync_channel;
use std::sync::Arc;

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
    /// A cluster event is malformed or out of order, or the indexed signer sets differ
    /// from what the cluster events say.
    Signers,
}

impl FailureKind {
    /// Whether the failure means the stored history is damaged (bytes, hashes, links,
    /// signatures), as opposed to a finding about what an authentic event says: a
    /// witness or lineage record whose reference does not hold is reported by `verify`,
    /// but it neither stops the chain from opening nor is cut away by a repair.
    pub fn is_damage(self) -> bool {
        self != FailureKind::Reference
    }
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
    /// The first sequence with damage ([`FailureKind::is_damage`]), if any.
    pub first_damage: Option<u64>,
    /// The last signed head such that it and everything before it verified: the end of
    /// the longest valid prefix.
    pub last_good_head: Option<u64>,
    /// References to other chains that could not be checked here.
    pub external_refs: u64,
    /// Those references (referring sequence, event referred to), for the node to check
    /// against the replicas it holds.
    #[serde(skip)]
    pub foreign_refs: Vec<(u64, witness::EventRef)>,
    /// Witnessed artifacts, for the node to re-hash where the files are present.
    #[serde(skip)]
    pub artifacts: Vec<witness::ArtifactRef>,
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
    first_damage: Option<u64>,
}

impl Findings {
    fn fail(&mut self, seq: u64, kind: FailureKind, detail: impl Into<String>) {
        self.count += 1;
        if kind.is_damage() {
            self.first_damage = Some(self.first_damage.map_or(seq, |d| d.min(seq)));
        }
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

    /// True when the stored history is damaged (not merely a reference finding).
    pub fn damaged(&self) -> bool {
        self.first_damage.is_some()
    }

    /// The first damage found, for messages.
    pub fn first_damage_failure(&self) -> Option<&Failure> {
        let seq = self.first_damage?;
        self.failures
            .iter()
            .find(|f| f.seq == seq && f.kind.is_damage())
    }
}

impl Chain {
    // Opening checked lives with verification: the chain module stores, this one checks.
    /// Opens a chain and re-verifies its tail and latest signed head; a damaged store
    /// is refused with the first bad sequence, never replaced.
    pub fn open(store: Arc<Store>, key: Option<NodeKey>) -> Result<Chain, ChainError> {
        let chain = Chain::open_unchecked(store, key)?;
        if chain.is_empty() {
            return Err(ChainError::Empty);
        }
        let tail_from = chain.len().saturating_sub(crate::chain::OPEN_CHECK_TAIL);
        let tail = verify_range(&chain, tail_from, &mut |_| {})?;
        let head_check = chain.check_latest_head();
        if tail.damaged() || head_check.is_err() {
            // Find the first damage over the whole chain, to name it precisely.
            let full = verify(&chain, &mut |_| {})?;
            let (seq, reason) = match full.first_damage_failure() {
                Some(f) => (f.seq, f.detail.clone()),
                None => head_check
                    .err()
                    .unwrap_or((chain.len() - 1, "tail check failed".into())),
            };
            return Err(ChainError::Damaged { seq, reason });
        }
        // A cluster member not yet in the signer set still opens its copy: its state
        // machine applies without signing until a membership change lists it.
        if let (Some(key), Some(genesis)) = (chain.key(), chain.genesis()) {
            if !chain.is_clustered() {
                crate::chain::check_owner(key, &genesis.public_key)?;
            }
        }
        Ok(chain)
    }
}

/// Verifies the whole chain; `progress` is called with each sequence checked.
pub fn verify(chain: &Chain, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, ChainError> {
    verify_range(chain, 0, progress)
}

/// A range of sequences for a worker: it reads, hashes and checks them itself.
struct Job {
    lo: u64,
    hi: u64,
    genesis: Option<Genesis>,
    /// The signer sets as indexed: heads are checked against them, and the joined
    /// cluster events are checked against the index afterwards.
    signers: Arc<Signers>,
}

/// A signed head that passed every check but its Merkle root, which only the joiner can
/// check (it needs the frontier before the batch).
struct HeadAt {
    seq: u64,
    offset: usize,
    claimed_root: Hash,
    local_peaks: Vec<(u32, Hash)>,
}

#[derive(Default)]
struct JobResult {
    found: Findings,
    heads: Vec<HeadAt>,
    head_count: u64,
    events: u64,
    foreign_refs: Vec<(u64, witness::EventRef)>,
    artifacts: Vec<witness::ArtifactRef>,
    /// Cluster events that change the signer set.
    signer_events: Vec<Event>,
    /// Sequence and previous-hash of the first record, and the last record's stored hash:
    /// the joiner checks the link across batches.
    first: Option<(u64, Hash)>,
    last: Option<(u64, Hash)>,
    /// Peaks of the batch's own frontier after its last leaf.
    end_peaks: Vec<(u32, Hash)>,
    /// Leaf hashes, only for a batch that does not start at an aligned position.
    leaves: Option<Vec<Hash>>,
}

impl Job {
    fn aligned(&self) -> bool {
        self.lo.is_multiple_of(BATCH)
    }

    /// Reads events `lo..hi` and their heads, hashes every event, builds the batch's
    /// Merkle subtree, and checks sequences, links inside the batch, references and heads.
    fn run(self, chain: &Chain) -> Result<JobResult, ChainError> {
        let store = chain.store();
        let mut out = JobResult::default();
        let mut genesis = self.genesis.clone();
        let mut external = External::default();
        let mut lookup = |seq: u64| chain.stored_hash(seq).ok().flatten();
        let mut local = Frontier::<Shake256Merkle>::default();
        let mut leaves = (!self.aligned()).then(Vec::new);
        let mut heads = chain.signed_heads(self.lo).peekable();
        // A full scan must not push everything else out of the block cache.
        let mut scan = rocksdb::ReadOptions::default();
        scan.fill_cache(false);
        scan.set_iterate_upper_bound(seq_key(self.hi).to_vec());
        let mut it = store.db().raw_iterator_cf_opt(store.cf(cf::EVENTS), scan);
        it.seek(seq_key(self.lo));
        let (mut expected, mut prev) = (self.lo, None::<Hash>);
        let mut offset = 0usize;
        while let (Some(key), Some(record)) = (it.key(), it.value()) {
            let seq = crate::store::key_seq(key).ok_or_else(|| ChainError::Damaged {
                seq: expected,
                reason: format!("malformed event key {}", hex::encode(key)),
            })?;
            out.events += 1;
            if seq != expected {
                out.found.fail(
                    expected,
                    FailureKind::Sequence,
                    format!("events {expected}..{seq} are missing"),
                );
            }
            expected = seq.saturating_add(1);
            let (encoded, stored) = match split_record(record) {
                Some((e, h)) => (e, Some(h)),
                None => {
                    out.found
                        .fail(seq, FailureKind::Decode, "record is shorter than a hash");
                    (record, None)
                }
            };
            let computed = hash_encoded(encoded);
            if let Some(stored) = stored.filter(|s| *s != computed) {
                out.found.fail(
                    seq,
                    FailureKind::Hash,
                    format!("content hashes to {computed}, stored hash is {stored}"),
                );
            }
            let header_prev = check_event(
                &mut out.found,
                seq,
                encoded,
                prev.as_ref(),
                &mut Seen {
                    genesis: &mut genesis,
                    lookup: &mut lookup,
                    external: &mut external,
                    signer_events: &mut out.signer_events,
                },
            );
            if out.first.is_none() {
                out.first = Some((seq, header_prev.unwrap_or(Hash::ZERO)));
            }
            let stored_or_computed = stored.unwrap_or(computed);
            prev = Some(stored_or_computed);
            out.last = Some((seq, stored_or_computed));
            let leaf = Shake256Merkle::leaf(&computed.0);
            match &mut leaves {
                Some(list) => list.push(leaf),
                None => local.push(leaf, |_| {}),
            }
            while let Some(item) = heads.next_if(|h| matches!(h, Ok((s, _)) if *s <= seq)) {
                let (head_seq, bytes) = item?;
                out.head_count += 1;
                if head_seq < seq {
                    out.found.fail(
                        head_seq,
                        FailureKind::Head,
                        "signed head for an event that is missing",
                    );
                    continue;
                }
                match check_head(&bytes, seq, &computed, genesis.as_ref(), &self.signers) {
                    Ok(claimed_root) => out.heads.push(HeadAt {
                        seq,
                        offset,
                        claimed_root,
                        local_peaks: local.peaks().to_vec(),
                    }),
                    Err(detail) => out.found.fail(seq, FailureKind::Head, detail),
                }
            }
            offset += 1;
            it.next();
        }
        it.status().map_err(|e| ChainError::Store(store.rocks(e)))?;
        while let Some(item) = heads.next_if(|h| matches!(h, Ok((s, _)) if *s < self.hi)) {
            let (head_seq, _) = item?;
            out.head_count += 1;
            out.found.fail(
                head_seq,
                FailureKind::Head,
                "signed head for an event that is missing",
            );
        }
        if expected < self.hi {
            out.found.fail(
                expected,
                FailureKind::Sequence,
                format!("events {expected}..{} are missing", self.hi),
            );
        }
        out.foreign_refs = external.foreign_refs;
        out.artifacts = external.artifacts;
        out.end_peaks = local.peaks().to_vec();
        out.leaves = leaves;
        Ok(out)
    }
}

/// Joins batch results in sequence order: links across batches, the running Merkle
/// frontier and every head's root.
struct Joiner {
    frontier: Frontier<Shake256Merkle>,
    found: Findings,
    /// Stored hash of the last event joined.
    prev: Hash,
    /// Root of everything joined, including a final partial batch; None once a gap has
    /// made positions and sequences disagree (already reported as a failure).
    root: Option<Hash>,
    events: u64,
    heads: u64,
    foreign_refs: Vec<(u64, witness::EventRef)>,
    artifacts: Vec<witness::ArtifactRef>,
    signer_events: Vec<Event>,
}

impl Joiner {
    fn join(&mut self, result: JobResult) {
        self.found.count += result.found.count;
        self.found.first_damage = match (self.found.first_damage, result.found.first_damage) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.found.listed.extend(result.found.listed);
        self.events += result.events;
        self.heads += result.head_count;
        self.foreign_refs.extend(result.foreign_refs);
        self.artifacts.extend(result.artifacts);
        self.signer_events.extend(result.signer_events);
        if let Some((seq, header_prev)) = result.first {
            if header_prev != self.prev {
                self.found.fail(
                    seq,
                    FailureKind::Link,
                    format!(
                        "previous hash {header_prev} does not match event {}'s hash {}",
                        seq.wrapping_sub(1),
                        self.prev
                    ),
                );
            }
        }
        if let Some((_, last)) = result.last {
            self.prev = last;
        }
        let Some(_) = self.root else { return };
        let check = |found: &mut Findings, head: &HeadAt, root: Hash| {
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
                        check(&mut self.found, head, self.frontier.root());
                    }
                }
                self.root = Some(self.frontier.root());
            }
            None if self.frontier.size().is_multiple_of(BATCH) => {
                for head in &result.heads {
                    check(
                        &mut self.found,
                        head,
                        self.frontier.root_with(&head.local_peaks),
                    );
                }
                self.root = Some(self.frontier.root_with(&result.end_peaks));
                if result.events == BATCH {
                    let batch_root =
                        Frontier::<Shake256Merkle>::default().root_with(&result.end_peaks);
                    self.frontier.push_subtree(BATCH_LEVEL, batch_root);
                }
            }
            // An earlier short batch (missing events) left the frontier unaligned: the
            // roots after it can no longer be compared, and the gap is already reported.
            None => self.root = None,
        }
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
    // Workers need the genesis key for heads before batch 0 is joined; the worker of
    // batch 0 checks the genesis itself.
    let genesis = if from == 0 {
        chain
            .event(0)
            .ok()
            .and_then(|e| Genesis::from_event(&e.event).ok())
    } else {
        chain.genesis()
    };
    let signers = Arc::new(match &genesis {
        Some(g) if chain.genesis().as_ref() != Some(g) => Signers::new(g.public_key),
        _ => chain.signers(),
    });
    let end = last_event_key(chain)?
        .map(|s| s.saturating_add(1))
        .unwrap_or(from)
        .max(from);
    let mut joiner = Joiner {
        root: Some(frontier.root()),
        frontier,
        found: Findings::default(),
        prev,
        events: 0,
        heads: 0,
        foreign_refs: Vec::new(),
        artifacts: Vec::new(),
        signer_events: Vec::new(),
    };
    let outcome: Result<(), ChainError> = std::thread::scope(|scope| {
        let mut workers = Vec::new();
        for _ in 0..2 {
            let (job_tx, job_rx) = sync_channel::<Job>(IN_FLIGHT);
            let (result_tx, result_rx) = sync_channel::<Result<JobResult, ChainError>>(IN_FLIGHT);
            scope.spawn(move || {
                for job in job_rx {
                    if result_tx.send(job.run(chain)).is_err() {
                        break;
                    }
                }
            });
            workers.push((job_tx, result_rx));
        }
        let mut in_flight = std::collections::VecDeque::new();
        let mut lo = from;
        let mut next = 0usize;
        let mut outcome = Ok(());
        let mut join_one =
            |w: usize, joiner: &mut Joiner, outcome: &mut Result<(), ChainError>| match workers[w]
                .1
                .recv()
            {
                Ok(Ok(result)) => {
                    progress(result.last.map(|(s, _)| s).unwrap_or(0));
                    joiner.join(result);
                }
                Ok(Err(e)) => *outcome = Err(e),
                Err(_) => {}
            };
        while lo < end && outcome.is_ok() {
            let hi = ((lo / BATCH) + 1).saturating_mul(BATCH).min(end);
            let w = next % workers.len();
            next += 1;
            // A worker only stops when its channel closes, so this cannot fail.
            let _ = workers[w].0.send(Job {
                lo,
                hi,
                genesis: genesis.clone(),
                signers: signers.clone(),
            });
            in_flight.push_back(w);
            if in_flight.len() > IN_FLIGHT {
                let w = in_flight.pop_front().expect("in flight");
                join_one(w, &mut joiner, &mut outcome);
            }
            lo = hi;
        }
        for w in in_flight {
            join_one(w, &mut joiner, &mut outcome);
        }
        outcome
    });
    outcome?;
    // Heads past the last event. A chain being appended to meanwhile (a daemon's) has
    // new events and their heads past `end`, written together in one batch: a head whose
    // event exists now is such an append, outside this run, not a failure.
    for item in chain.signed_heads(end) {
        let (head_seq, _) = item?;
        if chain.stored_hash(head_seq)?.is_some() {
            continue;
        }
        joiner.heads += 1;
        joiner.found.fail(
            head_seq,
            FailureKind::Head,
            format!("signed head at {head_seq} is beyond the last event"),
        );
    }
    if joiner.heads == 0 && from == 0 && joiner.events > 0 {
        joiner
            .found
            .fail(end - 1, FailureKind::Head, "no signed head is stored");
    }
    check_signer_sets(&mut joiner.found, &signers, from, &joiner.signer_events);
    let mut found = joiner.found;
    found.listed.sort_by_key(|f| (f.seq, f.kind));
    found.listed.truncate(MAX_LISTED_FAILURES);
    let mut report = VerifyReport {
        from,
        events: joiner.events,
        heads: joiner.heads,
        failure_count: found.count,
        first_damage: found.first_damage,
        failures: found.listed,
        external_refs: joiner.foreign_refs.len() as u64,
        foreign_refs: joiner.foreign_refs,
        artifacts: joiner.artifacts,
        root: joiner.root,
        last_good_head: None,
    };
    if from == 0 && report.events == 0 {
        report.failure_count += 1;
        report.first_damage = Some(0);
        report.failures.insert(
            0,
            Failure {
                seq: 0,
                kind: FailureKind::Genesis,
                detail: "the chain has no events".into(),
            },
        );
    }
    // Every head before the first damage verified (a failing head is itself damage).
    let limit = report.first_damage.unwrap_or(u64::MAX);
    report.last_good_head = last_head_below(chain, limit)?;
    Ok(report)
}

/// Replays the cluster events of `from..` on the indexed sets before `from` and fails
/// wherever the result differs from the indexed sets: a set the index names that no
/// event installs, or the reverse, would let a key sign that the chain never authorised.
fn check_signer_sets(found: &mut Findings, indexed: &Signers, from: u64, events: &[Event]) {
    let mut replay = indexed.before(from);
    for event in events {
        if let Err(detail) = replay.observe(event) {
            found.fail(event.seq, FailureKind::Signers, detail);
        }
    }
    let ours = replay.changes().iter().filter(|(seq, _)| *seq >= from);
    let theirs = indexed.changes().iter().filter(|(seq, _)| *seq >= from);
    let mut all: Vec<_> = ours
        .clone()
        .chain(theirs.clone())
        .map(|(s, _)| *s)
        .collect();
    all.sort_unstable();
    all.dedup();
    for seq in all {
        let from_events = ours.clone().find(|(s, _)| *s == seq).map(|(_, k)| k);
        let from_index = theirs.clone().find(|(s, _)| *s == seq).map(|(_, k)| k);
        if from_events != from_index {
            let detail = match (from_events, from_index) {
                (Some(_), None) => "the cluster event here is missing from the signer index",
                (None, Some(_)) => "the signer index names a set that no cluster event installs",
                _ => "the signer index names other keys than the cluster event here",
            };
            found.fail(seq, FailureKind::Signers, detail);
        }
    }
}

fn last_event_key(chain: &Chain) -> Result<Option<u64>, ChainError> {
    let store = chain.store();
    let mut it = store.db().raw_iterator_cf(store.cf(cf::EVENTS));
    it.seek_to_last();
    let last = it.key().and_then(crate::store::key_seq);
    it.status().map_err(|e| ChainError::Store(store.rocks(e)))?;
    Ok(last)
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

/// What a worker gathers from the events it checks, for the checks that need more than
/// one event: the genesis, earlier events' hashes, references out of the chain, and the
/// events that change who may sign.
struct Seen<'a> {
    genesis: &'a mut Option<Genesis>,
    lookup: &'a mut dyn FnMut(u64) -> Option<Hash>,
    external: &'a mut External,
    signer_events: &'a mut Vec<Event>,
}

/// Checks what one event says about its place (sequence, link, chain) and, for the
/// kinds that need it, its payload. Returns the previous-hash the event names, for the
/// joiner's check across batches (`prev` is None for the first event of a batch).
fn check_event(
    found: &mut Findings,
    seq: u64,
    encoded: &[u8],
    prev: Option<&Hash>,
    seen: &mut Seen<'_>,
) -> Option<Hash> {
    let Seen {
        genesis,
        lookup,
        external,
        signer_events,
    } = seen;
    let Some(header) = peek_header(encoded) else {
        let why = Event::decode(encoded)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_else(|| "not an event".into());
        found.fail(seq, FailureKind::Decode, why);
        return None;
    };
    if header.seq != seq {
        found.fail(
            seq,
            FailureKind::Sequence,
            format!("event stored at {seq} says it is {}", header.seq),
        );
    }
    if let Some(prev) = prev.filter(|p| **p != header.prev_hash) {
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
    let needs_payload = seq == 0
        || header.source == "witness"
        || header.source == "lineage"
        || header.source == crate::cluster::SOURCE
        || header.kind == witness::ASSESS_COMPLETE;
    if !needs_payload {
        if crate::event::validate_kind(header.source, header.kind).is_err() {
            found.fail(
                seq,
                FailureKind::Decode,
                format!("kind `{}` is not `{}.<verb>`", header.kind, header.source),
            );
        }
        return Some(header.prev_hash);
    }
    let event = match Event::decode(encoded) {
        Ok(e) => e,
        Err(e) => {
            found.fail(seq, FailureKind::Decode, e.to_string());
            return Some(header.prev_hash);
        }
    };
    if seq == 0 {
        match Genesis::from_event(&event) {
            Ok(g) => **genesis = Some(g),
            Err(e) => found.fail(0, FailureKind::Genesis, e),
        }
    }
    if crate::cluster::is_signer_event(&event) {
        signer_events.push(event);
        return Some(header.prev_hash);
    }
    if let Err(detail) = witness::check_event(&event, lookup, external) {
        found.fail(
            seq,
            FailureKind::Reference,
            format!("{}: {detail}", event.kind),
        );
    }
    Some(header.prev_hash)
}

fn check_head(
    bytes: &[u8],
    seq: u64,
    hash: &Hash,
    genesis: Option<&Genesis>,
    signers: &Signers,
) -> Result<Hash, String> {
    let head = SignedHead::decode(bytes).map_err(|e| e.to_string())?;
    if head.seq != seq {
        return Err(format!("head stored at {seq} says it is {}", head.seq));
    }
    let genesis = genesis.ok_or("no valid genesis to check the signer against")?;
    if head.chain_id != genesis.chain_id {
        return Err(format!("head names chain {}", head.chain_id));
    }
    if !signers.is_authorised(seq, &head.signer) {
        return Err(signers.refusal(seq, &head.signer));
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
