//! `weft ui` in a real browser: Debian's chromium, headless, driven by playwright-core
//! (`node/ui/tests/e2e.mjs`). On a generated organisation the impact view shows both
//! breaking peers with the breaking use's file and line; the chain view verifies an
//! inclusion proof in the page and shows it failed when the server serves a tampered
//! one; the mesh view shows a peer going from connected to not connected when its
//! daemon stops, and on a cluster member it lists the members with one leader. Screenshots land in `$CARGO_TARGET_DIR/ui-screenshots/`.
//!
//! Without chromium or the page's npm packages the tests say so and pass, unless
//! `WEFT_REQUIRE_BROWSER` is set (CI), where that is a failure.

use super::mesh::{mesh, start, stop};
use super::ui::{org, start_ui};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

const CHROMIUM: &str = "/usr/bin/chromium";

/// The e2e driver, or None (with the reason printed) when this machine cannot run it.
fn driver() -> Option<PathBuf> {
    let ui = weft_tests::workspace_root().join("node/ui");
    let script = ui.join("tests/e2e.mjs");
    let missing = if !std::path::Path::new(CHROMIUM).exists() {
        Some(format!("{CHROMIUM} (bash scripts/browser.sh)"))
    } else if !ui.join("node_modules/playwright-core").is_dir() {
        Some("node/ui/node_modules (bash scripts/ui.sh)".to_string())
    } else {
        None
    };
    match missing {
        None => Some(script),
        Some(what) if std::env::var_os("WEFT_REQUIRE_BROWSER").is_some() => {
            panic!("the browser tests need {what}")
        }
        Some(what) => {
            eprintln!("skipped: the browser tests need {what}");
            None
        }
    }
}

fn screenshot(name: &str) -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| weft_tests::workspace_root().join("target"))
        .join("ui-screenshots");
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir.join(format!("{name}.png"))
}

fn scenario(
    script: &std::path::Path,
    name: &str,
    url: &str,
    expect: &Value,
    shot: &str,
) -> Command {
    let mut cmd = Command::new("node");
    cmd.arg(script)
        .arg(name)
        .args(["--url", url])
        .args(["--expect", &expect.to_string()])
        .arg("--shot")
        .arg(screenshot(shot))
        .args(["--timeout-ms", "60000"]);
    cmd
}

fn run(mut cmd: Command) {
    let out = cmd.output().expect("run node");
    assert!(
        out.status.success(),
        "e2e failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_impact_view_shows_both_breaking_peers_and_the_breaking_lines() {
    let Some(script) = driver() else { return };
    let org = org();
    let mut uses = serde_json::Map::new();
    for peer in org.report["peers"].as_array().expect("peers") {
        let lines: Vec<String> = peer["files"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|f| {
                let path = f["path"].as_str().unwrap_or("").to_string();
                f["uses"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|u| u["class"] == "breaking")
                    .map(move |u| format!("{path}:{}", u["line"]))
            })
            .collect();
        assert!(!lines.is_empty(), "{peer}");
        uses.insert(
            peer["name"].as_str().expect("name").to_string(),
            json!(lines),
        );
    }
    let ui = start_ui(org.up.path(), &[]);
    let names: Vec<&str> = org.peers.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(uses.len(), names.len(), "{uses:?}");
    let expect = json!({"peers": names, "uses": uses});
    let mut cmd = scenario(&script, "impact", &ui.url, &expect, "impact");
    cmd.arg("--code-shot").arg(screenshot("code"));
    run(cmd);
}

#[test]
fn the_chain_view_verifies_a_proof_in_the_page_and_fails_a_tampered_one() {
    let Some(script) = driver() else { return };
    let org = org();
    let seq = org.up.len() - 1;
    let honest = start_ui(org.up.path(), &[]);
    run(scenario(
        &script,
        "proof",
        &honest.url,
        &json!({"seq": seq, "status": "verified"}),
        "chain-verified",
    ));
    let lying = start_ui(org.up.path(), &["--serve-tampered-proofs"]);
    run(scenario(
        &script,
        "proof",
        &lying.url,
        &json!({"seq": seq, "status": "failed"}),
        "chain-tampered",
    ));
}

#[test]
fn the_mesh_view_of_a_cluster_member_lists_every_member_and_one_leader() {
    let Some(script) = driver() else { return };
    let (a, _b, _c, _token) = super::cluster::three_members();
    let ui = start_ui(a.repo.path(), &[]);
    let expect = json!({"members": ["a", "b", "c"]});
    run(scenario(
        &script,
        "members",
        &ui.url,
        &expect,
        "mesh-cluster",
    ));
}

#[test]
fn the_mesh_view_shows_a_peer_going_away_when_its_daemon_stops() {
    let Some(script) = driver() else { return };
    let mesh = mesh(2, &[&[1], &[0]]);
    let (here, there) = (mesh.repos[0].path(), mesh.repos[1].path());
    start(here);
    start(there);
    let ui = start_ui(here, &[]);
    let mut child = scenario(&script, "mesh", &ui.url, &json!({"peer": "n1"}), "mesh")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run node");
    let stdout = child.stdout.take().expect("stdout");
    let mut seen = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read");
        let ready = line.trim() == "READY";
        seen.push(line);
        if ready {
            stop(there);
            break;
        }
    }
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "e2e mesh failed after {seen:?}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(seen.iter().any(|l| l.trim() == "READY"), "{seen:?}");
}
