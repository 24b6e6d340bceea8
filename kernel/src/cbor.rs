//! Canonical CBOR: the one encoding that weft hashes and signs.
//!
//! RFC 8949 §4.2.1 core deterministic encoding: definite lengths, shortest integer and
//! length heads (ciborium writes those), map keys sorted by the bytes of their own
//! encoding, no duplicate keys. Floats must be finite; ciborium writes each as the
//! shortest IEEE 754 width that holds it exactly, which is the same on every platform.
//! Tags are not allowed in payloads: nothing weft hashes needs them.

use ciborium::value::{Integer, Value};

/// Why a value or byte string is not canonical CBOR.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CborError {
    /// The bytes do not decode as one CBOR item.
    #[error("not valid CBOR: {0}")]
    Decode(String),
    /// Bytes follow the single item.
    #[error("{0} trailing bytes after the CBOR item")]
    Trailing(usize),
    /// The bytes decode, but are not the canonical encoding of what they hold.
    #[error("CBOR is not in canonical form")]
    NotCanonical,
    /// A float that is NaN or infinite.
    #[error("non-finite number at {0}")]
    NonFinite(String),
    /// A map has the same key twice.
    #[error("duplicate map key at {0}")]
    DuplicateKey(String),
    /// A CBOR tag where none is allowed.
    #[error("CBOR tag {tag} at {path} is not allowed")]
    Tag {
        /// The tag number.
        tag: u64,
        /// Where it was found.
        path: String,
    },
}

/// Puts a value into canonical form: sorts map keys, rejects what has no canonical form.
pub fn canonicalize(value: Value) -> Result<Value, CborError> {
    canonicalize_at(value, "$")
}

fn canonicalize_at(value: Value, path: &str) -> Result<Value, CborError> {
    Ok(match value {
        Value::Float(f) if !f.is_finite() => return Err(CborError::NonFinite(path.to_string())),
        Value::Tag(tag, _) => {
            return Err(CborError::Tag {
                tag,
                path: path.to_string(),
            })
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| canonicalize_at(v, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(entries) => {
            let mut keyed = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let label = key_label(&k);
                let k = canonicalize_at(k, path)?;
                let v = canonicalize_at(v, &format!("{path}.{label}"))?;
                keyed.push((encode(&k), k, v));
            }
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            if let Some(w) = keyed.windows(2).find(|w| w[0].0 == w[1].0) {
                return Err(CborError::DuplicateKey(format!(
                    "{path}.{}",
                    key_label(&w[0].1)
                )));
            }
            Value::Map(keyed.into_iter().map(|(_, k, v)| (k, v)).collect())
        }
        other => other,
    })
}

fn key_label(key: &Value) -> String {
    match key {
        Value::Text(t) => t.clone(),
        Value::Integer(i) => i128::from(*i).to_string(),
        _ => "<key>".to_string(),
    }
}

/// Encodes a value as it stands. Call [`canonicalize`] first for values from outside.
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("writing CBOR into a Vec cannot fail");
    out
}

/// Appends `value` as it stands to `out`.
pub fn encode_into(value: &Value, out: &mut Vec<u8>) {
    ciborium::into_writer(value, out).expect("writing CBOR into a Vec cannot fail");
}

