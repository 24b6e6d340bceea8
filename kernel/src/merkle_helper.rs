//! The Merkle side of a large append, on a second core: while the appender encodes and
//! hashes one event after another (each needs the hash before it), a helper thread turns
//! their hashes into leaves and completed subtrees. Both halves are Keccak work of about
//! the same size, so a batch commits in a little over half the time.

use crate::hash::Hash;
use crate::merkle::{CompletedSubtree, Frontier, MerkleHasher, Shake256Merkle};
use crate::store::MERKLE_STORED_FROM;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::{Scope, ScopedJoinHandle};

/// Event hashes handed over at once (one channel message per chunk, not per event).
const CHUNK: usize = 256;

/// Fewest events in an append worth a helper thread.
pub(crate) const HELPER_FROM: usize = 1024;

/// Subtrees a store keeps, as the frontier completes them.
pub(crate) type StoredNodes = Vec<CompletedSubtree<Hash>>;

/// Pushes the leaf over `event_hash` onto `frontier`, handing `stored` each completed
/// subtree the store keeps (levels [`MERKLE_STORED_FROM`] and up).
pub(crate) fn push_leaf(
    frontier: &mut Frontier<Shake256Merkle>,
    leaf: Hash,
    mut stored: impl FnMut(CompletedSubtree<Hash>),
) {
    frontier.push(leaf, |c| {
        if c.level >= MERKLE_STORED_FROM {
            stored(c);
        }
    });
}

/// A helper thread extending a frontier with the hashes it is given.
pub(crate) struct MerkleHelper<'scope> {
    sender: SyncSender<Vec<Hash>>,
    chunk: Vec<Hash>,
    thread: ScopedJoinHandle<'scope, (Frontier<Shake256Merkle>, StoredNodes)>,
}

impl<'scope> MerkleHelper<'scope> {
    /// Starts a helper on `scope` that extends `frontier`.
    pub(crate) fn spawn<'env>(
        scope: &'scope Scope<'scope, 'env>,
        mut frontier: Frontier<Shake256Merkle>,
    ) -> MerkleHelper<'scope> {
        let (sender, chunks) = sync_channel::<Vec<Hash>>(64);
        let thread = scope.spawn(move || {
            let mut nodes = Vec::new();
            for chunk in chunks {
                for hash in chunk {
                    push_leaf(&mut frontier, Shake256Merkle::leaf(&hash.0), |c| {
                        nodes.push(c)
                    });
                }
            }
            (frontier, nodes)
        });
        MerkleHelper {
            sender,
            chunk: Vec::with_capacity(CHUNK),
            thread,
        }
    }

    /// Hands over the next event's hash.
    pub(crate) fn push(&mut self, event_hash: Hash) {
        self.chunk.push(event_hash);
        if self.chunk.len() == CHUNK {
            self.flush();
        }
    }

    fn flush(&mut self) {
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK));
        // The helper only stops when the sender is dropped (or it panicked, which
        // `finish` reports).
        let _ = self.sender.send(chunk);
    }

    /// The extended frontier and the subtrees to store.
    pub(crate) fn finish(mut self) -> (Frontier<Shake256Merkle>, StoredNodes) {
        self.flush();
        drop(self.sender);
        match self.thread.join() {
            Ok(done) => done,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_helper_builds_what_pushing_inline_builds() {
        let hashes: Vec<Hash> = (0..3000u32)
            .map(|i| crate::hash::shake256(&i.to_be_bytes()))
            .collect();
        let mut start = Frontier::<Shake256Merkle>::default();
        for h in &hashes[..7] {
            push_leaf(&mut start, Shake256Merkle::leaf(&h.0), |_| {});
        }
        let mut inline = start.clone();
        let mut inline_nodes = Vec::new();
        for h in &hashes[7..] {
            push_leaf(&mut inline, Shake256Merkle::leaf(&h.0), |c| {
                inline_nodes.push(c)
            });
        }
        let (helped, helped_nodes) = std::thread::scope(|scope| {
            let mut helper = MerkleHelper::spawn(scope, start.clone());
            for h in &hashes[7..] {
                helper.push(*h);
            }
            helper.finish()
        });
        assert_eq!(helped.root(), inline.root());
        assert_eq!(helped.size(), 3000);
        let key = |c: &CompletedSubtree<Hash>| (c.level, c.index, c.digest);
        assert_eq!(
            helped_nodes.iter().map(key).collect::<Vec<_>>(),
            inline_nodes.iter().map(key).collect::<Vec<_>>()
        );
        assert!(helped_nodes.iter().all(|c| c.level >= MERKLE_STORED_FROM));
    }
}
