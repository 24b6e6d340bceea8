//! TRIGGER: a file watcher (notify) that collects changes to source files, waits until
//! they settle (debounce), and hands each settled batch to the caller, which runs a
//! commit-scope assessment of exactly those files.

use crate::graph::lang::Language;
use notify::{RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, RecvTimeoutError};
use std::time::{Duration, Instant};

/// Watching failed.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// notify failed.
    #[error("watching {path}: {message}")]
    Notify {
        /// Directory.
        path: PathBuf,
        /// Message.
        message: String,
    },
}

/// Events buffered between the watcher thread and the loop; when full, the watcher
/// blocks rather than grow memory (a burst only delays the batch).
const QUEUE: usize = 1024;

/// Whether a changed path is one weft assesses: a source file outside tool state and
/// dependency directories, and not gitignored.
fn relevant(root: &Path, ignore: &ignore::gitignore::Gitignore, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    if rel.components().any(|c| {
        crate::graph::scan::SKIPPED_DIRS
            .iter()
            .any(|d| c.as_os_str() == *d)
    }) {
        return None;
    }
    Language::from_path(rel)?;
    if ignore.matched_path_or_any_parents(rel, false).is_ignore() {
        return None;
    }
    Some(rel.to_string_lossy().replace('\\', "/"))
}

/// Watches `root` and calls `on_batch` with each settled set of changed source files
/// (repository-relative). Stops after `max_batches` batches when given, or when
/// `on_batch` returns false.
pub fn watch(
    root: &Path,
    debounce: Duration,
    max_batches: Option<u64>,
    on_batch: &mut dyn FnMut(Vec<String>) -> bool,
) -> Result<(), WatchError> {
    let err = |e: notify::Error| WatchError::Notify {
        path: root.to_path_buf(),
        message: e.to_string(),
    };
    let (tx, rx) = sync_channel(QUEUE);
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            if !event.kind.is_access() {
                let _ = tx.send(event.paths);
            }
        }
    })
    .map_err(err)?;
    watcher.watch(root, RecursiveMode::Recursive).map_err(err)?;
    let (ignore, _) = ignore::gitignore::Gitignore::new(root.join(".gitignore"));
    let mut pending = BTreeSet::new();
    let mut last_change: Option<Instant> = None;
    let mut batches = 0u64;
    loop {
        let wait = match last_change {
            Some(t) => debounce.saturating_sub(t.elapsed()),
            None => Duration::from_secs(3600),
        };
        match rx.recv_timeout(wait) {
            Ok(paths) => {
                let before = pending.len();
                pending.extend(paths.iter().filter_map(|p| relevant(root, &ignore, p)));
                if pending.len() > before || last_change.is_some() {
                    last_change = Some(Instant::now());
                }
            }
            Err(RecvTimeoutError::Timeout) if !pending.is_empty() => {
                let batch: Vec<String> = std::mem::take(&mut pending).into_iter().collect();
                last_change = None;
                batches += 1;
                if !on_batch(batch) || max_batches.is_some_and(|m| batches >= m) {
                    return Ok(());
                }
            }
            Err(RecvTimeoutError::Timeout) => last_change = None,
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        }
    }
}
