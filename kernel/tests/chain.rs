//! ExoChain behaviour on RocksDB: appends, group commit, reopen, tamper detection,
//! refusal of damaged stores, repair.

mod common;

use common::*;
use std::sync::Arc;
use weft_kernel::chain::{join_record, split_record, ChainError};
use weft_kernel::event::Event;
use weft_kernel::hash::Hash;
use weft_kernel::store::{cf, seq_key};
use weft_kernel::verify::{verify, FailureKind};
use weft_kernel::{Chain, Store};

fn put_record(chain: &Chain, seq: u64, record: &[u8]) {
    let s = chain.store();
    s.db()
        .put_cf(s.cf(cf::EVENTS), seq_key(seq), record)
        .expect("put");
}

fn get_record(chain: &Chain, seq: u64) -> Vec<u8> {
    chain
        .store()
        .get(cf::EVENTS, &seq_key(seq))
        .expect("get")
        .expect("present")
}

#[test]
fn appends_survive_reopen_and_verify() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = new_chain(dir.path());
    let mut hashes = vec![];
    for i in 0..20 {
        let e = chain.append(draft(i)).expect("append");
        assert_eq!(e.event.seq, i + 1);
        hashes.push(e.hash);
    }
    drop(chain);
    let chain = reopen(dir.path());
    assert_eq!(chain.len(), 21);
    for (i, h) in hashes.iter().enumerate() {
        assert_eq!(chain.event(i as u64 + 1).expect("event").hash, *h);
    }
    let report = verify(&chain, &mut |_| {}).expect("verify");
    assert!(report.ok(), "{:?}", report.failures);
    assert_eq!(report.events, 21);
    assert_eq!(report.last_good_head, Some(20));
    assert_eq!(report.root, Some(chain.merkle_root()));
}

/// Appends queued behind a held commit lock are written by one leader as one synced
/// batch: each round of 8 concurrent appends costs exactly one WAL sync.
#[test]
fn concurrent_appends_share_fsyncs_and_stay_contiguous() {
    const ROUNDS: u64 = 40;
    const THREADS: u64 = 8;
    let dir = tempfile::tempdir().expect("tmp");
    let chain = Arc::new(new_instrumented_chain(dir.path()));
    let (batches_before, syncs_before) = (chain.synced_batches(), wal_syncs(&chain));
    let mut seqs = Vec::new();
    for round in 0..ROUNDS {
        let pause = chain.pause_commits();
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let chain = chain.clone();
                std::thread::spawn(move || {
                    chain
                        .append(draft(round * 100 + t))
                        .expect("append")
                        .event
                        .seq
                })
            })
            .collect();
        // Bounded: the threads only have to reach the queue.
        let mut polls = 0;
        while chain.queued_appends() < THREADS as usize {
            polls += 1;
            assert!(polls < 100_000, "appenders never queued");
            std::thread::yield_now();
        }
        drop(pause);
        seqs.extend(threads.into_iter().map(|t| t.join().expect("thread")));
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=ROUNDS * THREADS).collect::<Vec<_>>());
    let batches = chain.synced_batches() - batches_before;
    assert_eq!(
        batches, ROUNDS,
        "one synced batch per round of queued appends"
    );
    assert_eq!(
        wal_syncs(&chain) - syncs_before,
        ROUNDS,
        "one WAL sync per batch"
    );
    assert!(verify(&chain, &mut |_| {}).expect("verify").ok());
}

/// Every acknowledged append was preceded by a WAL sync: counted by RocksDB itself, so
/// a write that is acknowledged from the page cache alone (a lost `sync`) fails here,
/// which no process kill could show.
#[test]
fn every_acknowledged_append_is_behind_a_wal_sync() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = new_instrumented_chain(dir.path());
    for i in 0..25u64 {
        let before = wal_syncs(&chain);
        chain.append(draft(i)).expect("append");
        assert_eq!(
            wal_syncs(&chain) - before,
            1,
            "append {i} acknowledged unsynced"
        );
    }
    let before = wal_syncs(&chain);
    chain
        .append_batch((0..10).map(draft).collect())
        .expect("batch");
    assert_eq!(wal_syncs(&chain) - before, 1, "a batch is one sync");
}

