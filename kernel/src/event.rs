//! ExoChain events: what one entry commits to, its canonical encoding and hash.
//!
//! An event is encoded as the canonical CBOR array
//! `[1, chain_id (bytes 16), seq, prev_hash (bytes 32), timestamp_ns, source, kind, payload]`
//! and its hash is SHAKE-256 in domain `weft/exochain/event/v1` over exactly those bytes.
//! `docs/formats.md` is the reference; `tests/vectors.rs` pins it.

use crate::cbor::{self, CborError};
use crate::hash::{domain_hash, domains, Hash};
use ciborium::value::Value;
use std::fmt;

/// Format version carried as the first array element of every event.
pub const EVENT_FORMAT: u64 = 1;
/// Longest accepted source name.
pub const MAX_SOURCE_LEN: usize = 32;
/// Longest accepted kind.
pub const MAX_KIND_LEN: usize = 96;
/// Largest accepted encoded payload (bigger facts belong in artifacts, witnessed by hash).
pub const MAX_PAYLOAD_BYTES: usize = 1 << 20;
/// The largest sequence a chain can hold: a chain of `seq + 1` events, a count that
/// still fits in a `u64`. Every decoder refuses a larger sequence, so arithmetic on a
/// decoded one (a head's size, the next sequence) never overflows.
pub const MAX_SEQ: u64 = u64::MAX - 1;

/// A chain's identity: 16 bytes derived from the genesis key and time.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChainId(pub [u8; 16]);

impl ChainId {
    /// Derives the id from the signer's public key and the genesis timestamp.
    pub fn derive(public_key: &[u8; 32], genesis_time_ns: u64) -> ChainId {
        let h = domain_hash(
            domains::CHAIN_ID,
            &[public_key, &genesis_time_ns.to_be_bytes()],
        );
        let mut id = [0u8; 16];
        id.copy_from_slice(&h.0[..16]);
        ChainId(id)
    }

    /// Lower-case hex (32 characters).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 32 hex characters.
    pub fn from_hex(text: &str) -> Option<ChainId> {
        let bytes = hex::decode(text).ok()?;
        <[u8; 16]>::try_from(bytes.as_slice()).ok().map(ChainId)
    }
}

impl fmt::Display for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainId({})", self.to_hex())
    }
}

/// One ExoChain entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The chain it belongs to.
    pub chain_id: ChainId,
    /// Position; the genesis event is 0.
    pub seq: u64,
    /// Hash of the event at `seq - 1` (zero for genesis).
    pub prev_hash: Hash,
    /// Wall-clock time of the append, nanoseconds since the Unix epoch.
    pub timestamp_ns: u64,
    /// The subsystem that wrote it (`chain`, `tree`, `gate`, ...).
    pub source: String,
    /// `{source}.{verb}`.
    pub kind: String,
    /// Canonical CBOR value.
    pub payload: Value,
}

/// Why an event is malformed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EventError {
    /// Bad source name.
    #[error("source `{0}` is invalid: use 1-32 of a-z, 0-9, `_`, `-`, starting with a letter")]
    Source(String),
    /// Kind does not have the `{source}.{verb}` form.
    #[error("kind `{kind}` is invalid: it must be `{expected_source}.<verb>` (verb: lower-case words joined by `.`, at most {MAX_KIND_LEN} characters)")]
    Kind {
        /// The kind given.
        kind: String,
        /// The source it must start with.
        expected_source: String,
    },
    /// Payload not representable canonically.
    #[error("payload: {0}")]
    Payload(#[from] CborError),
    /// Payload too large.
    #[error("payload is {0} bytes encoded; the limit is {MAX_PAYLOAD_BYTES}")]
    PayloadTooLarge(usize),
    /// Stored bytes do not have the event layout.
    #[error("not an event: {0}")]
    Layout(String),
}

fn valid_word(word: &str) -> bool {
    let mut chars = word.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'))
}

