//! `weft peers`, `weft peers add`, `weft peers trust`, `weft evidence verify`.

use crate::args::{EvidenceCommand, PeersArgs, PeersCommand};
use crate::ctx::{input, read_input_file, Ctx};
use crate::exit;
use anyhow::Result;
use std::path::Path;
use weft_node::config::{Address, ConfiguredPeerId, PeerConfig, WeaveConfig, CONFIG_FILE};
use weft_node::daemon::peers::{PeerBook, PeerStatus};
use weft_node::net::wire::Evidence;
use weft_node::NodeError;

pub fn run(ctx: &Ctx, args: PeersArgs) -> Result<u8> {
    match args.command {
        None => list(ctx),
        Some(PeersCommand::Add {
            name,
            addr,
            peer_id,
            path,
            member_addrs,
        }) => add(ctx, name, addr, peer_id, path.as_deref(), &member_addrs),
        Some(PeersCommand::Trust { name, open: _ }) => trust(ctx, name.as_deref()),
    }
}

/// Accepts a peer's key (or open trust): in the daemon when one runs, else in the pins
/// file the daemon reads when it starts.
fn trust(ctx: &Ctx, name: Option<&str>) -> Result<u8> {
    let key = match &ctx.daemon {
        Some(daemon) => daemon.confirm_trust(name)?,
        None => PeerBook::load(&*ctx.node()?, false)?.confirm(name)?,
    };
    let fingerprint = key.map(|k| weft_kernel::keys::fingerprint(&k));
    if ctx.json {
        ctx.print_json(&serde_json::json!({"peer": name, "open": name.is_none(), "key": key.map(hex::encode), "fingerprint": fingerprint}));
        return Ok(exit::OK);
    }
    match (name, fingerprint) {
        (None, _) => say!(ctx; "trust = \"open\" accepted: any signer is followed"),
        (Some(name), Some(fp)) => say!(ctx; "peer `{name}` is followed with key {fp}"),
        (Some(name), None) => {
            say!(ctx; "peer `{name}` is accepted; its key is pinned when it is first known")
        }
    }
    Ok(exit::OK)
}

fn list(ctx: &Ctx) -> Result<u8> {
    let (statuses, notices): (Vec<PeerStatus>, Vec<String>) = match &ctx.daemon {
        Some(daemon) => (daemon.peers(), daemon.peer_notices()),
        None => {
            let book = PeerBook::load(&*ctx.node()?, false)?;
            (book.statuses(), book.notices().to_vec())
        }
    };
    if ctx.json {
        ctx.print_json(&serde_json::json!({
            "daemon": ctx.daemon.is_some(),
            "peers": statuses,
            "notices": notices,
        }));
        return Ok(exit::OK);
    }
    for notice in &notices {
        say!(ctx; "note: {notice}");
    }
    if statuses.is_empty() {
        say!(ctx; "no peers: add one with `weft peers add NAME --path DIR | --addr MULTIADDR --peer-id ID`");
        return Ok(exit::OK);
    }
    say!(ctx;
        "{:<16} {:<14} {:<4} {:>8} {:>8} {:>6}  {:<34} FLAGS",
        "NAME",
        "PEER ID",
        "UP",
        "HEAD",
        "REPLICA",
        "LAG",
        "ADDRESS"
    );
    for p in &statuses {
        let peer_id = p.peer_id.as_deref().map_or("?".to_string(), |id| {
            format!("…{}", &id[id.len().saturating_sub(12)..])
        });
        say!(ctx;
            "{:<16} {:<14} {:<4} {:>8} {:>8} {:>6}  {:<34} {}",
            p.name,
            peer_id,
            if p.connected { "yes" } else { "no" },
            p.head
                .as_ref()
                .map_or("-".to_string(), |h| h.seq.to_string()),
            p.replica_length,
            p.lag,
            p.addr.as_deref().unwrap_or("-"),
            p.flags
                .iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>()
                .join(",")
        );
        if let Some(calibration) = &p.calibration {
            say!(ctx; "{:<16} calibrated: {}", "", crate::out::calibration_line(calibration));
        }
        if let Some(error) = &p.last_error {
            say!(ctx; "{:<16} last error: {error}", "");
        }
    }
    if ctx.daemon.is_none() {
        say!(ctx;
            "(no daemon running: connection state unknown; `weft node start` joins the mesh)"
        );
    }
    Ok(exit::OK)
}

fn add(
    ctx: &Ctx,
    name: String,
    addr: Option<String>,
    peer_id: Option<String>,
    path: Option<&Path>,
    member_addrs: &[String],
) -> Result<u8> {
    let (spec, file) = add_peer(ctx, name, addr, peer_id, path, member_addrs)?;
    if ctx.json {
        ctx.print_json(&serde_json::json!({"added": spec.name, "path": spec.path, "addr": spec.addr, "member_addrs": spec.addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>(), "peer_id": spec.peer_id}),
        );
    } else {
        say!(ctx; "added peer `{}` to {}", spec.name, file.display());
        if spec.path.is_none() && spec.peer_id.is_none() {
            say!(ctx; "it is dialled but not trusted: add --peer-id (from its `weft status`) to follow its chain");
        }
        if ctx.daemon.is_some() {
            say!(ctx; "the running daemon picks it up within seconds");
        }
    }
    Ok(exit::OK)
}

