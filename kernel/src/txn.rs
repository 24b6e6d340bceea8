//! Deterministic multi-event writes: what a cluster member's state machine applies for one
//! Raft entry.
//!
//! A [`Txn`] stages events and state writes against the chain as committed, plus what it
//! staged itself (so a second tree change in the same entry plans against the first), and
//! commits them all as one synced RocksDB batch. Unlike an append it takes its time from
//! the caller (the leader's, recorded in the entry) and never from this machine's clock:
//! members applying the same entries write byte-identical events. Each signs its own head,
//! and only when the chain's signer set lets it ([`Signing`]).

use crate::chain::{
    decode_record, stage_event, stage_head, stage_signers, Chain, ChainState, Staging,
};
use crate::chain::{ChainError, StoredEvent};
use crate::cluster::Signers;
use crate::event::{Event, EventDraft};
use crate::head::SignedHead;
use crate::store::{seq_key, Store};
use rocksdb::{Direction, IteratorMode, WriteBatch};
use std::collections::BTreeMap;
use std::sync::MutexGuard;

/// A transaction that stages many events signs a head every this many (when its key may
/// sign), besides the one at its end: range sync serves a range up to a stored head, and
/// a range is at most 16,384 events.
pub const HEAD_EVERY: u64 = 512;

/// Whether a commit must sign a head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signing {
    /// Refuse the commit when the key may not sign (a single node's own writes).
    Required,
    /// Sign when the key may; otherwise commit without a head of this member's own (a
    /// member applying what the cluster committed before, or after, it was a signer).
    IfAuthorised,
}

/// What a commit wrote.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The events, in order.
    pub events: Vec<StoredEvent>,
    /// The head this member signed over them, if it signed.
    pub head: Option<SignedHead>,
}

/// Keys and values, in key order.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// The latest staged value of each key written (None: deleted), for reads.
type Overlay = BTreeMap<(&'static str, Vec<u8>), Option<Vec<u8>>>;

/// Writes in staging order, made a batch only at commit (so a savepoint can cut them).
#[derive(Default)]
struct Writes(Vec<Write>);

/// A put (`Some`) or a delete of one key.
struct Write {
    family: &'static str,
    key: Vec<u8>,
    value: Option<Vec<u8>>,
    /// Written through [`Txn::put`] or [`Txn::delete`], and so read back through
    /// [`Txn::get`] and [`Txn::scan`] (the chain's own records are not).
    state: bool,
}

impl Staging for Writes {
    fn put(&mut self, family: &'static str, key: &[u8], value: &[u8]) {
        self.0.push(Write {
            family,
            key: key.to_vec(),
            value: Some(value.to_vec()),
            state: false,
        });
    }
}

impl Writes {
    /// The latest staged value of each state key.
    fn overlay(&self) -> Overlay {
        self.0
            .iter()
            .filter(|w| w.state)
            .map(|w| ((w.family, w.key.clone()), w.value.clone()))
            .collect()
    }
}

/// A point a transaction can go back to, undoing what was staged after it.
pub struct SavePoint {
    next: ChainState,
    events: usize,
    writes: usize,
}

/// A transaction on a chain (see the module docs). Holding one holds the chain's commit
/// lock: appends from elsewhere wait until it commits or drops. Drop it to abandon it.
pub struct Txn<'c> {
    chain: &'c Chain,
    // Held for the transaction's life; `next` is what commit installs.
    committed: MutexGuard<'c, ChainState>,
    next: ChainState,
    writes: Writes,
    overlay: Overlay,
    events: Vec<StoredEvent>,
    time_ns: u64,
}

impl Chain {
    /// Starts a transaction whose events are stamped `time_ns` (or the last event's time,
    /// if later: times never go backwards).
    pub fn transaction(&self, time_ns: u64) -> Txn<'_> {
        let committed = self.lock_state();
        let next = committed.clone();
        Txn {
            chain: self,
            committed,
            next,
            writes: Writes::default(),
            overlay: Overlay::new(),
            events: Vec::new(),
            time_ns,
        }
    }
}

