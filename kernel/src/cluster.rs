//! Who may sign a chain's heads.
//!
//! A chain starts with one signer, the genesis key. A chain that a Raft cluster replicates
//! records the members allowed to sign from then on, in its own events:
//!
//! - `cluster.formed`, appended by the genesis key while it is still the only signer, lists
//!   the first members (the founder among them);
//! - `cluster.membership`, applied with every membership change, lists them again.
//!
//! The rule: a head at sequence `s` is authorised when its signer is among the keys listed
//! by the last such event at or before `s` (the genesis key when there is none). So the
//! head that covers a membership event is signed under the set that event installs, and
//! anyone holding the chain computes every set from the chain alone, offline.
//!
//! A set is only installed with the consent of the set it replaces: every signer event
//! carries an **endorsement**, an Ed25519 signature by a key of the previous set over
//! `weft/cluster/signers/v1 ‖ 0x00 ‖ CBOR[1, chain_id, kind, prev, members]`, where `prev`
//! is the sequence of the event that installed the previous set (0, the genesis, for
//! `cluster.formed`) and `members` is the payload's list. Without it anyone could append a
//! membership event naming their own key and sign the head that covers it; with it, a
//! new set traces back to the genesis key, and binding `prev` stops an old endorsement
//! from being replayed after a later change.
//!
//! The sets are also indexed (`signers/<seq>` in the `index` family, written in the same
//! batch as their event) so that opening a chain needs no scan; verification recomputes
//! them from the events and fails on any difference.

use crate::cbor::{self, read};
use crate::event::{ChainId, Event};
use crate::hash::domains;
use crate::keys::{fingerprint, verify_signature, NodeKey};
use ciborium::value::Value;
use std::collections::BTreeSet;

/// Source of the cluster's events.
pub const SOURCE: &str = "cluster";
/// Kind of the event that turns a single node's chain into a cluster's.
pub const FORMED: &str = "cluster.formed";
/// Kind of the event applied with every membership change.
pub const MEMBERSHIP: &str = "cluster.membership";
/// Key prefix of the indexed signer sets.
const INDEX_PREFIX: &[u8] = b"signers/";
/// Most members a membership event may list: far above any sensible Raft cluster, and a
/// bound on what one event can make every verifier hold.
pub const MAX_MEMBERS: usize = 64;

/// A member as the chain records it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Member {
    /// The Raft node id.
    pub id: u64,
    /// The member's name (for people; not part of the rule).
    pub name: String,
    /// The Ed25519 key the member signs heads with.
    pub public_key: [u8; 32],
}

/// A key of the previous set vouching for a new one (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endorsement {
    /// Sequence of the event that installed the set being replaced (0: the genesis).
    pub prev: u64,
    /// The endorsing key.
    pub signer: [u8; 32],
    /// Its signature over [`endorsement_message`].
    pub signature: [u8; 64],
}

fn member_list(members: &[Member]) -> Value {
    let mut sorted = members.to_vec();
    sorted.sort();
    Value::Array(
        sorted
            .iter()
            .map(|m| {
                cbor::map([
                    ("id", Value::Integer(m.id.into())),
                    ("name", Value::Text(m.name.clone())),
                    ("public_key", Value::Bytes(m.public_key.to_vec())),
                ])
            })
            .collect(),
    )
}

/// The bytes an endorsement signs.
pub fn endorsement_message(
    chain_id: &ChainId,
    kind: &str,
    prev: u64,
    members: &[Member],
) -> Vec<u8> {
    let body = cbor::encode(&Value::Array(vec![
        Value::Integer(1.into()),
        Value::Bytes(chain_id.0.to_vec()),
        Value::Text(kind.into()),
        Value::Integer(prev.into()),
        member_list(members),
    ]));
    let mut message = domains::CLUSTER_SIGNERS.as_bytes().to_vec();
    message.push(0);
    message.extend_from_slice(&body);
    message
}

