//! Crash safety: a writer killed with SIGKILL at arbitrary moments never loses an
//! acknowledged event, and the chain always reopens and verifies.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::time::Duration;
use weft_tests::Repo;

#[test]
fn sigkill_during_appends_loses_nothing_acknowledged() {
    let repo = Repo::initialised();
    let mut acknowledged: HashMap<u64, String> = HashMap::new();
    for round in 0..12u64 {
        let mut child = repo.spawn_appender();
        let mut stdin = child.stdin.take().expect("stdin");
        let writer = std::thread::spawn(move || {
            // Bounded: at most 2000 lines; stops when the child dies.
            for i in 0..2000u64 {
                if writeln!(stdin, "{{\"round\":{round},\"i\":{i}}}").is_err() {
                    break;
                }
            }
        });
        let (tx, rx) = std::sync::mpsc::sync_channel::<(u64, String)>(4096);
        let stdout = child.stdout.take().expect("stdout");
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                    break;
                };
                let seq = v["seq"].as_u64().expect("seq");
                let hash = v["hash"].as_str().expect("hash").to_string();
                if tx.send((seq, hash)).is_err() {
                    break;
                }
            }
        });
        // Kill at a different moment each round (deterministic spread over 20-200 ms).
        std::thread::sleep(Duration::from_millis(20 + (round * 37) % 180));
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        writer.join().expect("writer");
        reader.join().expect("reader");
        while let Ok((seq, hash)) = rx.try_recv() {
            acknowledged.insert(seq, hash);
        }
    }
    eprintln!(
        "{} events acknowledged across 12 SIGKILLed writers",
        acknowledged.len()
    );
    repo.weft(&["chain", "verify"]).assert().success();
    let out = repo
        .weft(&["chain", "log", "--json"])
        .output()
        .expect("log");
    let stored: HashMap<u64, String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            (
                v["seq"].as_u64().expect("seq"),
                v["hash"].as_str().expect("hash").to_string(),
            )
        })
        .collect();
    assert!(
        !acknowledged.is_empty(),
        "no append was acknowledged in any round"
    );
    for (seq, hash) in &acknowledged {
        assert_eq!(
            stored.get(seq),
            Some(hash),
            "acknowledged event {seq} lost or changed"
        );
    }
}
