//! Applying what the cluster committed, deterministically: proposals become events and
//! state writes in a kernel [`Txn`], planned against the state applied before them, with
//! the leader's time; a request applied once is answered from the dedupe table when it
//! comes again. Membership entries are recorded as `cluster.config` events.
//!
//! Everything here reads only the transaction (applied state plus what it staged), so
//! members applying the same entries write the same bytes.

use crate::codec::{decode, encode};
use crate::types::{Appended, Command, Draft, Member, NodeId, Proposal, Replies, Reply, Request};
use openraft::alias::{LogIdOf, StoredMembershipOf};
use openraft::Membership;
use std::io;
use weft_kernel::cbor;
use weft_kernel::chain::{ChainError, StoredEvent};
use weft_kernel::event::EventDraft;
use weft_kernel::gate::{Effect, RuleSet};
use weft_kernel::store::cf;
use weft_kernel::txn::Txn;

/// Key of the last applied log id.
pub(crate) const APPLIED: &[u8] = b"applied";
/// Key of the last applied membership.
pub(crate) const MEMBERSHIP: &[u8] = b"membership";
/// Prefix of the dedupe table: client ‖ serial → (time, reply).
pub(crate) const DEDUPE: &[u8] = b"dedupe/";
/// Prefix of the dedupe table's expiry index: time ‖ client ‖ serial.
pub(crate) const DEDUPE_BY_TIME: &[u8] = b"dedupe-time/";
/// How long (in the leader's time) a request's reply is kept to answer a retry: far
/// beyond any client's retry window.
pub const DEDUPE_TTL_NS: u64 = 10 * 60 * 1_000_000_000;
/// Most expired dedupe entries one proposal removes: the table shrinks steadily without
/// any one entry doing unbounded work.
const EXPIRE_PER_PROPOSAL: usize = 1024;
/// Kind of the event recording a Raft membership change.
pub const CONFIG_KIND: &str = "cluster.config";

fn dedupe_key(client: &[u8; 16], serial: u64) -> Vec<u8> {
    let mut key = DEDUPE.to_vec();
    key.extend_from_slice(client);
    key.extend_from_slice(&serial.to_be_bytes());
    key
}

fn expiry_key(time_ns: u64, client: &[u8; 16], serial: u64) -> Vec<u8> {
    let mut key = DEDUPE_BY_TIME.to_vec();
    key.extend_from_slice(&time_ns.to_be_bytes());
    key.extend_from_slice(client);
    key.extend_from_slice(&serial.to_be_bytes());
    key
}

/// Applies one proposal; returns a reply per request.
pub fn proposal(txn: &mut Txn<'_>, proposal: &Proposal) -> io::Result<Replies> {
    txn.set_time(proposal.time_ns);
    expire(txn, proposal.time_ns)?;
    let mut replies = Vec::with_capacity(proposal.requests.len());
    for request in &proposal.requests {
        replies.push(self::request(txn, request, proposal.time_ns)?);
    }
    Ok(Replies(replies))
}

fn request(txn: &mut Txn<'_>, request: &Request, time_ns: u64) -> io::Result<Reply> {
    let key = dedupe_key(&request.client, request.serial);
    if let Some(bytes) = txn.get(cf::RAFT, &key).map_err(crate::codec::io_error)? {
        let (_, reply): (u64, Reply) = decode(&bytes, "dedupe entry")?;
        return Ok(reply);
    }
    let point = txn.savepoint();
    let reply = match command(txn, &request.command) {
        Ok(events) => Reply::Applied(
            events
                .iter()
                .map(|e| Appended {
                    seq: e.event.seq,
                    hash: e.hash.to_hex(),
                })
                .collect(),
        ),
        Err(reason) => {
            txn.rollback(point);
            Reply::Refused(reason)
        }
    };
    txn.put(cf::RAFT, &key, encode(&(time_ns, &reply))?);
    txn.put(
        cf::RAFT,
        &expiry_key(time_ns, &request.client, request.serial),
        Vec::new(),
    );
    Ok(reply)
}

/// Runs one command; an error undoes it whole (the caller rolls back).
fn command(txn: &mut Txn<'_>, command: &Command) -> Result<Vec<StoredEvent>, String> {
    // An empty chain never gets here: the state machine refuses to apply to one.
    match command {
        Command::Append(drafts) => {
            let mut out = Vec::with_capacity(drafts.len());
            for draft in drafts {
                out.push(append(txn, draft)?);
            }
            Ok(out)
        }
        Command::TreeSet { path, kind, meta } => {
            weft_kernel::tree::set_in(txn, path, kind, meta.clone())
                .map(|e| vec![e])
                .map_err(|e| e.to_string())
        }
        Command::TreeRemove { path, recursive } => {
            weft_kernel::tree::remove_in(txn, path, *recursive)
                .map(|e| vec![e])
                .map_err(|e| e.to_string())
        }
        Command::GateDecide {
            rules,
            action,
            environment,
            effect,
        } => {
            let rules = cbor::decode_canonical(rules)
                .map_err(|e| format!("gate rules: {e}"))
                .and_then(|v| RuleSet::from_value(&v).map_err(|e| format!("gate rules: {e}")))?;
            let effect = Effect(effect.iter().cloned().collect());
            let before = txn.len();
            weft_kernel::gate::decide_in(txn, &rules, action, environment.as_deref(), &effect)
                .map_err(|e| e.to_string())?;
            staged_since(txn, before)
        }
        Command::GateResolve {
            seq,
            approve,
            note,
            by,
        } => weft_kernel::gate::resolve_in(txn, *seq, *approve, note.as_deref(), by.as_deref())
            .map(|e| vec![e])
            .map_err(|e| e.to_string()),
    }
}

