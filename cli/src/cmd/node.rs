//! `weft init` and `weft status`.

use crate::args::{Cli, Command, NodeCommand};
use crate::ctx::{input, Ctx};
use anyhow::Result;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use weft_node::Layout;

pub fn init(ctx: &Ctx) -> Result<u8> {
    let started = std::time::Instant::now();
    let report = match weft_node::init::init(&ctx.dir) {
        Ok(report) => report,
        Err(e) => {
            let failed = Err(e.into());
            super::sop::record(ctx, super::sop::INIT, started.elapsed(), &failed);
            return failed;
        }
    };
    if !report.unchanged() {
        super::sop::record(
            ctx,
            super::sop::INIT,
            started.elapsed(),
            &Ok(crate::exit::OK),
        );
    }
    if ctx.json {
        ctx.print_json(&serde_json::json!({
            "root": report.root,
            "changed": !report.unchanged(),
            "created": report.created,
            "project": report.project,
            "chain_id": report.chain_id,
            "key_fingerprint": report.key_fingerprint,
        }));
    } else if report.unchanged() {
        say!(ctx;
            "already initialised: {} (nothing changed)",
            report.root.display()
        );
    } else {
        say!(ctx; "initialised weft node in {}", report.root.display());
        for item in &report.created {
            say!(ctx; "  created {item}");
        }
        say!(ctx;
            "  chain {}  key {}",
            report.chain_id,
            report.key_fingerprint
        );
        if !report.project.languages.is_empty() {
            say!(ctx; "  languages: {}", report.project.languages.join(", "));
        }
    }
    Ok(crate::exit::OK)
}

pub fn status(ctx: &Ctx) -> Result<u8> {
    let node = ctx.node()?;
    let chain = node.chain();
    let genesis = chain.genesis().ok_or(weft_kernel::ChainError::Empty)?;
    let (seq, hash) = chain.head().ok_or(weft_kernel::ChainError::Empty)?;
    let tree_root = node.tree().root()?.map(|n| n.hash.to_hex());
    let config = node.config();
    let key = node.key().ok();
    let value = serde_json::json!({
        "root": node.layout().root,
        "project": config.project.name,
        "chain_id": genesis.chain_id.to_hex(),
        "length": chain.len(),
        "head": { "seq": seq, "hash": hash.to_hex() },
        "merkle_root": chain.merkle_root().to_hex(),
        "tree_root": tree_root,
        "key_fingerprint": key.map(|k| k.fingerprint()),
        "public_key": hex::encode(genesis.public_key),
        "peer_id": weft_node::net::identity::peer_id(&genesis.public_key).map(|p| p.to_base58()),
        "daemon": ctx.daemon.is_some(),
        "config": {
            "languages": config.project.languages,
            "default_branch": config.project.default_branch,
            "threshold": config.governance.threshold,
            "environments": config.governance.environments.keys().collect::<Vec<_>>(),
            "rules": config.governance.rules.as_ref().map(|r| r.len()).unwrap_or(2),
            "peers": config.coordination.peers.len(),
        },
    });
    if ctx.json {
        ctx.print_json(&value);
    } else {
        say!(ctx; "project      {}", config.project.name);
        say!(ctx; "repository   {}", node.layout().root.display());
        say!(ctx;
            "chain        {} ({} events)",
            genesis.chain_id,
            chain.len()
        );
        if let Some(peer) = weft_node::net::identity::peer_id(&genesis.public_key) {
            say!(ctx; "peer id      {peer}");
        }
        say!(ctx; "head         {seq} {}", hash);
        say!(ctx; "merkle root  {}", chain.merkle_root());
        say!(ctx;
            "tree root    {}",
            tree_root.unwrap_or_else(|| "(none)".into())
        );
        say!(ctx;
            "key          {}",
            key.map(|k| k.fingerprint())
                .unwrap_or_else(|| "(missing: appends refused)".into())
        );
        say!(ctx;
            "governance   threshold {} · {} environment(s)",
            config.governance.threshold,
            config.governance.environments.len()
        );
    }
    Ok(crate::exit::OK)
}

