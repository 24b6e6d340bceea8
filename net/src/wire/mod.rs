//! What travels between nodes, and how each message is checked before anything is done
//! with it: gossip payloads (signed heads, capability adverts, equivocation evidence) and
//! the `/weft/sync/1` request and response. All CBOR; docs/protocol.md is the reference.
//!
//! Every decoder here bounds sizes and counts before it allocates for them, and every
//! signed thing is verified against the key it names; whether that key is *trusted* is
//! the caller's question (the node's trust set).
//!
//! The two signed gossip payloads, heads and adverts, travel in canonical CBOR and are
//! refused in any other encoding: one statement has one byte string, so gossipsub's
//! content-addressed message ids cannot be multiplied by re-encoding it, and a stranger
//! can check a signature over exactly the bytes received. The unsigned containers
//! (evidence, the sync and query messages) are serde's encoding, keys in field order.

use serde::{Deserialize, Serialize};
use weft_kernel::hash::{Hash, HASH_LEN};
use weft_kernel::head::SignedHead;
use weft_kernel::keys::{fingerprint, verify_signature, NodeKey};
use weft_kernel::merkle::{verify_inclusion, MerkleHasher, Shake256Merkle};
use weft_kernel::replica::Range;

/// Largest gossip payload accepted or published. A signed head is ~250 bytes, an advert
/// under 2 KiB, evidence with a 64-step audit path ~3 KiB.
pub const MAX_GOSSIP_BYTES: usize = 16 * 1024;
/// What a gossipsub frame may carry beyond its payload (source peer id, sequence number,
/// topic, signature, protobuf framing: about 220 bytes for the longest topic): gossipsub's
/// transmit limit is the payload limit plus this, so every payload weft accepts fits a
/// frame, and one too large reaches the gatekeeper (which counts it) instead of being
/// dropped unseen by libp2p's framing.
pub const GOSSIP_FRAME_ALLOWANCE: usize = 1024;

/// The sync protocol's name.
pub const SYNC_PROTOCOL: &str = "/weft/sync/1";
/// Most events one sync response carries.
pub const SYNC_MAX_EVENTS: u32 = 16384;
/// Most bytes of events one sync response carries (one event may exceed a smaller
/// `max_bytes`: a response always carries at least one event when there is one).
pub const SYNC_MAX_BYTES: u64 = 8 * 1024 * 1024;
/// Largest sync request accepted on the wire.
pub const SYNC_REQUEST_LIMIT: u64 = 1024;
/// Largest sync response accepted on the wire: the byte budget plus framing.
pub const SYNC_RESPONSE_LIMIT: u64 = SYNC_MAX_BYTES + 64 * 1024 + SYNC_MAX_EVENTS as u64 * 16;

/// Domain separating advert signatures from every other signature of the node key.
const ADVERT_DOMAIN: &[u8] = b"weft/net/advert/v1\0";

/// Bounds on advert fields (a peer cannot make us keep large adverts).
const ADVERT_MAX_LIST: usize = 16;
const ADVERT_MAX_TEXT: usize = 128;

/// The gossip topics of one organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Signed chain heads.
    Heads,
    /// Capability adverts.
    Capabilities,
    /// Equivocation evidence.
    Evidence,
}

impl Topic {
    /// All topics.
    pub const ALL: [Topic; 3] = [Topic::Heads, Topic::Capabilities, Topic::Evidence];

    /// The topic string for organisation `org`: `/weft/<org>/<topic>/1`.
    pub fn name(self, org: &str) -> String {
        let topic = match self {
            Topic::Heads => "heads",
            Topic::Capabilities => "capabilities",
            Topic::Evidence => "evidence",
        };
        format!("/weft/{org}/{topic}/1")
    }
}

