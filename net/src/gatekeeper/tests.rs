use super::*;
use crate::wire::{reannounced, Advert};
use weft_kernel::event::ChainId;
use weft_kernel::hash::Hash;
use weft_kernel::keys::NodeKey;

fn key(seed: u8) -> NodeKey {
    NodeKey::from_seed(&[seed; 32])
}

fn head(key: &NodeKey, chain: u8, seq: u64, hash: u8) -> SignedHead {
    SignedHead::sign(
        key,
        ChainId([chain; 16]),
        seq,
        Hash([hash; 32]),
        Hash([hash ^ 0xff; 32]),
        seq.saturating_add(1_000),
    )
}

fn listed(keys: &[&NodeKey]) -> Trust {
    Trust::Listed(keys.iter().map(|k| k.public_key()).collect())
}

fn accepted_head(verdict: Verdict) -> SignedHead {
    match verdict {
        Verdict::Accept(Accepted::Head(h)) => *h,
        other => panic!("expected an accepted head, got {other:?}"),
    }
}

#[test]
fn trusted_heads_pass_and_move_forward_only() {
    let peer = key(2);
    let mut gate = Gatekeeper::new(key(1).public_key(), listed(&[&peer]));
    let h5 = head(&peer, 9, 5, 0xa5);
    assert_eq!(accepted_head(gate.check(Topic::Heads, &h5.encode())), h5);
    let h7 = head(&peer, 9, 7, 0xa7);
    assert_eq!(accepted_head(gate.check(Topic::Heads, &h7.encode())), h7);
    assert!(matches!(
        gate.check(Topic::Heads, &h5.encode()),
        Verdict::Ignore("stale head")
    ));
    // The same head again is a replay; re-signed later it is a re-announcement, which
    // passes (peers that joined late need it) and becomes the one to beat.
    assert!(matches!(
        gate.check(Topic::Heads, &h7.encode()),
        Verdict::Ignore("head already announced")
    ));
    let again = reannounced(&h7, &peer, h7.time_ns + 1);
    assert_eq!(
        accepted_head(gate.check(Topic::Heads, &again.encode())),
        again
    );
    assert_eq!(gate.newest(&peer.public_key()), Some(&again));
    assert!(matches!(
        gate.check(Topic::Heads, &h7.encode()),
        Verdict::Ignore("head already announced")
    ));
    assert_eq!(gate.dropped().get("stale head"), Some(&1));
    assert_eq!(gate.dropped().get("head already announced"), Some(&2));
}

/// When the adverts of the tests are judged: 2023-11-14, ns.
const NOW: u64 = 1_700_000_000_000_000_000;
const SECOND: u64 = 1_000_000_000;

fn advert(key: &NodeKey, time_ns: u64) -> Vec<u8> {
    Advert {
        chain_id: "03".repeat(16),
        time_ns,
        ..Advert::default()
    }
    .sign(key)
    .encode()
}

fn judged(gate: &mut Gatekeeper, data: &[u8]) -> Result<u64, &'static str> {
    match gate.check_at(Topic::Capabilities, data, NOW) {
        Verdict::Accept(Accepted::Advert(a)) => Ok(a.advert.time_ns),
        Verdict::Ignore(why) => Err(why),
        other => panic!("an advert is accepted or ignored, not {other:?}"),
    }
}

#[test]
fn the_newest_advert_per_signer_wins_and_replays_go_no_further() {
    let peer = key(2);
    let mut gate = Gatekeeper::new(key(1).public_key(), listed(&[&peer]));
    let old = advert(&peer, NOW - 60 * SECOND);
    let fresh = advert(&peer, NOW - 30 * SECOND);
    assert_eq!(judged(&mut gate, &old), Ok(NOW - 60 * SECOND));
    assert_eq!(judged(&mut gate, &fresh), Ok(NOW - 30 * SECOND));
    // Whoever replays the old one, or the fresh one again, is not believed.
    assert_eq!(judged(&mut gate, &old), Err("stale advert"));
    assert_eq!(judged(&mut gate, &fresh), Err("stale advert"));
    // Newer, but closer to the last than the minimum gap: not passed on either.
    let gap = nanos(ADVERT_MIN_GAP);
    let hasty = advert(&peer, NOW - 30 * SECOND + gap - 1);
    assert_eq!(
        judged(&mut gate, &hasty),
        Err("advert too soon after the last")
    );
    let next = advert(&peer, NOW - 30 * SECOND + gap);
    assert_eq!(judged(&mut gate, &next), Ok(NOW - 30 * SECOND + gap));
    // Each signer has its own newest.
    let other = key(3);
    gate.set_trust(listed(&[&peer, &other]));
    assert_eq!(
        judged(&mut gate, &advert(&other, NOW - 60 * SECOND)),
        Ok(NOW - 60 * SECOND)
    );
    assert_eq!(gate.dropped().get("stale advert"), Some(&2));
}

