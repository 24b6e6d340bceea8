//! A recorded history of concurrent appends and linearizable reads on a three-member
//! cluster (in one process: real stores, real libp2p on loopback), with the leader shut
//! down in the middle, checked for linearizability (Wing & Gong / Lowe, in
//! `weft_tests::linearizability`). An append whose client gave up is an unknown outcome:
//! it may or may not have happened, and if it did, at any time after it was invoked.

use std::sync::Arc;
use std::time::Duration;
use weft_consensus::local;
use weft_consensus::{Command, Draft, Reply};
use weft_tests::linearizability::{check, LogInput, LogOutput, LogRecorder};

fn append(value: u64) -> Command {
    let payload = weft_kernel::cbor::map([("v", ciborium::value::Value::Integer(value.into()))]);
    Command::Append(vec![Draft::new("lin", "lin.put", payload).expect("cbor")])
}

/// The values of the `lin.put` events from `base` on, in chain order.
fn values(chain: &weft_kernel::Chain, base: u64) -> Vec<u64> {
    chain
        .events(base)
        .filter_map(|e| e.ok())
        .filter(|e| e.event.kind == "lin.put")
        .filter_map(|e| weft_kernel::cbor::read::uint(&e.event.payload, "v"))
        .collect()
}

#[test]
fn concurrent_appends_and_reads_through_a_leader_loss_are_linearizable() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let members = Arc::new(local::cluster(3).await.expect("cluster"));
        // Nothing but this history's appends is added from here on.
        let base = members[0].chain.len();
        let recorder = Arc::new(LogRecorder::new());
        let leader = members[0].node.leader().expect("a leader").0;
        let mut clients = Vec::new();
        // Bounded: 6 clients of 40 operations each.
        for client in 0..6u64 {
            let (members, recorder) = (members.clone(), recorder.clone());
            clients.push(tokio::spawn(async move {
                let member = &members[(client % 3) as usize];
                for i in 0..40u64 {
                    if i % 4 == 3 {
                        let id = recorder.invoke(client, LogInput::Read);
                        match member.node.read_barrier().await {
                            Ok(()) => {
                                recorder.ok(id, LogOutput::Values(values(&member.chain, base)))
                            }
                            // A failed read changed nothing; this client's member is gone.
                            Err(_) => {
                                recorder.unknown(id);
                                break;
                            }
                        }
                        continue;
                    }
                    let value = client * 1000 + i;
                    let id = recorder.invoke(client, LogInput::Append(value));
                    match member.node.propose(append(value)).await {
                        Ok(Reply::Applied(events)) => {
                            recorder.ok(id, LogOutput::Seq(events[0].seq - base));
                        }
                        Ok(Reply::Refused(why)) => panic!("refused: {why}"),
                        // Its member is gone: the append may or may not have happened.
                        Err(_) => {
                            recorder.unknown(id);
                            break;
                        }
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
        let victim = members
            .iter()
            .find(|m| m.node.id() == leader)
            .expect("leader");
        victim.node.shutdown().await.expect("shutdown");
        for client in clients {
            client.await.expect("client");
        }
        let history = Arc::try_unwrap(recorder)
            .ok()
            .expect("sole owner")
            .into_history();
        assert!(
            history.len() >= 150,
            "{} operations recorded",
            history.len()
        );
        if let Err(e) = check(&history) {
            panic!("not linearizable: {e}");
        }
        for m in members.iter().filter(|m| m.node.id() != leader) {
            let _ = m.node.shutdown().await;
        }
    });
}
