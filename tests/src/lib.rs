//! Helpers for every test that drives the `weft` binary (the CLI's own tests and the
//! multi-node ones): throw-away git repositories and a `weft` runner. The binary is the
//! one cargo built into the target directory (`cargo test --workspace` builds it).

#![deny(missing_docs)]

pub mod linearizability;
pub mod powercut;

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// `weft chain append` of a `t.e` event from source `t`: the test events.
const APPEND_TE: [&str; 6] = ["chain", "append", "--source", "t", "--kind", "t.e"];

/// The `weft` binary cargo built, with a clear failure when it is not there (a test
/// binary of another package than the CLI's is not told its path by cargo).
pub fn weft_binary() -> PathBuf {
    let path = assert_cmd::cargo::cargo_bin("weft");
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --bin weft` (or `cargo test --workspace`) first",
        path.display()
    );
    path
}

/// The workspace's root, as cargo tells the running test. Read at run time, not with
/// `env!`: the shared target directory may hold a test binary built from another clone
/// whose sources did not change, and its baked-in path would point into that clone.
pub fn workspace_root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .expect("CARGO_MANIFEST_DIR is set: run the tests with cargo test");
    PathBuf::from(manifest)
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// A throw-away git repository, removed when dropped.
pub struct Repo {
    /// Its directory.
    pub dir: tempfile::TempDir,
}

impl Default for Repo {
    fn default() -> Repo {
        Repo::new()
    }
}

impl Repo {
    /// A git repository with a little code, not yet initialised.
    pub fn new() -> Repo {
        let dir = tempfile::tempdir().expect("tmp");
        let status = std::process::Command::new("git")
            .args(["init", "-q", "-b", "trunk"])
            .current_dir(dir.path())
            .status()
            .expect("git");
        assert!(status.success());
        std::fs::create_dir_all(dir.path().join("src")).expect("mkdir");
        std::fs::write(dir.path().join("src/lib.rs"), "pub fn f() {}\n").expect("write");
        std::fs::write(dir.path().join("src/main.rs"), "fn main() {}\n").expect("write");
        std::fs::write(dir.path().join("tool.py"), "x = 1\n").expect("write");
        Repo { dir }
    }

    /// Runs git in the repository as a fixed author; fails the test when git does.
    pub fn git(&self, args: &[&str]) {
        let status = std::process::Command::new("git")
            .args(["-c", "user.name=Dev", "-c", "user.email=dev@example.org"])
            .args(args)
            .current_dir(self.path())
            .status()
            .expect("git");
        assert!(status.success(), "git {args:?}");
    }

    /// An initialised upstream crate `up`, tagged v1.0.0, whose `pub fn f()` then took a
    /// parameter (a breaking change for every caller).
    pub fn upstream_whose_f_took_a_flag() -> Repo {
        let up = Repo::new();
        std::fs::write(
            up.file("Cargo.toml"),
            "[package]\nname = \"up\"\nversion = \"1.0.0\"\n",
        )
        .expect("write");
        up.git(&["add", "-A"]);
        up.git(&["commit", "-qm", "v1"]);
        up.git(&["tag", "v1.0.0"]);
        std::fs::write(up.file("src/lib.rs"), "pub fn f(strict: bool) {}\n").expect("write");
        up.git(&["commit", "-qam", "f takes a flag"]);
        up.weft(&["init"]).assert().success();
        up
    }

    /// A repository after `weft init`.
    pub fn initialised() -> Repo {
        let repo = Repo::new();
        repo.weft(&["init"]).assert().success();
        repo
    }

    /// The repository root.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside the repository.
    pub fn file(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `weft -C <repo> args...`.
    pub fn weft(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(weft_binary());
        cmd.arg("-C").arg(self.path()).args(args);
        cmd
    }

    /// Runs and parses JSON standard output.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.weft(args).arg("--json").output().expect("run");
        assert!(
            out.status.success(),
            "weft {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("json")
    }

    /// `weft chain append --source t --kind t.e --payload-json PAYLOAD`.
    pub fn append(&self, payload: &str) -> Command {
        let mut cmd = self.weft(&APPEND_TE);
        cmd.args(["--payload-json", payload]);
        cmd
    }

    /// Appends `toml` to the repository's weave.toml.
    pub fn append_config(&self, toml: &str) {
        let file = self.file("weave.toml");
        let mut text = std::fs::read_to_string(&file).expect("weave.toml");
        text.push_str(toml);
        std::fs::write(&file, text).expect("write weave.toml");
    }

    /// Adds a governance rule that defers every `deploy.*` action with `risk >= 0.1` to
    /// a human (`weft gate check` exits 3).
    pub fn defer_deploys(&self) {
        self.append_config(
            "\n[[governance.rules]]\nid = \"deploys-wait\"\naction = \"deploy.*\"\nwhen = [\"risk >= 0.1\"]\nseverity = \"blocking\"\nmessage = \"deploys wait for approval\"\n",
        );
    }

    /// `weft gate check` of a production deploy at risk 0.3, which the rule of
    /// [`Repo::defer_deploys`] defers (add `--json` and the like with `.arg`).
    pub fn check_deploy(&self) -> Command {
        self.weft(&[
            "gate",
            "check",
            "--action",
            "deploy.prod",
            "--effect",
            "risk=0.3",
        ])
    }

    /// Appends `n` small `t.e` events.
    pub fn append_events(&self, n: u64) {
        for i in 0..n {
            self.append(&format!("{{\"i\":{i}}}")).assert().success();
        }
    }

    /// Starts `weft chain append --stdin-lines` with piped standard input and output.
    pub fn spawn_appender(&self) -> std::process::Child {
        std::process::Command::new(weft_binary())
            .arg("-C")
            .arg(self.path())
            .args(APPEND_TE)
            .arg("--stdin-lines")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn")
    }

    /// Chain length (a chain is never empty: it starts with its genesis).
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u64 {
        self.json(&["status"])["length"].as_u64().expect("length")
    }

    /// (length, head hash, tree root): what "nothing changed" compares.
    pub fn state(&self) -> (u64, String, String) {
        let s = self.json(&["status"]);
        (
            s["length"].as_u64().expect("length"),
            s["head"]["hash"].as_str().expect("head").to_string(),
            s["tree_root"].as_str().expect("tree").to_string(),
        )
    }
}
