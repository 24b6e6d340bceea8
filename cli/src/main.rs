//! `weft`: the command line. It parses, calls the node engine, and prints; exit codes
//! are documented in `docs/cli.md` (0 ok, 1 verification failed or denied, 2 bad usage
//! or input, 3 deferred, 4 operational failure).

#[macro_use]
mod out;
mod args;
mod cmd;
mod ctx;
mod exit;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc keeps freed memory for reuse: parsing thousands of files with tree-sitter
/// otherwise spends a sixth of its time faulting in pages glibc just gave back.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Gives tree-sitter's C allocations to mimalloc as well: with glibc, each parser
/// thread grows its own arena page by page (`mprotect` and fresh zeroed pages for
/// every file), a tenth of a cold scan.
#[allow(unsafe_code)] // the one unsafe call in weft: tree-sitter's C allocator hook
fn share_allocator_with_tree_sitter() {
    use libmimalloc_sys::{mi_calloc, mi_free, mi_malloc, mi_realloc};
    let allocator = tree_sitter::Allocator {
        malloc: mi_malloc,
        calloc: mi_calloc,
        realloc: mi_realloc,
        free: mi_free,
    };
    // SAFETY: the four functions are one allocator family, never return null for a
    // non-zero size (mimalloc aborts on out-of-memory as libc would fail), align like
    // malloc; this runs first in `main`, on the only thread, before any tree-sitter call.
    unsafe { tree_sitter::set_allocator(Some(allocator)) };
}

fn main() -> ExitCode {
    share_allocator_with_tree_sitter();
    let raw_args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
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
    if !cmd::node::init_daemon_logging(&cli) {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_env("WEFT_LOG"))
            .with_writer(std::io::stderr)
            .init();
    }
    match cmd::run(cli, &raw_args) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {}", out::error_chain(&err));
            ExitCode::from(exit::exit_code(&err))
        }
    }
}
