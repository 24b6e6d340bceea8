//! One module per command group; each function takes parsed arguments, calls the node
//! engine, prints, and returns the exit code.

mod assess;
mod chain;
mod cluster;
mod coordinate;
mod demo;
mod gate;
mod graph;
pub mod node;
mod peer_query;
mod peers;
mod provenance;
mod sop;
mod testnet;
mod tree;
mod ui;

use crate::args::{Cli, Command};
use crate::ctx::{input, Ctx};
use crate::exit::{self, exit_code};
use crate::out::{Io, Streams};
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use weft_node::daemon::Daemon;
use weft_node::NodeError;

/// Whether a command may run in the daemon for a client. Commands that start or stop
/// the daemon, build throw-away repositories, read only files, or run until
/// interrupted run in the client.
pub fn runs_in_daemon(command: &Command) -> bool {
    use crate::args::{ChainCommand, ClusterCommand, EvidenceCommand, NodeCommand, TestnetCommand};
    !matches!(
        command,
        Command::Init
            | Command::Cluster(ClusterCommand::Init { .. } | ClusterCommand::Join { .. })
            | Command::Demo(_)
            | Command::Watch(_)
            | Command::Hooks(_)
            | Command::Embed(_)
            | Command::Ui(_)
            | Command::Node(NodeCommand::Start { .. })
            | Command::Testnet(TestnetCommand::Node { .. })
            | Command::Evidence(EvidenceCommand::Verify { .. })
            | Command::Chain(ChainCommand::VerifyProof { .. } | ChainCommand::VerifyFile { .. })
    )
}

/// Whether the command reads standard input (so a client forwards it).
pub fn reads_stdin(args: &[String]) -> bool {
    args.iter().any(|a| a == "-" || a == "--stdin-lines")
}

/// Runs a parsed command line, in the daemon when one runs for this repository and the
/// command belongs there.
pub fn run(cli: Cli, args: &[String]) -> Result<u8> {
    let dir = resolve_dir(cli.dir.as_deref())?;
    if runs_in_daemon(&cli.command) {
        if let Some(stream) = weft_node::daemon::client::connect(&dir) {
            let request = weft_node::daemon::control::Request {
                args: args.to_vec(),
                cwd: dir.clone(),
            };
            let code = weft_node::daemon::client::forward(stream, &request, reads_stdin(args))
                .map_err(|e| NodeError::io(&dir, e))?;
            if code == exit::OK
                && matches!(cli.command, Command::Node(crate::args::NodeCommand::Stop))
            {
                node::wait_for_stop(&dir)?;
            }
            return Ok(code);
        }
    }
    let ctx = Ctx {
        dir,
        json: cli.json,
        daemon: None,
        io: Io::process(),
    };
    dispatch(&ctx, cli.command)
}

/// The working directory: `-C DIR` changes into DIR first (as git does), so every
/// relative path on the command line is taken from there.
fn resolve_dir(dir: Option<&Path>) -> Result<PathBuf> {
    if let Some(d) = dir {
        if !d.is_dir() {
            return Err(input(format!("-C {}: no such directory", d.display())));
        }
        std::env::set_current_dir(d).map_err(|e| input(format!("-C {}: {e}", d.display())))?;
    }
    Ok(std::env::current_dir().map_err(|e| NodeError::io(Path::new("."), e))?)
}

/// Runs client command lines inside the daemon.
pub struct DaemonRunner;

impl weft_node::daemon::CommandRunner for DaemonRunner {
    fn run(
        &self,
        daemon: &Arc<Daemon>,
        request: weft_node::daemon::control::Request,
        stdin: Box<dyn std::io::BufRead + Send>,
        stdout: Box<dyn std::io::Write + Send>,
        stderr: Box<dyn std::io::Write + Send>,
    ) -> u8 {
        let streams = Streams {
            out: stdout,
            err: stderr,
            input: stdin,
        };
        run_on_streams(Some(daemon.clone()), &request, streams)
    }
}

/// Runs a client's command line on its streams, inside `daemon` or (None) in this
/// process; the client has applied `-C` already: its working directory is the one.
pub fn run_on_streams(
    daemon: Option<Arc<Daemon>>,
    request: &weft_node::daemon::control::Request,
    streams: Streams,
) -> u8 {
    let io = Io::client(streams);
    let cli = match crate::args::parse_for_client(&request.args, &request.cwd) {
        Ok(cli) => cli,
        Err(e) => {
            complain!(&io; "{}", e.render());
            return if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
        }
    };
    let ctx = Ctx {
        dir: request.cwd.clone(),
        json: cli.json,
        daemon,
        io,
    };
    match dispatch(&ctx, cli.command) {
        Ok(code) => code,
        Err(err) => {
            complain!(&ctx; "error: {}", crate::out::error_chain(&err));
            exit_code(&err)
        }
    }
    // Dropping the context drops (and so flushes) the client's streams.
}

/// Runs `command`; an SOP operation's run is recorded on the chain once it ends.
fn dispatch(ctx: &Ctx, command: Command) -> Result<u8> {
    let Some(operation) = sop::operation(&command) else {
        return run_command(ctx, command);
    };
    let started = std::time::Instant::now();
    let result = run_command(ctx, command);
    sop::record(ctx, operation, started.elapsed(), &result);
    result
}

fn run_command(ctx: &Ctx, command: Command) -> Result<u8> {
    match command {
        Command::Init => node::init(ctx),
        Command::Status => node::status(ctx),
        Command::Chain(c) => chain::run(ctx, c),
        Command::Tree(c) => tree::run(ctx, c),
        Command::Gate(c) => gate::run(ctx, c),
        Command::Witness(c) => provenance::witness(ctx, c),
        Command::Lineage(c) => provenance::lineage(ctx, c),
        Command::Demo(args) => demo::run(ctx, args),
        Command::Symbols(args) => graph::symbols(ctx, args),
        Command::Deps => graph::deps(ctx),
        Command::Modules => graph::modules(ctx),
        Command::History(args) => graph::history(ctx, args),
        Command::Cochange(args) => graph::cochange(ctx, args),
        Command::Search(args) => graph::search(ctx, args),
        Command::Embed(args) => graph::embed(ctx, args),
        Command::Assess(args) => assess::dispatch(ctx, args),
        Command::Hooks(c) => assess::hooks(ctx, c),
        Command::Watch(args) => assess::watch(ctx, args),
        Command::Node(c) => node::daemon(ctx, c),
        Command::Cluster(c) => cluster::run(ctx, c),
        Command::Peers(args) => peers::run(ctx, args),
        Command::Evidence(c) => peers::evidence(ctx, c),
        Command::Testnet(c) => testnet::run(ctx, c),
        Command::Coordinate(c) => coordinate::run(ctx, c),
        Command::Stats(args) => sop::stats(ctx, args),
        Command::Ui(args) => ui::run(ctx, args),
    }
}
