//! Held-out evaluation of co-change coupling as change prediction: Zimmermann et al.'s
//! *navigation* task ("Mining Version Histories to Guide Software Changes", ICSE 2004).
//!
//! The commits reachable from HEAD, in mining order (topological, oldest first), are split
//! at `train_share`: the history is mined up to the commit at that point (everything
//! reachable from it), and every later non-merge commit is a test transaction. Each of a
//! test commit's files is one query: [`History::coupling`] ranks that file's partners, and
//! the query is a hit at `k` when at least one of the first `k` partners is among the
//! commit's other files.
//!
//! What takes part, exactly:
//! - test commits: non-merge commits not reachable from the split commit, whose changed
//!   files, after dropping [noise](super::is_noise) files, number 2 to
//!   `max_changeset_size` (a lone file has nothing to predict, a larger commit is the kind
//!   of commit mining leaves out);
//! - paths: files renamed after the split are asked for, and expected, under their path
//!   at the split commit (the only path the mined history can know them by); files created
//!   after the split are still queries and expected partners (they can never be predicted);
//! - coverage: the share of queries with at least one predicted partner (ROSE's
//!   recommendations exist only where a rule does);
//! - hit rate at `k`: hits over covered queries, which is ROSE's "the topmost three
//!   suggestions contain a correct location" (64 % in the paper); hits over all queries
//!   are reported beside it.

use super::mine::{diff_entries, head_commit, PathChange};
use super::{is_noise, History, HistoryError, MiningConfig};
use git2::{Oid, Repository, Sort};
use serde::Serialize;
use std::collections::HashMap;

/// The cut-offs the hit rate is reported at.
pub const TOP_K: [usize; 3] = [1, 3, 10];

/// ROSE's figure for the navigation task: the top three recommendations contain a correct
/// file in 64 % of the queries it answers.
pub const ROSE_TOP3: f64 = 0.64;

/// Result of one [`evaluate`] run.
#[derive(Serialize, Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    /// Commits reachable from HEAD, merges included.
    pub commits: usize,
    /// The commit the history was mined up to.
    pub split_commit: String,
    /// Non-merge commits mined (the training part).
    pub mined_commits: usize,
    /// Non-merge commits after the split.
    pub test_commits: usize,
    /// Test commits that asked queries (2..=`max_changeset_size` files after noise).
    pub query_commits: usize,
    /// One per file of each query commit.
    pub queries: usize,
    /// Queries with at least one predicted partner.
    pub covered: usize,
    /// Hits at each of [`TOP_K`], in that order.
    pub hits: Vec<usize>,
}

impl Evaluation {
    /// Covered queries over all queries.
    pub fn coverage(&self) -> f64 {
        share(self.covered, self.queries)
    }

    /// Hits at `k` (one of [`TOP_K`]) over covered queries: ROSE's likelihood.
    pub fn hit_rate(&self, k: usize) -> f64 {
        share(self.hits_at(k), self.covered)
    }

    /// Hits at `k` over all queries.
    pub fn hit_rate_all(&self, k: usize) -> f64 {
        share(self.hits_at(k), self.queries)
    }

    fn hits_at(&self, k: usize) -> usize {
        TOP_K
            .iter()
            .position(|t| *t == k)
            .and_then(|i| self.hits.get(i).copied())
            .unwrap_or(0)
    }
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Mines the first `train_share` (0..=1) of the commits reachable from HEAD with `cfg`
/// (`max_commits` is ignored: the whole training part is mined) and predicts each later
/// commit's files from each of its files, as the module documentation describes.
pub fn evaluate(
    repo: &Repository,
    cfg: &MiningConfig,
    train_share: f64,
) -> Result<Evaluation, HistoryError> {
    let Some(head) = head_commit(repo)? else {
        return Ok(Evaluation {
            hits: vec![0; TOP_K.len()],
            ..Evaluation::default()
        });
    };
    let order = commits(repo, head, None)?;
    let cut =
        ((order.len() as f64 * train_share.clamp(0.0, 1.0)).round() as usize).clamp(1, order.len());
    let split = order[cut - 1];
    let mining = MiningConfig {
        max_commits: usize::MAX,
        ..cfg.clone()
    };
    let mut history = History::default();
    history.mine_at(repo, split, &mining, &mut |_, _| {})?;

    let mut eval = Evaluation {
        commits: order.len(),
        split_commit: split.to_string(),
        mined_commits: history.commit_count(),
        hits: vec![0; TOP_K.len()],
        ..Evaluation::default()
    };
    // Path now → path at the split commit, for files renamed since.
    let mut alias: HashMap<String, String> = HashMap::new();
    for oid in commits(repo, head, Some(split))? {
        let failed = |source| HistoryError::Commit {
            commit: oid.to_string(),
            source,
        };
        let commit = repo.find_commit(oid).map_err(failed)?;
        if commit.parent_count() > 1 {
            continue;
        }
        eval.test_commits += 1;
        let parent = match commit.parent_count() {
            0 => None,
            _ => Some(commit.parent(0).and_then(|p| p.tree()).map_err(failed)?),
        };
        let tree = commit.tree().map_err(failed)?;
        let mut entries = diff_entries(repo, parent.as_ref(), &tree).map_err(failed)?;
        entries.sort_by_key(|e| !matches!(e.change, PathChange::Renamed { .. }));
        let mut files: Vec<String> = Vec::new();
        for entry in entries {
            let (now, known) = match entry.change {
                PathChange::Renamed { from, to } => {
                    let known = alias.remove(&from).unwrap_or(from);
                    alias.insert(to.clone(), known.clone());
                    (to, known)
                }
                PathChange::Deleted(path) => {
                    let known = alias.remove(&path).unwrap_or_else(|| path.clone());
                    (path, known)
                }
                PathChange::Touched(path) => {
                    let known = alias.get(&path).cloned().unwrap_or_else(|| path.clone());
                    (path, known)
                }
            };
            if !is_noise(&now) && !files.contains(&known) {
                files.push(known);
            }
        }
        if files.len() < 2 || files.len() > cfg.max_changeset_size {
            continue;
        }
        eval.query_commits += 1;
        for file in &files {
            eval.queries += 1;
            let predicted = history.coupling(file, cfg);
            if predicted.is_empty() {
                continue;
            }
            eval.covered += 1;
            let first_hit = predicted
                .iter()
                .position(|c| c.partner != *file && files.contains(&c.partner));
            for (hits, k) in eval.hits.iter_mut().zip(TOP_K) {
                if first_hit.is_some_and(|i| i < k) {
                    *hits += 1;
                }
            }
        }
    }
    Ok(eval)
}

/// Commits reachable from `tip` and not from `hide`, oldest first, in mining order.
fn commits(repo: &Repository, tip: Oid, hide: Option<Oid>) -> Result<Vec<Oid>, HistoryError> {
    let mut walk = repo.revwalk().map_err(HistoryError::Walk)?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
        .map_err(HistoryError::Walk)?;
    walk.push(tip).map_err(HistoryError::Walk)?;
    if let Some(hide) = hide {
        walk.hide(hide).map_err(HistoryError::Walk)?;
    }
    let mut oids = walk
        .collect::<Result<Vec<_>, _>>()
        .map_err(HistoryError::Walk)?;
    oids.reverse();
    Ok(oids)
}
