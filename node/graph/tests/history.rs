//! History mining against fixture repositories built with git2, with fixed signatures and
//! times so every number below is exact.

use git2::{Oid, Repository, ResetType, Signature, Time};
use std::path::Path;
use tempfile::TempDir;
use weft_graph::history::{
    AuthorShare, Burst, ConventionalSubject, Coupling, History, LastChange, MineOutcome,
    MiningConfig,
};

const ALICE: (&str, &str) = ("Alice", "alice@example.org");
const BOB: (&str, &str) = ("Bob", "bob@example.org");
const DAY: i64 = 86_400;

/// A repository with a work tree in a temporary directory.
struct Fixture {
    dir: TempDir,
    repo: Repository,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = Repository::init(dir.path()).expect("git init");
        Self { dir, repo }
    }

    fn write(&self, path: &str, content: impl AsRef<[u8]>) {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(&full, content).expect("write");
        let mut index = self.repo.index().expect("index");
        index.add_path(Path::new(path)).expect("add");
        index.write().expect("write index");
    }

    /// Appends one line to `path` (creating it).
    fn append(&self, path: &str, line: &str) {
        let full = self.dir.path().join(path);
        let mut content = std::fs::read_to_string(&full).unwrap_or_default();
        content.push_str(line);
        content.push('\n');
        self.write(path, content);
    }

    fn remove(&self, path: &str) {
        std::fs::remove_file(self.dir.path().join(path)).expect("rm");
        let mut index = self.repo.index().expect("index");
        index.remove_path(Path::new(path)).expect("remove");
        index.write().expect("write index");
    }

    /// `git mv`: the same content under a new path.
    fn rename(&self, from: &str, to: &str) {
        let content = std::fs::read(self.dir.path().join(from)).expect("read");
        self.remove(from);
        self.write(to, content);
    }

    fn head(&self) -> Option<Oid> {
        self.repo.head().ok().and_then(|h| h.target())
    }

    /// Commits the index on top of HEAD.
    fn commit(&self, author: (&str, &str), time: i64, message: &str) -> Oid {
        let parents: Vec<Oid> = self.head().into_iter().collect();
        self.commit_with(author, time, message, &parents, Some("HEAD"))
    }

    fn commit_with(
        &self,
        (name, email): (&str, &str),
        time: i64,
        message: &str,
        parents: &[Oid],
        update_ref: Option<&str>,
    ) -> Oid {
        let sig = Signature::new(name, email, &Time::new(time, 0)).expect("signature");
        let tree_id = self
            .repo
            .index()
            .expect("index")
            .write_tree()
            .expect("write tree");
        let tree = self.repo.find_tree(tree_id).expect("tree");
        let parents: Vec<_> = parents
            .iter()
            .map(|p| self.repo.find_commit(*p).expect("parent"))
            .collect();
        let parents: Vec<_> = parents.iter().collect();
        self.repo
            .commit(update_ref, &sig, &sig, message, &tree, &parents)
            .expect("commit")
    }

    fn mine(&self, history: &mut History, cfg: &MiningConfig) -> MineOutcome {
        history.mine(&self.repo, cfg, &mut |_, _| {}).expect("mine")
    }

    fn mined(&self, cfg: &MiningConfig) -> History {
        let mut history = History::default();
        self.mine(&mut history, cfg);
        history
    }
}

#[allow(clippy::too_many_arguments)]
fn coupling(
    file: &str,
    partner: &str,
    shared_revs: u32,
    file_revs: u32,
    partner_revs: u32,
    degree: f64,
    support: f64,
    confidence: f64,
) -> Coupling {
    Coupling {
        file: file.to_owned(),
        partner: partner.to_owned(),
        shared_revs,
        file_revs,
        partner_revs,
        degree,
        support,
        confidence,
    }
}

fn coupling_cfg() -> MiningConfig {
    MiningConfig {
        min_revs: 3,
        min_shared_revs: 2,
        min_coupling: 50.0,
        max_changeset_size: 3,
        ..MiningConfig::default()
    }
}

