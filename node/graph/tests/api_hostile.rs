//! The API models read a repository's files, which are untrusted: pathological sources
//! (nesting far deeper than any real code, enormous names, thousands of items, broken
//! syntax, re-export and import cycles) in each language must give an answer, never a
//! panic or a runaway.

use std::path::Path;
use weft_graph::api;
use weft_graph::{GraphConfig, KnowledgeGraph};

fn commit_all(repo: &git2::Repository, parent: Option<git2::Oid>) -> git2::Oid {
    let mut index = repo.index().expect("index");
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .expect("add");
    let tree = repo
        .find_tree(index.write_tree().expect("tree"))
        .expect("tree");
    let sig = git2::Signature::new("t", "t@example.invalid", &git2::Time::new(1_700_000_000, 0))
        .expect("sig");
    let parents: Vec<git2::Commit<'_>> = parent
        .map(|p| repo.find_commit(p).expect("parent"))
        .into_iter()
        .collect();
    let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, "rev", &tree, &refs)
        .expect("commit")
}

fn write(root: &Path, path: &str, text: &str) {
    let full = root.join(path);
    std::fs::create_dir_all(full.parent().expect("parent")).expect("dirs");
    std::fs::write(full, text).expect("write");
}

/// Sources no real project has, by language.
fn hostile() -> Vec<(&'static str, String)> {
    let deep = 3_000;
    vec![
        ("Cargo.toml", "[package]\nname = \"h\"\nversion = \"1.0.0\"\n".into()),
        (
            "src/lib.rs",
            format!(
                "{}pub fn f() {{}}{}\n{}\npub use self::a::*;\npub mod a {{ pub use super::*; pub use crate::a::*; }}\n\
                 pub fn g<{}>() {{}}\npub struct S{}({});\nmacro_rules! m {{ ($($t:tt)*) => {{ $($t)* }} }}\n{}\n{}",
                "pub mod m { ".repeat(deep),
                " }".repeat(deep),
                "use a::{".repeat(deep) + &"}".repeat(deep) + ";",
                (0..2_000).map(|i| format!("T{i}: Clone")).collect::<Vec<_>>().join(", "),
                "x".repeat(100_000),
                "Vec<".repeat(deep) + "u8" + &">".repeat(deep),
                (0..300).map(|i| format!("m! {{ pub fn f{i}() {{}} m! {{ pub struct S{i}; }} }}")).collect::<Vec<_>>().join("\n"),
                "pub fn broken( { ] struct".repeat(500),
            ),
        ),
        ("src/a.rs", "pub mod a;\n".into()),
        ("package.json", "{\"name\": \"h\", \"version\": \"1.0.0\", \"exports\": {\".\": \"./index.ts\", \"./x\": [\"./index.ts\", {\"types\": \"./index.ts\"}]}}\n".into()),
        (
            "index.ts",
            format!(
                "export * from './index';\nexport * from './b';\n{}\nexport function f({}): {} {{}}\nexport interface I {{ {} }}\n{}",
                "namespace N { ".repeat(deep) + &" }".repeat(deep),
                (0..3_000).map(|i| format!("a{i}?: string")).collect::<Vec<_>>().join(", "),
                "Array<".repeat(deep) + "number" + &">".repeat(deep),
                "x: ".repeat(5_000),
                "export { a as b, b as a } from './b';".repeat(200),
            ),
        ),
        ("b.ts", "export * from './index';\nexport { f as g } from './index';\n".into()),
        ("pyproject.toml", "[project]\nname = \"h\"\nversion = \"1.0\"\n".into()),
        (
            "h/__init__.py",
            format!(
                "from .h import *\nfrom . import *\n__all__ = [{}]\n{}pass\ndef f({}):\n    pass\n",
                (0..5_000).map(|i| format!("'n{i}'")).collect::<Vec<_>>().join(", "),
                (0..200).map(|i| format!("{}class C{i}:\n", "    ".repeat(i))).collect::<String>(),
                "*, ".repeat(2_000),
            ),
        ),
        ("go.mod", "module example.com/h\n\ngo 1.19\n".into()),
        (
            "h.go",
            format!(
                "package h\n\ntype S struct {{ {} }}\nfunc F({}) {{}}\ntype I interface {{ {} }}\n",
                (0..5_000).map(|i| format!("A{i} int")).collect::<Vec<_>>().join("; "),
                "func(".repeat(deep) + &")".repeat(deep),
                "interface { ".repeat(deep) + &" }".repeat(deep),
            ),
        ),
    ]
}

#[test]
fn pathological_sources_in_every_language_get_an_answer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("repo");
    let repo = git2::Repository::init(&root).expect("init");
    write(&root, "README.md", "base\n");
    let base = commit_all(&repo, None);
    for (path, text) in hostile() {
        write(&root, path, &text);
    }
    let head = commit_all(&repo, Some(base));
    let graph = KnowledgeGraph::open(&root, &dir.path().join("graph"), &GraphConfig::default())
        .expect("graph");
    let diff = api::diff(&graph, &repo, Some(base), head).expect("an answer");
    // Everything is new: nothing can have broken, whatever the models made of it.
    assert!(
        diff.changes.iter().all(|c| c.class != api::Class::Breaking),
        "{:?}",
        diff.changes
            .iter()
            .find(|c| c.class == api::Class::Breaking)
    );
    // Each model read its files (and did not just give up on them).
    for file in ["src/lib.rs", "index.ts", "h/__init__.py", "h.go"] {
        assert!(
            diff.changes.iter().any(|c| c.path == file),
            "nothing read from {file}"
        );
    }
    // And back: every public item it saw is removed, and the diff still answers.
    let back = api::diff(&graph, &repo, Some(head), base).expect("an answer");
    assert!(back.changes.len() <= 1_000_000);
}
