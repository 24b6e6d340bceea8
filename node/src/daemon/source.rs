//! Serving `/weft/sync/1` to trusted peers (the gatekeeper's trust set): ranges of this
//! node's own chain (asked for by its chain id, or
//! by the zero id meaning "yours"), or of a replica it holds, so a peer can catch up
//! through any node that has the history. Also keeps the handling-time figures the
//! advert reports as headroom.

use super::Daemon;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use weft_kernel::Chain;
use weft_net::mesh::SyncSource;
use weft_net::wire::{SyncRequest, SyncResponse};
use weft_net::PeerId;

/// How many recent handling times the p95 is taken over.
const WINDOW: usize = 256;

/// Recent handling times.
#[derive(Debug, Default)]
pub struct Latency(Mutex<VecDeque<u64>>);

impl Latency {
    fn record(&self, micros: u64) {
        if let Ok(mut times) = self.0.lock() {
            if times.len() == WINDOW {
                times.pop_front();
            }
            times.push_back(micros);
        }
    }

    /// The 95th percentile of the window, microseconds (0 before any request).
    pub fn p95_us(&self) -> u64 {
        let Ok(times) = self.0.lock() else { return 0 };
        let mut sorted: Vec<u64> = times.iter().copied().collect();
        sorted.sort_unstable();
        match sorted.len() {
            0 => 0,
            n => sorted[(n * 95).div_ceil(100) - 1],
        }
    }
}

/// The daemon as a sync source.
pub struct ChainSource(pub Arc<Daemon>);

impl ChainSource {
    fn answer(&self, request: &SyncRequest, chain: &Chain) -> SyncResponse {
        SyncResponse::serve(chain, request)
    }
}

impl SyncSource for ChainSource {
    fn serve(&self, peer: &PeerId, request: &SyncRequest) -> SyncResponse {
        let started = Instant::now();
        if !self.0.trusts(peer) {
            return SyncResponse::Refused {
                reason: super::UNTRUSTED.into(),
            };
        }
        let own = self.0.node.chain();
        let own_id = own.genesis().map(|g| g.chain_id.0);
        let response = if request.chain_id == [0; 16] || Some(request.chain_id) == own_id {
            self.answer(request, own)
        } else {
            let replica = self.0.book().ok().and_then(|book| {
                book.peers()
                    .filter_map(|p| p.replica.clone())
                    .find(|r| r.chain().genesis().map(|g| g.chain_id.0) == Some(request.chain_id))
            });
            match replica {
                Some(replica) => self.answer(request, replica.chain()),
                None => SyncResponse::Refused {
                    reason: format!("this node holds no chain {}", hex::encode(request.chain_id)),
                },
            }
        };
        self.0
            .latency
            .record(started.elapsed().as_micros().try_into().unwrap_or(u64::MAX));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p95_is_taken_over_the_recent_window() {
        let latency = Latency::default();
        assert_eq!(latency.p95_us(), 0);
        for t in 1..=100 {
            latency.record(t);
        }
        assert_eq!(latency.p95_us(), 95);
        for _ in 0..WINDOW {
            latency.record(7);
        }
        assert_eq!(latency.p95_us(), 7);
    }
}
