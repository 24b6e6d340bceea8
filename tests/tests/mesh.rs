//! Multi-node tests: real daemons (`weft node start`, child processes) on 127.0.0.1,
//! peered through each other's repositories. Every wait is bounded; every daemon is
//! stopped when its test ends, pass or fail.

use serde_json::Value;
use std::time::{Duration, Instant};
use weft_tests::Repo;

/// Longest any one condition is waited for.
const WAIT: Duration = Duration::from_secs(90);

/// Repositories whose daemons are stopped on drop.
pub(crate) struct Mesh {
    pub(crate) repos: Vec<Repo>,
    /// Directories (besides the repos) whose daemons this test started.
    extra: Vec<std::path::PathBuf>,
}

impl Drop for Mesh {
    fn drop(&mut self) {
        for dir in self
            .repos
            .iter()
            .map(|r| r.path().to_path_buf())
            .chain(self.extra.clone())
        {
            let _ = std::process::Command::new(weft_tests::weft_binary())
                .arg("-C")
                .arg(&dir)
                .args(["node", "stop"])
                .output();
        }
    }
}

fn weft_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(weft_tests::weft_binary())
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .expect("run weft")
}

fn json_in(dir: &std::path::Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = weft_in(dir, &all);
    assert!(
        out.status.success(),
        "weft {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

pub(crate) fn start(dir: &std::path::Path) {
    let out = weft_in(dir, &["node", "start"]);
    assert!(
        out.status.success(),
        "node start in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) fn stop(dir: &std::path::Path) {
    let out = weft_in(dir, &["node", "stop"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Polls `check` until it holds; fails with `what` and the last state seen.
pub(crate) fn eventually(what: &str, mut check: impl FnMut() -> Result<(), String>) {
    let deadline = Instant::now() + WAIT;
    loop {
        match check() {
            Ok(()) => return,
            Err(state) if Instant::now() > deadline => {
                panic!(
                    "{what}: not within {}s; last state: {state}",
                    WAIT.as_secs()
                )
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// Repositories named n0..n{count}, each initialised and listing `peers[i]` by path.
pub(crate) fn mesh(count: usize, peers: &[&[usize]]) -> Mesh {
    let repos: Vec<Repo> = (0..count).map(|_| Repo::initialised()).collect();
    for (i, list) in peers.iter().enumerate() {
        for j in list.iter() {
            let path = repos[*j].path().to_string_lossy().into_owned();
            repos[i]
                .weft(&["peers", "add", &format!("n{j}"), "--path", &path])
                .assert()
                .success();
        }
    }
    Mesh {
        repos,
        extra: Vec::new(),
    }
}

fn peer<'a>(peers: &'a Value, name: &str) -> Option<&'a Value> {
    peers["peers"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
}

/// Every node's replica of every peer it lists holds that peer's whole chain.
fn converged(mesh: &Mesh, links: &[&[usize]]) -> Result<(), String> {
    let lengths: Vec<u64> = mesh.repos.iter().map(|r| r.len()).collect();
    for (i, list) in links.iter().enumerate() {
        let peers = json_in(mesh.repos[i].path(), &["peers"]);
        for j in list.iter() {
            let got = peer(&peers, &format!("n{j}"))
                .and_then(|p| p["replica_length"].as_u64())
                .unwrap_or(0);
            if got != lengths[*j] {
                return Err(format!("n{i} holds {got} of n{j}'s {} events", lengths[*j]));
            }
        }
    }
    Ok(())
}

#[test]
fn three_nodes_converge_verify_replicas_and_catch_up_after_a_restart() {
    let links: &[&[usize]] = &[&[1, 2], &[0, 2], &[0, 1]];
    let mesh = mesh(3, links);
    for repo in &mesh.repos {
        start(repo.path());
    }
    // Commands go through the daemons now; the foundation's forms keep working.
    for repo in &mesh.repos {
        let status = repo.json(&["status"]);
        assert_eq!(status["daemon"], true);
        assert!(status["peer_id"]
            .as_str()
            .is_some_and(|p| p.starts_with("12D3KooW")));
        repo.append_events(5);
    }
    eventually("three nodes converge", || converged(&mesh, links));
    // Each node calibrated itself once at start, recorded it, and its peers got the
    // figures in its advert.
    for (i, repo) in mesh.repos.iter().enumerate() {
        // The figures are set once the event is recorded.
        let own = eventually_value("the calibration ends", || {
            let status = json_in(repo.path(), &["node", "status"]);
            let calibration = status["calibration"].clone();
            calibration
                .is_object()
                .then_some(calibration)
                .ok_or(format!("{status}"))
        });
        let recorded = calibrations(repo.path());
        assert_eq!(recorded.len(), 1, "n{i} calibrated once: {recorded:?}");
        assert_calibration_matches(&recorded[0], &own);
        let name = format!("n{i}");
        let other = mesh.repos[(i + 1) % 3].path();
        let seen = eventually_value("a peer receives the calibrated advert", || {
            let peers = json_in(other, &["peers"]);
            let calibration = peer(&peers, &name).map(|p| p["calibration"].clone());
            calibration
                .filter(Value::is_object)
                .ok_or(format!("{peers}"))
        });
        assert_eq!(seen, own, "what n{i}'s peer received is what n{i} measured");
    }
    for (i, list) in links.iter().enumerate() {
        let repo = &mesh.repos[i];
        for j in list.iter() {
            let name = format!("n{j}");
            let verified = repo.json(&["chain", "verify", "--peer", &name]);
            assert_eq!(verified["ok"], true, "n{i}'s replica of {name}");
            let entry = repo.json(&["tree", "get", &format!("/network/peers/{name}")]);
            let peer_id = mesh.repos[*j].json(&["status"])["peer_id"].clone();
            assert_eq!(entry["meta"]["peer_id"], peer_id, "n{i}'s record of {name}");
        }
        // Peers' heads are witnessed on this node's own chain.
        let log = weft_in(repo.path(), &["chain", "log", "--json"]);
        let witnessed = String::from_utf8_lossy(&log.stdout)
            .lines()
            .filter(|l| l.contains("\"witness.head\""))
            .count();
        assert!(witnessed >= 2, "n{i} witnessed {witnessed} peer heads");
    }

    // Stop n2; n0 moves on; n2 catches up from where it was when it comes back.
    let n2 = mesh.repos[2].path();
    stop(n2);
    assert_eq!(json_in(n2, &["node", "status"])["running"], false);
    mesh.repos[0].append_events(30);
    start(n2);
    eventually("n2 catches up after its restart", || {
        converged(&mesh, links)
    });
    let replica_log = weft_in(
        n2,
        &["chain", "log", "--peer", "n0", "--from", "0", "--json"],
    );
    let lines = String::from_utf8_lossy(&replica_log.stdout).lines().count() as u64;
    assert_eq!(lines, mesh.repos[0].len());
    eventually("n2 calibrates again after its restart", || {
        let n = calibrations(n2).len();
        (n == 2).then_some(()).ok_or(format!("{n} calibrations"))
    });
}

/// The payloads of the `ecc.calibration` events on the chain of the node at `dir`.
fn calibrations(dir: &std::path::Path) -> Vec<Value> {
    let log = weft_in(dir, &["chain", "log", "--json"]);
    String::from_utf8_lossy(&log.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["kind"] == "ecc.calibration")
        .map(|e| {
            assert_eq!(e["source"], "ecc");
            e["payload"].clone()
        })
        .collect()
}

/// Each of the three figures is measured (a positive figure, with the count and time
/// behind it) or explicitly absent with a reason, and the advertised `calibration`
/// carries exactly the measured ones. Nothing here depends on how fast the machine is.
fn assert_calibration_matches(recorded: &Value, advertised: &Value) {
    for (phase, figure, unit, field) in [
        ("embed", "per_s", "texts", "embed_per_s"),
        ("search", "median_us", "searches", "search_us"),
        ("verify", "per_s", "events", "verify_per_s"),
    ] {
        let entry = &recorded[phase];
        match entry[figure].as_u64() {
            Some(n) => {
                assert!(n >= 1, "{phase}: {entry}");
                assert!(
                    entry[unit].as_u64().is_some_and(|c| c >= 1),
                    "{phase}: {entry}"
                );
                assert!(entry["us"].is_u64(), "{phase}: {entry}");
                assert_eq!(advertised[field].as_u64(), Some(n), "{field}: {advertised}");
            }
            None => {
                assert!(entry["absent"].is_string(), "{phase}: {entry}");
                assert!(advertised.get(field).is_none(), "{field}: {advertised}");
            }
        }
    }
    // The synthetic range needs neither a model nor an index: always measured.
    assert!(recorded["verify"]["per_s"].is_u64(), "{recorded}");
    // A repository nobody searched has no index to time.
    assert!(recorded["search"]["absent"].is_string(), "{recorded}");
    assert!(advertised["time_ns"].is_u64(), "{advertised}");
    assert_eq!(recorded["budget_ms"], 3000);
}

#[test]
fn heads_from_keys_outside_the_trust_set_are_dropped_and_counted() {
    // n1 lists n0; n0 lists nobody: n1 connects and announces, n0 must not follow it.
    let mesh = mesh(2, &[&[], &[0]]);
    start(mesh.repos[0].path());
    start(mesh.repos[1].path());
    mesh.repos[1].append_events(3);
    eventually("n0 drops the stranger's heads", || {
        let status = json_in(mesh.repos[0].path(), &["node", "status"]);
        let dropped = status["dropped"]["head from an untrusted key"]
            .as_u64()
            .unwrap_or(0);
        if dropped > 0 {
            Ok(())
        } else {
            Err(status.to_string())
        }
    });
    let peers = json_in(mesh.repos[0].path(), &["peers"]);
    assert_eq!(peers["peers"].as_array().map(Vec::len), Some(0), "{peers}");
    assert!(!mesh.repos[0].path().join(".weftos/peers/n1").exists());
    // n1 trusts n0, but n0 does not serve its history to a key it does not trust.
    eventually("n0 refuses to serve n1", || {
        let peers = json_in(mesh.repos[1].path(), &["peers"]);
        let error = peer(&peers, "n0")
            .and_then(|p| p["last_error"].as_str())
            .unwrap_or_default()
            .to_string();
        if error.contains("trust set") {
            Ok(())
        } else {
            Err(peers.to_string())
        }
    });
    assert_eq!(
        peer(&json_in(mesh.repos[1].path(), &["peers"]), "n0")
            .and_then(|p| p["replica_length"].as_u64()),
        Some(0)
    );
}

#[test]
fn open_trust_follows_a_stranger_under_its_whole_key_once_its_history_is_proven() {
    // n0 is open and lists nobody; n1 lists n0 and announces to it.
    let mesh = mesh(2, &[&[], &[0]]);
    let config = mesh.repos[0].file("weave.toml");
    let text = std::fs::read_to_string(&config).expect("weave.toml");
    std::fs::write(&config, format!("{text}\n[network]\ntrust = \"open\"\n")).expect("write");
    start(mesh.repos[0].path());
    start(mesh.repos[1].path());
    mesh.repos[1].append_events(3);
    let want = mesh.repos[1].len();
    let name = eventually_value("n0 replicates the stranger n1 whole", || {
        let peers = json_in(mesh.repos[0].path(), &["peers"]);
        let stranger = peers["peers"]
            .as_array()
            .and_then(|all| all.first())
            .cloned()
            .unwrap_or_default();
        match stranger["replica_length"].as_u64() {
            Some(got) if got == want => Ok(stranger["name"].as_str().unwrap_or("").to_string()),
            _ => Err(peers.to_string()),
        }
    });
    // The whole key, in a name the tree and the file system take.
    assert!(name.starts_with("key-") && name.len() == 56, "{name}");
    assert!(mesh.repos[0]
        .file(&format!(".weftos/peers/{name}"))
        .is_dir());
    assert_eq!(
        mesh.repos[0].json(&["chain", "verify", "--peer", &name])["ok"],
        true
    );
}

/// Polls `check` until it gives a value, as [`eventually`] does.
fn eventually_value<T>(what: &str, mut check: impl FnMut() -> Result<T, String>) -> T {
    let mut value = None;
    eventually(what, || {
        value = Some(check()?);
        Ok(())
    });
    value.expect("eventually returned")
}

#[test]
fn an_equivocating_node_is_flagged_by_every_honest_node() {
    // n0, n1 honest; n2 will sign two histories.
    let links: &[&[usize]] = &[&[1, 2], &[0, 2], &[0, 1]];
    // Made before the mesh so it outlives it: the mesh stops the fork's daemon on drop.
    let fork_parent = tempfile::tempdir().expect("tmp");
    let mut mesh = mesh(3, links);
    for repo in &mesh.repos {
        start(repo.path());
    }
    mesh.repos[2].append_events(3);
    eventually("honest nodes replicate n2", || converged(&mesh, links));
    let liar = mesh.repos[2].path().to_path_buf();
    stop(&liar);
    // A copy of the node (its key included) continues from the same point with another
    // history, as a restored backup would.
    let fork = fork_parent.path().join("fork");
    let copied = std::process::Command::new("cp")
        .arg("-a")
        .arg(&liar)
        .arg(&fork)
        .status()
        .expect("cp");
    assert!(copied.success());
    mesh.extra.push(fork.clone());
    // The original goes on, and the honest nodes follow it...
    start(&liar);
    mesh.repos[2].append_events(2);
    eventually("honest nodes follow the original", || {
        converged(&mesh, links)
    });
    stop(&liar);
    // ...then the copy, from the point where they split, signs another history.
    for i in 0..4 {
        let payload = format!("{{\"other\":{i}}}");
        let out = weft_in(
            &fork,
            &[
                "chain",
                "append",
                "--source",
                "t",
                "--kind",
                "t.fork",
                "--payload-json",
                &payload,
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    start(&fork);
    for honest in &mesh.repos[..2] {
        let dir = honest.path();
        eventually("the honest node flags the equivocator", || {
            let peers = json_in(dir, &["peers"]);
            let flagged = peer(&peers, "n2")
                .and_then(|p| p["flags"].as_array())
                .is_some_and(|f| f.iter().any(|x| x == "equivocation"));
            if flagged {
                Ok(())
            } else {
                Err(peers.to_string())
            }
        });
        let log = weft_in(dir, &["chain", "log", "--json"]);
        assert!(String::from_utf8_lossy(&log.stdout).contains("network.equivocation"));
        let evidence: Vec<_> = std::fs::read_dir(dir.join(".weftos/evidence"))
            .expect("evidence kept")
            .flatten()
            .collect();
        assert_eq!(evidence.len(), 1);
        let checked = weft_in(
            dir,
            &[
                "evidence",
                "verify",
                "--json",
                &evidence[0].path().to_string_lossy(),
            ],
        );
        assert!(checked.status.success());
        let checked: Value = serde_json::from_slice(&checked.stdout).expect("json");
        assert_eq!(checked["valid"], true);
        assert_eq!(
            checked["peer_id"],
            mesh.repos[2].json(&["status"])["peer_id"],
            "the evidence names the equivocator"
        );
        // The replica keeps the first history it verified.
        let verified = honest.json(&["chain", "verify", "--peer", "n2"]);
        assert_eq!(verified["ok"], true);
    }
}

#[test]
fn the_daemon_runs_scheduled_assessments_and_registers_them_under_kernel_cron() {
    let mesh = mesh(1, &[&[]]);
    let repo = &mesh.repos[0];
    let config = repo.file("weave.toml");
    let mut text = std::fs::read_to_string(&config).expect("read");
    // Every three seconds (a leading seconds field).
    text = text.replace(
        "[governance]",
        "[assessment]\nschedule = \"*/3 * * * * *\"\n\n[governance]",
    );
    std::fs::write(&config, text).expect("write");
    start(repo.path());
    let job = repo.json(&["tree", "get", "/kernel/cron/assessment"]);
    assert_eq!(job["meta"]["schedule"], "*/3 * * * * *");
    assert_eq!(job["kind"], "cron");
    eventually("a scheduled assessment is chained", || {
        let log = weft_in(repo.path(), &["chain", "log", "--json"]);
        let text = String::from_utf8_lossy(&log.stdout).into_owned();
        let full = text
            .lines()
            .any(|l| l.contains("\"assess.complete\"") && l.contains("\"full\""));
        if full {
            Ok(())
        } else {
            Err(text.lines().last().unwrap_or_default().to_string())
        }
    });
}

#[test]
fn a_bad_schedule_is_refused_before_anything_starts() {
    let repo = Repo::initialised();
    let config = repo.file("weave.toml");
    let text = std::fs::read_to_string(&config).expect("read");
    std::fs::write(
        &config,
        text.replace(
            "[governance]",
            "[assessment]\nschedule = \"nightly\"\n\n[governance]",
        ),
    )
    .expect("write");
    let out = repo.weft(&["node", "start"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("schedule") && stderr.contains("0 2 * * *"),
        "{stderr}"
    );
    assert!(!repo.path().join(".weftos/node.sock").exists());
}

#[test]
fn a_killed_daemon_loses_nothing_it_acknowledged_and_starts_again() {
    let mesh = mesh(1, &[&[]]);
    let repo = &mesh.repos[0];
    start(repo.path());
    let before = repo.len();
    repo.append_events(5);
    let runtime: Value = serde_json::from_str(
        &std::fs::read_to_string(repo.file(".weftos/node.json")).expect("runtime file"),
    )
    .expect("json");
    let pid = runtime["pid"].as_u64().expect("pid").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    eventually(
        "the killed daemon is gone",
        || match std::path::Path::new(&format!("/proc/{pid}")).exists() {
            false => Ok(()),
            true => Err(format!("pid {pid} still there")),
        },
    );
    // Its socket is left behind; commands run directly, with every acknowledged event.
    assert_eq!(json_in(repo.path(), &["node", "status"])["running"], false);
    assert_eq!(repo.len(), before + 5);
    assert_eq!(repo.json(&["chain", "verify"])["ok"], true);
    start(repo.path());
    repo.append_events(1);
    assert_eq!(repo.json(&["status"])["daemon"], true);
    assert_eq!(repo.len(), before + 6);
}

#[test]
fn a_node_catches_up_on_a_peer_it_cannot_reach_through_one_it_can() {
    // n2 trusts n0 by peer id but has no address for it; n1 links both.
    let mesh = mesh(3, &[&[1], &[0, 2], &[1]]);
    let n0_id = mesh.repos[0].json(&["status"])["peer_id"]
        .as_str()
        .expect("peer id")
        .to_string();
    mesh.repos[2]
        .weft(&["peers", "add", "n0", "--peer-id", &n0_id])
        .assert()
        .success();
    for repo in &mesh.repos {
        start(repo.path());
    }
    mesh.repos[0].append_events(4);
    eventually("n2 holds n0's chain, relayed by n1", || {
        let want = mesh.repos[0].len();
        let peers = json_in(mesh.repos[2].path(), &["peers"]);
        let n0 = peer(&peers, "n0").cloned().unwrap_or_default();
        match n0["replica_length"].as_u64() {
            Some(got) if got == want && n0["connected"] == false => Ok(()),
            _ => Err(format!("want {want}: {n0}")),
        }
    });
    assert_eq!(
        mesh.repos[2].json(&["chain", "verify", "--peer", "n0"])["ok"],
        true
    );
}

#[test]
fn garbage_on_the_control_socket_is_dropped_and_the_daemon_carries_on() {
    use std::io::{Read, Write};
    let mesh = mesh(1, &[&[]]);
    let repo = &mesh.repos[0];
    start(repo.path());
    // Its mode is the business of the_control_socket_serves_only_its_owner_….
    let socket = repo.file(".weftos/node.sock");
    for junk in [
        b"hello, daemon".to_vec(),
        // A request frame claiming 4 GiB.
        vec![b'R', 0xff, 0xff, 0xff, 0xff],
        // A well-framed request that is not JSON.
        vec![b'R', 0, 0, 0, 3, b'{', b'{', b'{'],
    ] {
        let mut stream = std::os::unix::net::UnixStream::connect(&socket).expect("connect");
        stream.write_all(&junk).expect("write");
        stream
            .shutdown(std::net::Shutdown::Write)
            .expect("shutdown");
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        assert!(answer.is_empty(), "the daemon answered junk: {answer:?}");
    }
    let before = repo.len();
    repo.append_events(1);
    assert_eq!(repo.len(), before + 1);
    assert_eq!(repo.json(&["status"])["daemon"], true);
}

/// A request frame for `args` run from `cwd`, as the CLI sends it.
fn request_frame(cwd: &std::path::Path, args: &[&str]) -> Vec<u8> {
    let body = serde_json::to_vec(&serde_json::json!({"args": args, "cwd": cwd})).expect("json");
    let mut frame = vec![b'R'];
    frame.extend_from_slice(&u32::try_from(body.len()).expect("small").to_be_bytes());
    frame.extend_from_slice(&body);
    frame
}

/// Sends one request on a fresh connection and reads everything the daemon answers.
fn raw_exchange(socket: &std::path::Path, frame: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut stream = std::os::unix::net::UnixStream::connect(socket).expect("connect");
    stream.write_all(frame).expect("write");
    // No standard input follows (a daemon that refused may have closed already).
    let _ = stream.write_all(&[b'E', 0, 0, 0, 0]);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    answer
}

#[test]
fn the_control_socket_serves_only_its_owner_and_only_inside_the_repository() {
    use std::os::unix::fs::PermissionsExt;
    let mesh = mesh(1, &[&[]]);
    let repo = &mesh.repos[0];
    start(repo.path());
    let mode = |p: &std::path::Path| std::fs::metadata(p).expect("stat").permissions().mode();
    let socket = repo.file(".weftos/node.sock");
    assert_eq!(mode(&repo.file(".weftos")) & 0o777, 0o700);
    assert_eq!(mode(&socket) & 0o777, 0o600);

    let answer = raw_exchange(
        &socket,
        &request_frame(std::path::Path::new("/"), &["status"]),
    );
    let text = String::from_utf8_lossy(&answer);
    assert!(text.contains("not inside the repository"), "{text}");
    assert_eq!(answer.last(), Some(&2), "exit code 2 last: {answer:?}");
    let inside = raw_exchange(&socket, &request_frame(repo.path(), &["status"]));
    assert_eq!(
        inside.last(),
        Some(&0),
        "{}",
        String::from_utf8_lossy(&inside)
    );

    // Another user, with both file permissions opened on purpose: the uid check alone
    // must turn it away. Only root can act as another user here.
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n");
    if !root {
        eprintln!("skipping the other-user half: not running as root");
        return;
    }
    // The repository's temporary directory is 0700 too.
    for dir in [repo.path().to_path_buf(), repo.file(".weftos")] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o711)).expect("chmod");
    }
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let frame = request_frame(repo.path(), &["status"]);
    // A refused connection may be reset rather than closed: both count as no answer.
    let script = "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\nd=b''\ntry:\n  s.sendall(bytes.fromhex(sys.argv[2]))\n  while True:\n    c=s.recv(65536)\n    if not c: break\n    d+=c\nexcept (ConnectionResetError, BrokenPipeError):\n  pass\nsys.stdout.write(d.hex())\n";
    let out = std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            // The system's interpreter: a per-user one may live where nobody cannot read.
            "/usr/bin/python3",
            "-c",
            script,
        ])
        .arg(&socket)
        .arg(frame.iter().map(|b| format!("{b:02x}")).collect::<String>())
        .output()
        .expect("setpriv runs python3 as nobody");
    std::fs::set_permissions(repo.file(".weftos"), std::fs::Permissions::from_mode(0o700))
        .expect("chmod back");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "",
        "the daemon answered another user"
    );
    assert_eq!(repo.json(&["status"])["daemon"], true);
}

#[test]
fn control_connections_are_bounded_and_the_daemon_recovers() {
    use std::io::Read;
    let mesh = mesh(1, &[&[]]);
    let repo = &mesh.repos[0];
    start(repo.path());
    let socket = repo.file(".weftos/node.sock");
    // Connections that never send their request hold their slots (up to the daemon's
    // 10 s request timeout); the test keeps them open well inside that.
    let idle: Vec<_> = (0..32)
        .map(|_| std::os::unix::net::UnixStream::connect(&socket).expect("connect"))
        .collect();
    let mut over = std::os::unix::net::UnixStream::connect(&socket).expect("connect");
    let mut answer = Vec::new();
    over.read_to_end(&mut answer).expect("read");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.contains("serving 32 commands"), "{text}");
    assert_eq!(answer.last(), Some(&2));
    drop(idle);
    eventually("the daemon serves commands again", || {
        let out = weft_in(repo.path(), &["status", "--json"]);
        out.status
            .success()
            .then_some(())
            .ok_or_else(|| String::from_utf8_lossy(&out.stderr).into_owned())
    });
}

#[test]
fn streamed_appends_through_the_daemon_are_acknowledged_line_by_line() {
    use std::io::{BufRead, Write};
    let mesh = mesh(1, &[&[]]);
    let repo = &mesh.repos[0];
    start(repo.path());
    let before = repo.len();
    let mut child = repo.spawn_appender();
    let mut stdin = child.stdin.take().expect("stdin");
    let mut acks = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    for i in 0..3 {
        // Each line is acknowledged before the next is written: forwarding streams.
        writeln!(stdin, "{{\"i\":{i}}}").expect("write");
        stdin.flush().expect("flush");
        let ack: Value =
            serde_json::from_str(&acks.next().expect("an ack").expect("read")).expect("json");
        assert_eq!(ack["seq"].as_u64(), Some(before + i));
    }
    drop(stdin);
    assert!(child.wait().expect("wait").success());
    assert_eq!(repo.len(), before + 3);
}

#[test]
fn a_peer_added_while_the_daemon_runs_is_followed_and_stays() {
    let mesh = mesh(2, &[&[], &[0]]);
    start(mesh.repos[0].path());
    start(mesh.repos[1].path());
    let path = mesh.repos[1].path().to_string_lossy().into_owned();
    mesh.repos[0]
        .weft(&["peers", "add", "n1", "--path", &path])
        .assert()
        .success();
    mesh.repos[1].append_events(2);
    eventually("n0 follows the peer added at run time", || {
        converged(&mesh, &[&[1], &[0]])
    });
    // Several maintenance rounds later it is still followed.
    std::thread::sleep(Duration::from_secs(5));
    let peers = json_in(mesh.repos[0].path(), &["peers"]);
    assert!(peer(&peers, "n1").is_some(), "{peers}");
}

/// A daemon whose mesh task dies stops, says why in its log (a foreground testnet node
/// logs to standard error; `weft node start` sends the same lines to node.log), and
/// nothing reports it running any more (before, it went on answering `node status` as
/// if joined).
#[test]
fn a_daemon_whose_mesh_dies_stops_and_says_why() {
    let data = tempfile::tempdir().expect("data");
    let log_file = data.path().join("solo.log");
    let mut node = std::process::Command::new(weft_tests::weft_binary())
        .args(["testnet", "node", "--name", "solo", "--data"])
        .arg(data.path())
        .args(["--listen", "/ip4/127.0.0.1/tcp/0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log_file).expect("log file"))
        .spawn()
        .expect("spawn the testnet node");
    let dir = data.path().join("solo");
    let _stop = Mesh {
        repos: Vec::new(),
        extra: vec![dir.clone()],
    };
    eventually("the testnet node runs", || {
        let out = weft_in(&dir, &["node", "status", "--json"]);
        let status: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        (status["running"] == true && status["listen"].as_array().is_some_and(|l| !l.is_empty()))
            .then_some(())
            .ok_or_else(|| String::from_utf8_lossy(&out.stderr).into_owned())
    });
    let out = weft_in(&dir, &["testnet", "crash-mesh"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut exit = None;
    eventually("the daemon stops", || {
        exit = node.try_wait().expect("wait");
        exit.map(|_| ()).ok_or_else(|| "still running".into())
    });
    assert!(
        !exit.expect("exited").success(),
        "a daemon without its mesh fails"
    );
    let log = std::fs::read_to_string(&log_file).expect("the node's log");
    assert!(log.contains("told to panic"), "the panic is logged: {log}");
    assert!(log.contains("the mesh stopped unexpectedly"), "{log}");
    let status = json_in(&dir, &["node", "status"]);
    assert_eq!(status["running"], false, "{status}");
}

/// `weft testnet equivocate|flood|crash-mesh` sign forged heads and send garbage with the node's own
/// key: only a node `weft testnet node` made may do that, never an ordinary one.
#[test]
fn an_ordinary_node_refuses_fault_injection() {
    let mesh = mesh(1, &[&[]]);
    let dir = mesh.repos[0].path();
    start(dir);
    let before = json_in(dir, &["status"]);
    for fault in [
        &["testnet", "equivocate"][..],
        &["testnet", "flood", "--count", "5", "--seconds", "1"][..],
        &["testnet", "crash-mesh"][..],
    ] {
        let out = weft_in(dir, fault);
        assert_eq!(out.status.code(), Some(2), "{fault:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("weft testnet node"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(json_in(dir, &["status"])["head"], before["head"]);
}
