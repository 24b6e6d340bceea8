//! Witness entries and lineage records: events that point outside themselves, and are
//! verified by checking what they point at.
//!
//! - `witness.head`: binds this chain to another chain's signed head; verified by the
//!   head's Ed25519 signature (and, when it names a local event, that event's hash).
//! - `witness.artifact`: binds this chain to an artifact's SHAKE-256 hash; the node layer
//!   re-hashes the file when it is present.
//! - `lineage.record`: a child object derived from parent events; a parent on this chain
//!   must exist before the record and have exactly the named hash.

use crate::cbor::{self, read};
use crate::event::{ChainId, Event, EventDraft, EventError};
use crate::hash::Hash;
use crate::head::SignedHead;
use ciborium::value::Value;

/// Kind of a witness of another chain's signed head.
pub const WITNESS_HEAD: &str = "witness.head";
/// Kind of a witness of an artifact hash.
pub const WITNESS_ARTIFACT: &str = "witness.artifact";
/// Kind of the record of a finished assessment: its report is an artifact like a
/// witnessed file (name, hash, size, path), plus the scope and the finding counts.
pub const ASSESS_COMPLETE: &str = "assess.complete";
/// Kind of a lineage record.
pub const LINEAGE_RECORD: &str = "lineage.record";

/// How a child was made from its parents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Derivation {
    /// An identical copy.
    Clone,
    /// A changed copy.
    Mutate,
    /// Made from several parents.
    Combine,
    /// Computed from the parent (a report from a commit, an ack from a release).
    Derive,
    /// A divergent line of the parent.
    Fork,
}

impl Derivation {
    /// All derivations with their names.
    pub const ALL: [(Derivation, &'static str); 5] = [
        (Derivation::Clone, "clone"),
        (Derivation::Mutate, "mutate"),
        (Derivation::Combine, "combine"),
        (Derivation::Derive, "derive"),
        (Derivation::Fork, "fork"),
    ];

    /// The name used in payloads and on the command line.
    pub fn name(self) -> &'static str {
        Derivation::ALL
            .iter()
            .find(|(d, _)| *d == self)
            .map(|(_, n)| *n)
            .expect("every derivation is listed")
    }

    /// Parses a name.
    pub fn parse(name: &str) -> Option<Derivation> {
        Derivation::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(d, _)| *d)
    }
}

/// A reference to an event, possibly on another chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRef {
    /// The chain.
    pub chain_id: ChainId,
    /// The event.
    pub seq: u64,
    /// Its hash.
    pub hash: Hash,
}

impl EventRef {
    fn to_value(&self) -> Value {
        cbor::map([
            ("chain_id", Value::Bytes(self.chain_id.0.to_vec())),
            ("seq", Value::Integer(self.seq.into())),
            ("hash", Value::Bytes(self.hash.0.to_vec())),
        ])
    }

    fn from_value(v: &Value) -> Option<EventRef> {
        Some(EventRef {
            chain_id: ChainId(read::bytes(v, "chain_id")?.try_into().ok()?),
            seq: read::uint(v, "seq")?,
            hash: Hash::from_slice(read::bytes(v, "hash")?)?,
        })
    }
}

/// Draft of a witness of another chain's signed head, optionally tied to a local event.
pub fn witness_head(
    head: &SignedHead,
    local: Option<&EventRef>,
    note: Option<&str>,
) -> Result<EventDraft, EventError> {
    let mut entries = vec![(Value::Text("head".into()), head.to_value())];
    if let Some(local) = local {
        entries.push((Value::Text("local".into()), local.to_value()));
    }
    if let Some(note) = note {
        entries.push((Value::Text("note".into()), Value::Text(note.into())));
    }
    EventDraft::new("witness", WITNESS_HEAD, Value::Map(entries))
}

/// Draft of a witness of an artifact's hash.
pub fn witness_artifact(
    name: &str,
    hash: &Hash,
    size: Option<u64>,
    path: Option<&str>,
    local: Option<&EventRef>,
) -> Result<EventDraft, EventError> {
    let mut entries = vec![
        (Value::Text("name".into()), Value::Text(name.into())),
        (Value::Text("hash".into()), Value::Bytes(hash.0.to_vec())),
    ];
    if let Some(size) = size {
        entries.push((Value::Text("size".into()), Value::Integer(size.into())));
    }
    if let Some(path) = path {
        entries.push((Value::Text("path".into()), Value::Text(path.into())));
    }
    if let Some(local) = local {
        entries.push((Value::Text("local".into()), local.to_value()));
    }
    EventDraft::new("witness", WITNESS_ARTIFACT, Value::Map(entries))
}

/// Draft of an `assess.complete` record: the report file as an artifact, and `details`
/// (a CBOR map: scope, commit, summary) merged into the payload.
pub fn assessment(
    hash: &Hash,
    size: u64,
    path: &str,
    details: Vec<(Value, Value)>,
) -> Result<EventDraft, EventError> {
    let mut entries = vec![
        (Value::Text("name".into()), Value::Text("assessment".into())),
        (Value::Text("hash".into()), Value::Bytes(hash.0.to_vec())),
        (Value::Text("size".into()), Value::Integer(size.into())),
        (Value::Text("path".into()), Value::Text(path.into())),
    ];
    entries.extend(details);
    EventDraft::new("assess", ASSESS_COMPLETE, Value::Map(entries))
}

