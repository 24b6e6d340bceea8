//! The knowledge graph and assessments through the CLI, on fixture repositories built
//! with the git CLI: symbols, deps, history, co-change, search with the real model,
//! assess (formats, --fail-on, chain record, diff), hooks and watch.

use serde_json::Value;
use std::path::Path;
use std::process::Command as Std;
use weft_tests::Repo;

const LIB_RS: &str = r#"use serde_json::Value;
use undeclared_dep::Thing;

/// Parses a JSON document into a value.
pub fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// Opens a TCP socket listening on a port.
pub fn open_socket(port: u16) -> std::net::TcpListener {
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind")
}

// TODO: remove once callers are gone
fn helper(t: Thing) -> bool {
    unsafe { std::mem::transmute::<u8, bool>(1) }
}
"#;

fn git(dir: &Path, args: &[&str], day: u32) {
    let date = format!("2026-01-{day:02}T12:00:00Z");
    let status = Std::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Ada")
        .env("GIT_AUTHOR_EMAIL", "ada@example.org")
        .env("GIT_COMMITTER_NAME", "Ada")
        .env("GIT_COMMITTER_EMAIL", "ada@example.org")
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .status()
        .expect("git");
    assert!(status.success(), "git {args:?}");
}

fn write(repo: &Repo, rel: &str, text: &str) {
    let path = repo.file(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn commit(repo: &Repo, message: &str, day: u32) {
    git(repo.path(), &["add", "-A"], day);
    git(repo.path(), &["commit", "-q", "-m", message], day);
}

/// A Rust crate with history: a.rs and b.rs change together; c.rs sometimes with a.rs.
/// Changesets: c0 {all files}, c1 {a, b}, c2 {a, b}, c3 {a, c}.
fn fixture() -> Repo {
    let repo = Repo::initialised();
    std::fs::remove_file(repo.file("src/main.rs")).expect("rm");
    std::fs::remove_file(repo.file("tool.py")).expect("rm");
    write(
        &repo,
        "weave.toml",
        "[project]\ndefault_branch = \"trunk\"\n[analysis]\nmin_revs = 2\nmin_shared_revs = 2\nmin_coupling = 30.0\n",
    );
    write(
        &repo,
        "Cargo.toml",
        "[package]\nname = \"fixture\"\n[dependencies]\nserde_json = \"1\"\nunused_crate = \"1\"\n",
    );
    write(&repo, "src/lib.rs", LIB_RS);
    write(&repo, "src/a.rs", "pub fn a() -> u32 { 0 }\n");
    write(&repo, "src/b.rs", "pub fn b() -> u32 { 0 }\n");
    write(&repo, "src/c.rs", "pub fn c() -> u32 { 0 }\n");
    commit(&repo, "feat: initial", 1);
    for (i, day) in [(1, 2), (2, 3)] {
        write(&repo, "src/a.rs", &format!("pub fn a() -> u32 {{ {i} }}\n"));
        write(&repo, "src/b.rs", &format!("pub fn b() -> u32 {{ {i} }}\n"));
        commit(&repo, "fix: a and b", day);
    }
    write(&repo, "src/a.rs", "pub fn a() -> u32 { 3 }\n");
    write(&repo, "src/c.rs", "pub fn c() -> u32 { 3 }\n");
    commit(&repo, "refactor: a and c", 4);
    repo
}

fn symbols_of(files: &Value, path: &str) -> Vec<(String, String, bool)> {
    let file = files["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("{path} not in output"));
    file["symbols"]
        .as_array()
        .expect("symbols")
        .iter()
        .map(|s| {
            (
                s["kind"].as_str().expect("kind").to_string(),
                s["qualified"].as_str().expect("name").to_string(),
                s["public"].as_bool().expect("public"),
            )
        })
        .collect()
}

#[test]
fn symbols_are_cached_by_content_and_only_changed_files_are_parsed() {
    let repo = fixture();
    let first = repo.json(&["symbols"]);
    assert_eq!(first["parsed"], 4, "{first}");
    assert_eq!(first["cached"], 0);
    assert_eq!(
        symbols_of(&first, "src/lib.rs"),
        [
            ("function".to_string(), "parse_json".to_string(), true),
            ("function".to_string(), "open_socket".to_string(), true),
            ("function".to_string(), "helper".to_string(), false),
        ]
    );
    let again = repo.json(&["symbols"]);
    assert_eq!(
        (again["parsed"].as_u64(), again["cached"].as_u64()),
        (Some(0), Some(4))
    );
    write(
        &repo,
        "src/b.rs",
        "pub fn b() -> u32 { 7 }\npub struct B;\n",
    );
    let after = repo.json(&["symbols"]);
    assert_eq!(
        (after["parsed"].as_u64(), after["cached"].as_u64()),
        (Some(1), Some(3))
    );
    assert_eq!(
        symbols_of(&after, "src/b.rs"),
        [
            ("function".to_string(), "b".to_string(), true),
            ("struct".to_string(), "B".to_string(), true),
        ]
    );
    // One path narrows the output; a path that does not exist is bad input.
    let one = repo.json(&["symbols", "src/a.rs"]);
    assert_eq!(one["files"].as_array().expect("files").len(), 1);
    repo.weft(&["symbols", "nope.rs"]).assert().code(2);
}

#[test]
fn deps_lists_imports_manifests_and_mismatches() {
    let repo = fixture();
    let deps = repo.json(&["deps"]);
    let lib = deps["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["path"] == "src/lib.rs")
        .expect("lib.rs");
    let modules: Vec<&str> = lib["imports"]
        .as_array()
        .expect("imports")
        .iter()
        .map(|i| i["module"].as_str().expect("module"))
        .collect();
    assert_eq!(modules, ["serde_json", "undeclared_dep"]);
    let manifest = &deps["manifests"][0];
    assert_eq!(manifest["path"], "Cargo.toml");
    assert_eq!(manifest["package"], "fixture");
    let issues: Vec<(&str, &str)> = deps["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .map(|i| {
            (
                i["package"].as_str().expect("p"),
                i["issue"].as_str().expect("i"),
            )
        })
        .collect();
    assert_eq!(
        issues,
        [("unused_crate", "unused"), ("undeclared_dep", "undeclared")]
    );
}

#[test]
fn history_and_cochange_match_the_hand_computed_numbers() {
    let repo = fixture();
    let history = repo.json(&["history"]);
    assert_eq!(history["commits"], 4);
    assert_eq!(history["new_commits"], 4);
    let a = history["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["path"] == "src/a.rs")
        .expect("a.rs");
    assert_eq!(a["commits"], 4);
    assert_eq!(a["authors"][0]["email"], "ada@example.org");
    assert_eq!(a["main_author_share"], 1.0);
    // Incremental: nothing new on the second run.
    assert_eq!(repo.json(&["history"])["new_commits"], 0);

    let co = repo.json(&["cochange", "src/a.rs"]);
    let partners: Vec<(&str, u64, f64, f64, f64)> = co["partners"]
        .as_array()
        .expect("partners")
        .iter()
        .map(|p| {
            (
                p["partner"].as_str().expect("partner"),
                p["shared_revs"].as_u64().expect("shared"),
                p["degree"].as_f64().expect("degree"),
                p["confidence"].as_f64().expect("confidence"),
                p["support"].as_f64().expect("support"),
            )
        })
        .collect();
    // a: 4 revisions; b: 3, shared 3 → degree 3 / 3.5 = 85.7 → 85, confidence 3/4,
    // support 3/4. c: 2, shared 2 → 2 / 3 = 66.7 → 66, confidence 2/4, support 2/4.
    assert_eq!(
        partners,
        [
            ("src/b.rs", 3, 85.0, 0.75, 0.75),
            ("src/c.rs", 2, 66.0, 0.5, 0.5)
        ]
    );
    repo.weft(&["cochange", "src/none.rs"]).assert().code(2);
}

fn findings(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().expect("rule").to_string(),
                f["path"].as_str().expect("path").to_string(),
            )
        })
        .collect()
}

#[test]
fn assess_reports_records_on_the_chain_and_follows_fail_on() {
    let repo = fixture();
    // Only a.rs changes: its usual partners b.rs and c.rs did not.
    write(&repo, "src/a.rs", "pub fn a() -> u32 { 4 }\n");
    commit(&repo, "fix: a alone", 5);
    let len = repo.len();
    let out = repo
        .weft(&["assess", "--format", "json", "--fail-on", "none"])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["schema"], "weft.assessment/1");
    assert_eq!(report["scope"]["kind"], "commit");
    assert_eq!(report["scope"]["files"], serde_json::json!(["src/a.rs"]));
    let cochange = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "cochange-missing")
        .expect("co-change finding");
    assert_eq!(cochange["path"], "src/a.rs");
    let partners: Vec<&str> = cochange["evidence"]["partners"]
        .as_array()
        .expect("partners")
        .iter()
        .map(|p| p["partner"].as_str().expect("partner"))
        .collect();
    assert_eq!(partners, ["src/b.rs", "src/c.rs"]);

    // The report is on disk and on the chain, and chain verify re-hashes it.
    let latest = repo.file(".weftos/artifacts/assessment-latest.json");
    let on_disk: Value =
        serde_json::from_str(&std::fs::read_to_string(&latest).expect("latest")).expect("json");
    assert_eq!(on_disk, report);
    // assess.complete, then the run's sop.run record (SOP 4).
    assert_eq!(repo.len(), len + 2);
    let run = repo.json(&["chain", "log", "--from", &(len + 1).to_string()]);
    let run = if run.is_array() { &run[0] } else { &run };
    assert_eq!(run["kind"], "sop.run", "{run}");
    let event = &repo.json(&["chain", "log", "--from", &len.to_string(), "--limit", "1"]);
    let event = if event.is_array() { &event[0] } else { event };
    assert_eq!(event["kind"], "assess.complete", "{event}");
    repo.weft(&["chain", "verify"]).assert().success();
    let history: Vec<_> = std::fs::read_dir(repo.file(".weftos/artifacts/history"))
        .expect("history")
        .flatten()
        .collect();
    assert_eq!(history.len(), 1);
    std::fs::write(history[0].path(), "{}").expect("tamper");
    repo.weft(&["chain", "verify"]).assert().code(1);

    // Full scope: the file-level rules over the whole crate.
    let full = repo.json(&["assess", "--scope", "full", "--fail-on", "none"]);
    let f = findings(&full);
    for expected in [
        ("sec-unsafe-code", "src/lib.rs"),
        ("todo", "src/lib.rs"),
        ("dependency-undeclared", "src/lib.rs"),
        ("dependency-unused", "Cargo.toml"),
    ] {
        assert!(
            f.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} missing from {f:?}"
        );
    }
    // --fail-on: warnings present, no errors.
    assert_eq!(full["summary"]["error"], 0);
    assert!(full["summary"]["warning"].as_u64().expect("warnings") > 0);
    repo.weft(&["assess", "--scope", "full", "--fail-on", "error"])
        .assert()
        .code(0);
    repo.weft(&["assess", "--scope", "full", "--fail-on", "warning"])
        .assert()
        .code(1);
}