/// Appends the head of a data item of major type `major` (0 unsigned, 2 bytes, 3 text,
/// 4 array) with argument `n`, in the shortest form canonical CBOR requires.
pub fn write_head(out: &mut Vec<u8>, major: u8, n: u64) {
    let major = major << 5;
    match n {
        0..=23 => out.push(major | n as u8),
        24..=0xff => out.extend_from_slice(&[major | 24, n as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

/// Canonicalizes and encodes.
pub fn encode_canonical(value: Value) -> Result<Vec<u8>, CborError> {
    Ok(encode(&canonicalize(value)?))
}

/// Decodes exactly one item from `bytes` (nothing may follow it).
pub fn decode(bytes: &[u8]) -> Result<Value, CborError> {
    let mut reader = bytes;
    let value: Value =
        ciborium::from_reader(&mut reader).map_err(|e| CborError::Decode(e.to_string()))?;
    if !reader.is_empty() {
        return Err(CborError::Trailing(reader.len()));
    }
    Ok(value)
}

/// Decodes one item and checks that `bytes` are its canonical encoding.
pub fn decode_canonical(bytes: &[u8]) -> Result<Value, CborError> {
    let value = decode(bytes)?;
    let again = encode_canonical(value.clone())?;
    if again != bytes {
        return Err(CborError::NotCanonical);
    }
    Ok(value)
}

/// Containers ciborium decodes nested in one another before it gives up.
pub const MAX_NESTING: usize = 256;

/// Checks that `bytes` are exactly one canonical CBOR item, accepting the same inputs as
/// [`decode_canonical`] (the fuzz target `canonical_cbor` holds the two to that) without
/// building a value: the fast path for payloads a receiver stores but need not read.
/// Errors name no path inside the item.
pub fn check_canonical(bytes: &[u8]) -> Result<(), CborError> {
    check_canonical_within(bytes, MAX_NESTING)
}

/// [`check_canonical`] for an item that may hold at most `nesting` containers in one
/// another (less than [`MAX_NESTING`] when it sits inside a container itself).
pub fn check_canonical_within(bytes: &[u8], nesting: usize) -> Result<(), CborError> {
    let mut walk = Walk { bytes, at: 0 };
    walk.item(nesting)?;
    match bytes.len() - walk.at {
        0 => Ok(()),
        trailing => Err(CborError::Trailing(trailing)),
    }
}

/// A cursor over CBOR bytes that checks each item's form as it steps over it.
struct Walk<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Walk<'a> {
    fn take(&mut self, len: u64) -> Result<&'a [u8], CborError> {
        let end = usize::try_from(len)
            .ok()
            .and_then(|len| self.at.checked_add(len))
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| CborError::Decode(format!("item at byte {} is cut short", self.at)))?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    /// Major type, additional information and argument: an integer in shortest form,
    /// or a float's (or simple value's) raw bits.
    fn head(&mut self) -> Result<(u8, u8, u64), CborError> {
        let first = self.take(1)?[0];
        let (major, info) = (first >> 5, first & 0x1f);
        let (len, min) = match info {
            0..=23 => return Ok((major, info, u64::from(info))),
            24 => (1, 24u64),
            25 => (2, 1 << 8),
            26 => (4, 1 << 16),
            27 => (8, 1 << 32),
            _ => return Err(CborError::NotCanonical),
        };
        let arg = self
            .take(len)?
            .iter()
            .fold(0u64, |acc, b| acc << 8 | u64::from(*b));
        if major != 7 && arg < min {
            return Err(CborError::NotCanonical);
        }
        Ok((major, info, arg))
    }

    fn item(&mut self, nesting: usize) -> Result<(), CborError> {
        let (major, info, arg) = self.head()?;
        let inner = || {
            nesting
                .checked_sub(1)
                .ok_or_else(|| CborError::Decode(format!("nested deeper than {MAX_NESTING}")))
        };
        match major {
            0 | 1 => {}
            2 => {
                self.take(arg)?;
            }
            3 => {
                let at = self.at;
                std::str::from_utf8(self.take(arg)?)
                    .map_err(|_| CborError::Decode(format!("text at byte {at} is not UTF-8")))?;
            }
            4 => {
                let inner = inner()?;
                for _ in 0..arg {
                    self.item(inner)?;
                }
            }
            5 => {
                let inner = inner()?;
                let mut previous: Option<&[u8]> = None;
                for _ in 0..arg {
                    let start = self.at;
                    self.item(inner)?;
                    let key = &self.bytes[start..self.at];
                    match previous.map(|p| p.cmp(key)) {
                        Some(std::cmp::Ordering::Equal) => {
                            return Err(CborError::DuplicateKey("$".into()))
                        }
                        Some(std::cmp::Ordering::Greater) => return Err(CborError::NotCanonical),
                        _ => {}
                    }
                    previous = Some(key);
                    self.item(inner)?;
                }
            }
            6 => {
                return Err(CborError::Tag {
                    tag: arg,
                    path: "$".into(),
                })
            }
            _ => check_simple_or_float(info, arg)?,
        }
        Ok(())
    }
}

/// false, true and null are the simple values a `Value` holds; a float must be finite
/// and in the shortest width that holds it exactly, as ciborium writes it.
fn check_simple_or_float(info: u8, bits: u64) -> Result<(), CborError> {
    let value = match info {
        20..=22 => return Ok(()),
        25 => f64::from(half::f16::from_bits(bits as u16)),
        26 => f64::from(f32::from_bits(bits as u32)),
        27 => f64::from_bits(bits),
        _ => return Err(CborError::NotCanonical),
    };
    if !value.is_finite() {
        return Err(CborError::NonFinite("$".into()));
    }
    let shortest = if f64::from(half::f16::from_f64(value)).to_bits() == value.to_bits() {
        25
    } else if f64::from(value as f32).to_bits() == value.to_bits() {
        26
    } else {
        27
    };
    if shortest != info {
        return Err(CborError::NotCanonical);
    }
    Ok(())
}

/// Converts JSON into CBOR: integers stay integers, other numbers become floats.
pub fn from_json(json: &serde_json::Value) -> Result<Value, CborError> {
    canonicalize(json_to_value(json))
}

fn json_to_value(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Value::Integer(Integer::from(u))
            } else if let Some(i) = n.as_i64() {
                Value::Integer(Integer::from(i))
            } else {
                // serde_json never yields a non-finite f64 from text.
                Value::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        serde_json::Value::String(s) => Value::Text(s.clone()),
        serde_json::Value::Array(items) => Value::Array(items.iter().map(json_to_value).collect()),
        serde_json::Value::Object(map) => Value::Map(
            map.iter()
                .map(|(k, v)| (Value::Text(k.clone()), json_to_value(v)))
                .collect(),
        ),
    }
}

/// Renders CBOR as JSON for people and scripts: byte strings become lower-case hex,
/// non-text map keys their textual form (composite keys the hex of their encoding).
pub fn to_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Integer(i) => {
            let wide = i128::from(*i);
            if let Ok(u) = u64::try_from(wide) {
                serde_json::Value::from(u)
            } else if let Ok(s) = i64::try_from(wide) {
                serde_json::Value::from(s)
            } else {
                serde_json::Value::String(wide.to_string())
            }
        }
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Value::Text(t) => serde_json::Value::String(t.clone()),
        Value::Bytes(b) => serde_json::Value::String(hex::encode(b)),
        Value::Array(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => serde_json::Value::Object(
            entries
                .iter()
                .map(|(k, v)| (json_key(k), to_json(v)))
                .collect(),
        ),
        Value::Tag(_, inner) => to_json(inner),
        _ => serde_json::Value::Null,
    }
}

