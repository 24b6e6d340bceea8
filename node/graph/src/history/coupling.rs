//! Co-change coupling over the stored changesets: code-maat's logical coupling degree and
//! thresholds, with Zimmermann et al.'s support and confidence for the rule
//! `file => partner`, ranked for change prediction by a weighted confidence.
//!
//! Considered changesets are the non-merge commits with 1..=`max_changeset_size` files
//! once [noise](super::is_noise) files (lockfiles, changelogs, generated files) are left
//! out; noise files are never partners. Merges are never mined, and a file keeps its id
//! across renames, so co-changes before a rename count for the new path.
//!
//! The ranking of a file's partners (its rules `file => partner`, ROSE's navigation
//! recommendations) weighs each considered changeset by
//!
//! - recency: `0.5^(age / recency_half_life)`, the age counted in considered changesets
//!   from the newest (coupling drifts as code is reorganised; off by default), and
//! - size, for the pair: `1 / √(n - 1)` in a changeset of `n` files (a two-file commit
//!   says more about its pair than a twenty-file one about each of its 190 pairs),
//!
//! and orders partners by the weighted shared revisions over the file's weighted
//! revisions (the weighted confidence). The reported counts, support and confidence stay
//! unweighted. docs/performance.md has the held-out evaluation these rules were chosen by.

use super::{is_noise, ratio, History, MiningConfig};
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::HashMap;

/// Two files that change together.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Coupling {
    /// The file the coupling is reported for.
    pub file: String,
    /// The file it changes with.
    pub partner: String,
    /// Considered changesets containing both.
    pub shared_revs: u32,
    /// Considered changesets containing `file`.
    pub file_revs: u32,
    /// Considered changesets containing `partner`.
    pub partner_revs: u32,
    /// code-maat's degree: `shared / mean(file_revs, partner_revs)` in percent, truncated to
    /// an integer as code-maat's `(int coupling)` does.
    pub degree: f64,
    /// `shared_revs` over all considered changesets.
    pub support: f64,
    /// `shared_revs / file_revs`: how often a change to `file` also changes `partner`.
    pub confidence: f64,
}

/// Revision counts over the changesets coupling considers.
struct CoChange {
    /// Considered changesets.
    total: u32,
    revs: HashMap<u32, Revs>,
    /// Keyed by (smaller id, larger id).
    shared: HashMap<(u32, u32), Revs>,
}

/// A count of changesets and the sum of their weights in the ranking.
#[derive(Default, Clone, Copy)]
struct Revs {
    count: u32,
    weight: f64,
}

impl Revs {
    fn add(&mut self, weight: f64) {
        self.count += 1;
        self.weight += weight;
    }
}

/// A coupling with the weighted confidence it is ranked by.
struct Ranked {
    coupling: Coupling,
    score: f64,
}

impl History {
    /// Partners of the file at `path` that pass `cfg`'s thresholds, most likely to change
    /// with it first: by weighted confidence (see the module documentation), then shared
    /// revisions, degree and partner path. Empty for a noise file.
    pub fn coupling(&self, path: &str, cfg: &MiningConfig) -> Vec<Coupling> {
        let Some(id) = self.live_id(path) else {
            return Vec::new();
        };
        let counts = self.co_change(cfg, Some(id));
        let mut out: Vec<Ranked> = counts
            .shared
            .iter()
            .filter_map(|(&(a, b), &shared)| {
                let partner = if a == id { b } else { a };
                self.pair(&counts, id, partner, shared, cfg)
            })
            .collect();
        out.sort_by(by_score);
        out.into_iter().map(|r| r.coupling).collect()
    }

    /// Every pair of files at HEAD that passes `cfg`'s thresholds, once, with `file` the
    /// path that sorts first; by degree (highest first) then paths.
    pub fn couplings(&self, cfg: &MiningConfig) -> Vec<Coupling> {
        let counts = self.co_change(cfg, None);
        let mut out: Vec<Coupling> = counts
            .shared
            .iter()
            .filter_map(|(&(a, b), &shared)| {
                let (pa, pb) = (&self.record(a)?.path, &self.record(b)?.path);
                let (file, partner) = if pa <= pb { (a, b) } else { (b, a) };
                self.pair(&counts, file, partner, shared, cfg)
                    .map(|r| r.coupling)
            })
            .collect();
        out.sort_by(by_degree);
        out
    }