/// `key`'s endorsement of `members` replacing the set installed at `prev`.
pub fn endorse(
    key: &NodeKey,
    chain_id: &ChainId,
    kind: &str,
    prev: u64,
    members: &[Member],
) -> Endorsement {
    Endorsement {
        prev,
        signer: key.public_key(),
        signature: key.sign(&endorsement_message(chain_id, kind, prev, members)),
    }
}

/// The payload of a `cluster.formed` or `cluster.membership` event listing `members`
/// (sorted by id, so equal sets encode equally) with its endorsement.
pub fn payload(members: &[Member], endorsement: &Endorsement) -> Value {
    cbor::map([
        (
            "endorsement",
            cbor::map([
                ("prev", Value::Integer(endorsement.prev.into())),
                ("signature", Value::Bytes(endorsement.signature.to_vec())),
                ("signer", Value::Bytes(endorsement.signer.to_vec())),
            ]),
        ),
        ("members", member_list(members)),
    ])
}

/// The draft of a signer event replacing the set in effect in `signers` by `members`,
/// endorsed by `key` (which must be in that set for the event to be accepted).
pub fn signer_draft(
    chain_id: &ChainId,
    signers: &Signers,
    kind: &str,
    members: &[Member],
    key: &NodeKey,
) -> Result<crate::event::EventDraft, crate::event::EventError> {
    let endorsement = endorse(key, chain_id, kind, signers.installed_at(), members);
    crate::event::EventDraft::new(SOURCE, kind, payload(members, &endorsement))
}

/// The endorsement a signer event carries.
pub fn endorsement(event: &Event) -> Result<Endorsement, String> {
    let e = read::field(&event.payload, "endorsement")
        .ok_or_else(|| format!("`{}` carries no endorsement", event.kind))?;
    let prev = read::uint(e, "prev").ok_or("the endorsement has no `prev`")?;
    let signer = read::bytes(e, "signer")
        .and_then(|b| b.try_into().ok())
        .ok_or("the endorsement has no 32-byte `signer`")?;
    let signature = read::bytes(e, "signature")
        .and_then(|b| b.try_into().ok())
        .ok_or("the endorsement has no 64-byte `signature`")?;
    Ok(Endorsement {
        prev,
        signer,
        signature,
    })
}

/// Whether `event` is one that changes the signer set.
pub fn is_signer_event(event: &Event) -> bool {
    event.source == SOURCE && (event.kind == FORMED || event.kind == MEMBERSHIP)
}

/// The members a signer event lists, checked: at least one, at most [`MAX_MEMBERS`],
/// distinct ids and keys.
pub fn members(event: &Event) -> Result<Vec<Member>, String> {
    let Some(Value::Array(list)) = read::field(&event.payload, "members") else {
        return Err(format!("`{}` has no `members` list", event.kind));
    };
    if list.is_empty() || list.len() > MAX_MEMBERS {
        return Err(format!(
            "`{}` lists {} members; 1 to {MAX_MEMBERS} are allowed",
            event.kind,
            list.len()
        ));
    }
    let mut out: Vec<Member> = Vec::with_capacity(list.len());
    for entry in list {
        let id = read::uint(entry, "id").ok_or("a member has no `id`")?;
        let name = read::text(entry, "name").unwrap_or_default().to_string();
        let public_key: [u8; 32] = read::bytes(entry, "public_key")
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| format!("member {id} has no 32-byte `public_key`"))?;
        if out.iter().any(|m| m.id == id || m.public_key == public_key) {
            return Err(format!("member {id} or its key is listed twice"));
        }
        out.push(Member {
            id,
            name,
            public_key,
        });
    }
    Ok(out)
}

/// The signer sets of one chain over its sequences (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Signers {
    genesis: Option<[u8; 32]>,
    /// (sequence of the signer event, the keys it lists), in sequence order.
    changes: Vec<(u64, BTreeSet<[u8; 32]>)>,
}

impl Signers {
    /// The sets of a chain whose genesis names `genesis_key`, before any signer event.
    pub fn new(genesis_key: [u8; 32]) -> Signers {
        Signers {
            genesis: Some(genesis_key),
            changes: Vec::new(),
        }
    }

    /// The genesis key the sets start from.
    pub fn genesis_key(&self) -> [u8; 32] {
        self.genesis.unwrap_or_default()
    }

