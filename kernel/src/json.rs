//! Nanosecond times in weft's JSON documents: written as decimal strings, because they
//! lie above 2^53 where a parser that reads numbers as doubles (JavaScript's) rounds
//! them; read from a string or an exact JSON number, so older documents still load.

use serde::{Deserialize, Deserializer, Serializer};

/// The JSON form of a nanosecond time.
pub fn time_value(ns: u64) -> serde_json::Value {
    serde_json::Value::String(ns.to_string())
}

/// A nanosecond time from its JSON form: a decimal string or an exact integer.
pub fn read_time(value: &serde_json::Value) -> Option<u64> {
    match value {
        serde_json::Value::String(text) => text.parse().ok(),
        number => number.as_u64(),
    }
}

/// For `#[serde(with = "weft_kernel::json::time")]` on a `u64` nanosecond field.
pub mod time {
    use super::*;

    /// Writes the decimal string.
    pub fn serialize<S: Serializer>(ns: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&ns.to_string())
    }

    /// Reads a decimal string or an integer.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        read_time(&value).ok_or_else(|| {
            serde::de::Error::custom("a nanosecond time is a decimal string or an integer")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_past_two_to_the_53_survive_as_text_and_old_numbers_still_read() {
        let ns = 1_796_129_431_620_907_894u64;
        assert_eq!(time_value(ns), serde_json::json!("1796129431620907894"));
        assert_eq!(read_time(&time_value(ns)), Some(ns));
        assert_eq!(read_time(&serde_json::json!(ns)), Some(ns));
        assert_eq!(read_time(&serde_json::json!("12x")), None);
        assert_eq!(read_time(&serde_json::json!(-1)), None);
    }
}