/// Ten commits, a day apart, over a.rs … e.rs (`+` adds a line to each file listed):
///
/// | commit | files        | considered for coupling        |
/// |--------|--------------|--------------------------------|
/// | C1     | a b c        | yes                            |
/// | C2     | a b          | yes                            |
/// | C3     | a b d        | yes                            |
/// | C4     | a c          | yes                            |
/// | C5     | b d          | yes                            |
/// | C6     | a d          | yes                            |
/// | C7     | c d          | yes                            |
/// | C8     | a b c d e    | no: 5 files > max_changeset_size 3 |
/// | C9     | d e          | yes                            |
/// | C10    | d e          | yes                            |
fn coupling_fixture(commits: usize) -> Fixture {
    let fx = Fixture::new();
    let changesets: [&[&str]; 10] = [
        &["a", "b", "c"],
        &["a", "b"],
        &["a", "b", "d"],
        &["a", "c"],
        &["b", "d"],
        &["a", "d"],
        &["c", "d"],
        &["a", "b", "c", "d", "e"],
        &["d", "e"],
        &["d", "e"],
    ];
    for (n, files) in (1..).zip(changesets.iter().take(commits)) {
        for file in *files {
            fx.append(&format!("{file}.rs"), &format!("line {n}"));
        }
        fx.commit(ALICE, n * DAY, &format!("chore: C{n}"));
    }
    fx
}

#[test]
fn coupling_matches_hand_computed_values() {
    let fx = coupling_fixture(10);
    let cfg = coupling_cfg();
    let history = fx.mined(&cfg);

    // Considered changesets: C1–C7, C9, C10 → 9.
    // Revisions: a = C1 C2 C3 C4 C6 = 5; b = C1 C2 C3 C5 = 4; c = C1 C4 C7 = 3;
    //            d = C3 C5 C6 C7 C9 C10 = 6; e = C9 C10 = 2.
    // a–b: shared C1 C2 C3 = 3, mean revs 4.5, 3/4.5 = 66.67 % → 66 (truncated): passes.
    //      support 3/9, confidence a⇒b 3/5.
    // a–c: shared C1 C4 = 2, mean 4, 50 % = min_coupling: passes. support 2/9, conf 2/5.
    // d–e: shared C9 C10 = 2, mean 4, 50 %: passes although e has only 2 < min_revs 3
    //      revisions — code-maat compares the mean. support 2/9, conf d⇒e 2/6.
    // b–d: shared C3 C5 = 2, mean 5, 40 %: just below 50. a–d: 2, mean 5.5, 36.36 %.
    // b–c (C1), c–d (C7): shared 1 < 2. C8 would have given a–b 4 shared of 6 and 5 revs.
    assert_eq!(
        history.couplings(&cfg),
        vec![
            coupling("a.rs", "b.rs", 3, 5, 4, 66.0, 3.0 / 9.0, 3.0 / 5.0),
            coupling("a.rs", "c.rs", 2, 5, 3, 50.0, 2.0 / 9.0, 2.0 / 5.0),
            coupling("d.rs", "e.rs", 2, 6, 2, 50.0, 2.0 / 9.0, 2.0 / 6.0),
        ]
    );
    assert_eq!(
        history.coupling("e.rs", &cfg),
        vec![coupling("e.rs", "d.rs", 2, 2, 6, 50.0, 2.0 / 9.0, 1.0)]
    );
    assert_eq!(
        history.coupling("b.rs", &cfg),
        vec![coupling(
            "b.rs",
            "a.rs",
            3,
            4,
            5,
            66.0,
            3.0 / 9.0,
            3.0 / 4.0
        )]
    );

    // Lowering min_coupling to 40 lets b–d in at exactly 40 %; a–d (36 %) stays out.
    let cfg40 = MiningConfig {
        min_coupling: 40.0,
        ..coupling_cfg()
    };
    assert_eq!(
        history.coupling("d.rs", &cfg40),
        vec![
            coupling("d.rs", "e.rs", 2, 6, 2, 50.0, 2.0 / 9.0, 2.0 / 6.0),
            coupling("d.rs", "b.rs", 2, 6, 4, 40.0, 2.0 / 9.0, 2.0 / 6.0),
        ]
    );
    // At min_revs 5 only b–d (mean 5) is left: a–b's mean is 4.5, a–d's 5.5 is below 40 %.
    let cfg_revs = MiningConfig {
        min_revs: 5,
        ..cfg40
    };
    assert_eq!(
        history.couplings(&cfg_revs),
        vec![coupling(
            "b.rs",
            "d.rs",
            2,
            4,
            6,
            40.0,
            2.0 / 9.0,
            2.0 / 4.0
        )]
    );

    // A query limit below the stored one drops C1 and C3 (3 files) too. Considered: C2 C4 C5
    // C6 C7 C9 C10 = 7; b = C2 C5 = 2, a = C2 C4 C6 = 3, d = C5 C6 C7 C9 C10 = 5.
    // b–a: 1 shared, mean 2.5, 40 %; b–d: 1 shared, mean 3.5, 28.57 % → 28.
    let pairs_of_two = MiningConfig {
        max_changeset_size: 2,
        min_revs: 1,
        min_shared_revs: 1,
        min_coupling: 0.0,
        ..MiningConfig::default()
    };
    assert_eq!(
        history.coupling("b.rs", &pairs_of_two),
        vec![
            coupling("b.rs", "a.rs", 1, 2, 3, 40.0, 1.0 / 7.0, 0.5),
            coupling("b.rs", "d.rs", 1, 2, 5, 28.0, 1.0 / 7.0, 0.5),
        ]
    );

    // The oversized C8 still counts for churn: a has 6 commits, 6 lines.
    let a = history.file("a.rs").expect("a.rs");
    assert_eq!((a.commits, a.lines_added, a.lines_removed), (6, 6, 0));
    assert_eq!(history.file("e.rs").expect("e.rs").commits, 3);
    assert_eq!(history.commit_count(), 10);
}

