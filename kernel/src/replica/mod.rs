//! Read-only replicas of peers' chains, and the ranges a node serves so that peers can
//! replicate its own.
//!
//! A range is served as consecutive events from some sequence, the server's latest signed
//! head, a consistency proof from the range's end to that head, and the audit path of the
//! range's first event under it. The receiver checks everything before it stores
//! anything: the head's signature and signer, each event's encoding, hash, sequence,
//! chain and link, and that the Merkle root over its replica plus the range is consistent
//! with the signed root (equal to it when the range reaches the head). A range that does
//! not link onto the replica is refused; the audit path lets the node turn such a fork
//! into offline-checkable evidence.

use crate::chain::{Chain, ChainError, Genesis, HeadMode, StoredSubtrees};
use crate::event::Event;
use crate::hash::Hash;
use crate::head::SignedHead;
use crate::keys::fingerprint;
use crate::merkle::{
    consistency_path, inclusion_path, verify_consistency, verify_inclusion, MerkleHasher,
    Shake256Merkle,
};
use crate::store::{cf, Store};
use crate::verbatim::{check_all, BuiltMerkle, Verbatim};

use std::sync::Arc;

/// Key (in the `index` family) of the head that vouches for a range short of it.
pub const VOUCHING_HEAD_KEY: &[u8] = b"replica-vouching-head";

/// Why a range is refused. Nothing is stored when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum ReplicaError {
    /// The replica's store failed.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The range or its head does not verify.
    #[error("range from {from} refused: {reason}")]
    Refused {
        /// First sequence of the range.
        from: u64,
        /// Why.
        reason: String,
    },
    /// The range is valid as far as it goes but no news here: its head is older than the
    /// one already verified (a relay that is behind), or the replica grew meanwhile. Not
    /// the sender's fault, so never a reason to distrust it.
    #[error("range from {from} is not news: {reason}")]
    Outdated {
        /// First sequence of the range.
        from: u64,
        /// Why.
        reason: String,
    },
    /// The range's first event does not link onto the replica: the peer now presents a
    /// different history than the one already verified (check for equivocation).
    #[error("range from {from} does not extend the replica (its event {from} links to {got}, the replica ends in {want})")]
    Diverged {
        /// First sequence of the range.
        from: u64,
        /// The previous hash the range names (hex).
        got: String,
        /// The replica's last hash (hex).
        want: String,
    },
}

/// A served range (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    /// First sequence.
    pub from: u64,
    /// Canonical event encodings, in order.
    pub events: Vec<Vec<u8>>,
    /// The server's latest signed head.
    pub head: SignedHead,
    /// Consistency proof from `from + events.len()` to the head's size (empty when the
    /// range reaches the head).
    pub consistency: Vec<Hash>,
    /// Audit path of event `from` under the head (empty when the range is empty).
    pub first_path: Vec<Hash>,
}

/// What a stored range did to the replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extended {
    /// Events stored.
    pub stored: u64,
    /// Replica length after.
    pub len: u64,
    /// Whether the replica now ends at the signed head.
    pub at_head: bool,
}

/// Serves `from..` of `chain`: at most `max_count` events and, past the first, at most
/// `max_bytes` of encodings, never beyond the latest signed head.
pub fn serve(
    chain: &Chain,
    from: u64,
    max_count: u32,
    max_bytes: u64,
) -> Result<Range, ChainError> {
    let latest = chain.latest_signed_head().ok_or(ChainError::Empty)?;
    let mut events = read_events(chain, from, latest.size(), max_count, max_bytes)?;
    let head = serving_head(chain, latest, from.saturating_add(events.len() as u64))?;
    let size = head.size();
    events.truncate(usize::try_from(size.saturating_sub(from)).unwrap_or(usize::MAX));
    // `from` is the asker's: nothing is served past the head, so this only saturates
    // for a start beyond it.
    let to = from.saturating_add(events.len() as u64);
    let subtrees = StoredSubtrees(chain.store());
    let consistency = if to > 0 && to < size {
        consistency_path::<Shake256Merkle, _>(&subtrees, to, size)?
    } else {
        Vec::new()
    };
    let first_path = if events.is_empty() {
        Vec::new()
    } else {
        inclusion_path::<Shake256Merkle, _>(&subtrees, from, size)?
    };
    Ok(Range {
        from,
        events,
        head,
        consistency,
        first_path,
    })
}