/// Sources whose events weft's own subsystems write (the chain itself, the tree, the gate,
/// witness and lineage records, assessments, the mesh, coordination and releases, the
/// cluster, SOP runs, the search index's provenance, the daemon's start-up calibration).
/// Their events carry meaning other records rely on: a raw append of one could forge an
/// approval, desync the tree or fake a witness.
pub const RESERVED_SOURCES: [&str; 14] = [
    "chain",
    "graph",
    "tree",
    "gate",
    "witness",
    "lineage",
    "assess",
    "network",
    "mesh",
    "coordinate",
    "release",
    "cluster",
    "sop",
    "ecc",
];

/// Whether `source` is one of weft's own ([`RESERVED_SOURCES`]).
pub fn is_reserved(source: &str) -> bool {
    RESERVED_SOURCES.contains(&source)
}

/// Checks a source name.
pub fn validate_source(source: &str) -> Result<(), EventError> {
    if source.len() > MAX_SOURCE_LEN || !valid_word(source) {
        return Err(EventError::Source(source.to_string()));
    }
    Ok(())
}

/// Checks that `kind` is `{source}.{verb}`.
pub fn validate_kind(source: &str, kind: &str) -> Result<(), EventError> {
    validate_source(source)?;
    let bad = || EventError::Kind {
        kind: kind.to_string(),
        expected_source: source.to_string(),
    };
    let verb = kind
        .strip_prefix(source)
        .and_then(|rest| rest.strip_prefix('.'))
        .ok_or_else(bad)?;
    if kind.len() > MAX_KIND_LEN || verb.is_empty() || !verb.split('.').all(valid_word) {
        return Err(bad());
    }
    Ok(())
}

impl Event {
    /// The canonical encoding that is hashed and stored.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out, 0);
        out
    }

    /// Appends the canonical encoding to `out`, with room for `spare` bytes more (a
    /// stored record's hash) so the record is built in one allocation.
    ///
    /// `[format, chain_id, seq, prev_hash, timestamp_ns, source, kind, payload]`, written
    /// field by field: appends encode every event, and building a `Value` tree for each
    /// cost more than hashing it.
    pub fn encode_into(&self, out: &mut Vec<u8>, spare: usize) {
        // Fixed fields take at most 100 bytes; the payload's size is not known up front.
        out.reserve(100 + self.source.len() + self.kind.len() + 128 + spare);
        cbor::write_head(out, 4, 8);
        cbor::write_head(out, 0, EVENT_FORMAT);
        cbor::write_head(out, 2, self.chain_id.0.len() as u64);
        out.extend_from_slice(&self.chain_id.0);
        cbor::write_head(out, 0, self.seq);
        cbor::write_head(out, 2, self.prev_hash.0.len() as u64);
        out.extend_from_slice(&self.prev_hash.0);
        cbor::write_head(out, 0, self.timestamp_ns);
        for text in [&self.source, &self.kind] {
            cbor::write_head(out, 3, text.len() as u64);
            out.extend_from_slice(text.as_bytes());
        }
        cbor::encode_into(&self.payload, out);
    }

    /// The event's hash.
    pub fn hash(&self) -> Hash {
        hash_encoded(&self.encode())
    }

    /// Decodes stored or received bytes, requiring the canonical form.
    pub fn decode(bytes: &[u8]) -> Result<Event, EventError> {
        let value = cbor::decode_canonical(bytes)?;
        let layout = |what: &str| EventError::Layout(what.to_string());
        let Value::Array(items) = value else {
            return Err(layout("expected an array"));
        };
        let [format, chain_id, seq, prev, ts, source, kind, payload]: [Value; 8] =
            items.try_into().map_err(|_| layout("expected 8 fields"))?;
        let uint = |v: &Value, name: &str| -> Result<u64, EventError> {
            v.as_integer()
                .and_then(|i| u64::try_from(i).ok())
                .ok_or_else(|| layout(&format!("{name} is not an unsigned integer")))
        };
        if uint(&format, "format")? != EVENT_FORMAT {
            return Err(layout("unknown format version"));
        }
        let chain_id = chain_id
            .as_bytes()
            .and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok())
            .map(ChainId)
            .ok_or_else(|| layout("chain id is not 16 bytes"))?;
        let prev_hash = prev
            .as_bytes()
            .and_then(|b| Hash::from_slice(b))
            .ok_or_else(|| layout("previous hash is not 32 bytes"))?;
        let text = |v: Value, name: &str| -> Result<String, EventError> {
            v.into_text()
                .map_err(|_| layout(&format!("{name} is not text")))
        };
        let event = Event {
            chain_id,
            seq: uint(&seq, "seq").and_then(|s| {
                (s <= MAX_SEQ)
                    .then_some(s)
                    .ok_or_else(|| layout("seq is beyond the largest sequence a chain can hold"))
            })?,
            prev_hash,
            timestamp_ns: uint(&ts, "timestamp")?,
            source: text(source, "source")?,
            kind: text(kind, "kind")?,
            payload,
        };
        validate_kind(&event.source, &event.kind)?;
        // The payload is a part of `bytes`: over the limit only when they are.
        if bytes.len() > MAX_PAYLOAD_BYTES {
            let size = cbor::encode(&event.payload).len();
            if size > MAX_PAYLOAD_BYTES {
                return Err(EventError::PayloadTooLarge(size));
            }
        }
        Ok(event)
    }

    /// The payload as JSON (byte strings as hex).
    pub fn payload_json(&self) -> serde_json::Value {
        cbor::to_json(&self.payload)
    }

    /// A JSON view for `chain log --json` and proofs.
    pub fn to_json(&self, hash: &Hash) -> serde_json::Value {
        serde_json::json!({
            "chain_id": self.chain_id.to_hex(),
            "seq": self.seq,
            "prev_hash": self.prev_hash.to_hex(),
            "timestamp_ns": crate::json::time_value(self.timestamp_ns),
            "source": self.source,
            "kind": self.kind,
            "payload": self.payload_json(),
            "hash": hash.to_hex(),
        })
    }
}

