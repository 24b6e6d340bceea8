//! Known-answer vectors for the mesh messages, produced by an independent encoder
//! (`vectors/crosscheck.py`: hand-written CBOR, Python `cryptography`): weft must encode
//! the same values to the same bytes, and accept the foreign bytes. The request-response
//! messages are checked through the mesh's own codecs, which are what the wire uses.

mod common;

use common::{read, wire_bytes, Side};
use libp2p::request_response::Codec;
use libp2p::StreamProtocol;
use weft_kernel::event::ChainId;
use weft_kernel::hash::Hash;
use weft_kernel::head::SignedHead;
use weft_kernel::keys::NodeKey;
use weft_net::mesh::{query_codec, sync_codec};
use weft_net::query::{QueryRequest, QueryResponse};
use weft_net::wire::{
    decode_head, to_wire_hashes, Advert, Calibration, Evidence, SignedAdvert, SyncRequest,
    SyncResponse,
};

/// Checks that the codec `make` builds writes `message` as the vector `name` and reads
/// the vector back as `message`.
fn agrees<C>(make: fn() -> C, message: Side<C::Request, C::Response>, name: &str)
where
    C: Codec<Protocol = StreamProtocol>,
    C::Request: Clone + PartialEq + std::fmt::Debug,
    C::Response: Clone + PartialEq + std::fmt::Debug,
{
    let foreign = bytes(&vectors(), name);
    assert_eq!(wire_bytes(make, message.clone()), foreign, "{name}");
    assert_eq!(
        read(make(), &foreign, &message).expect("decodes"),
        message,
        "{name}"
    );
}

fn vectors() -> serde_json::Value {
    let text = include_str!("vectors/vectors.json");
    serde_json::from_str(text).expect("vectors.json")
}

fn bytes(v: &serde_json::Value, name: &str) -> Vec<u8> {
    hex::decode(v[name].as_str().expect(name)).expect("hex")
}

fn key() -> NodeKey {
    NodeKey::from_seed(&[7; 32])
}

fn head(seq: u64, hash: u8, root: u8, time_ns: u64) -> SignedHead {
    SignedHead::sign(
        &key(),
        ChainId([3; 16]),
        seq,
        Hash([hash; 32]),
        Hash([root; 32]),
        time_ns,
    )
}

#[test]
fn heads_and_conflict_evidence_match_the_independent_encoding() {
    let v = vectors();
    assert_eq!(hex::encode(key().public_key()), v["public_key"]);
    let first = head(5, 0xaa, 0xbb, 1000);
    let second = head(5, 0xcc, 0xdd, 2000);
    assert_eq!(first.encode(), bytes(&v, "head_first"));
    assert_eq!(second.encode(), bytes(&v, "head_second"));
    assert_eq!(decode_head(&bytes(&v, "head_first")), Ok(first.clone()));
    let evidence = Evidence::conflict(&first, &second);
    assert_eq!(evidence.encode(), bytes(&v, "evidence_conflict"));
    let found = Evidence::decode_verified(&bytes(&v, "evidence_conflict")).expect("evidence");
    assert_eq!(found.kind, "conflict");
    assert_eq!(found.seq, 5);
    assert_eq!(found.signer, key().public_key());
}

fn vector_advert() -> Advert {
    Advert {
        version: "0.1.0".into(),
        project: "upstream".into(),
        chain_id: hex::encode([3u8; 16]),
        head_seq: 42,
        languages: vec!["rust".into(), "python".into()],
        symbols: 1699,
        vectors: 1699,
        model: "all-MiniLM-L6-v2/int8/mean/l2".into(),
        dims: 384,
        hnsw: true,
        services: vec!["sync".into()],
        p95_us: 850,
        time_ns: 1_700_000_000_000_000_000,
        signer: [0; 32],
        calibration: None,
    }
}

#[test]
fn a_signed_advert_matches_the_independent_encoding_and_signature() {
    let v = vectors();
    let signed = vector_advert().sign(&key());
    assert_eq!(signed.encode(), bytes(&v, "signed_advert"));
    assert_eq!(
        SignedAdvert::decode(&bytes(&v, "signed_advert")).expect("advert"),
        signed
    );
}

/// A calibration is one more map entry (its absent figures left out): an advert without
/// one keeps the bytes and signature it had before calibrations existed.
#[test]
fn a_calibrated_advert_matches_the_independent_encoding_and_signature() {
    let v = vectors();
    let measured = Calibration {
        embed_per_s: Some(180),
        search_us: Some(4200),
        verify_per_s: Some(250_000),
        time_ns: 1_699_999_999_000_000_000,
    };
    let no_model = Calibration {
        embed_per_s: None,
        search_us: None,
        ..measured
    };
    for (calibration, name) in [
        (measured, "signed_advert_calibrated"),
        (no_model, "signed_advert_calibrated_no_model"),
    ] {
        let signed = Advert {
            calibration: Some(calibration),
            ..vector_advert()
        }
        .sign(&key());
        assert_eq!(signed.encode(), bytes(&v, name), "{name}");
        let decoded = SignedAdvert::decode(&bytes(&v, name)).expect(name);
        assert_eq!(decoded, signed, "{name}");
        assert_eq!(decoded.advert.calibration, Some(calibration), "{name}");
    }
}

#[test]
fn sync_messages_match_the_independent_encoding() {
    let request = SyncRequest {
        chain_id: [3; 16],
        from: 7,
        max_count: 1024,
        max_bytes: 8 << 20,
    };
    agrees(sync_codec, Side::Request(request), "sync_request");
    let range = SyncResponse::Range {
        events: vec![vec![0x81, 0x01].into(), vec![0x81, 0x02].into()],
        head: head(5, 0xaa, 0xbb, 1000).encode(),
        consistency: to_wire_hashes(&[Hash([0x11; 32])]),
        first_path: to_wire_hashes(&[Hash([0x22; 32]), Hash([0x33; 32])]),
    };
    agrees(sync_codec, Side::Response(range), "sync_range");
    let refused = SyncResponse::Refused {
        reason: "unknown chain".into(),
    };
    agrees(sync_codec, Side::Response(refused), "sync_refused");
}

#[test]
fn a_query_and_its_responses_match_the_independent_encoding() {
    let v = vectors();
    // The body is opaque to the mesh: here, a CBOR map of two empty lists.
    let body = hex::decode("a2687061636b61676573806773796d626f6c7380").expect("hex");
    let request = QueryRequest {
        kind: "usage".into(),
        body,
    };
    assert_eq!(request.encode(), bytes(&v, "query_request"));
    agrees(query_codec, Side::Request(request), "query_request");
    let answer = QueryResponse::Answer { body: vec![0xa0] };
    agrees(query_codec, Side::Response(answer), "query_answer");
    let refused = QueryResponse::Refused {
        reason: "busy: 4 queries in flight".into(),
    };
    agrees(query_codec, Side::Response(refused), "query_refused");
}
