//! Durable file replacement: a reader, or a crash at any moment, sees the old content or
//! the new one, never half, and once the call returns the new content survives a power
//! cut. A sibling temporary file is written and synced, renamed over the target, and the
//! directory is synced so the rename itself is on disk. Each write has a temporary file
//! of its own, so concurrent writers of one file never share or clobber one.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// `path` with `suffix` added to its whole file name (`backup.weftseg.partial`).
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// A temporary sibling of `path` no other write uses: `name.PID-N.tmp`.
fn temporary(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    with_suffix(path, &format!(".{}-{n}.tmp", std::process::id()))
}

/// Writes `bytes` to `path` atomically (see the module docs).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temporary(path);
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    sync_parent(path)
}

/// Creates `dir` (and missing parents) durably: each directory created is synced into
/// its parent, so files synced into it later cannot lose their directory to a power cut.
pub fn create_dir_durably(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir_durably(parent)?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => sync_parent(dir),
        // Another writer made it meanwhile: theirs to sync, and it is there.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Syncs the directory holding `path`, making a rename or creation in it durable.
pub fn sync_parent(path: &Path) -> std::io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::File::open(parent)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_are_created_durably_and_idempotently() {
        let dir = tempfile::tempdir().expect("tmp");
        let deep = dir.path().join("a/b/c");
        create_dir_durably(&deep).expect("create");
        assert!(deep.is_dir());
        create_dir_durably(&deep).expect("again");
        std::fs::write(dir.path().join("a/file"), b"x").expect("write");
        assert!(
            create_dir_durably(&dir.path().join("a/file")).is_err(),
            "a file is not a directory"
        );
    }

    #[test]
    fn concurrent_writers_of_one_file_each_succeed_and_one_wins_whole() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("node.json");
        let payload = |t: u8| vec![b'a' + t; 4096];
        std::thread::scope(|s| {
            for t in 0..4u8 {
                let file = &file;
                s.spawn(move || {
                    for _ in 0..100 {
                        write_atomically(file, &payload(t)).expect("every write succeeds");
                    }
                });
            }
        });
        let last = std::fs::read(&file).expect("read");
        assert!((0..4).any(|t| last == payload(t)), "a whole payload");
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
    }

    #[test]
    fn replaces_the_whole_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("state.json");
        std::fs::write(&file, b"old and longer").expect("write");
        write_atomically(&file, b"new").expect("replace");
        assert_eq!(std::fs::read(&file).expect("read"), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
    }
}
