//! Full verification of a stored chain: every hash, link, sequence, chain id, the
//! genesis, every stored signed head, and the witness and lineage events.
//!
//! Streams from RocksDB keeping O(log n) state (a Merkle frontier), so memory does not
//! grow with the chain. Each failure carries the sequence where it happens.

use crate::chain::{split_record, Chain, ChainError, Genesis};
use crate::event::{hash_encoded, Event};
use crate::hash::Hash;
use crate::head::SignedHead;
use crate::merkle::{Frontier, MerkleHasher, Shake256Merkle};
use crate::witness::{self, External};
use serde::Serialize;

/// At most this many failures are listed; the rest are counted.
pub const MAX_LISTED_FAILURES: usize = 10_000;

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
    /// Failures (at most [`MAX_LISTED_FAILURES`]).
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

impl VerifyReport {
    /// True when nothing failed.
    pub fn ok(&self) -> bool {
        self.failure_count == 0
    }

    fn fail(&mut self, seq: u64, kind: FailureKind, detail: impl Into<String>) {
        self.failure_count += 1;
        if self.failures.len() < MAX_LISTED_FAILURES {
            self.failures.push(Failure {
                seq,
                kind,
                detail: detail.into(),
            });
        }
    }

    fn first_failure(&self) -> Option<u64> {
        self.failures.iter().map(|f| f.seq).min()
    }
}

/// Verifies the whole chain; `progress` is called with each sequence checked.
pub fn verify(chain: &Chain, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, ChainError> {
    verify_range(chain, 0, progress)
}

/// Verifies events `from..`; a start above 0 trusts the stored hash and Merkle subtrees
/// before it (used for the quick check at open).
pub fn verify_range(
    chain: &Chain,
    from: u64,
    progress: &mut dyn FnMut(u64),
) -> Result<VerifyReport, ChainError> {
    let mut report = VerifyReport {
        from,
        ..VerifyReport::default()
    };
    let store = chain.store();
    let (mut frontier, mut prev) = if from == 0 {
        (Frontier::<Shake256Merkle>::default(), Hash::ZERO)
    } else {
        let frontier = Frontier::from_source(&crate::chain::StoredSubtrees(store), from)?;
        let prev = chain.stored_hash(from - 1)?.ok_or(ChainError::Damaged {
            seq: from - 1,
            reason: "event missing".into(),
        })?;
        (frontier, prev)
    };
    let mut genesis: Option<Genesis> = if from == 0 { None } else { chain.genesis() };
    let mut heads = chain.signed_heads(from).peekable();
    let mut expected = from;
    let mut external = External::default();
    let mut lookup = |seq: u64| chain.stored_hash(seq).ok().flatten();
    for item in chain.records(from) {
        let (seq, record) = item?;
        progress(seq);
        report.events += 1;
        if seq != expected {
            report.fail(
                expected,
                FailureKind::Sequence,
                format!("events {expected}..{seq} are missing"),
            );
        }
        expected = seq + 1;
        let Some((encoded, stored)) = split_record(&record) else {
            report.fail(seq, FailureKind::Decode, "record is shorter than a hash");
            continue;
        };
        let computed = hash_encoded(encoded);
        if computed != stored {
            report.fail(
                seq,
                FailureKind::Hash,
                format!("content hashes to {computed}, stored hash is {stored}"),
            );
        }
        check_event(
            &mut report,
            seq,
            encoded,
            &prev,
            &mut genesis,
            &mut lookup,
            &mut external,
        );
        frontier.push(Shake256Merkle::leaf(&computed.0), |_| {});
        prev = stored;
        while let Some(Ok((head_seq, _))) = heads.peek() {
            if *head_seq > seq {
                break;
            }
            let (head_seq, bytes) = heads.next().expect("peeked")?;
            report.heads += 1;
            if head_seq < seq {
                report.fail(
                    head_seq,
                    FailureKind::Head,
                    "signed head for an event that is missing",
                );
                continue;
            }
            if let Err(detail) = check_head(&bytes, seq, &computed, &frontier, genesis.as_ref()) {
                report.fail(seq, FailureKind::Head, detail);
            } else if report.first_failure().is_none() {
                report.last_good_head = Some(seq);
            }
        }
        if matches!(heads.peek(), Some(Err(_))) {
            heads.next().expect("peeked")?;
        }
    }
    if from == 0 && report.events == 0 {
        report.fail(0, FailureKind::Genesis, "the chain has no events");
    }
    for item in heads {
        let (head_seq, _) = item?;
        report.heads += 1;
        report.fail(
            head_seq,
            FailureKind::Head,
            format!("signed head at {head_seq} is beyond the last event"),
        );
    }
    if report.heads == 0 && report.events > 0 && from == 0 {
        report.fail(
            expected.saturating_sub(1),
            FailureKind::Head,
            "no signed head is stored",
        );
    }
    report.external_refs = external.foreign_refs.len() as u64;
    report.root = Some(frontier.root());
    Ok(report)
}

fn check_event(
    report: &mut VerifyReport,
    seq: u64,
    encoded: &[u8],
    prev: &Hash,
    genesis: &mut Option<Genesis>,
    lookup: &mut dyn FnMut(u64) -> Option<Hash>,
    external: &mut External,
) {
    let event = match Event::decode(encoded) {
        Ok(e) => e,
        Err(e) => return report.fail(seq, FailureKind::Decode, e.to_string()),
    };
    if event.seq != seq {
        report.fail(
            seq,
            FailureKind::Sequence,
            format!("event stored at {seq} says it is {}", event.seq),
        );
    }
    if event.prev_hash != *prev {
        report.fail(
            seq,
            FailureKind::Link,
            format!(
                "previous hash {} does not match event {}'s hash {prev}",
                event.prev_hash,
                seq.wrapping_sub(1)
            ),
        );
    }
    if seq == 0 {
        match Genesis::from_event(&event) {
            Ok(g) => *genesis = Some(g),
            Err(e) => report.fail(0, FailureKind::Genesis, e),
        }
    } else if let Some(g) = genesis {
        if event.chain_id != g.chain_id {
            report.fail(
                seq,
                FailureKind::ChainId,
                format!(
                    "event names chain {}, the genesis chain is {}",
                    event.chain_id, g.chain_id
                ),
            );
        }
    }
    if let Err(detail) = witness::check_event(&event, lookup, external) {
        report.fail(
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
