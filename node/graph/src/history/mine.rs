//! Mining: walks the commits reachable from HEAD that are not mined yet, diffs each
//! non-merge commit against its first parent with rename detection, and folds the result
//! into the stored [`History`].

use super::{
    author_key, is_noise, AuthorTally, Changeset, FileChange, FileRecord, History, HistoryError,
    LastChange, MineOutcome, MiningConfig, FORMAT,
};
use git2::{
    Commit, Delta, DiffFindOptions, DiffOptions, ErrorCode, FileMode, ObjectType, Oid, Patch,
    Repository, Sort, Tree,
};
use std::collections::{HashMap, HashSet};

/// What one diff entry did to the file set.
pub(super) enum PathChange {
    Renamed {
        from: String,
        to: String,
    },
    Deleted(String),
    /// Added, modified or changed type.
    Touched(String),
}

/// One diff entry with its line counts.
pub(super) struct Entry {
    pub(super) change: PathChange,
    added: u32,
    removed: u32,
}

impl History {
    /// Mines the commits reachable from HEAD that earlier runs did not see, at most
    /// `cfg.max_commits` of them (the newest). Starts over when the last mined commit is no
    /// longer an ancestor of HEAD or `cfg.max_changeset_size` changed. `progress` gets
    /// (commits done, commits to do). On error the stored state is left unchanged.
    ///
    /// An empty repository (unborn HEAD) is not an error: it mines zero commits.
    pub fn mine(
        &mut self,
        repo: &Repository,
        cfg: &MiningConfig,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<MineOutcome, HistoryError> {
        let head = head_commit(repo)?;
        self.mine_to(repo, head, cfg, progress)
    }

    /// [`History::mine`] with `tip` in place of HEAD: mines the commits reachable from `tip`,
    /// and "live" means present in `tip`'s tree. The held-out evaluation mines an older
    /// commit this way; mining HEAD afterwards continues from there when `tip` is its
    /// ancestor.
    pub fn mine_at(
        &mut self,
        repo: &Repository,
        tip: Oid,
        cfg: &MiningConfig,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<MineOutcome, HistoryError> {
        self.mine_to(repo, Some(tip), cfg, progress)
    }

    fn mine_to(
        &mut self,
        repo: &Repository,
        head: Option<Oid>,
        cfg: &MiningConfig,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<MineOutcome, HistoryError> {
        let rebuilt = self.is_stale(repo, head, cfg)?;
        let mut next = if rebuilt || self.last_commit.is_none() {
            History {
                format: FORMAT,
                max_changeset_size: cfg.max_changeset_size,
                ..History::default()
            }
        } else {
            self.clone()
        };
        let Some(head) = head else {
            *self = next;
            return Ok(MineOutcome {
                new_commits: 0,
                rebuilt,
            });
        };
        let pending = next.pending(repo, head, cfg.max_commits)?;
        let total = pending.len() as u64;
        progress(0, total);
        for (done, oid) in (1..).zip(&pending) {
            next.mine_commit(repo, *oid)
                .map_err(|source| HistoryError::Commit {
                    commit: oid.to_string(),
                    source,
                })?;
            progress(done, total);
        }
        if !pending.is_empty() {
            next.mark_live(&head_paths(repo, head).map_err(HistoryError::HeadTree)?);
        }
        next.last_commit = Some(head.to_string());
        *self = next;
        Ok(MineOutcome {
            new_commits: pending.len(),
            rebuilt,
        })
    }

    /// Whether the stored state has to be discarded before mining up to `head`.
    fn is_stale(
        &self,
        repo: &Repository,
        head: Option<Oid>,
        cfg: &MiningConfig,
    ) -> Result<bool, HistoryError> {
        let Some(last) = &self.last_commit else {
            return Ok(false);
        };
        if self.format != FORMAT || self.max_changeset_size != cfg.max_changeset_size {
            return Ok(true);
        }
        let (Some(head), Ok(last)) = (head, Oid::from_str(last)) else {
            return Ok(true);
        };
        if head == last {
            return Ok(false);
        }
        match repo.find_commit(last) {
            Ok(_) => {}
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(true),
            Err(e) => return Err(HistoryError::Walk(e)),
        }
        repo.graph_descendant_of(head, last)
            .map(|descends| !descends)
            .map_err(HistoryError::Walk)
    }

    /// The commits to mine, oldest first, so renames apply in order.
    fn pending(
        &self,
        repo: &Repository,
        head: Oid,
        max_commits: usize,
    ) -> Result<Vec<Oid>, HistoryError> {
        let mut walk = repo.revwalk().map_err(HistoryError::Walk)?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
            .map_err(HistoryError::Walk)?;
        walk.push(head).map_err(HistoryError::Walk)?;
        if let Some(last) = self.last_commit.as_deref() {
            let last = Oid::from_str(last).map_err(HistoryError::Walk)?;
            walk.hide(last).map_err(HistoryError::Walk)?;
        }
        let mut oids = walk
            .take(max_commits)
            .collect::<Result<Vec<_>, _>>()
            .map_err(HistoryError::Walk)?;
        oids.reverse();
        Ok(oids)
    }

    fn mine_commit(&mut self, repo: &Repository, oid: Oid) -> Result<(), git2::Error> {
        let commit = repo.find_commit(oid)?;
        // Merges repeat their branches' changes; code-maat works on non-merge changesets.
        if commit.parent_count() > 1 {
            return Ok(());
        }
        let parent_tree = match commit.parent_count() {
            0 => None,
            _ => Some(commit.parent(0)?.tree()?),
        };
        let entries = diff_entries(repo, parent_tree.as_ref(), &commit.tree()?)?;
        self.apply(&commit, entries);
        Ok(())
    }

    /// Folds one non-merge commit's diff into the files and changesets.
    fn apply(&mut self, commit: &Commit<'_>, mut entries: Vec<Entry>) {
        // Renames first, so a path freed by a rename is not mistaken for the moved file;
        // deletions before additions, so a type change (delete + add of one path) keeps its id.
        entries.sort_by_key(|e| match e.change {
            PathChange::Renamed { .. } => 0,
            PathChange::Deleted(_) => 1,
            PathChange::Touched(_) => 2,
        });
        let mut changes: Vec<FileChange> = Vec::with_capacity(entries.len());
        // Vendoring commits touch thousands of files: find a file's change without a scan.
        let mut position: HashMap<u32, usize> = HashMap::with_capacity(entries.len());
        for entry in entries {
            let file = self.resolve(entry.change);
            match position.get(&file) {
                Some(&i) => {
                    let c = &mut changes[i];
                    c.added = c.added.saturating_add(entry.added);
                    c.removed = c.removed.saturating_add(entry.removed);
                }
                None => {
                    position.insert(file, changes.len());
                    changes.push(FileChange {
                        file,
                        added: entry.added,
                        removed: entry.removed,
                    });
                }
            }
        }

        let author = commit.author();
        let name = String::from_utf8_lossy(author.name_bytes()).into_owned();
        let email = String::from_utf8_lossy(author.email_bytes()).to_lowercase();
        let key = author_key(&name, &email);
        let last_change = LastChange {
            commit: commit.id().to_string(),
            time: commit.time().seconds(),
            author: name.clone(),
            email: email.clone(),
        };
        for change in &changes {
            let Some(record) = self.files.get_mut(change.file as usize) else {
                continue;
            };
            record.commits += 1;
            record.lines_added += u64::from(change.added);
            record.lines_removed += u64::from(change.removed);
            let tally = record.authors.entry(key.clone()).or_insert(AuthorTally {
                name: String::new(),
                email: email.clone(),
                commits: 0,
            });
            tally.commits += 1;
            tally.name.clone_from(&name);
            // Branches are walked topologically, so a later commit can be older.
            if record.commits == 1 || last_change.time >= record.last_change.time {
                record.last_change = last_change.clone();
            }
        }

        let size = u32::try_from(changes.len()).unwrap_or(u32::MAX);
        let coupled = changes
            .iter()
            .filter(|c| {
                self.files
                    .get(c.file as usize)
                    .is_some_and(|r| !is_noise(&r.path))
            })
            .count();
        if coupled > self.max_changeset_size {
            changes.clear();
        }
        let message = String::from_utf8_lossy(commit.message_bytes());
        self.changesets.push(Changeset {
            commit: last_change.commit,
            time: last_change.time,
            size,
            files: changes,
            subject: message.lines().next().unwrap_or_default().trim().to_owned(),
            breaking_footer: message
                .lines()
                .skip(1)
                .any(|l| l.starts_with("BREAKING CHANGE:") || l.starts_with("BREAKING-CHANGE:")),
        });
    }

    /// The file id a diff entry concerns, after applying the entry to the path index.
    fn resolve(&mut self, change: PathChange) -> u32 {
        match change {
            PathChange::Renamed { from, to } => {
                let Some(id) = self.paths.remove(&from) else {
                    // The source was never seen (outside the mined window, or moved on
                    // another branch already): treat the target as a plain change.
                    return self.touch(to);
                };
                if let Some(displaced) = self.paths.insert(to.clone(), id) {
                    if displaced != id {
                        self.set_live(displaced, false);
                    }
                }
                if let Some(record) = self.files.get_mut(id as usize) {
                    record.previous_paths.retain(|p| *p != to);
                    if !record.previous_paths.contains(&from) {
                        record.previous_paths.push(from);
                    }
                    record.path = to;
                    record.live = true;
                }
                id
            }
            PathChange::Deleted(path) => {
                let id = self.id_for(path);
                self.set_live(id, false);
                id
            }
            PathChange::Touched(path) => self.touch(path),
        }
    }

    fn touch(&mut self, path: String) -> u32 {
        let id = self.id_for(path);
        self.set_live(id, true);
        id
    }

    /// The id last seen at `path`; a file re-created where one was deleted continues its
    /// history, as a path-based tool would see it.
    fn id_for(&mut self, path: String) -> u32 {
        if let Some(id) = self.paths.get(&path) {
            return *id;
        }
        let id = u32::try_from(self.files.len()).unwrap_or(u32::MAX);
        self.paths.insert(path.clone(), id);
        self.files.push(FileRecord {
            path,
            previous_paths: Vec::new(),
            live: true,
            commits: 0,
            lines_added: 0,
            lines_removed: 0,
            authors: Default::default(),
            last_change: LastChange::default(),
        });
        id
    }

    fn set_live(&mut self, id: u32, live: bool) {
        if let Some(record) = self.files.get_mut(id as usize) {
            record.live = live;
        }
    }

    /// Replays of branches and skipped merges can leave the path index off from HEAD, so
    /// HEAD's tree decides which files exist.
    fn mark_live(&mut self, head_paths: &HashSet<String>) {
        for (id, record) in self.files.iter_mut().enumerate() {
            record.live = head_paths.contains(&record.path)
                && self.paths.get(&record.path).map(|i| *i as usize) == Some(id);
        }
    }
}

/// The commit HEAD points to; `None` for an unborn HEAD.
pub(super) fn head_commit(repo: &Repository) -> Result<Option<Oid>, HistoryError> {
    match repo.head() {
        Ok(head) => head
            .peel_to_commit()
            .map(|c| Some(c.id()))
            .map_err(HistoryError::Head),
        Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => Ok(None),
        Err(e) => Err(HistoryError::Head(e)),
    }
}

/// Diff entries of `new` against `old` (the empty tree for `None`), renames detected.
pub(super) fn diff_entries(
    repo: &Repository,
    old: Option<&Tree<'_>>,
    new: &Tree<'_>,
) -> Result<Vec<Entry>, git2::Error> {
    let mut opts = DiffOptions::new();
    // Line counts do not need context, and submodule pointers are not files.
    opts.context_lines(0).ignore_submodules(true);
    let mut diff = repo.diff_tree_to_tree(old, Some(new), Some(&mut opts))?;
    diff.find_similar(Some(DiffFindOptions::new().renames(true)))?;

    let mut entries = Vec::with_capacity(diff.deltas().len());
    for (idx, delta) in diff.deltas().enumerate() {
        let (old_file, new_file) = (delta.old_file(), delta.new_file());
        if old_file.mode() == FileMode::Commit || new_file.mode() == FileMode::Commit {
            continue;
        }
        let path = |file: git2::DiffFile<'_>| {
            String::from_utf8_lossy(file.path_bytes().unwrap_or_default()).into_owned()
        };
        let change = match delta.status() {
            Delta::Renamed => PathChange::Renamed {
                from: path(old_file),
                to: path(new_file),
            },
            Delta::Deleted => PathChange::Deleted(path(old_file)),
            _ => PathChange::Touched(path(new_file)),
        };
        // Binary patches have no lines: the commit counts, with 0 lines.
        let (added, removed) = match Patch::from_diff(&diff, idx)? {
            Some(patch) => {
                let (_, added, removed) = patch.line_stats()?;
                (added, removed)
            }
            None => (0, 0),
        };
        entries.push(Entry {
            change,
            added: u32::try_from(added).unwrap_or(u32::MAX),
            removed: u32::try_from(removed).unwrap_or(u32::MAX),
        });
    }
    Ok(entries)
}

/// Paths of the blobs (files and symlinks) in HEAD's tree.
fn head_paths(repo: &Repository, head: Oid) -> Result<HashSet<String>, git2::Error> {
    fn walk(
        repo: &Repository,
        tree: &Tree<'_>,
        prefix: &str,
        out: &mut HashSet<String>,
    ) -> Result<(), git2::Error> {
        for entry in tree.iter() {
            let path = format!("{prefix}{}", String::from_utf8_lossy(entry.name_bytes()));
            match entry.kind() {
                Some(ObjectType::Tree) => {
                    walk(repo, &repo.find_tree(entry.id())?, &format!("{path}/"), out)?;
                }
                Some(ObjectType::Blob) => {
                    out.insert(path);
                }
                _ => {}
            }
        }
        Ok(())
    }
    let mut out = HashSet::new();
    walk(repo, &repo.find_commit(head)?.tree()?, "", &mut out)?;
    Ok(out)
}
