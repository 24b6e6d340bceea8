//! `weft coordinate impact --check` end to end with real toolchains on generated
//! repositories: the build's diagnostics at the peer's own file and line, the severity
//! the build decides, the peer's tree untouched and no temporary copy left, the outcome
//! recorded on the peer's chain and witnessed on the upstream's; Go, Python and
//! TypeScript peers (Go required when `WEFT_REQUIRE_GO=1`, TypeScript when `tsc` is on
//! PATH or `WEFT_REQUIRE_TSC=1`); an absent toolchain, a check that hangs (killed at its
//! time limit) and an interrupt.

use serde_json::Value;
use std::path::{Path, PathBuf};
use weft_tests::Repo;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(["-c", "user.name=Dev", "-c", "user.email=dev@example.org"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A repository with exactly `files`, committed, and (when `init`) `weft init` with its
/// files committed too, so `git status` is clean.
fn repo(files: &[(&str, &str)]) -> Repo {
    let r = Repo::new();
    for f in ["src/lib.rs", "src/main.rs", "tool.py"] {
        std::fs::remove_file(r.file(f)).expect("rm");
    }
    write(&r, files);
    git(r.path(), &["add", "-A"]);
    git(r.path(), &["commit", "-qm", "first"]);
    r.weft(&["init"]).assert().success();
    git(r.path(), &["add", "-A"]);
    git(r.path(), &["commit", "-qm", "weft init"]);
    r
}

fn write(r: &Repo, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = r.file(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
}

fn commit(r: &Repo, files: &[(&str, &str)], message: &str) -> String {
    write(r, files);
    git(r.path(), &["add", "-A"]);
    git(r.path(), &["commit", "-qm", message]);
    git(r.path(), &["rev-parse", "HEAD"]).trim().to_string()
}

/// What "the peer's tree is unchanged" compares: git's status and every file outside
/// `.git/` and `.weftos/` (the node's own state, which the check does change).
fn tree_state(r: &Repo) -> (String, Vec<PathBuf>) {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("read dir").flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).expect("inside").to_path_buf();
            if rel == Path::new(".git") || rel == Path::new(".weftos") {
                continue;
            }
            if e.file_type().expect("type").is_dir() {
                walk(&p, root, out);
            } else {
                out.push(rel);
            }
        }
    }
    let mut files = Vec::new();
    walk(r.path(), r.path(), &mut files);
    files.sort();
    (git(r.path(), &["status", "--porcelain"]), files)
}

/// The directories a check run may use: weft's cache and the temporary directory, both
/// the test's own, so leftovers show.
struct Env {
    cache: tempfile::TempDir,
    tmp: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            cache: tempfile::tempdir().expect("tmp"),
            tmp: tempfile::tempdir().expect("tmp"),
        }
    }

    /// What is left in the temporary directory but ONNX Runtime's session-id file
    /// `.ses`, which it writes there whenever a process loads the embedding model (a
    /// daemon does at start, calibrating itself).
    fn leftovers(&self) -> Vec<String> {
        std::fs::read_dir(self.tmp.path())
            .expect("read tmp")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name != ".ses")
            .collect()
    }
}

/// `weft -C up coordinate impact --check … --json` in `env`, with `path` as PATH when
/// given.
fn impact(up: &Repo, env: &Env, extra: &[&str], path: Option<&Path>) -> Value {
    let mut cmd = up.weft(&["coordinate", "impact", "--check"]);
    cmd.args(extra)
        .arg("--json")
        .env("WEFT_CACHE_DIR", env.cache.path())
        .env("TMPDIR", env.tmp.path());
    if let Some(p) = path {
        cmd.env("PATH", p);
    }
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "impact --check failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn peer<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["peers"]
        .as_array()
        .expect("peers")
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no peer {name} in {report}"))
}