/// The encodings of `from..size`: at most `max_count` events and, past the first, at
/// most `max_bytes`.
fn read_events(
    chain: &Chain,
    from: u64,
    size: u64,
    max_count: u32,
    max_bytes: u64,
) -> Result<Vec<Vec<u8>>, ChainError> {
    let mut events = Vec::new();
    if from >= size {
        return Ok(events);
    }
    let mut bytes = 0u64;
    for record in chain.records(from) {
        let (seq, record) = record?;
        let len = crate::chain::split_record(&record)
            .ok_or(ChainError::Damaged {
                seq,
                reason: "record shorter than a hash".into(),
            })?
            .0
            .len();
        let over_budget = !events.is_empty() && bytes.saturating_add(len as u64) > max_bytes;
        if seq >= size || events.len() as u64 >= u64::from(max_count) || over_budget {
            break;
        }
        bytes += len as u64;
        // The record is the encoding and its hash: cut the hash off, copy nothing.
        let mut encoded = record.into_vec();
        encoded.truncate(len);
        events.push(encoded);
    }
    Ok(events)
}

/// The head a range ending at `to` is served under: the latest one, except on a
/// cluster's chain, where signers change along the chain. The receiver checks the head's
/// signer against the sets the events it holds after the range install, so there the
/// head is the latest stored one before the first signer event at or after `to` (and
/// at or after the range's last event). Heads served to one receiver so never go
/// backwards (an older head than one it verified would be no news to it), and a range
/// that stops short of its head tells the receiver to ask on.
fn serving_head(chain: &Chain, latest: SignedHead, to: u64) -> Result<SignedHead, ChainError> {
    let signers = chain.signers();
    let next_change = signers
        .changes()
        .iter()
        .map(|(seq, _)| *seq)
        .find(|seq| *seq >= to);
    let Some(next_change) = next_change.filter(|c| *c <= latest.seq) else {
        return Ok(latest);
    };
    let mut chosen = None;
    for item in chain.signed_heads(to.saturating_sub(1)) {
        let (seq, bytes) = item?;
        if seq >= next_change {
            // The first head past the change only when none lies before it (members
            // sign every few hundred events, so only a single-node stretch lacks one).
            chosen = chosen.or(Some(bytes));
            break;
        }
        chosen = Some(bytes);
    }
    Ok(chosen
        .and_then(|bytes| SignedHead::decode(&bytes).ok())
        .unwrap_or(latest))
}

/// A peer's chain, held read-only and extended only by verified ranges.
pub struct Replica {
    chain: Chain,
    signer: [u8; 32],
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica")
            .field("signer", &fingerprint(&self.signer))
            .field("len", &self.chain.len())
            .finish()
    }
}

impl Replica {
    /// Opens (or starts) the replica of the chain signed by `signer` in `store`. A store
    /// holding another signer's chain is refused.
    pub fn open(store: Arc<Store>, signer: [u8; 32]) -> Result<Replica, ReplicaError> {
        let chain = Chain::open_unchecked(store, None)?;
        if let Some(genesis) = chain.genesis() {
            if genesis.public_key != signer {
                return Err(ReplicaError::Refused {
                    from: 0,
                    reason: format!(
                        "this replica holds the chain of {}, not of {}",
                        fingerprint(&genesis.public_key),
                        fingerprint(&signer)
                    ),
                });
            }
        }
        Ok(Replica { chain, signer })
    }

    /// The replicated chain (read it, verify it; appends are refused without a key).
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// Events held.
    pub fn len(&self) -> u64 {
        self.chain.len()
    }

    /// Whether nothing is held yet.
    pub fn is_empty(&self) -> bool {
        self.chain.is_empty()
    }

    /// The newest verified head: the one that vouched for the last stored range, which may
    /// lie ahead of the replica's end.
    pub fn verified_head(&self) -> Result<Option<SignedHead>, ReplicaError> {
        verified_head(&self.chain)
    }

    /// Verifies `range` and stores its events (see the module docs). An empty range that
    /// proves the replica consistent with a newer head records that head.
    pub fn extend(&self, range: &Range) -> Result<Extended, ReplicaError> {
        extend(&self.chain, &self.signer, range)
    }

    /// Checks `range` without storing it (see [`check`]): as the next range of the
    /// replica, or as the one after `after`.
    pub fn check(
        &self,
        range: Range,
        after: Option<&CheckedRange>,
    ) -> Result<CheckedRange, ReplicaError> {
        check(&self.chain, &self.signer, range, after)
    }

    /// Stores a checked range (see [`store`]).
    pub fn store(&self, checked: &CheckedRange) -> Result<Extended, ReplicaError> {
        store(&self.chain, checked)
    }
}

/// The newest verified head of `chain`, a replica or a cluster member's copy being filled
/// by range sync: the one that vouched for the last stored range, which may lie ahead of
/// the chain's end.
pub fn verified_head(chain: &Chain) -> Result<Option<SignedHead>, ReplicaError> {
    let stored = chain.latest_signed_head();
    let vouching = chain
        .store()
        .get(cf::INDEX, VOUCHING_HEAD_KEY)
        .map_err(ChainError::from)?
        .and_then(|bytes| SignedHead::decode(&bytes).ok());
    Ok(match (stored, vouching) {
        (Some(s), Some(v)) => Some(if v.seq > s.seq { v } else { s }),
        (s, v) => s.or(v),
    })
}

