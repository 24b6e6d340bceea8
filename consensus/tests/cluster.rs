//! Three members in one process, each with its own RocksDB store, mesh and key, talking
//! over real libp2p on loopback: a founder forms the cluster, two more join through
//! snapshots and range sync, proposals from every member are acknowledged, the chains are
//! byte-identical and verify, and when the leader stops another is elected and takes
//! appends.

mod common;

use std::sync::Arc;
use std::time::Duration;
use weft_consensus::local::{self, key, LocalMember as Peer};
use weft_consensus::{Command, Draft, Reply};
use weft_kernel::store::cf;
use weft_kernel::{Chain, Store};

const WAIT: Duration = Duration::from_secs(30);

async fn founder() -> Peer {
    local::founder().await.expect("founder")
}

async fn joiner(seed: u8, chain_id: [u8; 16], via: &Peer) -> Peer {
    local::joiner(seed, chain_id, via).await.expect("join")
}

fn append(n: u64) -> Command {
    let payload = weft_kernel::cbor::map([("n", ciborium::value::Value::Integer(n.into()))]);
    Command::Append(vec![Draft::new("ci", "ci.run", payload).expect("cbor")])
}

async fn applied_everywhere(peers: &[&Peer], len: u64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while peers.iter().any(|p| p.chain.len() < len) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not applied everywhere: {:?} of {len}",
            peers.iter().map(|p| p.chain.len()).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn verify_clean(chain: &Chain) {
    let report = weft_kernel::verify::verify(chain, &mut |_| {}).expect("verify");
    assert!(report.failures.is_empty(), "{:?}", report.failures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_members_form_replicate_and_survive_losing_the_leader() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let a = founder().await;
    let chain_id = a.chain.genesis().expect("genesis").chain_id.0;
    let b = joiner(2, chain_id, &a).await;
    let c = joiner(3, chain_id, &a).await;
    let (_, voters) = a.node.members();
    assert_eq!(voters.len(), 3, "both joiners are voters");
    let signers = a.chain.signers();
    let last = signers.changes().last().expect("a signer set").1.clone();
    assert_eq!(last.len(), 3, "the chain authorises the three keys");

    let mut acknowledged = Vec::new();
    for (i, peer) in [&a, &b, &c].iter().enumerate() {
        for n in 0..5u64 {
            match peer
                .node
                .propose(append(i as u64 * 100 + n))
                .await
                .expect("propose")
            {
                Reply::Applied(events) => acknowledged.push(events[0].clone()),
                Reply::Refused(why) => panic!("refused: {why}"),
            }
        }
    }
    let len = a.chain.len();
    applied_everywhere(&[&a, &b, &c], len).await;
    for family in [cf::EVENTS, cf::MERKLE, cf::TREE, cf::INDEX] {
        let first = common::family(&a.chain, family);
        assert_eq!(
            first,
            common::family(&b.chain, family),
            "{family}: a and b differ"
        );
        assert_eq!(
            first,
            common::family(&c.chain, family),
            "{family}: a and c differ"
        );
    }
    for peer in [&a, &b, &c] {
        verify_clean(&peer.chain);
        for ack in &acknowledged {
            assert_eq!(
                peer.chain.event(ack.seq).expect("event").hash.to_hex(),
                ack.hash
            );
        }
    }
    // Heads on the joiners are signed by their own keys.
    let b_head = b.chain.latest_signed_head().expect("head");
    assert_eq!(b_head.signer, key(2).public_key());

    // The leader stops; the other two elect one and go on.
    let (leader, _) = a.node.leader().expect("a leader");
    let peers = [a, b, c];
    let (stopped, rest): (Vec<&Peer>, Vec<&Peer>) =
        peers.iter().partition(|p| p.node.id() == leader);
    stopped[0].node.shutdown().await.expect("shutdown");
    let reply = rest[0]
        .node
        .propose(append(999))
        .await
        .expect("propose after failover");
    let Reply::Applied(events) = reply else {
        panic!("{reply:?}");
    };
    applied_everywhere(&rest, events[0].seq + 1).await;
    let new_leader = rest[0].node.leader().expect("a new leader").0;
    assert_ne!(new_leader, leader);
    for peer in &rest {
        verify_clean(&peer.chain);
        assert!(!peer.mesh.local_peer_id().to_base58().is_empty());
    }
    follow_from_each(&rest);
}

/// A peer outside the cluster follows its chain from one member, then another (heads
/// signed by different keys, each checked against the set the chain authorises there);
/// a head signed by a key outside the set is refused and changes nothing.
fn follow_from_each(members: &[&Peer]) {
    let dir = tempfile::tempdir().expect("tmp");
    let founder_key = key(1).public_key();
    let store = Arc::new(Store::create(dir.path()).expect("store"));
    let replica = weft_kernel::replica::Replica::open(store, founder_key).expect("replica");
    let mut signers = std::collections::BTreeSet::new();
    for (i, member) in members.iter().enumerate() {
        // Half the chain from the first member, the rest from the second.
        let len = member.chain.len();
        let upto = if i == 0 { len / 2 } else { len };
        while replica.len() < upto {
            let want = u32::try_from(upto - replica.len()).expect("small");
            let range = weft_kernel::replica::serve(&member.chain, replica.len(), want, 1 << 20)
                .expect("serve");
            signers.insert(range.head.signer);
            replica.extend(&range).expect("a member's range verifies");
        }
    }
    assert!(
        signers.len() >= 2,
        "heads of at least two members were followed"
    );
    assert_eq!(replica.len(), members[0].chain.len());
    verify_clean(replica.chain());
    // A key outside the cluster signs a head over more history: refused.
    let source = &members[0].chain;
    let mut range =
        weft_kernel::replica::serve(source, replica.len() - 1, 1, 1 << 20).expect("serve");
    range.from = replica.len();
    range.events.clear();
    let outsider = key(99);
    range.head = weft_kernel::head::SignedHead::sign(
        &outsider,
        range.head.chain_id,
        range.head.seq + 1,
        range.head.head_hash,
        range.head.merkle_root,
        range.head.time_ns + 1,
    );
    let before = replica.len();
    let refused = replica.extend(&range).expect_err("an outsider's head");
    assert!(refused.to_string().contains("not among"), "{refused}");
    assert_eq!(replica.len(), before);
}

/// A sync source that has nothing (the stranger below serves no chain).
struct NoChain;

impl weft_net::mesh::SyncSource for NoChain {
    fn serve(
        &self,
        _: &weft_net::PeerId,
        _: &weft_net::wire::SyncRequest,
    ) -> weft_net::wire::SyncResponse {
        weft_net::wire::SyncResponse::Refused {
            reason: "no chain".into(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strangers_large_call_is_refused_before_it_is_decoded() {
    use weft_net::cluster::{ClusterRequest, ClusterResponse, NoCluster};
    use weft_net::gatekeeper::{Gatekeeper, Trust};
    use weft_net::mesh::{self, MeshConfig, Services};
    let a = founder().await;
    let stranger_key = key(9);
    let services = Services {
        sync: Arc::new(NoChain),
        queries: Arc::new(weft_net::query::NoQueries),
        cluster: Arc::new(NoCluster),
    };
    let (stranger, mut events) = mesh::start(
        &stranger_key,
        MeshConfig::loopback("local", vec![]),
        Gatekeeper::new(stranger_key.public_key(), Trust::Open),
        services,
    )
    .expect("stranger's mesh");
    tokio::spawn(async move { while events.recv().await.is_some() {} });
    let peer: weft_net::PeerId = a.info.peer_id.parse().expect("peer id");
    let addr: weft_net::Multiaddr = a.info.addr.parse().expect("addr");
    for (body, what) in [
        (vec![0xffu8; 1 << 20], "a megabyte that is no call"),
        (vec![0xa1u8; 64 * 1024], "64 KiB of a CBOR map's start"),
    ] {
        let answer = stranger
            .cluster(
                peer,
                Some(addr.clone()),
                ClusterRequest {
                    chain_id: a.chain.genesis().expect("genesis").chain_id.0.to_vec(),
                    body,
                },
                WAIT,
            )
            .await
            .expect("an answer");
        match answer {
            ClusterResponse::Refused { reason } => assert!(
                reason.contains("is not a member"),
                "{what}: refused for another reason (was it decoded?): {reason}"
            ),
            other => panic!("{what}: answered {other:?}"),
        }
    }
    let _ = a.node.shutdown().await;
}

/// Two nodes asking to join at once: the leader makes the changes one after the other,
/// so both end as voters and signers (before, the later change was computed from the
/// membership before the earlier one and left that newcomer out: the testnet's cluster
/// scenario failed one run in three).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_joins_at_once_both_become_voters_and_signers() {
    let a = founder().await;
    let chain_id = a.chain.genesis().expect("genesis").chain_id.0;
    let both = async { tokio::join!(joiner(2, chain_id, &a), joiner(3, chain_id, &a)) };
    let (b, c) = tokio::time::timeout(Duration::from_secs(120), both)
        .await
        .expect("both joins end");
    let (_, voters) = a.node.members();
    assert_eq!(voters.len(), 3, "{voters:?}");
    for p in [&b, &c] {
        let (_, seen) = p.node.members();
        assert_eq!(seen, voters, "each joiner sees the same voters");
    }
    let signers = a.chain.signers();
    let last = signers.changes().last().expect("a signer set").1.clone();
    assert_eq!(last.len(), 3, "the chain authorises the three keys");
}
