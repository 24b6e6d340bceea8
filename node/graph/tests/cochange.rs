//! Co-change rules for change prediction (noise files, huge commits, renames, recency and
//! size weighting) and the held-out evaluation, against fixture repositories built with
//! git2; every expected number is computed by hand in the comments.

mod common;

use common::Fixture;
use std::path::Path;
use weft_graph::history::eval::{evaluate, Evaluation};
use weft_graph::history::{Coupling, History, MiningConfig};

const DAY: i64 = 86_400;

impl Fixture {
    fn append(&self, path: &str, line: &str) {
        let full = self.dir.path().join(path);
        let mut content = std::fs::read_to_string(&full).unwrap_or_default();
        content.push_str(line);
        content.push('\n');
        self.write(path, &content);
    }

    /// `git mv`.
    fn rename(&self, from: &str, to: &str) {
        let content = std::fs::read_to_string(self.dir.path().join(from)).expect("read");
        std::fs::remove_file(self.dir.path().join(from)).expect("rm");
        let mut index = self.repo.index().expect("index");
        index.remove_path(Path::new(from)).expect("remove");
        index.write().expect("write index");
        self.write(to, &content);
    }

    /// Appends a line to each file and commits them, a day after the previous commit.
    fn change(&mut self, files: &[&str]) {
        self.commits += 1;
        for file in files {
            self.append(file, &format!("line {}", self.commits));
        }
        self.commit();
    }

    fn commit(&mut self) {
        self.commit_at(self.commits * DAY, "chore: change");
    }

    fn mined(&self, cfg: &MiningConfig) -> History {
        let mut history = History::default();
        history.mine(&self.repo, cfg, &mut |_, _| {}).expect("mine");
        history
    }
}

/// Every pair counts; no recency weighting unless a test sets it.
fn all_pairs() -> MiningConfig {
    MiningConfig {
        min_revs: 0,
        min_shared_revs: 1,
        min_coupling: 0.0,
        recency_half_life: 0,
        ..MiningConfig::default()
    }
}

fn partners(history: &History, path: &str, cfg: &MiningConfig) -> Vec<String> {
    history
        .coupling(path, cfg)
        .into_iter()
        .map(|c| c.partner)
        .collect()
}

#[test]
fn co_changes_before_a_rename_count_for_the_new_path() {
    let mut fx = Fixture::new();
    fx.write(
        "b.rs",
        "fn one() {}\nfn two() {}\nfn three() {}\nfn four() {}\n",
    );
    fx.change(&["a.rs", "b.rs"]); // C1
    fx.change(&["a.rs", "b.rs"]); // C2
    fx.change(&["a.rs", "b.rs"]); // C3
    fx.rename("b.rs", "lib/c.rs"); // C4: only the move
    fx.commits += 1;
    fx.commit();
    fx.change(&["a.rs", "lib/c.rs"]); // C5

    let cfg = all_pairs();
    let history = fx.mined(&cfg);
    // Considered: C1–C5 = 5 (C4 has one file). a = C1 C2 C3 C5 = 4 revisions; c, with b's
    // history, C1–C5 = 5; shared C1 C2 C3 C5 = 4. Degree 200·4/9 = 88.9 → 88.
    assert_eq!(
        history.coupling("a.rs", &cfg),
        vec![Coupling {
            file: "a.rs".into(),
            partner: "lib/c.rs".into(),
            shared_revs: 4,
            file_revs: 4,
            partner_revs: 5,
            degree: 88.0,
            support: 4.0 / 5.0,
            confidence: 1.0,
        }]
    );
    assert!(history.coupling("b.rs", &cfg).is_empty());
}

