//! `chain repair`: keep the longest valid prefix, move the rest to a quarantine file,
//! and record what was dropped as a `chain.repair` event.
//!
//! The valid prefix ends at the last signed head such that it and every event before it
//! verify: events after it are not authenticated by any signature that still holds.
//! The Merkle subtrees are rebuilt from the kept events, so damage confined to them is
//! repaired without dropping anything.

use crate::cbor;
use crate::chain::{split_record, Chain, ChainError};
use crate::event::EventDraft;
use crate::hash::{shake256_reader, Hash};
use crate::merkle::{Frontier, MerkleHasher, Shake256Merkle};
use crate::merkle_helper::push_leaf;
use crate::store::{cf, merkle_key, seq_key};
use crate::verify::{verify, VerifyReport};
use ciborium::value::Value;
use rocksdb::WriteBatch;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What a repair did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RepairReport {
    /// Events kept (0..kept).
    pub kept: u64,
    /// Events moved to quarantine.
    pub dropped: u64,
    /// First failing sequence found, if any.
    pub first_failure: Option<u64>,
    /// The quarantine file, when something was dropped.
    pub quarantine: Option<PathBuf>,
    /// Sequence of the `chain.repair` event, when one was appended.
    pub repair_event: Option<u64>,
    /// Whether the Merkle subtrees had to be rebuilt to match the signed head.
    pub merkle_rebuilt: bool,
    /// Signed heads dropped although peers may hold them (only with `force`).
    pub signed_heads_dropped: u64,
    /// Verify findings left in place because they are not damage (reference checks).
    pub findings: u64,
}

