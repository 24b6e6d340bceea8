//! The ExoChain: append with group commit, read, and signed heads, over [`Store`].
//!
//! Appends from many threads share one fsync: each caller queues its draft, and whoever
//! takes the commit lock next writes everything queued as one synced RocksDB batch
//! (events, Merkle subtrees, one signed head, and any state the callers attached), then
//! hands each caller its result. A caller returns only after the batch holding its event
//! is on disk.

use crate::cbor::{self, read};
use crate::cluster::Signers;
use crate::event::{ChainId, Event, EventDraft, EventError};
use crate::hash::Hash;
use crate::head::SignedHead;
use crate::keys::NodeKey;
use crate::merkle::{CompletedSubtree, Frontier, MerkleHasher, Shake256Merkle, SubtreeSource};
use crate::merkle_helper::{push_leaf, MerkleHelper, HELPER_FROM};
use crate::store::{cf, key_seq, merkle_key, seq_key, Store, StoreError, MERKLE_STORED_FROM};
use crate::verbatim::{BuiltMerkle, Verbatim};
use ciborium::value::Value;
use rocksdb::{Direction, IteratorMode, WriteBatch};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Source and kind of the first event of every chain.
pub const GENESIS_KIND: &str = "chain.genesis";

/// How many trailing events [`Chain::open`] re-verifies before accepting a store.
pub const OPEN_CHECK_TAIL: u64 = 256;

/// Errors of chain operations.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A draft was invalid.
    #[error(transparent)]
    Event(#[from] EventError),
    /// The store holds data that does not verify.
    #[error("chain store is damaged at sequence {seq}: {reason}. Nothing was changed. Run `weft chain verify` for every failure and `weft chain repair` to keep the longest valid prefix")]
    Damaged {
        /// First bad sequence.
        seq: u64,
        /// What is wrong there.
        reason: String,
    },
    /// The chain has no events (only an import may fill it).
    #[error("the chain is empty: run `weft init`, or `weft chain import FILE` to restore one")]
    Empty,
    /// The node key is not the one the genesis names.
    #[error("this node's key ({have}) is not the key that owns this chain ({want}); appends are refused")]
    WrongKey {
        /// Fingerprint of the loaded key.
        have: String,
        /// Fingerprint named by the genesis.
        want: String,
    },
    /// The node key may not sign this cluster's heads.
    #[error("this node's key may not sign this chain's heads: {reason}; appends are refused")]
    NotAuthorised {
        /// Which key, which members.
        reason: String,
    },
    /// The chain is replicated by a Raft cluster: only its state machine writes it.
    #[error("this chain is replicated by its cluster: appends go through the cluster's leader (run this member with `weft node start`, whose daemon forwards them)")]
    Replicated,
    /// Appending needs the node key, and none was loaded.
    #[error("appending needs the node key, which was not loaded")]
    NoKey,
    /// No event at that sequence.
    #[error("no event {seq}: the chain has {len} events (0..={last})", last = len.saturating_sub(1))]
    NoSuchEvent {
        /// Requested sequence.
        seq: u64,
        /// Chain length.
        len: u64,
    },
    /// A commit failed; the message is shared by every caller in the batch.
    #[error("append failed: {0}")]
    Commit(String),
}

/// What the genesis event establishes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Genesis {
    /// The chain id.
    pub chain_id: ChainId,
    /// The key that signs this chain's heads.
    pub public_key: [u8; 32],
    /// Genesis time.
    pub time_ns: u64,
}

/// Refuses a key that is not the chain's own (`owner`, the genesis public key).
pub fn check_owner(key: &NodeKey, owner: &[u8; 32]) -> Result<(), ChainError> {
    if key.public_key() == *owner {
        return Ok(());
    }
    Err(ChainError::WrongKey {
        have: key.fingerprint(),
        want: crate::keys::fingerprint(owner),
    })
}

impl Genesis {
    /// Reads the genesis facts from event 0, checking that they are self-consistent.
    pub fn from_event(event: &Event) -> Result<Genesis, String> {
        if event.seq != 0 || event.kind != GENESIS_KIND {
            return Err(format!(
                "event {} is `{}`, not a genesis",
                event.seq, event.kind
            ));
        }
        if event.prev_hash != Hash::ZERO {
            return Err("genesis previous hash is not zero".into());
        }
        let public_key: [u8; 32] = read::bytes(&event.payload, "public_key")
            .and_then(|b| b.try_into().ok())
            .ok_or("genesis payload has no 32-byte `public_key`")?;
        let derived = ChainId::derive(&public_key, event.timestamp_ns);
        if derived != event.chain_id {
            return Err(format!(
                "chain id {} is not derived from the genesis key and time (expected {derived})",
                event.chain_id
            ));
        }
        Ok(Genesis {
            chain_id: event.chain_id,
            public_key,
            time_ns: event.timestamp_ns,
        })
    }
}

