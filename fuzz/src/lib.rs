//! What weft's fuzz targets and their seed generator share: the wire codecs of the mesh's
//! request-response protocols run over a byte slice, the CBOR that the gossip and query
//! bodies use, and the checks several targets make (the gatekeeper's verdict on gossip,
//! a stable re-encoding).

use futures::executor::block_on;
use futures::io::Cursor;
use libp2p::request_response::cbor::codec::Codec;
use libp2p::request_response::Codec as _;
use libp2p::StreamProtocol;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;
use std::io;
use weft_net::gatekeeper::{Gatekeeper, Trust, Verdict};
use weft_net::query::{QueryRequest, QueryResponse, QUERY_PROTOCOL};
use weft_net::query::{QUERY_REQUEST_LIMIT, QUERY_RESPONSE_LIMIT};
use weft_net::wire::{SyncRequest, SyncResponse, Topic, SYNC_PROTOCOL};
use weft_net::wire::{SYNC_REQUEST_LIMIT, SYNC_RESPONSE_LIMIT};

/// CBOR nesting the node accepts in gossip and query bodies (net/src/wire, node/src/query).
pub const MAX_DEPTH: usize = 32;

/// A request-response protocol's codec as the mesh builds it (net/src/mesh.rs): libp2p's
/// CBOR codec with weft's size limits, reading from and writing to memory.
pub struct Wire<Req, Resp> {
    codec: Codec<Req, Resp>,
    protocol: StreamProtocol,
}

impl<Req, Resp> Wire<Req, Resp>
where
    Req: Send + Serialize + DeserializeOwned + PartialEq + Debug + Clone,
    Resp: Send + Serialize + DeserializeOwned + PartialEq + Debug + Clone,
{
    fn new(protocol: &'static str, request_limit: u64, response_limit: u64) -> Self {
        Wire {
            codec: Codec::default()
                .set_request_size_maximum(request_limit)
                .set_response_size_maximum(response_limit),
            protocol: StreamProtocol::new(protocol),
        }
    }

    /// Decodes a request as a stream carrying `bytes` would be read.
    pub fn read_request(&mut self, bytes: &[u8]) -> io::Result<Req> {
        block_on(
            self.codec
                .read_request(&self.protocol, &mut Cursor::new(bytes)),
        )
    }

    /// Decodes a response as a stream carrying `bytes` would be read.
    pub fn read_response(&mut self, bytes: &[u8]) -> io::Result<Resp> {
        block_on(
            self.codec
                .read_response(&self.protocol, &mut Cursor::new(bytes)),
        )
    }

    /// The bytes a stream carries for `request`.
    pub fn write_request(&mut self, request: Req) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        block_on(self.codec.write_request(&self.protocol, &mut out, request))
            .expect("writing into memory cannot fail");
        out.into_inner()
    }

    /// The bytes a stream carries for `response`.
    pub fn write_response(&mut self, response: Resp) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        block_on(
            self.codec
                .write_response(&self.protocol, &mut out, response),
        )
        .expect("writing into memory cannot fail");
        out.into_inner()
    }

    /// Decodes a request and, when it decodes, asserts that it encodes to bytes that
    /// decode to it again.
    pub fn checked_request(&mut self, bytes: &[u8]) -> Option<Req> {
        let request = self.read_request(bytes).ok()?;
        let again = self.write_request(request.clone());
        assert_decodes_to(self.read_request(&again), &request);
        Some(request)
    }

    /// Decodes a response and, when it decodes, asserts that it encodes to bytes that
    /// decode to it again.
    pub fn checked_response(&mut self, bytes: &[u8]) -> Option<Resp> {
        let response = self.read_response(bytes).ok()?;
        let again = self.write_response(response.clone());
        assert_decodes_to(self.read_response(&again), &response);
        Some(response)
    }
}

fn assert_decodes_to<T: PartialEq + Debug>(decoded: io::Result<T>, want: &T) {
    match decoded {
        Ok(got) => assert_eq!(&got, want, "codec round trip"),
        Err(e) => panic!("a re-encoded {want:?} does not decode: {e}"),
    }
}

/// `/weft/sync/1` with the mesh's limits.
pub fn sync_wire() -> Wire<SyncRequest, SyncResponse> {
    Wire::new(SYNC_PROTOCOL, SYNC_REQUEST_LIMIT, SYNC_RESPONSE_LIMIT)
}

/// `/weft/query/1` with the mesh's limits.
pub fn query_wire() -> Wire<QueryRequest, QueryResponse> {
    Wire::new(QUERY_PROTOCOL, QUERY_REQUEST_LIMIT, QUERY_RESPONSE_LIMIT)
}

/// CBOR as the gossip and query bodies are written (serde through ciborium).
pub fn to_cbor<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("CBOR into a Vec cannot fail");
    out
}

/// CBOR read as the node reads query bodies: ciborium with the depth limit.
pub fn from_cbor<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    ciborium::de::from_reader_with_recursion_limit(bytes, MAX_DEPTH).ok()
}

/// Asserts that a decoded value re-encodes stably: encoding it, decoding that and
/// encoding again gives the same bytes (a value-level round trip that holds for floats
/// that are NaN too). Returns the first encoding.
pub fn assert_stable_cbor<T: Serialize + DeserializeOwned>(value: &T) -> Vec<u8> {
    let first = to_cbor(value);
    let again: T = from_cbor(&first).expect("a re-encoded value decodes");
    assert_eq!(to_cbor(&again), first, "CBOR re-encoding is not stable");
    first
}

/// Whether a fresh gatekeeper that trusts every key lets `data` through on `topic` (the
/// mesh's real judge of gossip). A second look at the same bytes may ignore what the first
/// let through (a replayed head is no news), but never rejects it or calls it a
/// conflict, and never lets through what the first did not.
pub fn gossip_accepted(topic: Topic, data: &[u8]) -> bool {
    let mut gatekeeper = Gatekeeper::new([0; 32], Trust::Open);
    let first = matches!(gatekeeper.check(topic, data), Verdict::Accept(_));
    let again = gatekeeper.check(topic, data);
    if first {
        assert!(
            matches!(again, Verdict::Accept(_) | Verdict::Ignore(_)),
            "the same {topic:?} message, accepted once, is judged {again:?}"
        );
    } else {
        assert!(
            !matches!(again, Verdict::Accept(_)),
            "a {topic:?} message refused once is accepted the second time"
        );
    }
    first
}

/// Splits off the first byte, which some targets use to choose a variant.
pub fn selector(data: &[u8]) -> Option<(u8, &[u8])> {
    data.split_first().map(|(first, rest)| (*first, rest))
}
