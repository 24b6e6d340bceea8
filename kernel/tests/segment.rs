//! Segment files: round trip, and rejection of truncated, reordered, altered and
//! re-signed files with the reason.

mod common;

use common::*;
use std::sync::Arc;
use weft_kernel::hash::{domain_hash, domains};
use weft_kernel::segment::{export, import, verify_file, SegmentError, ALIGN, HEADER_LEN};
use weft_kernel::{Chain, NodeKey, Store};

fn exported(events: u64) -> (tempfile::TempDir, Vec<u8>) {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = new_chain(dir.path());
    chain
        .append_batch((0..events).map(draft).collect())
        .expect("batch");
    let mut file = Vec::new();
    export(&chain, &key(), &mut file, &mut |_| {}).expect("export");
    (dir, file)
}

/// (offset, length) of every segment.
fn segments(file: &[u8]) -> Vec<(usize, usize)> {
    let mut out = vec![];
    let mut at = 0;
    while at < file.len() {
        let body = u32::from_be_bytes(file[at + 12..at + 16].try_into().expect("4")) as usize;
        let len = (HEADER_LEN + body).div_ceil(ALIGN) * ALIGN;
        out.push((at, len));
        at += len;
    }
    out
}

#[test]
fn export_verify_import_round_trip() {
    let (_dir, file) = exported(2500);
    assert_eq!(file.len() % ALIGN, 0);
    let summary = verify_file(file.as_slice()).expect("valid");
    assert_eq!(summary.events, 2501);
    assert_eq!(summary.segments as usize, segments(&file).len());
    let target = tempfile::tempdir().expect("tmp");
    let store = Arc::new(Store::create(&target.path().join("chain")).expect("store"));
    let chain = Chain::open_unchecked(store, Some(key())).expect("chain");
    import(&chain, file.as_slice(), file.as_slice(), &mut |_| {}).expect("import");
    assert_eq!(chain.len(), 2501);
    assert_eq!(chain.latest_signed_head(), Some(summary.head));
    assert!(weft_kernel::verify::verify(&chain, &mut |_| {})
        .expect("verify")
        .ok());
    drop(chain);
    assert_eq!(reopen(target.path()).len(), 2501);
}

#[test]
fn truncation_at_every_segment_boundary_and_inside_is_rejected() {
    let (_dir, file) = exported(2100);
    let segs = segments(&file);
    assert!(segs.len() >= 5, "header, 3 event segments, footer");
    for &(offset, len) in &segs {
        for cut in [
            offset,
            offset + 1,
            offset + HEADER_LEN - 1,
            offset + HEADER_LEN,
            offset + len / 2,
            offset + len - 1,
        ] {
            if cut == 0 {
                continue;
            }
            let err = verify_file(&file[..cut]).expect_err("truncated file accepted");
            assert!(
                matches!(err, SegmentError::Truncated(_)),
                "cut at {cut}: {err}"
            );
        }
    }
    assert!(matches!(
        verify_file(&[][..]),
        Err(SegmentError::Truncated(_))
    ));
}

#[test]
fn reordered_segments_are_rejected() {
    let (_dir, file) = exported(2100);
    let segs = segments(&file);
    let (a, b) = (segs[1], segs[2]);
    let mut swapped = file[..a.0].to_vec();
    swapped.extend_from_slice(&file[b.0..b.0 + b.1]);
    swapped.extend_from_slice(&file[a.0..a.0 + a.1]);
    swapped.extend_from_slice(&file[b.0 + b.1..]);
    let err = verify_file(swapped.as_slice()).expect_err("reordered");
    assert!(
        matches!(
            err,
            SegmentError::Reordered {
                found: 2,
                expected: 1
            }
        ),
        "{err}"
    );
    // Renumbered and re-hashed segments are still caught, by the event links.
    let mut renumbered = swapped.clone();
    for (i, &(off, _)) in segments(&renumbered).clone().iter().enumerate() {
        renumbered[off + 8..off + 12].copy_from_slice(&(i as u32).to_be_bytes());
        let body_len =
            u32::from_be_bytes(renumbered[off + 12..off + 16].try_into().expect("4")) as usize;
        let h = domain_hash(
            domains::SEGMENT,
            &[
                &renumbered[off..off + 16],
                &renumbered[off + HEADER_LEN..off + HEADER_LEN + body_len],
            ],
        );
        renumbered[off + 16..off + 48].copy_from_slice(&h.0);
    }
    let err = verify_file(renumbered.as_slice()).expect_err("renumbered");
    assert!(matches!(err, SegmentError::BadEvent { .. }), "{err}");
}

