//! Known-answer vectors for the mesh messages, produced by an independent encoder
//! (`vectors/crosscheck.py`: hand-written CBOR, Python `cryptography`): weft must encode
//! the same values to the same bytes, and accept the foreign bytes.

use weft_kernel::event::ChainId;
use weft_kernel::hash::Hash;
use weft_kernel::head::SignedHead;
use weft_kernel::keys::NodeKey;
use weft_net::query::{QueryRequest, QueryResponse};
use weft_net::wire::{decode_head, Advert, Evidence, SignedAdvert, SyncRequest};

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

#[test]
fn a_signed_advert_matches_the_independent_encoding_and_signature() {
    let v = vectors();
    let advert = Advert {
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
    };
    let signed = advert.sign(&key());
    assert_eq!(signed.encode(), bytes(&v, "signed_advert"));
    assert_eq!(
        SignedAdvert::decode(&bytes(&v, "signed_advert")).expect("advert"),
        signed
    );
}

#[test]
fn a_sync_request_matches_the_independent_encoding() {
    let v = vectors();
    let request = SyncRequest {
        chain_id: [3; 16],
        from: 7,
        max_count: 1024,
        max_bytes: 8 << 20,
    };
    let mut encoded = Vec::new();
    ciborium::into_writer(&request, &mut encoded).expect("encode");
    assert_eq!(encoded, bytes(&v, "sync_request"));
    let decoded: SyncRequest =
        ciborium::from_reader(bytes(&v, "sync_request").as_slice()).expect("decode");
    assert_eq!(decoded, request);
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
    let decoded: QueryRequest =
        ciborium::from_reader(bytes(&v, "query_request").as_slice()).expect("decode");
    assert_eq!(decoded, request);
    for (name, response) in [
        ("query_answer", QueryResponse::Answer { body: vec![0xa0] }),
        (
            "query_refused",
            QueryResponse::Refused {
                reason: "busy: 4 queries in flight".into(),
            },
        ),
    ] {
        let mut encoded = Vec::new();
        ciborium::into_writer(&response, &mut encoded).expect("encode");
        assert_eq!(encoded, bytes(&v, name), "{name}");
        let decoded: QueryResponse =
            ciborium::from_reader(bytes(&v, name).as_slice()).expect("decode");
        assert_eq!(decoded, response);
    }
}
