//! Two and three meshes in one process on 127.0.0.1: gossip passes the gatekeeper, sync
//! ranges verify into a replica, strangers are ignored, garbage gets its sender blocked,
//! an oversized sync answer is refused by the codec, and `/weft/query/1` answers, caps
//! the queries in flight per peer and refuses oversized answers. A peer that joins after
//! a head was announced still gets it by gossip, and a replayed or future-dated advert
//! never reaches the node.

use ciborium::value::Value;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use weft_kernel::event::EventDraft;
use weft_kernel::keys::NodeKey;
use weft_kernel::replica::Replica;
use weft_kernel::{Chain, Store};
use weft_net::gatekeeper::{Accepted, Gatekeeper, Trust};
use weft_net::mesh::{self, MeshConfig, MeshEvent, MeshHandle, Services, SyncSource};
use weft_net::query::{QueryRequest, QueryResponse, QueryService, QUERY_RESPONSE_LIMIT};
use weft_net::wire::{Advert, SyncRequest, SyncResponse, Topic, SYNC_RESPONSE_LIMIT};

const WAIT: Duration = Duration::from_secs(20);

struct ChainSource(Chain);

impl SyncSource for ChainSource {
    fn serve(&self, _: &libp2p::PeerId, request: &SyncRequest) -> SyncResponse {
        SyncResponse::serve(&self.0, request)
    }
}

/// Answers every request with more bytes than any response may carry.
struct Oversized;

impl SyncSource for Oversized {
    fn serve(&self, _: &libp2p::PeerId, _: &SyncRequest) -> SyncResponse {
        SyncResponse::Refused {
            reason: "x".repeat(SYNC_RESPONSE_LIMIT as usize + 1),
        }
    }
}

/// Answers `echo` with the body reversed (after `hold` is lifted) and `huge` with more
/// than a response may carry; counts the questions it saw.
#[derive(Default)]
struct Echo {
    hold: AtomicBool,
    seen: AtomicUsize,
}

