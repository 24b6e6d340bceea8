//! SHAKE-256 with domain separation: the one hash function of weft's formats.
//!
//! Every hashed structure names its domain (`weft/<thing>/v<N>`), so bytes valid in one
//! role can never be replayed as another (an event can't pass for a head, a segment for
//! an event).

use sha3::digest::{ExtendableOutput, Update, XofReader};
use sha3::Shake256;
use std::fmt;

/// Length in bytes of every weft hash (SHAKE-256 with 256-bit output).
pub const HASH_LEN: usize = 32;

/// A 32-byte SHAKE-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; HASH_LEN]);

impl Hash {
    /// The all-zero hash: the previous-hash of a genesis event.
    pub const ZERO: Hash = Hash([0; HASH_LEN]);

    /// Lower-case hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex characters.
    pub fn from_hex(text: &str) -> Result<Hash, HashParseError> {
        let bytes = hex::decode(text.trim()).map_err(|_| HashParseError(text.to_string()))?;
        Hash::from_slice(&bytes).ok_or_else(|| HashParseError(text.to_string()))
    }

    /// Takes exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Hash> {
        <[u8; HASH_LEN]>::try_from(bytes).ok().map(Hash)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; HASH_LEN] {
        &self.0
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl serde::Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let text = String::deserialize(d)?;
        Hash::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

/// A string that is not 64 hex characters.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a hash: expected 64 hex characters")]
pub struct HashParseError(pub String);

/// Incremental SHAKE-256 hasher bound to a domain.
pub struct DomainHasher(Shake256);

impl DomainHasher {
    /// Starts a hash in `domain`; the domain and a NUL byte come first.
    pub fn new(domain: &str) -> DomainHasher {
        let mut inner = Shake256::default();
        inner.update(domain.as_bytes());
        inner.update(&[0]);
        DomainHasher(inner)
    }

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.update(bytes);
        self
    }

    /// Reads 32 bytes of output.
    pub fn finish(self) -> Hash {
        let mut out = [0u8; HASH_LEN];
        self.0.finalize_xof().read(&mut out);
        Hash(out)
    }
}

/// SHAKE-256 of `parts` in `domain`.
pub fn domain_hash(domain: &str, parts: &[&[u8]]) -> Hash {
    let mut sponge = Sponge::default();
    sponge.absorb(domain.as_bytes());
    sponge.absorb(&[0]);
    for part in parts {
        sponge.absorb(part);
    }
    sponge.finish()
}

/// Plain SHAKE-256 (no domain) with 32-byte output: for artifacts named by users, whose
/// hash must match what `sha3sum`-style tools print for the same file.
pub fn shake256(bytes: &[u8]) -> Hash {
    shake256_parts(&[bytes])
}

/// SHAKE-256 (32-byte output) of the concatenation of `parts`, held in memory.
pub fn shake256_parts(parts: &[&[u8]]) -> Hash {
    let mut sponge = Sponge::default();
    for part in parts {
        sponge.absorb(part);
    }
    sponge.finish()
}

/// SHAKE-256's rate in bytes.
const SHAKE256_RATE: usize = 136;

/// A one-shot SHAKE-256 sponge straight over Keccak-f[1600]. Events, leaves and nodes
/// are short and hashed by the million, and the `sha3` crate's buffering around the
/// permutation costs a third again as much as the permutations themselves on them.
struct Sponge {
    state: [u64; 25],
    block: [u8; SHAKE256_RATE],
    filled: usize,
}

impl Default for Sponge {
    fn default() -> Sponge {
        Sponge {
            state: [0; 25],
            block: [0; SHAKE256_RATE],
            filled: 0,
        }
    }
}

