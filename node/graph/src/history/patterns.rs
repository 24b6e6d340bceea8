//! Commit-message and timing patterns over the mined non-merge commits: conventional-commit
//! types, the share of fixes, breaking changes and bursts of activity.

use super::{History, MiningConfig};
use serde::Serialize;
use std::collections::BTreeMap;

/// The conventional-commit types counted on their own; any other type counts as "other".
const KNOWN_TYPES: [&str; 11] = [
    "feat", "fix", "docs", "refactor", "test", "chore", "perf", "build", "ci", "style", "revert",
];

/// What the commit messages and times of the mined commits show.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct CommitPatterns {
    /// Non-merge commits.
    pub total: u32,
    /// Commits per conventional-commit type (lowercased); unknown types and
    /// non-conventional subjects under "other". Only types that occur are present.
    pub by_type: BTreeMap<String, u32>,
    /// Share of `fix` commits in `total`.
    pub fix_ratio: f64,
    /// Runs of closely spaced commits, oldest first.
    pub bursts: Vec<Burst>,
    /// Commits marked breaking (`type!:` or a `BREAKING CHANGE:` footer).
    pub breaking: u32,
}

/// A maximal run of commits each within the burst window of the one before.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Burst {
    /// Time of the first commit, unix seconds.
    pub start: i64,
    /// Time of the last commit, unix seconds.
    pub end: i64,
    /// Commits in the run.
    pub commits: u32,
}

/// The header of a conventional commit: `type(scope)!: description`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConventionalSubject {
    /// The type, lowercased (the spec treats types case-insensitively).
    pub kind: String,
    /// The scope between parentheses, if any.
    pub scope: Option<String>,
    /// The header has `!` before the colon.
    pub breaking: bool,
}

impl ConventionalSubject {
    /// Parses a commit subject; `None` when it is not a conventional-commit header. Git's
    /// own `Revert "…"` subjects parse as type `revert`.
    pub fn parse(subject: &str) -> Option<Self> {
        if subject.starts_with("Revert \"") {
            return Some(Self {
                kind: "revert".to_owned(),
                scope: None,
                breaking: false,
            });
        }
        let kind_end =
            subject.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))?;
        let (kind, mut rest) = subject.split_at(kind_end);
        if kind.is_empty() {
            return None;
        }
        let mut scope = None;
        if let Some(after_paren) = rest.strip_prefix('(') {
            let close = after_paren.find(')')?;
            let inner = &after_paren[..close];
            if inner.is_empty() || inner.contains('(') {
                return None;
            }
            scope = Some(inner.to_owned());
            rest = &after_paren[close + 1..];
        }
        let breaking = rest.starts_with('!');
        let description = rest.strip_prefix('!').unwrap_or(rest).strip_prefix(": ")?;
        if description.trim().is_empty() {
            return None;
        }
        Some(Self {
            kind: kind.to_ascii_lowercase(),
            scope,
            breaking,
        })
    }
}

impl History {
    /// Commit-type counts, fix ratio, breaking changes and bursts of the mined commits.
    pub fn patterns(&self, cfg: &MiningConfig) -> CommitPatterns {
        let mut by_type: BTreeMap<String, u32> = BTreeMap::new();
        let mut breaking = 0;
        for changeset in &self.changesets {
            let parsed = ConventionalSubject::parse(&changeset.subject);
            let kind = parsed
                .as_ref()
                .map(|p| p.kind.as_str())
                .filter(|k| KNOWN_TYPES.contains(k))
                .unwrap_or("other");
            *by_type.entry(kind.to_owned()).or_default() += 1;
            if changeset.breaking_footer || parsed.is_some_and(|p| p.breaking) {
                breaking += 1;
            }
        }
        let total = u32::try_from(self.changesets.len()).unwrap_or(u32::MAX);
        CommitPatterns {
            total,
            fix_ratio: super::ratio(by_type.get("fix").copied().unwrap_or_default(), total),
            by_type,
            bursts: self.bursts(cfg),
            breaking,
        }
    }

    fn bursts(&self, cfg: &MiningConfig) -> Vec<Burst> {
        let mut times: Vec<i64> = self.changesets.iter().map(|c| c.time).collect();
        times.sort_unstable();
        times
            .chunk_by(|a, b| b - a <= cfg.burst_window_secs)
            .filter(|run| run.len() >= cfg.burst_min_commits)
            .filter_map(|run| {
                Some(Burst {
                    start: *run.first()?,
                    end: *run.last()?,
                    commits: u32::try_from(run.len()).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }
}
