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