/// The genesis event of a chain of `public_key` created at `time_ns` for `project`: its
/// chain id derived from both, the key and project in its payload.
pub fn genesis_event(
    public_key: &[u8; 32],
    time_ns: u64,
    project: &str,
) -> Result<Event, EventError> {
    Ok(Event {
        chain_id: ChainId::derive(public_key, time_ns),
        seq: 0,
        prev_hash: Hash::ZERO,
        timestamp_ns: time_ns,
        source: "chain".into(),
        kind: GENESIS_KIND.into(),
        payload: cbor::canonicalize(cbor::map([
            ("format", Value::Integer(1.into())),
            ("public_key", Value::Bytes(public_key.to_vec())),
            ("project", Value::Text(project.to_string())),
        ]))?,
    })
}

/// An event as stored, with its hash.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEvent {
    /// The decoded event.
    pub event: Event,
    /// Its hash (as stored, and equal to the recomputed one when the store is sound).
    pub hash: Hash,
}

/// What the chain's store holds, as of the last commit (and, staged, of the next).
#[derive(Clone)]
pub(crate) struct ChainState {
    pub(crate) genesis: Option<Genesis>,
    pub(crate) next_seq: u64,
    pub(crate) head_hash: Hash,
    pub(crate) last_time_ns: u64,
    pub(crate) frontier: Frontier<Shake256Merkle>,
    pub(crate) latest_head: Option<SignedHead>,
    pub(crate) signers: Signers,
}

/// How [`Chain::write_verbatim`] provides the signed head of what it writes.
pub(crate) enum HeadMode<'a> {
    /// Sign a head with the node key.
    Sign,
    /// Store these heads (an import carries the exporter's head).
    Given(&'a [SignedHead]),
    /// No head yet (an import writes its head with the last batch).
    Unsigned,
}

/// A verbatim write's result before it is committed.
pub(crate) struct Staged<'a> {
    /// Chain length after the write.
    pub len: u64,
    /// Hash of the last event.
    pub head_hash: Hash,
    /// Merkle root over all events.
    pub merkle_root: Hash,
    /// Who may sign, as the write leaves it.
    pub signers: &'a Signers,
}

/// Writes attached to an append, run with the sequence the event received.
pub type Attach = Box<dyn FnOnce(u64, &mut WriteBatch, &Store) + Send>;

struct Pending {
    draft: EventDraft,
    attach: Option<Attach>,
    slot: Arc<Mutex<Option<Result<StoredEvent, String>>>>,
}

/// The chain of one node.
pub struct Chain {
    store: Arc<Store>,
    key: Option<NodeKey>,
    state: Mutex<ChainState>,
    queue: Mutex<Vec<Pending>>,
    synced_batches: AtomicU64,
    mutations: Mutex<()>,
}

impl AsRef<Chain> for Chain {
    fn as_ref(&self) -> &Chain {
        self
    }
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Chain({:?})", self.store)
    }
}

/// Current time in ns since the epoch.
pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Reads stored Merkle subtrees, and computes those below [`MERKLE_STORED_FROM`] from the
/// stored event hashes.
pub struct StoredSubtrees<'a>(pub &'a Store);

impl StoredSubtrees<'_> {
    /// The root over the stored hashes of events `index·2^level ..` (level below the
    /// stored ones, so at most 8 events).
    fn computed_from_events(&self, level: u32, index: u64) -> Result<Hash, ChainError> {
        let store = self.0;
        let first = index << level;
        let width = 1usize << level;
        let mut leaves = Vec::with_capacity(width);
        let records = store.db().iterator_cf(
            store.cf(cf::EVENTS),
            IteratorMode::From(&seq_key(first), Direction::Forward),
        );
        for (item, seq) in records.zip(first..).take(width) {
            let (key, record) = item.map_err(|e| ChainError::Store(store.rocks(e)))?;
            let hash = (key_seq(&key) == Some(seq))
                .then(|| split_record(&record).map(|(_, hash)| hash))
                .flatten()
                .ok_or_else(|| ChainError::Damaged {
                    seq,
                    reason: "an event a Merkle subtree is computed from is missing or malformed"
                        .into(),
                })?;
            leaves.push(Shake256Merkle::leaf(&hash.0));
        }
        if leaves.len() < width {
            return Err(ChainError::Damaged {
                seq: first + leaves.len() as u64,
                reason: format!("Merkle subtree (level {level}, index {index}) lacks events"),
            });
        }
        Ok(crate::merkle::root_of::<Shake256Merkle>(&leaves))
    }
}