#[test]
fn an_advert_dated_beyond_the_clock_skew_is_refused_and_does_not_block_fresh_ones() {
    let peer = key(2);
    let mut gate = Gatekeeper::new(key(1).public_key(), listed(&[&peer]));
    let skew = nanos(ADVERT_MAX_SKEW);
    let early = advert(&peer, NOW + skew + 1);
    assert_eq!(judged(&mut gate, &early), Err("advert dated in the future"));
    // The refused one was not remembered: a fresh advert passes, and later, when the
    // early one's time has come, so does it.
    assert_eq!(judged(&mut gate, &advert(&peer, NOW)), Ok(NOW));
    assert!(matches!(
        gate.check_at(Topic::Capabilities, &early, NOW + 2 * SECOND),
        Verdict::Accept(_)
    ));
    // Within the skew is a clock that runs a little fast: accepted.
    let mut fresh_gate = Gatekeeper::new(key(1).public_key(), listed(&[&peer]));
    assert_eq!(
        judged(&mut fresh_gate, &advert(&peer, NOW + skew)),
        Ok(NOW + skew)
    );
    // Strangers' adverts are ignored before their dates count.
    assert_eq!(
        judged(&mut gate, &advert(&key(4), NOW)),
        Err("advert from an untrusted key")
    );
}

#[test]
fn untrusted_keys_are_dropped_and_counted_unless_the_org_is_open() {
    let stranger = key(3);
    let mut gate = Gatekeeper::new(key(1).public_key(), listed(&[&key(2)]));
    let h = head(&stranger, 4, 1, 0x11);
    assert!(matches!(
        gate.check(Topic::Heads, &h.encode()),
        Verdict::Ignore("head from an untrusted key")
    ));
    assert_eq!(gate.dropped().get("head from an untrusted key"), Some(&1));
    assert!(gate.newest(&stranger.public_key()).is_none());
    gate.set_trust(Trust::Open);
    assert_eq!(accepted_head(gate.check(Topic::Heads, &h.encode())), h);
}

#[test]
fn garbage_and_forgeries_are_rejected() {
    let peer = key(2);
    let mut gate = Gatekeeper::new(key(1).public_key(), listed(&[&peer]));
    let mut forged = head(&peer, 9, 5, 0xa5).encode();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    for (topic, data) in [
        (Topic::Heads, forged),
        (Topic::Heads, vec![0xff; 64]),
        (Topic::Capabilities, vec![0xa1, 0x00]),
        (Topic::Evidence, vec![]),
        (Topic::Heads, vec![0; crate::wire::MAX_GOSSIP_BYTES + 1]),
    ] {
        assert!(
            matches!(gate.check(topic, &data), Verdict::Reject(_)),
            "{topic:?} {data:?}"
        );
    }
    assert!(gate.newest(&peer.public_key()).is_none());
}

#[test]
fn a_second_head_at_a_seen_sequence_is_evidence_not_gossip() {
    let peer = key(2);
    let mut gate = Gatekeeper::new(key(1).public_key(), listed(&[&peer]));
    let first = head(&peer, 9, 5, 0xa5);
    let second = head(&peer, 9, 5, 0xb5);
    accepted_head(gate.check(Topic::Heads, &first.encode()));
    let Verdict::Conflict(evidence) = gate.check(Topic::Heads, &second.encode()) else {
        panic!("conflict not detected");
    };
    let found = evidence.verify().expect("the evidence verifies");
    assert_eq!(found.kind, "conflict");
    assert_eq!(found.heads, (first.clone(), second));
    // The first head stays the one believed; the evidence itself is gossip that passes.
    assert_eq!(gate.newest(&peer.public_key()), Some(&first));
    assert!(matches!(
        gate.check(Topic::Evidence, &evidence.encode()),
        Verdict::Accept(Accepted::Evidence(..))
    ));
}

