use super::cycles::cycles;
use super::*;
use crate::deps::parse_manifest_text;
use std::sync::Arc;

/// Scanned files from (path, source) pairs, parsed by the real extractors.
fn files(sources: &[(&str, &str)]) -> Vec<ScannedFile> {
    let mut out: Vec<ScannedFile> = sources
        .iter()
        .filter_map(|(path, text)| {
            let language = Language::from_path(std::path::Path::new(path))?;
            let facts = crate::lang::extract(language, text).expect("parses");
            Some(ScannedFile {
                path: path.to_string(),
                language,
                hash: crate::scan::content_hash(text),
                facts: Arc::new(facts),
            })
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn graph(sources: &[(&str, &str)]) -> ImportGraph {
    let manifests: Vec<Manifest> = sources
        .iter()
        .filter_map(|(path, text)| parse_manifest_text(path, text))
        .collect();
    ImportGraph::build(&files(sources), &manifests)
}

/// (from, to, kind) of every edge.
fn edges(g: &ImportGraph) -> Vec<(String, String, EdgeKind)> {
    g.edges()
        .map(|(f, t, e)| (f.to_string(), t.to_string(), e.kind))
        .collect()
}

fn has(g: &ImportGraph, from: &str, to: &str) -> bool {
    g.edge(from, to).is_some_and(|e| e.kind == EdgeKind::Import)
}

/// Each (from, to, why) is an import edge.
fn expect_imports(g: &ImportGraph, expected: &[(&str, &str, &str)]) {
    for (from, to, why) in expected {
        assert!(
            has(g, from, to),
            "{from} → {to} ({why}); edges: {:?}",
            edges(g)
        );
    }
}

fn members(g: &ImportGraph) -> Vec<Vec<String>> {
    cycles(g).into_iter().map(|c| c.members).collect()
}

#[test]
fn rust_paths_resolve_to_module_files_and_crates() {
    let g = graph(&[
        ("Cargo.toml", "[package]\nname = \"app-core\"\n"),
        ("src/lib.rs", "mod a;\npub mod b;\nuse a::Thing;\nuse std::fmt;\nuse serde::Serialize;\n"),
        ("src/a.rs", "mod inner;\nuse crate::b::{self, deep::D};\nuse super::Other;\npub struct Thing;\n"),
        ("src/a/inner.rs", "use super::super::b::Item;\nuse self::x::Y;\n"),
        ("src/b/mod.rs", "pub mod deep;\npub struct Item;\n#[cfg(test)]\nmod tests {\n    use super::*;\n    use super::deep::D;\n}\n"),
        ("src/b/deep.rs", "pub struct D;\nfn f() { crate::a::helper(); }\n"),
        ("tool/Cargo.toml", "[package]\nname = \"tool\"\n[dependencies]\ncore = { package = \"app-core\", path = \"..\" }\n"),
        ("tool/src/main.rs", "use app_core::b::Item;\nuse core::a;\nmod cli;\n"),
        ("tool/src/cli.rs", "use crate::main_helper;\n"),
        ("facade/Cargo.toml", "[package]\nname = \"facade\"\n"),
        ("facade/src/lib.rs", "pub use app_core as api;\nmod x;\n"),
        ("facade/src/x.rs", "use crate::api::b::Item;\n"),
    ]);
    expect_imports(
        &g,
        &[
            ("src/lib.rs", "src/a.rs", "a child module by its name"),
            ("src/a.rs", "src/b/mod.rs", "`self` in a list is the module"),
            ("src/a.rs", "src/b/deep.rs", "a nested path"),
            (
                "src/a.rs",
                "src/lib.rs",
                "`super` of a top module is the root",
            ),
            ("src/a/inner.rs", "src/b/mod.rs", "two `super`s"),
            (
                "src/b/mod.rs",
                "src/b/deep.rs",
                "`super` of an inline module",
            ),
            (
                "tool/src/main.rs",
                "src/b/mod.rs",
                "a crate by package name",
            ),
            (
                "tool/src/main.rs",
                "src/a.rs",
                "a crate by its renamed name",
            ),
            ("tool/src/cli.rs", "tool/src/main.rs", "`crate` of a binary"),
        ],
    );
    let declared = edges(&g)
        .into_iter()
        .filter(|e| e.2 == EdgeKind::Declares)
        .map(|(f, t, _)| (f, t))
        .collect::<Vec<_>>();
    assert!(declared.contains(&("src/lib.rs".into(), "src/b/mod.rs".into())));
    assert!(declared.contains(&("src/a.rs".into(), "src/a/inner.rs".into())));
    assert!(declared.contains(&("tool/src/main.rs".into(), "tool/src/cli.rs".into())));
    // std, serde and `self::x` (no such module) are not edges: every edge is listed above.
    let into = |from: &str| {
        edges(&g)
            .into_iter()
            .filter(|e| e.0 == from && e.2 == EdgeKind::Import)
            .count()
    };
    assert_eq!(into("src/lib.rs"), 1, "{:?}", edges(&g));
    assert_eq!(into("src/a/inner.rs"), 1, "{:?}", edges(&g));
    // A declared module that is also imported is imported (it once lost its importer).
    let importers: Vec<&str> = g.importers("src/a.rs").collect();
    assert_eq!(
        importers,
        ["src/b/deep.rs", "src/lib.rs", "tool/src/main.rs"]
    );
    let declared_only = g.edge("src/lib.rs", "src/b/mod.rs").expect("declared");
    assert!(!declared_only.whole && g.importers("src/b/mod.rs").all(|f| f != "src/lib.rs"));
    let e = g.edge("src/lib.rs", "src/a.rs").expect("edge");
    assert!(e.into_descendant && e.line == 3, "{e:?}");
    assert!(
        !g.edge("src/a.rs", "src/b/mod.rs")
            .expect("edge")
            .into_descendant
    );
}

#[test]
fn rust_cycles_need_imports_both_ways_not_a_parent_owning_its_child() {
    let cyclic = graph(&[
        (
            "src/lib.rs",
            "mod a;\nmod b;\npub use a::A;\npub struct Error;\n",
        ),
        (
            "src/a.rs",
            "use crate::b::B;\nuse crate::Error;\npub struct A;\n",
        ),
        ("src/b.rs", "use crate::a::A;\npub struct B;\n"),
    ]);
    assert_eq!(
        members(&cyclic),
        vec![vec!["src/a.rs".to_string(), "src/b.rs".to_string()]],
        "a ↔ b; lib.rs declares and re-exports a, a uses lib's Error: no cycle there"
    );
    let steps = &cycles(&cyclic)[0].steps;
    assert_eq!(steps.len(), 2);
    assert_eq!(
        (steps[0].from.as_str(), steps[0].to.as_str(), steps[0].line),
        ("src/a.rs", "src/b.rs", 1)
    );
    assert_eq!(steps[1].from, "src/b.rs");
    let acyclic = graph(&[
        ("src/lib.rs", "mod a;\nmod b;\n"),
        ("src/a.rs", "use crate::b::B;\n"),
        ("src/b.rs", "pub struct B;\n"),
    ]);
    assert!(members(&acyclic).is_empty());
}

#[test]
fn python_relative_absolute_and_package_imports() {
    let g = graph(&[
        (
            "pkg/__init__.py",
            "from .core import run\nfrom . import util\n",
        ),
        (
            "pkg/core.py",
            "import os\nfrom pkg.util import helper\nfrom .sub.leaf import x\n",
        ),
        ("pkg/util.py", "from pkg import core\n"),
        ("pkg/sub/__init__.py", ""),
        (
            "pkg/sub/leaf.py",
            "from ..util import helper\nimport pkg.sub\n",
        ),
        ("src/lib/__init__.py", ""),
        ("src/lib/api.py", "import lib.model\nimport requests\n"),
        ("src/lib/model.py", "x = 1\n"),
        ("scripts/run.py", "import pkg.core as c\n"),
    ]);
    expect_imports(
        &g,
        &[
            ("pkg/__init__.py", "pkg/core.py", ""),
            (
                "pkg/__init__.py",
                "pkg/util.py",
                "`from . import util` is the submodule",
            ),
            ("pkg/core.py", "pkg/util.py", ""),
            ("pkg/core.py", "pkg/sub/leaf.py", ""),
            (
                "pkg/util.py",
                "pkg/core.py",
                "`from pkg import core` is the submodule",
            ),
            ("pkg/sub/leaf.py", "pkg/util.py", ""),
            ("pkg/sub/leaf.py", "pkg/sub/__init__.py", ""),
            ("src/lib/api.py", "src/lib/model.py", "a package under src/"),
            ("scripts/run.py", "pkg/core.py", ""),
        ],
    );
    assert!(!edges(&g)
        .iter()
        .any(|e| e.0 == "pkg/core.py" && e.1.contains("os")));
    assert_eq!(g.fan_in("pkg/util.py"), 3);
    assert_eq!(
        members(&g),
        vec![vec![
            "pkg/core.py".to_string(),
            "pkg/sub/leaf.py".to_string(),
            "pkg/util.py".to_string(),
        ]],
        "core → util → core and core → leaf → util; nothing imports pkg/__init__.py"
    );
}

#[test]
fn scripts_resolve_relative_specifiers_with_extensions_and_index_files() {
    let g = graph(&[
        (
            "web/a.ts",
            "import { b } from './b';\nimport x from 'lodash';\nimport { u } from './util';\n",
        ),
        ("web/b.ts", "import { a } from './a.js';\n"),
        ("web/util/index.ts", "export const u = 1;\n"),
        ("web/c.js", "const d = require('../web/d.cjs');\n"),
        ("web/d.cjs", "module.exports = {};\n"),
    ]);
    expect_imports(
        &g,
        &[
            ("web/a.ts", "web/b.ts", ""),
            ("web/b.ts", "web/a.ts", "`.js` is the TypeScript source"),
            ("web/a.ts", "web/util/index.ts", ""),
            ("web/c.js", "web/d.cjs", ""),
        ],
    );
    assert_eq!(edges(&g).len(), 4, "lodash is a package: {:?}", edges(&g));
    assert_eq!(
        members(&g),
        vec![vec!["web/a.ts".to_string(), "web/b.ts".to_string()]]
    );
}

#[test]
fn go_imports_name_every_file_of_the_package_and_cycles_are_packages() {
    let g = graph(&[
        ("go.mod", "module example.com/app\n\ngo 1.21\n"),
        (
            "main.go",
            "package main\nimport (\n\t\"fmt\"\n\t\"example.com/app/store\"\n)\n",
        ),
        (
            "store/db.go",
            "package store\nimport \"example.com/app/model\"\n",
        ),
        ("store/cache.go", "package store\n"),
        ("store/db_test.go", "package store\n"),
        (
            "model/user.go",
            "package model\nimport \"example.com/app/store\"\n",
        ),
        ("model/other.go", "package model\n"),
    ]);
    expect_imports(
        &g,
        &[
            ("main.go", "store/db.go", ""),
            ("main.go", "store/cache.go", ""),
        ],
    );
    assert!(
        !has(&g, "main.go", "store/db_test.go"),
        "a test file is not imported"
    );
    assert!(has(&g, "store/db.go", "model/other.go"));
    assert_eq!(unit("store/db.go"), "store/");
    assert_eq!(unit("main.go"), "./");
    assert_eq!(
        members(&g),
        vec![vec!["model/".to_string(), "store/".to_string()]]
    );
}

#[test]
fn a_long_chain_and_a_big_cycle_need_no_deep_stack() {
    // 20 000 modules in one loop: a recursive Tarjan would overflow a test thread's stack.
    let n = 20_000;
    let sources: Vec<(String, String)> = (0..n)
        .map(|i| {
            (
                format!("m{i:05}.py"),
                format!("import m{:05}\n", (i + 1) % n),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = sources
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let found = cycles(&graph(&refs));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].members.len(), n);
    assert_eq!(found[0].steps.len(), n, "the loop goes all the way round");
    assert_eq!(found[0].steps[0].from, "m00000.py");
}

#[test]
fn absurdly_long_paths_are_not_followed() {
    // Each segment tried costs a lookup of the whole prefix: 100 000 of them would be
    // quadratic. They are refused instead, and nothing else is lost.
    let long_rust = format!("use crate::{}X;\nuse crate::a::A;\n", "a::".repeat(100_000));
    let long_python = format!("import {}b\nfrom . import a\n", "a.".repeat(100_000));
    let g = graph(&[
        ("src/lib.rs", &long_rust),
        ("src/a.rs", "pub struct A;\n"),
        ("py/a.py", ""),
        ("py/m.py", &long_python),
    ]);
    let all: Vec<(String, String)> = edges(&g).into_iter().map(|(f, t, _)| (f, t)).collect();
    assert_eq!(
        all,
        [
            ("py/m.py".to_string(), "py/a.py".to_string()),
            ("src/lib.rs".to_string(), "src/a.rs".to_string()),
        ]
    );
}
