//! docs/sops.md as written: every `sh` block of the document, in order, runs in one bash
//! (`-euo pipefail`, so any command that fails fails the test) on a fresh repository
//! with a peer beside it, with this build's `weft` first on PATH. Then the chain must
//! hold one `sop.run` per SOP operation the document ran.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// The `sh` blocks of a Markdown document, in order.
fn sh_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(current.is_none(), "an unterminated sh block");
    blocks
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=Dev", "-c", "user.email=dev@example.org"])
        .args(args)
        .current_dir(dir)
        .status()
        .expect("git");
    assert!(status.success(), "git {args:?} in {}", dir.display());
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// `backend`: a crate tagged v1.0.0 whose `greet` then gains a parameter; `frontend`
/// beside it, calling `greet`, already a node (its own SOP 1).
fn projects(root: &Path) {
    let backend = root.join("backend");
    let frontend = root.join("frontend");
    for dir in [&backend, &frontend] {
        std::fs::create_dir_all(dir).expect("mkdir");
        git(dir, &["init", "-q", "-b", "main"]);
    }
    write(
        &backend,
        "Cargo.toml",
        "[package]\nname = \"backend\"\nversion = \"1.0.0\"\n",
    );
    write(
        &backend,
        "src/lib.rs",
        "/// Greets a user.\npub fn greet(name: &str) -> String {\n    format!(\"hello {name}\")\n}\n",
    );
    git(&backend, &["add", "-A"]);
    git(&backend, &["commit", "-qm", "backend 1.0.0"]);
    git(&backend, &["tag", "v1.0.0"]);
    write(
        &backend,
        "src/lib.rs",
        "/// Greets a user, loudly when asked.\npub fn greet(name: &str, loud: bool) -> String {\n    if loud { name.to_uppercase() } else { format!(\"hello {name}\") }\n}\n",
    );
    git(&backend, &["commit", "-qam", "feat: greet can shout"]);
    write(
        &frontend,
        "Cargo.toml",
        "[package]\nname = \"frontend\"\n\n[dependencies]\nbackend = { path = \"../backend\" }\n",
    );
    write(
        &frontend,
        "src/main.rs",
        "use backend::greet;\n\nfn main() {\n    println!(\"{}\", greet(\"ada\", false));\n}\n",
    );
    git(&frontend, &["add", "-A"]);
    git(&frontend, &["commit", "-qm", "frontend"]);
    let init = Command::new(weft_tests::weft_binary())
        .args(["-C", frontend.to_str().expect("utf-8"), "init"])
        .output()
        .expect("weft init");
    assert!(init.status.success(), "the peer's SOP 1: {init:?}");
}

#[test]
fn every_command_of_docs_sops_md_runs_as_written_on_a_fresh_repository() {
    let doc = std::fs::read_to_string(weft_tests::workspace_root().join("docs/sops.md"))
        .expect("docs/sops.md");
    for sop in 1..=5 {
        assert!(
            doc.contains(&format!("## SOP {sop}:")),
            "SOP {sop} is missing"
        );
    }
    let blocks = sh_blocks(&doc);
    assert!(blocks.len() >= 8, "only {} sh blocks", blocks.len());
    let script = blocks.concat();
    for command in [
        "weft init",
        "weft assess init",
        "weft assess run --scope ci --format github-annotations",
        "weft coordinate impact",
        "weft stats",
    ] {
        assert!(script.contains(command), "the SOPs never run `{command}`");
    }

    let root = tempfile::tempdir().expect("tmp");
    projects(root.path());
    let backend = root.path().join("backend");
    let bin = weft_tests::weft_binary();
    let path = format!(
        "{}:{}",
        bin.parent().expect("bin dir").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(&backend)
        .env("PATH", path)
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "docs/sops.md failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // Every SOP operation the document ran is on the chain, read back by weft stats.
    let stats = Command::new(&bin)
        .args(["-C", backend.to_str().expect("utf-8"), "stats", "--json"])
        .output()
        .expect("stats");
    assert!(stats.status.success());
    let stats: Value = serde_json::from_slice(&stats.stdout).expect("json");
    let ran: Vec<(u64, &str, u64)> = stats["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .map(|op| {
            (
                op["sop"].as_u64().expect("sop"),
                op["command"].as_str().expect("command"),
                op["runs"].as_u64().expect("runs"),
            )
        })
        .collect();
    for (sop, command, runs) in [
        (1, "init", 1),
        (2, "assess init", 2),
        (3, "coordinate impact", 1),
        (3, "coordinate release", 1),
        (4, "assess run", 2),
    ] {
        assert!(
            ran.contains(&(sop, command, runs)),
            "{command}: expected {runs} run(s) of SOP {sop}, stats has {ran:?}"
        );
    }
    assert_eq!(
        stats["unreadable"], 0,
        "every sop.run event reads back: {stats}"
    );
}