/// A map key as a JSON object key: text as it is, another scalar as its JSON text, an
/// array, map or tag as the hex of its CBOR encoding. (Rendered as JSON text, a composite
/// key was escaped again at every level of keys nested in keys: the text doubled per
/// level, and a 237-byte payload took seconds and could take any amount of memory.)
fn json_key(key: &Value) -> String {
    match key {
        Value::Text(t) => t.clone(),
        Value::Array(_) | Value::Map(_) | Value::Tag(..) => hex::encode(encode(key)),
        other => to_json(other).to_string(),
    }
}

/// Helpers to read fields of decoded maps with precise errors.
pub mod read {
    use super::Value;

    /// Looks up a text key in a map value.
    pub fn field<'a>(map: &'a Value, key: &str) -> Option<&'a Value> {
        match map {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, Value::Text(t) if t == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// A text field.
    pub fn text<'a>(map: &'a Value, key: &str) -> Option<&'a str> {
        field(map, key).and_then(Value::as_text)
    }

    /// An unsigned integer field.
    pub fn uint(map: &Value, key: &str) -> Option<u64> {
        field(map, key)
            .and_then(Value::as_integer)
            .and_then(|i| u64::try_from(i).ok())
    }

    /// A byte-string field.
    pub fn bytes<'a>(map: &'a Value, key: &str) -> Option<&'a [u8]> {
        field(map, key).and_then(Value::as_bytes).map(Vec::as_slice)
    }

    /// A float (or integer) field.
    pub fn number(map: &Value, key: &str) -> Option<f64> {
        match field(map, key)? {
            Value::Float(f) => Some(*f),
            Value::Integer(i) => Some(i128::from(*i) as f64),
            _ => None,
        }
    }
}

