//! Raft-acknowledged appends on three members in one process (real RocksDB stores, real
//! libp2p on loopback), next to a single node's synced append on the same machine:
//! p50/p99 latency at one client, throughput at 64 concurrent clients.
//!
//! `cargo run --release -p weft-consensus --example cluster_bench [ops]`, or
//! `… cluster_bench catchup [events]` for a new member's catch-up; the etcd
//! baseline of the same shape is `scripts/bench-etcd.sh` (docs/performance.md).

use std::sync::Arc;
use std::time::{Duration, Instant};
use weft_consensus::{local, Command, Draft};

/// A payload of about the size the etcd baseline puts (a 100-byte value).
fn command(n: u64) -> Command {
    let payload = weft_kernel::cbor::map([
        ("n", ciborium::value::Value::Integer(n.into())),
        ("v", ciborium::value::Value::Text("x".repeat(90))),
    ]);
    Command::Append(vec![
        Draft::new("bench", "bench.put", payload).expect("cbor")
    ])
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{what:<44} p50 {:>7.2} ms   p99 {:>7.2} ms   ({} ops)",
        percentile(&samples, 0.50).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples.len()
    );
}

fn single_node(ops: u64) -> Vec<Duration> {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Arc::new(weft_kernel::Store::create(dir.path()).expect("store"));
    let key = weft_kernel::keys::NodeKey::from_seed(&[3; 32]);
    let chain = weft_kernel::Chain::create(store, key, "bench").expect("chain");
    (0..ops)
        .map(|n| {
            let payload = weft_kernel::cbor::map([
                ("n", ciborium::value::Value::Integer(n.into())),
                ("v", ciborium::value::Value::Text("x".repeat(90))),
            ]);
            let draft = weft_kernel::EventDraft::new("bench", "bench.put", payload).expect("draft");
            let started = Instant::now();
            chain.append(draft).expect("append");
            started.elapsed()
        })
        .collect()
}

/// A new member joining a chain of `events`: the time until it is a voter (snapshot,
/// range sync of every event with full verification, tree rebuild, promotion).
async fn catch_up(events: u64) {
    let founder = local::founder_with(events).await.expect("founder");
    let chain_id = founder.chain.genesis().expect("genesis").chain_id.0;
    let len = founder.chain.len();
    let started = Instant::now();
    let joiner = local::joiner(2, chain_id, &founder).await.expect("join");
    let elapsed = started.elapsed();
    assert!(joiner.chain.len() >= len, "the joiner holds the chain");
    println!(
        "{:<44} {:>7.1} s ({} events, {:.0} events/s)",
        "new member to voter",
        elapsed.as_secs_f64(),
        len,
        len as f64 / elapsed.as_secs_f64()
    );
    let _ = joiner.node.shutdown().await;
    let _ = founder.node.shutdown().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // RUST_LOG=weft_consensus=debug shows what a slow catch-up waits on.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    if std::env::args().nth(1).as_deref() == Some("catchup") {
        let events = std::env::args()
            .nth(2)
            .and_then(|a| a.parse().ok())
            .unwrap_or(1_000_000);
        catch_up(events).await;
        return;
    }
    let ops: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    report("single node, synced append, 1 client", single_node(ops));
    let members = local::cluster(3).await.expect("cluster");
    let leader = members[0].node.clone();
    let follower = members[1].node.clone();
    for n in 0..20 {
        leader.propose(command(n)).await.expect("warm-up");
    }
    let mut samples = Vec::new();
    for n in 0..ops {
        let started = Instant::now();
        leader.propose(command(n)).await.expect("propose");
        samples.push(started.elapsed());
    }
    report("3 members, acknowledged append, 1 client", samples);
    let mut samples = Vec::new();
    for n in 0..ops / 2 {
        let started = Instant::now();
        follower.propose(command(n)).await.expect("propose");
        samples.push(started.elapsed());
    }
    report("3 members, via a follower, 1 client", samples);
    let clients = 64u64;
    let per_client = (ops / 10).max(10);
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let node = leader.clone();
            tokio::spawn(async move {
                for n in 0..per_client {
                    node.propose(command(c * 1_000_000 + n))
                        .await
                        .expect("propose");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("client");
    }
    let elapsed = started.elapsed();
    println!(
        "{:<44} {:>9.0} appends/s ({} clients x {per_client})",
        "3 members, acknowledged append, 64 clients",
        (clients * per_client) as f64 / elapsed.as_secs_f64(),
        clients
    );
    failover(members, 20).await;
}

/// The time from stopping the leader (as a crash: nothing said) to the first append
/// acknowledged by the new one, proposed from a survivor in a loop, `kills` times; the
/// stopped member is restarted and caught up before the next round.
async fn failover(mut members: Vec<local::LocalMember>, kills: usize) {
    let mut samples = Vec::new();
    for round in 0..kills {
        let leader = members[0].node.leader().expect("a leader").0;
        let victim = members
            .iter()
            .position(|m| m.node.id() == leader)
            .expect("leader");
        let survivor = (victim + 1) % members.len();
        let started = Instant::now();
        members[victim].stop().await.expect("stop");
        loop {
            let node = members[survivor].node.clone();
            match tokio::time::timeout(Duration::from_secs(5), node.propose(command(round as u64)))
                .await
            {
                Ok(Ok(_)) => break,
                _ => tokio::time::sleep(Duration::from_millis(1)).await,
            }
        }
        samples.push(started.elapsed());
        members[victim].restart().await.expect("restart");
        let target = members[survivor].chain.len();
        while members[victim].chain.len() < target {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    report("failover: leader stopped -> first append acked", samples);
    for m in &members {
        let _ = m.node.shutdown().await;
    }
}