#[test]
fn batch_append_is_one_fsync() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = new_chain(dir.path());
    let before = chain.synced_batches();
    let out = chain
        .append_batch((0..500).map(draft).collect())
        .expect("batch");
    assert_eq!(out.len(), 500);
    assert_eq!(chain.synced_batches() - before, 1);
    assert!(verify(&chain, &mut |_| {}).expect("verify").ok());
}

/// Each way of altering one stored field of one event, applied to a clean chain.
type Tamper = (&'static str, fn(&mut Event));

fn field_tampers() -> Vec<Tamper> {
    vec![
        ("chain_id", |e| e.chain_id.0[0] ^= 1),
        ("seq", |e| e.seq += 100),
        ("prev_hash", |e| e.prev_hash.0[5] ^= 1),
        ("timestamp", |e| e.timestamp_ns += 1),
        ("source", |e| {
            e.source = "tesu".into();
            e.kind = "tesu.event".into();
        }),
        ("kind", |e| e.kind = "test.other".into()),
        ("payload", |e| {
            e.payload = weft_kernel::cbor::map([("i", ciborium::value::Value::Integer(999.into()))])
        }),
    ]
}

#[test]
fn flipping_any_field_of_any_event_is_detected_at_its_sequence() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = new_chain(dir.path());
    for i in 0..5 {
        chain.append(draft(i)).expect("append");
    }
    for seq in 0..chain.len() {
        let original = get_record(&chain, seq);
        let (encoded, stored_hash) = split_record(&original)
            .map(|(e, h)| (e.to_vec(), h))
            .expect("record");
        for (field, tamper) in field_tampers() {
            let mut event = Event::decode(&encoded).expect("decode");
            tamper(&mut event);
            put_record(&chain, seq, &join_record(&event.encode(), &stored_hash));
            let report = verify(&chain, &mut |_| {}).expect("verify");
            let first = report
                .failures
                .first()
                .unwrap_or_else(|| panic!("{field} of {seq} went unnoticed"));
            assert_eq!(first.seq, seq, "{field} of {seq}: {:?}", report.failures);
            assert!(
                report
                    .failures
                    .iter()
                    .any(|f| f.seq == seq && f.kind == FailureKind::Hash),
                "{field} of {seq}: {:?}",
                report.failures
            );
            put_record(&chain, seq, &original);
        }
        // The stored hash itself.
        let mut flipped = original.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x80;
        put_record(&chain, seq, &flipped);
        let report = verify(&chain, &mut |_| {}).expect("verify");
        assert_eq!(
            report.failures.first().map(|f| (f.seq, f.kind)),
            Some((seq, FailureKind::Hash))
        );
        put_record(&chain, seq, &original);
        // A raw bit flip in the encoding.
        let mut raw = original.clone();
        raw[3] ^= 0x04;
        put_record(&chain, seq, &raw);
        let report = verify(&chain, &mut |_| {}).expect("verify");
        assert_eq!(
            report.failures.first().map(|f| f.seq),
            Some(seq),
            "bit flip at {seq}"
        );
        put_record(&chain, seq, &original);
    }
    assert!(verify(&chain, &mut |_| {}).expect("verify").ok());
}