impl SubtreeSource<Hash> for StoredSubtrees<'_> {
    type Error = ChainError;
    fn subtree(&self, level: u32, index: u64) -> Result<Hash, ChainError> {
        if level < MERKLE_STORED_FROM {
            return self.computed_from_events(level, index);
        }
        let bytes = self.0.get(cf::MERKLE, &merkle_key(level, index))?;
        bytes
            .as_deref()
            .and_then(Hash::from_slice)
            .ok_or_else(|| ChainError::Damaged {
                seq: index << level,
                reason: format!(
                    "Merkle subtree (level {level}, index {index}) is missing or malformed"
                ),
            })
    }
}

/// Splits a stored event record into its encoding and stored hash.
pub fn split_record(record: &[u8]) -> Option<(&[u8], Hash)> {
    let cut = record.len().checked_sub(32)?;
    Some((&record[..cut], Hash::from_slice(&record[cut..])?))
}

/// Joins an encoding and its hash into a stored record.
pub fn join_record(encoded: &[u8], hash: &Hash) -> Vec<u8> {
    let mut v = Vec::with_capacity(encoded.len() + 32);
    v.extend_from_slice(encoded);
    v.extend_from_slice(&hash.0);
    v
}

impl Chain {
    /// Creates a chain in an empty store: writes the genesis event and its signed head.
    pub fn create(store: Arc<Store>, key: NodeKey, project: &str) -> Result<Chain, ChainError> {
        let chain = Chain::open_unchecked(store, Some(key.clone()))?;
        if !chain.is_empty() {
            return Err(ChainError::Store(StoreError::Exists(
                chain.store.path().to_path_buf(),
            )));
        }
        let genesis = genesis_event(&key.public_key(), now_ns(), project)?;
        chain.write_verbatim(&[genesis], HeadMode::Sign)?;
        Ok(chain)
    }

    /// Opens without checking (for verify, repair and import, which check for themselves).
    pub fn open_unchecked(store: Arc<Store>, key: Option<NodeKey>) -> Result<Chain, ChainError> {
        let state = load_state(&store)?;
        Ok(Chain {
            store,
            key,
            state: Mutex::new(state),
            queue: Mutex::new(Vec::new()),
            synced_batches: AtomicU64::new(0),
            mutations: Mutex::new(()),
        })
    }

