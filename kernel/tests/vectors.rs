//! Known-answer vectors: they pin the formats forever. `vectors/vectors.json` was produced
//! by `vectors/crosscheck.py`, an independent Python implementation (hashlib's SHAKE-256,
//! `cryptography`'s Ed25519, its own CBOR encoder); this test checks the Rust code agrees.

use ciborium::value::{Integer, Value};
use weft_kernel::cbor;
use weft_kernel::event::{ChainId, Event};
use weft_kernel::hash::Hash;
use weft_kernel::head::SignedHead;
use weft_kernel::keys::{verify_signature, NodeKey};
use weft_kernel::merkle::{
    inclusion_path, root_of, verify_inclusion, InMemory, MerkleHasher, Shake256Merkle,
};

fn vectors() -> serde_json::Value {
    serde_json::from_str(include_str!("vectors/vectors.json")).expect("vectors.json parses")
}

fn hex_field(v: &serde_json::Value, name: &str) -> Vec<u8> {
    hex::decode(v[name].as_str().expect(name)).expect("hex")
}

fn hash_field(v: &serde_json::Value, name: &str) -> Hash {
    Hash::from_slice(&hex_field(v, name)).expect("32 bytes")
}

struct Fixture {
    key: NodeKey,
    chain_id: ChainId,
    t0: u64,
    e0: Event,
    e1: Event,
}

fn fixture(v: &serde_json::Value) -> Fixture {
    let seed: [u8; 32] = hex_field(v, "key_seed").try_into().expect("32");
    let key = NodeKey::from_seed(&seed);
    let t0 = v["genesis_time_ns"].as_u64().expect("time");
    let chain_id = ChainId::derive(&key.public_key(), t0);
    let e0 = Event {
        chain_id,
        seq: 0,
        prev_hash: Hash::ZERO,
        timestamp_ns: t0,
        source: "chain".into(),
        kind: "chain.genesis".into(),
        payload: cbor::canonicalize(cbor::map([
            ("format", Value::Integer(1.into())),
            ("public_key", Value::Bytes(key.public_key().to_vec())),
            ("project", Value::Text("vectors".into())),
        ]))
        .expect("canonical"),
    };
    let e1 = Event {
        chain_id,
        seq: 1,
        prev_hash: e0.hash(),
        timestamp_ns: t0 + 1000,
        source: "test".into(),
        kind: "test.vector".into(),
        payload: cbor::canonicalize(cbor::map([
            ("n", Value::Integer(Integer::from(-7i64))),
            ("s", Value::Text("h\u{e9}llo".into())),
            ("f", Value::Float(1.5)),
            ("b", Value::Bytes(vec![1, 2, 3])),
            ("l", Value::Array(vec![Value::Bool(true), Value::Null])),
            ("big", Value::Integer(Integer::from(1u64 << 40))),
        ]))
        .expect("canonical"),
    };
    Fixture {
        key,
        chain_id,
        t0,
        e0,
        e1,
    }
}

#[test]
fn key_and_chain_id() {
    let v = vectors();
    let f = fixture(&v);
    assert_eq!(f.key.public_key().to_vec(), hex_field(&v, "public_key"));
    assert_eq!(f.chain_id.0.to_vec(), hex_field(&v, "chain_id"));
}

#[test]
fn event_encoding_and_hash() {
    let v = vectors();
    let f = fixture(&v);
    assert_eq!(
        hex::encode(f.e0.encode()),
        v["event0_cbor"].as_str().expect("cbor")
    );
    assert_eq!(f.e0.hash(), hash_field(&v, "event0_hash"));
    assert_eq!(
        hex::encode(f.e1.encode()),
        v["event1_cbor"].as_str().expect("cbor")
    );
    assert_eq!(f.e1.hash(), hash_field(&v, "event1_hash"));
    // And the decoder reads the vector bytes back to the same event.
    assert_eq!(
        Event::decode(&hex_field(&v, "event1_cbor")).expect("decodes"),
        f.e1
    );
}

#[test]
fn signed_head_message_and_signature() {
    let v = vectors();
    let f = fixture(&v);
    let root = root_of::<Shake256Merkle>(&[
        Shake256Merkle::leaf(&f.e0.hash().0),
        Shake256Merkle::leaf(&f.e1.hash().0),
    ]);
    assert_eq!(root, hash_field(&v, "head_merkle_root"));
    let head = SignedHead::sign(&f.key, f.chain_id, 1, f.e1.hash(), root, f.t0 + 2000);
    assert_eq!(
        hex::encode(head.message()),
        v["head_message"].as_str().expect("message")
    );
    assert_eq!(
        hex::encode(head.signature),
        v["head_signature"].as_str().expect("signature")
    );
    let sig: [u8; 64] = hex_field(&v, "head_signature").try_into().expect("64");
    assert!(verify_signature(&f.key.public_key(), &head.message(), &sig));
}

#[test]
fn merkle_roots_and_audit_path_over_shake256() {
    let v = vectors();
    let leaves: Vec<Hash> = v["merkle_leaf_data"]
        .as_array()
        .expect("leaves")
        .iter()
        .map(|d| Shake256Merkle::leaf(&hex::decode(d.as_str().expect("hex")).expect("hex")))
        .collect();
    for (n, want) in v["merkle_roots"]
        .as_array()
        .expect("roots")
        .iter()
        .enumerate()
    {
        assert_eq!(
            root_of::<Shake256Merkle>(&leaves[..n]).to_hex(),
            want.as_str().expect("hex"),
            "size {n}"
        );
    }
    let (index, size) = (
        v["merkle_path_index"].as_u64().expect("i"),
        v["merkle_path_size"].as_u64().expect("n"),
    );
    let tree = &leaves[..size as usize];
    let path = inclusion_path::<Shake256Merkle, _>(&InMemory::<Shake256Merkle>(tree), index, size)
        .expect("in memory");
    let want: Vec<String> = v["merkle_path"]
        .as_array()
        .expect("path")
        .iter()
        .map(|h| h.as_str().expect("hex").to_string())
        .collect();
    assert_eq!(path.iter().map(Hash::to_hex).collect::<Vec<_>>(), want);
    verify_inclusion::<Shake256Merkle>(
        index,
        size,
        &tree[index as usize],
        &path,
        &root_of::<Shake256Merkle>(tree),
    )
    .expect("verifies");
}
