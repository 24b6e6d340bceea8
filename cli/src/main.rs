//! `weft`: the command line. It parses, calls the node engine, and prints; exit codes
//! are documented in `docs/cli.md` (0 ok, 1 verification failed or denied, 2 bad usage
//! or input, 3 deferred, 4 operational failure).

mod args;
mod cmd;
mod demo;
mod out;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc keeps freed memory for reuse: parsing thousands of files with tree-sitter
/// otherwise spends a sixth of its time faulting in pages glibc just gave back.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes.
pub mod exit {
    /// Success (or a permit / warn).
    pub const OK: u8 = 0;
    /// Verification failed, or the gate denied.
    pub const FAILED: u8 = 1;
    /// Bad usage or input; nothing was changed.
    pub const USAGE: u8 = 2;
    /// The gate deferred the action to a human.
    pub const DEFERRED: u8 = 3;
    /// The environment failed (I/O, a locked store).
    pub const OPERATIONAL: u8 = 4;
}

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("WEFT_LOG"))
        .with_writer(std::io::stderr)
        .init();
    match cmd::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {}", out::error_chain(&err));
            ExitCode::from(cmd::exit_code(&err))
        }
    }
}