/// Why a received message is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    /// Larger than the limit for its kind.
    #[error("{what} of {size} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// What it was.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Does not decode.
    #[error("{what} does not decode: {reason}")]
    Decode {
        /// What it was.
        what: &'static str,
        /// Decoder message.
        reason: String,
    },
    /// A field is out of bounds.
    #[error("{0}")]
    Field(String),
    /// Decodes, but is not the canonical encoding of what it holds.
    #[error("{0} is not in canonical CBOR")]
    NotCanonical(&'static str),
    /// A signature does not verify.
    #[error("{0}: signature does not verify")]
    Signature(&'static str),
    /// Evidence that proves nothing.
    #[error("not evidence of equivocation: {0}")]
    NotEvidence(String),
}

fn check_size(what: &'static str, bytes: &[u8], limit: usize) -> Result<(), WireError> {
    if bytes.len() > limit {
        return Err(WireError::TooLarge {
            what,
            size: bytes.len(),
            limit,
        });
    }
    Ok(())
}

/// Deepest CBOR nesting a gossip decoder follows.
pub const MAX_NESTING: usize = 32;

fn to_cbor<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("CBOR encoding into a Vec cannot fail");
    out
}

/// The canonical encoding (RFC 8949 §4.2.1, docs/formats.md) of a serde value.
fn to_canonical_cbor<T: Serialize>(value: &T) -> Vec<u8> {
    let value = ciborium::value::Value::serialized(value)
        .expect("weft's wire types serialize to CBOR values");
    weft_kernel::cbor::encode_canonical(value).expect("weft's wire types have no floats or tags")
}

/// Decodes exactly one CBOR item (nothing may follow it).
fn from_cbor<T: for<'de> Deserialize<'de>>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, WireError> {
    let failed = |reason: String| WireError::Decode { what, reason };
    let mut rest = bytes;
    // The recursion limit keeps hostile nesting from exhausting the stack.
    let value = ciborium::de::from_reader_with_recursion_limit(&mut rest, MAX_NESTING)
        .map_err(|e| failed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(failed(format!("{} bytes follow the item", rest.len())));
    }
    Ok(value)
}

/// Hashes as CBOR byte strings of 32.
pub type WireHashes = Vec<serde_bytes::ByteArray<32>>;

/// Hashes in their wire form.
pub fn to_wire_hashes(hashes: &[Hash]) -> WireHashes {
    hashes
        .iter()
        .map(|h| serde_bytes::ByteArray::new(h.0))
        .collect()
}

/// Deserializes a sequence of at most `N` items: the item past the bound is refused as
/// it arrives, before it is decoded or stored, whatever length the sequence claims.
fn bounded_seq<'de, D, T, const N: usize>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct Bounded<T, const N: usize>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>, const N: usize> serde::de::Visitor<'de> for Bounded<T, N> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "a sequence of at most {N} items")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            // A claimed length is not trusted for the allocation either.
            let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(N));
            while let Some(item) = seq.next_element()? {
                if items.len() == N {
                    return Err(serde::de::Error::custom(format!("more than {N} items")));
                }
                items.push(item);
            }
            Ok(items)
        }
    }
    deserializer.deserialize_seq(Bounded::<T, N>(std::marker::PhantomData))
}

/// An event's encoding on the wire (a CBOR byte string), read into a buffer with room
/// for the hash the receiver appends to make the chain's record of it, so storing a
/// received event copies it no more than storing our own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventBytes(Vec<u8>);

impl EventBytes {
    /// The bytes.
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

impl From<Vec<u8>> for EventBytes {
    fn from(bytes: Vec<u8>) -> EventBytes {
        EventBytes(bytes)
    }
}

impl Serialize for EventBytes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for EventBytes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<EventBytes, D::Error> {
        struct Bytes;
        impl serde::de::Visitor<'_> for Bytes {
            type Value = EventBytes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an event's encoding as a byte string")
            }
            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<EventBytes, E> {
                let mut buffer = Vec::with_capacity(bytes.len().saturating_add(HASH_LEN));
                buffer.extend_from_slice(bytes);
                Ok(EventBytes(buffer))
            }
        }
        deserializer.deserialize_bytes(Bytes)
    }
}

