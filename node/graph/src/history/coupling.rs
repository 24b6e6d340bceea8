//! Co-change coupling over the stored changesets: code-maat's logical coupling degree and
//! thresholds, with Zimmermann et al.'s support and confidence for the rule
//! `file => partner`.

use super::{ratio, History, MiningConfig};
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
    revs: HashMap<u32, u32>,
    /// Keyed by (smaller id, larger id).
    shared: HashMap<(u32, u32), u32>,
}

impl History {
    /// Partners of the file at `path` that pass `cfg`'s thresholds, by degree (highest first)
    /// then partner path.
    pub fn coupling(&self, path: &str, cfg: &MiningConfig) -> Vec<Coupling> {
        let Some(id) = self.live_id(path) else {
            return Vec::new();
        };
        let counts = self.co_change(cfg, Some(id));
        let mut out: Vec<Coupling> = counts
            .shared
            .iter()
            .filter_map(|(&(a, b), &shared)| {
                let partner = if a == id { b } else { a };
                self.pair(&counts, id, partner, shared, cfg)
            })
            .collect();
        out.sort_by(by_degree);
        out
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
            })
            .collect();
        out.sort_by(by_degree);
        out
    }

    /// Counts revisions over the changesets with 1..=`cfg.max_changeset_size` files; pairs
    /// only those containing `only` when given.
    fn co_change(&self, cfg: &MiningConfig, only: Option<u32>) -> CoChange {
        let mut counts = CoChange {
            total: 0,
            revs: HashMap::new(),
            shared: HashMap::new(),
        };
        let considered = self.changesets.iter().filter(|c| {
            // Oversized changesets were stored without files; a lower `cfg` limit trims more.
            !c.files.is_empty() && c.files.len() <= cfg.max_changeset_size
        });
        for changeset in considered {
            counts.total += 1;
            let files = &changeset.files;
            for (i, a) in files.iter().enumerate() {
                *counts.revs.entry(a.file).or_default() += 1;
                for b in &files[i + 1..] {
                    if only.is_none_or(|id| id == a.file || id == b.file) {
                        let key = (a.file.min(b.file), a.file.max(b.file));
                        *counts.shared.entry(key).or_default() += 1;
                    }
                }
            }
        }
        counts
    }

    /// The coupling `file => partner`, if both are at HEAD and it passes the thresholds.
    fn pair(
        &self,
        counts: &CoChange,
        file: u32,
        partner: u32,
        shared: u32,
        cfg: &MiningConfig,
    ) -> Option<Coupling> {
        let (f, p) = (self.record(file)?, self.record(partner)?);
        if !f.live || !p.live {
            return None;
        }
        let file_revs = counts.revs.get(&file).copied().unwrap_or_default();
        let partner_revs = counts.revs.get(&partner).copied().unwrap_or_default();
        let revs_sum = f64::from(file_revs) + f64::from(partner_revs);
        // code-maat compares the exact ratio and the mean revisions (not each file's) with
        // the thresholds, then reports the degree truncated.
        let exact_degree = 200.0 * f64::from(shared) / revs_sum;
        let passes = revs_sum / 2.0 >= f64::from(cfg.min_revs)
            && shared >= cfg.min_shared_revs
            && exact_degree >= cfg.min_coupling;
        passes.then(|| Coupling {
            file: f.path.clone(),
            partner: p.path.clone(),
            shared_revs: shared,
            file_revs,
            partner_revs,
            degree: exact_degree.trunc(),
            support: ratio(shared, counts.total),
            confidence: ratio(shared, file_revs),
        })
    }
}

fn by_degree(a: &Coupling, b: &Coupling) -> Ordering {
    b.degree
        .total_cmp(&a.degree)
        .then_with(|| a.file.cmp(&b.file))
        .then_with(|| a.partner.cmp(&b.partner))
}
