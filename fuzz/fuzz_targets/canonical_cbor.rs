//! Fuzzes the kernel's CBOR layer that every hashed or signed structure goes through:
//! `cbor::decode`, `cbor::decode_canonical`, `cbor::check_canonical`, `cbor::canonicalize`
//! and the JSON views (`to_json`, `from_json`).
//!
//! Asserts: the fast check accepts exactly what `decode_canonical` accepts; what `decode_canonical` accepts re-encodes to exactly the input and is what
//! `decode` reads; a decoded value without tags re-encodes stably (encode, decode, encode
//! gives the same bytes; tagged values need not: ciborium reads a bignum tag over a
//! definite byte string as an integer and over an indefinite one as a tag, and nothing
//! weft hashes may carry a tag); a value put in canonical form encodes to bytes
//! `decode_canonical` accepts, to the same value, and canonicalizing it again changes
//! nothing; the JSON view of any decoded value converts back to CBOR without error.
#![no_main]

use ciborium::value::Value;
use libfuzzer_sys::fuzz_target;
use weft_kernel::cbor;

fn has_tag(value: &Value) -> bool {
    match value {
        Value::Tag(..) => true,
        Value::Array(items) => items.iter().any(has_tag),
        Value::Map(entries) => entries.iter().any(|(k, v)| has_tag(k) || has_tag(v)),
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    assert_eq!(
        cbor::check_canonical(data).is_ok(),
        cbor::decode_canonical(data).is_ok(),
        "the fast canonical check and the decoder disagree"
    );
    if let Ok(value) = cbor::decode_canonical(data) {
        assert_eq!(
            cbor::encode(&value),
            data,
            "accepted as canonical, not canonical"
        );
        assert_eq!(cbor::decode(data).as_ref(), Ok(&value));
    }
    let Ok(value) = cbor::decode(data) else {
        return;
    };
    let bytes = cbor::encode(&value);
    let again = cbor::decode(&bytes).expect("an encoded value decodes");
    if !has_tag(&value) {
        assert_eq!(cbor::encode(&again), bytes, "re-encoding is not stable");
    }
    if let Ok(canonical) = cbor::canonicalize(value.clone()) {
        let encoded = cbor::encode(&canonical);
        assert_eq!(
            cbor::decode_canonical(&encoded).as_ref(),
            Ok(&canonical),
            "a canonicalized value does not decode as canonical"
        );
        assert_eq!(
            cbor::canonicalize(canonical.clone()).as_ref(),
            Ok(&canonical)
        );
    }
    cbor::from_json(&cbor::to_json(&value)).expect("the JSON view converts back");
});
