//! The independent encoders behind the known-answer vectors still produce them: each
//! `crosscheck.py` is run and its output must equal the committed `vectors.json` byte for
//! byte, so a vector edited by hand, or an encoder that drifted, fails here.

use std::process::Command;

fn regenerates(dir: &str) {
    let dir = weft_tests::workspace_root().join(dir);
    let out = Command::new("python3")
        .arg("crosscheck.py")
        .current_dir(&dir)
        .output()
        .expect("python3 runs (the test command installs what crosscheck.py needs)");
    assert!(
        out.status.success(),
        "{}/crosscheck.py failed (it needs Python's `cryptography`; scripts/test.sh installs it): {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let committed = std::fs::read(dir.join("vectors.json")).expect("vectors.json");
    assert!(
        out.stdout == committed,
        "{}/crosscheck.py no longer produces vectors.json",
        dir.display()
    );
}

#[test]
fn the_kernel_vectors_are_what_their_independent_encoder_writes() {
    regenerates("kernel/tests/vectors");
}

#[test]
fn the_mesh_vectors_are_what_their_independent_encoder_writes() {
    regenerates("net/tests/vectors");
}
