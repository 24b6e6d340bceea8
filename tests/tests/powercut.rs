//! Power cuts: a node whose `.weftos/` sits on a filesystem that forgets every unsynced
//! write ([`weft_tests::powercut`]) keeps its key, its genesis and every acknowledged
//! event across a cut, and its chain reopens and verifies. Unlike a SIGKILL, which the
//! page cache survives, a cut here loses whatever a missing fsync left behind; the first
//! tests show that the layer does lose it.
//!
//! Each test needs root and /dev/fuse; without them it fails and says why, unless
//! `WEFT_SKIP_POWERCUT=1`.

use serde_json::Value;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use weft_tests::powercut::PowerCutFs;

/// `weft chain append` of a `t.e` event from source `t`.
const APPEND_TE: [&str; 6] = ["chain", "append", "--source", "t", "--kind", "t.e"];

/// An event as `weft chain log --json` or `append --json` prints it: its sequence, and
/// its payload and hash.
fn event_of(v: &Value) -> (u64, (Value, String)) {
    let seq = v["seq"].as_u64().expect("seq");
    let hash = v["hash"].as_str().expect("hash").to_string();
    (seq, (v["payload"].clone(), hash))
}

/// Longest any one acknowledgement is waited for.
const WAIT: Duration = Duration::from_secs(60);

/// Lines fed beyond the acknowledgements a round waits for, so the kill lands while the
/// writer is still busy.
const IN_FLIGHT: u64 = 20;

fn sync_dir(dir: &Path) {
    File::open(dir)
        .expect("open dir")
        .sync_all()
        .expect("fsyncdir");
}

fn write_synced(path: &Path, bytes: &[u8]) {
    let mut file = File::create(path).expect("create");
    file.write_all(bytes).expect("write");
    file.sync_all().expect("fsync");
}

/// A new directory `d` whose name is durable.
fn synced_subdir(fs: &PowerCutFs) -> PathBuf {
    let dir = fs.path().join("d");
    std::fs::create_dir(&dir).expect("mkdir");
    sync_dir(fs.path());
    dir
}

fn read(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}

#[test]
fn layer_loses_a_file_written_without_fsync() {
    let Some(mut fs) = PowerCutFs::mount_or_skip() else {
        return;
    };
    let never = fs.path().join("never");
    std::fs::write(&never, b"neither file nor directory synced").expect("write");
    let cut = fs.power_cut().expect("cut");
    assert_eq!(read(&never), None);
    assert_eq!(cut.dropped, ["/never"], "{cut:?}");

    // Only the directory is synced: the name survives, the data does not.
    let named = fs.path().join("named");
    std::fs::write(&named, b"named but not synced").expect("write");
    sync_dir(fs.path());
    fs.power_cut().expect("cut");
    assert_eq!(read(&named), Some(Vec::new()));

    // An unsynced overwrite of a durable file is undone.
    write_synced(&named, b"synced");
    std::fs::write(&named, b"overwritten, not synced").expect("write");
    fs.power_cut().expect("cut");
    assert_eq!(read(&named).as_deref(), Some(&b"synced"[..]));
}

#[test]
fn layer_loses_a_synced_file_whose_directory_was_not_synced() {
    let Some(mut fs) = PowerCutFs::mount_or_skip() else {
        return;
    };
    let dir = synced_subdir(&fs);
    write_synced(&dir.join("f"), b"data synced, name not");
    let cut = fs.power_cut().expect("cut");
    assert_eq!(read(&dir.join("f")), None);
    assert_eq!(cut.dropped, ["/d/f"], "{cut:?}");

    // A directory whose own name was never synced takes its synced files with it.
    let lost = fs.path().join("lost");
    std::fs::create_dir(&lost).expect("mkdir");
    write_synced(&lost.join("f"), b"x");
    sync_dir(&lost);
    fs.power_cut().expect("cut");
    assert!(!lost.exists());
}

#[test]
fn layer_keeps_a_file_and_directory_both_synced() {
    let Some(mut fs) = PowerCutFs::mount_or_skip() else {
        return;
    };
    let dir = synced_subdir(&fs);
    let file = dir.join("f");
    write_synced(&file, b"kept");
    sync_dir(&dir);
    // Later unsynced changes of a durable file are undone, not the file.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .expect("open");
    f.write_all(b" and more").expect("append");
    drop(f);
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod");
    fs.power_cut().expect("cut");
    assert_eq!(read(&file).as_deref(), Some(&b"kept"[..]));
    assert_eq!(
        fs.power_cut().expect("cut"),
        Default::default(),
        "nothing left to undo"
    );
}