#[test]
fn assess_formats_and_diff() {
    let repo = fixture();
    let sarif = repo
        .weft(&[
            "assess",
            "--scope",
            "full",
            "--format",
            "sarif",
            "--fail-on",
            "none",
        ])
        .output()
        .expect("run");
    let sarif: Value = serde_json::from_slice(&sarif.stdout).expect("sarif json");
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert!(!results.is_empty());
    assert!(results
        .iter()
        .all(|r| r["partialFingerprints"]["weftFindingId/v1"].is_string()));

    let out = repo
        .weft(&[
            "assess",
            "--scope",
            "full",
            "--format",
            "github-annotations",
            "--fail-on",
            "none",
        ])
        .output()
        .expect("run");
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(!text.is_empty());
    for line in text.lines() {
        assert!(
            line.starts_with("::warning file=")
                || line.starts_with("::notice file=")
                || line.starts_with("::error file="),
            "{line}"
        );
    }

    // Fix the TODO and the unsafe block: the diff shows them fixed, nothing new.
    write(
        &repo,
        "src/lib.rs",
        &LIB_RS
            .replace("// TODO: remove once callers are gone\n", "")
            .replace("unsafe { std::mem::transmute::<u8, bool>(1) }", "true"),
    );
    let _ = repo.json(&["assess", "--scope", "full", "--fail-on", "none"]);
    let diff = repo.json(&["assess", "diff"]);
    let rules = |key: &str| -> Vec<String> {
        diff["diff"][key]
            .as_array()
            .expect("list")
            .iter()
            .map(|f| f["rule"].as_str().expect("rule").to_string())
            .collect()
    };
    let mut fixed = rules("fixed");
    fixed.sort();
    assert_eq!(fixed, ["sec-unsafe-code", "todo"]);
    assert!(rules("new").is_empty(), "{diff}");
    assert!(!rules("unchanged").is_empty());
}