/// Verifies `range` and stores its events onto `chain` (see the module docs): a peer's
/// replica, or a cluster member's own copy catching up. `genesis_key` is the key the
/// genesis must name when the range starts the chain. The head must be signed by a key
/// the chain authorises at its sequence, as the chain stands after the range (when the
/// range stops short of the head, as far as the range goes).
pub fn extend(
    chain: &Chain,
    genesis_key: &[u8; 32],
    range: &Range,
) -> Result<Extended, ReplicaError> {
    let checked = check(chain, genesis_key, range.clone(), None)?;
    store(chain, &checked)
}

/// A range whose events and head are checked, ready to be stored once the replica ends
/// where the range starts. Checking needs no lock on the replica, so the next range is
/// checked while the one before it is being written.
#[derive(Debug)]
pub struct CheckedRange {
    from: u64,
    events: Vec<Verbatim<'static>>,
    head: SignedHead,
    consistency: Vec<Hash>,
    /// Hash of the last event (or, for an empty range, of the event it follows).
    last_hash: Hash,
    /// The Merkle tree as the range leaves it.
    merkle: BuiltMerkle,
}

impl CheckedRange {
    /// The head the range was served under.
    pub fn head(&self) -> &SignedHead {
        &self.head
    }

    /// The sequence after the range's last event.
    pub fn end(&self) -> u64 {
        self.from.saturating_add(self.events.len() as u64)
    }

    /// Whether the range reaches its head.
    pub fn at_head(&self) -> bool {
        self.end() == self.head.size()
    }
}

/// Checks `range` (see [`extend`]) as the first range to store onto `chain`, or, with
/// `after`, as the range that follows that checked one.
pub fn check(
    chain: &Chain,
    genesis_key: &[u8; 32],
    range: Range,
    after: Option<&CheckedRange>,
) -> Result<CheckedRange, ReplicaError> {
    let from = range.from;
    let refuse = |reason: String| ReplicaError::Refused { from, reason };
    let outdated = |reason: String| ReplicaError::Outdated { from, reason };
    let head = &range.head;
    head.verify_signature().map_err(|e| refuse(e.to_string()))?;
    let (len, prev, frontier) = match after {
        Some(before) => (
            before.end(),
            before.last_hash,
            before.merkle.frontier.clone(),
        ),
        None => chain.end(),
    };
    if from != len {
        return Err(outdated(format!(
            "the replica holds {len} events; ranges must start there"
        )));
    }
    // Nothing here may wait for the chain's lock, which a store of the range before
    // holds through its fsync: after a checked range, its head names the chain.
    let chain_id = match after {
        Some(before) => Some(before.head.chain_id),
        None => chain.genesis().map(|g| g.chain_id),
    };
    if chain_id.is_some_and(|id| id != head.chain_id) {
        return Err(refuse("the head is of another chain".into()));
    }
    let size = head.size();
    let to = from.saturating_add(range.events.len() as u64);
    if to > size {
        let reason = format!("range ends at {to}, past its head's {size} events");
        // Nothing but a head behind the replica: a relay that is behind, not a lie.
        return Err(if range.events.is_empty() {
            outdated(reason)
        } else {
            refuse(reason)
        });
    }
    let known = match after {
        Some(before) => Some(before.head.size()),
        None => verified_head(chain)?.map(|h| h.size()),
    };
    if let Some(known) = known.filter(|known| size < *known) {
        return Err(outdated(format!(
            "head at {} is older than the verified head at {}",
            head.seq,
            known.saturating_sub(1)
        )));
    }
    let Range {
        events,
        head,
        consistency,
        ..
    } = range;
    let events = check_events(genesis_key, from, &head, prev, events)?;
    let last_hash = events.last().map_or(prev, |e| e.hash);
    let merkle = BuiltMerkle::extend(frontier, &events);
    Ok(CheckedRange {
        from,
        merkle,
        events,
        head,
        consistency,
        last_hash,
    })
}

