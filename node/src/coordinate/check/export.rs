//! Writes a commit's tree into a directory: the tracked files as committed, with their
//! executable bits and symbolic links, submodules left out. No worktree is registered in
//! the repository, so there is nothing to prune and its tree is never touched.

use super::{interrupted, CheckError};
use git2::{ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};
use std::path::{Path, PathBuf};

/// Exports `commit` of `repo` into `dest` (created).
pub fn export_commit(repo: &Repository, commit: Oid, dest: &Path) -> Result<(), CheckError> {
    let git = |e: git2::Error| CheckError::Git {
        path: repo.path().to_path_buf(),
        message: e.message().to_string(),
    };
    let tree = repo
        .find_commit(commit)
        .and_then(|c| c.tree())
        .map_err(git)?;
    std::fs::create_dir_all(dest).map_err(|e| CheckError::io(dest, e))?;
    let mut failure: Option<CheckError> = None;
    tree.walk(TreeWalkMode::PreOrder, |parent, entry| {
        if interrupted() {
            failure = Some(CheckError::Interrupted);
            return TreeWalkResult::Abort;
        }
        let Some(name) = entry.name() else {
            return TreeWalkResult::Skip;
        };
        let path = dest.join(parent).join(name);
        let done = match entry.kind() {
            Some(ObjectType::Tree) => {
                std::fs::create_dir_all(&path).map_err(|e| CheckError::io(&path, e))
            }
            Some(ObjectType::Blob) => write_blob(repo, entry.id(), entry.filemode(), &path),
            // A submodule's commit: not part of this repository's files.
            _ => Ok(()),
        };
        match done {
            Ok(()) => TreeWalkResult::Ok,
            Err(e) => {
                failure = Some(e);
                TreeWalkResult::Abort
            }
        }
    })
    .map_err(|e| failure.take().unwrap_or_else(|| git(e)))?;
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn write_blob(repo: &Repository, id: Oid, mode: i32, path: &Path) -> Result<(), CheckError> {
    use std::os::unix::fs::PermissionsExt;
    let blob = repo.find_blob(id).map_err(|e| CheckError::Git {
        path: repo.path().to_path_buf(),
        message: e.message().to_string(),
    })?;
    if mode == 0o120000 {
        let target = String::from_utf8_lossy(blob.content()).into_owned();
        return std::os::unix::fs::symlink(target, path).map_err(|e| CheckError::io(path, e));
    }
    std::fs::write(path, blob.content()).map_err(|e| CheckError::io(path, e))?;
    if mode == 0o100755 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| CheckError::io(path, e))?;
    }
    Ok(())
}

/// The files of an exported tree, depth first, never descending into hidden directories
/// or those named in `skip` (build output, vendored code); symbolic links are not
/// followed.
pub fn files_under(root: &Path, skip: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if !name.starts_with('.') && !skip.contains(&name.as_str()) {
                    stack.push(entry.path());
                }
            } else {
                out.push(entry.path());
            }
        }
    }
    out
}