/// Adds a peer to `[coordination] peers` in weave.toml, checked before anything is
/// written; returns the entry and the file.
pub fn add_peer(
    ctx: &Ctx,
    name: String,
    addr: Option<String>,
    peer_id: Option<String>,
    path: Option<&Path>,
    member_addrs: &[String],
) -> Result<(PeerConfig, std::path::PathBuf)> {
    let addr = addr
        .map(|a| Address::parse(&a).map_err(|e| input(format!("--addr {e}"))))
        .transpose()?;
    let addrs = member_addrs
        .iter()
        .map(|a| Address::parse(a).map_err(|e| input(format!("--member-addr {e}"))))
        .collect::<Result<Vec<_>>>()?;
    let peer_id = peer_id
        .map(|id| ConfiguredPeerId::parse(&id).map_err(input))
        .transpose()?;
    let node = ctx.node()?;
    let root = &node.layout().root;
    let mut key = peer_id.and_then(|id| id.public_key());
    let path = match path {
        Some(p) => {
            let abs = ctx.dir.join(p);
            let identity = weft_node::identity::read_identity(&abs).map_err(input)?;
            key = Some(identity.public_key);
            if let Some(id) = &peer_id {
                if id.to_string() != identity.peer_id {
                    return Err(input(format!(
                        "--peer-id {id} does not match {}'s key ({})",
                        abs.display(),
                        identity.peer_id
                    )));
                }
            }
            let canonical = abs
                .canonicalize()
                .map_err(|e| input(format!("{}: {e}", abs.display())))?;
            if canonical == *root {
                return Err(input("a node cannot be its own peer"));
            }
            Some(canonical.to_string_lossy().into_owned())
        }
        None => None,
    };
    let spec = PeerConfig {
        name: name.clone(),
        path,
        addr,
        addrs,
        peer_id,
    };
    spec.check().map_err(input)?;
    let file = root.join(CONFIG_FILE);
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(NodeError::io(&file, e).into()),
    };
    let mut block = String::new();
    if !text.is_empty() && !text.ends_with('\n') {
        block.push('\n');
    }
    block.push_str("\n[[coordination.peers]]\n");
    block.push_str(&format!("name = {:?}\n", spec.name));
    for (key, value) in [
        ("path", spec.path.clone()),
        ("addr", spec.addr.as_ref().map(|a| a.to_string())),
        ("peer_id", spec.peer_id.map(|id| id.to_string())),
    ] {
        if let Some(value) = value {
            block.push_str(&format!("{key} = {}\n", toml_string(&value)));
        }
    }
    if !spec.addrs.is_empty() {
        let list: Vec<String> = spec
            .addrs
            .iter()
            .map(|a| toml_string(&a.to_string()))
            .collect();
        block.push_str(&format!("addrs = [{}]\n", list.join(", ")));
    }
    let updated = format!("{text}{block}");
    // The whole new file must load (a duplicate name, an inline `peers = [...]` that a
    // table cannot extend) before anything is written.
    WeaveConfig::parse(&updated, &file).map_err(|e| {
        input(format!(
            "adding peer `{name}` would make weave.toml invalid, so it was left unchanged: {e}"
        ))
    })?;
    weft_kernel::atomic::write_atomically(&file, updated.as_bytes())
        .map_err(|e| NodeError::io(&file, e))?;
    // The user named this peer on the command line: that is the confirmation a peer
    // that appears in weave.toml otherwise waits for.
    match &ctx.daemon {
        Some(daemon) => daemon.accept_peer(&spec.name, key)?,
        // Loading the book is the first use when the node never looked at its peers:
        // what weave.toml named before is pinned then, this peer just after.
        None => PeerBook::load(&node, false)?.accept(&spec.name, key)?,
    }
    Ok((spec, file))
}

/// A TOML basic string (JSON's escaping is a subset TOML accepts).
fn toml_string(value: &str) -> String {
    serde_json::Value::String(value.to_string()).to_string()
}

pub fn evidence(ctx: &Ctx, command: EvidenceCommand) -> Result<u8> {
    let EvidenceCommand::Verify { file } = command;
    let bytes = read_input_file(ctx, &file)?;
    match Evidence::decode_verified(&bytes) {
        Ok(found) => {
            let (a, b) = &found.heads;
            let peer_id = weft_node::net::identity::peer_id(&found.signer).map(|p| p.to_base58());
            if ctx.json {
                ctx.print_json(&serde_json::json!({
                    "valid": true,
                    "kind": found.kind,
                    "signer": hex::encode(found.signer),
                    "fingerprint": found.fingerprint,
                    "peer_id": peer_id,
                    "seq": found.seq,
                    "heads": [a.to_json(), b.to_json()],
                }));
            } else {
                say!(ctx;
                    "valid evidence ({}): key {} signed two histories at sequence {}",
                    found.kind,
                    found.fingerprint,
                    found.seq
                );
                if let Some(id) = peer_id {
                    say!(ctx; "  peer id  {id}");
                }
                say!(ctx;
                    "  head 1   seq {} event {} root {}",
                    a.seq,
                    a.head_hash,
                    a.merkle_root
                );
                say!(ctx;
                    "  head 2   seq {} event {} root {}",
                    b.seq,
                    b.head_hash,
                    b.merkle_root
                );
            }
            Ok(exit::OK)
        }
        Err(e) => Ok(ctx.invalid("NOT evidence", &e)),
    }
}
