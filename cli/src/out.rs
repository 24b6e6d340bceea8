//! Printing: JSON for scripts, short lines for people, progress bars only on a terminal.

use indicatif::{ProgressBar, ProgressStyle};
use std::cell::RefCell;
use std::io::{self, BufRead, IsTerminal, Write};

/// Where a command's standard streams go: the process's own, or, for a command the
/// daemon runs for a client, that client's connection (set per thread).
pub struct Streams {
    /// Standard output.
    pub out: Box<dyn Write + Send>,
    /// Standard error.
    pub err: Box<dyn Write + Send>,
    /// Standard input.
    pub input: Box<dyn BufRead + Send>,
}

thread_local! {
    static REDIRECTED: RefCell<Option<Streams>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's standard streams replaced by `streams` (dropped, and so
/// flushed, before this returns).
pub fn redirected<R>(streams: Streams, f: impl FnOnce() -> R) -> R {
    REDIRECTED.with(|r| *r.borrow_mut() = Some(streams));
    let result = f();
    REDIRECTED.with(|r| r.borrow_mut().take());
    result
}

/// Whether this thread's streams are a client's (progress bars and terminals do not apply).
pub fn is_redirected() -> bool {
    REDIRECTED.with(|r| r.borrow().is_some())
}

/// The command's standard output.
pub struct Stdout;
/// The command's standard error.
pub struct Stderr;

/// Runs `f` on this thread's standard output (`err` false) or error.
fn on_stream<R>(err: bool, f: impl FnOnce(&mut dyn Write) -> io::Result<R>) -> io::Result<R> {
    REDIRECTED.with(|r| match (r.borrow_mut().as_mut(), err) {
        (Some(streams), false) => f(&mut streams.out),
        (Some(streams), true) => f(&mut streams.err),
        (None, false) => f(&mut io::stdout().lock()),
        (None, true) => f(&mut io::stderr().lock()),
    })
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        on_stream(false, |w| w.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        on_stream(false, |w| w.flush())
    }
}

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        on_stream(true, |w| w.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        on_stream(true, |w| w.flush())
    }
}

/// The command's standard output.
pub fn stdout() -> Stdout {
    Stdout
}

/// The command's standard error.
pub fn stderr() -> Stderr {
    Stderr
}

/// Runs `f` over the command's standard input (`f` may print meanwhile: the input is
/// taken out of the thread's streams while it runs).
pub fn with_stdin<R>(f: impl FnOnce(&mut dyn BufRead) -> R) -> R {
    let taken = REDIRECTED.with(|r| {
        r.borrow_mut()
            .as_mut()
            .map(|streams| std::mem::replace(&mut streams.input, Box::new(io::empty())))
    });
    match taken {
        Some(mut input) => {
            let result = f(&mut input);
            REDIRECTED.with(|r| {
                if let Some(streams) = r.borrow_mut().as_mut() {
                    streams.input = input;
                }
            });
            result
        }
        None => f(&mut io::stdin().lock()),
    }
}

/// `println!` to the command's standard output (a closed pipe is not an error).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!($crate::out::stdout(), $($arg)*);
    }};
}

/// `print!` to the command's standard output.
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!($crate::out::stdout(), $($arg)*);
    }};
}

/// `eprintln!` to the command's standard error.
macro_rules! complain {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!($crate::out::stderr(), $($arg)*);
    }};
}

/// Prints a JSON value on one line... no: pretty, since people read `--json` too.
pub fn json(value: &serde_json::Value) {
    let mut out = stdout();
    let _ = serde_json::to_writer_pretty(&mut out, value);
    let _ = writeln!(out);
}

/// Prints any serialisable value as pretty JSON through one buffered writer.
pub fn json_serialize(value: &impl serde::Serialize) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(stdout());
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()
}

/// Prints a JSON value as one line (JSON Lines streams).
pub fn json_line(value: &serde_json::Value) -> std::io::Result<()> {
    let mut out = stdout();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)
}

/// An error with its causes, one line.
pub fn error_chain(err: &anyhow::Error) -> String {
    format!("{err:#}")
}

/// A progress bar over `len` items on a terminal; hidden when stderr is piped or for JSON.
pub fn progress(len: u64, what: &str, quiet: bool) -> ProgressBar {
    if quiet || is_redirected() || !std::io::stderr().is_terminal() || len < 10_000 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} ({per_sec}, {eta})")
            .expect("valid template"),
    );
    bar.set_message(what.to_string());
    bar
}

/// First `n` characters of a hex hash, for people.
pub fn short(hex: &str) -> &str {
    &hex[..hex.len().min(16)]
}

/// A progress bar for a stage whose length is learnt as it runs; drawn only on a
/// terminal (indicatif hides it otherwise) and never for JSON output.
pub fn stage_bar(what: &str, quiet: bool) -> ProgressBar {
    if quiet || is_redirected() || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} {bar:40} {pos}/{len} ({eta})")
            .expect("valid template"),
    );
    bar.set_message(what.to_string());
    bar
}

/// Stage progress for the assessment pipeline: one bar, re-labelled per stage.
pub struct StageBars(pub ProgressBar);

impl weft_node::graph::assess::run::Stages for StageBars {
    fn stage(&self, name: &str, total: u64) {
        if self.0.message() != name {
            self.0.set_message(name.to_string());
            self.0.set_position(0);
        }
        self.0.set_length(total);
    }

    fn advance(&self, done: u64) {
        self.0.set_position(done);
    }
}

/// A symbol as `weft symbols` lists it: `path:start-end  pub kind qualified`.
pub fn symbol_line(path: &str, s: &weft_node::graph::facts::Symbol) -> String {
    let vis = if s.public { "pub" } else { "   " };
    format!(
        "{path}:{}-{}  {vis} {:<9} {}",
        s.start_line,
        s.end_line,
        s.kind.as_str(),
        s.qualified
    )
}
