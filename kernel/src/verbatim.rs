//! Events written as they are, not appended: an encoding with its hash and Merkle leaf,
//! its header, and the decoded event only where the chain reads the payload (the
//! genesis, cluster signer events). A replica checks each event of a received range
//! this way, many on two threads, and stores the bytes it received.

use crate::event::{check_encoded, ChainId, Event, EventError};
use crate::hash::{Hash, HASH_LEN};
use crate::merkle::{Frontier, MerkleHasher, Shake256Merkle};
use crate::merkle_helper::{push_leaf, StoredNodes};
use std::borrow::Cow;

/// Fewest events worth a second thread (spawning one costs about as much as checking
/// a hundred events).
const PARALLEL_FROM: usize = 128;

/// An event ready to be written as it is.
#[derive(Debug, Clone)]
pub(crate) struct Verbatim<'a> {
    pub(crate) chain_id: ChainId,
    pub(crate) seq: u64,
    pub(crate) prev_hash: Hash,
    pub(crate) timestamp_ns: u64,
    /// The chain's record of it: the canonical encoding followed by its hash.
    pub(crate) record: Vec<u8>,
    /// Its event hash.
    pub(crate) hash: Hash,
    /// The Merkle leaf over that hash.
    pub(crate) leaf: Hash,
    /// The event, when its payload matters to the chain (always for those built by
    /// [`Verbatim::of`]).
    pub(crate) event: Option<Cow<'a, Event>>,
}

impl<'a> Verbatim<'a> {
    /// A fully formed event of this process's own (genesis, import, tests).
    pub(crate) fn of(event: &'a Event) -> Verbatim<'a> {
        let mut encoded = Vec::new();
        event.encode_into(&mut encoded, HASH_LEN);
        Verbatim::hashed(
            event.chain_id,
            event.seq,
            event.prev_hash,
            event.timestamp_ns,
            encoded,
            Some(Cow::Borrowed(event)),
        )
    }

    /// Checks received bytes as [`Event::decode`] would and hashes them; decodes the
    /// event only when it is the genesis or a cluster event (whose payloads say who may
    /// sign). The hash is appended to the bytes in place: a receiver that leaves room
    /// for it ([`HASH_LEN`] spare capacity) saves a copy of every event.
    pub(crate) fn received(encoded: Vec<u8>) -> Result<Verbatim<'static>, EventError> {
        let header = check_encoded(&encoded)?;
        let (chain_id, seq, prev_hash, timestamp_ns) = (
            header.chain_id,
            header.seq,
            header.prev_hash,
            header.timestamp_ns,
        );
        let event = if seq == 0 || header.source == crate::cluster::SOURCE {
            Some(Cow::Owned(Event::decode(&encoded)?))
        } else {
            None
        };
        Ok(Verbatim::hashed(
            chain_id,
            seq,
            prev_hash,
            timestamp_ns,
            encoded,
            event,
        ))
    }

    fn hashed(
        chain_id: ChainId,
        seq: u64,
        prev_hash: Hash,
        timestamp_ns: u64,
        encoded: Vec<u8>,
        event: Option<Cow<'a, Event>>,
    ) -> Verbatim<'a> {
        let (record, hash) = crate::event::hashed_record(encoded);
        Verbatim {
            chain_id,
            seq,
            prev_hash,
            timestamp_ns,
            record,
            hash,
            leaf: Shake256Merkle::leaf(&hash.0),
            event,
        }
    }
}

/// The Merkle tree as a run of verbatim events leaves it, built before the write (a
/// replica builds the next range's while the one before is being written).
#[derive(Debug, Clone)]
pub(crate) struct BuiltMerkle {
    /// The frontier after the run.
    pub(crate) frontier: Frontier<Shake256Merkle>,
    /// The subtrees the run completes that the store keeps.
    pub(crate) nodes: StoredNodes,
}

impl BuiltMerkle {
    /// `start` (the frontier before the run) extended by the events' leaves.
    pub(crate) fn extend(mut start: Frontier<Shake256Merkle>, events: &[Verbatim<'_>]) -> Self {
        let mut nodes = Vec::new();
        for event in events {
            push_leaf(&mut start, event.leaf, |c| nodes.push(c));
        }
        BuiltMerkle {
            frontier: start,
            nodes,
        }
    }
}

/// [`Verbatim::received`] over every encoding, in order, on up to two threads.
pub(crate) fn check_all(mut encodings: Vec<Vec<u8>>) -> Vec<Result<Verbatim<'static>, EventError>> {
    fn check(part: Vec<Vec<u8>>) -> Vec<Result<Verbatim<'static>, EventError>> {
        part.into_iter().map(Verbatim::received).collect()
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
    if threads < 2 || encodings.len() < PARALLEL_FROM {
        return check(encodings);
    }
    let second = encodings.split_off(encodings.len() / 2);
    std::thread::scope(|scope| {
        let helper = scope.spawn(move || check(second));
        let mut all = check(encodings);
        match helper.join() {
            Ok(rest) => all.extend(rest),
            Err(panic) => std::panic::resume_unwind(panic),
        }
        all
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: u64, source: &str, kind: &str) -> Event {
        Event {
            chain_id: ChainId([2; 16]),
            seq,
            prev_hash: Hash([seq as u8; 32]),
            timestamp_ns: 1000 + seq,
            source: source.into(),
            kind: kind.into(),
            payload: ciborium::value::Value::Null,
        }
    }

    #[test]
    fn received_events_match_our_own_and_keep_order_on_two_threads() {
        let events: Vec<Event> = (1..300).map(|s| event(s, "tree", "tree.set")).collect();
        let encodings: Vec<Vec<u8>> = events.iter().map(Event::encode).collect();
        let checked = check_all(encodings);
        assert_eq!(checked.len(), events.len());
        for (got, want) in checked.iter().zip(&events) {
            let got = got.as_ref().expect("valid");
            let ours = Verbatim::of(want);
            assert_eq!(
                (got.seq, got.hash, got.leaf, &got.record),
                (ours.seq, ours.hash, ours.leaf, &ours.record)
            );
            assert!(got.event.is_none(), "a tree event's payload is not decoded");
        }
    }

    #[test]
    fn genesis_and_cluster_events_come_decoded_and_bad_bytes_are_refused() {
        let cluster = event(5, crate::cluster::SOURCE, "cluster.membership").encode();
        let genesis = event(0, "chain", "chain.genesis").encode();
        for bytes in [&cluster, &genesis] {
            let checked = Verbatim::received(bytes.to_vec()).expect("valid");
            assert_eq!(
                checked.event.as_deref(),
                Some(&Event::decode(bytes).expect("event"))
            );
        }
        let mut bad = cluster.clone();
        bad.push(0);
        assert!(Verbatim::received(bad).is_err());
    }
}