    /// Whether the chain has been formed into a cluster.
    pub fn is_clustered(&self) -> bool {
        !self.changes.is_empty()
    }

    /// Every change: (sequence, keys).
    pub fn changes(&self) -> &[(u64, BTreeSet<[u8; 32]>)] {
        &self.changes
    }

    /// Whether `key` may sign a head at `seq`.
    pub fn is_authorised(&self, seq: u64, key: &[u8; 32]) -> bool {
        match self.changes.iter().rev().find(|(at, _)| *at <= seq) {
            Some((_, keys)) => keys.contains(key),
            None => self.genesis.as_ref() == Some(key),
        }
    }

    /// Why `key` may not sign at `seq`, for error messages.
    pub fn refusal(&self, seq: u64, key: &[u8; 32]) -> String {
        match self.changes.iter().rev().find(|(at, _)| *at <= seq) {
            Some((at, keys)) => format!(
                "head {seq} is signed by {}, which is not among the {} members the cluster event at {at} authorises",
                fingerprint(key),
                keys.len()
            ),
            None => format!(
                "head {seq} is signed by {}, the chain's key is {}",
                fingerprint(key),
                self.genesis.as_ref().map(fingerprint).unwrap_or_else(|| "unknown (no genesis)".into())
            ),
        }
    }

    /// Sequence of the event that installed the set now in effect (0: the genesis).
    pub fn installed_at(&self) -> u64 {
        self.changes.last().map_or(0, |(seq, _)| *seq)
    }

    /// Takes in one event (in sequence order). A signer event must come after the
    /// genesis, be endorsed by a key of the set it replaces, for that set; `cluster.formed`
    /// exactly once, listing the genesis key, and `cluster.membership` only after it.
    /// Returns the new set when `event` changed it; on an error nothing changed.
    pub fn observe(&mut self, event: &Event) -> Result<Option<BTreeSet<[u8; 32]>>, String> {
        if !is_signer_event(event) {
            return Ok(None);
        }
        let genesis = self.genesis.ok_or("a cluster event before the genesis")?;
        let installed = self.installed_at();
        if event.seq <= installed {
            return Err(format!(
                "cluster event at {} is not after the one at {installed}",
                event.seq
            ));
        }
        let listed = members(event)?;
        let endorsement = endorsement(event)?;
        if endorsement.prev != installed {
            return Err(format!(
                "`{}` at {} is endorsed for the set installed at {}, but the set in effect was installed at {installed}",
                event.kind, event.seq, endorsement.prev
            ));
        }
        if !self.is_authorised(event.seq.saturating_sub(1), &endorsement.signer) {
            return Err(format!(
                "`{}` at {} is endorsed by {}, which is not in the set it replaces",
                event.kind,
                event.seq,
                fingerprint(&endorsement.signer)
            ));
        }
        let message = endorsement_message(&event.chain_id, &event.kind, endorsement.prev, &listed);
        if !verify_signature(&endorsement.signer, &message, &endorsement.signature) {
            return Err(format!(
                "the endorsement of `{}` at {} does not verify",
                event.kind, event.seq
            ));
        }
        let keys: BTreeSet<[u8; 32]> = listed.iter().map(|m| m.public_key).collect();
        if event.kind == FORMED {
            if self.is_clustered() {
                return Err(format!("a second `{FORMED}` at {}", event.seq));
            }
            if !keys.contains(&genesis) {
                return Err(format!(
                    "`{FORMED}` at {} does not list the chain's own key",
                    event.seq
                ));
            }
        } else if !self.is_clustered() {
            return Err(format!(
                "`{MEMBERSHIP}` at {} before the chain was formed into a cluster",
                event.seq
            ));
        }
        self.changes.push((event.seq, keys.clone()));
        Ok(Some(keys))
    }

    /// The sets as they were before `seq` (changes at `seq` and later dropped).
    pub(crate) fn before(&self, seq: u64) -> Signers {
        Signers {
            genesis: self.genesis,
            changes: self
                .changes
                .iter()
                .filter(|(at, _)| *at < seq)
                .cloned()
                .collect(),
        }
    }