#[test]
fn bad_assess_input_changes_nothing() {
    let repo = fixture();
    let before = repo.state();
    repo.weft(&["assess", "--since", "no-such-ref"])
        .assert()
        .code(2);
    repo.weft(&["assess", "--scope", "full", "--staged"])
        .assert()
        .code(2);
    repo.weft(&["assess", "--output", "no/such/dir/x.json"])
        .assert()
        .code(2);
    repo.weft(&["assess", "diff"]).assert().code(2);
    assert_eq!(repo.state(), before);
    assert!(!repo
        .file(".weftos/artifacts/assessment-latest.json")
        .exists());
}

#[test]
fn search_ranks_by_meaning_with_the_real_model() {
    let repo = fixture();
    let hits = repo.json(&["search", "parse a JSON document", "-k", "5"]);
    let names: Vec<&str> = hits["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["qualified"].as_str().expect("name"))
        .collect();
    let json_at = names
        .iter()
        .position(|n| *n == "parse_json")
        .expect("parse_json found");
    let socket_at = names
        .iter()
        .position(|n| *n == "open_socket")
        .unwrap_or(usize::MAX);
    assert!(json_at < socket_at, "{names:?}");
    assert_eq!(json_at, 0, "{names:?}");
    let hit = &hits["hits"][0];
    assert_eq!(hit["path"], "src/lib.rs");
    assert_eq!(hit["line"], 5);

    let v = repo.json(&["embed", "parse a JSON document"]);
    assert_eq!(v["dimensions"], 384);
    let reference: Value = serde_json::from_str(include_str!(
        "../../node/graph/tests/vectors/embeddings.json"
    ))
    .expect("vectors");
    let want = &reference["items"][0];
    assert_eq!(want["text"], "parse a JSON document");
    let diff = v["vector"]
        .as_array()
        .expect("vector")
        .iter()
        .zip(want["vector"].as_array().expect("want"))
        .map(|(a, b)| (a.as_f64().expect("f") - b.as_f64().expect("f")).abs())
        .fold(0.0, f64::max);
    assert!(diff < 1e-4, "largest difference {diff}");
    repo.weft(&["search", "  "]).assert().code(2);
}

#[test]
fn without_the_model_search_explains_and_the_rest_works() {
    let repo = fixture();
    let home = tempfile::tempdir().expect("home");
    let out = repo
        .weft(&["search", "json"])
        .env("HOME", home.path())
        .env_remove("XDG_DATA_HOME")
        .env_remove("WEFT_MODEL_DIR")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("scripts/models.sh"), "{err}");
    repo.weft(&["symbols"])
        .env("HOME", home.path())
        .assert()
        .success();
    repo.weft(&["assess", "--scope", "full", "--fail-on", "none"])
        .env("HOME", home.path())
        .assert()
        .success();
}

