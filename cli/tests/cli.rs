//! The `weft` command: every command's happy path and its bad-input path (a clear
//! message, the documented exit code, nothing changed on disk).

use predicates::prelude::*;
use weft_tests::Repo;

#[test]
fn init_creates_the_node_and_a_second_run_changes_nothing() {
    let repo = Repo::new();
    repo.weft(&["init"])
        .assert()
        .success()
        .stdout(predicate::str::contains("initialised"));
    for sub in [
        "chain",
        "tree",
        "logs",
        "artifacts",
        "models",
        "sessions",
        "memory",
        "keys",
    ] {
        assert!(repo.file(".weftos").join(sub).is_dir(), "{sub}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode =
            |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&repo.file(".weftos/keys")), 0o700);
        assert_eq!(mode(&repo.file(".weftos/keys/node.ed25519")), 0o600);
    }
    let gitignore = std::fs::read_to_string(repo.file(".gitignore")).expect("gitignore");
    for entry in [
        ".weftos/chain/",
        ".weftos/models/",
        ".weftos/sessions/",
        ".weftos/keys/",
    ] {
        assert_eq!(
            gitignore.lines().filter(|l| *l == entry).count(),
            1,
            "{entry}"
        );
    }
    let config = std::fs::read_to_string(repo.file("weave.toml")).expect("config");
    assert!(config.contains("default_branch = \"trunk\""), "{config}");
    assert!(config.contains("\"rust\", \"python\""), "{config}");
    assert!(config.contains("source_dirs = [\"src\"]"), "{config}");
    // git sees no key and no chain.
    let out = std::process::Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=all"])
        .current_dir(repo.path())
        .output()
        .expect("git");
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        !listed.contains("keys/") && !listed.contains(".weftos/chain"),
        "{listed}"
    );

    let before = (repo.state(), gitignore.clone(), config.clone());
    let again = repo.json(&["init"]);
    assert_eq!(again["changed"], false);
    repo.weft(&["init"])
        .assert()
        .success()
        .stdout(predicate::str::contains("nothing changed"));
    let after = (
        repo.state(),
        std::fs::read_to_string(repo.file(".gitignore")).expect("gi"),
        std::fs::read_to_string(repo.file("weave.toml")).expect("cfg"),
    );
    assert_eq!(before, after);
}

