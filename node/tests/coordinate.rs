//! Impact on a generated organisation: a polyglot upstream (a Rust crate, an npm
//! package, a Python distribution and a Go module in one repository) and downstream
//! users in each language, with git histories and tags. The expected impact sets are
//! exact: every breaking use at its line, internal-only changes never breaking, a pinned
//! peer listed but not affected, a re-exported symbol followed.

use git2::{Repository, Signature, Time};
use std::path::{Path, PathBuf};
use weft_node::coordinate::api::{ChangeKind, Class};
use weft_node::coordinate::impact::{ImpactReport, PeerState, Severity};
use weft_node::coordinate::{self, release, ImpactRequest};
use weft_node::engine::OpenMode;
use weft_node::query::NoMesh;
use weft_node::Node;

const DAY: i64 = 86_400;
const T0: i64 = 1_700_000_000;

/// Writes files and commits them all at `time`.
fn commit(root: &Path, files: &[(&str, &str)], time: i64, message: &str) {
    let repo = Repository::open(root).unwrap_or_else(|_| Repository::init(root).expect("init"));
    let mut index = repo.index().expect("index");
    for (path, text) in files {
        let full = root.join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(&full, text).expect("write");
        index.add_path(Path::new(path)).expect("add");
    }
    index.write().expect("index write");
    let tree = repo
        .find_tree(index.write_tree().expect("tree"))
        .expect("tree");
    let sig = Signature::new("Dev", "dev@example.org", &Time::new(time, 0)).expect("sig");
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
        .expect("commit");
}

fn tag(root: &Path, name: &str) {
    let repo = Repository::open(root).expect("open");
    let head = repo.head().expect("head").peel_to_commit().expect("commit");
    repo.tag_lightweight(name, head.as_object(), false)
        .expect("tag");
}

fn init(root: &Path) {
    weft_node::init::init(root).expect("weft init");
}

const UP_CARGO_V1: &str = "[package]\nname = \"up-lib\"\nversion = \"1.0.0\"\n";
const UP_RS_V1: &str = r#"pub mod util;
pub use util::helper;

/// Parses.
pub fn parse(text: &str) -> u32 {
    text.len() as u32
}

pub fn old_name(x: u32) -> u32 {
    x + 1
}

pub fn removed_fn() {}

pub fn stable(x: u32) -> u32 {
    x * 2
}

fn private_thing() -> u32 {
    1
}

pub struct Client;

impl Client {
    pub fn send(&self, n: u32) -> u32 {
        n
    }
}
"#;
const UP_UTIL_V1: &str = "pub fn helper() -> u32 {\n    7\n}\n";
const UP_TS_V1: &str = r#"export function parse(text: string): number {
  return text.length;
}

export function oldApi(): void {}

export function kept(): number {
  return 1;
}
"#;
const UP_PKG_V1: &str = r#"{ "name": "@org/up", "version": "1.0.0" }"#;
const UP_PY_INIT_V1: &str =
    "def parse(text):\n    return len(text)\n\n\ndef keep():\n    return 1\n";
const UP_PY_CLIENT_V1: &str = "def connect(host):\n    return host\n";
const UP_PYPROJECT_V1: &str = "[project]\nname = \"up-py\"\nversion = \"1.0.0\"\n";
const UP_GOMOD: &str = "module example.com/up\n\ngo 1.21\n";
const UP_GO_V1: &str = "package up\n\nfunc Parse(s string) int {\n\treturn len(s)\n}\n\nfunc Keep() int {\n\treturn 1\n}\n";