#[test]
fn rename_carries_history_to_the_new_path() {
    let fx = Fixture::new();
    fx.write(
        "old.rs",
        "fn one() {}\nfn two() {}\nfn three() {}\nfn four() {}\n",
    );
    fx.commit(ALICE, 1000, "feat: add old");
    fx.append("old.rs", "fn five() {}");
    fx.commit(BOB, 2000, "feat: five");
    fx.rename("old.rs", "src/new.rs");
    fx.commit(ALICE, 3000, "refactor: move");
    fx.append("src/new.rs", "fn six() {}");
    let last = fx.commit(ALICE, 4000, "feat: six");

    let history = fx.mined(&MiningConfig::default());
    assert_eq!(history.file("old.rs"), None);
    let new = history.file("src/new.rs").expect("renamed file");
    // 4 + 1 + 0 (pure rename) + 1 lines added.
    assert_eq!((new.commits, new.lines_added, new.lines_removed), (4, 6, 0));
    assert_eq!(new.previous_paths, vec!["old.rs".to_owned()]);
    assert_eq!(new.last_change.commit, last.to_string());
    assert_eq!(
        history
            .files()
            .iter()
            .map(|f| f.path.as_str())
            .collect::<Vec<_>>(),
        vec!["src/new.rs"]
    );

    // A new file at the freed path starts its own history; a deleted file leaves files and
    // coupling, even for the commit that deleted it.
    let mut history = history;
    fx.write("old.rs", "unrelated\n");
    fx.commit(BOB, 5000, "feat: new old");
    fx.remove("src/new.rs");
    fx.append("old.rs", "more");
    fx.commit(BOB, 6000, "chore: drop new");
    fx.mine(&mut history, &MiningConfig::default());
    let reborn = history.file("old.rs").expect("new file at the old path");
    assert_eq!((reborn.commits, reborn.lines_added), (2, 2));
    assert!(reborn.previous_paths.is_empty());
    assert_eq!(history.file("src/new.rs"), None);
    assert_eq!(history.files().len(), 1);
    let all = MiningConfig {
        min_revs: 1,
        min_shared_revs: 1,
        min_coupling: 0.0,
        ..MiningConfig::default()
    };
    assert_eq!(history.coupling("old.rs", &all), vec![]);
    assert_eq!(history.couplings(&all), vec![]);
}

#[test]
fn incremental_mining_equals_mining_from_scratch() {
    let fx = coupling_fixture(8);
    let cfg = coupling_cfg();
    let mut history = History::default();
    let first = fx.mine(&mut history, &cfg);
    assert_eq!((first.new_commits, first.rebuilt), (8, false));

    for n in [9, 10] {
        fx.append("d.rs", &format!("line {n}"));
        fx.append("e.rs", &format!("line {n}"));
        fx.commit(ALICE, n * DAY, &format!("chore: C{n}"));
    }
    let mut progress = Vec::new();
    let second = history
        .mine(&fx.repo, &cfg, &mut |done, total| {
            progress.push((done, total))
        })
        .expect("mine");
    assert_eq!((second.new_commits, second.rebuilt), (2, false));
    assert_eq!(progress, vec![(0, 2), (1, 2), (2, 2)]);

    let fresh = fx.mined(&cfg);
    assert_eq!(history, fresh);
    // The caller persists the state as CBOR.
    let mut cbor = Vec::new();
    ciborium::into_writer(&history, &mut cbor).expect("encode");
    let decoded: History = ciborium::from_reader(cbor.as_slice()).expect("decode");
    assert_eq!(decoded, fresh);
    assert_eq!(history.couplings(&cfg).len(), 3);
    assert_eq!(
        history.last_commit(),
        Some(fx.head().expect("head").to_string().as_str())
    );

    // Nothing new: nothing mined.
    let third = fx.mine(&mut history, &cfg);
    assert_eq!((third.new_commits, third.rebuilt), (0, false));
    assert_eq!(history, fresh);
}