/// Hash of an event's canonical encoding.
pub fn hash_encoded(encoded: &[u8]) -> Hash {
    domain_hash(domains::EVENT, &[encoded])
}

/// The chain's record of an encoding (the encoding followed by its hash, appended in
/// place: no copy when the buffer has [`crate::hash::HASH_LEN`] bytes to spare), and the
/// hash.
pub(crate) fn hashed_record(mut encoded: Vec<u8>) -> (Vec<u8>, Hash) {
    let hash = hash_encoded(&encoded);
    encoded.extend_from_slice(&hash.0);
    (encoded, hash)
}

/// What a caller asks to append: the chain fills in id, sequence, link and time.
#[derive(Clone, Debug, PartialEq)]
pub struct EventDraft {
    /// Subsystem name.
    pub source: String,
    /// `{source}.{verb}`.
    pub kind: String,
    /// Payload (made canonical by [`EventDraft::new`]).
    pub payload: Value,
}

impl EventDraft {
    /// Validates source, kind and payload and puts the payload in canonical form.
    pub fn new(source: &str, kind: &str, payload: Value) -> Result<EventDraft, EventError> {
        validate_kind(source, kind)?;
        let payload = cbor::canonicalize(payload)?;
        let size = cbor::encode(&payload).len();
        if size > MAX_PAYLOAD_BYTES {
            return Err(EventError::PayloadTooLarge(size));
        }
        Ok(EventDraft {
            source: source.to_string(),
            kind: kind.to_string(),
            payload,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_by_field_encoding_is_the_canonical_array() {
        use ciborium::value::Integer;
        // Text of 24..255 bytes takes a two-byte head; byte strings over 65,535 a five-byte one.
        let long = format!("set-{}", "s".repeat(40));
        for (seq, time, verb, payload) in [
            (0u64, 0u64, "set", Value::Null),
            (23, 24, "move", cbor::map([("a", Value::Integer(1.into()))])),
            (
                65_536,
                u64::MAX,
                long.as_str(),
                Value::Bytes(vec![1; 70_000]),
            ),
        ] {
            let event = Event {
                chain_id: ChainId([3; 16]),
                seq,
                prev_hash: Hash([9; 32]),
                timestamp_ns: time,
                source: "tree".into(),
                kind: format!("tree.{verb}"),
                payload: payload.clone(),
            };
            let as_value = cbor::encode(&Value::Array(vec![
                Value::Integer(Integer::from(EVENT_FORMAT)),
                Value::Bytes(event.chain_id.0.to_vec()),
                Value::Integer(Integer::from(seq)),
                Value::Bytes(event.prev_hash.0.to_vec()),
                Value::Integer(Integer::from(time)),
                Value::Text(event.source.clone()),
                Value::Text(event.kind.clone()),
                payload,
            ]));
            assert_eq!(event.encode(), as_value, "seq {seq}");
            assert_eq!(Event::decode(&as_value).expect("decode"), event);
        }
    }

    #[test]
    fn kinds_must_name_their_source() {
        assert!(validate_kind("tree", "tree.set").is_ok());
        assert!(validate_kind("network", "network.peer.seen").is_ok());
        for bad in [
            "tree",
            "tree.",
            "trees.set",
            "gate.set",
            "tree.Set",
            "tree..set",
            "tree.set.",
        ] {
            assert!(validate_kind("tree", bad).is_err(), "{bad}");
        }
        assert!(validate_kind("Tree", "Tree.set").is_err());
        assert!(validate_kind("", ".set").is_err());
    }

    #[test]
    fn encode_decode_round_trip() {
        let e = Event {
            chain_id: ChainId([7; 16]),
            seq: 3,
            prev_hash: Hash([9; 32]),
            timestamp_ns: 1_700_000_000_000_000_000,
            source: "test".into(),
            kind: "test.thing".into(),
            payload: cbor::map([("a", Value::Integer(1.into()))]),
        };
        let bytes = e.encode();
        assert_eq!(Event::decode(&bytes).expect("decodes"), e);
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x01;
        assert_ne!(hash_encoded(&flipped), e.hash());
    }
}

/// The fixed fields of an encoded event, read without decoding the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventHeader<'a> {
    /// Chain id.
    pub chain_id: ChainId,
    /// Sequence.
    pub seq: u64,
    /// Previous hash.
    pub prev_hash: Hash,
    /// Timestamp.
    pub timestamp_ns: u64,
    /// Source.
    pub source: &'a str,
    /// Kind.
    pub kind: &'a str,
}

/// Reads the header fields of an encoded event (the verifier's fast path: the payload is
/// covered by the hash and need not be decoded to check links). Returns None when the
/// bytes do not start with the event layout; [`Event::decode`] then says why.
pub fn peek_header(bytes: &[u8]) -> Option<EventHeader<'_>> {
    read_header(bytes).map(|(header, _)| header)
}

/// Checks an encoded event as [`Event::decode`] does (layout, canonical form throughout,
/// source and kind, payload size) without building it, and returns its header. A replica
/// stores what it receives as it is and reads a payload only where the chain needs it,
/// so its ranges are checked this way; the fuzz target `event` holds the two to
/// accepting the same bytes.
pub fn check_encoded(bytes: &[u8]) -> Result<EventHeader<'_>, EventError> {
    let Some((header, payload_at)) = read_header(bytes) else {
        // The full decoder says what is wrong with the layout.
        return Err(Event::decode(bytes)
            .err()
            .unwrap_or_else(|| EventError::Layout("not an event".into())));
    };
    validate_kind(header.source, header.kind)?;
    let payload = &bytes[payload_at..];
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(EventError::PayloadTooLarge(payload.len()));
    }
    // The event's own array is one of the containers the decoder allows.
    cbor::check_canonical_within(payload, cbor::MAX_NESTING - 1)?;
    Ok(header)
}

