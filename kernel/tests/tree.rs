//! Resource tree: replaying the chain rebuilds the stored tree (property test), and
//! renames and kind changes change the root.

mod common;

use common::*;
use proptest::prelude::*;
use std::collections::BTreeMap;
use weft_kernel::tree::{replay, verify_tree, Tree, TreeError};

#[derive(Debug, Clone)]
enum Op {
    Set {
        path: String,
        kind: String,
        meta: Option<(String, String)>,
    },
    Remove {
        path: String,
        recursive: bool,
    },
}

fn path_strategy() -> impl Strategy<Value = String> {
    let names = prop::sample::select(vec!["a", "b", "c"]);
    let top = prop::sample::select(vec!["/apps", "/releases", "/network/peers", "/x"]);
    (top, prop::collection::vec(names, 0..3)).prop_map(|(top, rest)| {
        let mut p = top.to_string();
        for n in rest {
            p.push('/');
            p.push_str(n);
        }
        p
    })
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (path_strategy(), prop::sample::select(vec!["service", "release", "custom"]), prop::option::of(("[a-c]", "[0-9]{1,2}"))).prop_map(|(path, kind, meta)| Op::Set { path, kind: kind.into(), meta }),
        1 => (path_strategy(), any::<bool>()).prop_map(|(path, recursive)| Op::Remove { path, recursive }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn replaying_the_chain_rebuilds_the_stored_tree(ops in prop::collection::vec(op_strategy(), 1..24)) {
        let dir = tempfile::tempdir().expect("tmp");
        let chain = new_chain(dir.path());
        let tree = Tree::new(&chain);
        tree.bootstrap().expect("bootstrap");
        for op in ops {
            // Invalid operations (missing parent, children without -r) are refused and
            // must leave both the chain and the tree as they were.
            let before = (chain.len(), tree.root().expect("root").map(|n| n.hash));
            let result = match &op {
                Op::Set { path, kind, meta } => tree.set(path, kind, meta.clone().into_iter().collect()),
                Op::Remove { path, recursive } => tree.remove(path, *recursive),
            };
            if result.is_err() {
                prop_assert_eq!(before, (chain.len(), tree.root().expect("root").map(|n| n.hash)));
            }
        }
        let report = verify_tree(&tree).expect("verify");
        prop_assert!(report.problems.is_empty(), "{:?}", report.problems);
        let replayed = replay(&chain).expect("replay");
        prop_assert_eq!(Some(replayed.tree.root()), tree.root().expect("root").map(|n| n.hash));
        prop_assert!(replayed.root_mismatches.is_empty());
        let stored: Vec<_> = tree.walk("/").expect("walk");
        let replayed_nodes: Vec<_> = replayed.tree.nodes().cloned().collect();
        prop_assert_eq!(stored, replayed_nodes);
    }
}

#[test]
fn rename_and_kind_change_change_the_root() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = new_chain(dir.path());
    let tree = Tree::new(&chain);
    tree.bootstrap().expect("bootstrap");
    let root = |t: &Tree| t.root().expect("root").expect("some").hash;
    tree.set("/apps/api", "service", BTreeMap::new())
        .expect("set");
    let r1 = root(&tree);
    tree.set("/apps/api", "agent", BTreeMap::new())
        .expect("kind change");
    let r2 = root(&tree);
    assert_ne!(r1, r2, "kind change must change the root");
    tree.set("/apps/api", "service", BTreeMap::new())
        .expect("kind back");
    assert_eq!(root(&tree), r1, "equal trees have equal roots");
    tree.remove("/apps/api", false).expect("rm");
    tree.set("/apps/apj", "service", BTreeMap::new())
        .expect("renamed");
    assert_ne!(root(&tree), r1, "a rename must change the root");
    tree.set(
        "/apps/apj",
        "service",
        [("owner".to_string(), "x".to_string())].into(),
    )
    .expect("meta");
    let node = tree.get("/apps/apj").expect("get").expect("node");
    assert_eq!(
        node.seq,
        chain.head().expect("head").0,
        "a node records the event that last changed it"
    );
}

#[test]
fn refused_mutations_change_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = new_chain(dir.path());
    let tree = Tree::new(&chain);
    tree.bootstrap().expect("bootstrap");
    let len = chain.len();
    assert!(matches!(
        tree.set("/nope/child", "service", BTreeMap::new()),
        Err(TreeError::NoParent { .. })
    ));
    assert!(matches!(
        tree.remove("/kernel", false),
        Err(TreeError::HasChildren(_))
    ));
    assert!(matches!(tree.remove("/", true), Err(TreeError::RemoveRoot)));
    assert!(matches!(
        tree.set("/apps/../x", "service", BTreeMap::new()),
        Err(TreeError::Path(_))
    ));
    assert!(matches!(
        tree.set("/apps/x", "Bad Kind", BTreeMap::new()),
        Err(TreeError::Kind(_))
    ));
    assert_eq!(chain.len(), len);
}

#[test]
fn a_tampered_stored_node_is_found_by_tree_verify() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = new_chain(dir.path());
    let tree = Tree::new(&chain);
    tree.bootstrap().expect("bootstrap");
    tree.set("/apps/api", "service", BTreeMap::new())
        .expect("set");
    // Write an altered node directly, as a buggy tool or disk damage would.
    let store = chain.store();
    let other_dir = tempfile::tempdir().expect("tmp");
    let other = new_chain(other_dir.path());
    let other_tree = Tree::new(&other);
    other_tree.bootstrap().expect("bootstrap");
    other_tree
        .set("/apps/api", "agent", BTreeMap::new())
        .expect("set");
    let altered = other
        .store()
        .get(weft_kernel::store::cf::TREE, b"/apps/api")
        .expect("get")
        .expect("node");
    store
        .db()
        .put_cf(
            store.cf(weft_kernel::store::cf::TREE),
            b"/apps/api",
            altered,
        )
        .expect("put");
    let report = verify_tree(&tree).expect("verify");
    assert!(
        report.problems.iter().any(|p| p.contains("/apps/api")),
        "{:?}",
        report.problems
    );
    // Rebuild restores the chain's version.
    tree.rebuild().expect("rebuild");
    assert!(verify_tree(&tree).expect("verify").problems.is_empty());
}

#[test]
fn cost_of_a_change_follows_depth_not_size() {
    // The plan for one change touches the node and its ancestors only.
    let dir = tempfile::tempdir().expect("tmp");
    let chain = new_chain(dir.path());
    let tree = Tree::new(&chain);
    tree.bootstrap().expect("bootstrap");
    for i in 0..50 {
        tree.set(&format!("/apps/s{i}"), "service", BTreeMap::new())
            .expect("set");
    }
    let mem = replay(&chain).expect("replay").tree;
    let plan =
        weft_kernel::tree::plan_set(&mem, "/apps/s7", "agent", BTreeMap::new(), 0).expect("plan");
    let touched: Vec<&str> = plan.writes.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(touched, vec!["/apps/s7", "/apps", "/"]);
}
