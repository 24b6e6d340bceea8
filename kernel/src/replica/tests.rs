use super::*;
use crate::event::EventDraft;
use crate::keys::NodeKey;
use ciborium::value::Value;
use std::path::Path;

fn note(i: u64) -> EventDraft {
    EventDraft::new("test", "test.note", Value::Integer(i.into())).expect("draft")
}

/// A chain of `batches` append batches of `per_batch` events after the genesis.
fn source_chain(dir: &Path, key: &NodeKey, batches: u64, per_batch: u64) -> Chain {
    let store = Arc::new(Store::create(&dir.join("source")).expect("store"));
    let chain = Chain::create(store, key.clone(), "upstream").expect("create");
    for b in 0..batches {
        let drafts = (0..per_batch).map(|i| note(b * per_batch + i)).collect();
        chain.append_batch(drafts).expect("append");
    }
    chain
}

fn replica(dir: &Path, key: &NodeKey) -> Replica {
    let store = Arc::new(Store::create(&dir.join("replica")).expect("store"));
    Replica::open(store, key.public_key()).expect("replica")
}

fn sync_all(source: &Chain, replica: &Replica, per_range: u32) -> u64 {
    let mut rounds = 0;
    loop {
        let range = serve(source, replica.len(), per_range, u64::MAX).expect("serve");
        let extended = replica.extend(&range).expect("verified range");
        rounds += 1;
        if extended.at_head || rounds > 10_000 {
            return rounds;
        }
    }
}

#[test]
fn ranges_of_any_size_replicate_the_chain_and_it_verifies() {
    let key = NodeKey::from_seed(&[1; 32]);
    for per_range in [1u32, 3, 7, 64] {
        let dir = tempfile::tempdir().expect("tempdir");
        let source = source_chain(dir.path(), &key, 5, 9);
        let copy = replica(dir.path(), &key);
        let rounds = sync_all(&source, &copy, per_range);
        assert_eq!(copy.len(), source.len());
        assert_eq!(rounds, source.len().div_ceil(u64::from(per_range)));
        assert_eq!(copy.chain().head(), source.head());
        assert_eq!(copy.chain().merkle_root(), source.merkle_root());
        assert_eq!(
            copy.verified_head().expect("read"),
            source.latest_signed_head()
        );
        let report = crate::verify::verify(copy.chain(), &mut |_| {}).expect("verify");
        assert!(report.ok(), "replica verifies: {:?}", report.failures);
        // Up to date: an empty range against the same head stores nothing.
        let empty = serve(&source, copy.len(), per_range, u64::MAX).expect("serve");
        assert!(empty.events.is_empty());
        let extended = copy.extend(&empty).expect("empty range");
        assert_eq!((extended.stored, extended.at_head), (0, true));
    }
}

#[test]
fn the_byte_budget_bounds_a_range_but_never_below_one_event() {
    let key = NodeKey::from_seed(&[2; 32]);
    let dir = tempfile::tempdir().expect("tempdir");
    let source = source_chain(dir.path(), &key, 1, 20);
    let range = serve(&source, 0, 1000, 1).expect("serve");
    assert_eq!(range.events.len(), 1);
    // Notes 1.. have equal sizes (small integers): a budget of three holds three.
    let one = serve(&source, 1, 1, u64::MAX).expect("serve").events[0].len() as u64;
    let range = serve(&source, 1, 1000, one * 3).expect("serve");
    assert_eq!(range.events.len(), 3);
}

/// The replica after one range of `n` events, and that range served again for tampering.
fn tamper_case(dir: &Path, key: &NodeKey) -> (Chain, Replica, Range) {
    let source = source_chain(dir, key, 3, 5);
    let copy = replica(dir, key);
    copy.extend(&serve(&source, 0, 4, u64::MAX).expect("serve"))
        .expect("first range");
    let next = serve(&source, 4, 4, u64::MAX).expect("serve");
    (source, copy, next)
}

fn assert_refused(copy: &Replica, range: &Range, what: &str) {
    let before = (copy.len(), copy.chain().merkle_root());
    match copy.extend(range) {
        Err(
            ReplicaError::Refused { .. }
            | ReplicaError::Diverged { .. }
            | ReplicaError::Outdated { .. },
        ) => {}
        other => panic!("{what}: expected a refusal, got {other:?}"),
    }
    assert_eq!(
        (copy.len(), copy.chain().merkle_root()),
        before,
        "{what}: nothing stored"
    );
}