#[test]
fn hooks_install_twice_and_uninstall_keep_the_users_lines() {
    let repo = fixture();
    let hook = repo.file(".git/hooks/post-commit");
    std::fs::write(&hook, "#!/bin/sh\necho mine\n").expect("hook");
    let first = repo.json(&["hooks", "install"]);
    assert_eq!(first["hooks"][0]["action"], "installed");
    let text = std::fs::read_to_string(&hook).expect("read");
    assert!(text.starts_with("#!/bin/sh\necho mine\n"), "{text}");
    assert_eq!(text.matches(">>> weft hook").count(), 1);
    assert!(text.contains("assess --scope commit"));
    let second = repo.json(&["hooks", "install"]);
    assert_eq!(second["hooks"][0]["action"], "unchanged");
    assert_eq!(std::fs::read_to_string(&hook).expect("read"), text);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(repo.file(".git/hooks/pre-push"))
        .expect("pre-push")
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111);

    // The hook runs on a commit and records an assessment.
    let len = repo.len();
    write(&repo, "src/c.rs", "pub fn c() -> u32 { 9 }\n");
    commit(&repo, "fix: c", 6);
    // assess.complete and its sop.run record.
    assert_eq!(repo.len(), len + 2);

    repo.json(&["hooks", "uninstall"]);
    assert_eq!(
        std::fs::read_to_string(&hook).expect("read"),
        "#!/bin/sh\necho mine\n"
    );
    assert!(!repo.file(".git/hooks/pre-push").exists());
}

