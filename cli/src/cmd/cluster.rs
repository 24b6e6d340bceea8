//! `weft cluster`: form a cluster, join one, see it, leave it.

use crate::args::ClusterCommand;
use crate::ctx::{input, Ctx};
use crate::exit;
use anyhow::Result;

/// Runs a `weft cluster` command.
pub fn run(ctx: &Ctx, command: ClusterCommand) -> Result<u8> {
    match command {
        ClusterCommand::Init { name, advertise } => {
            init(ctx, name.as_deref(), advertise.as_deref())
        }
        ClusterCommand::Join {
            addr,
            peer_id,
            token,
            name,
            advertise,
        } => join(
            ctx,
            &addr,
            &peer_id,
            &token,
            name.as_deref(),
            advertise.as_deref(),
        ),
        ClusterCommand::Status => status(ctx),
        ClusterCommand::Leave => leave(ctx, None),
        ClusterCommand::Remove { name } => leave(ctx, Some(&name)),
    }
}

fn init(ctx: &Ctx, name: Option<&str>, advertise: Option<&str>) -> Result<u8> {
    if weft_node::daemon::client::connect(&ctx.dir).is_some() {
        return Err(input(
            "`weft cluster init` needs the store to itself: run `weft node stop` first, then `weft node start` after it",
        ));
    }
    let node = ctx.node()?;
    let formed = weft_node::cluster::form(&node, name, advertise)?;
    if ctx.json {
        ctx.print_json(&serde_json::to_value(&formed)?);
    } else {
        say!(ctx; "formed cluster {} with member `{}` (id {}); cluster.formed is event {}", formed.chain_id, formed.name, formed.id, formed.seq);
        say!(ctx; "start this member:   weft node start");
        say!(ctx; "then, on each other machine's fresh clone:");
        say!(ctx; "  weft cluster join <ADDR> --peer-id <PEER_ID> --token {}", formed.token);
        say!(ctx; "(`weft cluster status` here shows ADDR and PEER_ID; keep the token secret: it admits members)");
    }
    Ok(exit::OK)
}

fn join(
    ctx: &Ctx,
    addr: &str,
    peer_id: &str,
    token: &str,
    name: Option<&str>,
    advertise: Option<&str>,
) -> Result<u8> {
    let prepared =
        weft_node::cluster::prepare_join(&ctx.dir, addr, peer_id, token, name, advertise)?;
    if ctx.json {
        ctx.print_json(&serde_json::to_value(&prepared)?);
    } else {
        say!(ctx; "prepared member `{}` (id {}) of cluster {}", prepared.name, prepared.id, prepared.chain_id);
        for c in &prepared.created {
            say!(ctx; "  created {c}");
        }
        say!(ctx; "start it: weft node start   (it joins as a learner, catches up, and becomes a voter; `weft cluster status`)");
    }
    Ok(exit::OK)
}

fn status(ctx: &Ctx) -> Result<u8> {
    let Some(daemon) = &ctx.daemon else {
        let layout = ctx.layout()?;
        let membership = weft_node::membership::load(&layout)?;
        if ctx.json {
            ctx.print_json(&serde_json::json!({"running": false, "membership": membership}));
        } else {
            match membership {
                Some(m) => {
                    say!(ctx; "member `{}` (id {}) of cluster {}; its daemon is not running (`weft node start`)", m.name, m.id, m.chain_id)
                }
                None => say!(ctx; "this node is in no cluster (`weft cluster init` forms one)"),
            }
        }
        return Ok(exit::OK);
    };
    let Some(status) = daemon.cluster_status() else {
        // A question with an answer: the daemon runs, and this node is no member.
        if ctx.json {
            ctx.print_json(&serde_json::json!({"running": true, "membership": null}));
        } else {
            say!(ctx; "this node is in no cluster (`weft cluster init` forms one)");
        }
        return Ok(exit::OK);
    };
    if ctx.json {
        ctx.print_json(&serde_json::to_value(&status)?);
        return Ok(exit::OK);
    }
    let index = |i: Option<u64>| i.map_or("-".to_string(), |i| i.to_string());
    say!(ctx; "member {} is {} (term {}), leader {}", status.id, status.state, status.term, status.leader.map_or("unknown".into(), |l| l.to_string()));
    say!(ctx; "  log {}  committed {}  applied {}  chain {} events", index(status.last_log_index), index(status.committed), index(status.applied), status.chain_len);
    for m in &status.members {
        let lag = m.lag.map(|l| format!("  lag {l}")).unwrap_or_default();
        say!(ctx; "  {:<8} {:<20} {} {}/p2p/{}{lag}", m.role, m.name, m.id, m.addr, m.peer_id);
    }
    Ok(exit::OK)
}

fn leave(ctx: &Ctx, name: Option<&str>) -> Result<u8> {
    let Some(daemon) = &ctx.daemon else {
        return Err(input(
            "membership changes go through the cluster: start this member with `weft node start`",
        ));
    };
    let status = daemon
        .cluster_status()
        .ok_or_else(|| input("this node is in no cluster"))?;
    let target = match name {
        None => status.id,
        Some(name) => status
            .members
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.id)
            .ok_or_else(|| input(format!("no member named `{name}` (`weft cluster status`)")))?,
    };
    daemon
        .with_cluster(move |cluster| {
            Box::pin(async move { cluster.request_removal(target).await })
        })?
        .map_err(|e| input(e.to_string()))?;
    if ctx.json {
        ctx.print_json(&serde_json::json!({"removed": target}));
    } else {
        say!(ctx; "member {target} removed from the cluster (recorded on the chain)");
    }
    Ok(exit::OK)
}
