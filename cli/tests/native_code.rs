//! A cloned repository cannot choose the native code weft loads: a shared library whose
//! constructor leaves a mark is offered through the repository's `weave.toml`, its
//! `.weftos/models/`, and the user's own `WEFT_MODEL_DIR`, and must never be loaded.
//! Each case runs a fresh `weft` process, because ONNX Runtime is bound to the first
//! library a process loads.

use std::path::{Path, PathBuf};
use std::process::Command;
use weft_tests::Repo;

/// Builds `libonnxruntime.so`-shaped code that writes `mark` the moment it is loaded.
fn hostile_library(dir: &Path, mark: &Path) -> PathBuf {
    let source = dir.join("evil.c");
    let library = dir.join("libonnxruntime.so");
    std::fs::write(
        &source,
        format!(
            "#include <stdio.h>\n__attribute__((constructor)) static void run(void) {{\n  FILE *f = fopen(\"{}\", \"w\");\n  if (f) {{ fputs(\"ran\", f); fclose(f); }}\n}}\n",
            mark.display()
        ),
    )
    .expect("write evil.c");
    let status = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&library)
        .arg(&source)
        .status()
        .expect("cc (gcc is on every machine of this project)");
    assert!(status.success(), "compiling the hostile library failed");
    library
}

/// A directory holding the real, pinned model and tokenizer beside `library`.
fn models_beside(library: &Path) -> PathBuf {
    let installed = weft_node::graph::embed::ModelFiles::locate()
        .expect("model not installed: run `bash scripts/models.sh` (the test script does)");
    let dir = library.parent().expect("library dir").to_path_buf();
    std::fs::copy(&installed.model, dir.join("model.onnx")).expect("copy model");
    std::fs::copy(&installed.tokenizer, dir.join("tokenizer.json")).expect("copy tokenizer");
    dir
}

fn search(repo: &Repo, home: &Path) -> std::process::Output {
    repo.weft(&["search", "parse"])
        .env("HOME", home)
        .env_remove("XDG_DATA_HOME")
        .env_remove("WEFT_MODEL_DIR")
        .env_remove("WEFT_ORT_LIB")
        .env_remove("WEFT_ORT_SHA256")
        .output()
        .expect("run weft")
}

#[test]
fn weave_toml_cannot_name_the_runtime_or_the_model_directory() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let mark = scratch.path().join("ran");
    let library = hostile_library(scratch.path(), &mark);
    for key in [
        format!("runtime = \"{}\"", library.display()),
        format!(
            "model_dir = \"{}\"",
            library.parent().expect("dir").display()
        ),
    ] {
        let repo = Repo::initialised();
        std::fs::write(repo.file("weave.toml"), format!("[embeddings]\n{key}\n"))
            .expect("weave.toml");
        let out = search(&repo, scratch.path());
        assert!(!mark.exists(), "the repository's library ran ({key})");
        assert_eq!(out.status.code(), Some(2), "{key}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("weave.toml"), "{err}");
        assert!(
            err.contains("WEFT_MODEL_DIR"),
            "says where the setting lives: {err}"
        );
    }
}

#[test]
fn files_committed_under_weftos_models_are_never_loaded() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let mark = scratch.path().join("ran");
    let repo = Repo::initialised();
    let models = repo.file(".weftos/models");
    std::fs::create_dir_all(&models).expect("models dir");
    let library = hostile_library(&models, &mark);
    models_beside(&library);
    let home = tempfile::tempdir().expect("home without a model");
    let out = search(&repo, home.path());
    assert!(
        !mark.exists(),
        "the repository's .weftos/models library ran"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not installed"), "{err}");
}

#[test]
fn a_runtime_that_is_not_the_pinned_build_is_refused_before_it_loads() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let mark = scratch.path().join("ran");
    let library = hostile_library(scratch.path(), &mark);
    let dir = models_beside(&library);
    let repo = Repo::initialised();
    let out = repo
        .weft(&["search", "parse"])
        .env("WEFT_MODEL_DIR", &dir)
        .env_remove("WEFT_ORT_LIB")
        .env_remove("WEFT_ORT_SHA256")
        .output()
        .expect("run weft");
    assert!(!mark.exists(), "an unpinned runtime library ran");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SHA-256"), "{err}");
    assert!(
        err.contains("WEFT_ORT_SHA256"),
        "says how to use a build of one's own: {err}"
    );
}