    /// The state, locked: no commit runs while it is held.
    pub(crate) fn lock_state(&self) -> std::sync::MutexGuard<'_, ChainState> {
        self.state.lock().expect("chain state lock")
    }

    /// Counts one synced batch written outside [`Chain::commit`].
    pub(crate) fn count_synced_batch(&self) {
        self.synced_batches.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn check_latest_head(&self) -> Result<(), (u64, String)> {
        let state = self.state.lock().expect("chain state lock");
        let last = state.next_seq.saturating_sub(1);
        let Some(head) = &state.latest_head else {
            return Err((last, "no signed head is stored".into()));
        };
        // A cluster member applies what the cluster commits even before its key is in
        // the signer set (or after it left it): those batches have no head of its own,
        // and the latest head covers a prefix, checked against the stored prefix.
        let unsigned_tail = state.signers.is_clustered() && head.seq < last;
        if head.seq != last && !unsigned_tail {
            return Err((
                head.seq.min(last),
                format!(
                    "latest signed head is at {} but the chain ends at {last}",
                    head.seq
                ),
            ));
        }
        let (head_hash, root) = if unsigned_tail {
            let hash = self.stored_hash(head.seq).ok().flatten().ok_or((
                head.seq,
                "the event the latest head names is missing".to_string(),
            ))?;
            let root =
                Frontier::<Shake256Merkle>::from_source(&StoredSubtrees(&self.store), head.seq + 1)
                    .map_err(|e| (head.seq, e.to_string()))?
                    .root();
            (hash, root)
        } else {
            (state.head_hash, state.frontier.root())
        };
        if head.head_hash != head_hash {
            return Err((
                head.seq,
                "latest signed head names a different head hash".into(),
            ));
        }
        if head.merkle_root != root {
            return Err((
                head.seq,
                "stored Merkle subtrees do not reproduce the signed root".into(),
            ));
        }
        if !state.signers.is_authorised(head.seq, &head.signer) {
            return Err((head.seq, state.signers.refusal(head.seq, &head.signer)));
        }
        head.verify_signature()
            .map_err(|e| (head.seq, e.to_string()))
    }

    /// Serialises read-modify-append operations on derived state (the resource tree):
    /// they plan against the stored state, so only one may be between plan and commit.
    pub fn mutation_guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.mutations.lock().expect("mutation lock")
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The loaded node key, if any.
    pub fn key(&self) -> Option<&NodeKey> {
        self.key.as_ref()
    }

    /// Number of events.
    pub fn len(&self) -> u64 {
        self.state.lock().expect("chain state lock").next_seq
    }

    /// True when there is not even a genesis.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What the genesis established (None on an empty store).
    pub fn genesis(&self) -> Option<Genesis> {
        self.state.lock().expect("chain state lock").genesis.clone()
    }

    /// Sequence and hash of the last event.
    pub fn head(&self) -> Option<(u64, Hash)> {
        let s = self.state.lock().expect("chain state lock");
        (s.next_seq > 0).then(|| (s.next_seq - 1, s.head_hash))
    }

    /// Length, last event hash and Merkle frontier, read at one moment.
    pub(crate) fn end(&self) -> (u64, Hash, Frontier<Shake256Merkle>) {
        let state = self.state.lock().expect("chain state lock");
        (state.next_seq, state.head_hash, state.frontier.clone())
    }

    /// The Merkle root over all events.
    pub fn merkle_root(&self) -> Hash {
        self.state.lock().expect("chain state lock").frontier.root()
    }

    /// The most recent signed head.
    pub fn latest_signed_head(&self) -> Option<SignedHead> {
        self.state
            .lock()
            .expect("chain state lock")
            .latest_head
            .clone()
    }

    /// Number of synced batches written by this handle (each one fsync).
    pub fn synced_batches(&self) -> u64 {
        self.synced_batches.load(Ordering::Relaxed)
    }

    /// Holds the commit lock until the guard drops: appends queue up behind it and the
    /// next leader commits them all as one synced batch. For tests and benchmarks that
    /// measure group commit deterministically.
    pub fn pause_commits(&self) -> impl Drop + '_ {
        self.state.lock().expect("chain state lock")
    }

    /// Appends waiting in the queue for a leader to commit them.
    pub fn queued_appends(&self) -> usize {
        self.queue.lock().expect("queue lock").len()
    }

    /// Appends one event; returns once it is durable.
    pub fn append(&self, draft: EventDraft) -> Result<StoredEvent, ChainError> {
        self.append_with(draft, None)
    }

    /// Appends one event together with writes that must commit atomically with it.
    pub fn append_with(
        &self,
        draft: EventDraft,
        attach: Option<Attach>,
    ) -> Result<StoredEvent, ChainError> {
        let slot = Arc::new(Mutex::new(None));
        self.queue.lock().expect("queue lock").push(Pending {
            draft,
            attach,
            slot: slot.clone(),
        });
        let mut state = self.state.lock().expect("chain state lock");
        if let Some(done) = slot.lock().expect("slot lock").take() {
            return done.map_err(ChainError::Commit);
        }
        let pending = std::mem::take(&mut *self.queue.lock().expect("queue lock"));
        self.commit(&mut state, pending)?;
        let done = slot.lock().expect("slot lock").take();
        done.expect("the leader commits its own draft")
            .map_err(ChainError::Commit)
    }

    /// Appends several events as one synced batch.
    pub fn append_batch(&self, drafts: Vec<EventDraft>) -> Result<Vec<StoredEvent>, ChainError> {
        let slots: Vec<_> = drafts
            .into_iter()
            .map(|draft| Pending {
                draft,
                attach: None,
                slot: Arc::new(Mutex::new(None)),
            })
            .collect();
        let results: Vec<_> = slots.iter().map(|p| p.slot.clone()).collect();
        let mut state = self.state.lock().expect("chain state lock");
        self.commit(&mut state, slots)?;
        drop(state);
        results
            .into_iter()
            .map(|slot| {
                slot.lock()
                    .expect("slot lock")
                    .take()
                    .expect("every draft of a batch is committed")
                    .map_err(ChainError::Commit)
            })
            .collect()
    }

    /// Writes every pending draft as one synced batch and fills each caller's slot,
    /// with its event or with the error that stopped the batch.
    fn commit(&self, state: &mut ChainState, pending: Vec<Pending>) -> Result<(), ChainError> {
        if pending.is_empty() {
            return Ok(());
        }
        let identity = if state.signers.is_clustered() {
            Err(ChainError::Replicated)
        } else {
            self.signing_identity(state)
        };
        let (key, genesis) = match identity {
            Ok(ok) => ok,
            Err(e) => {
                // Other callers' drafts are in this batch too: each learns why.
                let message = e.to_string();
                for p in &pending {
                    *p.slot.lock().expect("slot lock") = Some(Err(message.clone()));
                }
                return Err(e);
            }
        };
        let mut next = state.clone();
        let mut batch = WriteBatch::default();
        let mut results = Vec::with_capacity(pending.len());
        let mut slots = Vec::with_capacity(pending.len());
        let helped = pending.len() >= HELPER_FROM;
        std::thread::scope(|scope| {
            let mut helper = helped.then(|| MerkleHelper::spawn(scope, next.frontier.clone()));
            for p in pending {
                let time_ns = now_ns().max(next.last_time_ns);
                let event = Event {
                    chain_id: genesis.chain_id,
                    seq: next.next_seq,
                    prev_hash: next.head_hash,
                    timestamp_ns: time_ns,
                    source: p.draft.source,
                    kind: p.draft.kind,
                    payload: p.draft.payload,
                };
                let out = &mut into_batch(&self.store, &mut batch);
                if let Err(reason) = stage_signers(out, &mut next, &event) {
                    // Only this draft is refused; the others keep their places.
                    *p.slot.lock().expect("slot lock") = Some(Err(reason));
                    continue;
                }
                let hash = match &mut helper {
                    Some(helper) => {
                        let (record, hash) = encode_hashed(&event);
                        put_record(out, &mut next, event.seq, &record, hash);
                        helper.push(hash);
                        hash
                    }
                    None => stage_event(out, &mut next, &event),
                };
                next.last_time_ns = time_ns;
                if let Some(attach) = p.attach {
                    attach(event.seq, &mut batch, &self.store);
                }
                results.push(StoredEvent { event, hash });
                slots.push(p.slot);
            }
            if let Some(helper) = helper {
                let (frontier, nodes) = helper.finish();
                next.frontier = frontier;
                let out = &mut into_batch(&self.store, &mut batch);
                nodes.iter().for_each(|c| put_node(out, c));
            }
        });
        if results.is_empty() {
            return Ok(());
        }
        if let Err(e) = check_signer(&next, key) {
            let message = e.to_string();
            for slot in slots {
                *slot.lock().expect("slot lock") = Some(Err(message.clone()));
            }
            return Err(e);
        }
        let head = stage_head(&mut into_batch(&self.store, &mut batch), &mut next, key);
        next.latest_head = Some(head);
        match self.store.write_synced(batch) {
            Ok(()) => {
                self.synced_batches.fetch_add(1, Ordering::Relaxed);
                *state = next;
                for (slot, result) in slots.into_iter().zip(results) {
                    *slot.lock().expect("slot lock") = Some(Ok(result));
                }
                Ok(())
            }
            Err(e) => {
                let message = e.to_string();
                for slot in slots {
                    *slot.lock().expect("slot lock") = Some(Err(message.clone()));
                }
                Ok(())
            }
        }
    }

    /// The key and genesis an append needs; whether the key may sign is checked once the
    /// batch is staged (a membership event in it may change who may).
    fn signing_identity(&self, state: &ChainState) -> Result<(&NodeKey, Genesis), ChainError> {
        let key = self.key.as_ref().ok_or(ChainError::NoKey)?;
        let genesis = state.genesis.clone().ok_or(ChainError::Empty)?;
        Ok((key, genesis))
    }

    /// Who may sign this chain's heads, at every sequence.
    pub fn signers(&self) -> Signers {
        self.state.lock().expect("chain state lock").signers.clone()
    }

    /// Whether a Raft cluster replicates this chain (it records `cluster.formed`).
    pub fn is_clustered(&self) -> bool {
        self.state
            .lock()
            .expect("chain state lock")
            .signers
            .is_clustered()
    }

    /// Writes fully formed events (genesis, import) after checking that they extend the
    /// chain; signs a head for them with `key` unless heads are supplied.
    pub(crate) fn write_verbatim(
        &self,
        events: &[Event],
        heads: HeadMode<'_>,
    ) -> Result<(), ChainError> {
        let events: Vec<Verbatim<'_>> = events.iter().map(Verbatim::of).collect();
        self.write_verbatim_checked(&events, None, heads, &|_| Ok(()), &[])
    }

    /// [`Chain::write_verbatim`], with `check` asked about the staged result (length,
    /// last hash, Merkle root, signer sets) before anything is written (its error aborts the write),
    /// and `index` entries put (or, with None, deleted) in the same atomic write. The
    /// events' Merkle tree is `merkle` when the caller built it ahead, else built here.
    pub(crate) fn write_verbatim_checked(
        &self,
        events: &[Verbatim<'_>],
        merkle: Option<&BuiltMerkle>,
        heads: HeadMode<'_>,
        check: &dyn Fn(&Staged) -> Result<(), ChainError>,
        index: &[(&[u8], Option<&[u8]>)],
    ) -> Result<(), ChainError> {
        let mut state = self.state.lock().expect("chain state lock");
        let built;
        let merkle = match merkle {
            Some(merkle) => merkle,
            None => {
                built = BuiltMerkle::extend(state.frontier.clone(), events);
                &built
            }
        };
        let mut next = state.clone();
        let mut batch = WriteBatch::default();
        for verbatim in events {
            let damaged = |reason: String| ChainError::Damaged {
                seq: verbatim.seq,
                reason,
            };
            if verbatim.seq != next.next_seq || verbatim.prev_hash != next.head_hash {
                return Err(damaged("event does not extend the chain".into()));
            }
            // Verbatim::received decodes exactly these (the genesis, cluster events).
            if let Some(event) = &verbatim.event {
                if event.seq == 0 {
                    let genesis = Genesis::from_event(event).map_err(damaged)?;
                    next.signers = Signers::new(genesis.public_key);
                    next.genesis = Some(genesis);
                }
                stage_signers(&mut into_batch(&self.store, &mut batch), &mut next, event)
                    .map_err(damaged)?;
            } else if verbatim.seq == 0 {
                return Err(damaged("the genesis was not decoded".into()));
            }
            let out = &mut into_batch(&self.store, &mut batch);
            put_record(
                out,
                &mut next,
                verbatim.seq,
                &verbatim.record,
                verbatim.hash,
            );
            next.last_time_ns = next.last_time_ns.max(verbatim.timestamp_ns);
        }
        // A caller's tree started from the end it checked the events against: it must
        // end where they do.
        if merkle.frontier.size() != next.next_seq {
            return Err(ChainError::Damaged {
                seq: next.next_seq,
                reason: "the Merkle tree built for the write does not end with it".into(),
            });
        }
        next.frontier = merkle.frontier.clone();
        let out = &mut into_batch(&self.store, &mut batch);
        merkle.nodes.iter().for_each(|c| put_node(out, c));
        check(&Staged {
            len: next.next_seq,
            head_hash: next.head_hash,
            merkle_root: next.frontier.root(),
            signers: &next.signers,
        })?;
        for (key, value) in index {
            match value {
                Some(value) => batch.put_cf(self.store.cf(cf::INDEX), key, value),
                None => batch.delete_cf(self.store.cf(cf::INDEX), key),
            }
        }
        match heads {
            HeadMode::Given(heads) => {
                for head in heads {
                    batch.put_cf(self.store.cf(cf::HEADS), seq_key(head.seq), head.encode());
                }
                next.latest_head = heads.last().cloned().or(next.latest_head);
            }
            HeadMode::Sign => {
                let key = self.key.as_ref().ok_or(ChainError::NoKey)?;
                next.latest_head = Some(stage_head(
                    &mut into_batch(&self.store, &mut batch),
                    &mut next,
                    key,
                ));
            }
            HeadMode::Unsigned => {}
        }
        self.store.write_synced(batch)?;
        self.synced_batches.fetch_add(1, Ordering::Relaxed);
        *state = next;
        Ok(())
    }

    /// Reads one event.
    pub fn event(&self, seq: u64) -> Result<StoredEvent, ChainError> {
        let len = self.len();
        let record = self
            .store
            .get(cf::EVENTS, &seq_key(seq))?
            .ok_or(ChainError::NoSuchEvent { seq, len })?;
        decode_record(seq, &record)
    }

    /// The stored hash of one event, without decoding it.
    pub fn stored_hash(&self, seq: u64) -> Result<Option<Hash>, ChainError> {
        Ok(self
            .store
            .get(cf::EVENTS, &seq_key(seq))?
            .and_then(|r| split_record(&r).map(|(_, h)| h)))
    }

    /// Entries of a sequence-keyed column family from `from` on, in order (streamed).
    fn by_seq(
        &self,
        family: &'static str,
        from: u64,
    ) -> impl Iterator<Item = Result<(u64, Box<[u8]>), ChainError>> + '_ {
        let store = &self.store;
        store
            .db()
            .iterator_cf(
                store.cf(family),
                IteratorMode::From(&seq_key(from), Direction::Forward),
            )
            .map(move |item| {
                let (k, v) = item.map_err(|e| ChainError::Store(store.rocks(e)))?;
                let seq = key_seq(&k).ok_or_else(|| ChainError::Damaged {
                    seq: 0,
                    reason: format!("malformed {family} key {}", hex::encode(&k)),
                })?;
                Ok((seq, v))
            })
    }

    /// Raw records (encoding ‖ hash) from `from` on, in order.
    pub fn records(
        &self,
        from: u64,
    ) -> impl Iterator<Item = Result<(u64, Box<[u8]>), ChainError>> + '_ {
        self.by_seq(cf::EVENTS, from)
    }

    /// Decoded events from `from` on.
    pub fn events(&self, from: u64) -> impl Iterator<Item = Result<StoredEvent, ChainError>> + '_ {
        self.records(from)
            .map(|r| r.and_then(|(seq, record)| decode_record(seq, &record)))
    }

    /// Encoded signed heads from `from` on, in order.
    pub fn signed_heads(
        &self,
        from: u64,
    ) -> impl Iterator<Item = Result<(u64, Box<[u8]>), ChainError>> + '_ {
        self.by_seq(cf::HEADS, from)
    }

    pub(crate) fn reload(&self) -> Result<(), ChainError> {
        *self.state.lock().expect("chain state lock") = load_state(&self.store)?;
        Ok(())
    }
}