fn from_wire_hashes(hashes: &[serde_bytes::ByteArray<32>]) -> Vec<Hash> {
    hashes.iter().map(|h| Hash(**h)).collect()
}

/// A signed head as gossiped (and carried in sync responses and evidence): the kernel's
/// canonical encoding and nothing else, checked in full.
pub fn decode_head(bytes: &[u8]) -> Result<SignedHead, WireError> {
    check_size("head", bytes, MAX_GOSSIP_BYTES)?;
    let value: ciborium::value::Value = from_cbor("head", bytes)?;
    let head = SignedHead::from_value(&value).map_err(|e| WireError::Decode {
        what: "head",
        reason: e.to_string(),
    })?;
    if head.encode() != bytes {
        return Err(WireError::NotCanonical("head"));
    }
    head.verify_signature()
        .map_err(|_| WireError::Signature("head"))?;
    Ok(head)
}

/// `head` re-signed by `key` at `time_ns`, for announcing it again: the same chain,
/// sequence, head hash and Merkle root (to every check the same head), but other bytes,
/// so gossipsub, whose message ids are a hash of the bytes, carries it as a new message
/// to peers that missed the first announcement.
pub fn reannounced(head: &SignedHead, key: &NodeKey, time_ns: u64) -> SignedHead {
    SignedHead::sign(
        key,
        head.chain_id,
        head.seq,
        head.head_hash,
        head.merkle_root,
        time_ns,
    )
}

/// What a node offers and how it is doing (SOP 3's NodeEccCapability). The default is
/// an advert of nothing at time 0, for building one field by field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Advert {
    /// weft version of the node.
    pub version: String,
    /// Project name from its weave.toml.
    pub project: String,
    /// Its chain id: 32 lowercase hex digits.
    pub chain_id: String,
    /// Sequence of its latest head.
    pub head_seq: u64,
    /// Languages its knowledge graph covers.
    pub languages: Vec<String>,
    /// Symbols in its knowledge graph.
    pub symbols: u64,
    /// Vectors in its embedding index.
    pub vectors: u64,
    /// Embedding model (empty when none is installed).
    pub model: String,
    /// Embedding dimensions (0 when no model).
    pub dims: u32,
    /// Whether an HNSW index is present.
    pub hnsw: bool,
    /// Protocols it serves: weft nodes send `sync` and `query` (receivers keep values
    /// they do not know).
    pub services: Vec<String>,
    /// Recent p95 of request handling, microseconds (headroom).
    pub p95_us: u64,
    /// When it was made, ns since the epoch.
    pub time_ns: u64,
    /// The signer's public key.
    #[serde(with = "serde_bytes")]
    pub signer: [u8; 32],
    /// What the node measured of its own speed when it started, once it has. Absent from
    /// the encoding when `None`, so an advert without it (an older node's, or one made
    /// before the run ends) has the bytes, and the signature, it always had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
}

/// A node's measurement of its own speed, made once at start in a bounded run (the seed's
/// boot calibration). Each figure is absent when it could not be measured (no embedding
/// model, no search index) rather than zero; whole numbers only, as canonical CBOR here
/// carries no floats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calibration {
    /// Symbol texts embedded per second by its embedding model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embed_per_s: Option<u64>,
    /// Median time of one search of its own index (the query embedded, then its nearest
    /// symbols found), microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_us: Option<u64>,
    /// Chain events per second its range check verifies (decode, hash, link, Merkle
    /// tree, head signature), without storing them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_per_s: Option<u64>,
    /// When it was measured, ns since the epoch.
    pub time_ns: u64,
}

impl Calibration {
    /// Whether every figure is absent or positive (zero is never measured: it is absent).
    fn check_bounds(&self) -> Result<(), WireError> {
        let figures = [self.embed_per_s, self.search_us, self.verify_per_s];
        if figures.contains(&Some(0)) {
            return Err(WireError::Field(
                "advert calibration figures must be absent or positive".into(),
            ));
        }
        Ok(())
    }
}