#[test]
fn any_bit_flip_is_rejected() {
    let (_dir, file) = exported(300);
    let step = (file.len() / 97).max(1);
    for pos in (0..file.len()).step_by(step) {
        let mut bad = file.clone();
        bad[pos] ^= 0x10;
        assert!(
            verify_file(bad.as_slice()).is_err(),
            "flip at byte {pos} of {} accepted",
            file.len()
        );
    }
}

#[test]
fn a_re_signed_file_is_rejected() {
    let (dir, file) = exported(50);
    // Export the same chain with another key: refused outright.
    let chain = reopen(dir.path());
    let intruder = NodeKey::from_seed(&[99; 32]);
    assert!(export(&chain, &intruder, &mut Vec::new(), &mut |_| {}).is_err());
    // Re-sign the footer for real with another key, fixing up the content hash: the
    // signature verifies, so only the check against the genesis key can refuse it.
    let segs = segments(&file);
    let (off, _) = *segs.last().expect("footer");
    let body_len = u32::from_be_bytes(file[off + 12..off + 16].try_into().expect("4")) as usize;
    let body = &file[off + HEADER_LEN..off + HEADER_LEN + body_len];
    let mut footer = weft_kernel::cbor::decode(body).expect("footer");
    use ciborium::value::Value;
    let ciborium::value::Value::Map(entries) = &mut footer else {
        panic!("the footer is a map");
    };
    entries.retain(|(k, _)| k.as_text() != Some("signature"));
    for (k, v) in entries.iter_mut() {
        if k.as_text() == Some("signer") {
            *v = Value::Bytes(intruder.public_key().to_vec());
        }
    }
    let unsigned = weft_kernel::cbor::encode_canonical(footer.clone()).expect("encode");
    let mut message = domains::SEGMENT_FOOTER.as_bytes().to_vec();
    message.push(0);
    message.extend_from_slice(&unsigned);
    let signature = intruder.sign(&message);
    assert!(weft_kernel::keys::verify_signature(
        &intruder.public_key(),
        &message,
        &signature
    ));
    if let Value::Map(entries) = &mut footer {
        entries.push((
            Value::Text("signature".into()),
            Value::Bytes(signature.to_vec()),
        ));
    }
    let new_body = weft_kernel::cbor::encode_canonical(footer).expect("encode");
    let mut resigned = file[..off].to_vec();
    let mut fixed = file[off..off + 16].to_vec();
    fixed[12..16].copy_from_slice(&(new_body.len() as u32).to_be_bytes());
    let h = domain_hash(domains::SEGMENT, &[&fixed, &new_body]);
    resigned.extend_from_slice(&fixed);
    resigned.extend_from_slice(&h.0);
    resigned.extend_from_slice(&new_body);
    resigned.resize((resigned.len()).div_ceil(ALIGN) * ALIGN, 0);
    let err = verify_file(resigned.as_slice()).expect_err("re-signed");
    assert!(matches!(err, SegmentError::Resigned { .. }), "{err}");
}

#[test]
fn import_refuses_a_non_empty_store_and_a_foreign_key() {
    let (dir, file) = exported(10);
    let chain = reopen(dir.path());
    assert!(matches!(
        import(&chain, file.as_slice(), file.as_slice(), &mut |_| {}),
        Err(SegmentError::NotEmpty(11))
    ));
    let target = tempfile::tempdir().expect("tmp");
    let store = Arc::new(Store::create(&target.path().join("chain")).expect("store"));
    let chain = Chain::open_unchecked(store, Some(NodeKey::from_seed(&[1; 32]))).expect("chain");
    assert!(import(&chain, file.as_slice(), file.as_slice(), &mut |_| {}).is_err());
    assert_eq!(chain.len(), 0, "a refused import leaves the store empty");
}

#[test]
fn a_cluster_member_exports_a_file_that_verifies_under_the_chains_signer_sets() {
    let dir = tempfile::tempdir().expect("tmp");
    let (chain, second) = clustered(dir.path());
    assert_eq!(
        chain.latest_signed_head().map(|h| h.signer),
        Some(second.public_key())
    );
    let mut file = Vec::new();
    export(&chain, &second, &mut file, &mut |_| {}).expect("a member exports");
    let summary = verify_file(file.as_slice()).expect("verifies offline");
    assert_eq!(summary.events, chain.len());
    assert_eq!(summary.head.signer, second.public_key());
    // A key the chain never authorised may not export it, nor sign its footer.
    let stranger = NodeKey::from_seed(&[9; 32]);
    let refused = export(&chain, &stranger, &mut Vec::new(), &mut |_| {});
    assert!(
        refused.is_err_and(|e| e.to_string().contains("not among")),
        "a stranger exported the chain"
    );
}