#[test]
fn damaged_ranges_are_refused_and_nothing_is_stored() {
    let key = NodeKey::from_seed(&[3; 32]);
    let dir = tempfile::tempdir().expect("tempdir");
    let (_source, copy, good) = tamper_case(dir.path(), &key);

    let mut flipped = good.clone();
    let last = flipped.events[1].len() - 1;
    flipped.events[1][last] ^= 1;
    assert_refused(&copy, &flipped, "a flipped payload byte");

    let mut dropped = good.clone();
    dropped.events.remove(1);
    assert_refused(&copy, &dropped, "a missing event");

    let mut swapped = good.clone();
    swapped.events.swap(0, 1);
    assert_refused(&copy, &swapped, "reordered events");

    let mut bad_proof = good.clone();
    bad_proof.consistency[0] = Hash([9; 32]);
    assert_refused(&copy, &bad_proof, "a tampered consistency proof");

    let mut no_proof = good.clone();
    no_proof.consistency.clear();
    assert_refused(&copy, &no_proof, "a missing consistency proof");

    let mut resigned = good.clone();
    let other = NodeKey::from_seed(&[4; 32]);
    let h = &good.head;
    resigned.head = SignedHead::sign(
        &other,
        h.chain_id,
        h.seq,
        h.head_hash,
        h.merkle_root,
        h.time_ns,
    );
    assert_refused(&copy, &resigned, "a head signed by another key");

    let mut forged = good.clone();
    forged.head.merkle_root = Hash([7; 32]);
    assert_refused(
        &copy,
        &forged,
        "a head whose signature does not cover its root",
    );

    let mut gap = good.clone();
    gap.from += 1;
    assert_refused(&copy, &gap, "a range that skips events");

    // The untouched range still goes in.
    copy.extend(&good).expect("the good range");
    assert_eq!(copy.len(), 8);
}

/// A relay that is merely behind serves a valid range under an older head: not news,
/// and not a refusal that would count against it (only `Refused` earns a strike).
#[test]
fn an_older_head_from_a_relay_behind_is_outdated_not_refused() {
    let key = NodeKey::from_seed(&[4; 32]);
    let dir = tempfile::tempdir().expect("tempdir");
    let source = source_chain(dir.path(), &key, 1, 3);
    let stale = serve(&source, 0, 100, u64::MAX).expect("serve");
    for i in 0..3 {
        source.append(note(100 + i)).expect("append");
    }
    let copy = replica(dir.path(), &key);
    sync_all(&source, &copy, 100);
    let behind = Range {
        from: copy.len(),
        events: Vec::new(),
        ..stale
    };
    match copy.extend(&behind) {
        Err(ReplicaError::Outdated { .. }) => {}
        other => panic!("expected Outdated, got {other:?}"),
    }
}

#[test]
fn a_replica_refuses_another_signers_store() {
    let key = NodeKey::from_seed(&[5; 32]);
    let dir = tempfile::tempdir().expect("tempdir");
    let source = source_chain(dir.path(), &key, 1, 2);
    let store = Arc::new(Store::create(&dir.path().join("replica")).expect("store"));
    let copy = Replica::open(store.clone(), key.public_key()).expect("replica");
    sync_all(&source, &copy, 100);
    drop(copy);
    let other = NodeKey::from_seed(&[6; 32]);
    assert!(matches!(
        Replica::open(store, other.public_key()),
        Err(ReplicaError::Refused { .. })
    ));
}