fn events(r: &Repo, kind: &str) -> Vec<Value> {
    let out = r.weft(&["chain", "log", "--json"]).output().expect("log");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["kind"] == kind)
        .collect()
}

fn link(up: &Repo, name: &str, peer: &Repo) {
    let path = peer.path().to_str().expect("utf-8");
    up.weft(&["coordinate", "link", name, "--path", path])
        .assert()
        .success();
    // The link wrote weave.toml: committed, so the static model and the tree agree.
    git(up.path(), &["add", "-A"]);
    git(up.path(), &["commit", "-qm", "link"]);
}

const UP_MANIFEST: &str = "[package]\nname = \"up\"\nversion = \"1.0.0\"\nedition = \"2021\"\n";
const CONFIG_A: &str = "pub struct Config {\n    pub a: u32,\n}\n";
const APP_MAIN: &str =
    "use up::Config;\n\nfn main() {\n    let c = Config { a: 1 };\n    println!(\"{}\", c.a);\n}\n";
/// The line of the struct literal in [`APP_MAIN`].
const LITERAL_LINE: u64 = 4;

/// An upstream crate `up` (tag v1.0.0: `Config { a }`) and an app constructing
/// `Config { a: 1 }` through a path dependency, linked from the upstream.
fn rust_pair() -> (Repo, Repo) {
    let up = repo(&[("Cargo.toml", UP_MANIFEST), ("src/lib.rs", CONFIG_A)]);
    git(up.path(), &["tag", "v1.0.0"]);
    let manifest = format!(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nup = {{ path = {:?} }}\n",
        up.path()
    );
    let app = repo(&[("Cargo.toml", &manifest), ("src/main.rs", APP_MAIN)]);
    link(&up, "app", &app);
    (up, app)
}

