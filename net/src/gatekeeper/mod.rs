//! Which gossip is forwarded: every message is checked here before gossipsub passes it
//! on (`validate_messages`). A message must decode within the size limits, carry a valid
//! signature from a trusted key, and be newer than what that key said before: a head
//! must not move its signer's sequence backwards (and at the same sequence must be a
//! later announcement), an advert must be later than the signer's newest by
//! [`ADVERT_MIN_GAP`] and not dated more than [`ADVERT_MAX_SKEW`] ahead of this node's
//! clock. So a replayed old message, from whoever relays it, is neither forwarded nor
//! handed to the node, and one signer's adverts reach the node's bookkeeping at a bounded
//! rate. A second, different head at a sequence already seen is not forwarded but
//! returned as equivocation evidence.
//!
//! The gatekeeper keeps the newest head and advert time it has accepted per signer, so it
//! needs no store; the node seeds it with its replicas' verified heads at start and tells
//! it each newly verified one. It is owned by the mesh's event loop, which alone calls
//! it; the node reaches it through the mesh handle's commands.

use crate::wire::{decode_head, Equivocation, Evidence, SignedAdvert, Topic};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;
use weft_kernel::head::SignedHead;

/// How far ahead of this node's clock an advert's `time_ns` may be. Clocks of hosts that
/// keep time agree to well within this; an advert dated further ahead would otherwise
/// outrank every honest advert its signer makes until that time comes.
pub const ADVERT_MAX_SKEW: Duration = Duration::from_secs(60);
/// Shortest gap, by their own `time_ns`, between two adverts of one signer that are both
/// accepted. Nodes advertise every `announce_interval` (at least 1 s) and when a peer
/// joins; this bounds how often any signer's adverts are forwarded and reach the node's
/// bookkeeping, together with the skew bound: at most (T + skew) / gap in time T.
pub const ADVERT_MIN_GAP: Duration = Duration::from_millis(500);

/// Whose messages are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Only these Ed25519 keys (the configured peers).
    Listed(HashSet<[u8; 32]>),
    /// Any key that signs validly (an open organisation).
    Open,
}

impl Trust {
    /// Whether `key`'s messages are accepted under this trust (the node's own key aside).
    pub fn admits(&self, key: &[u8; 32]) -> bool {
        match self {
            Trust::Open => true,
            Trust::Listed(keys) => keys.contains(key),
        }
    }
}

/// A message that passed.
#[derive(Debug, Clone)]
pub enum Accepted {
    /// A signed head newer than the signer's newest: a later sequence, or the same head
    /// announced later.
    Head(Box<SignedHead>),
    /// A capability advert later than the signer's newest (by at least the minimum gap).
    Advert(Box<SignedAdvert>),
    /// Verified equivocation evidence against a trusted key: what it shows, and itself.
    Evidence(Box<Equivocation>, Box<Evidence>),
}