/// An advert and its signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedAdvert {
    /// The advert.
    pub advert: Advert,
    /// Ed25519 over `weft/net/advert/v1 ‖ 0x00 ‖ canonical CBOR(advert)`.
    #[serde(with = "serde_bytes")]
    pub signature: [u8; 64],
}

impl Advert {
    /// The exact bytes signed: the domain, then the advert's canonical CBOR (which is
    /// also how it appears inside a gossiped [`SignedAdvert`]).
    pub fn message(&self) -> Vec<u8> {
        let mut message = ADVERT_DOMAIN.to_vec();
        message.extend(to_canonical_cbor(self));
        message
    }

    /// Signs the advert with `key` (its `signer` is set to the key's).
    pub fn sign(mut self, key: &NodeKey) -> SignedAdvert {
        self.signer = key.public_key();
        let signature = key.sign(&self.message());
        SignedAdvert {
            advert: self,
            signature,
        }
    }

    fn check_bounds(&self) -> Result<(), WireError> {
        let texts = [&self.version, &self.project, &self.chain_id, &self.model];
        let lists = [&self.languages, &self.services];
        let text_ok = |t: &String| t.len() <= ADVERT_MAX_TEXT;
        let hex_id = self.chain_id.len() == 32
            && self
                .chain_id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hex_id {
            return Err(WireError::Field(
                "advert chain_id must be 32 lowercase hex digits".into(),
            ));
        }
        if !texts.into_iter().all(text_ok)
            || !lists
                .into_iter()
                .all(|l| l.len() <= ADVERT_MAX_LIST && l.iter().all(text_ok))
        {
            return Err(WireError::Field(format!(
                "advert fields exceed {ADVERT_MAX_LIST} entries or {ADVERT_MAX_TEXT} bytes"
            )));
        }
        self.calibration
            .as_ref()
            .map_or(Ok(()), Calibration::check_bounds)
    }
}

impl SignedAdvert {
    /// Encodes for gossip: canonical CBOR.
    pub fn encode(&self) -> Vec<u8> {
        to_canonical_cbor(self)
    }

    /// Decodes and verifies a gossiped advert, which must be in canonical CBOR.
    pub fn decode(bytes: &[u8]) -> Result<SignedAdvert, WireError> {
        check_size("advert", bytes, MAX_GOSSIP_BYTES)?;
        let signed: SignedAdvert = from_cbor("advert", bytes)?;
        signed.advert.check_bounds()?;
        if signed.encode() != bytes {
            return Err(WireError::NotCanonical("advert"));
        }
        if !verify_signature(
            &signed.advert.signer,
            &signed.advert.message(),
            &signed.signature,
        ) {
            return Err(WireError::Signature("advert"));
        }
        Ok(signed)
    }
}

/// Proof that one key signed two histories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// One signed head (kernel encoding).
    #[serde(with = "serde_bytes")]
    pub first: Vec<u8>,
    /// Another, by the same key, for the same chain.
    #[serde(with = "serde_bytes")]
    pub second: Vec<u8>,
    /// For heads at different sequences: where the longer history disagrees with the
    /// shorter one's head.
    pub fork: Option<ForkProof>,
}

/// The event hash the later head commits to at the earlier head's sequence, with its
/// audit path under the later head's Merkle root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForkProof {
    /// Event hash at `first.seq` in the second head's history.
    #[serde(with = "serde_bytes")]
    pub event_hash: [u8; 32],
    /// RFC 6962 audit path, bottom-up.
    pub audit_path: WireHashes,
}

/// What verified evidence shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Equivocation {
    /// The signer's public key.
    pub signer: [u8; 32],
    /// The signer's fingerprint.
    pub fingerprint: String,
    /// The sequence at which the histories differ.
    pub seq: u64,
    /// `conflict` (two heads at one sequence) or `fork` (a later head that does not
    /// extend an earlier one).
    pub kind: &'static str,
    /// The two heads, in the evidence's order.
    pub heads: (SignedHead, SignedHead),
}