/// The events staged from `from` on (a command that appended more than one).
fn staged_since(txn: &Txn<'_>, from: u64) -> Result<Vec<StoredEvent>, String> {
    (from..txn.len())
        .map(|seq| txn.event(seq).map_err(|e| e.to_string()))
        .collect()
}

fn append(txn: &mut Txn<'_>, draft: &Draft) -> Result<StoredEvent, String> {
    // Tree and gate events carry state their commands plan; raw ones would desync it.
    if draft.source == "tree" || draft.source == "gate" {
        return Err(format!(
            "{} events are appended by {} commands, not raw",
            draft.source, draft.source
        ));
    }
    let payload = cbor::decode_canonical(&draft.payload)
        .map_err(|e| format!("event `{}`: payload: {e}", draft.kind))?;
    let draft = EventDraft::new(&draft.source, &draft.kind, payload).map_err(|e| e.to_string())?;
    txn.append(draft).map_err(|e| match e {
        ChainError::Commit(reason) => reason,
        other => other.to_string(),
    })
}

/// Drops dedupe entries older than [`DEDUPE_TTL_NS`] before `now_ns`, a bounded number.
/// Entries an earlier proposal of the same transaction removed are skipped, not counted:
/// members that batch entries into transactions differently remove the same entries.
fn expire(txn: &mut Txn<'_>, now_ns: u64) -> io::Result<()> {
    let cutoff = now_ns.saturating_sub(DEDUPE_TTL_NS);
    let mut expired = Vec::new();
    {
        let store = txn.store();
        let iter = store.db().iterator_cf(
            store.cf(cf::RAFT),
            rocksdb::IteratorMode::From(DEDUPE_BY_TIME, rocksdb::Direction::Forward),
        );
        for item in iter {
            let (key, _) = item.map_err(crate::codec::io_error)?;
            let Some(rest) = key.strip_prefix(DEDUPE_BY_TIME) else {
                break;
            };
            let Ok(parts) = <[u8; 32]>::try_from(rest) else {
                continue;
            };
            let time = u64::from_be_bytes(parts[..8].try_into().expect("8 bytes"));
            if time >= cutoff || expired.len() >= EXPIRE_PER_PROPOSAL {
                break;
            }
            if txn
                .get(cf::RAFT, &key)
                .map_err(crate::codec::io_error)?
                .is_some()
            {
                expired.push((key.to_vec(), parts));
            }
        }
    }
    for (key, parts) in expired {
        let client: [u8; 16] = parts[8..24].try_into().expect("16 bytes");
        let serial = u64::from_be_bytes(parts[24..].try_into().expect("8 bytes"));
        txn.delete(cf::RAFT, &key);
        txn.delete(cf::RAFT, &dedupe_key(&client, serial));
    }
    Ok(())
}

/// Records a membership entry: the stored membership, and (on a chain that has a genesis)
/// a `cluster.config` event listing voters, learners and their addresses.
pub fn membership(
    txn: &mut Txn<'_>,
    log_id: &LogIdOf<crate::types::TypeConfig>,
    membership: &Membership<NodeId, Member>,
) -> io::Result<()> {
    let stored =
        StoredMembershipOf::<crate::types::TypeConfig>::new(Some(*log_id), membership.clone());
    txn.put(cf::RAFT, MEMBERSHIP, encode(&stored)?);
    if txn.is_empty() {
        return Ok(());
    }
    use ciborium::value::Value;
    let voters: Vec<Value> = membership
        .voter_ids()
        .map(|id| Value::Integer(id.into()))
        .collect();
    let learners: Vec<Value> = membership
        .learner_ids()
        .map(|id| Value::Integer(id.into()))
        .collect();
    let nodes: Vec<Value> = membership
        .nodes()
        .map(|(id, m)| {
            cbor::map([
                ("addr", Value::Text(m.addr.clone())),
                ("id", Value::Integer((*id).into())),
                ("name", Value::Text(m.name.clone())),
                ("peer_id", Value::Text(m.peer_id.clone())),
                ("public_key", Value::Text(m.public_key.clone())),
            ])
        })
        .collect();
    let payload = cbor::map([
        ("learners", Value::Array(learners)),
        ("log_index", Value::Integer(log_id.index.into())),
        ("nodes", Value::Array(nodes)),
        ("voters", Value::Array(voters)),
    ]);
    let draft = EventDraft::new(weft_kernel::cluster::SOURCE, CONFIG_KIND, payload)
        .map_err(crate::codec::io_error)?;
    txn.append(draft).map_err(crate::codec::io_error)?;
    Ok(())
}

/// Records the last applied log id.
pub fn applied(txn: &mut Txn<'_>, log_id: &LogIdOf<crate::types::TypeConfig>) -> io::Result<()> {
    txn.put(cf::RAFT, APPLIED, encode(log_id)?);
    Ok(())
}
