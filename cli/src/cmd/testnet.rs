//! `weft testnet node|equivocate|flood`.

use super::DaemonRunner;
use crate::args::{TestnetClusterRole, TestnetCommand};
use crate::ctx::{input, Ctx};
use crate::{exit, out};
use anyhow::Result;
use std::sync::Arc;
use std::time::Duration;
use weft_node::testnet::{ClusterRole, TestnetNode};

/// How long a joining testnet node waits to be told whom to join.
const JOIN_WAIT: Duration = Duration::from_secs(3600);

pub fn run(ctx: &Ctx, command: TestnetCommand) -> Result<u8> {
    match command {
        TestnetCommand::Node {
            name,
            data,
            seed,
            organisation,
            listen,
            peers,
            cluster,
            advertise,
        } => {
            let mut parsed = Vec::new();
            for peer in &peers {
                let (peer_name, addr) = peer.split_once('=').ok_or_else(|| {
                    input(format!(
                        "--peer {peer}: use NAME=MULTIADDR, e.g. node2=/dns4/node2/tcp/4001"
                    ))
                })?;
                parsed.push((peer_name.to_string(), addr.to_string()));
            }
            let node = TestnetNode {
                name,
                data: ctx.dir.join(data),
                seed,
                organisation,
                listen,
                peers: parsed,
                cluster: cluster.map(|role| match role {
                    TestnetClusterRole::Found => ClusterRole::Found { advertise },
                    TestnetClusterRole::Join => ClusterRole::Join,
                }),
            };
            let root = node.prepare()?;
            if node.cluster == Some(ClusterRole::Join) {
                node.wait_for_join(JOIN_WAIT)?;
            }
            weft_node::daemon::run(&root, Default::default(), Arc::new(DaemonRunner))?;
            Ok(exit::OK)
        }
        TestnetCommand::Equivocate => {
            let daemon = running(ctx)?;
            let sent = daemon.equivocate()?;
            if ctx.json {
                ctx.print_json(&serde_json::to_value(&sent)?);
            } else {
                say!(ctx;
                    "announced two heads at sequence {}: {} and {}",
                    sent.seq,
                    out::short(&sent.honest),
                    out::short(&sent.forged)
                );
            }
            Ok(exit::OK)
        }
        TestnetCommand::CrashMesh => {
            running(ctx)?.crash_mesh()?;
            say!(ctx; "told the mesh's task to panic: the daemon stops and logs why");
            Ok(exit::OK)
        }
        TestnetCommand::Flood { count, seconds } => {
            let daemon = running(ctx)?;
            let sent = daemon.flood(count, Duration::from_secs(seconds))?;
            if ctx.json {
                ctx.print_json(&serde_json::json!({ "sent": sent }));
            } else {
                say!(ctx; "published {sent} undecodable messages");
            }
            Ok(exit::OK)
        }
    }
}

fn running(ctx: &Ctx) -> Result<&Arc<weft_node::daemon::Daemon>> {
    ctx.daemon
        .as_ref()
        .ok_or_else(|| input("this needs the node daemon running: `weft node start`"))
}
