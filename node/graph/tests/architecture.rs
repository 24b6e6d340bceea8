//! The architecture and documentation-gap rules end to end: fixture repositories built
//! with git2 (fixed times, so the co-change numbers below are exact), assessed in full
//! through the same pipeline `weft assess` runs.

mod common;

use common::Fixture;
use serde_json::Value;
use weft_graph::assess::layers::LayerPattern;
use weft_graph::assess::report::Finding;
use weft_graph::assess::rules::RuleConfig;
use weft_graph::assess::run::{assess, Quiet};
use weft_graph::assess::scope::ScopeRequest;
use weft_graph::{GraphConfig, KnowledgeGraph};

impl Fixture {
    /// Appends a comment line to each file (keeping what it says) and commits them.
    fn change(&mut self, files: &[&str], comment: &str) {
        for file in files {
            let full = self.dir.path().join(file);
            let mut text = std::fs::read_to_string(&full).expect("file exists");
            text.push_str(&format!("{comment} change {}\n", self.commits));
            self.write(file, &text);
        }
        self.commit();
    }

    fn commit(&mut self) {
        self.commits += 1;
        self.commit_at(self.commits * 86_400, "change");
    }

    fn findings(&self, rules: RuleConfig) -> Vec<Finding> {
        self.findings_in(rules, &ScopeRequest::Full)
    }

    fn findings_in(&self, rules: RuleConfig, scope: &ScopeRequest) -> Vec<Finding> {
        let store = tempfile::tempdir().expect("store dir");
        let config = GraphConfig {
            rules,
            ..GraphConfig::default()
        };
        let graph = KnowledgeGraph::open(self.dir.path(), store.path(), &config).expect("graph");
        assess(&graph, scope, "main", &Quiet)
            .expect("assessment")
            .findings
    }
}

fn of<'f>(findings: &'f [Finding], rule: &str) -> Vec<&'f Finding> {
    findings.iter().filter(|f| f.rule == rule).collect()
}

#[test]
fn implicit_dependencies_are_the_coupled_pairs_without_an_import() {
    let mut fx = Fixture::new();
    fx.write("src/lib.rs", "mod a;\nmod b;\nmod c;\n");
    fx.write("src/a.rs", "pub struct A;\n");
    fx.write("src/b.rs", "pub struct B;\n");
    fx.write("src/c.rs", "use crate::a::A;\npub fn c(_: A) {}\n");
    fx.commit();
    // a and b: the first commit and 5 more, of a's 11 and b's 8 (twice alone); a and c
    // the same, but c imports a.
    for _ in 0..5 {
        fx.change(&["src/a.rs", "src/b.rs"], "//");
        fx.change(&["src/a.rs", "src/c.rs"], "//");
    }
    fx.change(&["src/b.rs"], "//");
    fx.change(&["src/b.rs"], "//");
    let findings = fx.findings(RuleConfig::default());
    let implicit = of(&findings, "implicit-dependency");
    assert_eq!(implicit.len(), 1, "{implicit:#?}");
    let f = implicit[0];
    assert_eq!(f.path, "src/a.rs");
    let e = &f.evidence;
    assert_eq!(e["partner"], "src/b.rs");
    assert_eq!(e["shared_revs"], 6);
    assert_eq!(e["file_revs"], 11);
    assert_eq!(e["partner_revs"], 8);
    assert_eq!(e["confidence"].as_f64(), Some(0.75), "b's side: 6 of its 8");
    assert_eq!(e["file_to_partner"].as_f64(), Some(6.0 / 11.0));
    assert_eq!(e["imports"], "none either way");
    // Above every pair's confidence, nothing is reported.
    let strict = RuleConfig {
        implicit_min_confidence: 0.9,
        ..RuleConfig::default()
    };
    assert!(of(&fx.findings(strict), "implicit-dependency").is_empty());
}

#[test]
fn layers_and_cycles_from_imports_in_python() {
    let mut fx = Fixture::new();
    fx.write("app/__init__.py", "");
    fx.write(
        "app/views.py",
        "from core.model import Model\n\ndef show():\n    return Model()\n",
    );
    fx.write("core/__init__.py", "");
    fx.write(
        "core/model.py",
        "class Model:\n    def __init__(self):\n        pass\n\n    def save(self):\n        pass\n",
    );
    fx.write("core/_private.py", "def helper():\n    pass\n");
    fx.write(
        "core/store.py",
        "from app.views import show\nfrom core.model import Model\n",
    );
    fx.write("lib/a.py", "from lib import b\n");
    fx.write("lib/b.py", "import lib.a\n");
    fx.commit();
    let rules = RuleConfig {
        layers: ["app", "core"]
            .iter()
            .map(|l| LayerPattern::parse(l).expect("layer"))
            .collect(),
        ..RuleConfig::default()
    };
    let findings = fx.findings(rules.clone());
    let layer = of(&findings, "layer-violation");
    assert_eq!(
        layer.len(),
        1,
        "app → core is downward, core → app is not: {layer:#?}"
    );
    assert_eq!(
        (layer[0].path.as_str(), layer[0].line),
        ("core/store.py", 1)
    );
    assert_eq!(layer[0].evidence["to"], "app/views.py");
    assert_eq!(layer[0].evidence["layer"], "core");
    assert_eq!(layer[0].evidence["to_layer"], "app");
    let cycles = of(&findings, "import-cycle");
    assert_eq!(cycles.len(), 1, "{cycles:#?}");
    assert_eq!(
        cycles[0].evidence["members"],
        serde_json::json!(["lib/a.py", "lib/b.py"])
    );
    let steps = cycles[0].evidence["cycle"].as_array().expect("steps");
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0]["from"], "lib/a.py");
    assert_eq!(steps[1]["to"], "lib/a.py");
    let gaps: Vec<&str> = of(&findings, "doc-gap")
        .iter()
        .map(|f| f.symbol.as_str())
        .collect();
    assert!(
        gaps.contains(&"Model") && gaps.contains(&"Model.save"),
        "{gaps:?}"
    );
    assert!(
        !gaps.contains(&"Model.__init__"),
        "a dunder method: {gaps:?}"
    );
    assert!(!gaps.contains(&"helper"), "in a private module: {gaps:?}");
    // Scoped to files: a cycle when one of its members is in scope, a layer violation
    // when its importing file is.
    let scoped = |paths: &[&str]| {
        let scope = ScopeRequest::Paths(paths.iter().map(|p| p.to_string()).collect());
        let found = fx.findings_in(rules.clone(), &scope);
        let count = |rule: &str| of(&found, rule).len();
        (count("import-cycle"), count("layer-violation"))
    };
    assert_eq!(scoped(&["lib/b.py"]), (1, 0));
    assert_eq!(scoped(&["core/store.py"]), (0, 1));
    assert_eq!(
        scoped(&["app/views.py"]),
        (0, 0),
        "the imported side is not the violation"
    );
    // Without layers there is no layer rule; the cycle's id does not depend on the layers.
    let plain = fx.findings(RuleConfig::default());
    assert!(of(&plain, "layer-violation").is_empty());
    assert_eq!(of(&plain, "import-cycle")[0].id, cycles[0].id);
}

