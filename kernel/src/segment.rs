//! Portable segment files: `weft chain export` writes one, `verify-file` and `import`
//! read it, trusting nothing in it until it has been checked.
//!
//! A file is a run of segments, each 64-byte aligned:
//!
//! ```text
//! 0   magic "WSEG"            4   version (1)   5   type (1 header, 2 events, 3 footer)
//! 6   reserved (0, 2 bytes)   8   segment index (u32 BE)   12  body length (u32 BE)
//! 16  content hash: SHAKE-256("weft/segment/v1" ‖ 0 ‖ bytes 0..16 ‖ body), 32 bytes
//! 48  body (canonical CBOR), then zero padding to the next multiple of 64
//! ```
//!
//! The header body names the chain; each events body is an array of canonical event
//! encodings; the footer binds the event count, head hash, Merkle root, the digest of
//! every earlier segment hash and the chain's latest signed head, and is signed with the
//! chain's Ed25519 key. `docs/formats.md` is the reference.

use crate::cbor::{self, read};
use crate::chain::{check_may_sign, check_owner, Chain, ChainError, Genesis, HeadMode};
use crate::cluster::Signers;
use crate::event::{hash_encoded, ChainId, Event};
use crate::hash::{domain_hash, domains, DomainHasher, Hash};
use crate::head::SignedHead;
use crate::keys::{fingerprint, verify_signature, NodeKey};
use crate::merkle::{Frontier, MerkleHasher, Shake256Merkle};
use crate::store::cf;
use ciborium::value::Value;
use std::io::{Read, Write};

/// Segment magic.
pub const MAGIC: &[u8; 4] = b"WSEG";
/// Segment format version.
pub const VERSION: u8 = 1;
/// Alignment of every segment.
pub const ALIGN: usize = 64;
/// Size of the fixed segment header.
pub const HEADER_LEN: usize = 48;
/// Largest accepted segment body.
pub const MAX_BODY: u32 = 16 << 20;
/// Events per segment written by export.
pub const EVENTS_PER_SEGMENT: usize = 1024;
/// Format name in the header segment.
pub const FILE_FORMAT: &str = "weft-segments/1";

const TYPE_HEADER: u8 = 1;
const TYPE_EVENTS: u8 = 2;
const TYPE_FOOTER: u8 = 3;

/// Why a segment file is rejected.
#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    /// Reading or writing failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The file ends inside a segment or before the footer.
    #[error("truncated: {0}")]
    Truncated(String),
    /// A segment header is wrong.
    #[error("segment {index} at byte {offset}: {detail}")]
    BadSegment {
        /// Segment index expected there.
        index: u32,
        /// Byte offset.
        offset: u64,
        /// What is wrong.
        detail: String,
    },
    /// A segment's bytes do not match its content hash (bit flip, edit).
    #[error("segment {index} at byte {offset}: content hash mismatch (the segment was altered)")]
    ContentHash {
        /// Segment index.
        index: u32,
        /// Byte offset.
        offset: u64,
    },
    /// Segments out of order.
    #[error("segments out of order: found segment {found} where {expected} belongs")]
    Reordered {
        /// Index found.
        found: u32,
        /// Index expected.
        expected: u32,
    },
    /// Events do not form a valid chain.
    #[error("event {seq}: {detail}")]
    BadEvent {
        /// Sequence.
        seq: u64,
        /// What is wrong.
        detail: String,
    },
    /// The footer does not bind what the file holds.
    #[error("footer: {0}")]
    Footer(String),
    /// The footer is signed by someone else than the chain's key.
    #[error("footer is signed by {signer}, a key the chain does not authorise (its genesis key is {genesis}): the file was re-signed")]
    Resigned {
        /// Footer signer fingerprint.
        signer: String,
        /// Genesis key fingerprint.
        genesis: String,
    },
    /// Bytes after the footer.
    #[error("{0} bytes follow the footer")]
    Trailing(u64),
    /// The import target already has events.
    #[error("the chain store already holds {0} events; import restores into an empty store only")]
    NotEmpty(u64),
    /// The chain's own store failed.
    #[error(transparent)]
    Chain(#[from] ChainError),
}