/// The upstream at v1.0.0, then the changes a 2.0.0 makes.
fn upstream(root: &Path) {
    commit(
        root,
        &[
            ("Cargo.toml", UP_CARGO_V1),
            ("src/lib.rs", UP_RS_V1),
            ("src/util.rs", UP_UTIL_V1),
            ("package.json", UP_PKG_V1),
            ("ts/index.ts", UP_TS_V1),
            ("pyproject.toml", UP_PYPROJECT_V1),
            ("up_py/__init__.py", UP_PY_INIT_V1),
            ("up_py/client.py", UP_PY_CLIENT_V1),
            ("go.mod", UP_GOMOD),
            ("up.go", UP_GO_V1),
        ],
        T0,
        "v1",
    );
    tag(root, "v1.0.0");
    commit(
        root,
        &[
            ("Cargo.toml", &UP_CARGO_V1.replace("1.0.0", "2.0.0")),
            (
                "src/lib.rs",
                &UP_RS_V1
                    .replace(
                        "pub fn parse(text: &str) -> u32",
                        "pub fn parse(text: &str, strict: bool) -> u32",
                    )
                    .replace("old_name", "new_name")
                    .replace("pub fn removed_fn() {}\n\n", "")
                    .replace("x * 2", "x * 3")
                    .replace("    1\n}\n\npub struct", "    2\n}\n\npub struct")
                    .replace(
                        "pub fn send(&self, n: u32) -> u32",
                        "pub fn send(&self, n: u32, m: u32) -> u32",
                    ),
            ),
            (
                "src/util.rs",
                &UP_UTIL_V1.replace("helper()", "helper(seed: u32)"),
            ),
            ("package.json", &UP_PKG_V1.replace("1.0.0", "2.0.0")),
            (
                "ts/index.ts",
                &UP_TS_V1
                    .replace(
                        "parse(text: string)",
                        "parse(text: string, strict: boolean)",
                    )
                    .replace("export function oldApi(): void {}\n\n", ""),
            ),
            ("pyproject.toml", &UP_PYPROJECT_V1.replace("1.0.0", "2.0.0")),
            (
                "up_py/__init__.py",
                &UP_PY_INIT_V1.replace("def parse(text):\n    return len(text)\n\n\n", ""),
            ),
            (
                "up_py/client.py",
                &UP_PY_CLIENT_V1.replace("connect(host)", "connect(host, port)"),
            ),
            (
                "up.go",
                &UP_GO_V1.replace("func Parse(s string) int {\n\treturn len(s)\n}\n\n", ""),
            ),
        ],
        T0 + 20 * DAY,
        "2.0 changes",
    );
}

const RS_APP: &str = r#"use up_lib::{helper, old_name, parse, Client};

fn main() {
    let n = parse("x");
    let m = old_name(n);
    let c = Client;
    c.send(m);
    helper();
    up_lib::removed_fn();
}

fn local() -> u32 {
    stable(1)
}

fn stable(x: u32) -> u32 {
    x
}
"#;
/// Local names for upstream items, and a local `parse` and `old_name` that are not them.
const RS_ALIAS: &str = r#"use up_lib::old_name as legacy;
use up_lib::{parse as parse_text, Client as Conn};
use up_lib as up;

pub fn run() -> u32 {
    let n = parse_text("x");
    let c = Conn;
    c.send(n);
    up::helper();
    let k: up::Client = up::Client;
    k.send(legacy(n))
}

fn parse(x: &str) -> u32 {
    x.len() as u32
}

pub fn local() -> u32 {
    parse("y") + old_name() + crate::alias::parse("z")
}

fn old_name() -> u32 {
    1
}
"#;
/// The crate named by path, no `use` at all.
const RS_PATH_ONLY: &str = "pub fn tick() -> u32 {\n    up_lib::util::helper()\n}\n";
const TS_APP: &str = r#"import { parse, oldApi, kept } from '@org/up';

export function run(): number {
  oldApi();
  return parse('x') + kept();
}
"#;
const TS_ALIAS: &str = r#"import { parse as parseText, oldApi as legacy } from '@org/up';
import * as up from '@org/up';

function parse(x: string): number {
  return x.length;
}

export function go(): number {
  legacy();
  up.oldApi();
  const a = parseText('x');
  return a + parse('y');
}
"#;
const PY_APP: &str = r#"import up_py
from up_py import client


def main():
    up_py.parse("x")
    up_py.keep()
    return client.connect("h")
"#;
const PY_ALIAS: &str = r#"from up_py import parse as parse_text
from up_py.client import connect as dial
import up_py.client as c


def parse(x):
    return x


def main():
    parse("local")
    parse_text("x")
    c.connect("h")
    return dial("h")
"#;
const GO_APP: &str = "package main\n\nimport \"example.com/up\"\n\nfunc main() {\n\t_ = up.Parse(\"x\")\n\t_ = up.Keep()\n}\n";

/// The package under another name, and a local `Parse` that is not upstream's.
const GO_ALIAS: &str = "package main\n\nimport u \"example.com/up\"\n\nfunc Parse(s string) int { return 0 }\n\nfunc other() int {\n\t_ = Parse(\"local\")\n\treturn u.Parse(\"x\")\n}\n";

