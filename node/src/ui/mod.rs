//! `weft ui`: the organisation seen in a local web page — a release's impact across
//! repositories, the mesh, the chain, the code's module graph. [`question`] is what the
//! JSON endpoints may be asked (each one read-only CLI command with `--json`, so an
//! endpoint returns exactly what the CLI prints); [`bundle`] the embedded page;
//! [`server`] the token-guarded HTTP server on loopback; [`export`] the same views as
//! static files.
//!
//! Who answers a command line is the caller's [`Answerer`]: the CLI runs it in-process,
//! or in the node's daemon when one runs, as any command it is typed.

pub mod bundle;
pub mod export;
pub mod question;
pub mod server;

pub use crate::daemon::client::Captured;

/// Most bytes one answer may print: more is refused, not buffered.
pub const MAX_ANSWER: usize = 64 << 20;

/// Runs one of weft's own command lines (from [`question::Question::args`]) and keeps
/// what it printed.
pub trait Answerer: Send + Sync + 'static {
    /// Runs `args` (without the program name) in the node's repository.
    fn answer(&self, args: &[String]) -> Captured;
}

/// The JSON an answer printed: one value, or (for JSON lines) an array of them.
pub fn answer_json(captured: &Captured, lines: bool) -> Result<serde_json::Value, String> {
    let text = std::str::from_utf8(&captured.stdout)
        .map_err(|e| format!("the answer is not UTF-8: {e}"))?;
    if lines {
        return text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(serde_json::from_str)
            .collect::<Result<Vec<serde_json::Value>, _>>()
            .map(serde_json::Value::Array)
            .map_err(|e| format!("the answer is not JSON lines: {e}"));
    }
    serde_json::from_str(text).map_err(|e| format!("the answer is not JSON: {e}"))
}

/// What a failed answer says: its standard error, without the `error: ` prefix.
pub fn answer_error(captured: &Captured) -> String {
    let text = String::from_utf8_lossy(&captured.stderr);
    let text = text.trim();
    let text = text.strip_prefix("error: ").unwrap_or(text);
    if text.is_empty() {
        format!("the command exited {} and said nothing", captured.code)
    } else {
        text.to_string()
    }
}