#[test]
fn lockfiles_and_changelogs_are_never_partners_nor_counted_in_a_commit_size() {
    let mut fx = Fixture::new();
    fx.change(&["a.rs", "Cargo.lock", "CHANGELOG.md"]); // C1
    fx.change(&["a.rs", "Cargo.lock"]); // C2
    fx.change(&["a.rs", "Cargo.lock"]); // C3
                                        // C4: three code files and two noise files, at a limit of 3: still considered.
    fx.change(&["a.rs", "b.rs", "c.rs", "Cargo.lock", "CHANGELOG.md"]);
    let cfg = MiningConfig {
        max_changeset_size: 3,
        ..all_pairs()
    };
    let history = fx.mined(&cfg);
    // Considered C1–C4, noise left out: {a} {a} {a} {a b c}. a = 4 revisions, b and c 1 each.
    let a = history.coupling("a.rs", &cfg);
    assert_eq!(
        a.iter()
            .map(|c| (c.partner.as_str(), c.shared_revs, c.file_revs, c.support))
            .collect::<Vec<_>>(),
        vec![("b.rs", 1, 4, 0.25), ("c.rs", 1, 4, 0.25)]
    );
    assert!(history.coupling("Cargo.lock", &cfg).is_empty());
    assert!(history
        .couplings(&cfg)
        .iter()
        .all(|c| c.file != "Cargo.lock" && c.partner != "CHANGELOG.md"));
    // The lockfile keeps its churn.
    assert_eq!(history.file("Cargo.lock").expect("lockfile").commits, 4);
}

#[test]
fn a_commit_over_the_size_limit_is_no_coupling() {
    let mut fx = Fixture::new();
    fx.change(&["a.rs", "b.rs"]); // C1
    fx.change(&["a.rs", "b.rs", "c.rs", "d.rs"]); // C2: 4 files > 3
    let cfg = MiningConfig {
        max_changeset_size: 3,
        ..all_pairs()
    };
    let history = fx.mined(&cfg);
    // Only C1 is considered: a–b shared 1 of a's 1 revision; c and d have no partner.
    let a = history.coupling("a.rs", &cfg);
    assert_eq!(
        a.iter()
            .map(|c| (c.partner.as_str(), c.shared_revs, c.file_revs))
            .collect::<Vec<_>>(),
        vec![("b.rs", 1, 1)]
    );
    assert!(history.coupling("c.rs", &cfg).is_empty());
    assert_eq!(history.file("c.rs").expect("churn still counts").commits, 1);
}

#[test]
fn recent_co_changes_rank_first() {
    let mut fx = Fixture::new();
    fx.change(&["a.rs", "b.rs"]); // C1
    fx.change(&["a.rs", "b.rs"]); // C2
    fx.change(&["x.rs"]); // C3
    fx.change(&["a.rs", "c.rs"]); // C4, the newest
    let flat = all_pairs();
    let history = fx.mined(&flat);
    // Unweighted: a⇒b 2 of a's 3 revisions, a⇒c 1 of 3: b first.
    assert_eq!(partners(&history, "a.rs", &flat), vec!["b.rs", "c.rs"]);
    // Half-life of one changeset: ages C4 0, C3 1, C2 2, C1 3, weights 1, ½, ¼, ⅛.
    // a⇒b = (¼ + ⅛) / (1 + ¼ + ⅛) = 0.27 < a⇒c = 1 / 1.375 = 0.73: c first.
    let recent = MiningConfig {
        recency_half_life: 1,
        ..flat
    };
    let ranked = history.coupling("a.rs", &recent);
    assert_eq!(
        ranked
            .iter()
            .map(|c| c.partner.as_str())
            .collect::<Vec<_>>(),
        vec!["c.rs", "b.rs"]
    );
    // Reported figures stay unweighted.
    assert_eq!(
        ranked
            .iter()
            .map(|c| (c.shared_revs, c.confidence))
            .collect::<Vec<_>>(),
        vec![(1, 1.0 / 3.0), (2, 2.0 / 3.0)]
    );
}

#[test]
fn a_pair_from_a_small_commit_outranks_one_from_a_large_commit() {
    let mut fx = Fixture::new();
    fx.change(&["a.rs", "c.rs", "d.rs", "e.rs", "f.rs"]); // C1: 5 files
    fx.change(&["a.rs", "z.rs"]); // C2: 2 files
    let cfg = all_pairs();
    let history = fx.mined(&cfg);
    // Each partner shares 1 of a's 2 revisions, same degree (200·1/3 = 66); by path c.rs
    // would come first. Pair weights: 1/√4 = ½ in C1, 1/√1 = 1 in C2: z first.
    let ranked = partners(&history, "a.rs", &cfg);
    assert_eq!(ranked, vec!["z.rs", "c.rs", "d.rs", "e.rs", "f.rs"]);
}

