//! `weft coordinate` end to end through the binary: link (witnesses both ways), impact
//! in each format with its exit codes, refusals that change nothing, and a deferred
//! release published after the peer's acknowledgement.

use weft_tests::Repo;

/// An upstream crate `up` tagged v1.0.0, whose `f` then changes signature, and an app
/// that calls it; both initialised, the app linked from the upstream.
fn pair() -> (Repo, Repo) {
    let up = Repo::upstream_whose_f_took_a_flag();

    let app = Repo::new();
    std::fs::write(
        app.file("Cargo.toml"),
        format!(
            "[package]\nname = \"app\"\n\n[dependencies]\nup = {{ path = {:?} }}\n",
            up.path()
        ),
    )
    .expect("write");
    std::fs::write(
        app.file("src/main.rs"),
        "use up::f;\n\nfn main() {\n    f();\n}\n",
    )
    .expect("write");
    app.git(&["add", "-A"]);
    app.git(&["commit", "-qm", "app"]);
    app.weft(&["init"]).assert().success();
    (up, app)
}

#[test]
fn link_witnesses_both_heads_and_impact_reports_the_call_site() {
    let (up, app) = pair();
    let app_path = app.path().to_str().expect("utf-8");
    let linked = up.json(&["coordinate", "link", "app", "--path", app_path]);
    assert!(linked["witness"]["seq"].is_u64(), "{linked}");
    assert!(linked["reverse"]["seq"].is_u64(), "{linked}");
    // The app's chain holds the upstream's head as a `link` witness.
    let out = app.weft(&["chain", "log", "--json"]).output().expect("log");
    let witnessed = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .any(|e| {
            e["kind"] == "witness.head"
                && e["payload"]["note"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("link "))
        });
    assert!(witnessed, "no link witness on the app's chain");

    let report = up.json(&["coordinate", "impact"]);
    assert_eq!(report["schema"], "weft.impact/1");
    let peer = &report["peers"][0];
    assert_eq!(peer["name"], "app");
    assert_eq!(peer["state"], "affected");
    assert_eq!(peer["severity"], "breaking");
    let lines: Vec<u64> = peer["files"][0]["uses"]
        .as_array()
        .expect("uses")
        .iter()
        .map(|u| u["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(lines, [1, 4]);

    let sarif = up.json(&["coordinate", "impact", "--format", "sarif"]);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["ruleId"], "coordinate/breaking-use");
    let location = &results[1]["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "src/main.rs");
    assert_eq!(location["artifactLocation"]["uriBaseId"], "app");
    assert_eq!(location["region"]["startLine"], 4);

    // --fail-on breaking fails the run; the report is still recorded.
    let before = up.len();
    up.weft(&["coordinate", "impact", "--fail-on", "breaking"])
        .assert()
        .code(1)
        .stdout(predicates::str::contains("src/main.rs:4"));
    // coordinate.impact, then the run's sop.run record (outcome refused).
    assert_eq!(
        up.len(),
        before + 2,
        "coordinate.impact and sop.run recorded"
    );
}

#[test]
fn bad_arguments_are_refused_and_change_nothing() {
    let (up, app) = pair();
    let config = std::fs::read_to_string(up.file("weave.toml")).expect("read");
    let len = up.len();
    up.weft(&["coordinate", "impact", "--peer", "nobody"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no such linked peer"));
    up.weft(&["coordinate", "impact", "--since", "no-such-tag"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not a revision"));
    up.weft(&["coordinate", "link", "ghost", "--path", "/nonexistent/repo"])
        .assert()
        .code(2);
    up.weft(&["coordinate", "release", "../etc"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("version"));
    up.weft(&["coordinate", "ack", "app", "1.0"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no linked peer"));
    assert_eq!(
        std::fs::read_to_string(up.file("weave.toml")).expect("read"),
        config
    );
    assert_eq!(up.len(), len, "nothing appended");
    drop(app);
}

/// [`pair`], with `up` deferring a risky release until its peers acknowledge it.
fn pair_deferring_breaking_releases() -> (Repo, Repo) {
    let (up, app) = pair();
    let rule = "\n[[governance.rules]]\nid = \"breaking-unacknowledged\"\naction = \"release.*\"\nwhen = [\"risk >= 0.5\"]\nseverity = \"blocking\"\n";
    let config = std::fs::read_to_string(up.file("weave.toml")).expect("read");
    std::fs::write(up.file("weave.toml"), format!("{config}{rule}")).expect("write");
    (up, app)
}

#[test]
fn a_deferred_release_is_published_once_the_peer_acknowledges() {
    let (up, app) = pair_deferring_breaking_releases();
    up.weft(&[
        "coordinate",
        "link",
        "app",
        "--path",
        app.path().to_str().expect("utf-8"),
    ])
    .assert()
    .success();
    up.weft(&["coordinate", "release", "2.0.0"])
        .assert()
        .code(3)
        .stdout(predicates::str::contains("deferred"));

    app.weft(&[
        "coordinate",
        "link",
        "up",
        "--path",
        up.path().to_str().expect("utf-8"),
    ])
    .assert()
    .success();
    let status = app.json(&["coordinate", "status"]);
    assert_eq!(status["upstream"][0]["version"], "2.0.0");
    assert_eq!(status["upstream"][0]["acknowledged"], false);
    let ack = app.json(&["coordinate", "ack", "up", "2.0.0", "--note", "ready"]);
    assert_eq!(ack["published"], false);
    app.weft(&["chain", "verify"]).assert().success();

    let done = up.json(&["coordinate", "release", "2.0.0"]);
    assert_eq!(done["outcome"], "published", "{done}");
    assert_eq!(done["peers"][0]["acknowledged"], true);
    let status = up.json(&["coordinate", "status"]);
    assert_eq!(status["releases"][0]["state"], "published");
    assert_eq!(status["releases"][0]["peers"][0]["acknowledged"], true);
    up.weft(&["tree", "get", "/releases/2.0.0"])
        .assert()
        .success();
    up.weft(&["chain", "verify"]).assert().success();
}

#[test]
fn an_acknowledgement_counts_only_from_the_peers_trusted_key() {
    let (up, app) = pair_deferring_breaking_releases();
    let path_of = |repo: &Repo| {
        repo.path()
            .canonicalize()
            .expect("canonical")
            .to_string_lossy()
            .into_owned()
    };
    up.weft(&["coordinate", "link", "app", "--path", &path_of(&app)])
        .assert()
        .success();
    up.weft(&["coordinate", "release", "2.0.0"])
        .assert()
        .code(3);

    // Another key acknowledges, and its node's state takes the place of app's (the
    // sources, and so the impact, stay app's).
    let impostor = Repo::initialised();
    impostor
        .weft(&["coordinate", "link", "up", "--path", &path_of(&up)])
        .assert()
        .success();
    impostor
        .weft(&["coordinate", "ack", "up", "2.0.0"])
        .assert()
        .success();
    std::fs::remove_dir_all(app.file(".weftos")).expect("remove app's state");
    let copied = std::process::Command::new("cp")
        .arg("-a")
        .arg(impostor.file(".weftos"))
        .arg(app.file(".weftos"))
        .status()
        .expect("cp");
    assert!(copied.success());

    up.weft(&["coordinate", "release", "2.0.0"])
        .assert()
        .code(3)
        .stdout(predicates::str::contains("deferred"));
    let status = up.json(&["coordinate", "status"]);
    assert_eq!(
        status["releases"][0]["peers"][0]["acknowledged"], false,
        "{status}"
    );
    let peers = up.json(&["peers"]);
    assert_eq!(peers["peers"][0]["flags"][0], "key-changed", "{peers}");
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

/// Everything of a peer's impact entry but how it was reached.
fn findings(peer: &serde_json::Value) -> serde_json::Value {
    let mut peer = peer.clone();
    for key in ["name", "via"] {
        peer.as_object_mut().expect("peer").remove(key);
    }
    peer
}

#[test]
fn a_peer_asked_over_the_mesh_answers_as_when_read_directly() {
    let (up, app) = pair();
    let up_path = up.path().to_str().expect("utf-8");
    let app_path = app.path().to_str().expect("utf-8");
    // The app lists the upstream by path: its key is trusted, so its questions are
    // answered.
    app.weft(&["peers", "add", "up", "--path", up_path])
        .assert()
        .success();
    let _daemons = Daemons(vec![&app, &up]);
    app.weft(&["node", "start"]).assert().success();
    up.weft(&["node", "start"]).assert().success();
    let status = app.json(&["node", "status"]);
    let peer_id = status["peer_id"].as_str().expect("peer id").to_string();
    let addr = status["listen"][0]
        .as_str()
        .expect("listening")
        .split("/p2p/")
        .next()
        .expect("addr")
        .to_string();
    // The same repository linked twice: once read directly, once over the mesh only.
    up.json(&["coordinate", "link", "app", "--path", app_path]);
    up.json(&[
        "coordinate",
        "link",
        "app-mesh",
        "--addr",
        &addr,
        "--peer-id",
        &peer_id,
    ]);

    let report = up.json(&["coordinate", "impact"]);
    let peers = report["peers"].as_array().expect("peers");
    let by = |name: &str| {
        peers
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing from {report}"))
    };
    assert_eq!(by("app")["via"], "path");
    assert_eq!(by("app-mesh")["via"], "mesh");
    assert_eq!(by("app-mesh")["state"], "affected", "{}", by("app-mesh"));
    assert_eq!(findings(by("app")), findings(by("app-mesh")));

    // Symbol look-ups agree too, and so do searches.
    let direct = up.json(&["symbols", "--peer", "app"]);
    let meshed = up.json(&["symbols", "--peer", "app-mesh"]);
    assert_eq!(meshed["via"], "mesh");
    assert_eq!(direct["symbols"], meshed["symbols"]);
    assert!(direct["symbols"]
        .as_array()
        .expect("symbols")
        .iter()
        .any(|s| s["path"] == "src/main.rs" && s["symbol"]["name"] == "main"));
    // Searches go to peers whose advert says they hold an index: once the app has built
    // its own, and advertised it, the upstream's search reaches it both ways.
    app.weft(&["search", "anything"]).assert().success();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let found = loop {
        let found = up.json(&["search", "entry point main", "--peers", "-k", "20"]);
        let answered = found["peers"]
            .as_array()
            .expect("peers")
            .iter()
            .filter(|p| p["state"] == "answered")
            .count();
        if answered == 2 {
            break found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not every peer answered: {found}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    let hits = |project: &str| -> Vec<(String, String)> {
        found["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .filter(|h| h["project"] == project)
            .map(|h| (h["path"].to_string(), h["qualified"].to_string()))
            .collect()
    };
    assert!(hits("app-mesh").contains(&("\"src/main.rs\"".into(), "\"main\"".into())));
    assert_eq!(hits("app"), hits("app-mesh"), "{found}");
    // Both answers name the app chain's record of its index, and the upstream finds
    // that record in its copy of the app's chain.
    let index_of = |name: &str| {
        found["peers"]
            .as_array()
            .expect("peers")
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["index"].clone())
            .expect("listed")
    };
    assert_eq!(index_of("app")["checked"], "replica", "{found}");
    assert_eq!(index_of("app"), index_of("app-mesh"), "{found}");
    let record = app.json(&[
        "chain",
        "log",
        "--from",
        &index_of("app")["seq"].to_string(),
        "--limit",
        "1",
    ]);
    assert_eq!(record["kind"], "graph.index", "{record}");
    assert_eq!(record["hash"], index_of("app")["event"]);
    // A fan-out cut short asks the local-path peer first and reports the other skipped.
    let cut = up.json(&["search", "entry point main", "--peers", "--max-peers", "1"]);
    let state = |name: &str| {
        cut["peers"]
            .as_array()
            .and_then(|peers| peers.iter().find(|p| p["name"] == name))
            .map(|p| p["state"].clone())
    };
    assert_eq!(state("app"), Some("answered".into()), "{cut}");
    assert_eq!(state("app-mesh"), Some("skipped".into()), "{cut}");

    // A node the app does not trust is answered nothing.
    let stranger = Repo::initialised();
    let _stranger_daemon = Daemons(vec![&stranger]);
    stranger.weft(&["node", "start"]).assert().success();
    stranger.json(&[
        "coordinate",
        "link",
        "app",
        "--addr",
        &addr,
        "--peer-id",
        &peer_id,
    ]);
    stranger
        .weft(&["symbols", "--peer", "app"])
        .assert()
        .code(4)
        .stderr(predicates::str::contains("trust set"));
}