/// Draft of a lineage record.
pub fn lineage(
    child: &str,
    parents: &[EventRef],
    derivation: Derivation,
    note: Option<&str>,
) -> Result<EventDraft, EventError> {
    let mut entries = vec![
        (Value::Text("child".into()), Value::Text(child.into())),
        (
            Value::Text("parents".into()),
            Value::Array(parents.iter().map(EventRef::to_value).collect()),
        ),
        (
            Value::Text("derivation".into()),
            Value::Text(derivation.name().into()),
        ),
    ];
    if let Some(note) = note {
        entries.push((Value::Text("note".into()), Value::Text(note.into())));
    }
    EventDraft::new("lineage", LINEAGE_RECORD, Value::Map(entries))
}

/// What a check could not do itself: references to other chains, which the node checks
/// against replicas when it has them, and artifacts, which it re-hashes when the file is
/// in the repository.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct External {
    /// References to events on other chains: the referring event's sequence, and the
    /// event referred to.
    pub foreign_refs: Vec<(u64, EventRef)>,
    /// Witnessed artifacts, in sequence order.
    pub artifacts: Vec<ArtifactRef>,
}

/// An artifact named by a `witness.artifact` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactRef {
    /// The witness event.
    pub seq: u64,
    /// Artifact name.
    pub name: String,
    /// Its SHAKE-256 hash.
    pub hash: Hash,
    /// Path relative to the repository root, if recorded.
    pub path: Option<String>,
}

/// Checks a witness or lineage event; other kinds pass. `stored_hash` looks up the hash
/// of an earlier event of this chain.
pub fn check_event(
    event: &Event,
    stored_hash: &mut dyn FnMut(u64) -> Option<Hash>,
    external: &mut External,
) -> Result<(), String> {
    let mut check_local = |r: &EventRef, external: &mut External| -> Result<(), String> {
        if r.chain_id != event.chain_id {
            external.foreign_refs.push((event.seq, r.clone()));
            return Ok(());
        }
        if r.seq >= event.seq {
            return Err(format!(
                "refers to event {} which does not precede it",
                r.seq
            ));
        }
        match stored_hash(r.seq) {
            Some(h) if h == r.hash => Ok(()),
            Some(h) => Err(format!(
                "names hash {} for event {}, which has hash {h}",
                r.hash, r.seq
            )),
            None => Err(format!("refers to event {}, which is missing", r.seq)),
        }
    };
    let p = &event.payload;
    match event.kind.as_str() {
        WITNESS_HEAD => {
            let head = read::field(p, "head")
                .ok_or("witness has no `head`")
                .and_then(|v| {
                    SignedHead::from_value(v).map_err(|_| "witness `head` is malformed")
                })?;
            head.verify_signature()
                .map_err(|e| format!("witnessed head: {e}"))?;
            if let Some(local) = read::field(p, "local") {
                let r = EventRef::from_value(local).ok_or("witness `local` is malformed")?;
                check_local(&r, external)?;
            }
            Ok(())
        }
        ASSESS_COMPLETE => {
            read::text(p, "path").ok_or("assessment record has no report `path`")?;
            external.artifacts.extend(Some(
                artifact_of(event).ok_or("assessment record has no 32-byte report `hash`")?,
            ));
            Ok(())
        }
        WITNESS_ARTIFACT => {
            read::text(p, "name").ok_or("artifact witness has no `name`")?;
            read::bytes(p, "hash")
                .filter(|b| b.len() == 32)
                .ok_or("artifact witness has no 32-byte `hash`")?;
            if let Some(local) = read::field(p, "local") {
                let r = EventRef::from_value(local).ok_or("witness `local` is malformed")?;
                check_local(&r, external)?;
            }
            external.artifacts.extend(artifact_of(event));
            Ok(())
        }
        LINEAGE_RECORD => {
            read::text(p, "child").ok_or("lineage record has no `child`")?;
            let derivation =
                read::text(p, "derivation").ok_or("lineage record has no `derivation`")?;
            Derivation::parse(derivation)
                .ok_or_else(|| format!("unknown derivation `{derivation}`"))?;
            let Some(Value::Array(parents)) = read::field(p, "parents") else {
                return Err("lineage record has no `parents` list".into());
            };
            if parents.is_empty() {
                return Err("lineage record names no parent".into());
            }
            for parent in parents {
                let r = EventRef::from_value(parent).ok_or("lineage parent is malformed")?;
                check_local(&r, external)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The artifact named by a `witness.artifact` or `assess.complete` event.
pub fn artifact_of(event: &Event) -> Option<ArtifactRef> {
    if event.kind != WITNESS_ARTIFACT && event.kind != ASSESS_COMPLETE {
        return None;
    }
    let p = &event.payload;
    Some(ArtifactRef {
        seq: event.seq,
        name: read::text(p, "name")?.to_string(),
        hash: Hash::from_slice(read::bytes(p, "hash")?)?,
        path: read::text(p, "path").map(str::to_string),
    })
}