/// What a verified file holds.
#[derive(Debug, Clone)]
pub struct FileSummary {
    /// Chain.
    pub chain_id: ChainId,
    /// Genesis facts.
    pub genesis: Genesis,
    /// Number of events.
    pub events: u64,
    /// Segments including header and footer.
    pub segments: u32,
    /// The chain's latest signed head, as carried in the footer.
    pub head: SignedHead,
}

fn segment_bytes(kind: u8, index: u32, body: &[u8]) -> Vec<u8> {
    let mut fixed = [0u8; 16];
    fixed[..4].copy_from_slice(MAGIC);
    fixed[4] = VERSION;
    fixed[5] = kind;
    fixed[8..12].copy_from_slice(&index.to_be_bytes());
    fixed[12..16].copy_from_slice(&(body.len() as u32).to_be_bytes());
    let hash = domain_hash(domains::SEGMENT, &[&fixed, body]);
    let total = (HEADER_LEN + body.len()).div_ceil(ALIGN) * ALIGN;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&fixed);
    out.extend_from_slice(&hash.0);
    out.extend_from_slice(body);
    out.resize(total, 0);
    out
}

struct Footer {
    event_count: u64,
    head_hash: Hash,
    merkle_root: Hash,
    chain_id: ChainId,
    segment_count: u32,
    segments_digest: Hash,
    head: SignedHead,
    signer: [u8; 32],
}

impl Footer {
    fn unsigned_value(&self) -> Value {
        cbor::map([
            ("event_count", Value::Integer(self.event_count.into())),
            ("head_hash", Value::Bytes(self.head_hash.0.to_vec())),
            ("merkle_root", Value::Bytes(self.merkle_root.0.to_vec())),
            ("chain_id", Value::Bytes(self.chain_id.0.to_vec())),
            ("segment_count", Value::Integer(self.segment_count.into())),
            (
                "segments_digest",
                Value::Bytes(self.segments_digest.0.to_vec()),
            ),
            ("signed_head", self.head.to_value()),
            ("signer", Value::Bytes(self.signer.to_vec())),
        ])
    }

    fn message(&self) -> Vec<u8> {
        let body = cbor::encode_canonical(self.unsigned_value()).expect("footer has no floats");
        let mut msg = domains::SEGMENT_FOOTER.as_bytes().to_vec();
        msg.push(0);
        msg.extend_from_slice(&body);
        msg
    }
}