    /// Counts revisions over the considered changesets; pairs only those containing `only`
    /// when given.
    fn co_change(&self, cfg: &MiningConfig, only: Option<u32>) -> CoChange {
        let mut counts = CoChange {
            total: 0,
            revs: HashMap::new(),
            shared: HashMap::new(),
        };
        let noise: Vec<bool> = self.files.iter().map(|f| is_noise(&f.path)).collect();
        let counted = |file: u32| !noise.get(file as usize).copied().unwrap_or(true);
        let considered: Vec<Vec<u32>> = self
            .changesets
            .iter()
            .map(|c| {
                c.files
                    .iter()
                    .map(|f| f.file)
                    .filter(|f| counted(*f))
                    .collect::<Vec<_>>()
            })
            // Oversized changesets were stored without files; a lower `cfg` limit trims more.
            .filter(|files| !files.is_empty() && files.len() <= cfg.max_changeset_size)
            .collect();
        let newest = considered.len();
        for (age, files) in considered.iter().rev().enumerate() {
            let weight = recency_weight(age, cfg.recency_half_life);
            // A pair from a commit of n files is one of n - 1 partners of each: weaker
            // evidence than a commit of two (Σ over the partners grows as √(n - 1)).
            let pair_weight = weight / ((files.len().max(2) - 1) as f64).sqrt();
            counts.total += 1;
            for (i, &a) in files.iter().enumerate() {
                counts.revs.entry(a).or_default().add(weight);
                for &b in &files[i + 1..] {
                    if only.is_none_or(|id| id == a || id == b) {
                        let key = (a.min(b), a.max(b));
                        counts.shared.entry(key).or_default().add(pair_weight);
                    }
                }
            }
        }
        debug_assert_eq!(counts.total as usize, newest);
        counts
    }

    /// The coupling `file => partner`, if both are at HEAD and it passes the thresholds.
    fn pair(
        &self,
        counts: &CoChange,
        file: u32,
        partner: u32,
        shared: Revs,
        cfg: &MiningConfig,
    ) -> Option<Ranked> {
        let (f, p) = (self.record(file)?, self.record(partner)?);
        if !f.live || !p.live {
            return None;
        }
        let file_revs = counts.revs.get(&file).copied().unwrap_or_default();
        let partner_revs = counts.revs.get(&partner).copied().unwrap_or_default();
        let revs_sum = f64::from(file_revs.count) + f64::from(partner_revs.count);
        // code-maat compares the exact ratio and the mean revisions (not each file's) with
        // the thresholds, then reports the degree truncated.
        let exact_degree = 200.0 * f64::from(shared.count) / revs_sum;
        let confidence = ratio(shared.count, file_revs.count);
        let passes = revs_sum / 2.0 >= f64::from(cfg.min_revs)
            && shared.count >= cfg.min_shared_revs
            && exact_degree >= cfg.min_coupling
            && confidence >= cfg.min_confidence;
        passes.then(|| Ranked {
            score: if file_revs.weight > 0.0 {
                shared.weight / file_revs.weight
            } else {
                0.0
            },
            coupling: Coupling {
                file: f.path.clone(),
                partner: p.path.clone(),
                shared_revs: shared.count,
                file_revs: file_revs.count,
                partner_revs: partner_revs.count,
                degree: exact_degree.trunc(),
                support: ratio(shared.count, counts.total),
                confidence,
            },
        })
    }
}

/// `0.5^(age / half_life)`; 1 for every age when `half_life` is 0.
fn recency_weight(age: usize, half_life: u32) -> f64 {
    if half_life == 0 {
        1.0
    } else {
        0.5f64.powf(age as f64 / f64::from(half_life))
    }
}

fn by_score(a: &Ranked, b: &Ranked) -> Ordering {
    b.score
        .total_cmp(&a.score)
        .then_with(|| b.coupling.shared_revs.cmp(&a.coupling.shared_revs))
        .then_with(|| by_degree(&a.coupling, &b.coupling))
}

fn by_degree(a: &Coupling, b: &Coupling) -> Ordering {
    b.degree
        .total_cmp(&a.degree)
        .then_with(|| a.file.cmp(&b.file))
        .then_with(|| a.partner.cmp(&b.partner))
}