/// 15 commits: C1–C12 alternate {a b Cargo.lock} and {x y}; C13 touches 5 files (over the
/// limit of 4); C14 {a b Cargo.lock}, C15 {x y}.
fn evaluation_fixture() -> Fixture {
    let mut fx = Fixture::new();
    for n in 1..=12 {
        if n % 2 == 1 {
            fx.change(&["a.rs", "b.rs", "Cargo.lock"]);
        } else {
            fx.change(&["x.rs", "y.rs"]);
        }
    }
    fx.change(&["a.rs", "b.rs", "x.rs", "y.rs", "z.rs"]);
    fx.change(&["a.rs", "b.rs", "Cargo.lock"]);
    fx.change(&["x.rs", "y.rs"]);
    fx
}

#[test]
fn evaluation_of_files_that_always_change_together_hits_every_query() {
    let fx = evaluation_fixture();
    let cfg = MiningConfig {
        max_changeset_size: 4,
        ..all_pairs()
    };
    let eval = evaluate(&fx.repo, &cfg, 0.8).expect("evaluate");
    // Split at round(15 · 0.8) = 12: C1–C12 mined. C13 is over the limit; C14 asks a and b
    // (the lockfile is noise), C15 x and y: 4 queries, each answered by its twin first.
    let head12 = {
        let mut walk = fx.repo.revwalk().expect("walk");
        walk.push_head().expect("head");
        walk.nth(3).expect("C12").expect("oid").to_string()
    };
    assert_eq!(
        eval,
        Evaluation {
            commits: 15,
            split_commit: head12,
            mined_commits: 12,
            test_commits: 3,
            query_commits: 2,
            queries: 4,
            covered: 4,
            hits: vec![4, 4, 4],
        }
    );
    assert_eq!(
        (eval.coverage(), eval.hit_rate(1), eval.hit_rate(3)),
        (1.0, 1.0, 1.0)
    );
    assert_eq!(eval.hit_rate_all(10), 1.0);
}

#[test]
fn evaluation_counts_queries_without_a_rule_as_uncovered() {
    let mut fx = Fixture::new();
    for _ in 0..4 {
        fx.change(&["a.rs", "b.rs"]);
    }
    // After the split (round(5 · 0.8) = 4): two files never seen before.
    fx.change(&["new1.rs", "new2.rs"]);
    let eval = evaluate(&fx.repo, &all_pairs(), 0.8).expect("evaluate");
    assert_eq!(
        (eval.queries, eval.covered, eval.hits.clone()),
        (2, 0, vec![0, 0, 0])
    );
    assert_eq!((eval.coverage(), eval.hit_rate(3)), (0.0, 0.0));
}

#[test]
fn evaluation_asks_for_a_file_renamed_after_the_split_by_its_mined_path() {
    let mut fx = Fixture::new();
    fx.write(
        "b.rs",
        "fn one() {}\nfn two() {}\nfn three() {}\nfn four() {}\n",
    );
    for _ in 0..6 {
        fx.change(&["a.rs", "b.rs"]); // C1–C6
    }
    fx.rename("b.rs", "src/c.rs"); // C7, after the split at round(8 · 0.8) = 6
    fx.commits += 1;
    fx.commit();
    fx.change(&["a.rs", "src/c.rs"]); // C8
    let eval = evaluate(&fx.repo, &all_pairs(), 0.8).expect("evaluate");
    // C7 has one file, no query. C8 asks a (answer b.rs, which src/c.rs was at the split)
    // and src/c.rs as b.rs (answer a.rs): both hit.
    assert_eq!(
        (
            eval.test_commits,
            eval.query_commits,
            eval.queries,
            eval.covered
        ),
        (2, 1, 2, 2)
    );
    assert_eq!(eval.hits, vec![2, 2, 2]);
}