/// `n` lines of code in a Rust file defining `name`.
fn big_file(name: &str, n: usize) -> String {
    let mut text = format!("pub fn {name}() -> u32 {{\n    let mut x = 0;\n");
    for i in 0..n {
        text.push_str(&format!("    x += {i};\n"));
    }
    text.push_str("    x\n}\n");
    text
}

#[test]
fn god_files_are_big_imported_and_busy_and_doc_gaps_are_ranked_by_use() {
    let mut fx = Fixture::new();
    fx.write(
        "src/lib.rs",
        "mod core;\nmod lonely;\nmod u1;\nmod u2;\nmod u3;\n",
    );
    fx.write("src/core.rs", &format!(
        "{}\npub fn used_a_lot() {{}}\npub fn used_once() {{}}\n/// Documented.\npub fn documented() {{}}\nfn private() {{}}\npub fn unused() {{}}\npub struct Store;\nimpl Store {{\n    pub fn get(&self) {{}}\n    pub fn put(&self) {{}}\n}}\n",
        big_file("body", 40)
    ));
    fx.write("src/lonely.rs", &big_file("lonely", 60));
    fx.write(
        "src/u1.rs",
        "use crate::core::{used_a_lot, used_once, documented, Store};\nfn g(s: Store) { s.get(); }\n",
    );
    fx.write(
        "src/u2.rs",
        "use crate::core::{used_a_lot, documented, Store};\n",
    );
    fx.write(
        "src/u3.rs",
        "use crate::core;\nfn f() { core::used_a_lot(); core::documented(); }\n",
    );
    fx.commit();
    for _ in 0..3 {
        fx.change(&["src/core.rs", "src/lonely.rs"], "//");
    }
    let rules = RuleConfig {
        god_file_min_loc: 30,
        god_file_min_fan_in: 2,
        god_file_min_commits: 2,
        ..RuleConfig::default()
    };
    let findings = fx.findings(rules.clone());
    let god = of(&findings, "god-file");
    assert_eq!(
        god.len(),
        1,
        "lonely.rs is big and busy but nobody imports it: {god:#?}"
    );
    assert_eq!(god[0].path, "src/core.rs");
    let e = &god[0].evidence;
    assert_eq!(
        (e["fan_in"].as_u64(), e["commits"].as_u64()),
        (Some(3), Some(4))
    );
    let loc = e["loc"].as_u64().expect("loc");
    assert_eq!(e["score"].as_u64(), Some(loc * 3 * 4));

    let gaps: Vec<(&str, &Value, &Value)> = of(&findings, "doc-gap")
        .into_iter()
        .map(|f| (f.symbol.as_str(), &f.evidence["rank"], &f.evidence["uses"]))
        .collect();
    let rank = |symbol: &str| {
        gaps.iter()
            .find(|g| g.0 == symbol)
            .map(|g| (g.1.as_u64().expect("rank"), g.2.as_u64().expect("uses")))
    };
    assert_eq!(rank("used_a_lot"), Some((1, 3)), "{gaps:#?}");
    assert_eq!(rank("Store"), Some((2, 2)));
    // A method is used where its type is and it is called; ties go by name.
    assert_eq!(rank("Store::get"), Some((3, 1)));
    assert_eq!(rank("used_once"), Some((4, 1)));
    assert!(rank("Store::put").is_some_and(|(_, uses)| uses == 0));
    assert_eq!(rank("documented"), None);
    assert_eq!(rank("private"), None);
    assert!(rank("unused").is_some_and(|(r, u)| r > 4 && u == 0));
    let capped = RuleConfig {
        doc_gap_count: 1,
        ..rules
    };
    let top: Vec<String> = of(&fx.findings(capped), "doc-gap")
        .iter()
        .map(|f| f.symbol.clone())
        .collect();
    assert_eq!(top, ["used_a_lot"]);
}