#[test]
fn a_field_only_the_build_catches_fails_the_peer_at_its_line_and_is_recorded_on_both_chains() {
    let (up, app) = rust_pair();
    let head = commit(
        &up,
        &[(
            "src/lib.rs",
            "pub struct Config {\n    pub a: u32,\n    pub b: u32,\n}\n",
        )],
        "Config gains b",
    );
    let before = tree_state(&app);
    let env = Env::new();
    let report = impact(&up, &env, &[], None);
    let p = peer(&report, "app");
    let check = &p["check"];
    assert_eq!(check["outcome"], "fail", "{check}");
    assert_eq!(check["tool"], "cargo check");
    assert_eq!(check["upstream_commit"], head.as_str());
    assert!(check["toolchain"]
        .as_str()
        .is_some_and(|t| t.starts_with("cargo ")));
    let diagnostic = check["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| d["code"] == "E0063")
        .unwrap_or_else(|| panic!("no E0063 in {check}"));
    assert_eq!(diagnostic["file"], "src/main.rs");
    assert_eq!(diagnostic["line"], LITERAL_LINE);
    assert_eq!(diagnostic["origin"], "peer");
    assert_eq!(p["severity"], "breaking", "{p}");
    // Joined to the static findings: the use at that line is confirmed, or the error is
    // listed as one the static model did not predict.
    let confirmed = p["files"].as_array().expect("files").iter().any(|f| {
        f["path"] == "src/main.rs"
            && f["uses"]
                .as_array()
                .expect("uses")
                .iter()
                .any(|u| u["line"] == LITERAL_LINE && u["confirmed"] == true)
    });
    let unpredicted = check["unpredicted"]
        .as_array()
        .expect("unpredicted")
        .iter()
        .any(|d| d["line"] == LITERAL_LINE);
    assert!(confirmed || unpredicted, "{p}");

    // The peer's tree is as it was, and nothing of the check is left anywhere.
    assert_eq!(tree_state(&app), before);
    assert_eq!(env.leftovers(), Vec::<String>::new());
    assert_eq!(git(app.path(), &["worktree", "list"]).lines().count(), 1);
    assert_eq!(git(up.path(), &["worktree", "list"]).lines().count(), 1);

    // On the peer's chain, by its key; witnessed on the upstream's.
    let at = &check["event"];
    let recorded = events(&app, "coordinate.check");
    let event = recorded
        .iter()
        .find(|e| e["seq"] == at["seq"])
        .unwrap_or_else(|| panic!("no coordinate.check at {at} on the peer's chain"));
    assert_eq!(event["hash"], at["hash"]);
    assert_eq!(event["payload"]["outcome"], "fail");
    assert_eq!(event["payload"]["upstream_commit"], head.as_str());
    assert_eq!(
        event["payload"]["diagnostics_hash"],
        check["diagnostics_hash"]
    );
    let app_chain = event["chain_id"].clone();
    let note = format!("check app {}", at["seq"]);
    let witnessed = events(&up, "witness.head").into_iter().any(|w| {
        w["payload"]["note"] == note.as_str()
            && w["payload"]["head"]["chain_id"] == app_chain
            && w["payload"]["head"]["seq"].as_u64() >= at["seq"].as_u64()
            && w["seq"] == check["witness_seq"]
    });
    assert!(witnessed, "the upstream did not witness {note}: {check}");

    // A compatible change (a new function, the struct as the peer knows it) passes.
    commit(
        &up,
        &[("src/lib.rs", &format!("{CONFIG_A}\npub fn extra() {{}}\n"))],
        "extra",
    );
    let report = impact(&up, &env, &[], None);
    let p = peer(&report, "app");
    assert_eq!(p["check"]["outcome"], "pass", "{p}");
    assert_eq!(p["check"]["diagnostics_total"], 0);
    assert_ne!(p["severity"], "breaking");
    assert_eq!(events(&app, "coordinate.check").len(), 2);
    assert_eq!(tree_state(&app), before);
    assert_eq!(env.leftovers(), Vec::<String>::new());
}

#[test]
fn a_peer_broken_before_the_change_is_not_blamed_for_it_and_a_new_break_still_is() {
    let (up, app) = rust_pair();
    // The peer does not build against v1.0.0 either: a type error of its own.
    commit(
        &app,
        &[(
            "src/main.rs",
            "use up::Config;\n\nfn main() {\n    let c = Config { a: 1 };\n    let s: String = 5;\n    println!(\"{} {s}\", c.a);\n}\n",
        )],
        "broken on its own",
    );
    // A compatible change upstream.
    commit(
        &up,
        &[("src/lib.rs", &format!("{CONFIG_A}\npub fn extra() {{}}\n"))],
        "add extra",
    );
    let env = Env::new();
    let report = impact(&up, &env, &["all"], None);
    let p = peer(&report, "app");
    let check = &p["check"];
    assert_eq!(check["outcome"], "fail", "{check}");
    assert_eq!(check["baseline"]["outcome"], "fail", "{check}");
    assert!(
        check["baseline"]["preexisting"].as_u64() >= Some(1),
        "{check}"
    );
    assert_eq!(check["diagnostics_total"], 0, "{check}");
    assert_ne!(p["severity"], "breaking", "blamed for its own error: {p}");
    // Now a break of the upstream's own on top of it: that one is the change's.
    commit(
        &up,
        &[(
            "src/lib.rs",
            "pub struct Config {\n    pub a: u32,\n    pub b: u32,\n}\n\npub fn extra() {}\n",
        )],
        "Config gains b",
    );
    let report = impact(&up, &env, &["all"], None);
    let p = peer(&report, "app");
    let check = &p["check"];
    let codes: Vec<&Value> = check["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| &d["code"])
        .collect();
    assert!(codes.contains(&&Value::from("E0063")), "{check}");
    assert!(
        !codes.contains(&&Value::from("E0308")),
        "its own error is not the change's: {check}"
    );
    assert!(
        check["baseline"]["preexisting"].as_u64() >= Some(1),
        "{check}"
    );
    assert_eq!(p["severity"], "breaking", "{p}");
    assert_eq!(env.leftovers(), Vec::<String>::new());
}

#[test]
fn a_peer_that_builds_settles_what_the_text_could_not_decide() {
    let up = repo(&[
        ("Cargo.toml", UP_MANIFEST),
        ("src/lib.rs", "pub static LIMIT: u32 = 8;\n"),
    ]);
    git(up.path(), &["tag", "v1.0.0"]);
    let manifest = format!(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nup = {{ path = {:?} }}\n",
        up.path()
    );
    let main = "use up::LIMIT;\n\nfn main() {\n    println!(\"{}\", LIMIT);\n}\n";
    let app = repo(&[("Cargo.toml", &manifest), ("src/main.rs", main)]);
    link(&up, "app", &app);
    // static → const: readers compile, but the text cannot know what else relied on it.
    commit(
        &up,
        &[("src/lib.rs", "pub const LIMIT: u32 = 8;\n")],
        "LIMIT is a const",
    );
    let env = Env::new();
    let report = impact(&up, &env, &[], None);
    let change = report["api"]["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["qualified"] == "LIMIT")
        .unwrap_or_else(|| panic!("no LIMIT change in {report}"));
    assert_eq!(change["class"], "undetermined", "{change}");
    let p = peer(&report, "app");
    assert_eq!(p["check"]["outcome"], "pass", "{p}");
    assert_eq!(
        p["check"]["static_severity"], "breaking",
        "the text alone: {p}"
    );
    assert_eq!(p["severity"], "additive", "the build decided: {p}");
}

#[test]
fn a_registry_dependency_on_the_upstream_is_patched_to_its_head() {
    // A name no registry has: the patch alone can satisfy the requirement, offline.
    let manifest = "[package]\nname = \"wefttest-up\"\nversion = \"1.0.0\"\nedition = \"2021\"\n";
    let up = repo(&[("Cargo.toml", manifest), ("src/lib.rs", CONFIG_A)]);
    git(up.path(), &["tag", "v1.0.0"]);
    let app = repo(&[
        (
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nwefttest-up = \"1\"\n",
        ),
        ("src/main.rs", &APP_MAIN.replace("up::", "wefttest_up::")),
    ]);
    link(&up, "app", &app);
    commit(
        &up,
        &[(
            "src/lib.rs",
            "pub struct Config {\n    pub a: u32,\n    pub b: u32,\n}\n",
        )],
        "Config gains b",
    );
    let before = tree_state(&app);
    let env = Env::new();
    let report = impact(&up, &env, &[], None);
    let check = &peer(&report, "app")["check"];
    assert_eq!(check["outcome"], "fail", "{check}");
    assert!(
        check["command"]
            .as_str()
            .is_some_and(|c| c.contains("patch.crates-io.\"wefttest-up\".path=\"<upstream>\"")),
        "{check}"
    );
    assert_eq!(check["diagnostics"][0]["line"], LITERAL_LINE, "{check}");
    // SARIF carries the build's errors in the peer's files.
    let sarif = impact(&up, &env, &["--format", "sarif"], None);
    let located = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .any(|r| {
            let place = &r["locations"][0]["physicalLocation"];
            r["ruleId"] == "coordinate/build-error"
                && place["artifactLocation"]["uri"] == "src/main.rs"
                && place["artifactLocation"]["uriBaseId"] == "app"
                && place["region"]["startLine"] == LITERAL_LINE
        });
    assert!(located, "{sarif}");
    assert_eq!(tree_state(&app), before);
    assert_eq!(env.leftovers(), Vec::<String>::new());
}

#[test]
fn a_go_signature_change_fails_the_peer_at_the_call() {
    if weft_node_which("go").is_none() {
        assert!(
            std::env::var_os("WEFT_REQUIRE_GO").is_none_or(|v| v != "1"),
            "WEFT_REQUIRE_GO=1 but `go` is not on PATH (apt-get install golang-go)"
        );
        eprintln!("skipped: go is not on PATH");
        return;
    }
    let up = repo(&[
        ("go.mod", "module example.com/up\n\ngo 1.19\n"),
        (
            "up.go",
            "package up\n\n// Greet greets.\nfunc Greet(name string) string {\n\treturn \"hello \" + name\n}\n",
        ),
    ]);
    git(up.path(), &["tag", "v1.0.0"]);
    let go_mod = format!(
        "module example.com/app\n\ngo 1.19\n\nrequire example.com/up v0.0.0\n\nreplace example.com/up => {}\n",
        up.path().display()
    );
    let app = repo(&[
        ("go.mod", &go_mod),
        (
            "main.go",
            "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/up\"\n)\n\nfunc main() {\n\tfmt.Println(up.Greet(\"x\"))\n}\n",
        ),
    ]);
    link(&up, "app", &app);
    commit(
        &up,
        &[(
            "up.go",
            "package up\n\n// Greet greets.\nfunc Greet(name string, loud bool) string {\n\treturn \"hello \" + name\n}\n",
        )],
        "Greet takes loud",
    );
    let before = tree_state(&app);
    let env = Env::new();
    let report = impact(&up, &env, &[], None);
    let p = peer(&report, "app");
    let check = &p["check"];
    assert_eq!(check["outcome"], "fail", "{check}");
    assert!(check["toolchain"]
        .as_str()
        .is_some_and(|t| t.starts_with("go version")));
    let d = &check["diagnostics"][0];
    assert_eq!(d["file"], "main.go", "{check}");
    assert_eq!(d["line"], 10);
    assert!(
        d["message"].as_str().is_some_and(|m| m.contains("Greet")),
        "{d}"
    );
    assert_eq!(p["severity"], "breaking");
    assert_eq!(tree_state(&app), before);
    assert_eq!(env.leftovers(), Vec::<String>::new());
}

#[test]
fn a_removed_python_function_the_peer_imports_fails_the_import() {
    let up = repo(&[
        (
            "pyproject.toml",
            "[project]\nname = \"up\"\nversion = \"1.0.0\"\n",
        ),
        (
            "up/__init__.py",
            "def f():\n    return 1\n\n\ndef g():\n    return 2\n",
        ),
    ]);
    git(up.path(), &["tag", "v1.0.0"]);
    let app = repo(&[
        (
            "pyproject.toml",
            "[project]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"up\"]\n",
        ),
        ("app/__init__.py", ""),
        (
            "app/main.py",
            "import os\n\nfrom up import f\n\n\ndef main():\n    return f()\n",
        ),
    ]);
    link(&up, "app", &app);
    let env = Env::new();
    let report = impact(&up, &env, &[], None);
    assert_eq!(peer(&report, "app")["check"]["outcome"], "pass");
    commit(
        &up,
        &[("up/__init__.py", "def g():\n    return 2\n")],
        "f goes",
    );
    let before = tree_state(&app);
    let report = impact(&up, &env, &[], None);
    let p = peer(&report, "app");
    let check = &p["check"];
    assert_eq!(check["outcome"], "fail", "{check}");
    let d = &check["diagnostics"][0];
    assert_eq!(d["file"], "app/main.py", "{check}");
    assert_eq!(d["line"], 3);
    assert_eq!(d["code"], "ImportError");
    assert!(
        !d["message"]
            .as_str()
            .expect("message")
            .contains("weft-check-"),
        "temporary paths are scrubbed: {d}"
    );
    assert_eq!(p["severity"], "breaking");
    assert_eq!(tree_state(&app), before);
    assert_eq!(env.leftovers(), Vec::<String>::new());
}

#[test]
fn a_typescript_signature_change_fails_tsc_at_the_call() {
    if weft_node_which("tsc").is_none() {
        assert!(
            std::env::var_os("WEFT_REQUIRE_TSC").is_none_or(|v| v != "1"),
            "WEFT_REQUIRE_TSC=1 but `tsc` is not on PATH (npm install -g typescript)"
        );
        eprintln!("skipped: tsc is not on PATH");
        return;
    }
    let up = repo(&[
        (
            "package.json",
            "{\n  \"name\": \"up-ts\",\n  \"version\": \"1.0.0\",\n  \"types\": \"index.ts\"\n}\n",
        ),
        (
            "index.ts",
            "export function greet(name: string): string {\n  return \"hello \" + name;\n}\n",
        ),
    ]);
    git(up.path(), &["tag", "v1.0.0"]);
    let app = repo(&[
        (
            "package.json",
            "{\n  \"name\": \"app\",\n  \"version\": \"0.1.0\",\n  \"dependencies\": { \"up-ts\": \"^1.0.0\" }\n}\n",
        ),
        (
            "tsconfig.json",
            "{\n  \"compilerOptions\": { \"strict\": true, \"module\": \"commonjs\", \"moduleResolution\": \"node\", \"target\": \"es2020\", \"types\": [] },\n  \"include\": [\"src\"]\n}\n",
        ),
        (
            "src/main.ts",
            "import { greet } from \"up-ts\";\n\nconsole.log(greet(\"x\"));\n",
        ),
    ]);
    link(&up, "app", &app);
    commit(
        &up,
        &[(
            "index.ts",
            "export function greet(name: string, loud: boolean): string {\n  return \"hello \" + name;\n}\n",
        )],
        "greet takes loud",
    );
    let before = tree_state(&app);
    let env = Env::new();
    let report = impact(&up, &env, &[], None);
    let check = &peer(&report, "app")["check"];
    assert_eq!(check["outcome"], "fail", "{check}");
    let d = &check["diagnostics"][0];
    assert_eq!(d["file"], "src/main.ts", "{check}");
    assert_eq!(d["line"], 3);
    assert_eq!(d["code"], "TS2554");
    assert_eq!(tree_state(&app), before);
    assert_eq!(env.leftovers(), Vec::<String>::new());
}

/// `which`, as the node does it.
fn weft_node_which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Processes whose command line is exactly `words`.
fn processes(words: &[&str]) -> Vec<u32> {
    let wanted: Vec<u8> = words.join("\0").into_bytes();
    std::fs::read_dir("/proc")
        .expect("proc")
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            (cmdline.strip_suffix(b"\0").unwrap_or(&cmdline) == wanted.as_slice()).then_some(pid)
        })
        .collect()
}

#[test]
fn an_absent_toolchain_is_not_checked_and_a_hanging_check_times_out_and_is_killed() {
    let (up, app) = rust_pair();
    commit(
        &up,
        &[("src/lib.rs", &format!("{CONFIG_A}\npub fn extra() {{}}\n"))],
        "extra",
    );
    let env = Env::new();
    // No cargo on PATH: never a pass.
    let empty = tempfile::tempdir().expect("tmp");
    let report = impact(&up, &env, &[], Some(empty.path()));
    let check = &peer(&report, "app")["check"];
    assert_eq!(check["outcome"], "not-checked", "{check}");
    assert_eq!(check["reason"], "cargo not found");
    assert_eq!(env.leftovers(), Vec::<String>::new());

    // The peer's own check command hangs: killed at the limit.
    let sleeper = ["sleep", "617"];
    let mut config = std::fs::read_to_string(app.file("weave.toml")).expect("read");
    config.push_str("\n[coordination]\ncheck = \"sleep 617\"\n");
    std::fs::write(app.file("weave.toml"), config).expect("write");
    let report = impact(&up, &env, &["--check-timeout", "2"], None);
    let check = &peer(&report, "app")["check"];
    assert_eq!(check["outcome"], "timeout", "{check}");
    assert_eq!(check["tool"], "command");
    assert!(
        check["reason"]
            .as_str()
            .is_some_and(|r| r.contains("killed")),
        "{check}"
    );
    assert_eq!(
        processes(&sleeper),
        Vec::<u32>::new(),
        "the hanging check was not killed"
    );
    assert_eq!(env.leftovers(), Vec::<String>::new());
    let recorded = events(&app, "coordinate.check");
    assert_eq!(
        recorded.last().expect("recorded")["payload"]["outcome"],
        "timeout"
    );
}

#[test]
fn an_interrupt_kills_the_check_and_removes_its_copies() {
    use std::os::unix::process::CommandExt;
    let (up, app) = rust_pair();
    let mut config = std::fs::read_to_string(app.file("weave.toml")).expect("read");
    config.push_str("\n[coordination]\ncheck = \"sleep 619\"\n");
    std::fs::write(app.file("weave.toml"), config).expect("write");
    let env = Env::new();
    // As a terminal's Ctrl-C: SIGINT to the foreground process group (both weft
    // processes; the check runs in a group of its own).
    let child = std::process::Command::new(weft_tests::weft_binary())
        .arg("-C")
        .arg(up.path())
        .args(["coordinate", "impact", "--check"])
        .env("WEFT_CACHE_DIR", env.cache.path())
        .env("TMPDIR", env.tmp.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("spawn");
    let started = std::time::Instant::now();
    while processes(&["sleep", "619"]).is_empty() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the check never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(env.leftovers().len(), 1, "one temporary copy while it runs");
    let group = rustix::process::Pid::from_raw(child.id() as i32).expect("pid");
    rustix::process::kill_process_group(group, rustix::process::Signal::INT).expect("kill");
    let out = child.wait_with_output().expect("wait");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("interrupted"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(processes(&["sleep", "619"]), Vec::<u32>::new());
    assert_eq!(env.leftovers(), Vec::<String>::new());
}

/// Stops the daemons of these repositories when dropped, pass or fail.
struct Daemons<'a>(Vec<&'a Repo>);

impl Drop for Daemons<'_> {
    fn drop(&mut self) {
        for repo in &self.0 {
            let _ = repo.weft(&["node", "stop"]).output();
        }
    }
}

#[test]
fn a_peer_whose_daemon_holds_its_store_records_through_it_and_a_remote_peer_is_not_checked() {
    let (up, app) = rust_pair();
    commit(
        &up,
        &[(
            "src/lib.rs",
            "pub struct Config {\n    pub a: u32,\n    pub b: u32,\n}\n",
        )],
        "Config gains b",
    );
    let env = Env::new();
    let _daemons = Daemons(vec![&app]);
    // The daemon runs the peer's check: it has the test's directories.
    app.weft(&["node", "start"])
        .env("WEFT_CACHE_DIR", env.cache.path())
        .env("TMPDIR", env.tmp.path())
        .assert()
        .success();
    let status = app.json(&["node", "status"]);
    let peer_id = status["peer_id"].as_str().expect("peer id").to_string();
    up.json(&[
        "coordinate",
        "link",
        "far",
        "--addr",
        "/ip4/127.0.0.1/tcp/9",
        "--peer-id",
        &peer_id,
    ]);
    let report = impact(&up, &env, &["all"], None);
    let check = &peer(&report, "app")["check"];
    assert_eq!(check["outcome"], "fail", "{check}");
    assert!(check["witness_seq"].is_u64(), "{check}");
    let recorded = events(&app, "coordinate.check");
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0]["seq"], check["event"]["seq"]);
    let far = &peer(&report, "far")["check"];
    assert_eq!(far["outcome"], "not-checked", "{far}");
    assert_eq!(
        far["reason"],
        "remote peer (runs its own check: weft coordinate check)"
    );
    assert_eq!(env.leftovers(), Vec::<String>::new());
}