/// Decodes a stored record (encoding ‖ hash) at `seq`.
pub fn decode_record(seq: u64, record: &[u8]) -> Result<StoredEvent, ChainError> {
    let damaged = |reason: String| ChainError::Damaged { seq, reason };
    let (encoded, hash) =
        split_record(record).ok_or_else(|| damaged("record shorter than a hash".into()))?;
    let event = Event::decode(encoded).map_err(|e| damaged(e.to_string()))?;
    Ok(StoredEvent { event, hash })
}

/// Where staged writes go: a RocksDB batch, or a transaction's list of writes (which
/// can be cut back to a savepoint; a batch cannot).
pub(crate) trait Staging {
    /// Puts `value` at `key` of `family`.
    fn put(&mut self, family: &'static str, key: &[u8], value: &[u8]);
}

/// Staging straight into a batch of `store`.
pub(crate) struct IntoBatch<'a> {
    pub(crate) store: &'a Store,
    pub(crate) batch: &'a mut WriteBatch,
}

/// Staging into `batch` of `store`.
pub(crate) fn into_batch<'a>(store: &'a Store, batch: &'a mut WriteBatch) -> IntoBatch<'a> {
    IntoBatch { store, batch }
}

impl Staging for IntoBatch<'_> {
    fn put(&mut self, family: &'static str, key: &[u8], value: &[u8]) {
        self.batch.put_cf(self.store.cf(family), key, value);
    }
}