#[test]
fn watch_assesses_changed_files_once_they_settle() {
    let repo = fixture();
    let len = repo.len();
    let mut child = Std::new(assert_cmd::cargo::cargo_bin("weft"))
        .arg("-C")
        .arg(repo.path())
        .args(["watch", "--debounce-ms", "300", "--max-runs", "1", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Give the watcher time to start, then change a file (several writes: one batch).
    std::thread::sleep(std::time::Duration::from_millis(1500));
    for i in 0..3 {
        write(&repo, "src/b.rs", &format!("pub fn b() -> u32 {{ {i} }}\n"));
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("weft watch did not finish within 120 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let out = child.wait_with_output().expect("output");
    assert!(status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON report");
    assert_eq!(report["scope"]["kind"], "paths");
    assert_eq!(report["scope"]["files"], serde_json::json!(["src/b.rs"]));
    assert_eq!(repo.len(), len + 1);
}

/// `public-api-changed` covers `[analysis] public_config`: a key users set renamed since
/// the last release is an error (removed) and a note (added); other config files are not
/// compared.
#[test]
fn public_config_keys_changed_since_the_last_release_tag() {
    let repo = fixture();
    write(
        &repo,
        "weave.toml",
        "[project]\ndefault_branch = \"trunk\"\n[analysis]\npublic_config = [\"config/*.toml\"]\n",
    );
    write(&repo, "config/app.toml", "[server]\nport = 8080\n");
    write(
        &repo,
        "dev/compose.yaml",
        "services:\n  db: {image: postgres}\n",
    );
    commit(&repo, "config", 5);
    git(repo.path(), &["tag", "v1.0.0"], 5);
    write(&repo, "config/app.toml", "[server]\nlisten_port = 8080\n");
    write(
        &repo,
        "dev/compose.yaml",
        "services:\n  database: {image: postgres}\n",
    );
    commit(&repo, "feat!: rename the port key", 6);
    let out = repo
        .weft(&["assess", "--since", "v1.0.0", "--format", "json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "a removed key is an error");
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let api: Vec<(&str, &str, &str, &str, u64)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "public-api-changed")
        .map(|f| {
            (
                f["path"].as_str().expect("path"),
                f["symbol"].as_str().expect("symbol"),
                f["severity"].as_str().expect("severity"),
                f["evidence"]["change"].as_str().expect("change"),
                f["line"].as_u64().expect("line"),
            )
        })
        .collect();
    assert_eq!(
        api,
        [
            // Findings sort by path, line, rule and id.
            ("config/app.toml", "server.listen_port", "note", "added", 2),
            ("config/app.toml", "server.port", "error", "removed", 2),
        ],
        "{report}"
    );
}

#[test]
fn public_api_changes_since_the_last_release_tag() {
    let repo = fixture();
    git(repo.path(), &["tag", "v1.0.0"], 5);
    write(&repo, "src/a.rs", "pub fn a(x: u32) -> u32 { x }\n");
    write(
        &repo,
        "src/c.rs",
        "pub fn c2() -> u32 { 3 }\nfn private() {}\n",
    );
    // Tests have no users outside the repository: a new public test helper is no API.
    write(&repo, "tests/it.rs", "pub fn helper() {}\n");
    commit(&repo, "feat!: new api", 6);
    let out = repo
        .weft(&["assess", "--since", "v1.0.0", "--format", "json"])
        .output()
        .expect("run");
    // A removed public symbol is an error: the default --fail-on error fails.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let mut api: Vec<(String, String, String, String)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "public-api-changed")
        .map(|f| {
            (
                f["path"].as_str().expect("path").to_string(),
                f["symbol"].as_str().expect("symbol").to_string(),
                f["severity"].as_str().expect("severity").to_string(),
                f["evidence"]["change"]
                    .as_str()
                    .expect("change")
                    .to_string(),
            )
        })
        .collect();
    api.sort();
    let row = |p: &str, s: &str, sev: &str, c: &str| (p.into(), s.into(), sev.into(), c.into());
    assert_eq!(
        api,
        [
            row("src/a.rs", "a", "warning", "signature"),
            row("src/c.rs", "c", "error", "removed"),
            row("src/c.rs", "c2", "note", "added"),
        ]
    );
}

#[test]
fn scopes_ci_staged_and_since() {
    let repo = fixture();
    let scope = |args: &[&str]| -> Value {
        let mut all = vec!["assess", "--fail-on", "none"];
        all.extend_from_slice(args);
        repo.json(&all)["scope"].clone()
    };
    let base = String::from_utf8(
        Std::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(repo.path())
            .output()
            .expect("git")
            .stdout,
    )
    .expect("utf8")
    .trim()
    .to_string();
    git(repo.path(), &["checkout", "-q", "-b", "feature"], 5);
    write(&repo, "src/b.rs", "pub fn b() -> u32 { 10 }\n");
    commit(&repo, "feat: b", 5);
    write(&repo, "src/d.rs", "pub fn d() {}\n");
    commit(&repo, "feat: d", 6);
    // ci: everything since the branch left the default branch (trunk, from weave.toml).
    let ci = scope(&["--scope", "ci"]);
    assert_eq!(ci["files"], serde_json::json!(["src/b.rs", "src/d.rs"]));
    assert_eq!(ci["base"], base.as_str());
    // commit: only the last commit.
    assert_eq!(scope(&[])["files"], serde_json::json!(["src/d.rs"]));
    // staged: the index against HEAD, not the working tree.
    write(&repo, "src/a.rs", "pub fn a() -> u32 { 11 }\n");
    write(&repo, "src/c.rs", "pub fn c() -> u32 { 11 }\n");
    git(repo.path(), &["add", "src/a.rs"], 7);
    assert_eq!(
        scope(&["--staged"])["files"],
        serde_json::json!(["src/a.rs"])
    );
    // since: a revision range.
    assert_eq!(
        scope(&["--since", "HEAD~1"])["files"],
        serde_json::json!(["src/d.rs"])
    );
}

#[test]
fn bad_analysis_configuration_is_named() {
    let repo = fixture();
    for (toml, needle) in [
        ("[analysis]\nlanguages = [\"cobol\"]\n", "cobol"),
        ("[analysis]\nignore = [\"src/[a\"]\n", "src/[a"),
        (
            "[assessment.rules]\nno-such-rule = \"off\"\n",
            "no-such-rule",
        ),
        ("[assessment]\nownership_share = 2.0\n", "ownership_share"),
    ] {
        write(&repo, "weave.toml", toml);
        let out = repo.weft(&["symbols"]).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{toml}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{toml}: {err}");
    }
}

/// `weft symbols --kind config`: keys of TOML, YAML (CI workflows in `.github/` too) and
/// JSON files with type and line, lock files left out, a malformed file listed with a
/// warning, and only changed files extracted again.
#[test]
fn config_keys_are_listed_with_types_and_lines_and_cached_by_content() {
    let repo = fixture();
    write(
        &repo,
        ".github/workflows/ci.yml",
        "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: cargo test\n",
    );
    write(
        &repo,
        "deploy/web.yaml",
        "kind: Service\nspec:\n  ports: [{port: 80}]\n---\nkind: Deployment\nspec:\n  replicas: 2\n",
    );
    write(
        &repo,
        "web/package.json",
        "{\"name\": \"web\", \"private\": true}\n",
    );
    write(&repo, "web/package-lock.json", "{\"lockfileVersion\": 3}\n");
    write(&repo, "web/broken.json", "{\"ok\": 1,\n\"bad\": }\n");

    let out = repo
        .weft(&["symbols", "--kind", "config"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        ".github/workflows/ci.yml:6  array    jobs.test.steps",
        ".github/workflows/ci.yml:7  string   jobs.test.steps[].uses",
        "Cargo.toml:4  string   dependencies.serde_json",
        "deploy/web.yaml:7  integer  spec.replicas  (document 1)",
        "web/package.json:1  boolean  private",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} not in\n{text}");
    }
    assert!(
        !text.contains("lockfileVersion"),
        "lock files are not config"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: web/broken.json:2: syntax error"),
        "{err}"
    );

    let json = repo.json(&["symbols", "--kind", "config"]);
    let files = json["files"].as_array().expect("files");
    assert_eq!(files.len(), 6, "{json}");
    assert_eq!(
        (json["parsed"].as_u64(), json["cached"].as_u64()),
        (Some(0), Some(6))
    );
    let broken = files
        .iter()
        .find(|f| f["path"] == "web/broken.json")
        .expect("the malformed file is listed");
    assert_eq!(broken["malformed"]["line"], 2, "{broken}");
    assert_eq!(broken["keys"][0]["path"], "ok");
    let cargo = files
        .iter()
        .find(|f| f["path"] == "Cargo.toml")
        .expect("Cargo.toml");
    assert_eq!(cargo["format"], "toml");
    assert_eq!(
        cargo["keys"][1],
        serde_json::json!({"path": "package.name", "type": "string", "line": 2})
    );

    write(
        &repo,
        "web/package.json",
        "{\"name\": \"web\", \"private\": \"yes\"}\n",
    );
    let after = repo.json(&["symbols", "--kind", "config", "web"]);
    assert_eq!(
        (after["parsed"].as_u64(), after["cached"].as_u64()),
        (Some(1), Some(5))
    );
    assert_eq!(
        after["files"].as_array().expect("files").len(),
        2,
        "{after}"
    );
    repo.weft(&["symbols", "--kind", "config", "src"])
        .assert()
        .code(2);
    repo.weft(&["symbols", "--kind", "config", "--peer", "up"])
        .assert()
        .code(2);
}

/// `weft assess init` builds every phase and records it; a second run redoes nothing
/// (no file parsed, no text embedded); `weft stats` reads both runs back as SOP 2.
#[test]
fn assess_init_builds_every_phase_once_and_stats_reads_the_runs_back() {
    let repo = fixture();
    let len = repo.len();
    let first = repo.json(&["assess", "init"]);
    let phases: Vec<&str> = first["phases"]
        .as_array()
        .expect("phases")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    assert_eq!(phases, ["scan", "deps", "history", "embed"]);
    let counts = |built: &Value, phase: usize, count: &str| {
        built["phases"][phase]["counts"][count]
            .as_u64()
            .expect(count)
    };
    assert_eq!(counts(&first, 0, "files"), 4);
    assert_eq!(counts(&first, 0, "parsed"), 4);
    // parse_json, open_socket, helper, a, b, c.
    assert_eq!(counts(&first, 0, "symbols"), 6, "{first}");
    // weave.toml (6 keys) and Cargo.toml (5).
    assert_eq!(counts(&first, 0, "config_files"), 2, "{first}");
    assert_eq!(counts(&first, 0, "config_keys"), 11, "{first}");
    assert_eq!(counts(&first, 1, "manifests"), 1);
    assert_eq!(counts(&first, 2, "commits"), 4);
    assert!(counts(&first, 3, "embedded") > 0, "{first}");
    assert_eq!(counts(&first, 3, "indexed"), counts(&first, 0, "symbols"));
    // The index is recorded first (graph.index), then the build (assess.init).
    let kind_at = |seq: u64| {
        repo.json(&["chain", "log", "--from", &seq.to_string(), "--limit", "1"])["kind"].clone()
    };
    assert_eq!(first["index"]["seq"], len, "{first}");
    assert_eq!(kind_at(len), "graph.index");
    assert_eq!(kind_at(len + 1), "assess.init");
    assert_eq!(first["event"], len + 1);

    let second = repo.json(&["assess", "init"]);
    assert_eq!(counts(&second, 0, "parsed"), 0, "{second}");
    assert_eq!(counts(&second, 2, "new_commits"), 0, "{second}");
    assert_eq!(counts(&second, 3, "embedded"), 0, "{second}");
    assert_eq!(
        second["index"], first["index"],
        "the same index, recorded once"
    );
    // graph.index once; assess.init and sop.run for each run.
    assert_eq!(repo.len(), len + 5);

    // The fixture's `weft init` (SOP 1) and the two builds.
    let stats = repo.json(&["stats"]);
    assert_eq!(stats["runs"], 3, "{stats}");
    let ops: Vec<(Option<u64>, Option<&str>, Option<u64>)> = stats["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .map(|op| {
            (
                op["sop"].as_u64(),
                op["command"].as_str(),
                op["outcomes"]["ok"].as_u64(),
            )
        })
        .collect();
    assert_eq!(
        ops,
        [
            (Some(1), Some("init"), Some(1)),
            (Some(2), Some("assess init"), Some(2))
        ],
        "{stats}"
    );
    assert_eq!(repo.json(&["stats", "--since", "1h"])["runs"], 3);
    assert_eq!(repo.json(&["stats", "--since", "2100-01-01"])["runs"], 0);
    repo.weft(&["stats", "--since", "2999-01-01"])
        .assert()
        .code(2);
    repo.weft(&["stats", "--since", "someday"]).assert().code(2);
}
