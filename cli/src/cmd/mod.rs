//! One module per command group; each function takes parsed arguments, calls the node
//! engine, prints, and returns the exit code.

mod assess;
mod chain;
mod gate;
mod graph;
mod node;
mod refs;
mod tree;

use crate::args::{Cli, Command};
use crate::exit;
use anyhow::Result;
use std::path::{Path, PathBuf};
use weft_node::{engine::OpenMode, ErrorClass, Node, NodeError};

/// Shared context of a command.
pub struct Ctx {
    /// Where to look for the repository.
    pub dir: PathBuf,
    /// JSON output.
    pub json: bool,
}

impl Ctx {
    /// Opens the node (checked).
    pub fn node(&self) -> Result<Node> {
        Ok(Node::open(&self.dir, OpenMode::Checked)?)
    }

    /// Opens the node in another mode.
    pub fn node_with(&self, mode: OpenMode) -> Result<Node> {
        Ok(Node::open(&self.dir, mode)?)
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<u8> {
    let dir = match cli.dir {
        Some(d) if !d.is_dir() => {
            return Err(input(format!("-C {}: no such directory", d.display())))
        }
        Some(d) => d,
        None => std::env::current_dir().map_err(|e| NodeError::io(Path::new("."), e))?,
    };
    let ctx = Ctx {
        dir,
        json: cli.json,
    };
    match cli.command {
        Command::Init => node::init(&ctx),
        Command::Status => node::status(&ctx),
        Command::Chain(c) => chain::run(&ctx, c),
        Command::Tree(c) => tree::run(&ctx, c),
        Command::Gate(c) => gate::run(&ctx, c),
        Command::Witness(c) => refs::witness(&ctx, c),
        Command::Lineage(c) => refs::lineage(&ctx, c),
        Command::Demo(args) => crate::demo::run(&ctx, args),
        Command::Symbols(args) => graph::symbols(&ctx, args),
        Command::Deps => graph::deps(&ctx),
        Command::History(args) => graph::history(&ctx, args),
        Command::Cochange(args) => graph::cochange(&ctx, args),
        Command::Search(args) => graph::search(&ctx, args),
        Command::Embed(args) => graph::embed(&ctx, args),
        Command::Assess(args) => assess::run(&ctx, args),
        Command::Hooks(c) => assess::hooks(&ctx, c),
        Command::Watch(args) => assess::watch(&ctx, args),
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
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
            .map_err(|e| input(format!("standard input: {e}")))?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|e| input(format!("{}: {e}", path.display())))
}

/// Parses JSON from a user-named source, as bad input on failure.
pub fn parse_json(bytes: &[u8], what: &str) -> Result<serde_json::Value> {
    serde_json::from_slice(bytes).map_err(|e| input(format!("{what}: not valid JSON: {e}")))
}
