//! Durable file replacement: a reader, or a crash at any moment, sees the old content or
//! the new one, never half, and once the call returns the new content survives a power
//! cut. A sibling temporary file is written and synced, renamed over the target, and the
//! directory is synced so the rename itself is on disk.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The temporary sibling of `path` (`name.tmp`).
fn temporary(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Writes `bytes` to `path` atomically (see the module docs).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temporary(path);
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    sync_parent(path)
}

/// Syncs the directory holding `path`, making a rename or creation in it durable.
fn sync_parent(path: &Path) -> std::io::Result<()> {
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
    fn replaces_the_whole_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("state.json");
        std::fs::write(&file, b"old and longer").expect("write");
        write_atomically(&file, b"new").expect("replace");
        assert_eq!(std::fs::read(&file).expect("read"), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
    }
}
