//! Printing: JSON for scripts, short lines for people, progress bars only on a terminal.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::{self, BufRead, IsTerminal, Write};
use std::sync::Mutex;

/// A client's standard streams, for a command the daemon runs for it.
pub struct Streams {
    /// Standard output.
    pub out: Box<dyn Write + Send>,
    /// Standard error.
    pub err: Box<dyn Write + Send>,
    /// Standard input.
    pub input: Box<dyn BufRead + Send>,
}

/// Where a command's standard streams go: the process's own, or a client's connection.
/// Each command's context carries one, so nothing about a command lives in a thread.
pub struct Io {
    client: Option<Mutex<Streams>>,
}

impl Io {
    /// The process's own streams.
    pub fn process() -> Io {
        Io { client: None }
    }

    /// A client's streams.
    pub fn client(streams: Streams) -> Io {
        Io {
            client: Some(Mutex::new(streams)),
        }
    }

    /// Whether the streams are a client's (progress bars and terminals do not apply).
    pub fn is_client(&self) -> bool {
        self.client.is_some()
    }

    /// Runs `f` on standard output (`err` false) or error.
    fn on_stream<R>(
        &self,
        err: bool,
        f: impl FnOnce(&mut dyn Write) -> io::Result<R>,
    ) -> io::Result<R> {
        match &self.client {
            Some(streams) => {
                let mut streams = streams
                    .lock()
                    .map_err(|_| io::Error::other("the client's streams are unavailable"))?;
                if err {
                    f(&mut streams.err)
                } else {
                    f(&mut streams.out)
                }
            }
            None if err => f(&mut io::stderr().lock()),
            None => f(&mut io::stdout().lock()),
        }
    }

    /// Runs `f` over standard input.
    pub fn with_stdin<R>(&self, f: impl FnOnce(&mut dyn BufRead) -> R) -> R {
        match &self.client {
            Some(streams) => {
                // Taken out while `f` runs, so that `f` may print meanwhile.
                let taken = streams
                    .lock()
                    .map(|mut s| std::mem::replace(&mut s.input, Box::new(io::empty())));
                let Ok(mut input) = taken else {
                    return f(&mut io::empty());
                };
                let result = f(&mut input);
                if let Ok(mut s) = streams.lock() {
                    s.input = input;
                }
                result
            }
            None => f(&mut io::stdin().lock()),
        }
    }
}

/// What commands print through: a command's context, or its streams themselves.
pub trait Output {
    /// The streams.
    fn io(&self) -> &Io;

    /// Standard output.
    fn stdout(&self) -> Stdout<'_> {
        Stdout(self.io())
    }

    /// Standard error.
    fn stderr(&self) -> Stderr<'_> {
        Stderr(self.io())
    }

    /// Prints a JSON value, pretty, since people read `--json` too.
    fn print_json(&self, value: &serde_json::Value) {
        let mut out = self.stdout();
        let _ = serde_json::to_writer_pretty(&mut out, value);
        let _ = writeln!(out);
    }
}

impl Output for Io {
    fn io(&self) -> &Io {
        self
    }
}

/// The command's standard output.
pub struct Stdout<'a>(&'a Io);
/// The command's standard error.
pub struct Stderr<'a>(&'a Io);

impl Write for Stdout<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.on_stream(false, |w| w.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.on_stream(false, |w| w.flush())
    }
}

impl Write for Stderr<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.on_stream(true, |w| w.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.on_stream(true, |w| w.flush())
    }
}

/// `println!` to the command's standard output (a closed pipe is not an error).
macro_rules! say {
    ($out:expr) => {{
        use std::io::Write as _;
        let _ = writeln!($crate::out::Output::stdout($out));
    }};
    ($out:expr; $($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!($crate::out::Output::stdout($out), $($arg)*);
    }};
}

/// `print!` to the command's standard output.
macro_rules! say_raw {
    ($out:expr; $($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!($crate::out::Output::stdout($out), $($arg)*);
    }};
}

/// `eprintln!` to the command's standard error.
macro_rules! complain {
    ($out:expr) => {{
        use std::io::Write as _;
        let _ = writeln!($crate::out::Output::stderr($out));
    }};
    ($out:expr; $($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!($crate::out::Output::stderr($out), $($arg)*);
    }};
}

/// Prints any serialisable value as pretty JSON through one buffered writer.
pub fn json_serialize(
    to: &(impl Output + ?Sized),
    value: &impl serde::Serialize,
) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(to.stdout());
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()
}

/// Prints a JSON value as one line (JSON Lines streams).
pub fn json_line(to: &(impl Output + ?Sized), value: &serde_json::Value) -> std::io::Result<()> {
    let mut out = to.stdout();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)
}

/// An error with its causes, one line.
pub fn error_chain(err: &anyhow::Error) -> String {
    format!("{err:#}")
}

/// A progress bar over `len` items on a terminal; hidden when stderr is piped, for a
/// client of the daemon, or for JSON.
pub fn progress(to: &(impl Output + ?Sized), len: u64, what: &str, quiet: bool) -> ProgressBar {
    if quiet || to.io().is_client() || !std::io::stderr().is_terminal() || len < 10_000 {
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
/// terminal (indicatif hides it otherwise), never for a client of the daemon or JSON.
pub fn stage_bar(to: &(impl Output + ?Sized), what: &str, quiet: bool) -> ProgressBar {
    if quiet || to.io().is_client() || !std::io::stderr().is_terminal() {
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

/// A spinner with a message for a step of unknown length (a build check); drawn only on
/// a terminal, never for a client of the daemon or JSON.
pub fn spinner(to: &(impl Output + ?Sized), quiet: bool) -> ProgressBar {
    if quiet || to.io().is_client() || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
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

/// A start-up calibration in one line; a figure not measured shows as `-`.
pub fn calibration_line(c: &weft_node::net::wire::Calibration) -> String {
    let or_dash = |figure: Option<u64>, show: &dyn Fn(u64) -> String| {
        figure.map_or_else(|| "-".to_string(), show)
    };
    format!(
        "embed {}, search {}, verify {}",
        or_dash(c.embed_per_s, &|n| format!("{n}/s")),
        or_dash(c.search_us, &|us| format!("{:.1} ms", us as f64 / 1000.0)),
        or_dash(c.verify_per_s, &|n| format!("{n} events/s")),
    )
}