pub(crate) fn stage_event(out: &mut dyn Staging, next: &mut ChainState, event: &Event) -> Hash {
    let (record, hash) = encode_hashed(event);
    put_record(out, next, event.seq, &record, hash);
    push_leaf(&mut next.frontier, Shake256Merkle::leaf(&hash.0), |c| {
        put_node(out, &c)
    });
    hash
}

/// The event's record (its encoding followed by its hash), and the hash.
fn encode_hashed(event: &Event) -> (Vec<u8>, Hash) {
    let mut encoded = Vec::new();
    event.encode_into(&mut encoded, crate::hash::HASH_LEN);
    crate::event::hashed_record(encoded)
}

/// Stages a Merkle subtree the store keeps.
fn put_node(out: &mut dyn Staging, c: &CompletedSubtree<Hash>) {
    out.put(cf::MERKLE, &merkle_key(c.level, c.index), &c.digest.0);
}

/// Stages the event at `seq` whose `record` (encoding ‖ hash) ends in `hash` (the record,
/// and the state's new end), without the Merkle tree: the caller's frontier, a
/// [`MerkleHelper`] or a [`BuiltMerkle`] takes its leaf.
fn put_record(out: &mut dyn Staging, next: &mut ChainState, seq: u64, record: &[u8], hash: Hash) {
    out.put(cf::EVENTS, &seq_key(seq), record);
    next.next_seq = seq.saturating_add(1);
    next.head_hash = hash;
}