impl QueryService for Echo {
    fn answer(&self, _: &libp2p::PeerId, request: &QueryRequest) -> QueryResponse {
        self.seen.fetch_add(1, SeqCst);
        // Bounded: a held answer is released by the test or after 20 s.
        for _ in 0..200 {
            if !self.hold.load(SeqCst) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        match request.kind.as_str() {
            "echo" => QueryResponse::Answer {
                body: request.body.iter().rev().copied().collect(),
            },
            "huge" => QueryResponse::Answer {
                body: vec![0; QUERY_RESPONSE_LIMIT as usize + 1],
            },
            other => QueryResponse::Refused {
                reason: format!("unknown kind {other}"),
            },
        }
    }
}

struct Node {
    key: NodeKey,
    handle: MeshHandle,
    events: mpsc::Receiver<MeshEvent>,
    addr: libp2p::Multiaddr,
}

fn key(seed: u8) -> NodeKey {
    NodeKey::from_seed(&[seed; 32])
}

fn chain(dir: &std::path::Path, key: &NodeKey, events: u64) -> Chain {
    let store = Arc::new(Store::create(dir).expect("store"));
    let chain = Chain::create(store, key.clone(), "upstream").expect("chain");
    let drafts = (0..events)
        .map(|i| EventDraft::new("test", "test.note", Value::Integer(i.into())).expect("draft"))
        .collect();
    chain.append_batch(drafts).expect("append");
    chain
}

async fn start(
    seed: u8,
    trusted: &[u8],
    dial: Vec<libp2p::Multiaddr>,
    source: Arc<dyn SyncSource>,
) -> Node {
    start_with(seed, trusted, dial, Services::sync_only(source), false).await
}

async fn start_with(
    seed: u8,
    trusted: &[u8],
    dial: Vec<libp2p::Multiaddr>,
    services: Services,
    kademlia: bool,
) -> Node {
    let key = key(seed);
    let trust = Trust::Listed(trusted.iter().map(|s| self::key(*s).public_key()).collect());
    let gate = Gatekeeper::new(key.public_key(), trust);
    let config = MeshConfig {
        kademlia,
        ..MeshConfig::loopback("test", dial)
    };
    let (handle, mut events) = mesh::start(&key, config, gate, services).expect("mesh");
    let addr = loop {
        match tokio::time::timeout(WAIT, events.recv()).await {
            Ok(Some(MeshEvent::Listening(addr))) => break addr,
            Ok(Some(_)) => continue,
            other => panic!("no listen address: {other:?}"),
        }
    };
    Node {
        key,
        handle,
        events,
        addr,
    }
}

/// Waits for the first event `pick` accepts.
async fn until<T>(node: &mut Node, mut pick: impl FnMut(MeshEvent) -> Option<T>) -> T {
    tokio::time::timeout(WAIT, async {
        loop {
            let event = node.events.recv().await.expect("mesh running");
            if let Some(found) = pick(event) {
                return found;
            }
        }
    })
    .await
    .expect("event within the time limit")
}

async fn connected(node: &mut Node, peers: usize) {
    let mut seen = HashSet::new();
    until(node, |e| match e {
        MeshEvent::Connected { peer, .. } => {
            seen.insert(peer);
            (seen.len() >= peers).then_some(())
        }
        _ => None,
    })
    .await;
}

/// Publishes `data` until `receiver` reports what `pick` wants: gossipsub forms its
/// mesh a heartbeat after the connection, so the first publish may meet no subscriber.
async fn publish_until<T>(
    sender: &MeshHandle,
    receiver: &mut Node,
    topic: Topic,
    data: Vec<u8>,
    mut pick: impl FnMut(MeshEvent) -> Option<T>,
) -> T {
    for _ in 0..40 {
        sender.publish(topic, data.clone()).await.expect("publish");
        if let Ok(Some(found)) = tokio::time::timeout(Duration::from_millis(500), async {
            loop {
                match receiver.events.recv().await {
                    Some(e) => {
                        if let Some(found) = pick(e) {
                            return Some(found);
                        }
                    }
                    None => return None,
                }
            }
        })
        .await
        {
            return found;
        }
    }
    panic!("nothing arrived after 40 publishes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_head_is_gossiped_and_its_chain_syncs_into_a_replica() {
    let dir = tempfile::tempdir().expect("tempdir");
    let upstream = chain(&dir.path().join("a"), &key(1), 300);
    let head = upstream.latest_signed_head().expect("head");
    let a = start(1, &[2], vec![], Arc::new(ChainSource(upstream))).await;
    let mut b = start(2, &[1], vec![a.addr.clone()], Arc::new(Oversized)).await;
    connected(&mut b, 1).await;

    let got = publish_until(
        &a.handle,
        &mut b,
        Topic::Heads,
        head.encode(),
        |e| match e {
            MeshEvent::Gossip {
                accepted: Accepted::Head(h),
                ..
            } => Some(*h),
            _ => None,
        },
    )
    .await;
    assert_eq!(got, head);

    let store = Arc::new(Store::create(&dir.path().join("replica")).expect("store"));
    let replica = Replica::open(store, a.key.public_key()).expect("replica");
    let peer = a.handle.local_peer_id();
    for _ in 0..10 {
        let request = SyncRequest {
            chain_id: head.chain_id.0,
            from: replica.len(),
            max_count: 128,
            max_bytes: 1 << 20,
        };
        let response = b.handle.sync(peer, request).await.expect("sync");
        let range = response.into_range(replica.len()).expect("range");
        if replica.extend(&range).expect("verified").at_head {
            break;
        }
    }
    assert_eq!(replica.len(), head.seq + 1);
    assert_eq!(replica.verified_head().expect("head"), Some(head));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_are_ignored_and_garbage_gets_its_sender_blocked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stranger_chain = chain(&dir.path().join("c"), &key(3), 3);
    let stranger_head = stranger_chain.latest_signed_head().expect("head");
    let mut b = start(2, &[1], vec![], Arc::new(Oversized)).await;
    let c = start(
        3,
        &[2],
        vec![b.addr.clone()],
        Arc::new(ChainSource(stranger_chain)),
    )
    .await;
    connected(&mut b, 1).await;

    // The stranger's validly signed head is dropped and counted.
    for _ in 0..40 {
        c.handle
            .publish(Topic::Heads, stranger_head.encode())
            .await
            .expect("publish");
        tokio::time::sleep(Duration::from_millis(250)).await;
        let dropped = b.handle.dropped().await.expect("dropped");
        if dropped.contains_key("head from an untrusted key") {
            break;
        }
    }
    let dropped = b.handle.dropped().await.expect("dropped");
    assert_eq!(dropped.get("head from an untrusted key"), Some(&1));
    assert!(b
        .handle
        .newest(c.key.public_key())
        .await
        .expect("newest")
        .is_none());

    // Garbage: distinct messages (distinct ids) until the receiver blocks the sender.
    let sender = c.handle.local_peer_id();
    let mut blocked = None;
    for i in 0..200u32 {
        let mut junk = vec![0xff; 40];
        junk.extend(i.to_be_bytes());
        c.handle.publish(Topic::Heads, junk).await.expect("publish");
        tokio::time::sleep(Duration::from_millis(50)).await;
        while let Ok(event) = b.events.try_recv() {
            if let MeshEvent::Blocked { peer, .. } = event {
                blocked = Some(peer);
            }
        }
        if blocked.is_some() {
            break;
        }
    }
    assert_eq!(blocked, Some(sender));
    assert!(b
        .handle
        .dropped()
        .await
        .expect("dropped")
        .get("malformed or forged head")
        .is_some_and(|n| *n >= mesh::STRIKES_TO_BLOCK as u64));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_sync_answer_fails_the_request_instead_of_growing_memory() {
    let a = start(1, &[2], vec![], Arc::new(Oversized)).await;
    let mut b = start(2, &[1], vec![a.addr.clone()], Arc::new(Oversized)).await;
    connected(&mut b, 1).await;
    let request = SyncRequest {
        chain_id: [0; 16],
        from: 0,
        max_count: 1,
        max_bytes: 1,
    };
    let result = b.handle.sync(a.handle.local_peer_id(), request).await;
    assert!(result.is_err(), "an answer over the limit was accepted");
    // The connection and the mesh still work afterwards.
    assert!(b.handle.peers().await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_spamming_well_formed_but_useless_gossip_is_blocked_too() {
    // Validly signed heads from a key nobody trusts: each is only ignored, but more than
    // IGNORED_PER_SECOND a second, second after second, earns strikes and a block.
    let mut b = start(2, &[1], vec![], Arc::new(Oversized)).await;
    let c = start(3, &[2], vec![b.addr.clone()], Arc::new(Oversized)).await;
    connected(&mut b, 1).await;
    let stranger = key(4);
    let started = std::time::Instant::now();
    let mut blocked = None;
    let mut seq = 0u64;
    while blocked.is_none() && started.elapsed() < Duration::from_secs(60) {
        for _ in 0..mesh::IGNORED_PER_SECOND * 2 {
            seq += 1;
            let head = weft_kernel::head::SignedHead::sign(
                &stranger,
                weft_kernel::event::ChainId([4; 16]),
                seq,
                weft_kernel::hash::Hash([1; 32]),
                weft_kernel::hash::Hash([2; 32]),
                seq,
            );
            c.handle
                .publish(Topic::Heads, head.encode())
                .await
                .expect("publish");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        while let Ok(event) = b.events.try_recv() {
            if let MeshEvent::Blocked { peer, reason } = event {
                assert!(reason.contains("untrusted"), "{reason}");
                blocked = Some(peer);
            }
        }
    }
    assert_eq!(blocked, Some(c.handle.local_peer_id()));
}

/// Three nodes that were given only the hub's address: with Kademlia on (`kad` true) the
/// other two must find and connect to each other.
async fn introduced_by_the_hub(kad: bool) -> bool {
    let hub = start_with(
        1,
        &[2, 3],
        vec![],
        Services::sync_only(Arc::new(Oversized)),
        kad,
    )
    .await;
    let mut b = start_with(
        2,
        &[1, 3],
        vec![hub.addr.clone()],
        Services::sync_only(Arc::new(Oversized)),
        kad,
    )
    .await;
    let c = start_with(
        3,
        &[1, 2],
        vec![hub.addr.clone()],
        Services::sync_only(Arc::new(Oversized)),
        kad,
    )
    .await;
    let c_id = c.handle.local_peer_id();
    tokio::time::timeout(Duration::from_secs(8), async {
        while let Some(event) = b.events.recv().await {
            if matches!(event, MeshEvent::Connected { peer, .. } if peer == c_id) {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kademlia_introduces_nodes_that_only_know_a_bootstrap() {
    assert!(
        !introduced_by_the_hub(false).await,
        "without Kademlia nobody introduces them"
    );
    assert!(
        introduced_by_the_hub(true).await,
        "Kademlia did not introduce them"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_are_answered_capped_per_peer_and_size_limited() {
    let echo = Arc::new(Echo::default());
    let services = Services {
        sync: Arc::new(Oversized),
        queries: echo.clone(),
        cluster: Arc::new(weft_net::cluster::NoCluster),
    };
    let a = start_with(1, &[2], vec![], services, false).await;
    // B is not dialled in advance: the address given with the query is enough.
    let b = start(2, &[1], vec![], Arc::new(Oversized)).await;
    let ask = |kind: &str, body: &[u8]| QueryRequest {
        kind: kind.into(),
        body: body.to_vec(),
    };
    let peer = a.handle.local_peer_id();
    let answer = b
        .handle
        .query(peer, Some(a.addr.clone()), ask("echo", b"abc"))
        .await
        .expect("answered");
    assert_eq!(
        answer,
        QueryResponse::Answer {
            body: b"cba".to_vec()
        }
    );

    // Six at once while answers are held: four are taken, two are refused as busy.
    echo.hold.store(true, SeqCst);
    let asks: Vec<_> = (0..6u8)
        .map(|i| {
            let handle = b.handle.clone();
            let request = ask("echo", &[i]);
            tokio::spawn(async move { handle.query(peer, None, request).await })
        })
        .collect();
    let deadline = tokio::time::Instant::now() + WAIT;
    while echo.seen.load(SeqCst) < 5 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    echo.hold.store(false, SeqCst);
    let mut answered = 0;
    let mut busy = 0;
    for handle in asks {
        match handle.await.expect("task").expect("a response") {
            QueryResponse::Answer { .. } => answered += 1,
            QueryResponse::Refused { reason } => {
                assert!(reason.contains("busy"), "{reason}");
                busy += 1
            }
        }
    }
    assert_eq!((answered, busy), (4, 2));
    assert_eq!(
        echo.seen.load(SeqCst),
        1 + 4,
        "refused questions reached the service"
    );

    // An answer over the limit fails the request; the mesh goes on answering.
    assert!(b.handle.query(peer, None, ask("huge", b"")).await.is_err());
    // A malformed kind never leaves the asker.
    let bad = b.handle.query(peer, None, ask("Bad Kind", b"")).await;
    assert!(matches!(bad, Err(mesh::MeshError::Query { .. })), "{bad:?}");
    let again = b.handle.query(peer, None, ask("echo", b"xy")).await;
    assert_eq!(
        again.expect("answered"),
        QueryResponse::Answer {
            body: b"yx".to_vec()
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_joins_after_the_head_was_announced_still_gets_it_by_gossip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let upstream = chain(&dir.path().join("a"), &key(1), 3);
    let head = upstream.latest_signed_head().expect("head");
    let mut a = start(1, &[2, 5], vec![], Arc::new(ChainSource(upstream))).await;
    let mut early = start(5, &[1], vec![a.addr.clone()], Arc::new(Oversized)).await;
    connected(&mut early, 1).await;
    let same_head = |h: &weft_kernel::head::SignedHead| {
        (h.chain_id, h.seq, h.head_hash, h.merkle_root)
            == (head.chain_id, head.seq, head.head_hash, head.merkle_root)
    };
    let mut reached_early = false;
    for _ in 0..40 {
        assert!(a.handle.announce(head.clone()));
        let got = tokio::time::timeout(Duration::from_millis(500), async {
            loop {
                match early.events.recv().await {
                    Some(MeshEvent::Gossip {
                        accepted: Accepted::Head(h),
                        ..
                    }) if same_head(&h) => return true,
                    Some(_) => continue,
                    None => return false,
                }
            }
        })
        .await;
        if got == Ok(true) {
            reached_early = true;
            break;
        }
    }
    assert!(reached_early, "the first peer never got the head");
    // Past gossipsub's message cache (5 heartbeats of 0.5 s), so the newcomer cannot
    // fetch the first announcement through IHAVE/IWANT: only a new one reaches it.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let mut late = start(2, &[1], vec![a.addr.clone()], Arc::new(Oversized)).await;
    let late_id = late.handle.local_peer_id();
    until(&mut a, |e| match e {
        MeshEvent::Subscribed { peer } if peer == late_id => Some(()),
        _ => None,
    })
    .await;
    // What the node does when a peer subscribes, and then every announce interval.
    let mut received = None;
    for _ in 0..20 {
        assert!(a.handle.announce(head.clone()));
        if let Ok(Some(h)) = tokio::time::timeout(Duration::from_millis(500), async {
            loop {
                match late.events.recv().await {
                    Some(MeshEvent::Gossip {
                        accepted: Accepted::Head(h),
                        ..
                    }) => return Some(*h),
                    Some(_) => continue,
                    None => return None,
                }
            }
        })
        .await
        {
            received = Some(h);
            break;
        }
    }
    let received = received.expect("the late peer got the head by gossip");
    assert!(same_head(&received), "{received:?}");
    assert!(
        received.time_ns > head.time_ns,
        "a re-announcement, re-signed later"
    );
}

fn advert_at(signer: &NodeKey, time_ns: u64) -> Vec<u8> {
    Advert {
        project: "upstream".into(),
        chain_id: "01".repeat(16),
        services: vec!["sync".into(), "query".into()],
        time_ns,
        ..Advert::default()
    }
    .sign(signer)
    .encode()
}

/// The times of the adverts `node` hands on, up to and including the one at `marker`.
async fn adverts_until(node: &mut Node, marker: u64) -> Vec<u64> {
    let mut times = Vec::new();
    until(node, |e| match e {
        MeshEvent::Gossip {
            accepted: Accepted::Advert(a),
            ..
        } => {
            times.push(a.advert.time_ns);
            (a.advert.time_ns == marker).then_some(())
        }
        MeshEvent::Blocked { peer, reason } => {
            panic!("{peer} was blocked for relaying signed adverts: {reason}")
        }
        _ => None,
    })
    .await;
    times
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_or_future_dated_advert_never_reaches_the_node() {
    // The signer (key 1) is offline; a third party (3) that holds its adverts relays
    // them to a node (2) that trusts the signer.
    let signer = key(1);
    let mut b = start(2, &[1], vec![], Arc::new(Oversized)).await;
    let c = start(3, &[2], vec![b.addr.clone()], Arc::new(Oversized)).await;
    connected(&mut b, 1).await;
    let now = weft_kernel::chain::now_ns();
    let second = 1_000_000_000;
    let (old, fresh) = (now - 60 * second, now);

    let first = publish_until(
        &c.handle,
        &mut b,
        Topic::Capabilities,
        advert_at(&signer, fresh),
        |e| match e {
            MeshEvent::Gossip {
                accepted: Accepted::Advert(a),
                ..
            } => Some(a.advert.time_ns),
            _ => None,
        },
    )
    .await;
    assert_eq!(first, fresh, "a fresh advert passes");

    // Bytes gossipsub has not seen (so its duplicate cache does not hide them), signed
    // by the signer, but older than what the node holds: then a fresh marker.
    for data in [advert_at(&signer, old), advert_at(&signer, fresh + second)] {
        c.handle
            .publish(Topic::Capabilities, data)
            .await
            .expect("publish");
    }
    assert_eq!(
        adverts_until(&mut b, fresh + second).await,
        vec![fresh + second],
        "the replayed old advert reached the node"
    );

    // Dated an hour ahead of the node's clock: refused, and it does not outrank the
    // signer's next honest advert.
    for data in [
        advert_at(&signer, now + 3600 * second),
        advert_at(&signer, fresh + 2 * second),
    ] {
        c.handle
            .publish(Topic::Capabilities, data)
            .await
            .expect("publish");
    }
    assert_eq!(
        adverts_until(&mut b, fresh + 2 * second).await,
        vec![fresh + 2 * second],
        "the future-dated advert reached the node"
    );
    let dropped = b.handle.dropped().await.expect("dropped");
    assert_eq!(dropped.get("stale advert"), Some(&1));
    assert_eq!(dropped.get("advert dated in the future"), Some(&1));
}

/// Answers a cluster call with its chain id and body reversed; a panicking body panics.
struct Reverse;

impl weft_net::cluster::ClusterService for Reverse {
    fn handle(
        &self,
        _peer: libp2p::PeerId,
        request: weft_net::cluster::ClusterRequest,
    ) -> futures::future::BoxFuture<'static, weft_net::cluster::ClusterResponse> {
        Box::pin(async move {
            assert_ne!(request.body, b"panic", "the handler was told to panic");
            let mut body = request.body;
            body.reverse();
            body.extend_from_slice(&request.chain_id);
            weft_net::cluster::ClusterResponse::Answer { body }
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_calls_are_answered_and_an_unreachable_member_fails_in_time() {
    use weft_net::cluster::{ClusterRequest, ClusterResponse};
    let services = Services {
        sync: Arc::new(Oversized),
        queries: Arc::new(weft_net::query::NoQueries),
        cluster: Arc::new(Reverse),
    };
    let a = start_with(1, &[2], vec![], services, false).await;
    let b = start(2, &[1], vec![], Arc::new(Oversized)).await;
    let call = |body: &[u8]| ClusterRequest {
        chain_id: vec![7; 16],
        body: body.to_vec(),
    };
    let peer = a.handle.local_peer_id();
    let answer = b
        .handle
        .cluster(peer, Some(a.addr.clone()), call(b"abc"), WAIT)
        .await
        .expect("answered");
    let mut want = b"cba".to_vec();
    want.extend_from_slice(&[7; 16]);
    assert_eq!(answer, ClusterResponse::Answer { body: want });
    // A handler that panics is an answer too, and the member goes on answering.
    let failed = b
        .handle
        .cluster(peer, None, call(b"panic"), WAIT)
        .await
        .expect("a response");
    assert!(
        matches!(failed, ClusterResponse::Refused { ref reason } if reason.contains("failed")),
        "{failed:?}"
    );
    assert!(b.handle.cluster(peer, None, call(b"x"), WAIT).await.is_ok());
    // The reverse direction: B serves no cluster.
    let refused = a
        .handle
        .cluster(
            b.handle.local_peer_id(),
            Some(b.addr.clone()),
            call(b"x"),
            WAIT,
        )
        .await
        .expect("a response");
    assert!(
        matches!(refused, ClusterResponse::Refused { .. }),
        "{refused:?}"
    );
    // A member nobody can reach: an error within the deadline, not a hang.
    let nowhere: libp2p::Multiaddr = "/ip4/127.0.0.1/tcp/1".parse().expect("addr");
    let err = b
        .handle
        .cluster(
            libp2p::PeerId::random(),
            Some(nowhere),
            call(b"x"),
            Duration::from_secs(2),
        )
        .await
        .expect_err("unreachable");
    assert!(
        matches!(err, weft_net::mesh::MeshError::Cluster { .. }),
        "{err}"
    );
}

/// Serves a chain, but while `forging`, with one event's bytes altered in the range that
/// starts at `forged_from`.
struct ForgingFrom {
    chain: Chain,
    forged_from: u64,
    forging: AtomicBool,
}

impl SyncSource for ForgingFrom {
    fn serve(&self, _: &libp2p::PeerId, request: &SyncRequest) -> SyncResponse {
        let request = request.capped();
        let served = weft_kernel::replica::serve(
            &self.chain,
            request.from,
            request.max_count,
            request.max_bytes,
        );
        let Ok(mut range) = served else {
            return SyncResponse::Refused {
                reason: "nothing to serve".into(),
            };
        };
        if range.from == self.forged_from && self.forging.load(SeqCst) {
            let event = &mut range.events[5];
            let last = event.len() - 1;
            event[last] ^= 1;
        }
        SyncResponse::from(range)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replication_stores_ranges_in_order_and_stops_at_the_first_bad_one() {
    use weft_kernel::replica::ReplicaError;
    use weft_net::replicate::{replicate, Stop};
    use weft_net::wire::SYNC_MAX_EVENTS;
    let per_range = u64::from(SYNC_MAX_EVENTS);
    let dir = tempfile::tempdir().expect("tempdir");
    // Three full ranges and a short one.
    let upstream = chain(&dir.path().join("a"), &key(1), 3 * per_range + 100);
    let (total, head) = (upstream.len(), upstream.latest_signed_head().expect("head"));
    let before_forged = upstream.stored_hash(2 * per_range - 1).expect("read");
    let source = Arc::new(ForgingFrom {
        chain: upstream,
        forged_from: 2 * per_range,
        forging: AtomicBool::new(true),
    });
    let a = start(1, &[2], vec![], source.clone()).await;
    let mut b = start(2, &[1], vec![a.addr.clone()], Arc::new(Oversized)).await;
    connected(&mut b, 1).await;
    let peer = a.handle.local_peer_id();
    let replica = |name: &str| {
        let store = Arc::new(Store::create(&dir.path().join(name)).expect("store"));
        Arc::new(Replica::open(store, a.key.public_key()).expect("replica"))
    };
    let chain_id = head.chain_id.0;

    // A round limit stops after that many ranges, each stored whole.
    let limited = replica("limited");
    let run = replicate(&b.handle, peer, chain_id, limited.clone(), 1).await;
    assert!(matches!(run.stop, Stop::Rounds), "{:?}", run.stop);
    assert_eq!((run.stored, limited.len()), (per_range, per_range));

    // The forged range is refused; the two before it are stored, nothing of it or after.
    let copy = replica("copy");
    let run = replicate(&b.handle, peer, chain_id, copy.clone(), usize::MAX).await;
    assert!(
        matches!(&run.stop, Stop::Range(ReplicaError::Refused { from, .. }, _) if *from == 2 * per_range),
        "{:?}",
        run.stop
    );
    assert_eq!((run.stored, copy.len()), (2 * per_range, 2 * per_range));
    assert_eq!(copy.chain().head().map(|(_, h)| h), before_forged);

    // Once the peer serves its real history, the same replica goes on to the head.
    source.forging.store(false, SeqCst);
    let run = replicate(&b.handle, peer, chain_id, copy.clone(), usize::MAX).await;
    assert!(matches!(run.stop, Stop::AtHead), "{:?}", run.stop);
    assert_eq!((run.stored, copy.len()), (total - 2 * per_range, total));
    assert_eq!(copy.verified_head().expect("head"), Some(head));
}