#[test]
fn init_outside_git_or_with_a_bad_config_fails_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut cmd = assert_cmd::Command::cargo_bin("weft").expect("bin");
    cmd.arg("-C")
        .arg(dir.path())
        .arg("init")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not inside a git repository"));
    assert!(!dir.path().join(".weftos").exists());

    let repo = Repo::new();
    std::fs::write(
        repo.file("weave.toml"),
        "[governance]\nthreshold = 0.8\nbogus = 1\n",
    )
    .expect("write");
    repo.weft(&["init"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bogus").and(predicate::str::contains("line 3")));
    assert!(!repo.file(".weftos").exists());
    assert!(!repo.file(".gitignore").exists());
}

#[test]
fn status_reports_chain_tree_key_and_config() {
    let repo = Repo::initialised();
    let s = repo.json(&["status"]);
    assert_eq!(
        s["length"], 3,
        "genesis, tree bootstrap and the init's sop.run"
    );
    assert_eq!(s["head"]["seq"], 2);
    assert!(s["key_fingerprint"]
        .as_str()
        .expect("fp")
        .starts_with("ed25519:"));
    assert_eq!(s["config"]["threshold"], 0.8);
    assert_eq!(s["tree_root"].as_str().expect("root").len(), 64);
    // The secret never appears.
    let key = std::fs::read(repo.file(".weftos/keys/node.ed25519")).expect("key");
    assert!(!s.to_string().contains(&hex::encode(key)));
}

#[test]
fn chain_append_log_head_and_bad_input() {
    let repo = Repo::initialised();
    let e = repo.json(&[
        "chain",
        "append",
        "--source",
        "deploy",
        "--kind",
        "deploy.finished",
        "--payload-json",
        r#"{"env":"staging","n":3}"#,
    ]);
    assert_eq!(e["seq"], 3);
    assert_eq!(e["payload"]["env"], "staging");
    let payload = repo.file("p.json");
    std::fs::write(&payload, r#"{"b":[1,2],"a":null}"#).expect("write");
    repo.weft(&[
        "chain",
        "append",
        "--source",
        "deploy",
        "--kind",
        "deploy.started",
        "--payload-file",
        payload.to_str().expect("utf8"),
    ])
    .assert()
    .success();
    let head = repo.json(&["chain", "head"]);
    assert_eq!(head["seq"], 4);
    assert_eq!(head["signed_head"]["seq"], 4);

    let out = repo
        .weft(&["chain", "log", "--json"])
        .output()
        .expect("log");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[2]["kind"], "sop.run");
    assert_eq!(lines[4]["kind"], "deploy.started");
    let out = repo
        .weft(&["chain", "log", "--from", "1", "--limit", "2", "--json"])
        .output()
        .expect("log");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    repo.weft(&["chain", "log"])
        .assert()
        .success()
        .stdout(predicate::str::contains("deploy.finished"));

    let before = repo.state();
    for (args, message) in [
        (
            vec![
                "--source",
                "deploy",
                "--kind",
                "other.finished",
                "--payload-json",
                "{}",
            ],
            "kind",
        ),
        (
            vec![
                "--source",
                "Deploy",
                "--kind",
                "Deploy.x",
                "--payload-json",
                "{}",
            ],
            "source",
        ),
        (
            vec![
                "--source",
                "deploy",
                "--kind",
                "deploy.x",
                "--payload-json",
                "{not json",
            ],
            "not valid JSON",
        ),
        (
            vec![
                "--source",
                "deploy",
                "--kind",
                "deploy.x",
                "--payload-file",
                "/nonexistent/p.json",
            ],
            "/nonexistent/p.json",
        ),
    ] {
        let mut full = vec!["chain", "append"];
        full.extend(args);
        repo.weft(&full)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
    repo.weft(&[
        "chain", "append", "--source", "deploy", "--kind", "deploy.x",
    ])
    .assert()
    .code(2);
    repo.weft(&["chain", "bogus"]).assert().code(2);
    assert_eq!(repo.state(), before);
}

#[test]
fn proofs_round_trip_and_tampering_fails() {
    let repo = Repo::initialised();
    repo.append_events(5);
    let proof = repo.file("p.json");
    repo.weft(&["chain", "proof", "3", "-o", proof.to_str().expect("utf8")])
        .assert()
        .success();
    let status = repo.json(&["status"]);
    let pk = status["public_key"].as_str().expect("pk").to_string();
    let checked = repo.json(&[
        "chain",
        "verify-proof",
        proof.to_str().expect("utf8"),
        "--signer",
        &pk,
    ]);
    assert_eq!(checked["valid"], true);
    assert_eq!(checked["seq"], 3);
    assert_eq!(checked["signer_checked"], true);
    // Without --signer a proof is only self-consistent, and the command says so.
    let unchecked = repo.json(&["chain", "verify-proof", proof.to_str().expect("utf8")]);
    assert_eq!(unchecked["signer_checked"], false);
    repo.weft(&["chain", "verify-proof", proof.to_str().expect("utf8")])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "only self-consistency was checked",
        ));
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&proof).expect("read")).expect("json");
    doc["audit_path"][0] = serde_json::Value::String("00".repeat(32));
    let bad = repo.file("bad.json");
    std::fs::write(&bad, doc.to_string()).expect("write");
    repo.weft(&["chain", "verify-proof", bad.to_str().expect("utf8")])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("invalid"));
    repo.weft(&[
        "chain",
        "verify-proof",
        proof.to_str().expect("utf8"),
        "--signer",
        &"11".repeat(32),
    ])
    .assert()
    .code(1);
    repo.weft(&[
        "chain",
        "verify-proof",
        proof.to_str().expect("utf8"),
        "--signer",
        "xyz",
    ])
    .assert()
    .code(2);
    repo.weft(&["chain", "proof", "999"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no event 999"));
    repo.weft(&["chain", "proof", "1", "-o", proof.to_str().expect("utf8")])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("exists"));
}