/// Environment variable marking the daemon process `weft node start` spawns.
const DAEMON_CHILD_ENV: &str = "WEFT_DAEMON_CHILD";
/// How long `weft node start` and `stop` wait for the daemon.
const DAEMON_WAIT: Duration = Duration::from_secs(60);

/// Sets up logging for a daemon process: `.weftos/logs/node.log`, and standard error
/// too when a person started it in the foreground. False when this is no daemon.
pub fn init_daemon_logging(cli: &Cli) -> bool {
    use tracing_subscriber::prelude::*;
    let file = match &cli.command {
        Command::Node(NodeCommand::Start {
            foreground: true, ..
        }) => {
            let dir = cli.dir.clone().unwrap_or_else(|| PathBuf::from("."));
            let Some(layout) = Layout::discover(&dir) else {
                return false;
            };
            let logs = layout.logs();
            let _ = std::fs::create_dir_all(&logs);
            match std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(logs.join("node.log"))
            {
                Ok(file) => Some(file),
                Err(_) => return false,
            }
        }
        // A testnet node logs to standard error: the container's log.
        Command::Testnet(crate::args::TestnetCommand::Node { .. }) => None,
        _ => return false,
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("WEFT_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("warn,weft_node=info,weft_net=info")
    });
    let to_file = file.map(|file| {
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
    });
    let to_terminal = (std::env::var_os(DAEMON_CHILD_ENV).is_none())
        .then(|| tracing_subscriber::fmt::layer().with_writer(std::io::stderr));
    tracing_subscriber::registry()
        .with(filter)
        .with(to_file)
        .with(to_terminal)
        .init();
    true
}

/// `weft node start|stop|status`.
pub fn daemon(ctx: &Ctx, command: NodeCommand) -> Result<u8> {
    match command {
        NodeCommand::Start { listen, foreground } => start(ctx, &listen, foreground),
        NodeCommand::Stop => stop(ctx),
        NodeCommand::Status => daemon_status(ctx),
    }
}