    /// Rebuilds the sets from index entries (`signers/<seq>` → encoded key list).
    pub(crate) fn from_index(
        genesis_key: [u8; 32],
        entries: impl IntoIterator<Item = (Box<[u8]>, Box<[u8]>)>,
    ) -> Signers {
        let mut out = Signers::new(genesis_key);
        for (key, value) in entries {
            let Some(seq) = key
                .strip_prefix(INDEX_PREFIX)
                .and_then(crate::store::key_seq)
            else {
                continue;
            };
            // A malformed entry is left out: verification reports the difference.
            if let Some(keys) = decode_keys(&value) {
                out.changes.push((seq, keys));
            }
        }
        out.changes.sort_by_key(|(seq, _)| *seq);
        out
    }
}

/// The index key of the set installed at `seq`.
pub(crate) fn index_key(seq: u64) -> Vec<u8> {
    let mut key = INDEX_PREFIX.to_vec();
    key.extend_from_slice(&crate::store::seq_key(seq));
    key
}

/// The index prefix, for scans.
pub(crate) fn index_prefix() -> &'static [u8] {
    INDEX_PREFIX
}

/// Index value: the keys, 32 bytes each, in order.
pub(crate) fn encode_keys(keys: &BTreeSet<[u8; 32]>) -> Vec<u8> {
    keys.iter().flat_map(|k| k.iter().copied()).collect()
}

