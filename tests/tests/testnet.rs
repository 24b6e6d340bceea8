//! The testnet's scenarios as local processes (`testnet/run --local all`): converge,
//! restart, partition (a frozen node), release, cluster (a Raft cluster of three more
//! nodes, followed by the last), equivocator and flooder, each a PASS line.

#[test]
fn every_testnet_scenario_passes_on_local_processes() {
    let script = weft_tests::workspace_root().join("testnet/run");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .args(["--local", "all"])
        .env("WEFT", weft_tests::weft_binary())
        .env("WAIT", "90")
        .output()
        .expect("run testnet/run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "testnet/run failed:\n{stdout}\n{stderr}"
    );
    for scenario in [
        "converge",
        "restart",
        "partition",
        "release",
        "cluster",
        "equivocator",
        "flooder",
    ] {
        assert!(
            stdout.contains(&format!("PASS {scenario}:")),
            "{scenario} did not pass:\n{stdout}\n{stderr}"
        );
    }
    assert!(!stdout.contains("FAIL"), "{stdout}");
}