#[test]
fn a_rewritten_event_with_a_recomputed_hash_breaks_the_link_and_the_head() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = new_chain(dir.path());
    chain
        .append_batch((0..4).map(draft).collect())
        .expect("batch");
    let (encoded, _) = split_record(&get_record(&chain, 2))
        .map(|(e, h)| (e.to_vec(), h))
        .expect("record");
    let mut event = Event::decode(&encoded).expect("decode");
    event.payload = weft_kernel::cbor::map([("forged", ciborium::value::Value::Bool(true))]);
    put_record(&chain, 2, &join_record(&event.encode(), &event.hash()));
    let report = verify(&chain, &mut |_| {}).expect("verify");
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.seq == 3 && f.kind == FailureKind::Link),
        "{:?}",
        report.failures
    );
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.seq == 4 && f.kind == FailureKind::Head),
        "{:?}",
        report.failures
    );
}

#[test]
fn deleting_or_reordering_events_is_detected() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = new_chain(dir.path());
    for i in 0..6 {
        chain.append(draft(i)).expect("append");
    }
    let three = get_record(&chain, 3);
    let four = get_record(&chain, 4);
    let s = chain.store();
    s.db()
        .delete_cf(s.cf(cf::EVENTS), seq_key(3))
        .expect("delete");
    let report = verify(&chain, &mut |_| {}).expect("verify");
    assert_eq!(
        report.failures.first().map(|f| (f.seq, f.kind)),
        Some((3, FailureKind::Sequence)),
        "{:?}",
        report.failures
    );
    put_record(&chain, 3, &four);
    put_record(&chain, 4, &three);
    let report = verify(&chain, &mut |_| {}).expect("verify");
    assert_eq!(
        report.failures.first().map(|f| f.seq),
        Some(3),
        "{:?}",
        report.failures
    );
    assert!(report
        .failures
        .iter()
        .any(|f| f.kind == FailureKind::Sequence));
}

#[test]
fn a_damaged_store_is_refused_at_open_and_never_replaced() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = new_chain(dir.path());
    for i in 0..10 {
        chain.append(draft(i)).expect("append");
    }
    let mut rec = get_record(&chain, 6);
    rec[10] ^= 0xff;
    put_record(&chain, 6, &rec);
    drop(chain);
    let store = Arc::new(Store::open(&dir.path().join("chain")).expect("store"));
    match Chain::open(store.clone(), Some(key())) {
        Err(ChainError::Damaged { seq, .. }) => assert_eq!(seq, 6),
        other => panic!("expected a damaged-store refusal, got {other:?}"),
    }
    // Creating a new chain over it is refused too.
    assert!(Chain::create(store, key(), "again").is_err());
}

#[test]
fn repair_keeps_the_valid_prefix_quarantines_the_rest_and_records_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = new_chain(dir.path());
    let mut hashes = vec![chain.head().expect("head").1];
    for i in 0..10 {
        hashes.push(chain.append(draft(i)).expect("append").hash);
    }
    let mut rec = get_record(&chain, 7);
    rec[12] ^= 0x01;
    put_record(&chain, 7, &rec);
    drop(chain);
    let chain = reopen_unchecked(dir.path());
    let quarantine = dir.path().join("quarantine");
    // Dropping signed heads peers may hold needs force, and changes nothing without it.
    match weft_kernel::repair::repair(&chain, &quarantine, false) {
        Err(weft_kernel::repair::RepairError::SignedHeadsAhead { kept, first, .. }) => {
            assert_eq!((kept, first), (7, 7));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(chain.len(), 11);
    assert!(!quarantine.exists(), "nothing written by a refused repair");
    let report = weft_kernel::repair::repair(&chain, &quarantine, true).expect("repair");
    assert_eq!(report.signed_heads_dropped, 4, "heads 7..=10");
    assert_eq!(report.kept, 7);
    assert_eq!(report.dropped, 4);
    assert_eq!(report.first_failure, Some(7));
    let qfile = report.quarantine.expect("quarantine file");
    assert!(qfile.starts_with(&quarantine) && std::fs::metadata(&qfile).expect("file").len() > 0);
    assert_eq!(report.repair_event, Some(7));
    for (i, h) in hashes.iter().take(7).enumerate() {
        assert_eq!(chain.event(i as u64).expect("kept").hash, *h);
    }
    assert_eq!(
        chain.event(7).expect("repair event").event.kind,
        "chain.repair"
    );
    assert!(verify(&chain, &mut |_| {}).expect("verify").ok());
    drop(chain);
    let chain = reopen(dir.path());
    assert_eq!(chain.len(), 8);
}

#[test]
fn repair_rebuilds_damaged_merkle_subtrees_without_dropping_events() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = new_chain(dir.path());
    chain
        .append_batch((0..17).map(draft).collect())
        .expect("batch");
    let s = chain.store();
    s.db()
        .put_cf(
            s.cf(cf::MERKLE),
            weft_kernel::store::merkle_key(weft_kernel::store::MERKLE_STORED_FROM, 0),
            [9u8; 32],
        )
        .expect("put");
    drop(chain);
    let store = Arc::new(Store::open(&dir.path().join("chain")).expect("store"));
    assert!(matches!(
        Chain::open(store, Some(key())),
        Err(ChainError::Damaged { .. })
    ));
    let chain = reopen_unchecked(dir.path());
    let report = weft_kernel::repair::repair(&chain, &dir.path().join("q"), false).expect("repair");
    assert_eq!(
        (report.kept, report.dropped, report.merkle_rebuilt),
        (18, 0, true)
    );
    drop(chain);
    assert_eq!(reopen(dir.path()).len(), 19);
}

