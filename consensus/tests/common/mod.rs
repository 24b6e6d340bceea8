//! Stores for the consensus tests: members' copies of one chain, made the way a member
//! gets its chain (range sync from one that has it).

#![allow(dead_code)]

use std::sync::Arc;
use weft_kernel::keys::NodeKey;
use weft_kernel::replica;
use weft_kernel::{Chain, Store};

/// A founder's chain in `dir`, as `weft init` leaves it (genesis and tree bootstrap).
pub fn founder(dir: &std::path::Path, seed: u8) -> Arc<Chain> {
    let store = Arc::new(Store::create(dir).expect("store"));
    let chain = Chain::create(store, NodeKey::from_seed(&[seed; 32]), "test").expect("chain");
    weft_kernel::tree::Tree::new(&chain)
        .bootstrap()
        .expect("bootstrap");
    Arc::new(chain)
}

/// A member's copy of everything `of` holds, in `dir`, holding key `seed`; its tree is
/// rebuilt from the events, as a snapshot install does.
pub fn member(of: &Chain, dir: &std::path::Path, seed: u8) -> Arc<Chain> {
    let store = Arc::new(Store::create(dir).expect("store"));
    let chain = Chain::open_unchecked(store, Some(NodeKey::from_seed(&[seed; 32]))).expect("open");
    let genesis_key = of.genesis().expect("genesis").public_key;
    let range = replica::serve(of, 0, 1000, 1 << 20).expect("serve");
    replica::extend(&chain, &genesis_key, &range).expect("copy");
    weft_kernel::tree::Tree::new(&chain)
        .rebuild()
        .expect("tree");
    Arc::new(chain)
}

/// A column family's contents.
pub type Entries = Vec<(Box<[u8]>, Box<[u8]>)>;

/// Every (key, value) of one column family.
pub fn family(chain: &Chain, name: &str) -> Entries {
    let store = chain.store();
    store
        .db()
        .iterator_cf(store.cf(name), rocksdb::IteratorMode::Start)
        .map(|item| item.expect("read"))
        .collect()
}
