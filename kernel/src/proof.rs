//! Inclusion proofs: one event, its audit path and the signed head it proves against,
//! checkable offline by anyone who has the file and trusts the signer's key.
//!
//! The proof carries the event's exact canonical bytes (`event_cbor`): the verifier
//! hashes those, so the readable `event` view can't be altered without being noticed.
//!
//! On a cluster's chain the head may be signed by any member; the proof then also carries
//! `signer_events`: the genesis and every `cluster.formed` / `cluster.membership` event up
//! to the head, each with its audit path under the same head. The verifier replays their
//! endorsements from the genesis key (docs/formats.md, "Cluster signer sets") and checks
//! that the head's signer is in the set in force at its sequence, so the trust root stays
//! the chain's own key. What a proof cannot show is that no later signer event was left
//! out: a removed member's key is caught by `chain verify` on the whole chain, or by a
//! replica, not by a proof alone.

use crate::chain::{Chain, ChainError, Genesis, StoredSubtrees};
use crate::cluster::Signers;
use crate::event::{hash_encoded, Event};
use crate::hash::Hash;
use crate::head::SignedHead;
use crate::merkle::{inclusion_path, verify_inclusion, MerkleHasher, Shake256Merkle};

/// Format tag of a proof file.
pub const PROOF_FORMAT: &str = "weft-inclusion-proof/1";

/// Why a proof does not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProofCheckError {
    /// Not a proof document.
    #[error("not a weft inclusion proof: {0}")]
    Malformed(String),
    /// The event bytes do not decode or do not match the readable view.
    #[error("event: {0}")]
    Event(String),
    /// Audit path does not lead to the head's root.
    #[error("audit path: {0}")]
    Path(String),
    /// The head's signature or chain do not hold.
    #[error("signed head: {0}")]
    Head(String),
    /// The head is signed by a key other than the one the verifier trusts (on a cluster's
    /// chain: the genesis key is another, or the signer is not an authorised member).
    #[error("signed by {got}, expected {want}")]
    Signer {
        /// Fingerprint of the signer.
        got: String,
        /// Fingerprint expected.
        want: String,
    },
}

/// Builds the proof of event `seq` against the latest signed head.
pub fn prove(chain: &Chain, seq: u64) -> Result<serde_json::Value, ChainError> {
    let stored = chain.event(seq)?;
    let head = chain.latest_signed_head().ok_or(ChainError::Empty)?;
    let size = head.size();
    let subtrees = StoredSubtrees(chain.store());
    let path = inclusion_path::<Shake256Merkle, _>(&subtrees, seq, size)?;
    let mut doc = serde_json::json!({
        "format": PROOF_FORMAT,
        "leaf_index": seq,
        "tree_size": size,
        "event_hash": stored.hash.to_hex(),
        "event": stored.event.to_json(&stored.hash),
        "event_cbor": hex::encode(stored.event.encode()),
        "audit_path": path.iter().map(Hash::to_hex).collect::<Vec<_>>(),
        "signed_head": head.to_json(),
    });
    let signers = chain.signers();
    if signers.is_clustered() {
        let seqs = std::iter::once(0).chain(
            signers
                .changes()
                .iter()
                .map(|(at, _)| *at)
                .filter(|at| *at <= head.seq),
        );
        let mut events = Vec::new();
        for at in seqs {
            let event = chain.event(at)?.event;
            let path = inclusion_path::<Shake256Merkle, _>(&subtrees, at, size)?;
            events.push(serde_json::json!({
                "leaf_index": at,
                "event_cbor": hex::encode(event.encode()),
                "audit_path": path.iter().map(Hash::to_hex).collect::<Vec<_>>(),
            }));
        }
        doc["signer_events"] = serde_json::Value::Array(events);
    }
    Ok(doc)
}

/// Most signer events a proof may carry: the genesis and one per membership change, far
/// above any cluster's history, and a bound on what one document makes a verifier check.
pub const MAX_SIGNER_EVENTS: usize = 4096;

/// What a verified proof establishes.
#[derive(Debug, Clone, PartialEq)]
pub struct ProvenEvent {
    /// The event.
    pub event: Event,
    /// Its hash.
    pub hash: Hash,
    /// The head it is included under.
    pub head: SignedHead,
    /// The key the proof traces the head's authority to: its signer, or on a cluster's
    /// chain the genesis key whose endorsements authorise the signer.
    pub chain_key: [u8; 32],
}