#[test]
fn layer_undoes_a_rename_not_followed_by_fsyncdir() {
    let Some(mut fs) = PowerCutFs::mount_or_skip() else {
        return;
    };
    let (target, tmp) = (fs.path().join("CURRENT"), fs.path().join("CURRENT.tmp"));
    write_synced(&target, b"old");
    sync_dir(fs.path());
    let dir = fs.path().to_path_buf();
    let replace = |synced: bool| {
        write_synced(&tmp, b"new");
        std::fs::rename(&tmp, &target).expect("rename over the target");
        if synced {
            sync_dir(&dir);
        }
    };
    replace(false);
    assert_eq!(read(&target).as_deref(), Some(&b"new"[..]));
    fs.power_cut().expect("cut");
    assert_eq!(read(&target).as_deref(), Some(&b"old"[..]), "rename undone");
    assert!(
        !tmp.exists(),
        "the temporary's name was never synced either"
    );

    replace(true);
    fs.power_cut().expect("cut");
    assert_eq!(
        read(&target).as_deref(),
        Some(&b"new"[..]),
        "synced rename kept"
    );
    assert!(!tmp.exists());
}

/// A git repository on a power-cut mount, durable before the test starts.
struct Node {
    fs: PowerCutFs,
    root: PathBuf,
}

impl Node {
    fn new() -> Option<Node> {
        let fs = PowerCutFs::mount_or_skip()?;
        let root = fs.path().join("repo");
        std::fs::create_dir_all(root.join("src")).expect("mkdir");
        let git = Command::new("git")
            .args(["init", "-q", "-b", "trunk"])
            .current_dir(&root)
            .output()
            .expect("git");
        assert!(git.status.success(), "git init on the mount: {git:?}");
        std::fs::write(root.join("src/lib.rs"), "pub fn f() {}\n").expect("write");
        fs.sync_all();
        Some(Node { fs, root })
    }

    fn weft(&self) -> Command {
        let mut cmd = Command::new(weft_tests::weft_binary());
        cmd.arg("-C").arg(&self.root);
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.weft().args(args).output().expect("run weft")
    }

    fn ok(&self, args: &[&str], after: &str) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "weft {args:?} {after}: {}{}\n.weftos after it: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.survivors()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn json(&self, args: &[&str], after: &str) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        serde_json::from_str(&self.ok(&all, after)).expect("json")
    }

    /// What `.weftos/` holds, for failure messages.
    fn survivors(&self) -> String {
        fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                let rel = path.strip_prefix(base).unwrap_or(&path).display();
                out.push(format!("{rel} ({size} B)"));
                walk(&path, base, out);
            }
        }
        let weftos = self.root.join(".weftos");
        if !weftos.exists() {
            return "(no .weftos/)".into();
        }
        let mut out = Vec::new();
        walk(&weftos, &self.root, &mut out);
        out.sort();
        out.join(", ")
    }

    /// `weft chain append` of one `t.e` event; the event as acknowledged.
    fn append(&self, payload: &str, after: &str) -> Value {
        self.json(
            &[&APPEND_TE[..], &["--payload-json", payload]].concat(),
            after,
        )
    }

    fn cut(&mut self, when: &str) {
        let cut = self.fs.power_cut().expect("power cut");
        eprintln!("power cut {when}: {cut:?}");
    }

    /// The chain verifies and holds every acknowledged event as it was acknowledged.
    fn check(&self, acknowledged: &BTreeMap<u64, (Value, String)>, after: &str) {
        self.ok(&["chain", "verify"], after);
        let log = self.ok(&["chain", "log", "--json"], after);
        let stored: BTreeMap<u64, (Value, String)> = log
            .lines()
            .map(|line| event_of(&serde_json::from_str(line).expect("log line")))
            .collect();
        for (seq, sent) in acknowledged {
            assert_eq!(
                stored.get(seq),
                Some(sent),
                "acknowledged event {seq} lost or changed {after} (chain holds {} events)",
                stored.len()
            );
        }
    }
}