#[test]
fn rewritten_history_or_changed_limit_rebuilds() {
    let fx = Fixture::new();
    fx.write("keep.rs", "a\n");
    fx.commit(ALICE, 1000, "feat: keep");
    fx.append("keep.rs", "b");
    let second = fx.commit(ALICE, 2000, "feat: more");
    fx.write("gone.rs", "x\n");
    fx.commit(ALICE, 3000, "feat: gone");
    fx.append("keep.rs", "c");
    fx.commit(ALICE, 4000, "feat: even more");

    let cfg = MiningConfig::default();
    let mut history = fx.mined(&cfg);
    assert_eq!(history.file("keep.rs").expect("keep").commits, 3);

    // Drop the last two commits and commit something else on top of the second.
    let target = fx.repo.find_object(second, None).expect("object");
    fx.repo
        .reset(&target, ResetType::Hard, None)
        .expect("reset");
    fx.write("other.rs", "y\n");
    fx.commit(BOB, 5000, "fix: other");

    let outcome = fx.mine(&mut history, &cfg);
    assert_eq!((outcome.new_commits, outcome.rebuilt), (3, true));
    assert_eq!(history, fx.mined(&cfg));
    assert_eq!(history.file("keep.rs").expect("keep").commits, 2);
    assert_eq!(history.file("gone.rs"), None);
    assert_eq!(history.commit_count(), 3);

    // A different changeset limit changes what is stored: mined again from scratch.
    let smaller = MiningConfig {
        max_changeset_size: 10,
        ..cfg
    };
    let outcome = fx.mine(&mut history, &smaller);
    assert_eq!((outcome.new_commits, outcome.rebuilt), (3, true));
}

#[test]
fn churn_authors_and_last_change_are_exact() {
    let fx = Fixture::new();
    fx.write("src/lib.rs", "a\nb\nc\n"); // +3
    fx.commit(ALICE, 1000, "feat: lib");
    fx.write("src/lib.rs", "a\nB\nc\nd\n"); // b → B, + d: +2 −1
    fx.write("logo.png", [0x89, b'P', b'N', b'G', 0, 0, 1, 2, 0, 3]);
    fx.commit(BOB, 2000, "feat: logo");
    fx.write("src/lib.rs", "a\nB\n"); // −2
    fx.commit(ALICE, 3000, "refactor: trim");
    fx.append("src/lib.rs", "e"); // +1, same author by email
    let last = fx.commit(("Alice Smith", "ALICE@example.org"), 4000, "feat: e");

    let history = fx.mined(&MiningConfig::default());
    let lib = history.file("src/lib.rs").expect("lib");
    assert_eq!((lib.commits, lib.lines_added, lib.lines_removed), (4, 6, 3));
    assert_eq!(
        lib.authors,
        vec![
            AuthorShare {
                name: "Alice Smith".into(),
                email: "alice@example.org".into(),
                commits: 3,
                share: 0.75,
            },
            AuthorShare {
                name: "Bob".into(),
                email: "bob@example.org".into(),
                commits: 1,
                share: 0.25,
            },
        ]
    );
    assert_eq!(lib.main_author_share, 0.75);
    assert_eq!(
        lib.last_change,
        LastChange {
            commit: last.to_string(),
            time: 4000,
            author: "Alice Smith".into(),
            email: "alice@example.org".into(),
        }
    );
    // Binary: the commit counts, its lines do not.
    let logo = history.file("logo.png").expect("logo");
    assert_eq!(
        (logo.commits, logo.lines_added, logo.lines_removed),
        (1, 0, 0)
    );
    assert_eq!(logo.main_author_share, 1.0);
}