/// Exports the chain. The footer is signed with `key`, which must be the chain's key.
pub fn export(
    chain: &Chain,
    key: &NodeKey,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<FileSummary, SegmentError> {
    let genesis = chain.genesis().ok_or(ChainError::Empty)?;
    let head = chain.latest_signed_head().ok_or(ChainError::Empty)?;
    check_may_sign(&chain.signers(), Some(&genesis), head.seq, key)?;
    let mut digest = DomainHasher::new(domains::SEGMENT_FOOTER);
    let mut index = 0u32;
    let mut emit = |kind: u8,
                    body: &[u8],
                    out: &mut dyn Write,
                    digest: &mut DomainHasher|
     -> Result<(), SegmentError> {
        let seg = segment_bytes(kind, index, body);
        digest.update(&seg[16..48]);
        out.write_all(&seg)?;
        index += 1;
        Ok(())
    };
    let header = cbor::encode_canonical(cbor::map([
        ("format", Value::Text(FILE_FORMAT.into())),
        ("chain_id", Value::Bytes(genesis.chain_id.0.to_vec())),
    ]))
    .expect("header has no floats");
    emit(TYPE_HEADER, &header, out, &mut digest)?;
    let (mut count, mut frontier, mut last_hash) =
        (0u64, Frontier::<Shake256Merkle>::default(), Hash::ZERO);
    let mut batch: Vec<Value> = Vec::with_capacity(EVENTS_PER_SEGMENT);
    for item in chain.records(0) {
        let (seq, record) = item?;
        if seq > head.seq {
            break;
        }
        let (encoded, hash) = crate::chain::split_record(&record).ok_or(ChainError::Damaged {
            seq,
            reason: "record shorter than a hash".into(),
        })?;
        if hash_encoded(encoded) != hash || seq != count {
            return Err(ChainError::Damaged {
                seq,
                reason: "stored event does not verify; run `weft chain verify`".into(),
            }
            .into());
        }
        frontier.push(Shake256Merkle::leaf(&hash.0), |_| {});
        last_hash = hash;
        batch.push(Value::Bytes(encoded.to_vec()));
        count += 1;
        progress(seq);
        if batch.len() == EVENTS_PER_SEGMENT {
            emit(
                TYPE_EVENTS,
                &cbor::encode(&Value::Array(std::mem::take(&mut batch))),
                out,
                &mut digest,
            )?;
        }
    }
    if !batch.is_empty() {
        emit(
            TYPE_EVENTS,
            &cbor::encode(&Value::Array(batch)),
            out,
            &mut digest,
        )?;
    }
    if count != head.size() || last_hash != head.head_hash || frontier.root() != head.merkle_root {
        return Err(ChainError::Damaged {
            seq: head.seq,
            reason: "stored events do not match the latest signed head; run `weft chain verify`"
                .into(),
        }
        .into());
    }
    let footer = Footer {
        event_count: count,
        head_hash: last_hash,
        merkle_root: frontier.root(),
        chain_id: genesis.chain_id,
        segment_count: index,
        segments_digest: digest.finish(),
        head: head.clone(),
        signer: key.public_key(),
    };
    let mut value = footer.unsigned_value();
    if let Value::Map(entries) = &mut value {
        entries.push((
            Value::Text("signature".into()),
            Value::Bytes(key.sign(&footer.message()).to_vec()),
        ));
    }
    let body = cbor::encode_canonical(value).expect("footer has no floats");
    let seg = segment_bytes(TYPE_FOOTER, index, &body);
    out.write_all(&seg)?;
    out.flush()?;
    Ok(FileSummary {
        chain_id: genesis.chain_id,
        genesis,
        events: count,
        segments: index + 1,
        head,
    })
}

/// One segment as read: its type, body and content hash.
struct RawSegment {
    kind: u8,
    body: Vec<u8>,
    hash: [u8; 32],
}

struct SegmentReader<R: Read> {
    inner: R,
    offset: u64,
    index: u32,
}

impl<R: Read> SegmentReader<R> {
    /// Next segment as (type, body, content hash); None at a clean end of file.
    fn next(&mut self) -> Result<Option<RawSegment>, SegmentError> {
        let start = self.offset;
        let mut head = [0u8; HEADER_LEN];
        let got = read_full(&mut self.inner, &mut head)?;
        if got == 0 {
            return Ok(None);
        }
        if got < HEADER_LEN {
            return Err(SegmentError::Truncated(format!(
                "segment {} at byte {start} ends after {got} of {HEADER_LEN} header bytes",
                self.index
            )));
        }
        let bad = |detail: String| SegmentError::BadSegment {
            index: self.index,
            offset: start,
            detail,
        };
        if &head[..4] != MAGIC {
            return Err(bad(
                "no segment magic (not a weft segment file, or misaligned)".into(),
            ));
        }
        if head[4] != VERSION {
            return Err(bad(format!("unsupported version {}", head[4])));
        }
        if head[6..8] != [0, 0] {
            return Err(bad("reserved bytes are not zero".into()));
        }
        let found = u32::from_be_bytes(head[8..12].try_into().expect("4 bytes"));
        let body_len = u32::from_be_bytes(head[12..16].try_into().expect("4 bytes"));
        if body_len > MAX_BODY {
            return Err(bad(format!(
                "body length {body_len} exceeds the {MAX_BODY}-byte limit"
            )));
        }
        let padded = (HEADER_LEN + body_len as usize).div_ceil(ALIGN) * ALIGN - HEADER_LEN;
        let mut rest = vec![0u8; padded];
        let got = read_full(&mut self.inner, &mut rest)?;
        if got < padded {
            return Err(SegmentError::Truncated(format!(
                "segment {} at byte {start} ends after {} of {} bytes",
                self.index,
                HEADER_LEN + got,
                HEADER_LEN + padded
            )));
        }
        let body = rest[..body_len as usize].to_vec();
        let hash = domain_hash(domains::SEGMENT, &[&head[..16], &body]);
        if hash.0 != head[16..48] {
            return Err(SegmentError::ContentHash {
                index: self.index,
                offset: start,
            });
        }
        if found != self.index {
            return Err(SegmentError::Reordered {
                found,
                expected: self.index,
            });
        }
        if rest[body_len as usize..].iter().any(|b| *b != 0) {
            return Err(bad("padding is not zero".into()));
        }
        self.offset += (HEADER_LEN + padded) as u64;
        self.index += 1;
        Ok(Some(RawSegment {
            kind: head[5],
            body,
            hash: hash.0,
        }))
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads and verifies a segment file, handing each verified batch of events to `sink`.
/// Nothing is passed on before the segment holding it has been checked; the footer is
/// checked last, so a sink must be ready to discard everything if this returns an error.
pub fn read_verified(
    input: impl Read,
    sink: &mut dyn FnMut(&[Event]) -> Result<(), SegmentError>,
) -> Result<FileSummary, SegmentError> {
    let mut reader = SegmentReader {
        inner: input,
        offset: 0,
        index: 0,
    };
    let mut digest = DomainHasher::new(domains::SEGMENT_FOOTER);
    let RawSegment { kind, body, hash } = reader
        .next()?
        .ok_or_else(|| SegmentError::Truncated("the file is empty".into()))?;
    if kind != TYPE_HEADER {
        return Err(SegmentError::BadSegment {
            index: 0,
            offset: 0,
            detail: "the first segment is not a header".into(),
        });
    }
    digest.update(&hash);
    let header = cbor::decode_canonical(&body).map_err(|e| SegmentError::BadSegment {
        index: 0,
        offset: 0,
        detail: format!("header: {e}"),
    })?;
    if read::text(&header, "format") != Some(FILE_FORMAT) {
        return Err(SegmentError::BadSegment {
            index: 0,
            offset: 0,
            detail: format!("header format is not {FILE_FORMAT}"),
        });
    }
    let chain_id = read::bytes(&header, "chain_id")
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .map(ChainId)
        .ok_or_else(|| SegmentError::BadSegment {
            index: 0,
            offset: 0,
            detail: "header has no chain id".into(),
        })?;
    let mut frontier = Frontier::<Shake256Merkle>::default();
    let (mut count, mut prev) = (0u64, Hash::ZERO);
    let mut genesis: Option<Genesis> = None;
    // Who may sign, as the file's own events say (a cluster's chain changes signers).
    let mut signers: Option<Signers> = None;
    loop {
        let offset = reader.offset;
        let RawSegment { kind, body, hash } = reader.next()?.ok_or_else(|| {
            SegmentError::Truncated(format!("the file ends at byte {offset} without a footer"))
        })?;
        match kind {
            TYPE_EVENTS => {
                digest.update(&hash);
                let events = decode_events(
                    &body,
                    count,
                    &mut prev,
                    &mut genesis,
                    chain_id,
                    &mut frontier,
                )?;
                count += events.len() as u64;
                // The first segment's genesis names the key the sets start from.
                if signers.is_none() {
                    signers = genesis.as_ref().map(|g| Signers::new(g.public_key));
                }
                if let Some(sets) = &mut signers {
                    for event in &events {
                        sets.observe(event).map_err(|e| SegmentError::BadEvent {
                            seq: event.seq,
                            detail: format!("signer event: {e}"),
                        })?;
                    }
                }
                sink(&events)?;
            }
            TYPE_FOOTER => {
                let genesis = genesis
                    .ok_or_else(|| SegmentError::Truncated("the file holds no events".into()))?;
                let signers = signers.unwrap_or_else(|| Signers::new(genesis.public_key));
                let head = check_footer(
                    &body,
                    &genesis,
                    &signers,
                    count,
                    prev,
                    frontier.root(),
                    (reader.index - 1, digest.finish()),
                )?;
                let mut trailing = 0u64;
                let mut buf = [0u8; 4096];
                loop {
                    let n = reader.inner.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    trailing += n as u64;
                }
                if trailing > 0 {
                    return Err(SegmentError::Trailing(trailing));
                }
                return Ok(FileSummary {
                    chain_id,
                    genesis,
                    events: count,
                    segments: reader.index,
                    head,
                });
            }
            other => {
                return Err(SegmentError::BadSegment {
                    index: reader.index - 1,
                    offset,
                    detail: format!("unexpected segment type {other}"),
                })
            }
        }
    }
}

fn decode_events(
    body: &[u8],
    first: u64,
    prev: &mut Hash,
    genesis: &mut Option<Genesis>,
    chain_id: ChainId,
    frontier: &mut Frontier<Shake256Merkle>,
) -> Result<Vec<Event>, SegmentError> {
    let bad = |seq: u64, detail: String| SegmentError::BadEvent { seq, detail };
    let Value::Array(items) =
        cbor::decode(body).map_err(|e| bad(first, format!("segment body: {e}")))?
    else {
        return Err(bad(first, "segment body is not an array".into()));
    };
    let mut events = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let seq = first + i as u64;
        let encoded = item
            .into_bytes()
            .map_err(|_| bad(seq, "not a byte string".into()))?;
        let event = Event::decode(&encoded).map_err(|e| bad(seq, e.to_string()))?;
        if event.seq != seq {
            return Err(bad(
                seq,
                format!(
                    "found event {} where {seq} belongs (events reordered or missing)",
                    event.seq
                ),
            ));
        }
        if event.chain_id != chain_id {
            return Err(bad(
                seq,
                format!(
                    "event is for chain {}, the file for {chain_id}",
                    event.chain_id
                ),
            ));
        }
        if event.prev_hash != *prev {
            return Err(bad(seq, "previous-hash link is broken".into()));
        }
        if seq == 0 {
            *genesis = Some(Genesis::from_event(&event).map_err(|e| bad(0, e))?);
        }
        let hash = hash_encoded(&encoded);
        frontier.push(Shake256Merkle::leaf(&hash.0), |_| {});
        *prev = hash;
        events.push(event);
    }
    Ok(events)
}

/// Checks the footer against what the events gave: their count, last hash, Merkle root
/// and the segments (count, digest) before it.
fn check_footer(
    body: &[u8],
    genesis: &Genesis,
    signers: &Signers,
    count: u64,
    head_hash: Hash,
    root: Hash,
    (segment_count, segments_digest): (u32, Hash),
) -> Result<SignedHead, SegmentError> {
    let bad = |m: String| SegmentError::Footer(m);
    let value = cbor::decode_canonical(body).map_err(|e| bad(e.to_string()))?;
    let signer: [u8; 32] = read::bytes(&value, "signer")
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("no signer".into()))?;
    let signature: [u8; 64] = read::bytes(&value, "signature")
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("no signature".into()))?;
    let head = read::field(&value, "signed_head")
        .ok_or_else(|| bad("no signed head".into()))
        .and_then(|v| SignedHead::from_value(v).map_err(|e| bad(e.to_string())))?;
    let footer = Footer {
        event_count: read::uint(&value, "event_count")
            .ok_or_else(|| bad("no event count".into()))?,
        head_hash: read::bytes(&value, "head_hash")
            .and_then(Hash::from_slice)
            .ok_or_else(|| bad("no head hash".into()))?,
        merkle_root: read::bytes(&value, "merkle_root")
            .and_then(Hash::from_slice)
            .ok_or_else(|| bad("no Merkle root".into()))?,
        chain_id: read::bytes(&value, "chain_id")
            .and_then(|b| <[u8; 16]>::try_from(b).ok())
            .map(ChainId)
            .ok_or_else(|| bad("no chain id".into()))?,
        segment_count: read::uint(&value, "segment_count")
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| bad("no segment count".into()))?,
        segments_digest: read::bytes(&value, "segments_digest")
            .and_then(Hash::from_slice)
            .ok_or_else(|| bad("no segments digest".into()))?,
        head,
        signer,
    };
    // The chain's key, or on a cluster's chain a member key authorised at the end.
    if !signers.is_authorised(footer.head.seq, &signer) {
        return Err(SegmentError::Resigned {
            signer: fingerprint(&signer),
            genesis: fingerprint(&genesis.public_key),
        });
    }
    if !verify_signature(&signer, &footer.message(), &signature) {
        return Err(bad("signature does not verify".into()));
    }
    if footer.event_count != count {
        return Err(SegmentError::Truncated(format!(
            "the footer binds {} events, the file holds {count}",
            footer.event_count
        )));
    }
    if footer.segment_count != segment_count || footer.segments_digest != segments_digest {
        return Err(bad(
            "the segments are not the ones the footer binds (removed, added or reordered)".into(),
        ));
    }
    if footer.head_hash != head_hash
        || footer.merkle_root != root
        || footer.chain_id != genesis.chain_id
    {
        return Err(bad(
            "head hash, Merkle root or chain id differ from the events".into(),
        ));
    }
    let h = &footer.head;
    h.verify_signature()
        .map_err(|e| bad(format!("signed head: {e}")))?;
    if !signers.is_authorised(h.seq, &h.signer)
        || h.size() != count
        || h.head_hash != head_hash
        || h.merkle_root != root
        || h.chain_id != genesis.chain_id
    {
        return Err(bad(
            "the signed head does not cover exactly these events".into()
        ));
    }
    Ok(footer.head)
}