/// The header, and where the payload starts.
fn read_header(bytes: &[u8]) -> Option<(EventHeader<'_>, usize)> {
    let mut r = HeadReader { bytes, at: 0 };
    if r.byte()? != 0x88 || r.uint(0)? != EVENT_FORMAT {
        return None;
    }
    let chain_id = ChainId(r.bytes(2)?.try_into().ok()?);
    let seq = r.uint(0).filter(|s| *s <= MAX_SEQ)?;
    let prev_hash = Hash::from_slice(r.bytes(2)?)?;
    let timestamp_ns = r.uint(0)?;
    let source = std::str::from_utf8(r.bytes(3)?).ok()?;
    let kind = std::str::from_utf8(r.bytes(3)?).ok()?;
    (r.at < bytes.len()).then_some((
        EventHeader {
            chain_id,
            seq,
            prev_hash,
            timestamp_ns,
            source,
            kind,
        },
        r.at,
    ))
}

/// Reads CBOR heads (major type and argument) in shortest form only.
struct HeadReader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> HeadReader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn arg(&mut self, major: u8) -> Option<u64> {
        let first = self.byte()?;
        if first >> 5 != major {
            return None;
        }
        let (len, min) = match first & 0x1f {
            small @ 0..=23 => return Some(u64::from(small)),
            24 => (1, 24u64),
            25 => (2, 1 << 8),
            26 => (4, 1 << 16),
            27 => (8, 1 << 32),
            _ => return None,
        };
        let slice = self.bytes.get(self.at..self.at + len)?;
        self.at += len;
        let value = slice.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b));
        // Canonical: the shortest form only.
        (value >= min).then_some(value)
    }

    fn uint(&mut self, major: u8) -> Option<u64> {
        self.arg(major)
    }

    fn bytes(&mut self, major: u8) -> Option<&'a [u8]> {
        let len = usize::try_from(self.arg(major)?).ok()?;
        let slice = self.bytes.get(self.at..self.at.checked_add(len)?)?;
        self.at += len;
        Some(slice)
    }
}