#[test]
fn export_verify_import_restore() {
    let repo = Repo::initialised();
    repo.append_events(20);
    repo.weft(&[
        "tree",
        "set",
        "/apps/api",
        "--kind",
        "service",
        "--meta",
        "owner=me",
    ])
    .assert()
    .success();
    // A decision waiting for a human: the restore must keep it pending.
    repo.defer_deploys();
    repo.check_deploy().assert().code(3);
    let before = repo.state();
    let file = repo.file("backup.weftseg");
    let f = file.to_str().expect("utf8");
    repo.weft(&["chain", "export", f]).assert().success();
    repo.weft(&["chain", "export", f])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("never overwrites"));
    assert_eq!(repo.json(&["chain", "verify-file", f])["events"], 26);
    let bytes = std::fs::read(&file).expect("read");
    let cut = repo.file("cut.weftseg");
    std::fs::write(&cut, &bytes[..bytes.len() - 64]).expect("write");
    repo.weft(&["chain", "verify-file", cut.to_str().expect("utf8")])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("truncated"));
    repo.weft(&["chain", "import", f])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("empty store"));
    // A restore: the store is gone, the key survived.
    std::fs::remove_dir_all(repo.file(".weftos/chain")).expect("rm");
    repo.weft(&["chain", "import", cut.to_str().expect("utf8")])
        .assert()
        .code(1);
    repo.weft(&["chain", "import", f]).assert().success();
    assert_eq!(repo.state(), before);
    repo.weft(&["chain", "verify"]).assert().success();
    repo.weft(&["tree", "verify"]).assert().success();
    assert_eq!(
        repo.json(&["tree", "get", "/apps/api"])["meta"]["owner"],
        "me"
    );
    let pending = repo.json(&["gate", "pending"]);
    assert!(
        pending.to_string().contains("deploy.prod"),
        "the restore lost the pending decision: {pending}"
    );
}

