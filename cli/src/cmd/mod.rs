//! One module per command group; each function takes parsed arguments, calls the node
//! engine, prints, and returns the exit code.

mod across;
mod assess;
mod chain;
mod coordinate;
mod gate;
mod graph;
pub mod node;
mod peers;
mod refs;
mod testnet;
mod tree;

use crate::args::{Cli, Command};
use crate::exit;
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use weft_node::daemon::Daemon;
use weft_node::{engine::OpenMode, ErrorClass, Layout, Node, NodeError};

/// Shared context of a command.
pub struct Ctx {
    /// Where to look for the repository.
    pub dir: PathBuf,
    /// JSON output.
    pub json: bool,
    /// The daemon, when the command runs inside it for a client.
    pub daemon: Option<Arc<Daemon>>,
}

impl Ctx {
    /// The layout of the node containing the working directory, without opening it.
    pub fn layout(&self) -> Result<Layout> {
        Ok(Layout::discover(&self.dir)
            .ok_or_else(|| NodeError::NotInitialised(self.dir.clone()))?)
    }

    /// Opens the node (checked), or shares the daemon's.
    pub fn node(&self) -> Result<Arc<Node>> {
        match &self.daemon {
            Some(daemon) => Ok(daemon.node().clone()),
            None => Ok(Arc::new(Node::open(&self.dir, OpenMode::Checked)?)),
        }
    }

    /// Opens the node in another mode. Inside the daemon the open node is shared,
    /// except for a restore, which needs the store to itself.
    pub fn node_with(&self, mode: OpenMode) -> Result<Arc<Node>> {
        match (&self.daemon, mode) {
            (Some(_), OpenMode::ForImport) => Err(self.needs_store_alone("import")),
            (Some(daemon), _) => Ok(daemon.node().clone()),
            (None, mode) => Ok(Arc::new(Node::open(&self.dir, mode)?)),
        }
    }

    /// Refuses a command that must not run while the daemon holds the store.
    pub fn exclusive(&self, what: &str) -> Result<()> {
        match self.daemon {
            Some(_) => Err(self.needs_store_alone(what)),
            None => Ok(()),
        }
    }

    fn needs_store_alone(&self, what: &str) -> anyhow::Error {
        input(format!(
            "{what} needs the store to itself and the node daemon is running: run `weft node stop` first"
        ))
    }
}

/// Whether a command may run in the daemon for a client. Commands that start or stop
/// the daemon, build throw-away repositories, read only files, or run until
/// interrupted run in the client.
pub fn runs_in_daemon(command: &Command) -> bool {
    use crate::args::{ChainCommand, EvidenceCommand, NodeCommand, TestnetCommand};
    !matches!(
        command,
        Command::Init
            | Command::Demo(_)
            | Command::Watch(_)
            | Command::Hooks(_)
            | Command::Embed(_)
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
        let streams = crate::out::Streams {
            out: stdout,
            err: stderr,
            input: stdin,
        };
        crate::out::redirected(streams, || {
            let cli = match crate::args::parse_for_client(&request.args, &request.cwd) {
                Ok(cli) => cli,
                Err(e) => {
                    complain!("{}", e.render());
                    return if e.use_stderr() {
                        exit::USAGE
                    } else {
                        exit::OK
                    };
                }
            };
            // The client has applied `-C` already: its working directory is the one.
            let ctx = Ctx {
                dir: request.cwd.clone(),
                json: cli.json,
                daemon: Some(daemon.clone()),
            };
            match dispatch(&ctx, cli.command) {
                Ok(code) => code,
                Err(err) => {
                    complain!("error: {}", crate::out::error_chain(&err));
                    exit_code(&err)
                }
            }
        })
    }
}

fn dispatch(ctx: &Ctx, command: Command) -> Result<u8> {
    match command {
        Command::Init => node::init(ctx),
        Command::Status => node::status(ctx),
        Command::Chain(c) => chain::run(ctx, c),
        Command::Tree(c) => tree::run(ctx, c),
        Command::Gate(c) => gate::run(ctx, c),
        Command::Witness(c) => refs::witness(ctx, c),
        Command::Lineage(c) => refs::lineage(ctx, c),
        Command::Demo(args) => crate::demo::run(ctx, args),
        Command::Symbols(args) => graph::symbols(ctx, args),
        Command::Deps => graph::deps(ctx),
        Command::History(args) => graph::history(ctx, args),
        Command::Cochange(args) => graph::cochange(ctx, args),
        Command::Search(args) => graph::search(ctx, args),
        Command::Embed(args) => graph::embed(ctx, args),
        Command::Assess(args) => assess::run(ctx, args),
        Command::Hooks(c) => assess::hooks(ctx, c),
        Command::Watch(args) => assess::watch(ctx, args),
        Command::Node(c) => node::daemon(ctx, c),
        Command::Peers(args) => peers::run(ctx, args),
        Command::Evidence(c) => peers::evidence(ctx, c),
        Command::Testnet(c) => testnet::run(ctx, c),
        Command::Coordinate(c) => coordinate::run(ctx, c),
    }
}

/// A bad-input error (exit 2).
pub fn input(message: impl Into<String>) -> anyhow::Error {
    NodeError::Input(message.into()).into()
}

/// Maps an error to its exit code.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(class) = weft_node::classify(cause) {
            return match class {
                ErrorClass::Verification => exit::FAILED,
                ErrorClass::Input => exit::USAGE,
                ErrorClass::Operational => exit::OPERATIONAL,
            };
        }
    }
    exit::OPERATIONAL
}

/// Reads a user-named file, as bad input when it can't be read.
pub fn read_input_file(path: &Path) -> Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        crate::out::with_stdin(|stdin| std::io::Read::read_to_end(stdin, &mut buf))
            .map_err(|e| input(format!("standard input: {e}")))?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|e| input(format!("{}: {e}", path.display())))
}

/// Parses JSON from a user-named source, as bad input on failure.
pub fn parse_json(bytes: &[u8], what: &str) -> Result<serde_json::Value> {
    serde_json::from_slice(bytes).map_err(|e| input(format!("{what}: not valid JSON: {e}")))
}