struct Org {
    _dir: tempfile::TempDir,
    up: PathBuf,
}

fn org() -> Org {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = dir.path().canonicalize().expect("canonical");
    let up = base.join("up");
    upstream(&up);
    init(&up);
    let peers: [(&str, Vec<(&str, String)>); 6] = [
        (
            "rs-app",
            vec![
                ("Cargo.toml", "[package]\nname = \"rs-app\"\nversion = \"0.1.0\"\n\n[dependencies]\nup-lib = { path = \"../up\" }\n".into()),
                ("src/main.rs", RS_APP.into()),
                ("src/alias.rs", RS_ALIAS.into()),
                ("src/path_only.rs", RS_PATH_ONLY.into()),
            ],
        ),
        (
            "ts-app",
            vec![
                ("package.json", r#"{ "name": "ts-app", "dependencies": { "@org/up": "^2.0.0" } }"#.into()),
                ("src/run.ts", TS_APP.into()),
                ("src/alias.ts", TS_ALIAS.into()),
            ],
        ),
        (
            "py-app",
            vec![
                ("pyproject.toml", "[project]\nname = \"py-app\"\ndependencies = [\"up-py>=1.0\"]\n".into()),
                ("app/main.py", PY_APP.into()),
                ("app/alias.py", PY_ALIAS.into()),
            ],
        ),
        (
            "go-app",
            vec![
                ("go.mod", "module example.com/goapp\n\ngo 1.21\n\nrequire example.com/up v1.0.0\n\nreplace example.com/up => ../up\n".into()),
                ("main.go", GO_APP.into()),
                ("alias.go", GO_ALIAS.into()),
            ],
        ),
        (
            "pinned",
            vec![
                ("Cargo.toml", "[package]\nname = \"pinned\"\nversion = \"0.1.0\"\n\n[dependencies]\nup-lib = \"=1.0.0\"\n".into()),
                ("src/lib.rs", "use up_lib::parse;\n\npub fn go() -> u32 {\n    parse(\"y\")\n}\n".into()),
            ],
        ),
        (
            "unrelated",
            vec![("tool.py", "import json\n\n\ndef parse(x):\n    return json.loads(x)\n".into())],
        ),
    ];
    let mut links = String::new();
    for (name, files) in &peers {
        let root = base.join(name);
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        commit(&root, &files, T0 - 30 * DAY, "start");
        // A change in the week after v1.0.0: co-change evidence for the Rust user.
        if *name == "rs-app" {
            commit(
                &root,
                &[("src/main.rs", &format!("{RS_APP}\n"))],
                T0 + 3 * DAY,
                "follow up 1.0",
            );
        }
        init(&root);
        links.push_str(&format!(
            "\n[[coordination.peers]]\nname = \"{name}\"\npath = \"../{name}\"\n"
        ));
    }
    let config = up.join("weave.toml");
    let text = std::fs::read_to_string(&config).expect("weave.toml");
    std::fs::write(&config, format!("{text}{links}")).expect("link peers");
    Org { _dir: dir, up }
}

fn impact(up: &Path) -> ImpactReport {
    let node = Node::open(up, OpenMode::Checked).expect("open");
    coordinate::impact(&node, &ImpactRequest::default(), &NoMesh).expect("impact")
}

/// (path, line, symbol, class) of every listed use of a peer.
fn uses(report: &ImpactReport, peer: &str) -> Vec<(String, u32, String, Class)> {
    let p = report
        .peers
        .iter()
        .find(|p| p.name == peer)
        .expect("peer listed");
    p.files
        .iter()
        .flat_map(|f| {
            f.uses
                .iter()
                .map(move |u| (f.path.clone(), u.line, u.symbol.clone(), u.class))
        })
        .collect()
}

fn owned(items: &[(&str, u32, &str, Class)]) -> Vec<(String, u32, String, Class)> {
    items
        .iter()
        .map(|(p, l, s, c)| (p.to_string(), *l, s.to_string(), *c))
        .collect()
}

#[test]
fn the_api_diff_classifies_every_change() {
    let org = org();
    let report = impact(&org.up);
    assert_eq!(report.base.origin, "tag");
    assert_eq!(report.base.name.as_deref(), Some("v1.0.0"));
    let mut changes: Vec<(String, String, ChangeKind, Class)> = report
        .api
        .changes
        .iter()
        .map(|c| (c.path.clone(), c.qualified.clone(), c.change, c.class))
        .collect();
    changes.sort();
    use ChangeKind::*;
    use Class::*;
    let expected = [
        ("src/lib.rs", "Client::send", Signature, Breaking),
        ("src/lib.rs", "old_name", Renamed, Breaking),
        ("src/lib.rs", "parse", Signature, Breaking),
        ("src/lib.rs", "removed_fn", Removed, Breaking),
        ("src/lib.rs", "stable", Body, Internal),
        ("src/util.rs", "helper", Signature, Breaking),
        ("ts/index.ts", "oldApi", Removed, Breaking),
        ("ts/index.ts", "parse", Signature, Breaking),
        ("up.go", "Parse", Removed, Breaking),
        ("up_py/__init__.py", "parse", Removed, Breaking),
        ("up_py/client.py", "connect", Signature, Breaking),
    ];
    let expected: Vec<(String, String, ChangeKind, Class)> = expected
        .iter()
        .map(|(p, q, k, c)| (p.to_string(), q.to_string(), *k, *c))
        .collect();
    assert_eq!(changes, expected);
    let renamed = report
        .api
        .changes
        .iter()
        .find(|c| c.change == Renamed)
        .expect("rename");
    assert_eq!(renamed.renamed_to.as_deref(), Some("new_name"));
    let mut fields: Vec<(&str, &str, Class)> = report
        .api
        .manifest_changes
        .iter()
        .map(|m| (m.path.as_str(), m.field.as_str(), m.class))
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            ("Cargo.toml", "version", Internal),
            ("package.json", "version", Internal),
            ("pyproject.toml", "version", Internal),
        ]
    );
    let mut packages: Vec<&str> = report
        .api
        .packages
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    packages.sort();
    assert_eq!(packages, ["@org/up", "example.com/up", "up-lib", "up-py"]);
}