#[test]
fn commit_types_fix_ratio_and_bursts() {
    let fx = Fixture::new();
    let commits: [(i64, &str); 10] = [
        (0, "feat(parser): add x"),
        (100, "fix: crash"),
        (200, "fix(io)!: change api"), // breaking
        (300, "docs: readme"),
        (400, "Fix: typo"), // types are case-insensitive
        (10_000, "chore: bump\n\nBREAKING CHANGE: drops old targets"), // breaking
        (10_500, "random message"), // other
        (14_100, "wip: stuff"), // unknown type: other; exactly one window after the last
        (20_000, "Revert \"feat(parser): add x\""),
        (20_100, "feat:missing space"), // not conventional: other
    ];
    for (time, message) in commits {
        // Empty commits: patterns need no files.
        fx.commit(ALICE, time, message);
    }
    let cfg = MiningConfig {
        burst_min_commits: 3,
        ..MiningConfig::default()
    };
    let patterns = fx.mined(&cfg).patterns(&cfg);
    assert_eq!(patterns.total, 10);
    let by_type: Vec<(&str, u32)> = patterns
        .by_type
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        by_type,
        vec![
            ("chore", 1),
            ("docs", 1),
            ("feat", 1),
            ("fix", 3),
            ("other", 3),
            ("revert", 1)
        ]
    );
    assert_eq!(patterns.fix_ratio, 0.3);
    assert_eq!(patterns.breaking, 2);
    // 0…400 (5 commits); 10 000, 10 500, 14 100 (gap 3 600 = window); 20 000, 20 100 (2 < 3).
    assert_eq!(
        patterns.bursts,
        vec![
            Burst {
                start: 0,
                end: 400,
                commits: 5
            },
            Burst {
                start: 10_000,
                end: 14_100,
                commits: 3
            },
        ]
    );
    // The default minimum of 5 keeps only the first.
    let default = MiningConfig::default();
    assert_eq!(fx.mined(&default).patterns(&default).bursts.len(), 1);
}

#[test]
fn conventional_subjects_parse() {
    let parsed = ConventionalSubject::parse("feat(api)!: drop v1").expect("conventional");
    assert_eq!(
        parsed,
        ConventionalSubject {
            kind: "feat".into(),
            scope: Some("api".into()),
            breaking: true,
        }
    );
    assert_eq!(
        ConventionalSubject::parse("FIX: x").map(|p| (p.kind, p.scope, p.breaking)),
        Some(("fix".into(), None, false))
    );
    for not in [
        "feat: ",
        "feat:x",
        "(api): x",
        "feat(): x",
        "feat(api: x",
        "plain words",
    ] {
        assert_eq!(ConventionalSubject::parse(not), None, "{not}");
    }
}

#[test]
fn empty_repository_mines_nothing() {
    let fx = Fixture::new();
    let mut history = History::default();
    let outcome = fx.mine(&mut history, &MiningConfig::default());
    assert_eq!((outcome.new_commits, outcome.rebuilt), (0, false));
    assert_eq!(history.last_commit(), None);
    assert_eq!(history.commit_count(), 0);
    assert!(history.files().is_empty());
    assert_eq!(history.patterns(&MiningConfig::default()).total, 0);
}

#[test]
fn merge_commits_are_skipped() {
    let fx = Fixture::new();
    fx.write("a.rs", "a\n");
    fx.write("b.rs", "b\n");
    let base = fx.commit(ALICE, 1000, "feat: base");

    // Side branch: changes a.rs and adds s.rs without moving HEAD.
    fx.append("a.rs", "side");
    fx.write("s.rs", "s\n");
    let side = fx.commit_with(BOB, 2000, "feat: side", &[base], None);

    // Main: back to the base's a.rs, changes b.rs.
    fx.write("a.rs", "a\n");
    fx.remove("s.rs");
    fx.append("b.rs", "main");
    let main = fx.commit(ALICE, 3000, "fix: main");

    // Merge of both; against its first parent it would show a.rs and s.rs changed.
    fx.append("a.rs", "side");
    fx.write("s.rs", "s\n");
    fx.commit_with(
        ALICE,
        4000,
        "Merge branch 'side'",
        &[main, side],
        Some("HEAD"),
    );

    let all = MiningConfig {
        min_revs: 1,
        min_shared_revs: 1,
        min_coupling: 0.0,
        ..MiningConfig::default()
    };
    let mut history = History::default();
    let outcome = fx.mine(&mut history, &all);
    assert_eq!(outcome.new_commits, 4);
    assert_eq!(history.commit_count(), 3);
    let commits = |path: &str| history.file(path).expect(path).commits;
    assert_eq!(
        (commits("a.rs"), commits("b.rs"), commits("s.rs")),
        (2, 2, 1)
    );
    assert_eq!(history.file("a.rs").expect("a").lines_added, 2);
    let a_s = history
        .coupling("a.rs", &all)
        .into_iter()
        .find(|c| c.partner == "s.rs")
        .expect("a–s coupled by the side commit");
    assert_eq!(a_s.shared_revs, 1);
    let patterns = history.patterns(&all);
    assert_eq!((patterns.total, patterns.by_type.get("other")), (3, None));
}