#[test]
fn one_key_cannot_announce_a_second_chain() {
    let peer = key(2);
    let mut gate = Gatekeeper::new(key(1).public_key(), listed(&[&peer]));
    accepted_head(gate.check(Topic::Heads, &head(&peer, 9, 5, 0xa5).encode()));
    assert!(matches!(
        gate.check(Topic::Heads, &head(&peer, 8, 6, 0xa6).encode()),
        Verdict::Reject(_)
    ));
}

#[test]
fn observed_heads_seed_the_order() {
    let peer = key(2);
    let mut gate = Gatekeeper::new(key(1).public_key(), listed(&[&peer]));
    assert!(gate.observe(&head(&peer, 9, 10, 0x10)).is_none());
    assert!(gate.observe(&head(&peer, 9, 3, 0x03)).is_none());
    assert_eq!(gate.newest(&peer.public_key()).map(|h| h.seq), Some(10));
    assert!(matches!(
        gate.check(Topic::Heads, &head(&peer, 9, 9, 0x09).encode()),
        Verdict::Ignore("stale head")
    ));
}

#[test]
fn evidence_against_strangers_is_not_forwarded() {
    let stranger = key(3);
    let mut gate = Gatekeeper::new(key(1).public_key(), listed(&[&key(2)]));
    let evidence = Evidence::conflict(&head(&stranger, 4, 2, 1), &head(&stranger, 4, 2, 2));
    assert!(matches!(
        gate.check(Topic::Evidence, &evidence.encode()),
        Verdict::Ignore(_)
    ));
}

#[test]
fn a_verified_head_contradicting_a_gossiped_one_is_evidence() {
    let peer = key(2);
    let mut gate = Gatekeeper::new(key(1).public_key(), listed(&[&peer]));
    let gossiped = head(&peer, 9, 5, 0x05);
    assert!(matches!(
        gate.check(Topic::Heads, &gossiped.encode()),
        Verdict::Accept(_)
    ));
    // The replica's verified history holds another event at the same sequence.
    let verified = head(&peer, 9, 5, 0x06);
    let evidence = gate.observe(&verified).expect("equivocation");
    assert_eq!(
        evidence.verify().expect("a proof").signer,
        peer.public_key()
    );
    // The same head again, or an older one, is no evidence.
    assert!(gate.observe(&gossiped).is_none());
    assert!(gate.observe(&head(&peer, 9, 4, 0x04)).is_none());
}

/// Fork evidence whose later head sits at the last `u64` sequence: the message that
/// once panicked the mesh task (`seq + 1` in the head's size) before any trust check.
fn fork_at_the_end_of_u64(signer: &NodeKey) -> Evidence {
    Evidence {
        first: head(signer, 7, 1, 0x01).encode(),
        second: head(signer, 7, u64::MAX, 0x02).encode(),
        fork: Some(crate::wire::ForkProof {
            event_hash: [0x03; 32],
            audit_path: vec![],
        }),
    }
}

#[test]
fn evidence_with_a_head_at_the_last_u64_sequence_is_judged_without_a_panic() {
    let (trusted, stranger) = (key(2), key(3));
    let mut gate = Gatekeeper::new(key(1).public_key(), listed(&[&trusted]));
    // A stranger's is dropped before anything of it is verified.
    assert!(matches!(
        gate.check(Topic::Evidence, &fork_at_the_end_of_u64(&stranger).encode()),
        Verdict::Ignore("evidence against an untrusted key")
    ));
    // A followed key's is not a proof: no head can stand at that sequence.
    assert!(matches!(
        gate.check(Topic::Evidence, &fork_at_the_end_of_u64(&trusted).encode()),
        Verdict::Reject(_)
    ));
    assert!(fork_at_the_end_of_u64(&trusted).verify().is_err());
    // And the gatekeeper goes on judging.
    assert!(matches!(
        gate.check(Topic::Heads, &head(&trusted, 7, 3, 0x04).encode()),
        Verdict::Accept(_)
    ));
}