fn decode_keys(bytes: &[u8]) -> Option<BTreeSet<[u8; 32]>> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(32) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(32)
            .filter_map(|c| <[u8; 32]>::try_from(c).ok())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ChainId;
    use crate::hash::Hash;

    fn key(n: u8) -> NodeKey {
        NodeKey::from_seed(&[n; 32])
    }

    fn pk(n: u8) -> [u8; 32] {
        key(n).public_key()
    }

    /// A signer event endorsed by key `by` for the set installed at `prev`.
    fn event(seq: u64, kind: &str, members: &[Member], by: u8, prev: u64) -> Event {
        let chain_id = ChainId([1; 16]);
        let endorsement = endorse(&key(by), &chain_id, kind, prev, members);
        Event {
            chain_id,
            seq,
            prev_hash: Hash::ZERO,
            timestamp_ns: seq,
            source: SOURCE.into(),
            kind: kind.into(),
            payload: payload(members, &endorsement),
        }
    }

    fn member(id: u64, n: u8) -> Member {
        Member {
            id,
            name: format!("m{id}"),
            public_key: pk(n),
        }
    }

    #[test]
    fn the_set_in_effect_is_the_last_at_or_before_the_head() {
        let mut s = Signers::new(pk(1));
        assert!(s.is_authorised(3, &pk(1)));
        assert!(!s.is_authorised(3, &pk(2)));
        s.observe(&event(5, FORMED, &[member(1, 1)], 1, 0))
            .expect("formed");
        s.observe(&event(9, MEMBERSHIP, &[member(1, 1), member(2, 2)], 1, 5))
            .expect("add");
        s.observe(&event(12, MEMBERSHIP, &[member(2, 2)], 2, 9))
            .expect("remove founder");
        assert!(s.is_authorised(8, &pk(1)));
        assert!(!s.is_authorised(8, &pk(2)), "2 is added only at 9");
        assert!(s.is_authorised(9, &pk(2)), "the head covering the change");
        assert!(s.is_authorised(11, &pk(1)));
        assert!(!s.is_authorised(12, &pk(1)), "removed at 12");
        assert!(s.refusal(12, &pk(1)).contains("event at 12"));
    }

    #[test]
    fn signer_events_out_of_order_are_refused() {
        let mut s = Signers::new(pk(1));
        let err = s
            .observe(&event(2, MEMBERSHIP, &[member(1, 1)], 1, 0))
            .expect_err("membership first");
        assert!(err.contains("before the chain was formed"), "{err}");
        let err = s
            .observe(&event(2, FORMED, &[member(2, 2)], 1, 0))
            .expect_err("founder missing");
        assert!(err.contains("own key"), "{err}");
        s.observe(&event(2, FORMED, &[member(1, 1)], 1, 0))
            .expect("formed");
        assert!(s.observe(&event(3, FORMED, &[member(1, 1)], 1, 2)).is_err());
        assert!(s
            .observe(&event(2, MEMBERSHIP, &[member(1, 1)], 1, 2))
            .is_err());
        let twice = event(4, MEMBERSHIP, &[member(1, 1), member(2, 1)], 1, 2);
        assert!(s.observe(&twice).expect_err("dup key").contains("twice"));
        let empty = event(4, MEMBERSHIP, &[], 1, 2);
        assert!(s.observe(&empty).is_err());
        assert_eq!(s.changes().len(), 1, "refused events change nothing");
    }

    #[test]
    fn a_set_needs_the_consent_of_the_set_it_replaces() {
        let mut s = Signers::new(pk(1));
        // An outsider naming itself: the forgery the endorsement exists to stop.
        let err = s
            .observe(&event(2, FORMED, &[member(1, 1), member(9, 9)], 9, 0))
            .expect_err("self-endorsed");
        assert!(err.contains("not in the set it replaces"), "{err}");
        s.observe(&event(2, FORMED, &[member(1, 1), member(2, 2)], 1, 0))
            .expect("formed");
        let add3 = [member(1, 1), member(2, 2), member(3, 3)];
        s.observe(&event(4, MEMBERSHIP, &add3, 2, 2))
            .expect("any member may endorse");
        // Replaying the endorsement of the change at 4 later: it names the set of 2.
        let err = s
            .observe(&event(7, MEMBERSHIP, &add3, 2, 2))
            .expect_err("replayed");
        assert!(err.contains("installed at 2"), "{err}");
        // A signature over other members than the event lists.
        let mut tampered = event(8, MEMBERSHIP, &[member(1, 1)], 1, 4);
        let forged = endorse(&key(1), &ChainId([1; 16]), MEMBERSHIP, 4, &[member(9, 9)]);
        tampered.payload = payload(&[member(1, 1)], &forged);
        assert!(s
            .observe(&tampered)
            .expect_err("tampered")
            .contains("does not verify"));
        // Another chain's endorsement.
        let mut other = event(8, MEMBERSHIP, &[member(1, 1)], 1, 4);
        other.chain_id = ChainId([2; 16]);
        assert!(s.observe(&other).is_err());
        assert_eq!(s.installed_at(), 4);
    }

    #[test]
    fn endorsement_message_known_answer() {
        // The exact bytes signed, so that another implementation can check a cluster's
        // signer sets (docs/formats.md gives the same vector).
        let message = endorsement_message(
            &ChainId([0xaa; 16]),
            FORMED,
            0,
            &[Member {
                id: 1,
                name: "a".into(),
                public_key: [0x11; 32],
            }],
        );
        let prefix = b"weft/cluster/signers/v1\0";
        assert_eq!(&message[..prefix.len()], prefix);
        let body = &message[prefix.len()..];
        assert_eq!(
            hex::encode(body),
            concat!(
                "850150",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "6e636c75737465722e666f726d6564",
                "00",
                "81a362696401646e616d6561616a7075626c69635f6b65795820",
                "1111111111111111111111111111111111111111111111111111111111111111"
            )
        );
    }

    #[test]
    fn index_entries_round_trip() {
        let keys: BTreeSet<[u8; 32]> = [[3; 32], [1; 32]].into_iter().collect();
        let entries = vec![
            (
                index_key(7).into_boxed_slice(),
                encode_keys(&keys).into_boxed_slice(),
            ),
            (
                index_key(4).into_boxed_slice(),
                encode_keys(&keys).into_boxed_slice(),
            ),
        ];
        let s = Signers::from_index([1; 32], entries);
        assert_eq!(s.changes().iter().map(|c| c.0).collect::<Vec<_>>(), [4, 7]);
        assert!(s.is_authorised(5, &[3; 32]));
        assert_eq!(decode_keys(&[0; 31]), None);
    }
}