#[test]
fn each_peer_is_reported_at_its_exact_uses() {
    let org = org();
    let report = impact(&org.up);
    use Class::*;
    // Rust: imports, calls, the method through its imported type and the re-exported
    // helper, items under local names (`as`) and through paths (`up::helper()`,
    // `up_lib::removed_fn()`, a file with no `use`); the local `stable`, `parse` and
    // `old_name` are not the upstream's.
    assert_eq!(
        uses(&report, "rs-app"),
        owned(&[
            ("src/alias.rs", 1, "old_name", Breaking),
            ("src/alias.rs", 2, "parse", Breaking),
            ("src/alias.rs", 6, "parse", Breaking),
            ("src/alias.rs", 8, "Client.send", Breaking),
            ("src/alias.rs", 9, "helper", Breaking),
            ("src/alias.rs", 11, "old_name", Breaking),
            ("src/alias.rs", 11, "Client.send", Breaking),
            ("src/main.rs", 1, "helper", Breaking),
            ("src/main.rs", 1, "old_name", Breaking),
            ("src/main.rs", 1, "parse", Breaking),
            ("src/main.rs", 4, "parse", Breaking),
            ("src/main.rs", 5, "old_name", Breaking),
            ("src/main.rs", 7, "Client.send", Breaking),
            ("src/main.rs", 8, "helper", Breaking),
            ("src/main.rs", 9, "removed_fn", Breaking),
            ("src/path_only.rs", 2, "helper", Breaking),
        ])
    );
    assert_eq!(
        uses(&report, "ts-app"),
        owned(&[
            ("src/alias.ts", 1, "oldApi", Breaking),
            ("src/alias.ts", 1, "parse", Breaking),
            ("src/alias.ts", 9, "oldApi", Breaking),
            ("src/alias.ts", 10, "oldApi", Breaking),
            ("src/alias.ts", 11, "parse", Breaking),
            ("src/run.ts", 1, "oldApi", Breaking),
            ("src/run.ts", 1, "parse", Breaking),
            ("src/run.ts", 4, "oldApi", Breaking),
            ("src/run.ts", 5, "parse", Breaking),
        ])
    );
    assert_eq!(
        uses(&report, "py-app"),
        owned(&[
            ("app/alias.py", 1, "parse", Breaking),
            ("app/alias.py", 2, "connect", Breaking),
            ("app/alias.py", 12, "parse", Breaking),
            ("app/alias.py", 13, "connect", Breaking),
            ("app/alias.py", 14, "connect", Breaking),
            ("app/main.py", 6, "parse", Breaking),
            ("app/main.py", 8, "connect", Breaking),
        ])
    );
    assert_eq!(
        uses(&report, "go-app"),
        owned(&[
            ("alias.go", 9, "Parse", Breaking),
            ("main.go", 6, "Parse", Breaking)
        ])
    );
    for name in ["rs-app", "ts-app", "py-app", "go-app"] {
        let p = report
            .peers
            .iter()
            .find(|p| p.name == name)
            .expect("listed");
        assert_eq!(
            (p.state, p.severity),
            (PeerState::Affected, Severity::Breaking),
            "{name}"
        );
    }
    // Pinned to 1.0.0: listed with what would break, but not affected now.
    let pinned = report
        .peers
        .iter()
        .find(|p| p.name == "pinned")
        .expect("listed");
    assert_eq!(pinned.state, PeerState::Pinned);
    assert_eq!(pinned.declarations[0].takes_version, "no");
    assert_eq!(
        uses(&report, "pinned"),
        owned(&[
            ("src/lib.rs", 1, "parse", Breaking),
            ("src/lib.rs", 4, "parse", Breaking)
        ])
    );
    // Its own `parse` and `json` import do not make it a user.
    let unrelated = report
        .peers
        .iter()
        .find(|p| p.name == "unrelated")
        .expect("listed");
    assert_eq!(unrelated.state, PeerState::NotDependent);
    assert!(unrelated.files.is_empty());
    assert_eq!(report.summary.affected, 4);
    assert_eq!(report.summary.breaking_peers, 4);
    assert_eq!(report.summary.pinned, 1);
    assert_eq!(report.summary.breaking_uses, 16 + 9 + 7 + 2);
    // The peers most broken come first.
    assert_eq!(report.peers[0].name, "rs-app");
}

