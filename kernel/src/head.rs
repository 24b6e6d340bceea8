//! Signed chain heads: a node's signed statement "my chain is this long, ends in this
//! hash, and these are all its events" (the Merkle root).
//!
//! The signed message is `weft/exochain/head/v1 ‖ 0x00 ‖ CBOR[1, chain_id, seq, head_hash,
//! merkle_root, time_ns, signer]`. Events between two heads are authenticated by the hash
//! links, so one signature per append batch covers every event in it.

use crate::cbor::{self, read};
use crate::event::{ChainId, MAX_SEQ};
use crate::hash::{domains, Hash};
use crate::keys::{verify_signature, NodeKey};
use ciborium::value::{Integer, Value};

/// A head and its signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedHead {
    /// Chain.
    pub chain_id: ChainId,
    /// Sequence of the head event.
    pub seq: u64,
    /// Hash of the head event.
    pub head_hash: Hash,
    /// RFC 6962 root over the hashes of events 0..=seq.
    pub merkle_root: Hash,
    /// When it was signed, ns since the epoch.
    pub time_ns: u64,
    /// The signer's Ed25519 public key.
    pub signer: [u8; 32],
    /// Ed25519 signature over [`SignedHead::message`].
    pub signature: [u8; 64],
}

/// Why a signed head is rejected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HeadError {
    /// Bytes are not a head.
    #[error("not a signed head: {0}")]
    Layout(String),
    /// Signature does not verify under the named key.
    #[error("signature on head {seq} does not verify under key {signer}")]
    BadSignature {
        /// Head sequence.
        seq: u64,
        /// Signer (hex).
        signer: String,
    },
}

impl SignedHead {
    /// Signs a head.
    pub fn sign(
        key: &NodeKey,
        chain_id: ChainId,
        seq: u64,
        head_hash: Hash,
        merkle_root: Hash,
        time_ns: u64,
    ) -> SignedHead {
        let mut head = SignedHead {
            chain_id,
            seq,
            head_hash,
            merkle_root,
            time_ns,
            signer: key.public_key(),
            signature: [0; 64],
        };
        head.signature = key.sign(&head.message());
        head
    }

    /// The exact bytes that are signed.
    pub fn message(&self) -> Vec<u8> {
        let body = cbor::encode(&Value::Array(vec![
            Value::Integer(Integer::from(1u64)),
            Value::Bytes(self.chain_id.0.to_vec()),
            Value::Integer(Integer::from(self.seq)),
            Value::Bytes(self.head_hash.0.to_vec()),
            Value::Bytes(self.merkle_root.0.to_vec()),
            Value::Integer(Integer::from(self.time_ns)),
            Value::Bytes(self.signer.to_vec()),
        ]));
        let mut msg = Vec::with_capacity(domains::HEAD.len() + 1 + body.len());
        msg.extend_from_slice(domains::HEAD.as_bytes());
        msg.push(0);
        msg.extend_from_slice(&body);
        msg
    }

    /// Checks the signature under the key the head names.
    pub fn verify_signature(&self) -> Result<(), HeadError> {
        if verify_signature(&self.signer, &self.message(), &self.signature) {
            Ok(())
        } else {
            Err(HeadError::BadSignature {
                seq: self.seq,
                signer: hex::encode(self.signer),
            })
        }
    }

    /// Number of events the head covers. A decoded head's `seq` is at most
    /// [`MAX_SEQ`], so this is exact; it saturates rather than overflow for any other.
    pub fn size(&self) -> u64 {
        self.seq.saturating_add(1)
    }

    /// CBOR map form, for storage and files.
    pub fn to_value(&self) -> Value {
        cbor::map([
            ("chain_id", Value::Bytes(self.chain_id.0.to_vec())),
            ("seq", Value::Integer(self.seq.into())),
            ("head_hash", Value::Bytes(self.head_hash.0.to_vec())),
            ("merkle_root", Value::Bytes(self.merkle_root.0.to_vec())),
            ("time_ns", Value::Integer(self.time_ns.into())),
            ("signer", Value::Bytes(self.signer.to_vec())),
            ("signature", Value::Bytes(self.signature.to_vec())),
        ])
    }

    /// Canonical CBOR bytes of [`SignedHead::to_value`].
    pub fn encode(&self) -> Vec<u8> {
        cbor::encode_canonical(self.to_value()).expect("a head has no floats or tags")
    }