/// Longest audit path accepted: a tree of 2^64 leaves.
const MAX_AUDIT_PATH: usize = 64;

impl Evidence {
    /// Evidence of two heads at one sequence that differ.
    pub fn conflict(first: &SignedHead, second: &SignedHead) -> Evidence {
        Evidence {
            first: first.encode(),
            second: second.encode(),
            fork: None,
        }
    }

    /// Encodes for gossip and for `weft evidence verify`.
    pub fn encode(&self) -> Vec<u8> {
        to_cbor(self)
    }

    /// Decodes (bounded), without verifying.
    pub fn decode(bytes: &[u8]) -> Result<Evidence, WireError> {
        check_size("evidence", bytes, MAX_GOSSIP_BYTES)?;
        from_cbor("evidence", bytes)
    }

    /// The key the evidence accuses, read from its first head without verifying anything
    /// (so a receiver can drop evidence against keys it does not follow cheaply).
    pub fn claimed_signer(&self) -> Result<[u8; 32], WireError> {
        check_size("head", &self.first, MAX_GOSSIP_BYTES)?;
        SignedHead::decode(&self.first)
            .map(|head| head.signer)
            .map_err(|e| WireError::Decode {
                what: "head",
                reason: e.to_string(),
            })
    }

    /// Decodes (bounded) and verifies.
    pub fn decode_verified(bytes: &[u8]) -> Result<Equivocation, WireError> {
        Evidence::decode(bytes)?.verify()
    }

    /// Checks that the evidence proves equivocation: both heads verify under the same
    /// key for the same chain, and either they are at one sequence and differ, or the
    /// later one's history holds a different event at the earlier one's sequence.
    pub fn verify(&self) -> Result<Equivocation, WireError> {
        let first = decode_head(&self.first)?;
        let second = decode_head(&self.second)?;
        let not = |why: String| Err(WireError::NotEvidence(why));
        if first.signer != second.signer {
            return not("the heads are signed by different keys".into());
        }
        if first.chain_id != second.chain_id {
            return not("the heads are of different chains".into());
        }
        let kind = match (&self.fork, first.seq.cmp(&second.seq)) {
            (None, std::cmp::Ordering::Equal) => {
                if first.head_hash == second.head_hash && first.merkle_root == second.merkle_root {
                    return not(format!(
                        "both heads commit to the same history at {}",
                        first.seq
                    ));
                }
                "conflict"
            }
            (Some(proof), std::cmp::Ordering::Less) => {
                if proof.audit_path.len() > MAX_AUDIT_PATH {
                    return not("audit path too long".into());
                }
                let path = from_wire_hashes(&proof.audit_path);
                verify_inclusion::<Shake256Merkle>(
                    first.seq,
                    second.size(),
                    &Shake256Merkle::leaf(&proof.event_hash),
                    &path,
                    &second.merkle_root,
                )
                .map_err(|e| WireError::NotEvidence(format!("fork proof: {e}")))?;
                if proof.event_hash == first.head_hash.0 {
                    return not(format!(
                        "the later head's history holds the earlier head's event at {}",
                        first.seq
                    ));
                }
                "fork"
            }
            (None, _) => return not("heads at different sequences need a fork proof".into()),
            (Some(_), _) => return not("a fork proof needs the earlier head first".into()),
        };
        Ok(Equivocation {
            signer: first.signer,
            fingerprint: fingerprint(&first.signer),
            seq: first.seq,
            kind,
            heads: (first, second),
        })
    }
}

/// A request for a range of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// The chain asked for (the responder serves its own).
    #[serde(with = "serde_bytes")]
    pub chain_id: [u8; 16],
    /// First sequence wanted.
    pub from: u64,
    /// Most events wanted (the responder caps it at [`SYNC_MAX_EVENTS`]).
    pub max_count: u32,
    /// Most bytes of events wanted (capped at [`SYNC_MAX_BYTES`]).
    pub max_bytes: u64,
}