#[test]
fn an_internal_only_change_is_not_breaking() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = dir.path().canonicalize().expect("canonical");
    let up = base.join("up");
    commit(
        &up,
        &[
            ("Cargo.toml", UP_CARGO_V1),
            ("src/lib.rs", UP_RS_V1),
            ("src/util.rs", UP_UTIL_V1),
        ],
        T0,
        "v1",
    );
    tag(&up, "v1.0.0");
    commit(
        &up,
        &[("src/lib.rs", &UP_RS_V1.replace("x * 2", "x * 3"))],
        T0 + DAY,
        "internal",
    );
    init(&up);
    let app = base.join("app");
    commit(
        &app,
        &[
            (
                "Cargo.toml",
                "[package]\nname = \"app\"\n\n[dependencies]\nup-lib = { path = \"../up\" }\n",
            ),
            (
                "src/main.rs",
                "use up_lib::stable;\n\nfn main() {\n    stable(2);\n}\n",
            ),
        ],
        T0,
        "app",
    );
    init(&app);
    let config = up.join("weave.toml");
    let text = std::fs::read_to_string(&config).expect("read");
    std::fs::write(
        &config,
        format!("{text}\n[[coordination.peers]]\nname = \"app\"\npath = \"../app\"\n"),
    )
    .expect("write");
    let report = impact(&up);
    assert_eq!(report.summary.breaking_changes, 0);
    let p = &report.peers[0];
    assert_eq!(
        (p.state, p.severity),
        (PeerState::Affected, Severity::Informational)
    );
    assert_eq!(
        uses(&report, "app"),
        owned(&[
            ("src/main.rs", 1, "stable", Class::Internal),
            ("src/main.rs", 4, "stable", Class::Internal)
        ])
    );
    assert_eq!(p.breaking_uses, 0);
}

