//! SCOPE: which files an assessment looks at — the last commit, the staged changes, the
//! branch since it left the default branch (CI), everything since a revision, or all.

use git2::{Repository, Tree};
use std::collections::BTreeSet;

/// The scope asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeRequest {
    /// Files of the last commit.
    Commit,
    /// Staged changes (index against HEAD).
    Staged,
    /// merge-base(default branch, HEAD)..HEAD.
    Ci,
    /// Everything since a revision.
    Since(String),
    /// Every file.
    Full,
    /// Given files (the watcher's changed paths).
    Paths(Vec<String>),
}

impl ScopeRequest {
    /// Name written in reports.
    pub fn name(&self) -> &'static str {
        match self {
            ScopeRequest::Commit => "commit",
            ScopeRequest::Staged => "staged",
            ScopeRequest::Ci => "ci",
            ScopeRequest::Since(_) => "since",
            ScopeRequest::Full => "full",
            ScopeRequest::Paths(_) => "paths",
        }
    }
}

/// A resolved scope: changed paths and the revision they are compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedScope {
    /// None for the full scope (every file).
    pub changed: Option<BTreeSet<String>>,
    /// The base revision, for ranges.
    pub base: Option<String>,
}

/// Scope resolution failed.
#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    /// A revision did not resolve.
    #[error("{rev:?} is not a revision of this repository: {message}")]
    BadRevision {
        /// What was given.
        rev: String,
        /// libgit2's message.
        message: String,
    },
    /// No default branch could be found for the CI scope.
    #[error("no default branch found for --scope ci (tried {0}): set [project] default_branch in weave.toml or use --since REF")]
    NoDefaultBranch(String),
    /// The repository has no commit.
    #[error("the repository has no commit yet: commit something or use --scope full")]
    NoCommit,
    /// Git failed.
    #[error("git: {0}")]
    Git(String),
}

fn git(e: git2::Error) -> ScopeError {
    ScopeError::Git(e.message().to_string())
}

fn head_tree(repo: &Repository) -> Result<Tree<'_>, ScopeError> {
    let head = repo.head().map_err(|_| ScopeError::NoCommit)?;
    head.peel_to_tree().map_err(|_| ScopeError::NoCommit)
}

fn changed_paths(
    repo: &Repository,
    old: Option<&Tree<'_>>,
    new: Option<&Tree<'_>>,
    index: bool,
) -> Result<BTreeSet<String>, ScopeError> {
    let mut diff = if index {
        repo.diff_tree_to_index(old, None, None).map_err(git)?
    } else {
        repo.diff_tree_to_tree(old, new, None).map_err(git)?
    };
    let mut opts = git2::DiffFindOptions::new();
    opts.renames(true);
    diff.find_similar(Some(&mut opts)).map_err(git)?;
    let mut out = BTreeSet::new();
    for delta in diff.deltas() {
        if delta.status() == git2::Delta::Deleted {
            continue;
        }
        if let Some(p) = delta.new_file().path() {
            out.insert(p.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(out)
}

/// The tree of a revision.
pub fn tree_of<'r>(repo: &'r Repository, rev: &str) -> Result<Tree<'r>, ScopeError> {
    repo.revparse_single(rev)
        .and_then(|o| o.peel_to_tree())
        .map_err(|e| ScopeError::BadRevision {
            rev: rev.into(),
            message: e.message().to_string(),
        })
}

/// The default branch: `default_branch` if set, else origin's HEAD, else `main` or
/// `master` (local, then origin's).
fn default_branch(repo: &Repository, configured: &str) -> Result<git2::Oid, ScopeError> {
    let mut tried = Vec::new();
    let mut candidates: Vec<String> = Vec::new();
    if !configured.is_empty() {
        candidates.push(configured.to_string());
        candidates.push(format!("origin/{configured}"));
    }
    if let Ok(r) = repo.find_reference("refs/remotes/origin/HEAD") {
        if let Some(target) = r.symbolic_target() {
            candidates.push(target.to_string());
        }
    }
    for name in ["main", "master", "origin/main", "origin/master"] {
        candidates.push(name.to_string());
    }
    for name in candidates {
        match repo.revparse_single(&name).and_then(|o| o.peel_to_commit()) {
            Ok(c) => return Ok(c.id()),
            Err(_) => tried.push(name),
        }
    }
    Err(ScopeError::NoDefaultBranch(tried.join(", ")))
}

/// Resolves a scope request in `repo`.
pub fn resolve(
    repo: &Repository,
    request: &ScopeRequest,
    configured_default_branch: &str,
) -> Result<ResolvedScope, ScopeError> {
    match request {
        ScopeRequest::Full => Ok(ResolvedScope {
            changed: None,
            base: None,
        }),
        ScopeRequest::Paths(paths) => Ok(ResolvedScope {
            changed: Some(paths.iter().cloned().collect()),
            base: None,
        }),
        ScopeRequest::Staged => {
            let head = head_tree(repo).ok();
            Ok(ResolvedScope {
                changed: Some(changed_paths(repo, head.as_ref(), None, true)?),
                base: Some("HEAD".into()),
            })
        }
        ScopeRequest::Commit => last_commit(repo),
        ScopeRequest::Since(rev) => {
            let base = tree_of(repo, rev)?;
            let head = head_tree(repo)?;
            Ok(ResolvedScope {
                changed: Some(changed_paths(repo, Some(&base), Some(&head), false)?),
                base: Some(rev.clone()),
            })
        }
        ScopeRequest::Ci => {
            let head = repo
                .head()
                .and_then(|h| h.peel_to_commit())
                .map_err(|_| ScopeError::NoCommit)?;
            let default = default_branch(repo, configured_default_branch)?;
            let base = repo.merge_base(default, head.id()).map_err(git)?;
            // On the default branch itself the range is empty: CI on a push to main
            // assesses what that push's last commit changed.
            if base == head.id() {
                return last_commit(repo);
            }
            let base_tree = repo.find_commit(base).and_then(|c| c.tree()).map_err(git)?;
            let head_tree = head.tree().map_err(git)?;
            Ok(ResolvedScope {
                changed: Some(changed_paths(
                    repo,
                    Some(&base_tree),
                    Some(&head_tree),
                    false,
                )?),
                base: Some(base.to_string()),
            })
        }
    }
}

fn last_commit(repo: &Repository) -> Result<ResolvedScope, ScopeError> {
    let head = repo
        .head()
        .and_then(|h| h.peel_to_commit())
        .map_err(|_| ScopeError::NoCommit)?;
    let parent = head.parents().next();
    let parent_tree = parent.as_ref().map(|p| p.tree()).transpose().map_err(git)?;
    let tree = head.tree().map_err(git)?;
    Ok(ResolvedScope {
        changed: Some(changed_paths(
            repo,
            parent_tree.as_ref(),
            Some(&tree),
            false,
        )?),
        base: parent.map(|p| p.id().to_string()),
    })
}