impl Txn<'_> {
    /// The store.
    pub fn store(&self) -> &Store {
        self.chain.store()
    }

    /// Events the chain will hold after the commit.
    pub fn len(&self) -> u64 {
        self.next.next_seq
    }

    /// Whether the chain is still empty (no genesis): nothing can be applied to it.
    pub fn is_empty(&self) -> bool {
        self.next.next_seq == 0
    }

    /// What the genesis established (None on an empty chain). Read the chain through the
    /// transaction while it is open: the chain's own getters wait for its commit.
    pub fn genesis(&self) -> Option<&crate::chain::Genesis> {
        self.next.genesis.as_ref()
    }

    /// Hash of the last event, as staged (zero on an empty chain).
    pub fn head_hash(&self) -> crate::hash::Hash {
        self.next.head_hash
    }

    /// Merkle root over every event, as staged.
    pub fn merkle_root(&self) -> crate::hash::Hash {
        self.next.frontier.root()
    }

    /// Stamps the events staged from now on with `time_ns` (or the last event's time, if
    /// later): one transaction may apply entries proposed at different times.
    pub fn set_time(&mut self, time_ns: u64) {
        self.time_ns = time_ns;
    }

    /// The signer sets as staged.
    pub fn signers(&self) -> &Signers {
        &self.next.signers
    }

    /// Stages one event. A signer event that does not follow the rules of
    /// [`crate::cluster`] is refused and nothing is staged.
    pub fn append(&mut self, draft: EventDraft) -> Result<StoredEvent, ChainError> {
        let genesis = self.next.genesis.clone().ok_or(ChainError::Empty)?;
        let time_ns = self.time_ns.max(self.next.last_time_ns);
        let event = Event {
            chain_id: genesis.chain_id,
            seq: self.next.next_seq,
            prev_hash: self.next.head_hash,
            timestamp_ns: time_ns,
            source: draft.source,
            kind: draft.kind,
            payload: draft.payload,
        };
        stage_signers(&mut self.writes, &mut self.next, &event).map_err(|reason| {
            ChainError::Commit(format!("event {} refused: {reason}", event.seq))
        })?;
        let hash = stage_event(&mut self.writes, &mut self.next, &event);
        self.next.last_time_ns = time_ns;
        let stored = StoredEvent { event, hash };
        self.events.push(stored.clone());
        if self.next.next_seq.is_multiple_of(HEAD_EVERY) {
            self.sign_if_authorised();
        }
        Ok(stored)
    }

    /// Stages a head over everything staged so far, if this member's key may sign there.
    fn sign_if_authorised(&mut self) -> Option<SignedHead> {
        let key = self.chain.key()?;
        let last = self.next.next_seq.checked_sub(1)?;
        if !self.next.signers.is_authorised(last, &key.public_key()) {
            return None;
        }
        let head = stage_head(&mut self.writes, &mut self.next, key);
        self.next.latest_head = Some(head.clone());
        Some(head)
    }

    /// Reads an event, staged or committed.
    pub fn event(&self, seq: u64) -> Result<StoredEvent, ChainError> {
        let committed = self.committed.next_seq;
        if seq >= committed {
            return self.events.get((seq - committed) as usize).cloned().ok_or(
                ChainError::NoSuchEvent {
                    seq,
                    len: self.len(),
                },
            );
        }
        let record = self
            .store()
            .get(crate::store::cf::EVENTS, &seq_key(seq))?
            .ok_or(ChainError::NoSuchEvent {
                seq,
                len: self.len(),
            })?;
        decode_record(seq, &record)
    }

    /// Reads a value of a state family, as staged.
    pub fn get(&self, family: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, ChainError> {
        if let Some(staged) = self.overlay.get(&(family, key.to_vec())) {
            return Ok(staged.clone());
        }
        Ok(self.store().get(family, key)?)
    }

    /// Keys and values of a state family under `prefix`, as staged, in key order.
    pub fn scan(&self, family: &'static str, prefix: &[u8]) -> Result<Entries, ChainError> {
        let store = self.store();
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let iter = store.db().iterator_cf(
            store.cf(family),
            IteratorMode::From(prefix, Direction::Forward),
        );
        for item in iter {
            let (k, v) = item.map_err(|e| ChainError::Store(store.rocks(e)))?;
            if !k.starts_with(prefix) {
                break;
            }
            merged.insert(k.to_vec(), v.to_vec());
        }
        let staged = self
            .overlay
            .range((family, prefix.to_vec())..)
            .take_while(|((f, k), _)| *f == family && k.starts_with(prefix));
        for ((_, k), v) in staged {
            match v {
                Some(v) => merged.insert(k.clone(), v.clone()),
                None => merged.remove(k),
            };
        }
        Ok(merged.into_iter().collect())
    }

    /// Stages a put into a state family.
    pub fn put(&mut self, family: &'static str, key: &[u8], value: Vec<u8>) {
        self.stage_state(family, key, Some(value));
    }

    /// Stages a delete from a state family.
    pub fn delete(&mut self, family: &'static str, key: &[u8]) {
        self.stage_state(family, key, None);
    }

    fn stage_state(&mut self, family: &'static str, key: &[u8], value: Option<Vec<u8>>) {
        self.overlay.insert((family, key.to_vec()), value.clone());
        self.writes.0.push(Write {
            family,
            key: key.to_vec(),
            value,
            state: true,
        });
    }

    /// Marks the staged state, so that a request whose later part fails can be undone
    /// whole ([`Txn::rollback`]).
    pub fn savepoint(&self) -> SavePoint {
        SavePoint {
            next: self.next.clone(),
            events: self.events.len(),
            writes: self.writes.0.len(),
        }
    }

    /// Undoes everything staged since `point`. The read overlay is rebuilt from the
    /// writes that remain: a savepoint is taken per request and a rollback is rare, so
    /// the overlay is not copied at every savepoint.
    pub fn rollback(&mut self, point: SavePoint) {
        self.next = point.next;
        self.events.truncate(point.events);
        self.writes.0.truncate(point.writes);
        self.overlay = self.writes.overlay();
    }

    /// Writes everything staged as one synced batch, with this member's head over the
    /// events when `signing` lets it sign. Nothing is written on an error.
    pub fn commit(mut self, signing: Signing) -> Result<Committed, ChainError> {
        let mut head = None;
        if !self.events.is_empty() {
            let last = self.next.next_seq - 1;
            let signed_here = self
                .next
                .latest_head
                .as_ref()
                .is_some_and(|h| h.seq == last);
            head = if signed_here {
                self.next.latest_head.clone()
            } else {
                self.sign_if_authorised()
            };
            if head.is_none() && signing == Signing::Required {
                let key = self.chain.key().ok_or(ChainError::NoKey)?;
                return Err(ChainError::NotAuthorised {
                    reason: self.next.signers.refusal(last, &key.public_key()),
                });
            }
        }
        let store = self.chain.store();
        let mut batch = WriteBatch::default();
        for write in std::mem::take(&mut self.writes.0) {
            let family = store.cf(write.family);
            match write.value {
                Some(value) => batch.put_cf(family, write.key, value),
                None => batch.delete_cf(family, write.key),
            }
        }
        store.write_synced(batch)?;
        self.chain.count_synced_batch();
        *self.committed = self.next.clone();
        Ok(Committed {
            events: std::mem::take(&mut self.events),
            head,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cbor;
    use crate::keys::NodeKey;
    use crate::store::cf;
    use ciborium::value::Value;
    use std::sync::Arc;

    fn chain(dir: &std::path::Path, seed: u8) -> Chain {
        let store = Arc::new(Store::create(dir).expect("store"));
        Chain::create(store, NodeKey::from_seed(&[seed; 32]), "p").expect("chain")
    }

    fn draft(n: u64) -> EventDraft {
        EventDraft::new("t", "t.e", cbor::map([("n", Value::Integer(n.into()))])).expect("draft")
    }

    #[test]
    fn a_transaction_reads_what_it_staged_and_commits_once() {
        let dir = tempfile::tempdir().expect("tmp");
        let chain = chain(dir.path(), 1);
        let before = chain.synced_batches();
        let mut txn = chain.transaction(5);
        txn.put(cf::INDEX, b"a/1", b"x".to_vec());
        txn.put(cf::INDEX, b"a/2", b"y".to_vec());
        txn.delete(cf::INDEX, b"a/1");
        let first = txn.append(draft(1)).expect("append");
        txn.append(draft(2)).expect("append");
        assert_eq!(txn.get(cf::INDEX, b"a/1").expect("get"), None);
        assert_eq!(
            txn.scan(cf::INDEX, b"a/").expect("scan"),
            vec![(b"a/2".to_vec(), b"y".to_vec())]
        );
        assert_eq!(txn.event(first.event.seq).expect("staged").hash, first.hash);
        assert!(chain.store().get(cf::INDEX, b"a/2").expect("get").is_none());
        let done = txn.commit(Signing::Required).expect("commit");
        assert_eq!(chain.synced_batches(), before + 1);
        assert_eq!(done.events.len(), 2);
        let head = done.head.expect("signed");
        assert_eq!(head.seq, 2);
        assert_eq!(chain.latest_signed_head(), Some(head));
        assert_eq!(chain.len(), 3);
        assert!(chain.store().get(cf::INDEX, b"a/2").expect("get").is_some());
    }

    #[test]
    fn a_rollback_undoes_events_and_writes_after_the_savepoint() {
        let dir = tempfile::tempdir().expect("tmp");
        let chain = chain(dir.path(), 1);
        let mut txn = chain.transaction(5);
        txn.append(draft(1)).expect("append");
        let point = txn.savepoint();
        txn.append(draft(2)).expect("append");
        txn.put(cf::INDEX, b"k", b"v".to_vec());
        txn.rollback(point);
        assert_eq!(txn.len(), 2);
        assert_eq!(txn.get(cf::INDEX, b"k").expect("get"), None);
        let point = txn.savepoint();
        txn.append(draft(3)).expect("append");
        drop(point);
        let done = txn.commit(Signing::Required).expect("commit");
        assert_eq!(done.events.len(), 2);
        assert_eq!(chain.len(), 3);
        assert!(chain.store().get(cf::INDEX, b"k").expect("get").is_none());
        crate::verify::verify(&chain, &mut |_| {})
            .expect("verify")
            .failures
            .is_empty()
            .then_some(())
            .expect("the rolled-back event left no trace");
    }

    #[test]
    fn times_come_from_the_caller_and_never_go_back() {
        let dir = tempfile::tempdir().expect("tmp");
        let chain = chain(dir.path(), 1);
        let genesis_time = chain.event(0).expect("genesis").event.timestamp_ns;
        let mut txn = chain.transaction(genesis_time + 7);
        let e = txn.append(draft(1)).expect("append");
        assert_eq!(e.event.timestamp_ns, genesis_time + 7);
        txn.commit(Signing::Required).expect("commit");
        let mut txn = chain.transaction(1);
        let e = txn.append(draft(2)).expect("append");
        assert_eq!(
            e.event.timestamp_ns,
            genesis_time + 7,
            "an older leader clock"
        );
    }

    #[test]
    fn two_chains_with_one_genesis_apply_identically_whoever_signs() {
        let a = tempfile::tempdir().expect("tmp");
        let b = tempfile::tempdir().expect("tmp");
        let ca = chain(a.path(), 1);
        // The second holds the same genesis under another key (a member's copy).
        let genesis = ca.event(0).expect("genesis").event;
        let sb = Arc::new(Store::create(b.path()).expect("store"));
        let cb = Chain::open_unchecked(sb, Some(NodeKey::from_seed(&[2; 32]))).expect("open");
        cb.write_verbatim(&[genesis], crate::chain::HeadMode::Unsigned)
            .expect("copy genesis");
        for chain in [&ca, &cb] {
            let mut txn = chain.transaction(99);
            for n in 0..3 {
                txn.append(draft(n)).expect("append");
            }
            let done = txn.commit(Signing::IfAuthorised).expect("commit");
            // Only the genesis key may sign this chain.
            assert_eq!(done.head.is_some(), std::ptr::eq(chain, &ca));
        }
        let records = |c: &Chain| c.records(0).map(|r| r.expect("record")).collect::<Vec<_>>();
        assert_eq!(records(&ca), records(&cb));
        let mut txn = cb.transaction(100);
        txn.append(draft(9)).expect("append");
        assert!(matches!(
            txn.commit(Signing::Required),
            Err(ChainError::NotAuthorised { .. } | ChainError::WrongKey { .. })
        ));
        assert_eq!(cb.len(), 4, "a refused commit writes nothing");
    }

    /// A member's copy: the same genesis, another key.
    fn member_copy(of: &Chain, dir: &std::path::Path, seed: u8) -> Chain {
        let genesis = of.event(0).expect("genesis").event;
        let store = Arc::new(Store::create(dir).expect("store"));
        let chain =
            Chain::open_unchecked(store, Some(NodeKey::from_seed(&[seed; 32]))).expect("open");
        chain
            .write_verbatim(&[genesis], crate::chain::HeadMode::Unsigned)
            .expect("copy genesis");
        chain
    }

    fn member(id: u64, seed: u8) -> crate::cluster::Member {
        crate::cluster::Member {
            id,
            name: format!("m{id}"),
            public_key: NodeKey::from_seed(&[seed; 32]).public_key(),
        }
    }

    /// Applies one entry (a signer event by `by`, then `n` plain events) on every chain.
    fn apply_everywhere(
        chains: &[&Chain],
        kind: &str,
        members: &[crate::cluster::Member],
        by: u8,
        n: u64,
    ) -> Vec<Option<SignedHead>> {
        let key = NodeKey::from_seed(&[by; 32]);
        chains
            .iter()
            .map(|chain| {
                let mut txn = chain.transaction(1_000);
                let chain_id = txn.genesis().expect("genesis").chain_id;
                let draft =
                    crate::cluster::signer_draft(&chain_id, txn.signers(), kind, members, &key)
                        .expect("draft");
                txn.append(draft).expect("signer event");
                for i in 0..n {
                    txn.append(draft_n(i)).expect("append");
                }
                txn.commit(Signing::IfAuthorised).expect("commit").head
            })
            .collect()
    }

    fn draft_n(n: u64) -> EventDraft {
        draft(n)
    }

    fn failures(chain: &Chain) -> Vec<(u64, crate::verify::FailureKind, String)> {
        crate::verify::verify(chain, &mut |_| {})
            .expect("verify")
            .failures
            .into_iter()
            .map(|f| (f.seq, f.kind, f.detail))
            .collect()
    }

    #[test]
    fn members_sign_their_own_heads_under_the_sets_the_chain_records() {
        use crate::cluster::{FORMED, MEMBERSHIP};
        let (a, b) = (
            tempfile::tempdir().expect("tmp"),
            tempfile::tempdir().expect("tmp"),
        );
        let ca = chain(a.path(), 1);
        let cb = member_copy(&ca, b.path(), 2);
        let heads = apply_everywhere(&[&ca, &cb], FORMED, &[member(1, 1), member(2, 2)], 1, 2);
        assert!(heads.iter().all(Option::is_some), "both are members now");
        assert_ne!(heads[0], heads[1], "each signs with its own key");
        // The founder leaves: only 2 may sign from here on.
        let heads = apply_everywhere(&[&ca, &cb], MEMBERSHIP, &[member(2, 2)], 2, 1);
        assert!(heads[0].is_none(), "1 applies without signing");
        assert!(heads[1].is_some());
        let records = |c: &Chain| c.records(0).map(|r| r.expect("record")).collect::<Vec<_>>();
        assert_eq!(records(&ca), records(&cb), "byte-identical events");
        assert_eq!(failures(&ca), vec![]);
        assert_eq!(failures(&cb), vec![]);
        // A's tail has no head of its own: it still opens.
        drop(ca);
        let store = Arc::new(Store::open(a.path()).expect("open"));
        let ca =
            Chain::open(store, Some(NodeKey::from_seed(&[1; 32]))).expect("unsigned tail opens");
        assert_eq!(ca.signers().changes().len(), 2);
    }

    #[test]
    fn a_head_outside_the_set_and_a_doctored_index_fail_verification() {
        use crate::cluster::FORMED;
        let a = tempfile::tempdir().expect("tmp");
        let ca = chain(a.path(), 1);
        apply_everywhere(&[&ca], FORMED, &[member(1, 1), member(2, 2)], 1, 1);
        let last = ca.len() - 1;
        // A head by a key the chain never authorised, over the real history.
        let outsider = NodeKey::from_seed(&[9; 32]);
        let (seq, hash) = ca.head().expect("head");
        let forged = SignedHead::sign(
            &outsider,
            ca.genesis().expect("genesis").chain_id,
            seq,
            hash,
            ca.merkle_root(),
            1,
        );
        let mut batch = WriteBatch::default();
        batch.put_cf(ca.store().cf(cf::HEADS), seq_key(last), forged.encode());
        ca.store().write_synced(batch).expect("write");
        let found = failures(&ca);
        assert!(
            found.iter().any(|(s, k, d)| *s == last
                && *k == crate::verify::FailureKind::Head
                && d.contains("not among")),
            "{found:?}"
        );
        // An index entry authorising the outsider with no event behind it.
        let mut keys = std::collections::BTreeSet::new();
        keys.insert(outsider.public_key());
        let mut batch = WriteBatch::default();
        batch.put_cf(
            ca.store().cf(cf::INDEX),
            crate::cluster::index_key(last),
            crate::cluster::encode_keys(&keys),
        );
        ca.store().write_synced(batch).expect("write");
        ca.reload().expect("reload");
        let found = failures(&ca);
        assert!(
            found.iter().any(|(s, k, d)| *s == last
                && *k == crate::verify::FailureKind::Signers
                && d.contains("no cluster event")),
            "{found:?}"
        );
    }

    #[test]
    fn a_membership_event_endorsed_by_an_outsider_is_refused() {
        use crate::cluster::{FORMED, MEMBERSHIP};
        let a = tempfile::tempdir().expect("tmp");
        let ca = chain(a.path(), 1);
        apply_everywhere(&[&ca], FORMED, &[member(1, 1)], 1, 0);
        let len = ca.len();
        let chain_id = ca.genesis().expect("genesis").chain_id;
        let mut txn = ca.transaction(2_000);
        let draft = crate::cluster::signer_draft(
            &chain_id,
            txn.signers(),
            MEMBERSHIP,
            &[member(9, 9)],
            &NodeKey::from_seed(&[9; 32]),
        )
        .expect("draft");
        let err = txn.append(draft).expect_err("outsider");
        assert!(
            err.to_string().contains("not in the set it replaces"),
            "{err}"
        );
        drop(txn);
        assert_eq!(ca.len(), len);
    }
}