impl Sponge {
    fn absorb(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let n = (SHAKE256_RATE - self.filled).min(bytes.len());
            self.block[self.filled..self.filled + n].copy_from_slice(&bytes[..n]);
            self.filled += n;
            bytes = &bytes[n..];
            if self.filled == SHAKE256_RATE {
                self.permute_block();
            }
        }
    }

    fn permute_block(&mut self) {
        for (lane, chunk) in self.state.iter_mut().zip(self.block.chunks_exact(8)) {
            *lane ^= u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        }
        keccak::f1600(&mut self.state);
        self.filled = 0;
    }

    fn finish(mut self) -> Hash {
        // SHAKE domain bits and pad10*1 (FIPS 202); 32 bytes fit in one squeeze.
        self.block[self.filled..].fill(0);
        self.block[self.filled] ^= 0x1f;
        self.block[SHAKE256_RATE - 1] ^= 0x80;
        self.permute_block();
        let mut out = [0u8; HASH_LEN];
        for (chunk, lane) in out.chunks_exact_mut(8).zip(self.state) {
            chunk.copy_from_slice(&lane.to_le_bytes());
        }
        Hash(out)
    }
}

/// Streaming plain SHAKE-256 of a reader (artifacts can be large).
pub fn shake256_reader(mut reader: impl std::io::Read) -> std::io::Result<Hash> {
    let mut inner = Shake256::default();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        inner.update(&buf[..n]);
    }
    let mut out = [0u8; HASH_LEN];
    inner.finalize_xof().read(&mut out);
    Ok(Hash(out))
}

/// Domain names, one per hashed structure. Changing any of these changes the format.
pub mod domains {
    /// An ExoChain event.
    pub const EVENT: &str = "weft/exochain/event/v1";
    /// A signed chain head (the signed message).
    pub const HEAD: &str = "weft/exochain/head/v1";
    /// A chain id derived from the genesis key and time.
    pub const CHAIN_ID: &str = "weft/exochain/chain-id/v1";
    /// A segment of an export file.
    pub const SEGMENT: &str = "weft/segment/v1";
    /// The signed footer of an export file.
    pub const SEGMENT_FOOTER: &str = "weft/segment-footer/v1";
    /// A resource tree node.
    pub const TREE_NODE: &str = "weft/tree/node/v1";
    /// A governance rule set.
    pub const RULE_SET: &str = "weft/gate/rules/v1";
    /// A key fingerprint.
    pub const KEY_FINGERPRINT: &str = "weft/key/v1";
    /// The endorsement of a cluster's new signer set by a key of the set it replaces.
    pub const CLUSTER_SIGNERS: &str = "weft/cluster/signers/v1";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shake256_matches_the_nist_empty_vector() {
        // NIST FIPS 202 SHAKE256("") first 32 bytes.
        assert_eq!(
            shake256(b"").to_hex(),
            "46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f"
        );
    }

    #[test]
    fn the_sponge_matches_the_sha3_crate_at_every_block_boundary() {
        // Lengths around one and two rates (136 bytes), split into parts at odd places.
        for len in [0usize, 1, 31, 135, 136, 137, 271, 272, 273, 500] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let mut reference = Shake256::default();
            reference.update(&data);
            let mut want = [0u8; HASH_LEN];
            reference.finalize_xof().read(&mut want);
            let cut = len / 3;
            assert_eq!(
                shake256_parts(&[&data[..cut], &data[cut..]]).0,
                want,
                "{len}"
            );
            let mut streamed = DomainHasher::new("d");
            streamed.update(&data);
            assert_eq!(domain_hash("d", &[&data]), streamed.finish(), "{len}");
        }
    }

    #[test]
    fn domains_separate() {
        assert_ne!(domain_hash("a", &[b"b"]), domain_hash("ab", &[]));
        assert_ne!(
            domain_hash(domains::EVENT, &[b"x"]),
            domain_hash(domains::HEAD, &[b"x"])
        );
    }

    #[test]
    fn hex_round_trip_and_rejects_bad_input() {
        let h = shake256(b"abc");
        assert_eq!(Hash::from_hex(&h.to_hex()).expect("valid"), h);
        assert!(Hash::from_hex("zz").is_err());
        assert!(Hash::from_hex(&"00".repeat(31)).is_err());
    }
}
