//! The context every command runs in (working directory, JSON output, the daemon when it
//! runs inside one) and the helpers commands share for bad input.

use crate::out::{Io, Output};
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use weft_node::daemon::Daemon;
use weft_node::{engine::OpenMode, Layout, Node, NodeError};

/// Shared context of a command.
pub struct Ctx {
    /// Where to look for the repository.
    pub dir: PathBuf,
    /// JSON output.
    pub json: bool,
    /// The daemon, when the command runs inside it for a client.
    pub daemon: Option<Arc<Daemon>>,
    /// Its standard streams: the process's, or the client's connection.
    pub io: Io,
}

impl Output for Ctx {
    fn io(&self) -> &Io {
        &self.io
    }
}

impl Ctx {
    /// Reports a file that failed its checks (`{"valid": false, "reason"}`, or
    /// `LABEL: reason`) and returns the exit code for it.
    pub fn invalid(&self, label: &str, reason: &dyn std::fmt::Display) -> u8 {
        if self.json {
            self.print_json(&serde_json::json!({"valid": false, "reason": reason.to_string()}));
        } else {
            say!(self; "{label}: {reason}");
        }
        crate::exit::FAILED
    }

    /// Prints a JSON value on the command's standard output.
    pub fn print_json(&self, value: &serde_json::Value) {
        Output::print_json(self, value);
    }
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

/// A bad-input error (exit 2).
pub fn input(message: impl Into<String>) -> anyhow::Error {
    NodeError::Input(message.into()).into()
}

/// Reads a user-named file, as bad input when it can't be read.
pub fn read_input_file(ctx: &Ctx, path: &Path) -> Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        ctx.io
            .with_stdin(|stdin| std::io::Read::read_to_end(stdin, &mut buf))
            .map_err(|e| input(format!("standard input: {e}")))?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|e| input(format!("{}: {e}", path.display())))
}

/// Parses JSON from a user-named source, as bad input on failure.
pub fn parse_json(bytes: &[u8], what: &str) -> Result<serde_json::Value> {
    serde_json::from_slice(bytes).map_err(|e| input(format!("{what}: not valid JSON: {e}")))
}