/// Why a repair could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    /// Even the genesis fails: there is no prefix to keep.
    #[error("no valid prefix: the first signed head already fails ({0}); restore from an export with `weft chain import`")]
    NoValidPrefix(String),
    /// Truncating would drop signed heads that peers may have replicated.
    #[error("the valid prefix ends at {kept}, and the {heads} signed head(s) after it (sequences {first}..={last}) may already be held by peers: once this node signs new events at those sequences, every such peer holds two histories under its key and flags it as an equivocator. Restore from an export with `weft chain import` if you have one; `weft chain repair --force` truncates anyway")]
    SignedHeadsAhead {
        /// Events the repair would keep.
        kept: u64,
        /// Signed heads it would drop.
        heads: u64,
        /// The first of them.
        first: u64,
        /// The last of them.
        last: u64,
    },
    /// Chain failure.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// Writing the quarantine file failed.
    #[error("quarantine file {path}: {source}")]
    Quarantine {
        /// The file.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

/// Removes events `keep..`, their heads, and rebuilds the Merkle subtrees of `0..keep`.
pub fn truncate(chain: &Chain, keep: u64) -> Result<(), ChainError> {
    let store = chain.store();
    let rocks = |e| ChainError::Store(store.rocks(e));
    let mut batch = WriteBatch::default();
    batch.delete_range_cf(store.cf(cf::EVENTS), seq_key(keep), seq_key(u64::MAX));
    batch.delete_cf(store.cf(cf::EVENTS), seq_key(u64::MAX));
    batch.delete_range_cf(store.cf(cf::HEADS), seq_key(keep), seq_key(u64::MAX));
    batch.delete_cf(store.cf(cf::HEADS), seq_key(u64::MAX));
    batch.delete_range_cf(store.cf(cf::MERKLE), &[0u8][..], &[0xffu8; 10][..]);
    store.write_synced(batch)?;
    let mut frontier = Frontier::<Shake256Merkle>::default();
    let mut batch = WriteBatch::default();
    let merkle = store.cf(cf::MERKLE);
    for item in chain.records(0) {
        let (seq, record) = item?;
        if seq >= keep {
            break;
        }
        let (_, hash) = split_record(&record).ok_or(ChainError::Damaged {
            seq,
            reason: "record shorter than a hash".into(),
        })?;
        push_leaf(&mut frontier, Shake256Merkle::leaf(&hash.0), |c| {
            batch.put_cf(merkle, merkle_key(c.level, c.index), c.digest.0);
        });
        if batch.len() >= 100_000 {
            store
                .db()
                .write(std::mem::take(&mut batch))
                .map_err(rocks)?;
        }
    }
    store.write_synced(batch)?;
    chain.reload()
}

/// Repairs the chain; quarantine files go to `quarantine_dir`. A repair that would drop
/// signed heads (which peers may hold) is refused unless `force`.
pub fn repair(
    chain: &Chain,
    quarantine_dir: &Path,
    force: bool,
) -> Result<RepairReport, RepairError> {
    let report: VerifyReport = verify(chain, &mut |_| {})?;
    let len = chain.len();
    // Only damage is cut away: a reference finding is about what an authentic event
    // says, and dropping it (with everything after it) would destroy valid history.
    let first_failure = report.first_damage;
    let kept = match (report.damaged(), report.last_good_head) {
        (false, _) => len,
        (true, Some(head)) => head + 1,
        (true, None) => {
            let why = report
                .first_damage_failure()
                .map(|f| f.detail.clone())
                .unwrap_or_default();
            return Err(RepairError::NoValidPrefix(why));
        }
    };
    // The signed heads a truncation would drop: how many, the first and the last.
    let mut heads_ahead = 0u64;
    let mut span = None;
    for item in chain.signed_heads(kept) {
        let seq = item?.0;
        heads_ahead += 1;
        span = Some((span.map_or(seq, |(first, _)| first), seq));
    }
    if let (Some((first, last)), false) = (span, force) {
        return Err(RepairError::SignedHeadsAhead {
            kept,
            heads: heads_ahead,
            first,
            last,
        });
    }
    let root_before = chain.merkle_root();
    let mut quarantine = None;
    if kept < len {
        quarantine = Some(write_quarantine(chain, kept, quarantine_dir)?);
    }
    truncate(chain, kept)?;
    let merkle_rebuilt = kept == len && root_before != chain.merkle_root();
    let mut out = RepairReport {
        kept,
        dropped: len - kept,
        first_failure,
        quarantine: quarantine.as_ref().map(|(p, _)| p.clone()),
        repair_event: None,
        merkle_rebuilt,
        signed_heads_dropped: heads_ahead,
        findings: report
            .failures
            .iter()
            .filter(|f| !f.kind.is_damage())
            .count() as u64,
    };
    if kept < len || merkle_rebuilt {
        let mut fields = vec![
            ("kept", Value::Integer(kept.into())),
            ("dropped", Value::Integer((len - kept).into())),
            ("merkle_rebuilt", Value::Bool(merkle_rebuilt)),
        ];
        if let Some(seq) = first_failure {
            fields.push(("first_failure", Value::Integer(seq.into())));
        }
        if let Some(detail) = report.first_damage_failure() {
            fields.push(("reason", Value::Text(detail.detail.clone())));
        }
        if let Some((path, hash)) = &quarantine {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            fields.push(("quarantine", Value::Text(name)));
            fields.push(("quarantine_hash", Value::Bytes(hash.0.to_vec())));
        }
        let payload = Value::Map(
            fields
                .into_iter()
                .map(|(k, v)| (Value::Text(k.into()), v))
                .collect(),
        );
        let event = chain
            .append(EventDraft::new("chain", "chain.repair", payload).map_err(ChainError::from)?)?;
        out.repair_event = Some(event.event.seq);
    }
    Ok(out)
}

/// Writes every record from `from` on, and their heads, as a CBOR sequence (RFC 8742):
/// a header map, then `[seq, record bytes]` items, then `["head", head bytes]` items.
fn write_quarantine(chain: &Chain, from: u64, dir: &Path) -> Result<(PathBuf, Hash), RepairError> {
    let path = dir.join(format!("chain-from-{from}-{}.cbor", crate::chain::now_ns()));
    let wrap = |source| RepairError::Quarantine {
        path: path.clone(),
        source,
    };
    if !dir.is_dir() {
        std::fs::create_dir_all(dir).map_err(wrap)?;
        crate::atomic::sync_parent(dir).map_err(wrap)?;
    }
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).map_err(wrap)?);
    let header = cbor::map([
        ("format", Value::Text("weft-quarantine/1".into())),
        ("from", Value::Integer(from.into())),
    ]);
    file.write_all(&cbor::encode(&header)).map_err(wrap)?;
    for item in chain.records(from) {
        let (seq, record) = item?;
        let entry = Value::Array(vec![
            Value::Integer(seq.into()),
            Value::Bytes(record.to_vec()),
        ]);
        file.write_all(&cbor::encode(&entry)).map_err(wrap)?;
    }
    for item in chain.signed_heads(from) {
        let (_, v) = item?;
        let entry = Value::Array(vec![Value::Text("head".into()), Value::Bytes(v.to_vec())]);
        file.write_all(&cbor::encode(&entry)).map_err(wrap)?;
    }
    let file = file.into_inner().map_err(|e| wrap(e.into_error()))?;
    file.sync_all().map_err(wrap)?;
    // The events are deleted next: the file's name must survive a power cut too.
    crate::atomic::sync_parent(&path).map_err(wrap)?;
    let hash = shake256_reader(std::fs::File::open(&path).map_err(wrap)?).map_err(wrap)?;
    Ok((path, hash))
}