/// Takes a signer event into the staged state and indexes the set it installs.
pub(crate) fn stage_signers(
    out: &mut dyn Staging,
    next: &mut ChainState,
    event: &Event,
) -> Result<(), String> {
    if let Some(keys) = next.signers.observe(event)? {
        out.put(
            cf::INDEX,
            &crate::cluster::index_key(event.seq),
            &crate::cluster::encode_keys(&keys),
        );
    }
    Ok(())
}

/// Refuses `key` unless it may sign a head at the staged state's last sequence.
fn check_signer(next: &ChainState, key: &NodeKey) -> Result<(), ChainError> {
    let last = next.next_seq.saturating_sub(1);
    check_may_sign(&next.signers, next.genesis.as_ref(), last, key)
}

/// Refuses `key` unless `signers` let it sign a head at `seq`: on a single node's chain
/// the error says the key is not the chain's ([`check_owner`]), on a cluster's that it is
/// not among the members in force there.
pub(crate) fn check_may_sign(
    signers: &Signers,
    genesis: Option<&Genesis>,
    seq: u64,
    key: &NodeKey,
) -> Result<(), ChainError> {
    if signers.is_authorised(seq, &key.public_key()) {
        return Ok(());
    }
    match genesis {
        Some(genesis) if !signers.is_clustered() => check_owner(key, &genesis.public_key),
        _ => Err(ChainError::NotAuthorised {
            reason: signers.refusal(seq, &key.public_key()),
        }),
    }
}

