//! Inclusion proofs: one event, its audit path and the signed head it proves against,
//! checkable offline by anyone who has the file and trusts the signer's key.
//!
//! The proof carries the event's exact canonical bytes (`event_cbor`): the verifier
//! hashes those, so the readable `event` view can't be altered without being noticed.

use crate::chain::{Chain, ChainError, StoredSubtrees};
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
    /// The head is signed by a key other than the one the verifier trusts.
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
    let path = inclusion_path::<Shake256Merkle, _>(&StoredSubtrees(chain.store()), seq, size)?;
    Ok(serde_json::json!({
        "format": PROOF_FORMAT,
        "leaf_index": seq,
        "tree_size": size,
        "event_hash": stored.hash.to_hex(),
        "event": stored.event.to_json(&stored.hash),
        "event_cbor": hex::encode(stored.event.encode()),
        "audit_path": path.iter().map(Hash::to_hex).collect::<Vec<_>>(),
        "signed_head": head.to_json(),
    }))
}

/// What a verified proof establishes.
#[derive(Debug, Clone, PartialEq)]
pub struct ProvenEvent {
    /// The event.
    pub event: Event,
    /// Its hash.
    pub hash: Hash,
    /// The head it is included under.
    pub head: SignedHead,
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
    let path: Vec<Hash> = doc
        .get("audit_path")
        .and_then(|v| v.as_array())
        .ok_or_else(|| bad("no `audit_path` list"))?
        .iter()
        .map(|v| v.as_str().and_then(|s| Hash::from_hex(s).ok()))
        .collect::<Option<_>>()
        .ok_or_else(|| bad("`audit_path` holds something that is not a hash"))?;
    let head = SignedHead::from_json(
        doc.get("signed_head")
            .ok_or_else(|| bad("no `signed_head`"))?,
    )
    .map_err(|e| ProofCheckError::Head(e.to_string()))?;
    head.verify_signature()
        .map_err(|e| ProofCheckError::Head(e.to_string()))?;
    if let Some(want) = trusted_signer {
        if &head.signer != want {
            return Err(ProofCheckError::Signer {
                got: crate::keys::fingerprint(&head.signer),
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
    verify_inclusion::<Shake256Merkle>(
        index,
        size,
        &Shake256Merkle::leaf(&hash.0),
        &path,
        &head.merkle_root,
    )
    .map_err(|e| ProofCheckError::Path(e.to_string()))?;
    Ok(ProvenEvent { event, hash, head })
}
