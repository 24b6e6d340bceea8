//! openraft's own storage conformance suite, run against weft's log store and state
//! machine on real RocksDB stores; snapshots move their events through range sync between
//! the suite's stores.

mod common;

use futures::future::BoxFuture;
use openraft::testing::log::{StoreBuilder, Suite};
use openraft::StorageError;
use std::sync::{Arc, Mutex};
use weft_consensus::{ChainFetcher, LogStore, Manifest, StateMachine, TypeConfig};
use weft_kernel::replica;
use weft_kernel::Chain;

/// Every chain the builder made, for the fetcher to serve snapshot events from.
#[derive(Default)]
struct Chains(Mutex<Vec<Arc<Chain>>>);

impl ChainFetcher for Chains {
    fn fetch<'a>(
        &'a self,
        from: u64,
        manifest: &'a Manifest,
    ) -> BoxFuture<'a, Result<replica::Range, String>> {
        Box::pin(async move {
            let chains = self.0.lock().map_err(|e| e.to_string())?;
            let source = chains
                .iter()
                .find(|c| {
                    c.len() >= manifest.chain_len
                        && c.stored_hash(manifest.chain_len - 1)
                            .ok()
                            .flatten()
                            .map(|h| h.to_hex())
                            == Some(manifest.head_hash.clone())
                })
                .ok_or("no store holds the snapshot's chain")?;
            replica::serve(source, from, 1000, 1 << 20).map_err(|e| e.to_string())
        })
    }
}

struct Builder {
    /// The chain every store starts from (its genesis), and the founder's key.
    template: Arc<Chain>,
    _dir: tempfile::TempDir,
    chains: Arc<Chains>,
}

impl Builder {
    fn new() -> Builder {
        let dir = tempfile::tempdir().expect("tmp");
        let template = common::founder(&dir.path().join("template"), 7);
        Builder {
            template,
            _dir: dir,
            chains: Arc::default(),
        }
    }
}

impl StoreBuilder<TypeConfig, LogStore, StateMachine<Chain>, tempfile::TempDir> for Builder {
    async fn build(
        &self,
    ) -> Result<(tempfile::TempDir, LogStore, StateMachine<Chain>), StorageError<TypeConfig>> {
        let dir = tempfile::tempdir().expect("tmp");
        // Every store of the suite is a member's copy of one chain; each holds the founder
        // key so that the snapshot source can sign the heads range sync needs.
        let chain = common::member(&self.template, dir.path(), 7);
        let store = chain.store().clone();
        self.chains.0.lock().expect("lock").push(chain.clone());
        let sm = StateMachine::new(chain, self.chains.clone());
        Ok((dir, LogStore::new(store), sm))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_passes_openraft_storage_suite() {
    Suite::test_all(Builder::new())
        .await
        .expect("openraft storage suite");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_appends_and_votes_are_synced_before_they_are_reported() {
    use openraft::storage::{RaftLogStorage, RaftLogStorageExt};
    use openraft::testing::blank_ent;
    let dir = tempfile::tempdir().expect("tmp");
    let store = Arc::new(weft_kernel::Store::create_instrumented(dir.path()).expect("store"));
    let mut log = LogStore::new(store.clone());
    let syncs = || store.wal_syncs().expect("instrumented");
    let before = syncs();
    log.blocking_append([
        blank_ent::<TypeConfig>(1, 1, 1),
        blank_ent::<TypeConfig>(1, 1, 2),
    ])
    .await
    .expect("append");
    // A follower acknowledges an entry once this callback fires: by then it is on disk.
    assert!(
        syncs() > before,
        "log entries reported flushed before a WAL sync"
    );
    let before = syncs();
    log.save_vote(&openraft::alias::VoteOf::<TypeConfig>::new(2, 1))
        .await
        .expect("vote");
    assert!(syncs() > before, "a vote saved without a WAL sync");
}