#[test]
fn only_high_merkle_subtrees_are_stored_and_the_low_ones_are_recomputed_alike() {
    use weft_kernel::merkle::{InMemory, MerkleHasher, SubtreeSource};
    use weft_kernel::store::MERKLE_STORED_FROM;
    let dir = tempfile::tempdir().expect("tmp");
    let chain = new_chain(dir.path());
    // Several batches, so subtrees complete both inside a batch and across two; the
    // last is large enough for the Merkle helper thread.
    for n in [5, 30, 1, 33, 1100] {
        chain
            .append_batch((0..n).map(draft).collect())
            .expect("batch");
    }
    let leaves: Vec<Hash> = chain
        .records(0)
        .map(|r| {
            let hash = split_record(&r.expect("record").1).expect("record").1;
            weft_kernel::merkle::Shake256Merkle::leaf(&hash.0)
        })
        .collect();
    let stored = weft_kernel::chain::StoredSubtrees(chain.store());
    let memory = InMemory::<weft_kernel::merkle::Shake256Merkle>(&leaves);
    for level in 0..11u32 {
        for index in 0..(leaves.len() as u64 >> level) {
            assert_eq!(
                stored.subtree(level, index).expect("subtree"),
                memory.subtree(level, index).expect("subtree"),
                "level {level} index {index}"
            );
        }
    }
    let s = chain.store();
    let levels: std::collections::BTreeSet<u8> = s
        .db()
        .iterator_cf(s.cf(cf::MERKLE), rocksdb::IteratorMode::Start)
        .map(|item| item.expect("merkle").0[0])
        .collect();
    assert_eq!(
        levels,
        (MERKLE_STORED_FROM as u8..=10).collect(),
        "1,170 events store levels 4 to 10 only"
    );
    assert!(verify(&chain, &mut |_| {}).expect("verify").ok());
    // A missing event under a computed subtree is damage, not a wrong hash.
    s.db()
        .delete_cf(s.cf(cf::EVENTS), seq_key(1166))
        .expect("delete");
    assert!(matches!(
        stored.subtree(1, 583),
        Err(ChainError::Damaged { seq: 1166, .. })
    ));
}

#[test]
fn appends_with_another_key_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    drop(new_chain(dir.path()));
    let store = Arc::new(Store::open(&dir.path().join("chain")).expect("store"));
    let other = weft_kernel::NodeKey::from_seed(&[8; 32]);
    assert!(matches!(
        Chain::open(store, Some(other)),
        Err(ChainError::WrongKey { .. })
    ));
}