/// A release renaming a key of a public configuration file (`[analysis] public_config`)
/// counts a breaking change, like a removed function: the key removed, its new name
/// added; a configuration file that is not public changes without a word.
#[test]
fn a_renamed_public_config_key_is_a_breaking_change_of_the_release() {
    let dir = tempfile::tempdir().expect("tempdir");
    let up = dir.path().canonicalize().expect("canonical").join("up");
    let app_v1 = "[server]\nport = 8080\nhost = \"0.0.0.0\"\n";
    commit(
        &up,
        &[
            ("Cargo.toml", UP_CARGO_V1),
            ("src/lib.rs", UP_RS_V1),
            ("src/util.rs", UP_UTIL_V1),
            ("config/app.toml", app_v1),
            ("dev/compose.yaml", "services:\n  db: {image: postgres}\n"),
        ],
        T0,
        "v1",
    );
    tag(&up, "v1.0.0");
    commit(
        &up,
        &[
            ("config/app.toml", &app_v1.replace("port", "listen_port")),
            (
                "dev/compose.yaml",
                "services:\n  database: {image: postgres}\n",
            ),
        ],
        T0 + DAY,
        "rename the port key",
    );
    init(&up);
    let config = up.join("weave.toml");
    let text = std::fs::read_to_string(&config).expect("read");
    std::fs::write(
        &config,
        format!("{text}\n[analysis]\npublic_config = [\"config/*.toml\"]\n"),
    )
    .expect("write");
    let report = impact(&up);
    let changes: Vec<(&str, &str, Class, &str)> = report
        .api
        .config_changes
        .iter()
        .map(|c| (c.path.as_str(), c.key.as_str(), c.class, c.rule.as_str()))
        .collect();
    assert_eq!(
        changes,
        [
            (
                "config/app.toml",
                "server.port",
                Class::Breaking,
                "config/key-removed"
            ),
            (
                "config/app.toml",
                "server.listen_port",
                Class::Additive,
                "config/key-added"
            ),
        ]
    );
    assert_eq!(report.summary.breaking_changes, 1);
    assert_eq!(report.summary.additive_changes, 1);
    assert!(report.api.changes.is_empty(), "{:?}", report.api.changes);
    let json = serde_json::to_value(&report).expect("json");
    assert_eq!(
        json["api"]["config_changes"][0]["before"][0], "integer",
        "{json}"
    );
}

#[test]
fn co_change_after_past_releases_is_weaker_evidence() {
    let org = org();
    let report = impact(&org.up);
    let rs = report
        .peers
        .iter()
        .find(|p| p.name == "rs-app")
        .expect("listed");
    let main = rs
        .files
        .iter()
        .find(|f| f.path == "src/main.rs")
        .expect("file");
    assert_eq!(
        main.cochanged_after_releases, 1,
        "changed 3 days after v1.0.0"
    );
    let ts = report
        .peers
        .iter()
        .find(|p| p.name == "ts-app")
        .expect("listed");
    assert!(ts.files.iter().all(|f| f.cochanged_after_releases == 0));
}

#[test]
fn semantic_neighbours_in_a_peers_index_are_weaker_evidence() {
    use weft_node::engine::open_graph;
    use weft_node::{Layout, WeaveConfig};
    let org = org();
    // The unrelated peer reimplements the removed function under the same name, without
    // depending on the upstream; its index is built (the real model).
    let unrelated = org.up.parent().expect("base").join("unrelated");
    std::fs::write(
        unrelated.join("legacy.py"),
        "def removed_fn():\n    pass\n\n\ndef tally(rows):\n    return len(rows)\n",
    )
    .expect("write");
    let config = WeaveConfig::load(&unrelated).expect("config");
    let graph = open_graph(&Layout::new(&unrelated), &config).expect("graph");
    let mut embedder = graph.embedder().expect("model");
    let scanned = graph.scan(&|_, _| {}).expect("scan");
    graph
        .sync_index(&scanned, &mut embedder, &|_, _| {})
        .expect("index");
    drop(graph);

    let report = impact(&org.up);
    let peer = |name: &str| {
        report
            .peers
            .iter()
            .find(|p| p.name == name)
            .expect("listed")
    };
    let other = peer("unrelated");
    // Look-alikes change neither the state nor the severity.
    assert_eq!(other.state, PeerState::NotDependent);
    assert_eq!(other.severity, Severity::None);
    assert!(other.files.is_empty());
    let found: Vec<(&str, &str, &str)> = other
        .neighbours
        .iter()
        .map(|n| (n.of.as_str(), n.path.as_str(), n.qualified.as_str()))
        .collect();
    assert!(
        found.contains(&("removed_fn", "legacy.py", "removed_fn")),
        "{:?}",
        other.neighbours
    );
    assert!(
        !found.iter().any(|(_, _, q)| *q == "tally"),
        "an unrelated function passed the floor: {:?}",
        other.neighbours
    );
    assert!(other
        .neighbours
        .iter()
        .all(|n| n.score >= weft_node::query::NEIGHBOUR_FLOOR));
    // A peer that never built an index says so instead.
    let ts = peer("ts-app");
    assert!(ts.neighbours.is_empty());
    assert!(
        ts.neighbours_note
            .as_deref()
            .is_some_and(|n| n.contains("no search index")),
        "{:?}",
        ts.neighbours_note
    );
}