#[cfg(test)]
mod header_tests {
    use super::*;

    #[test]
    fn peek_agrees_with_decode() {
        let e = Event {
            chain_id: ChainId([3; 16]),
            seq: 70_000,
            prev_hash: Hash([4; 32]),
            timestamp_ns: u64::MAX - 1,
            source: "gate".into(),
            kind: "gate.decision".into(),
            payload: crate::cbor::map([("x", Value::Bool(true))]),
        };
        let bytes = e.encode();
        let h = peek_header(&bytes).expect("peek");
        assert_eq!(
            (
                h.chain_id,
                h.seq,
                h.prev_hash,
                h.timestamp_ns,
                h.source,
                h.kind
            ),
            (
                e.chain_id,
                e.seq,
                e.prev_hash,
                e.timestamp_ns,
                "gate",
                "gate.decision"
            )
        );
        let header_end = bytes.len() - crate::cbor::encode(&e.payload).len();
        for cut in 0..=header_end {
            if let Some(h) = peek_header(&bytes[..cut]) {
                panic!("peeked a header from {cut} bytes: {h:?}");
            }
        }
    }

    #[test]
    fn an_event_past_the_largest_sequence_does_not_decode() {
        let at = |seq| Event {
            chain_id: ChainId([3; 16]),
            seq,
            prev_hash: Hash([4; 32]),
            timestamp_ns: 1,
            source: "test".into(),
            kind: "test.thing".into(),
            payload: Value::Null,
        };
        let last = at(MAX_SEQ).encode();
        assert_eq!(Event::decode(&last).expect("decodes").seq, MAX_SEQ);
        assert!(peek_header(&last).is_some());
        let beyond = at(u64::MAX).encode();
        assert!(Event::decode(&beyond).is_err());
        assert!(peek_header(&beyond).is_none());
    }
}