#[test]
fn proofs_verify_for_every_event_and_reject_tampering() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = new_chain(dir.path());
    chain
        .append_batch((0..40).map(draft).collect())
        .expect("batch");
    for seq in 0..chain.len() {
        let doc = weft_kernel::proof::prove(&chain, seq).expect("prove");
        weft_kernel::proof::verify_proof(&doc, Some(&key().public_key())).expect("valid");
        let mut bad = doc.clone();
        bad["event"]["payload"]["i"] = 12345.into();
        assert!(weft_kernel::proof::verify_proof(&bad, None).is_err());
        let mut bad = doc.clone();
        bad["leaf_index"] = ((seq + 1) % chain.len()).into();
        assert!(weft_kernel::proof::verify_proof(&bad, None).is_err());
        let other = weft_kernel::NodeKey::from_seed(&[9; 32]).public_key();
        assert!(weft_kernel::proof::verify_proof(&doc, Some(&other)).is_err());
    }
    let _ = Hash::ZERO;
}

#[test]
fn a_proof_on_a_clusters_chain_traces_a_members_head_to_the_genesis_key() {
    use weft_kernel::proof::{prove, verify_proof};
    let dir = tempfile::tempdir().expect("tmp");
    let (chain, second) = clustered(dir.path());
    let head = chain.latest_signed_head().expect("head");
    assert_eq!(
        head.signer,
        second.public_key(),
        "the second member signed the head"
    );
    let doc = prove(&chain, 3).expect("prove");
    // Trusting the chain's own key is enough: the head's signer is authorised by the
    // endorsed `cluster.formed` the proof carries.
    let proven = verify_proof(&doc, Some(&key().public_key())).expect("valid");
    assert_eq!(proven.chain_key, key().public_key());
    assert!(verify_proof(&doc, Some(&second.public_key())).is_err());
    // Without the signer events, or with the endorsement left out, the head is a
    // stranger's.
    let mut stripped = doc.clone();
    stripped
        .as_object_mut()
        .expect("object")
        .remove("signer_events");
    assert!(verify_proof(&stripped, Some(&key().public_key())).is_err());
    let mut only_genesis = doc.clone();
    only_genesis["signer_events"]
        .as_array_mut()
        .expect("list")
        .truncate(1);
    assert!(verify_proof(&only_genesis, Some(&key().public_key())).is_err());
    // An altered signer event no longer hashes to its leaf.
    let mut altered = doc.clone();
    let cbor = altered["signer_events"][1]["event_cbor"]
        .as_str()
        .expect("hex")
        .to_string();
    let mut bytes = hex::decode(cbor).expect("hex");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    altered["signer_events"][1]["event_cbor"] = hex::encode(bytes).into();
    assert!(verify_proof(&altered, Some(&key().public_key())).is_err());
}