/// Verifies a proof document; `trusted_signer`, when given, must be the head's key.
pub fn verify_proof(
    doc: &serde_json::Value,
    trusted_signer: Option<&[u8; 32]>,
) -> Result<ProvenEvent, ProofCheckError> {
    let bad = |m: &str| ProofCheckError::Malformed(m.to_string());
    if doc.get("format").and_then(|f| f.as_str()) != Some(PROOF_FORMAT) {
        return Err(bad("`format` is not weft-inclusion-proof/1"));
    }
    let index = doc
        .get("leaf_index")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| bad("no `leaf_index`"))?;
    let size = doc
        .get("tree_size")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| bad("no `tree_size`"))?;
    let encoded = doc
        .get("event_cbor")
        .and_then(|v| v.as_str())
        .and_then(|s| hex::decode(s).ok())
        .ok_or_else(|| bad("no hex `event_cbor`"))?;
    let event = Event::decode(&encoded).map_err(|e| ProofCheckError::Event(e.to_string()))?;
    let hash = hash_encoded(&encoded);
    if doc.get("event_hash").and_then(|v| v.as_str()) != Some(hash.to_hex().as_str()) {
        return Err(ProofCheckError::Event(format!(
            "`event_hash` is not the hash of `event_cbor` ({hash})"
        )));
    }
    if let Some(view) = doc.get("event") {
        if *view != event.to_json(&hash) {
            return Err(ProofCheckError::Event(
                "the readable `event` differs from `event_cbor`".into(),
            ));
        }
    }
    if event.seq != index {
        return Err(ProofCheckError::Event(format!(
            "event is sequence {}, proof is for leaf {index}",
            event.seq
        )));
    }
    let path = audit_path(doc).map_err(bad)?;
    let head = SignedHead::from_json(
        doc.get("signed_head")
            .ok_or_else(|| bad("no `signed_head`"))?,
    )
    .map_err(|e| ProofCheckError::Head(e.to_string()))?;
    head.verify_signature()
        .map_err(|e| ProofCheckError::Head(e.to_string()))?;
    let chain_key = match doc.get("signer_events") {
        None => head.signer,
        Some(list) => authorising_key(list, &head)?,
    };
    if let Some(want) = trusted_signer {
        if &chain_key != want {
            return Err(ProofCheckError::Signer {
                got: crate::keys::fingerprint(&chain_key),
                want: crate::keys::fingerprint(want),
            });
        }
    }
    if head.chain_id != event.chain_id {
        return Err(ProofCheckError::Head(format!(
            "head is for chain {}, event for {}",
            head.chain_id, event.chain_id
        )));
    }
    if head.size() != size {
        return Err(ProofCheckError::Head(format!(
            "head covers {} events, proof says {size}",
            head.size()
        )));
    }
    check_inclusion(index, &hash, &path, &head).map_err(ProofCheckError::Path)?;
    Ok(ProvenEvent {
        event,
        hash,
        head,
        chain_key,
    })
}

/// The hashes of `item`'s `audit_path`; the error says what is wrong with it.
fn audit_path(item: &serde_json::Value) -> Result<Vec<Hash>, &'static str> {
    item.get("audit_path")
        .and_then(|v| v.as_array())
        .ok_or("no `audit_path` list")?
        .iter()
        .map(|v| v.as_str().and_then(|s| Hash::from_hex(s).ok()))
        .collect::<Option<_>>()
        .ok_or("`audit_path` holds something that is not a hash")
}

/// Checks that the event hashed `hash` is leaf `index` under `head` by `path`.
fn check_inclusion(
    index: u64,
    hash: &Hash,
    path: &[Hash],
    head: &SignedHead,
) -> Result<(), String> {
    verify_inclusion::<Shake256Merkle>(
        index,
        head.size(),
        &Shake256Merkle::leaf(&hash.0),
        path,
        &head.merkle_root,
    )
    .map_err(|e| e.to_string())
}

/// The parts of one included event: its bytes, decoded, and its hash (checked to be
/// leaf `index` under `head` by `path`).
fn included(
    encoded_hex: Option<&str>,
    index: u64,
    path: &[Hash],
    head: &SignedHead,
) -> Result<(Event, Hash), String> {
    let encoded = encoded_hex
        .and_then(|s| hex::decode(s).ok())
        .ok_or("no hex `event_cbor`")?;
    let event = Event::decode(&encoded).map_err(|e| e.to_string())?;
    let hash = hash_encoded(&encoded);
    if event.seq != index || event.chain_id != head.chain_id {
        return Err(format!(
            "event {} of chain {} is not leaf {index}",
            event.seq, event.chain_id
        ));
    }
    check_inclusion(index, &hash, path, head)?;
    Ok((event, hash))
}

/// Replays `signer_events` (the genesis first, then each signer event in order, every
/// one included under `head`) and returns the genesis key when it authorises the head's
/// signer at the head's sequence.
fn authorising_key(
    list: &serde_json::Value,
    head: &SignedHead,
) -> Result<[u8; 32], ProofCheckError> {
    let bad = |m: String| ProofCheckError::Signer {
        got: crate::keys::fingerprint(&head.signer),
        want: format!("a member the chain authorises ({m})"),
    };
    let items = list
        .as_array()
        .filter(|items| !items.is_empty() && items.len() <= MAX_SIGNER_EVENTS)
        .ok_or_else(|| {
            ProofCheckError::Malformed(format!(
                "`signer_events` is not a list of 1 to {MAX_SIGNER_EVENTS} events"
            ))
        })?;
    let mut signers: Option<Signers> = None;
    let mut last = None;
    for item in items {
        let index = item
            .get("leaf_index")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| {
                ProofCheckError::Malformed("a signer event has no `leaf_index`".into())
            })?;
        if last.is_some_and(|l| index <= l) || index > head.seq {
            return Err(ProofCheckError::Malformed(
                "`signer_events` are not in sequence order up to the head".into(),
            ));
        }
        last = Some(index);
        let path = audit_path(item)
            .map_err(|e| ProofCheckError::Malformed(format!("signer event {index}: {e}")))?;
        let (event, _) = included(
            item.get("event_cbor").and_then(|v| v.as_str()),
            index,
            &path,
            head,
        )
        .map_err(|e| ProofCheckError::Path(format!("signer event {index}: {e}")))?;
        match &mut signers {
            None => {
                let genesis = Genesis::from_event(&event).map_err(bad)?;
                signers = Some(Signers::new(genesis.public_key));
            }
            Some(sets) => {
                if !crate::cluster::is_signer_event(&event) {
                    return Err(bad(format!("event {index} is not a signer event")));
                }
                sets.observe(&event).map_err(bad)?;
            }
        }
    }
    let signers = signers.ok_or_else(|| bad("no genesis".into()))?;
    if !signers.is_authorised(head.seq, &head.signer) {
        return Err(bad(signers.refusal(head.seq, &head.signer)));
    }
    // The genesis key the sets start from (for a chain never clustered, the signer).
    Ok(signers.genesis_key())
}