pub(crate) fn stage_head(
    out: &mut dyn Staging,
    next: &mut ChainState,
    key: &NodeKey,
) -> SignedHead {
    let genesis = next
        .genesis
        .as_ref()
        .expect("a head is signed only after genesis");
    let head = SignedHead::sign(
        key,
        genesis.chain_id,
        next.next_seq - 1,
        next.head_hash,
        next.frontier.root(),
        now_ns(),
    );
    out.put(cf::HEADS, &seq_key(head.seq), &head.encode());
    head
}

fn load_state(store: &Store) -> Result<ChainState, ChainError> {
    let mut iter = store
        .db()
        .iterator_cf(store.cf(cf::EVENTS), IteratorMode::End);
    let Some(last) = iter.next() else {
        return Ok(ChainState {
            genesis: None,
            next_seq: 0,
            head_hash: Hash::ZERO,
            last_time_ns: 0,
            frontier: Frontier::default(),
            latest_head: None,
            signers: Signers::default(),
        });
    };
    let (k, v) = last.map_err(|e| store.rocks(e))?;
    let last_seq = key_seq(&k).ok_or_else(|| ChainError::Damaged {
        seq: 0,
        reason: format!("malformed event key {}", hex::encode(&k)),
    })?;
    let (encoded, head_hash) = split_record(&v).ok_or_else(|| ChainError::Damaged {
        seq: last_seq,
        reason: "record shorter than a hash".into(),
    })?;
    let last_time_ns = Event::decode(encoded).map(|e| e.timestamp_ns).unwrap_or(0);
    let genesis = match store.get(cf::EVENTS, &seq_key(0))? {
        Some(record) => decode_record(0, &record)
            .ok()
            .and_then(|s| Genesis::from_event(&s.event).ok()),
        None => None,
    };
    let frontier = Frontier::from_source(&StoredSubtrees(store), last_seq.saturating_add(1))
        .unwrap_or_default();
    let latest_head = store
        .db()
        .iterator_cf(store.cf(cf::HEADS), IteratorMode::End)
        .next()
        .and_then(|r| r.ok())
        .and_then(|(_, v)| SignedHead::decode(&v).ok());
    let signers = match &genesis {
        Some(g) => {
            let prefix = crate::cluster::index_prefix();
            let entries = store
                .db()
                .iterator_cf(
                    store.cf(cf::INDEX),
                    IteratorMode::From(prefix, Direction::Forward),
                )
                .map_while(|item| item.ok())
                .take_while(|(k, _)| k.starts_with(prefix));
            Signers::from_index(g.public_key, entries)
        }
        None => Signers::default(),
    };
    Ok(ChainState {
        genesis,
        next_seq: last_seq.saturating_add(1),
        head_hash,
        last_time_ns,
        frontier,
        latest_head,
        signers,
    })
}