#[test]
fn a_release_waits_for_acknowledgements_which_land_on_both_chains() {
    let org = org();
    let config = org.up.join("weave.toml");
    let text = std::fs::read_to_string(&config).expect("read");
    // Defer breaking releases until the affected peers acknowledge.
    std::fs::write(
        &config,
        format!("{text}\n[[governance.rules]]\nid = \"breaking-unacknowledged\"\naction = \"release.*\"\nwhen = [\"risk >= 0.5\"]\nseverity = \"blocking\"\n"),
    )
    .expect("rules");
    let up = || Node::open(&org.up, OpenMode::Checked).expect("open up");
    let request = release::ReleaseRequest {
        version: "2.0.0".into(),
        ..Default::default()
    };
    let first = release::release(&up(), &request, &NoMesh).expect("release");
    assert!(
        matches!(first.outcome, release::Outcome::Deferred),
        "{first:?}"
    );
    let affected: Vec<&str> = first.peers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        affected,
        ["rs-app", "ts-app", "py-app", "go-app"],
        "most broken first"
    );
    assert!(up().tree().get("/releases/2.0.0").expect("tree").is_none());

    let peer_root = org.up.parent().expect("base").to_path_buf();
    for name in &affected {
        let root = peer_root.join(name);
        let text = std::fs::read_to_string(root.join("weave.toml")).expect("read");
        std::fs::write(
            root.join("weave.toml"),
            format!("{text}\n[[coordination.peers]]\nname = \"up\"\npath = \"../up\"\n"),
        )
        .expect("link");
        let node = Node::open(&root, OpenMode::Checked).expect("open peer");
        let ack = release::ack(&node, "up", "2.0.0", Some("migrated")).expect("ack");
        assert!(
            !ack.published,
            "acknowledged while the release waits on the gate"
        );
        let lineage = node.chain().event(ack.lineage_seq).expect("lineage");
        assert_eq!(lineage.event.kind, "lineage.record");
        let report = weft_kernel::verify::verify(node.chain(), &mut |_| {}).expect("verify");
        assert!(report.failures.is_empty(), "{name}: {:?}", report.failures);
        if *name == "py-app" {
            // With three of four acknowledged the release still waits.
            let again = release::release(&up(), &request, &NoMesh).expect("release");
            assert!(matches!(again.outcome, release::Outcome::Deferred));
        }
    }
    let done = release::release(&up(), &request, &NoMesh).expect("release");
    let release::Outcome::Published { seq, .. } = done.outcome else {
        panic!("expected a publication, got {done:?}");
    };
    assert!(done.peers.iter().all(|p| p.acknowledged));
    let node = up();
    assert_eq!(
        node.chain().event(seq).expect("event").event.kind,
        "release.publish"
    );
    assert!(node.tree().get("/releases/2.0.0").expect("tree").is_some());
    // The releasing chain witnessed each acknowledgement.
    let status = release::status(&node).expect("status");
    let r = status
        .releases
        .iter()
        .find(|r| r.version == "2.0.0")
        .expect("listed");
    assert_eq!(r.state, "published");
    assert!(r.peers.iter().all(|p| p.acknowledged));
    let witnessed = node
        .chain()
        .events(0)
        .map(|e| e.expect("event").event)
        .filter(|e| e.kind == "witness.head")
        .filter_map(|e| weft_kernel::cbor::read::text(&e.payload, "note").map(str::to_string))
        .filter(|n| n.starts_with("ack "))
        .count();
    assert_eq!(witnessed, 4);
    let report = weft_kernel::verify::verify(node.chain(), &mut |_| {}).expect("verify");
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    // The version cannot be released twice.
    let err = release::release(&node, &request, &NoMesh).expect_err("released twice");
    assert!(err.to_string().contains("already released"), "{err}");
}
