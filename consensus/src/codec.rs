//! How the Raft state is stored: CBOR (serde) values, and io errors that say what failed.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io;

/// Encodes a value for storage.
pub fn encode<T: Serialize>(value: &T) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("encode: {e}")))?;
    Ok(out)
}

/// Decodes a stored value; `what` names it in the error.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> io::Result<T> {
    ciborium::from_reader(bytes)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("stored {what}: {e}")))
}

/// A store error as the io error openraft's storage traits return.
pub fn io_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}