#[test]
fn verify_across_many_worker_batches_checks_every_head_root() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = new_chain(dir.path());
    for b in 0..10 {
        chain
            .append_batch((b * 1000..(b + 1) * 1000).map(draft).collect())
            .expect("batch");
    }
    let report = verify(&chain, &mut |_| {}).expect("verify");
    assert!(report.ok(), "{:?}", report.failures);
    assert_eq!((report.events, report.heads), (10_001, 11));
    assert_eq!(report.root, Some(chain.merkle_root()));
    let tail = weft_kernel::verify::verify_range(&chain, 5_123, &mut |_| {}).expect("range");
    assert!(tail.ok(), "{:?}", tail.failures);
    assert_eq!(tail.root, Some(chain.merkle_root()));

    // A correctly signed head that names a wrong Merkle root, in the third batch.
    let s = chain.store();
    let stored = weft_kernel::SignedHead::decode(
        &s.get(cf::HEADS, &seq_key(9000))
            .expect("get")
            .expect("head"),
    )
    .expect("head");
    let forged = weft_kernel::SignedHead::sign(
        &key(),
        stored.chain_id,
        9000,
        stored.head_hash,
        Hash([1; 32]),
        stored.time_ns,
    );
    s.db()
        .put_cf(s.cf(cf::HEADS), seq_key(9000), forged.encode())
        .expect("put");
    let report = verify(&chain, &mut |_| {}).expect("verify");
    assert_eq!(
        report
            .failures
            .iter()
            .map(|f| (f.seq, f.kind))
            .collect::<Vec<_>>(),
        vec![(9000, FailureKind::Head)]
    );
    assert_eq!(report.last_good_head, Some(8000));
    s.db()
        .put_cf(s.cf(cf::HEADS), seq_key(9000), stored.encode())
        .expect("put");

    // A flipped event in the middle of a batch is named exactly.
    let original = get_record(&chain, 6_543);
    let mut bad = original.clone();
    bad[40] ^= 1;
    put_record(&chain, 6_543, &bad);
    let report = verify(&chain, &mut |_| {}).expect("verify");
    assert_eq!(
        report.failures.first().map(|f| (f.seq, f.kind)),
        Some((6_543, FailureKind::Hash))
    );
    assert_eq!(report.last_good_head, Some(6000));
    put_record(&chain, 6_543, &original);
    assert!(verify(&chain, &mut |_| {}).expect("verify").ok());
}

#[test]
fn verifying_while_appends_go_on_reports_no_failure_and_a_lost_last_event_still_fails() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = Arc::new(new_chain(dir.path()));
    let writer = {
        let chain = chain.clone();
        std::thread::spawn(move || {
            for i in 0..400 {
                chain.append(draft(i)).expect("append");
            }
        })
    };
    // Bounded: as many verifications as fit while the 400 appends run, at most 200.
    let mut runs = 0;
    while !writer.is_finished() && runs < 200 {
        let report = verify(&chain, &mut |_| {}).expect("verify");
        assert!(report.ok(), "a live chain failed: {:?}", report.failures);
        runs += 1;
    }
    writer.join().expect("writer");
    assert!(runs > 0);
    // The newest event gone, its head stays: that head is beyond the last event.
    let last = chain.len() - 1;
    let s = chain.store();
    s.db()
        .delete_cf(s.cf(cf::EVENTS), seq_key(last))
        .expect("delete");
    let report = verify(&chain, &mut |_| {}).expect("verify");
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.seq == last && f.kind == FailureKind::Head),
        "{:?}",
        report.failures
    );
}

/// A witness event whose payload references nothing is an authentic, signed event: a
/// verify finding, not damage. The chain still opens, and a repair keeps it and every
/// event after it.
#[test]
fn a_reference_that_does_not_hold_is_a_finding_not_damage() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = new_chain(dir.path());
    chain.append(draft(1)).expect("append");
    let empty = weft_kernel::cbor::from_json(&serde_json::json!({})).expect("payload");
    let bad = chain
        .append(weft_kernel::EventDraft::new("witness", "witness.head", empty).expect("draft"))
        .expect("append")
        .event
        .seq;
    for i in 2..5 {
        chain.append(draft(i)).expect("append");
    }
    let len = chain.len();
    drop(chain);

    let chain = reopen(dir.path());
    let report = verify(&chain, &mut |_| {}).expect("verify");
    assert!(!report.ok(), "the finding is reported");
    assert!(!report.damaged(), "{:?}", report.failures);
    assert_eq!(report.failures[0].seq, bad);
    assert_eq!(report.failures[0].kind, FailureKind::Reference);
    assert_eq!(report.last_good_head, Some(len - 1));

    let repaired =
        weft_kernel::repair::repair(&chain, &dir.path().join("quarantine"), false).expect("repair");
    assert_eq!((repaired.kept, repaired.dropped), (len, 0));
    assert_eq!(chain.len(), len, "no valid event was cut away");
}