/// The answer to a [`SyncRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncResponse {
    /// Events `from..` (canonical encodings, in order), the responder's latest signed
    /// head, the consistency proof from the range's end to that head, and the audit path
    /// of the first event under it (see `weft_kernel::replica`; the receiver verifies all
    /// of it before storing anything).
    Range {
        /// Encoded events.
        #[serde(deserialize_with = "bounded_seq::<_, _, { SYNC_MAX_EVENTS as usize }>")]
        events: Vec<EventBytes>,
        /// The head (kernel encoding).
        #[serde(with = "serde_bytes")]
        head: Vec<u8>,
        /// Consistency proof, RFC order.
        #[serde(deserialize_with = "bounded_seq::<_, _, MAX_AUDIT_PATH>")]
        consistency: WireHashes,
        /// Audit path of event `from`, bottom-up.
        #[serde(deserialize_with = "bounded_seq::<_, _, MAX_AUDIT_PATH>")]
        first_path: WireHashes,
    },
    /// Not served, and why (unknown chain, a start past the end...).
    Refused {
        /// Why.
        reason: String,
    },
}

impl SyncResponse {
    /// The answer to `request` from `chain`: the range it serves (see
    /// `weft_kernel::replica::serve`), or why it cannot.
    pub fn serve(chain: &weft_kernel::Chain, request: &SyncRequest) -> SyncResponse {
        match weft_kernel::replica::serve(chain, request.from, request.max_count, request.max_bytes)
        {
            Ok(range) => SyncResponse::from(range),
            Err(e) => SyncResponse::Refused {
                reason: e.to_string(),
            },
        }
    }

    /// The wire form of a served range.
    pub fn from_range(range: &Range) -> SyncResponse {
        SyncResponse::from(range.clone())
    }

    /// The range a response carries for a request starting at `from`, with its head
    /// decoded and signature-checked (the rest is checked by the replica), or why not.
    pub fn into_range(self, from: u64) -> Result<Range, WireError> {
        match self {
            SyncResponse::Range {
                events,
                head,
                consistency,
                first_path,
            } => {
                if events.len() > SYNC_MAX_EVENTS as usize
                    || consistency.len() > MAX_AUDIT_PATH
                    || first_path.len() > MAX_AUDIT_PATH
                {
                    return Err(WireError::Field(
                        "sync response exceeds the protocol's counts".into(),
                    ));
                }
                Ok(Range {
                    from,
                    events: events.into_iter().map(EventBytes::into_vec).collect(),
                    head: decode_head(&head)?,
                    consistency: from_wire_hashes(&consistency),
                    first_path: from_wire_hashes(&first_path),
                })
            }
            SyncResponse::Refused { reason } => Err(WireError::Field(format!("refused: {reason}"))),
        }
    }
}

impl From<Range> for SyncResponse {
    /// The wire form of a served range, its encodings moved, not copied.
    fn from(range: Range) -> SyncResponse {
        SyncResponse::Range {
            events: range.events.into_iter().map(EventBytes::from).collect(),
            head: range.head.encode(),
            consistency: to_wire_hashes(&range.consistency),
            first_path: to_wire_hashes(&range.first_path),
        }
    }
}

impl SyncRequest {
    /// A request for chain `chain_id` from `from`, as many events as the protocol allows.
    pub fn largest(chain_id: [u8; 16], from: u64) -> SyncRequest {
        SyncRequest {
            chain_id,
            from,
            max_count: SYNC_MAX_EVENTS,
            max_bytes: SYNC_MAX_BYTES,
        }
    }

    /// The request with its counts capped to the protocol limits.
    pub fn capped(&self) -> SyncRequest {
        SyncRequest {
            max_count: self.max_count.clamp(1, SYNC_MAX_EVENTS),
            max_bytes: self.max_bytes.clamp(1, SYNC_MAX_BYTES),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests;