/// Builds a map value with text keys (canonical order is applied by [`canonicalize`]).
pub fn map<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Value::Text(k.to_string()), v))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_written_as_ciborium_writes_them() {
        let edges = [
            0u64,
            23,
            24,
            255,
            256,
            65_535,
            65_536,
            0xffff_ffff,
            1 << 32,
            u64::MAX,
        ];
        for n in edges {
            let mut head = Vec::new();
            write_head(&mut head, 0, n);
            assert_eq!(head, encode(&Value::Integer(n.into())), "uint {n}");
        }
        for len in [0usize, 23, 24, 255, 256, 70_000] {
            let mut head = Vec::new();
            write_head(&mut head, 2, len as u64);
            let full = encode(&Value::Bytes(vec![7; len]));
            assert_eq!(head, full[..full.len() - len], "bytes of {len}");
            let mut head = Vec::new();
            write_head(&mut head, 3, len as u64);
            let full = encode(&Value::Text("x".repeat(len)));
            assert_eq!(head, full[..full.len() - len], "text of {len}");
        }
    }

    #[test]
    fn json_maps_are_sorted_by_encoded_key() {
        let json: serde_json::Value =
            serde_json::from_str(r#"{"bb":1,"a":2,"c":[true,null,-3,1.5]}"#).expect("json");
        let bytes = encode(&from_json(&json).expect("cbor"));
        // {"a":2,"c":[true,null,-3,1.5],"bb":1}: shorter keys sort first.
        assert_eq!(hex::encode(&bytes), "a3616102616384f5f622f93e0062626201");
    }

    #[test]
    fn decode_canonical_rejects_unsorted_and_long_forms() {
        // {"b":1,"a":2} unsorted
        assert_eq!(
            decode_canonical(&hex::decode("a2616201616102").expect("hex")),
            Err(CborError::NotCanonical)
        );
        // 1 encoded with a one-byte argument (0x18 0x01) instead of inline.
        assert_eq!(
            decode_canonical(&hex::decode("1801").expect("hex")),
            Err(CborError::NotCanonical)
        );
        assert!(matches!(
            decode(&hex::decode("0102").expect("hex")),
            Err(CborError::Trailing(1))
        ));
    }

    #[test]
    fn non_finite_and_tags_and_duplicates_are_rejected() {
        assert!(matches!(
            canonicalize(Value::Array(vec![Value::Float(f64::NAN)])),
            Err(CborError::NonFinite(_))
        ));
        assert!(matches!(
            canonicalize(Value::Tag(1, Box::new(Value::Null))),
            Err(CborError::Tag { tag: 1, .. })
        ));
        let dup = Value::Map(vec![
            (Value::Text("k".into()), Value::Null),
            (Value::Text("k".into()), Value::Bool(true)),
        ]);
        assert!(matches!(canonicalize(dup), Err(CborError::DuplicateKey(_))));
    }

    #[test]
    fn json_round_trip_keeps_values() {
        let json: serde_json::Value =
            serde_json::from_str(r#"{"n":-7,"big":18446744073709551615,"f":0.25,"s":"x"}"#)
                .expect("json");
        let back = to_json(&decode(&encode(&from_json(&json).expect("cbor"))).expect("decode"));
        assert_eq!(back, json);
    }
}
