//! Printing: JSON for scripts, short lines for people, progress bars only on a terminal.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};

/// Prints a JSON value on one line... no: pretty, since people read `--json` too.
pub fn json(value: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut out, value);
    let _ = writeln!(out);
}

/// Prints any serialisable value as pretty JSON through one buffered writer.
pub fn json_serialize(value: &impl serde::Serialize) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()
}

/// Prints a JSON value as one line (JSON Lines streams).
pub fn json_line(value: &serde_json::Value) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)
}

/// An error with its causes, one line.
pub fn error_chain(err: &anyhow::Error) -> String {
    format!("{err:#}")
}

/// A progress bar over `len` items on a terminal; hidden when stderr is piped or for JSON.
pub fn progress(len: u64, what: &str, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() || len < 10_000 {
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
    if quiet || !std::io::stderr().is_terminal() {
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

impl weft_node::assess::run::Stages for StageBars {
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