fn start(ctx: &Ctx, listen: &[String], foreground: bool) -> Result<u8> {
    let mut addrs = Vec::new();
    for addr in listen {
        addrs.push(addr.parse::<weft_node::net::Multiaddr>().map_err(|e| {
            input(format!(
                "--listen {addr}: not a multiaddr ({e}); e.g. /ip4/0.0.0.0/tcp/4001"
            ))
        })?);
    }
    let layout = ctx.layout()?;
    if weft_node::daemon::client::connect(&layout.root).is_some() {
        return Err(input(format!(
            "a node daemon already runs for {} (`weft node status`)",
            layout.root.display()
        )));
    }
    if foreground {
        let options = weft_node::daemon::DaemonOptions { listen: addrs };
        weft_node::daemon::run(&layout.root, options, Arc::new(super::DaemonRunner))?;
        return Ok(crate::exit::OK);
    }
    let logs = layout.logs();
    std::fs::create_dir_all(&logs).map_err(|e| weft_node::NodeError::io(&logs, e))?;
    let out_file = logs.join("daemon.out");
    let out =
        std::fs::File::create(&out_file).map_err(|e| weft_node::NodeError::io(&out_file, e))?;
    let exe = std::env::current_exe().map_err(|e| weft_node::NodeError::io(&layout.root, e))?;
    let mut command = std::process::Command::new(exe);
    command
        .arg("-C")
        .arg(&layout.root)
        .args(["node", "start", "--foreground"])
        .env(DAEMON_CHILD_ENV, "1")
        .stdin(std::process::Stdio::null())
        .stdout(
            out.try_clone()
                .map_err(|e| weft_node::NodeError::io(&out_file, e))?,
        )
        .stderr(out);
    for addr in listen {
        command.arg("--listen").arg(addr);
    }
    use std::os::unix::process::CommandExt;
    // Its own process group: a terminal's Ctrl-C does not reach the daemon.
    command.process_group(0);
    let mut child = command
        .spawn()
        .map_err(|e| weft_node::NodeError::io(&layout.root, e))?;
    let deadline = std::time::Instant::now() + DAEMON_WAIT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(&out_file).unwrap_or_default();
            return Err(weft_node::NodeError::Input(format!(
                "the daemon exited ({status}) during start:\n{}",
                log.trim_end()
            ))
            .into());
        }
        let runtime = weft_node::identity::read_runtime(&layout.root);
        let ready = runtime.as_ref().is_some_and(|r| r.pid == child.id())
            && weft_node::daemon::client::connect(&layout.root).is_some();
        if ready {
            let runtime = runtime.expect("checked above");
            if ctx.json {
                ctx.print_json(&serde_json::json!({
                    "started": true,
                    "pid": runtime.pid,
                    "peer_id": runtime.peer_id,
                    "listen": runtime.listen,
                    "log": logs.join("node.log"),
                }));
            } else {
                say!(ctx; "node daemon started (pid {})", runtime.pid);
                say!(ctx; "  peer id  {}", runtime.peer_id);
                for addr in &runtime.listen {
                    say!(ctx; "  listen   {addr}");
                }
                say!(ctx; "  log      {}", logs.join("node.log").display());
            }
            return Ok(crate::exit::OK);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            return Err(weft_node::NodeError::Input(format!(
                "the daemon did not become ready within {}s; see {}",
                DAEMON_WAIT.as_secs(),
                out_file.display()
            ))
            .into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stop(ctx: &Ctx) -> Result<u8> {
    match &ctx.daemon {
        Some(daemon) => {
            daemon.stop();
            if ctx.json {
                ctx.print_json(&serde_json::json!({"stopping": true}));
            } else {
                say!(ctx; "node daemon stopping");
            }
        }
        None if ctx.json => {
            ctx.print_json(&serde_json::json!({"stopping": false, "running": false}))
        }
        None => say!(ctx; "no node daemon is running"),
    }
    Ok(crate::exit::OK)
}

/// After a forwarded `weft node stop`: waits until the daemon has released the store.
pub fn wait_for_stop(dir: &std::path::Path) -> Result<()> {
    if weft_node::daemon::wait_until_stopped(dir, DAEMON_WAIT) {
        Ok(())
    } else {
        Err(weft_node::NodeError::Input(format!(
            "the daemon did not stop within {}s",
            DAEMON_WAIT.as_secs()
        ))
        .into())
    }
}

fn daemon_status(ctx: &Ctx) -> Result<u8> {
    let Some(daemon) = &ctx.daemon else {
        if ctx.json {
            ctx.print_json(&serde_json::json!({"running": false}));
        } else {
            say!(ctx;
                "no node daemon is running (start one with `weft node start`)"
            );
        }
        return Ok(crate::exit::OK);
    };
    let status = daemon.status();
    let peers = daemon.peers();
    if ctx.json {
        let mut value = serde_json::to_value(&status)?;
        value["peer_list"] = serde_json::to_value(&peers)?;
        ctx.print_json(&value);
        return Ok(crate::exit::OK);
    }
    say!(ctx;
        "node daemon running (pid {})\n  peer id    {}",
        status.pid,
        status.peer_id
    );
    for addr in &status.listen {
        say!(ctx; "  listen     {addr}");
    }
    say!(ctx; "  peers      {} connected of {}", status.connected, status.peers);
    if let Some(calibration) = &status.calibration {
        say!(ctx; "  calibrated {}", crate::out::calibration_line(calibration));
    }
    for (reason, count) in &status.dropped {
        say!(ctx; "  dropped    {count} × {reason}");
    }
    Ok(crate::exit::OK)
}
