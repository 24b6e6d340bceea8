//! The API-compatibility corpus: one old/new pair per published rule (the Cargo book's
//! SemVer chapter, golang.org/x/exp/apidiff, griffe's breakages, TypeScript's), each in
//! `tests/api-corpus/<language>/<case>.toml` with the rules its diff must report. A case
//! fails when an expected rule is missing, or when the diff reports a breaking or
//! undetermined change whose rule the case does not expect (a false alarm). Every rule
//! weft has must be shown by at least one case.
//!
//! A case file:
//! ```toml
//! expect = ["rust/enum-variant-new"]     # rules the diff must report
//! [both]                                 # files at both revisions
//! "Cargo.toml" = "..."
//! [old]                                  # files at the base
//! "src/lib.rs" = "..."
//! [new]                                  # files at the head
//! "src/lib.rs" = "..."
//! ```
//! A case may set `public_config = ["globs"]` (`[analysis] public_config`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use weft_graph::api::{self, rules, ApiDiff, Class};
use weft_graph::{GraphConfig, KnowledgeGraph};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    expect: Vec<String>,
    #[serde(default)]
    public_config: Vec<String>,
    #[serde(default)]
    both: BTreeMap<String, String>,
    #[serde(default)]
    old: BTreeMap<String, String>,
    #[serde(default)]
    new: BTreeMap<String, String>,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api-corpus")
}

fn cases() -> Vec<(String, Case)> {
    let mut out = Vec::new();
    for lang in std::fs::read_dir(corpus_dir()).expect("corpus dir") {
        let lang = lang.expect("entry").path();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&lang)
            .expect("language dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("case readable");
            let case: Case =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let name = file
                .strip_prefix(corpus_dir())
                .expect("under the corpus")
                .display()
                .to_string();
            out.push((name, case));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn commit(
    repo: &git2::Repository,
    files: &BTreeMap<&String, &String>,
    parent: Option<git2::Oid>,
) -> git2::Oid {
    let root = repo.workdir().expect("work tree");
    // The work tree holds exactly this revision's files.
    for entry in std::fs::read_dir(root).expect("work tree") {
        let path = entry.expect("entry").path();
        if path.file_name().is_some_and(|n| n == ".git") {
            continue;
        }
        if path.is_dir() {
            std::fs::remove_dir_all(&path).expect("clean");
        } else {
            std::fs::remove_file(&path).expect("clean");
        }
    }
    let mut index = repo.index().expect("index");
    index.clear().expect("clear");
    for (path, text) in files {
        let full = root.join(path.as_str());
        std::fs::create_dir_all(full.parent().expect("parent")).expect("dirs");
        std::fs::write(&full, text.as_bytes()).expect("write");
        index.add_path(Path::new(path.as_str())).expect("add");
    }
    let tree = repo
        .find_tree(index.write_tree().expect("tree"))
        .expect("tree");
    let sig = git2::Signature::new(
        "corpus",
        "corpus@example.invalid",
        &git2::Time::new(1_700_000_000, 0),
    )
    .expect("signature");
    let parents: Vec<git2::Commit<'_>> = parent
        .map(|p| repo.find_commit(p).expect("parent"))
        .into_iter()
        .collect();
    let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, "rev", &tree, &refs)
        .expect("commit")
}

fn run(case: &Case) -> ApiDiff {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo_dir = dir.path().join("repo");
    let repo = git2::Repository::init(&repo_dir).expect("init");
    fn side<'c>(
        both: &'c BTreeMap<String, String>,
        own: &'c BTreeMap<String, String>,
    ) -> BTreeMap<&'c String, &'c String> {
        both.iter().chain(own).collect()
    }
    let base = commit(&repo, &side(&case.both, &case.old), None);
    let head = commit(&repo, &side(&case.both, &case.new), Some(base));
    let config = GraphConfig {
        public_config: case.public_config.clone(),
        ..GraphConfig::default()
    };
    let graph = KnowledgeGraph::open(&repo_dir, &dir.path().join("graph"), &config).expect("graph");
    api::diff(&graph, &repo, Some(base), head).expect("diff")
}

#[test]
fn every_case_reports_its_rules_and_nothing_breaking_besides() {
    let mut failures = Vec::new();
    for (name, case) in cases() {
        let diff = run(&case);
        let reported: BTreeSet<&str> = diff
            .changes
            .iter()
            .map(|c| c.rule.as_str())
            .chain(diff.manifest_changes.iter().map(|c| c.rule.as_str()))
            .chain(diff.config_changes.iter().map(|c| c.rule.as_str()))
            .collect();
        for rule in &case.expect {
            assert!(rules::by_id(rule).is_some(), "{name}: no rule {rule}");
            if !reported.contains(rule.as_str()) {
                failures.push(format!("{name}: expected {rule}, got {reported:?}"));
            }
        }
        let alarms = diff
            .changes
            .iter()
            .map(|c| (c.class, c.rule.as_str(), c.qualified.as_str()))
            .chain(
                diff.manifest_changes
                    .iter()
                    .map(|c| (c.class, c.rule.as_str(), c.field.as_str())),
            )
            .chain(
                diff.config_changes
                    .iter()
                    .map(|c| (c.class, c.rule.as_str(), c.key.as_str())),
            );
        for (class, rule, what) in alarms {
            let alarm = matches!(class, Class::Breaking | Class::Undetermined);
            if alarm && !case.expect.iter().any(|e| e == rule) {
                failures.push(format!("{name}: unexpected {rule} on {what}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rule_has_a_case() {
    let covered: BTreeSet<String> = cases().into_iter().flat_map(|(_, c)| c.expect).collect();
    let missing: Vec<&str> = rules::all()
        .into_iter()
        .map(|r| r.id)
        .filter(|id| !covered.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "rules without a corpus case: {missing:?}"
    );
}

#[test]
fn rule_ids_are_unique_and_documented() {
    let docs = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/coordination.md"),
    )
    .expect("docs/coordination.md");
    let mut seen = BTreeSet::new();
    for rule in rules::all() {
        assert!(seen.insert(rule.id), "rule {} declared twice", rule.id);
        assert!(
            docs.contains(&format!("`{}`", rule.id)),
            "docs/coordination.md does not list `{}`",
            rule.id
        );
    }
}

#[test]
fn a_renamed_public_config_key_breaks_the_release_and_private_config_is_not_compared() {
    let (_, case) = cases()
        .into_iter()
        .find(|(name, _)| name.ends_with("config/key-renamed.toml"))
        .expect("the rename case");
    let diff = run(&case);
    let got: Vec<(&str, &str, Class)> = diff
        .config_changes
        .iter()
        .map(|c| (c.path.as_str(), c.key.as_str(), c.class))
        .collect();
    assert_eq!(
        got,
        [
            ("config/app.toml", "server.port", Class::Breaking),
            ("config/app.toml", "server.listen_port", Class::Additive),
        ]
    );
    assert_eq!(diff.count(Class::Breaking), 1, "the release is flagged");
    // Without public_config nothing is compared.
    let private = Case {
        public_config: Vec::new(),
        ..case
    };
    assert!(run(&private).config_changes.is_empty());
}