/// Verifies a file without storing anything.
pub fn verify_file(input: impl Read) -> Result<FileSummary, SegmentError> {
    read_verified(input, &mut |_| Ok(()))
}

/// Restores a chain from a file into an empty store: verifies the whole file first, then
/// writes it. `reopen` yields the file again for the writing pass.
pub fn import(
    chain: &Chain,
    first_pass: impl Read,
    second_pass: impl Read,
    progress: &mut dyn FnMut(u64),
) -> Result<FileSummary, SegmentError> {
    if !chain.is_empty() {
        return Err(SegmentError::NotEmpty(chain.len()));
    }
    let summary = verify_file(first_pass)?;
    if let Some(key) = chain.key() {
        check_owner(key, &summary.genesis.public_key)?;
    }
    let store = chain.store().clone();
    let marker = IMPORT_MARKER;
    // Synced before any event lands, so a power cut mid-import is seen as one.
    let mut batch = rocksdb::WriteBatch::default();
    batch.put_cf(store.cf(cf::INDEX), marker, b"1");
    store.write_synced(batch).map_err(ChainError::Store)?;
    let mut pending: Vec<Event> = Vec::new();
    let result = read_verified(second_pass, &mut |events| {
        pending.extend_from_slice(events);
        if pending.len() >= 8 * EVENTS_PER_SEGMENT {
            chain.write_verbatim(&pending, HeadMode::Unsigned)?;
            progress(pending.last().map(|e| e.seq).unwrap_or(0));
            pending.clear();
        }
        Ok(())
    });
    let finish = result.and_then(|again| {
        if again.head != summary.head {
            return Err(SegmentError::Footer(
                "the file changed between the verifying and the writing pass".into(),
            ));
        }
        chain.write_verbatim(
            &pending,
            HeadMode::Given(std::slice::from_ref(&summary.head)),
        )?;
        let mut batch = rocksdb::WriteBatch::default();
        batch.delete_cf(store.cf(cf::INDEX), marker);
        store.write_synced(batch).map_err(ChainError::Store)?;
        Ok(again)
    });
    if finish.is_err() {
        // Put the store back to empty: an import either lands whole or not at all.
        let _ = crate::repair::truncate(chain, 0);
    }
    finish
}

/// True when an import was interrupted and the store holds a partial chain.
pub fn import_interrupted(store: &crate::store::Store) -> bool {
    matches!(store.get(cf::INDEX, IMPORT_MARKER), Ok(Some(_)))
}

const IMPORT_MARKER: &[u8] = b"import-in-progress";
