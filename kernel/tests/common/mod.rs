//! Helpers shared by the kernel's integration tests.
#![allow(dead_code, missing_docs)]

use std::path::Path;
use std::sync::Arc;
use weft_kernel::cbor;
use weft_kernel::event::EventDraft;
use weft_kernel::{Chain, NodeKey, Store};

pub fn key() -> NodeKey {
    NodeKey::from_seed(&[7; 32])
}

pub fn new_chain(dir: &Path) -> Chain {
    let store = Arc::new(Store::create(&dir.join("chain")).expect("create store"));
    Chain::create(store, key(), "test").expect("create chain")
}

/// A chain on a store whose RocksDB statistics count WAL syncs.
pub fn new_instrumented_chain(dir: &Path) -> Chain {
    let store = Arc::new(Store::create_instrumented(&dir.join("chain")).expect("create store"));
    Chain::create(store, key(), "test").expect("create chain")
}

/// WAL syncs so far on an instrumented chain's store.
pub fn wal_syncs(chain: &Chain) -> u64 {
    chain.store().wal_syncs().expect("an instrumented store")
}

pub fn reopen(dir: &Path) -> Chain {
    let store = Arc::new(Store::open(&dir.join("chain")).expect("open store"));
    Chain::open(store, Some(key())).expect("open chain")
}

pub fn reopen_unchecked(dir: &Path) -> Chain {
    let store = Arc::new(Store::open(&dir.join("chain")).expect("open store"));
    Chain::open_unchecked(store, Some(key())).expect("open chain")
}

pub fn draft(i: u64) -> EventDraft {
    let payload =
        cbor::from_json(&serde_json::json!({"i": i, "note": format!("event number {i}")}))
            .expect("payload");
    EventDraft::new("test", "test.event", payload).expect("draft")
}

/// A cluster's chain: `cluster.formed` lists the genesis key and a second member, which
/// then signs a batch with its own key (the founder's store, reopened under it).
pub fn clustered(dir: &std::path::Path) -> (Chain, NodeKey) {
    use weft_kernel::cluster::{signer_draft, Member, FORMED};
    let chain = new_chain(dir);
    chain
        .append_batch((0..10).map(draft).collect())
        .expect("batch");
    let second = NodeKey::from_seed(&[8; 32]);
    let members: Vec<Member> = [(1, "a", key()), (2, "b", second.clone())]
        .into_iter()
        .map(|(id, name, k)| Member {
            id,
            name: name.into(),
            public_key: k.public_key(),
        })
        .collect();
    let genesis = chain.genesis().expect("genesis");
    let formed = signer_draft(
        &genesis.chain_id,
        &chain.signers(),
        FORMED,
        &members,
        &key(),
    )
    .expect("formed");
    chain.append(formed).expect("formed");
    let store = chain.store().clone();
    drop(chain);
    let chain = Chain::open(store, Some(second.clone())).expect("open as the second member");
    let mut txn = chain.transaction(1);
    for i in 100..105 {
        txn.append(draft(i)).expect("stage");
    }
    txn.commit(weft_kernel::txn::Signing::Required)
        .expect("commit");
    (chain, second)
}