/// Stores a checked range; refused as outdated unless the replica ends where it starts.
pub fn store(chain: &Chain, checked: &CheckedRange) -> Result<Extended, ReplicaError> {
    let from = checked.from;
    let refuse = |reason: String| ReplicaError::Refused { from, reason };
    // The range was checked against the end it expected; anything else is no news.
    let expected = checked
        .events
        .first()
        .map_or(checked.last_hash, |first| first.prev_hash);
    let (len, last) = (chain.len(), chain.head().map_or(Hash::ZERO, |(_, h)| h));
    if len != from || last != expected {
        return Err(ReplicaError::Outdated {
            from,
            reason: format!("the replica holds {len} events; ranges must start there"),
        });
    }
    let head = &checked.head;
    let size = head.size();
    let consistency = &checked.consistency;
    // Runs on the staged write, whose signer sets already take in the range's events
    // (a signer event against the rules refuses the write before this).
    let check = |staged: &crate::chain::Staged| -> Result<(), ChainError> {
        let fail = |reason: String| ChainError::Damaged {
            seq: staged.len.saturating_sub(1),
            reason,
        };
        if staged.len == 0 {
            return Err(fail("a replica cannot be empty after a range".into()));
        }
        if !staged.signers.is_authorised(head.seq, &head.signer) {
            return Err(fail(staged.signers.refusal(head.seq, &head.signer)));
        }
        if staged.len == size {
            if staged.head_hash != head.head_hash || staged.merkle_root != head.merkle_root {
                return Err(fail("the range does not end in its signed head".into()));
            }
            return Ok(());
        }
        verify_consistency::<Shake256Merkle>(
            staged.len,
            size,
            &staged.merkle_root,
            &head.merkle_root,
            consistency,
        )
        .map_err(|e| fail(format!("not consistent with the signed head: {e}")))
    };
    let at_head = checked.at_head();
    let heads = if at_head {
        HeadMode::Given(std::slice::from_ref(head))
    } else {
        HeadMode::Unsigned
    };
    let encoded_head = head.encode();
    let vouching: &[(&[u8], Option<&[u8]>)] = if at_head {
        &[(VOUCHING_HEAD_KEY, None)]
    } else {
        &[(VOUCHING_HEAD_KEY, Some(&encoded_head))]
    };
    chain
        .write_verbatim_checked(
            &checked.events,
            Some(&checked.merkle),
            heads,
            &check,
            vouching,
        )
        .map_err(|e| match e {
            ChainError::Damaged { reason, .. } => refuse(reason),
            other => ReplicaError::Chain(other),
        })?;
    Ok(Extended {
        stored: checked.events.len() as u64,
        len: checked.end(),
        at_head,
    })
}

/// Checks the events of a range from `from` under `head`, the first linking to `prev`
/// (each one's encoding, hash, sequence, chain and link, and the genesis against
/// `genesis_key` when the range starts the chain), on two threads.
fn check_events(
    genesis_key: &[u8; 32],
    from: u64,
    head: &SignedHead,
    mut prev: Hash,
    encodings: Vec<Vec<u8>>,
) -> Result<Vec<Verbatim<'static>>, ReplicaError> {
    let refuse = |reason: String| ReplicaError::Refused { from, reason };
    let mut events = Vec::with_capacity(encodings.len());
    for (i, checked) in check_all(encodings).into_iter().enumerate() {
        let seq = from.saturating_add(i as u64);
        let event = checked.map_err(|e| refuse(format!("event {seq}: {e}")))?;
        if event.seq != seq {
            return Err(refuse(format!("event {seq} says it is {}", event.seq)));
        }
        if event.chain_id != head.chain_id {
            return Err(refuse(format!("event {seq} is of another chain")));
        }
        if event.prev_hash != prev {
            if i == 0 && seq > 0 {
                return Err(ReplicaError::Diverged {
                    from,
                    got: event.prev_hash.to_hex(),
                    want: prev.to_hex(),
                });
            }
            return Err(refuse(format!(
                "event {seq} does not link to event {}",
                seq.wrapping_sub(1)
            )));
        }
        if let (0, Some(decoded)) = (seq, &event.event) {
            let genesis =
                Genesis::from_event(decoded).map_err(|e| refuse(format!("genesis: {e}")))?;
            if genesis.public_key != *genesis_key || genesis.chain_id != head.chain_id {
                return Err(refuse("the genesis names another key or chain".into()));
            }
        }
        prev = event.hash;
        events.push(event);
    }
    Ok(events)
}

/// The event at `range.from` in the history `range.head` signs, if the range's audit path
/// proves it: the fork half of equivocation evidence against an earlier head at that
/// sequence. Returns (event hash, audit path).
pub fn proven_first_event(range: &Range) -> Option<(Hash, Vec<Hash>)> {
    let first = range.events.first()?;
    let hash = Event::decode(first).ok()?.hash();
    verify_inclusion::<Shake256Merkle>(
        range.from,
        range.head.size(),
        &Shake256Merkle::leaf(&hash.0),
        &range.first_path,
        &range.head.merkle_root,
    )
    .ok()?;
    Some((hash, range.first_path.clone()))
}

#[cfg(test)]
mod tests;