/// The gatekeeper's judgement of one message.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Forward it and hand it to the node.
    Accept(Accepted),
    /// Do not forward; the sender did nothing wrong (stale, untrusted, a duplicate, a
    /// replay: a relay passing on what it received is not at fault).
    Ignore(&'static str),
    /// Do not forward; the message is malformed or forged (the sender is penalised).
    Reject(&'static str),
    /// A validly signed head that conflicts with one already accepted: not forwarded,
    /// but here is the evidence.
    Conflict(Box<Evidence>),
}

/// The checks and what they have counted.
#[derive(Debug)]
pub struct Gatekeeper {
    trust: Trust,
    own: [u8; 32],
    newest: HashMap<[u8; 32], SignedHead>,
    /// `time_ns` of the newest advert accepted per signer.
    adverts: HashMap<[u8; 32], u64>,
    dropped: BTreeMap<&'static str, u64>,
}

impl Gatekeeper {
    /// A gatekeeper for the node whose key is `own`.
    pub fn new(own: [u8; 32], trust: Trust) -> Gatekeeper {
        Gatekeeper {
            trust,
            own,
            newest: HashMap::new(),
            adverts: HashMap::new(),
            dropped: BTreeMap::new(),
        }
    }

    /// Replaces the trust set (the configuration changed).
    pub fn set_trust(&mut self, trust: Trust) {
        self.trust = trust;
    }

    /// Whether `signer`'s messages are accepted.
    pub fn trusts(&self, signer: &[u8; 32]) -> bool {
        *signer == self.own || self.trust.admits(signer)
    }

    /// Records a head learnt outside gossip (a replica's verified head, our own). A
    /// head accepted earlier at the same sequence with another hash is contradicted by
    /// it: that is equivocation, returned as evidence (the verified head may arrive after
    /// the gossiped one).
    pub fn observe(&mut self, head: &SignedHead) -> Option<Evidence> {
        match self.newest.get(&head.signer) {
            Some(known) if known.seq == head.seq && known.head_hash != head.head_hash => {
                Some(Evidence::conflict(head, known))
            }
            Some(known) if known.seq >= head.seq => None,
            _ => {
                self.newest.insert(head.signer, head.clone());
                None
            }
        }
    }

    /// The newest head accepted from `signer`.
    pub fn newest(&self, signer: &[u8; 32]) -> Option<&SignedHead> {
        self.newest.get(signer)
    }

    /// Messages dropped so far, by reason.
    pub fn dropped(&self) -> &BTreeMap<&'static str, u64> {
        &self.dropped
    }

    /// Judges one gossip message received on `topic`, now.
    pub fn check(&mut self, topic: Topic, data: &[u8]) -> Verdict {
        self.check_at(topic, data, weft_kernel::chain::now_ns())
    }

    /// Judges one gossip message received on `topic` when this node's clock reads
    /// `now_ns` (only adverts' dates are compared with it).
    pub fn check_at(&mut self, topic: Topic, data: &[u8], now_ns: u64) -> Verdict {
        let verdict = match topic {
            Topic::Heads => self.check_head(data),
            Topic::Capabilities => self.check_advert(data, now_ns),
            Topic::Evidence => self.check_evidence(data),
        };
        match &verdict {
            Verdict::Ignore(why) | Verdict::Reject(why) => {
                *self.dropped.entry(why).or_default() += 1;
            }
            Verdict::Accept(_) | Verdict::Conflict(_) => {}
        }
        verdict
    }

    fn check_head(&mut self, data: &[u8]) -> Verdict {
        let Ok(head) = decode_head(data) else {
            return Verdict::Reject("malformed or forged head");
        };
        if !self.trusts(&head.signer) {
            return Verdict::Ignore("head from an untrusted key");
        }
        match self.newest.get(&head.signer) {
            Some(known) if known.chain_id != head.chain_id => {
                Verdict::Reject("head of a second chain under one key")
            }
            Some(known) if known.seq > head.seq => Verdict::Ignore("stale head"),
            Some(known) if known.seq == head.seq && !same_history(known, &head) => {
                Verdict::Conflict(Box::new(Evidence::conflict(known, &head)))
            }
            // The same head again: only a later announcement of it is news (it reaches
            // peers that missed the earlier one); the same bytes or an older signing are
            // a replay.
            Some(known) if known.seq == head.seq && head.time_ns <= known.time_ns => {
                Verdict::Ignore("head already announced")
            }
            _ => {
                self.newest.insert(head.signer, head.clone());
                Verdict::Accept(Accepted::Head(Box::new(head)))
            }
        }
    }

    fn check_advert(&mut self, data: &[u8], now_ns: u64) -> Verdict {
        let signed = match SignedAdvert::decode(data) {
            Err(_) => return Verdict::Reject("malformed or forged advert"),
            Ok(signed) => signed,
        };
        let (signer, time) = (signed.advert.signer, signed.advert.time_ns);
        if !self.trusts(&signer) {
            return Verdict::Ignore("advert from an untrusted key");
        }
        // Dates are the signer's; whoever relays an old or early one may have received
        // it honestly, so these are ignored, not held against the relay.
        if time > now_ns.saturating_add(nanos(ADVERT_MAX_SKEW)) {
            return Verdict::Ignore("advert dated in the future");
        }
        match self.adverts.get(&signer) {
            Some(newest) if time <= *newest => Verdict::Ignore("stale advert"),
            Some(newest) if time < newest.saturating_add(nanos(ADVERT_MIN_GAP)) => {
                Verdict::Ignore("advert too soon after the last")
            }
            _ => {
                self.adverts.insert(signer, time);
                Verdict::Accept(Accepted::Advert(Box::new(signed)))
            }
        }
    }

    fn check_evidence(&mut self, data: &[u8]) -> Verdict {
        let Ok(evidence) = Evidence::decode(data) else {
            return Verdict::Reject("malformed evidence or not a proof");
        };
        // Evidence against a key we do not follow is no concern of ours, and not
        // forwarding it keeps strangers from using the mesh as a broadcast channel. The
        // key is read before anything is verified: a stranger's bytes cost no signature
        // checks or proof walks.
        match evidence.claimed_signer() {
            Err(_) => return Verdict::Reject("malformed evidence or not a proof"),
            Ok(signer) if !self.trusts(&signer) => {
                return Verdict::Ignore("evidence against an untrusted key")
            }
            Ok(_) => {}
        }
        match evidence.verify() {
            Err(_) => Verdict::Reject("malformed evidence or not a proof"),
            Ok(found) => Verdict::Accept(Accepted::Evidence(Box::new(found), Box::new(evidence))),
        }
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

fn same_history(a: &SignedHead, b: &SignedHead) -> bool {
    a.head_hash == b.head_hash && a.merkle_root == b.merkle_root
}

#[cfg(test)]
mod tests;