    /// Reads the CBOR map form.
    pub fn from_value(value: &Value) -> Result<SignedHead, HeadError> {
        let missing =
            |name: &str| HeadError::Layout(format!("field `{name}` missing or malformed"));
        let fixed = |name: &str, len: usize| -> Result<Vec<u8>, HeadError> {
            read::bytes(value, name)
                .filter(|b| b.len() == len)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| missing(name))
        };
        Ok(SignedHead {
            chain_id: ChainId(fixed("chain_id", 16)?.try_into().expect("length checked")),
            seq: read::uint(value, "seq")
                .filter(|s| *s <= MAX_SEQ)
                .ok_or_else(|| missing("seq"))?,
            head_hash: Hash(fixed("head_hash", 32)?.try_into().expect("length checked")),
            merkle_root: Hash(
                fixed("merkle_root", 32)?
                    .try_into()
                    .expect("length checked"),
            ),
            time_ns: read::uint(value, "time_ns").ok_or_else(|| missing("time_ns"))?,
            signer: fixed("signer", 32)?.try_into().expect("length checked"),
            signature: fixed("signature", 64)?.try_into().expect("length checked"),
        })
    }

    /// Decodes CBOR bytes.
    pub fn decode(bytes: &[u8]) -> Result<SignedHead, HeadError> {
        let value = cbor::decode(bytes).map_err(|e| HeadError::Layout(e.to_string()))?;
        SignedHead::from_value(&value)
    }

    /// JSON view (hex for bytes); [`SignedHead::from_json`] reads it back.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "chain_id": self.chain_id.to_hex(),
            "seq": self.seq,
            "head_hash": self.head_hash.to_hex(),
            "merkle_root": self.merkle_root.to_hex(),
            "time_ns": crate::json::time_value(self.time_ns),
            "signer": hex::encode(self.signer),
            "signature": hex::encode(self.signature),
        })
    }

    /// Reads the JSON view.
    pub fn from_json(json: &serde_json::Value) -> Result<SignedHead, HeadError> {
        let missing =
            |name: &str| HeadError::Layout(format!("field `{name}` missing or malformed"));
        let hexfield = |name: &str, len: usize| -> Result<Vec<u8>, HeadError> {
            json.get(name)
                .and_then(|v| v.as_str())
                .and_then(|s| hex::decode(s).ok())
                .filter(|b| b.len() == len)
                .ok_or_else(|| missing(name))
        };
        let num = |name: &str| {
            json.get(name)
                .and_then(|v| v.as_u64())
                .ok_or_else(|| missing(name))
        };
        let seq =
            num("seq").and_then(|s| (s <= MAX_SEQ).then_some(s).ok_or_else(|| missing("seq")))?;
        Ok(SignedHead {
            chain_id: ChainId(
                hexfield("chain_id", 16)?
                    .try_into()
                    .expect("length checked"),
            ),
            seq,
            head_hash: Hash(
                hexfield("head_hash", 32)?
                    .try_into()
                    .expect("length checked"),
            ),
            merkle_root: Hash(
                hexfield("merkle_root", 32)?
                    .try_into()
                    .expect("length checked"),
            ),
            time_ns: json
                .get("time_ns")
                .and_then(crate::json::read_time)
                .ok_or_else(|| missing("time_ns"))?,
            signer: hexfield("signer", 32)?.try_into().expect("length checked"),
            signature: hexfield("signature", 64)?
                .try_into()
                .expect("length checked"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_round_trips() {
        let key = NodeKey::from_seed(&[3; 32]);
        let head = SignedHead::sign(&key, ChainId([1; 16]), 5, Hash([2; 32]), Hash([4; 32]), 99);
        head.verify_signature().expect("valid");
        assert_eq!(SignedHead::decode(&head.encode()).expect("cbor"), head);
        assert_eq!(SignedHead::from_json(&head.to_json()).expect("json"), head);
        let mut forged = head.clone();
        forged.seq = 6;
        assert!(forged.verify_signature().is_err());
        let mut resigned = head.clone();
        resigned.signer = NodeKey::from_seed(&[5; 32]).public_key();
        assert!(resigned.verify_signature().is_err());
    }

    #[test]
    fn no_decoder_accepts_a_sequence_past_the_largest_a_chain_holds() {
        let key = NodeKey::from_seed(&[3; 32]);
        let (chain, hash, root) = (ChainId([1; 16]), Hash([2; 32]), Hash([4; 32]));
        let at = |seq| SignedHead::sign(&key, chain, seq, hash, root, 99);
        let last = at(MAX_SEQ);
        assert_eq!(SignedHead::decode(&last.encode()).expect("cbor"), last);
        assert_eq!(last.size(), u64::MAX);
        let beyond = at(u64::MAX);
        assert!(SignedHead::decode(&beyond.encode()).is_err());
        assert!(SignedHead::from_json(&beyond.to_json()).is_err());
        assert_eq!(beyond.size(), u64::MAX, "saturates, never overflows");
    }
}
