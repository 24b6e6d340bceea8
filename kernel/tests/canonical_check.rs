//! The fast canonical checks (`cbor::check_canonical`, `event::check_encoded`) accept
//! exactly what the full decoders (`cbor::decode_canonical`, `Event::decode`) accept:
//! random values encoded as they stand (so maps come unsorted, floats in any width) and
//! those bytes cut, extended and flipped.

use ciborium::value::Value;
use proptest::prelude::*;
use weft_kernel::cbor;
use weft_kernel::event::{check_encoded, ChainId, Event};
use weft_kernel::hash::Hash;

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(|n| Value::Integer(n.into())),
        any::<i64>().prop_map(|n| Value::Integer(n.into())),
        any::<f64>().prop_map(Value::Float),
        any::<f32>().prop_map(|f| Value::Float(f64::from(f))),
        prop_oneof![
            Just(0.5),
            Just(-0.0),
            Just(65504.0),
            Just(1e-7),
            Just(f64::NAN)
        ]
        .prop_map(Value::Float),
        "[a-z\u{e9}\u{1f600}]{0,30}".prop_map(Value::Text),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
        (0u64..30, any::<u8>())
            .prop_map(|(t, b)| Value::Tag(t, Box::new(Value::Integer(b.into())))),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((inner.clone(), inner), 0..6).prop_map(Value::Map),
            // Small text keys collide and come unsorted often.
            proptest::collection::vec(("[ab]{0,2}", leaf()), 0..5).prop_map(|entries| {
                Value::Map(
                    entries
                        .into_iter()
                        .map(|(k, v)| (Value::Text(k), v))
                        .collect(),
                )
            }),
        ]
    })
}

#[derive(Debug, Clone)]
enum Damage {
    None,
    Cut(usize),
    Append(u8),
    Flip(usize, u8),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        Just(Damage::None),
        any::<usize>().prop_map(Damage::Cut),
        any::<u8>().prop_map(Damage::Append),
        (any::<usize>(), 1u8..).prop_map(|(at, x)| Damage::Flip(at, x)),
    ]
}

fn apply(mut bytes: Vec<u8>, damage: &Damage) -> Vec<u8> {
    match *damage {
        Damage::None => {}
        Damage::Cut(at) => bytes.truncate(at % (bytes.len() + 1)),
        Damage::Append(b) => bytes.push(b),
        Damage::Flip(at, x) => {
            if !bytes.is_empty() {
                let at = at % bytes.len();
                bytes[at] ^= x;
            }
        }
    }
    bytes
}

fn event_with(payload: Value) -> Event {
    Event {
        chain_id: ChainId([4; 16]),
        seq: 7,
        prev_hash: Hash([1; 32]),
        timestamp_ns: 1_700_000_000_000_000_000,
        source: "tree".into(),
        kind: "tree.set".into(),
        payload,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn check_canonical_agrees_with_decode_canonical(v in value(), d in damage()) {
        let bytes = apply(cbor::encode(&v), &d);
        prop_assert_eq!(
            cbor::check_canonical(&bytes).is_ok(),
            cbor::decode_canonical(&bytes).is_ok(),
            "bytes {}", hex::encode(&bytes)
        );
    }

    #[test]
    fn check_encoded_agrees_with_event_decode(v in value(), d in damage()) {
        let bytes = apply(event_with(v).encode(), &d);
        prop_assert_eq!(
            check_encoded(&bytes).is_ok(),
            Event::decode(&bytes).is_ok(),
            "bytes {}", hex::encode(&bytes)
        );
    }
}

#[test]
fn canonical_values_pass_both_checks() {
    let value = cbor::canonicalize(Value::Map(vec![
        (Value::Text("b".into()), Value::Float(0.1)),
        (
            Value::Text("a".into()),
            Value::Array(vec![Value::Float(1.5), Value::Null]),
        ),
        (Value::Integer(5.into()), Value::Bytes(vec![1, 2])),
    ]))
    .expect("canonical");
    let bytes = cbor::encode(&value);
    cbor::check_canonical(&bytes).expect("fast check");
    cbor::decode_canonical(&bytes).expect("full decode");
    let event = event_with(value).encode();
    let header = check_encoded(&event).expect("fast event check");
    assert_eq!((header.seq, header.kind), (7, "tree.set"));
}

#[test]
fn forms_a_re_encoding_would_change_are_refused_by_both() {
    for form in [
        "fb3ff8000000000000", // 1.5 as a 64-bit float: a 16-bit one holds it
        "fa3fc00000",         // and as a 32-bit one
        "f97e00",             // NaN
        "f97c00",             // infinity
        "a2616201616102",     // map keys out of order
        "a2616101616102",     // a key twice
        "1801",               // 1 with a one-byte argument
        "f7",                 // undefined
        "f820",               // a one-byte simple value
        "c100",               // a tag
        "5f4101ff",           // indefinite-length bytes
        "6161ff",             // text followed by a stray byte
        "62c328",             // text that is not UTF-8
    ] {
        let bytes = hex::decode(form).expect("hex");
        assert!(
            cbor::check_canonical(&bytes).is_err(),
            "fast check took {form}"
        );
        assert!(
            cbor::decode_canonical(&bytes).is_err(),
            "decoder took {form}"
        );
    }
}

#[test]
fn nesting_is_limited_where_the_decoder_limits_it() {
    for depth in 250..=260 {
        let mut value = Value::Null;
        for _ in 0..depth {
            value = Value::Array(vec![value]);
        }
        let bytes = cbor::encode(&value);
        assert_eq!(
            cbor::check_canonical(&bytes).is_ok(),
            cbor::decode_canonical(&bytes).is_ok(),
            "{depth} arrays deep"
        );
        let event = event_with(value).encode();
        assert_eq!(
            check_encoded(&event).is_ok(),
            Event::decode(&event).is_ok(),
            "a payload {depth} arrays deep"
        );
    }
}