/// A child that is killed and reaped however the test ends, so the mount can go.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Feeds `weft chain append --stdin-lines`, waits for `k` acknowledgements and then
/// `delay`, SIGKILLs it, and returns every acknowledgement it printed (seq to payload and
/// hash).
fn append_then_kill(
    node: &Node,
    round: u64,
    k: u64,
    delay: Duration,
) -> BTreeMap<u64, (Value, String)> {
    let mut child = Killed(
        node.weft()
            .args(APPEND_TE)
            .arg("--stdin-lines")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn appender"),
    );
    let payload = move |i: u64| serde_json::json!({"round": round, "i": i});
    let mut stdin = child.0.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        for i in 0..k + IN_FLIGHT {
            if writeln!(stdin, "{}", payload(i)).is_err() {
                break; // Killed.
            }
        }
    });
    let stdout = child.0.stdout.take().expect("stdout");
    // Roomier than the lines fed: the reader never blocks on it.
    let (tx, rx) = mpsc::sync_channel::<(u64, String)>(4096);
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(ack) = line.map(|l| serde_json::from_str::<Value>(&l)) else {
                break;
            };
            let ack = ack.expect("acknowledgement is JSON");
            let seq = ack["seq"].as_u64().expect("seq");
            let hash = ack["hash"].as_str().expect("hash").to_string();
            if tx.send((seq, hash)).is_err() {
                break;
            }
        }
    });
    let mut acks = Vec::new();
    for n in 0..k {
        let ack = rx.recv_timeout(WAIT).unwrap_or_else(|e| {
            panic!("acknowledgement {} of {k} not within {WAIT:?}: {e}", n + 1)
        });
        acks.push(ack);
    }
    std::thread::sleep(delay);
    drop(child);
    writer.join().expect("writer");
    reader.join().expect("reader");
    // Whatever was printed before the kill was acknowledged too.
    acks.extend(rx.try_iter());
    // Acknowledgements come in input order, one per line.
    acks.into_iter()
        .zip(0..)
        .map(|((seq, hash), i)| (seq, (payload(i), hash)))
        .collect()
}

#[test]
fn key_and_genesis_survive_a_power_cut_right_after_init() {
    let Some(mut node) = Node::new() else {
        return;
    };
    let init = node.json(&["init"], "on a fresh repository");
    node.cut("right after weft init");
    let after = "after a power cut right after init";
    let status = node.json(&["status"], after);
    for field in ["chain_id", "key_fingerprint"] {
        assert_eq!(
            status[field],
            init[field],
            "{field} changed {after}: {}",
            node.survivors()
        );
    }
    node.check(&BTreeMap::new(), after);
    // The key is the one the genesis names: the chain can still be extended.
    node.append("{}", after);
    node.ok(&["chain", "verify"], after);
    // weave.toml and the .gitignore lines that keep the key out of commits survived too:
    // init again has nothing to create.
    let again = node.json(&["init"], after);
    assert_eq!(
        again["created"],
        serde_json::json!([]),
        "weft init again {after} recreated: {}",
        node.survivors()
    );
}

#[test]
fn acknowledged_appends_survive_power_cuts() {
    let Some(mut node) = Node::new() else {
        return;
    };
    node.json(&["init"], "on a fresh repository");
    // What init makes durable is the other test's business.
    node.fs.sync_all();
    let mut acknowledged = BTreeMap::new();
    // Cut points: right after the first acknowledgement (the store just opened), after
    // more, and at a few moments of the writer's start-up, while it may be opening the
    // store and writing RocksDB's new manifest.
    let ms = Duration::from_millis;
    let rounds = [
        (1, ms(0)),
        (0, ms(10)),
        (5, ms(0)),
        (0, ms(40)),
        (25, ms(0)),
        (100, ms(0)),
    ];
    for (round, (k, delay)) in rounds.into_iter().enumerate() {
        let acks = append_then_kill(&node, round as u64, k, delay);
        assert!(acks.len() as u64 >= k);
        let when = format!(
            "after {} acknowledged appends of round {round} (killed {delay:?} after {k})",
            acks.len()
        );
        acknowledged.extend(acks);
        node.cut(&when);
        node.check(&acknowledged, &when);
    }
    // A writer that exits normally: its one acknowledged append survives too.
    let last = node.append(r#"{"last":true}"#, "before the last cut");
    acknowledged.extend([event_of(&last)]);
    node.cut("after a writer exited normally");
    node.check(&acknowledged, "after a writer exited normally");
    eprintln!(
        "{} acknowledged events survived {} power cuts",
        acknowledged.len(),
        rounds.len() + 1
    );
}