#[test]
fn tree_commands() {
    let repo = Repo::initialised();
    let root0 = repo.json(&["tree", "root"])["root"]
        .as_str()
        .expect("root")
        .to_string();
    let set = repo.json(&[
        "tree",
        "set",
        "/apps/api",
        "--kind",
        "service",
        "--meta",
        "owner=platform",
        "--meta",
        "tier=1",
    ]);
    assert_ne!(set["root"].as_str().expect("root"), root0);
    let node = repo.json(&["tree", "get", "/apps/api"]);
    assert_eq!(node["kind"], "service");
    assert_eq!(node["meta"]["tier"], "1");
    assert_eq!(node["seq"], set["seq"]);
    let listed = repo.json(&["tree", "ls", "/apps"]);
    assert_eq!(listed.as_array().expect("list").len(), 1);
    let all = repo.json(&["tree", "ls", "/", "-r"]);
    assert!(all.as_array().expect("list").len() >= 10);
    repo.weft(&["tree", "verify"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ok"));
    let before = repo.state();
    repo.weft(&["tree", "set", "/nope/x", "--kind", "service"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("parent /nope"));
    repo.weft(&["tree", "set", "relative", "--kind", "service"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid"));
    repo.weft(&["tree", "set", "/apps/x", "--kind", "Service!"])
        .assert()
        .code(2);
    repo.weft(&[
        "tree", "set", "/apps/x", "--kind", "service", "--meta", "novalue",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("KEY=VALUE"));
    repo.weft(&["tree", "rm", "/kernel"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has children"));
    repo.weft(&["tree", "get", "/missing"]).assert().code(2);
    assert_eq!(repo.state(), before);
    repo.weft(&["tree", "rm", "/apps/api"]).assert().success();
    assert_eq!(
        repo.json(&["tree", "root"])["root"].as_str().expect("root"),
        root0
    );
}

fn configure_production(repo: &Repo) {
    let mut config = std::fs::read_to_string(repo.file("weave.toml")).expect("config");
    config.push_str("\n[governance.environments.production]\nthreshold = 0.6\n\n[[governance.rules]]\nid = \"risky-release-in-production\"\naction = \"release.*\"\nenvironments = [\"production\"]\nwhen = [\"risk > 0.3\"]\nseverity = \"blocking\"\n");
    std::fs::write(repo.file("weave.toml"), config).expect("write");
}

#[test]
fn gate_permit_warn_deny_defer_and_bad_effects() {
    let repo = Repo::initialised();
    configure_production(&repo);
    repo.weft(&[
        "gate", "check", "--action", "deploy", "--effect", "risk=0.1",
    ])
    .assert()
    .code(0)
    .stdout(predicate::str::contains("PERMIT"));
    repo.weft(&[
        "gate", "check", "--action", "deploy", "--effect", "risk=0.5",
    ])
    .assert()
    .code(0)
    .stdout(predicate::str::contains("WARN"));
    repo.weft(&[
        "gate",
        "check",
        "--action",
        "release.publish",
        "--effect",
        "risk=0.9,security=0.2",
    ])
    .assert()
    .code(1)
    .stdout(predicate::str::contains("DENY"));
    let out = repo
        .weft(&[
            "gate",
            "check",
            "--action",
            "release.publish",
            "--effect",
            "risk=0.35",
            "--env",
            "production",
            "--json",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    let deferred: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let id = deferred["id"].as_u64().expect("id").to_string();
    let pending = repo.json(&["gate", "pending"]);
    assert_eq!(
        pending[0]["id"].as_u64().map(|v| v.to_string()),
        Some(id.clone())
    );

    let before = repo.state();
    for (effect, env, message) in [
        ("risk=NaN", None, "not a number"),
        ("risk=1.2", None, "outside [0,1]"),
        ("blast=0.1", None, "unknown dimension"),
        ("", None, "no dimension"),
        ("risk=0.1", Some("moon"), "not configured"),
    ] {
        let mut args = vec!["gate", "check", "--action", "deploy", "--effect", effect];
        if let Some(e) = env {
            args.extend(["--env", e]);
        }
        repo.weft(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
    repo.weft(&["gate", "approve", "12345"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no pending decision"));
    assert_eq!(repo.state(), before, "refused checks record nothing");

    repo.weft(&["gate", "approve", &id, "--note", "ok"])
        .assert()
        .success();
    assert_eq!(
        repo.json(&["gate", "pending"])
            .as_array()
            .expect("list")
            .len(),
        0
    );
    let out = repo
        .weft(&[
            "gate",
            "check",
            "--action",
            "release.hotfix",
            "--effect",
            "risk=0.4",
            "--env",
            "production",
            "--json",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    let second: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let second = second["id"].as_u64().expect("id").to_string();
    let rejected = repo.json(&["gate", "reject", &second, "--note", "not today"]);
    assert_eq!(rejected["kind"], "gate.reject");
    assert_eq!(rejected["payload"]["note"], "not today");
    repo.weft(&["gate", "reject", &second]).assert().code(2);
    let recheck = repo.json(&["gate", "recheck", &id]);
    assert_eq!(recheck["agrees"], true);
    assert_eq!(recheck["recorded"], "defer");
    let rules = repo.json(&["gate", "rules"]);
    assert_eq!(rules["rules"].as_array().expect("rules").len(), 3);
    assert_eq!(rules["hash"].as_str().expect("hash").len(), 64);
}

#[test]
fn witness_and_lineage() {
    let repo = Repo::initialised();
    let other = Repo::initialised();
    let head_file = repo.file("peer-head.json");
    let out = other
        .weft(&["chain", "head", "--json"])
        .output()
        .expect("head");
    std::fs::write(&head_file, &out.stdout).expect("write");
    let w = repo.json(&[
        "witness",
        "add",
        "--head",
        head_file.to_str().expect("utf8"),
        "--local",
        "1",
        "--note",
        "peer linked",
    ]);
    assert_eq!(w["kind"], "witness.head");
    // A head whose signature does not verify is refused.
    let mut doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    doc["signed_head"]["seq"] = 99.into();
    std::fs::write(&head_file, doc.to_string()).expect("write");
    let before = repo.state();
    repo.weft(&[
        "witness",
        "add",
        "--head",
        head_file.to_str().expect("utf8"),
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("does not verify"));
    assert_eq!(repo.state(), before);

    let artifact = repo.file("dist.tar");
    std::fs::write(&artifact, b"release bytes").expect("write");
    let a = repo.json(&[
        "witness",
        "add",
        "--artifact",
        artifact.to_str().expect("utf8"),
    ]);
    assert_eq!(a["kind"], "witness.artifact");
    assert_eq!(a["payload"]["path"], "dist.tar");

    let parent = w["seq"].as_u64().expect("seq").to_string();
    let l = repo.json(&[
        "lineage",
        "add",
        "--child",
        "release/1.0.0",
        "--parent",
        &parent,
        "--derivation",
        "derive",
    ]);
    assert_eq!(
        l["payload"]["parents"][0]["seq"]
            .as_u64()
            .map(|s| s.to_string()),
        Some(parent.clone())
    );
    let before = repo.state();
    repo.weft(&[
        "lineage",
        "add",
        "--child",
        "x",
        "--parent",
        &parent,
        "--parent-hash",
        &"00".repeat(32),
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("is not the hash"));
    repo.weft(&[
        "lineage",
        "add",
        "--child",
        "x",
        "--parent",
        &format!("{}:3", "ab".repeat(16)),
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("--parent-hash"));
    repo.weft(&[
        "lineage",
        "add",
        "--child",
        "x",
        "--parent",
        "1",
        "--derivation",
        "teleport",
    ])
    .assert()
    .code(2);
    assert_eq!(repo.state(), before);
    repo.weft(&["chain", "verify"]).assert().success();
    // Changing the witnessed artifact is caught by verify.
    std::fs::write(&artifact, b"other bytes").expect("write");
    repo.weft(&["chain", "verify"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("artifact"));
}

#[test]
fn a_damaged_store_is_refused_named_and_repaired() {
    let repo = Repo::initialised();
    repo.append_events(8);
    {
        let db = open_raw(&repo);
        let cf = db.cf_handle("events").expect("cf");
        let key = 5u64.to_be_bytes();
        let mut rec = db.get_cf(cf, key).expect("get").expect("present");
        rec[20] ^= 0x01;
        db.put_cf(cf, key, rec).expect("put");
    }
    repo.append("{}")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("damaged at sequence 5"));
    let out = repo
        .weft(&["chain", "verify", "--json"])
        .output()
        .expect("verify");
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["failures"][0]["seq"], 5);
    assert_eq!(report["failures"][0]["kind"], "hash");
    // The events after 5 carried signed heads peers may hold: refused without --force.
    repo.weft(&["chain", "repair"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--force"));
    assert!(repo
        .file(".weftos/quarantine")
        .read_dir()
        .map_or(true, |mut d| d.next().is_none()));
    let r = repo.json(&["chain", "repair", "--force"]);
    assert_eq!(r["kept"], 5);
    assert!(r["signed_heads_dropped"].as_u64() > Some(0), "{r}");
    assert!(
        repo.file(".weftos/quarantine")
            .read_dir()
            .expect("dir")
            .count()
            == 1
    );
    repo.weft(&["chain", "verify"]).assert().success();
    assert_eq!(
        repo.json(&["chain", "log", "--from", "5", "--limit", "1"])["kind"],
        "chain.repair"
    );
    repo.weft(&["chain", "repair"])
        .assert()
        .success()
        .stdout(predicate::str::contains("nothing to repair"));
}

fn open_raw(repo: &Repo) -> rocksdb::DB {
    let mut opts = rocksdb::Options::default();
    opts.create_if_missing(false);
    rocksdb::DB::open_cf(
        &opts,
        repo.file(".weftos/chain"),
        weft_kernel::store::cf::ALL,
    )
    .expect("open raw")
}

#[test]
fn a_second_process_gets_a_lock_error_naming_the_pid() {
    let repo = Repo::initialised();
    let mut holder = repo.spawn_appender();
    // Wait until the holder has the store open: its first acknowledgement.
    use std::io::{BufRead, Write};
    let mut stdin = holder.stdin.take().expect("stdin");
    writeln!(stdin, "{{}}").expect("write");
    let mut line = String::new();
    std::io::BufReader::new(holder.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("ack");
    repo.weft(&["status"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains(format!(
            "locked by pid {}",
            holder.id()
        )));
    drop(stdin);
    assert!(holder.wait().expect("wait").success());
    repo.weft(&["status"]).assert().success();
}

#[test]
fn usage_errors_and_help() {
    let repo = Repo::initialised();
    repo.weft(&["gate", "check", "--action", "x"])
        .assert()
        .code(2);
    let mut cmd = assert_cmd::Command::cargo_bin("weft").expect("bin");
    cmd.args(["-C", "/nonexistent/dir", "status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no such directory"));
    let empty = tempfile::tempdir().expect("tmp");
    let mut cmd = assert_cmd::Command::cargo_bin("weft").expect("bin");
    cmd.arg("-C")
        .arg(empty.path())
        .arg("status")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("weft init"));
    for sub in [
        vec![],
        vec!["chain"],
        vec!["chain", "append"],
        vec!["tree", "set"],
        vec!["gate", "check"],
        vec!["witness", "add"],
        vec!["lineage", "add"],
        vec!["demo"],
    ] {
        let mut args = sub.clone();
        args.push("--help");
        let mut cmd = assert_cmd::Command::cargo_bin("weft").expect("bin");
        cmd.args(&args)
            .assert()
            .success()
            .stdout(predicate::str::contains("Usage"));
    }
}

#[test]
fn demo_runs_end_to_end() {
    let dir = tempfile::tempdir().expect("tmp");
    let keep = dir.path().join("demo");
    let mut cmd = assert_cmd::Command::cargo_bin("weft").expect("bin");
    cmd.args(["demo", "--keep"])
        .arg(&keep)
        .assert()
        .success()
        .stdout(predicate::str::contains("DENY").and(predicate::str::contains("demo complete")));
    assert!(keep.join(".weftos/chain").is_dir());
}

#[test]
fn a_node_without_its_chain_store_says_to_init_and_changes_nothing() {
    let repo = Repo::initialised();
    std::fs::remove_dir_all(repo.file(".weftos/chain")).expect("rm");
    repo.weft(&["status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("weft init"));
    repo.append("{}").assert().code(2);
    assert!(!repo.file(".weftos/chain").exists());
}

/// Fork evidence whose later head sits at sequence 2^64-1, as a hostile client sent it:
/// `weft evidence verify` says it is not evidence (exit 1), never panics (101).
#[test]
fn evidence_with_a_head_past_the_largest_sequence_is_refused_not_a_crash() {
    use weft_kernel::event::ChainId;
    use weft_kernel::hash::Hash;
    use weft_kernel::head::SignedHead;
    use weft_kernel::keys::NodeKey;
    let key = NodeKey::from_seed(&[9; 32]);
    let head = |seq, fill| {
        SignedHead::sign(
            &key,
            ChainId([7; 16]),
            seq,
            Hash([fill; 32]),
            Hash([fill; 32]),
            1,
        )
        .encode()
    };
    let mut cbor = Vec::new();
    ciborium::into_writer(
        &ciborium::value::Value::Map(vec![
            ("first".into(), ciborium::value::Value::Bytes(head(1, 1))),
            (
                "second".into(),
                ciborium::value::Value::Bytes(head(u64::MAX, 2)),
            ),
            (
                "fork".into(),
                ciborium::value::Value::Map(vec![
                    (
                        "event_hash".into(),
                        ciborium::value::Value::Bytes(vec![3; 32]),
                    ),
                    ("audit_path".into(), ciborium::value::Value::Array(vec![])),
                ]),
            ),
        ]),
        &mut cbor,
    )
    .expect("encode");
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("evidence.cbor");
    std::fs::write(&file, &cbor).expect("write");
    let mut cmd = assert_cmd::Command::cargo_bin("weft").expect("bin");
    let out = cmd
        .args(["evidence", "verify"])
        .arg(&file)
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(1),
        "not evidence, and no panic (101)"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("NOT evidence"));
}

/// Events of weft's own subsystems cannot be appended raw: a `witness.head` without a
/// head once made the next open call the store damaged; a raw `gate.approve` or
/// `tree.set` would forge an approval or desync the tree.
#[test]
fn raw_appends_of_reserved_sources_are_refused_and_change_nothing() {
    let repo = Repo::initialised();
    let before = repo.state();
    for source in weft_kernel::event::RESERVED_SOURCES {
        let kind = format!("{source}.head");
        repo.weft(&["chain", "append", "--source", source, "--kind", &kind])
            .args(["--payload-json", "{}"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("reserved"));
        repo.weft(&["chain", "append", "--source", source, "--kind", &kind])
            .arg("--stdin-lines")
            .write_stdin("{}\n")
            .assert()
            .code(2);
    }
    assert_eq!(repo.state(), before);
    repo.weft(&["chain", "verify"]).assert().success();
    // A source of the user's own is appended as before.
    repo.weft(&["chain", "append", "--source", "ci", "--kind", "ci.tagged"])
        .args(["--payload-json", r#"{"tag":"v1"}"#])
        .assert()
        .success();
    assert_eq!(repo.state().0, before.0 + 1);
}

/// `chain export FILE` writes `FILE.partial` (as documented), never another file: a
/// `backup.partial` beside `backup.weftseg` was once overwritten and renamed away.
#[test]
fn export_writes_its_own_partial_file_and_leaves_others_alone() {
    let repo = Repo::initialised();
    repo.append_events(3);
    let other = repo.file("backup.partial");
    std::fs::write(&other, b"someone else's").expect("write");
    repo.weft(&["chain", "export", "backup.weftseg"])
        .assert()
        .success();
    assert_eq!(std::fs::read(&other).expect("read"), b"someone else's");
    assert!(!repo.file("backup.weftseg.partial").exists());
    repo.weft(&["chain", "verify-file", "backup.weftseg"])
        .assert()
        .success();
    // An export whose own partial file is there refuses rather than write over it.
    std::fs::write(repo.file("second.weftseg.partial"), b"in progress").expect("write");
    repo.weft(&["chain", "export", "second.weftseg"])
        .assert()
        .failure();
    assert_eq!(
        std::fs::read(repo.file("second.weftseg.partial")).expect("read"),
        b"in progress"
    );
}

/// `chain verify` checks what lineage records say of other chains' events against the
/// chains it can read (here a local-path peer's): a wrong hash is a failure, a chain it
/// cannot read is counted as unchecked, never passed off as checked.
#[test]
fn references_to_other_chains_are_checked_against_the_chains_this_node_reads() {
    let (node, other) = (Repo::initialised(), Repo::initialised());
    node.weft(&["peers", "add", "other", "--path"])
        .arg(other.path())
        .assert()
        .success();
    let genesis = other.json(&["chain", "log", "--limit", "1"]);
    let chain = genesis["chain_id"].as_str().expect("chain id").to_string();
    let hash = genesis["hash"].as_str().expect("hash").to_string();
    let lineage = |parent: &str, hash: &str| {
        node.weft(&[
            "lineage",
            "add",
            "--child",
            "x",
            "--parent",
            parent,
            "--parent-hash",
            hash,
        ])
        .assert()
        .success();
    };
    lineage(&format!("{chain}:0"), &hash);
    lineage(&format!("{}:0", "ab".repeat(16)), &"cd".repeat(32));
    let report = node.json(&["chain", "verify"]);
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(
        report["references"],
        serde_json::json!({"matched": 1, "mismatched": 0, "unchecked": 1})
    );

    lineage(&format!("{chain}:0"), &"ee".repeat(32));
    let out = node
        .weft(&["chain", "verify", "--json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["references"]["mismatched"], 1, "{report}");
    let failure = &report["failures"][0];
    assert_eq!(failure["kind"], "reference");
    assert!(
        failure["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&hash)),
        "names what the chain holds: {report}"
    );
}