#[test]
fn a_forked_history_is_diverged_and_its_first_event_is_proven() {
    let key = NodeKey::from_seed(&[8; 32]);
    let dir = tempfile::tempdir().expect("tempdir");
    let source = source_chain(dir.path(), &key, 2, 3);
    // A second history from the same key: a copy of the store taken now, then each copy
    // appends something different.
    let store_dir = dir.path().join("source");
    let fork_dir = dir.path().join("fork");
    drop(source);
    copy_dir(&store_dir, &fork_dir);
    let honest = Chain::open(
        Arc::new(Store::open(&store_dir).expect("open")),
        Some(key.clone()),
    )
    .expect("honest");
    let forked = Chain::open(
        Arc::new(Store::open(&fork_dir).expect("open")),
        Some(key.clone()),
    )
    .expect("forked");
    honest.append(note(100)).expect("append");
    forked.append(note(200)).expect("append");
    forked.append(note(201)).expect("append");

    let copy = replica(dir.path(), &key);
    sync_all(&honest, &copy, 100);
    let anchor = copy.verified_head().expect("read").expect("a head");
    // The forked chain's next range does not link onto what the replica verified.
    let next = serve(&forked, copy.len(), 100, u64::MAX).expect("serve");
    assert!(matches!(
        copy.extend(&next),
        Err(ReplicaError::Diverged { .. })
    ));
    // Served from the anchor's sequence, the fork proves a different event there.
    let at_anchor = serve(&forked, anchor.seq, 1, u64::MAX).expect("serve");
    let (their_hash, path) = proven_first_event(&at_anchor).expect("proven");
    assert_ne!(their_hash, anchor.head_hash);
    assert!(!path.is_empty());
    // A damaged path proves nothing.
    let mut bad = at_anchor.clone();
    bad.first_path[0] = Hash([1; 32]);
    assert!(proven_first_event(&bad).is_none());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        if entry.file_name() == crate::store::LOCK_FILE {
            continue;
        }
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
    }
}

#[test]
fn a_clustered_chain_with_a_long_stretch_under_one_head_replicates_in_small_ranges() {
    // 3,000 events signed once, from before the cluster, then `cluster.formed` and a few
    // members' batches: ranges of 1,024 must each get a head no older than the last
    // range's (a range served under the latest head, then one under an earlier head
    // within reach, was refused as no news and a joiner never caught up).
    let dir = tempfile::tempdir().expect("tmp");
    let key = NodeKey::from_seed(&[7; 32]);
    let source = source_chain(dir.path(), &key, 1, 3000);
    let genesis = source.genesis().expect("genesis");
    let members = [crate::cluster::Member {
        id: 1,
        name: "a".into(),
        public_key: key.public_key(),
    }];
    let formed = crate::cluster::signer_draft(
        &genesis.chain_id,
        &source.signers(),
        crate::cluster::FORMED,
        &members,
        &key,
    )
    .expect("formed");
    source.append(formed).expect("append");
    for batch in 0..3 {
        let mut txn = source.transaction(batch + 1);
        for i in 0..10 {
            txn.append(note(10_000 + batch * 10 + i)).expect("stage");
        }
        txn.commit(crate::txn::Signing::Required).expect("commit");
    }
    let copy = replica(dir.path(), &key);
    sync_all(&source, &copy, 1024);
    assert_eq!(copy.len(), source.len());
    assert_eq!(
        copy.verified_head().expect("head").map(|h| h.head_hash),
        source.latest_signed_head().map(|h| h.head_hash)
    );
}

#[test]
fn a_range_checked_after_an_unstored_one_stores_once_that_one_is_stored() {
    let key = NodeKey::from_seed(&[1; 32]);
    let dir = tempfile::tempdir().expect("tempdir");
    // Large ranges, so the events are checked on two threads.
    let source = source_chain(dir.path(), &key, 3, 400);
    let copy = replica(dir.path(), &key);
    let first = copy
        .check(serve(&source, 0, 500, u64::MAX).expect("serve"), None)
        .expect("first range");
    let second = copy
        .check(
            serve(&source, first.end(), 500, u64::MAX).expect("serve"),
            Some(&first),
        )
        .expect("second range, checked after the first");
    let third = copy
        .check(
            serve(&source, second.end(), 500, u64::MAX).expect("serve"),
            Some(&second),
        )
        .expect("third range");
    assert!(third.at_head() && !second.at_head());
    // Out of order, a range is no news and nothing is stored.
    let early = copy.check(
        serve(&source, 500, 500, u64::MAX).expect("serve"),
        Some(&first),
    );
    assert!(matches!(
        copy.store(&early.expect("checked")),
        Err(ReplicaError::Outdated { .. })
    ));
    assert_eq!(copy.len(), 0);
    for checked in [first, second, third] {
        copy.store(&checked).expect("stored in order");
    }
    assert_eq!(copy.chain().head(), source.head());
    assert!(crate::verify::verify(copy.chain(), &mut |_| {})
        .expect("verify")
        .ok());
    // A range checked after another must start where that one ends.
    let stale = copy.check(serve(&source, 0, 10, u64::MAX).expect("serve"), None);
    assert!(matches!(stale, Err(ReplicaError::Outdated { .. })));
}
