//! Full verification of a stored chain: every hash, link, sequence, chain id, the
//! genesis, every stored signed head, and the witness and lineage events.
//!
//! Two threads share the work, so verification runs near the speed of hashing the
//! events alone: the reader streams records from RocksDB, hashes each event and checks
//! its links; the Merkle side rebuilds the RFC 6962 tree and checks every signed head
//! against it. Both keep O(log n) state, so memory does not grow with the chain.
//! Each failure carries the sequence where it happens.

use crate::chain::{split_record, Chain, ChainError, Genesis};
use crate::event::{hash_encoded, peek_header, Event};
use crate::hash::Hash;
use crate::head::SignedHead;
use crate::merkle::{Frontier, MerkleHasher, Shake256Merkle};
use crate::store::{cf, seq_key};
use crate::witness::{self, External};
use rocksdb::{Direction, IteratorMode};
use serde::Serialize;
use std::sync::mpsc::{sync_channel, Receiver};

/// At most this many failures are listed; the rest are counted.
pub const MAX_LISTED_FAILURES: usize = 10_000;

/// Events handed from the reader to the Merkle side at a time.
const BATCH: usize = 4096;

/// What kind of check failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// Stored bytes do not decode as an event.
    Decode,
    /// Recomputed hash differs from the stored one.
    Hash,
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

/// What the reader hands to the Merkle side.
struct Batch {
    genesis: Option<Genesis>,
    leaves: Vec<(u64, Hash)>,
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
    let genesis = if from == 0 { None } else { chain.genesis() };
    let (tx, rx) = sync_channel::<Batch>(4);
    let (reader, merkle) = std::thread::scope(|scope| {
        let merkle = scope.spawn(move || merkle_side(chain, from, frontier, rx));
        let reader = read_side(chain, from, prev, genesis, progress, |batch| {
            tx.send(batch).is_ok()
        });
        drop(tx);
        (
            reader,
            merkle.join().expect("the Merkle side does not panic"),
        )
    });
    let (mut found, read) = reader?;
    let (merkle_found, heads, root) = merkle?;
    found.count += merkle_found.count;
    found.listed.extend(merkle_found.listed);
    found.listed.sort_by_key(|f| f.seq);
    found.listed.truncate(MAX_LISTED_FAILURES);
    let mut report = VerifyReport {
        from,
        events: read.events,
        heads,
        failure_count: found.count,
        failures: found.listed,
        external_refs: read.external_refs,
        root: Some(root),
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
    let store = chain.store();
    let start = seq_key(limit.saturating_sub(if limit == u64::MAX { 0 } else { 1 }));
    if limit == 0 {
        return Ok(None);
    }
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
    external_refs: u64,
}

fn read_side(
    chain: &Chain,
    from: u64,
    mut prev: Hash,
    mut genesis: Option<Genesis>,
    progress: &mut dyn FnMut(u64),
    mut send: impl FnMut(Batch) -> bool,
) -> Result<(Findings, ReadSummary), ChainError> {
    let mut found = Findings::default();
    let mut external = External::default();
    let mut lookup = |seq: u64| chain.stored_hash(seq).ok().flatten();
    let mut expected = from;
    let mut events = 0u64;
    let mut leaves = Vec::with_capacity(BATCH);
    for item in chain.records(from) {
        let (seq, record) = item?;
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
        let Some((encoded, stored)) = split_record(&record) else {
            found.fail(seq, FailureKind::Decode, "record is shorter than a hash");
            continue;
        };
        let computed = hash_encoded(encoded);
        if computed != stored {
            found.fail(
                seq,
                FailureKind::Hash,
                format!("content hashes to {computed}, stored hash is {stored}"),
            );
        }
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
        leaves.push((seq, computed));
        if leaves.len() == BATCH {
            let batch = Batch {
                genesis: genesis.clone(),
                leaves: std::mem::replace(&mut leaves, Vec::with_capacity(BATCH)),
            };
            if !send(batch) {
                break;
            }
        }
    }
    if !leaves.is_empty() {
        send(Batch { genesis, leaves });
    }
    Ok((
        found,
        ReadSummary {
            events,
            external_refs: external.foreign_refs.len() as u64,
        },
    ))
}

fn merkle_side(
    chain: &Chain,
    from: u64,
    mut frontier: Frontier<Shake256Merkle>,
    batches: Receiver<Batch>,
) -> Result<(Findings, u64, Hash), ChainError> {
    let mut found = Findings::default();
    let mut heads = chain.signed_heads(from).peekable();
    let mut checked = 0u64;
    let mut last_seq = from.checked_sub(1);
    for batch in batches {
        for (seq, hash) in batch.leaves {
            frontier.push(Shake256Merkle::leaf(&hash.0), |_| {});
            last_seq = Some(seq);
            while let Some(item) = heads.next_if(|h| matches!(h, Ok((s, _)) if *s <= seq)) {
                let (head_seq, bytes) = item?;
                checked += 1;
                if head_seq < seq {
                    found.fail(
                        head_seq,
                        FailureKind::Head,
                        "signed head for an event that is missing",
                    );
                } else if let Err(detail) =
                    check_head(&bytes, seq, &hash, &frontier, batch.genesis.as_ref())
                {
                    found.fail(seq, FailureKind::Head, detail);
                }
            }
        }
    }
    for item in heads {
        let (head_seq, _) = item?;
        checked += 1;
        found.fail(
            head_seq,
            FailureKind::Head,
            format!("signed head at {head_seq} is beyond the last event"),
        );
    }
    if checked == 0 && from == 0 {
        if let Some(seq) = last_seq {
            found.fail(seq, FailureKind::Head, "no signed head is stored");
        }
    }
    Ok((found, checked, frontier.root()))
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

fn check_head(
    bytes: &[u8],
    seq: u64,
    hash: &Hash,
    frontier: &Frontier<Shake256Merkle>,
    genesis: Option<&Genesis>,
) -> Result<(), String> {
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
    let root = frontier.root();
    if head.merkle_root != root {
        return Err(format!(
            "head names Merkle root {}, the events give {root}",
            head.merkle_root
        ));
    }
    Ok(())
}
