//! RFC 6962 / RFC 9162 Merkle trees, generic over the hash.
//!
//! Leaf = H(0x00 ‖ data), node = H(0x01 ‖ left ‖ right), the empty tree = H(""), and a tree
//! of n leaves splits at the largest power of two below n. Run with SHA-256 this reproduces
//! the Certificate Transparency test roots and audit paths (see the tests); weft runs it
//! with SHAKE-256 over event hashes.
//!
//! Nothing here holds all leaves: [`Frontier`] keeps one digest per set bit of the leaf
//! count, and proofs are built from a [`SubtreeSource`] that yields the hashes of aligned
//! perfect subtrees (the chain store keeps those in RocksDB).

use crate::hash::{shake256_parts, Hash};
use std::fmt::Debug;

/// The hash function a tree is built with.
pub trait MerkleHasher {
    /// A digest.
    type Digest: Copy + Eq + Debug + AsRef<[u8]>;
    /// Hash of the empty tree.
    fn empty() -> Self::Digest;
    /// Hash of a leaf's data, prefixed with 0x00.
    fn leaf(data: &[u8]) -> Self::Digest;
    /// Hash of two children, prefixed with 0x01.
    fn node(left: &Self::Digest, right: &Self::Digest) -> Self::Digest;
}

/// RFC 6962 hashing with SHAKE-256 (32-byte output): the ExoChain's Merkle hash.
#[derive(Debug, Clone, Copy)]
pub struct Shake256Merkle;

impl MerkleHasher for Shake256Merkle {
    type Digest = Hash;
    fn empty() -> Hash {
        shake256_parts(&[])
    }
    fn leaf(data: &[u8]) -> Hash {
        shake256_parts(&[&[0x00], data])
    }
    fn node(left: &Hash, right: &Hash) -> Hash {
        shake256_parts(&[&[0x01], &left.0, &right.0])
    }
}

/// Largest power of two strictly below `n` (n ≥ 2): RFC 6962's split point.
pub fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Root of a tree over the given leaf hashes (in memory; for small trees and tests).
pub fn root_of<H: MerkleHasher>(leaves: &[H::Digest]) -> H::Digest {
    match leaves.len() {
        0 => H::empty(),
        1 => leaves[0],
        n => {
            let k = split_point(n as u64) as usize;
            H::node(&root_of::<H>(&leaves[..k]), &root_of::<H>(&leaves[k..]))
        }
    }
}

/// Yields the hash of the aligned perfect subtree `index` at `level`
/// (leaves `index·2^level .. (index+1)·2^level`); level 0 is a leaf hash.
pub trait SubtreeSource<D> {
    /// Error raised by the source (storage, missing node).
    type Error;
    /// The subtree hash.
    fn subtree(&self, level: u32, index: u64) -> Result<D, Self::Error>;
}

/// A source over leaf hashes held in memory.
pub struct InMemory<'a, H: MerkleHasher>(pub &'a [H::Digest]);

impl<H: MerkleHasher> SubtreeSource<H::Digest> for InMemory<'_, H> {
    type Error = std::convert::Infallible;
    fn subtree(&self, level: u32, index: u64) -> Result<H::Digest, Self::Error> {
        let width = 1usize << level;
        let start = index as usize * width;
        Ok(root_of::<H>(&self.0[start..start + width]))
    }
}

/// Hash of leaves `start .. start+size` where `start` is aligned to the largest power
/// of two ≤ size (true for every range RFC 6962's recursion visits).
fn range_hash<H: MerkleHasher, S: SubtreeSource<H::Digest>>(
    source: &S,
    start: u64,
    size: u64,
) -> Result<H::Digest, S::Error> {
    if size.is_power_of_two() {
        let level = size.trailing_zeros();
        return source.subtree(level, start >> level);
    }
    let k = split_point(size);
    let left = range_hash::<H, S>(source, start, k)?;
    let right = range_hash::<H, S>(source, start + k, size - k)?;
    Ok(H::node(&left, &right))
}

/// Root of the first `size` leaves, from stored subtrees.
pub fn root_from_source<H: MerkleHasher, S: SubtreeSource<H::Digest>>(
    source: &S,
    size: u64,
) -> Result<H::Digest, S::Error> {
    if size == 0 {
        return Ok(H::empty());
    }
    range_hash::<H, S>(source, 0, size)
}

/// The audit path of leaf `index` in the tree of the first `size` leaves
/// (RFC 6962 §2.1.1 PATH), leaf-side first.
pub fn inclusion_path<H: MerkleHasher, S: SubtreeSource<H::Digest>>(
    source: &S,
    index: u64,
    size: u64,
) -> Result<Vec<H::Digest>, S::Error> {
    assert!(index < size, "leaf {index} is outside a tree of {size}");
    let mut path = Vec::new();
    let (mut start, mut n, mut m) = (0u64, size, index);
    // Walk down from the root, then reverse: RFC order is bottom-up.
    while n > 1 {
        let k = split_point(n);
        if m < k {
            path.push(range_hash::<H, S>(source, start + k, n - k)?);
            n = k;
        } else {
            path.push(range_hash::<H, S>(source, start, k)?);
            start += k;
            m -= k;
            n -= k;
        }
    }
    path.reverse();
    Ok(path)
}

/// Why an inclusion proof does not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProofError {
    /// Index outside the tree.
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange {
        /// Leaf index.
        index: u64,
        /// Tree size.
        size: u64,
    },
    /// Too many or too few path elements for this index and size.
    #[error("audit path has {got} hashes, a leaf at {index} of {size} needs {want}")]
    WrongLength {
        /// Leaf index.
        index: u64,
        /// Tree size.
        size: u64,
        /// Path length given.
        got: usize,
        /// Path length needed.
        want: usize,
    },
    /// The path leads to a different root.
    #[error("audit path leads to root {computed}, expected {expected}")]
    RootMismatch {
        /// Root computed from the path (hex).
        computed: String,
        /// Root expected (hex).
        expected: String,
    },
}

/// Root implied by a leaf hash and its audit path (RFC 9162 §2.1.3.2).
pub fn root_from_inclusion<H: MerkleHasher>(
    index: u64,
    size: u64,
    leaf: &H::Digest,
    path: &[H::Digest],
) -> Result<H::Digest, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let want = expected_path_len(index, size);
    if path.len() != want {
        return Err(ProofError::WrongLength {
            index,
            size,
            got: path.len(),
            want,
        });
    }
    let mut sides = PathSides {
        first: index,
        last: size - 1,
    };
    let mut r = *leaf;
    for p in path {
        r = if sides.joins_left() {
            H::node(p, &r)
        } else {
            H::node(&r, p)
        };
    }
    Ok(r)
}

/// The index walk RFC 9162's inclusion and consistency checks share: a node's index and
/// the tree's last index, moved up one level per path hash.
struct PathSides {
    first: u64,
    last: u64,
}

impl PathSides {
    /// Whether the next path hash joins from the left; then moves up, skipping the
    /// levels where the node is the last of a right edge and has no sibling.
    fn joins_left(&mut self) -> bool {
        let left = self.first & 1 == 1 || self.first == self.last;
        if left {
            while self.first & 1 == 0 && self.first != 0 {
                self.up();
            }
        }
        self.up();
        left
    }

    fn up(&mut self) {
        self.first >>= 1;
        self.last >>= 1;
    }
}

/// Checks an audit path against a root.
pub fn verify_inclusion<H: MerkleHasher>(
    index: u64,
    size: u64,
    leaf: &H::Digest,
    path: &[H::Digest],
    root: &H::Digest,
) -> Result<(), ProofError> {
    let computed = root_from_inclusion::<H>(index, size, leaf, path)?;
    if &computed != root {
        return Err(ProofError::RootMismatch {
            computed: hex::encode(computed),
            expected: hex::encode(root),
        });
    }
    Ok(())
}

/// The consistency proof between the tree of the first `old_size` leaves and the tree of
/// the first `new_size` (RFC 6962 §2.1.2 PROOF), in RFC order. It shows that the larger
/// tree extends the smaller one: a replica that holds `old_size` events and their root
/// checks a peer's signed root over `new_size` without receiving the events in between.
pub fn consistency_path<H: MerkleHasher, S: SubtreeSource<H::Digest>>(
    source: &S,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<H::Digest>, S::Error> {
    assert!(
        0 < old_size && old_size <= new_size,
        "consistency needs 0 < old ({old_size}) <= new ({new_size})"
    );
    let mut path = Vec::new();
    // SUBPROOF(m, D[start:start+n], complete), unrolled; hashes are pushed top-down and
    // reversed at the end like the RFC's recursion emits them bottom-up.
    let (mut start, mut n, mut m, mut complete) = (0u64, new_size, old_size, true);
    while m != n {
        let k = split_point(n);
        if m <= k {
            path.push(range_hash::<H, S>(source, start + k, n - k)?);
            n = k;
        } else {
            path.push(range_hash::<H, S>(source, start, k)?);
            start += k;
            m -= k;
            n -= k;
            complete = false;
        }
    }
    if !complete {
        path.push(range_hash::<H, S>(source, start, n)?);
    }
    path.reverse();
    Ok(path)
}

/// Why a consistency proof does not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConsistencyError {
    /// Sizes that admit no proof.
    #[error("no consistency proof from size {old} to size {new}")]
    Sizes {
        /// Old size.
        old: u64,
        /// New size.
        new: u64,
    },
    /// The path does not have the shape these sizes need.
    #[error("consistency path of {got} hashes is malformed for sizes {old} to {new}")]
    Shape {
        /// Old size.
        old: u64,
        /// New size.
        new: u64,
        /// Path length given.
        got: usize,
    },
    /// The path does not reproduce both roots.
    #[error("consistency path does not lead to both roots (old size {old}, new size {new})")]
    Mismatch {
        /// Old size.
        old: u64,
        /// New size.
        new: u64,
    },
}

/// Checks that `new_root` (over `new_size` leaves) extends `old_root` (over `old_size`)
/// with `path` (RFC 9162 §2.1.4.2).
pub fn verify_consistency<H: MerkleHasher>(
    old_size: u64,
    new_size: u64,
    old_root: &H::Digest,
    new_root: &H::Digest,
    path: &[H::Digest],
) -> Result<(), ConsistencyError>
where
    H::Digest: PartialEq,
{
    let (old, new) = (old_size, new_size);
    if old == 0 || old > new {
        return Err(ConsistencyError::Sizes { old, new });
    }
    if old == new {
        return match (path.is_empty(), old_root == new_root) {
            (true, true) => Ok(()),
            (false, _) => Err(ConsistencyError::Shape {
                old,
                new,
                got: path.len(),
            }),
            (true, false) => Err(ConsistencyError::Mismatch { old, new }),
        };
    }
    let shape = || ConsistencyError::Shape {
        old,
        new,
        got: path.len(),
    };
    let mut hashes: Vec<H::Digest> = Vec::with_capacity(path.len() + 1);
    if old.is_power_of_two() {
        hashes.push(*old_root);
    }
    hashes.extend_from_slice(path);
    let (first, rest) = hashes.split_first().ok_or_else(shape)?;
    let mut sides = PathSides {
        first: old - 1,
        last: new - 1,
    };
    while sides.first & 1 == 1 {
        sides.up();
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sides.last == 0 {
            return Err(shape());
        }
        if sides.joins_left() {
            fr = H::node(c, &fr);
            sr = H::node(c, &sr);
        } else {
            sr = H::node(&sr, c);
        }
    }
    if sides.last != 0 {
        return Err(shape());
    }
    if &fr != old_root || &sr != new_root {
        return Err(ConsistencyError::Mismatch { old, new });
    }
    Ok(())
}

fn expected_path_len(index: u64, size: u64) -> usize {
    let (mut start, mut n, mut m, mut len) = (0u64, size, index, 0usize);
    while n > 1 {
        let k = split_point(n);
        len += 1;
        if m < k {
            n = k;
        } else {
            start += k;
            m -= k;
            n -= k;
        }
    }
    let _ = start;
    len
}

/// The right edge of a growing tree: one perfect-subtree digest per set bit of the
/// leaf count, so memory is O(log n) however long the chain grows.
#[derive(Clone, Debug)]
pub struct Frontier<H: MerkleHasher> {
    /// (level, digest), highest level first.
    peaks: Vec<(u32, H::Digest)>,
    size: u64,
}

/// A perfect subtree completed by [`Frontier::push`], worth storing for proofs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompletedSubtree<D> {
    /// Height above the leaves (0 = the leaf itself).
    pub level: u32,
    /// Position among subtrees of that level.
    pub index: u64,
    /// Its hash.
    pub digest: D,
}

impl<H: MerkleHasher> Default for Frontier<H> {
    fn default() -> Self {
        Frontier {
            peaks: Vec::new(),
            size: 0,
        }
    }
}

impl<H: MerkleHasher> Frontier<H> {
    /// Rebuilds the frontier of the first `size` leaves from stored subtrees.
    pub fn from_source<S: SubtreeSource<H::Digest>>(
        source: &S,
        size: u64,
    ) -> Result<Self, S::Error> {
        let mut peaks = Vec::new();
        let mut start = 0u64;
        for level in (0..64u32).rev() {
            if size & (1u64 << level) != 0 {
                peaks.push((level, source.subtree(level, start >> level)?));
                start += 1u64 << level;
            }
        }
        Ok(Frontier { peaks, size })
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adds a leaf hash; calls `completed` for the leaf and for every subtree it closes.
    pub fn push(
        &mut self,
        leaf: H::Digest,
        mut completed: impl FnMut(CompletedSubtree<H::Digest>),
    ) {
        let index = self.size;
        completed(CompletedSubtree {
            level: 0,
            index,
            digest: leaf,
        });
        let mut carry = (0u32, leaf);
        while let Some(&(level, left)) = self.peaks.last() {
            if level != carry.0 {
                break;
            }
            self.peaks.pop();
            let merged = H::node(&left, &carry.1);
            carry = (level + 1, merged);
            completed(CompletedSubtree {
                level: level + 1,
                index: index >> (level + 1),
                digest: merged,
            });
        }
        self.peaks.push(carry);
        self.size += 1;
    }

    /// The perfect subtrees of the right edge, highest level first.
    pub fn peaks(&self) -> &[(u32, H::Digest)] {
        &self.peaks
    }

    /// Adds a whole perfect subtree of `2^level` leaves, computed elsewhere (a verifier
    /// hashes aligned batches in parallel). The current size must be a multiple of
    /// `2^level`, so the subtree sits where its leaves would.
    pub fn push_subtree(&mut self, level: u32, digest: H::Digest) {
        assert!(
            self.size.is_multiple_of(1u64 << level),
            "subtree of level {level} is not aligned at {}",
            self.size
        );
        let mut carry = (level, digest);
        while let Some(&(l, left)) = self.peaks.last() {
            if l != carry.0 {
                break;
            }
            self.peaks.pop();
            carry = (l + 1, H::node(&left, &carry.1));
        }
        self.peaks.push(carry);
        self.size += 1u64 << level;
    }

    /// The root if the leaves of `tail` (a frontier started at an aligned position after
    /// this one, whose peaks are all lower than this one's) were appended.
    pub fn root_with(&self, tail: &[(u32, H::Digest)]) -> H::Digest {
        let mut iter = self.peaks.iter().chain(tail).rev();
        match iter.next() {
            None => H::empty(),
            Some(&(_, last)) => iter.fold(last, |acc, (_, peak)| H::node(peak, &acc)),
        }
    }

    /// The root of all leaves pushed so far.
    pub fn root(&self) -> H::Digest {
        let mut iter = self.peaks.iter().rev();
        match iter.next() {
            None => H::empty(),
            Some(&(_, last)) => iter.fold(last, |acc, (_, peak)| H::node(peak, &acc)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    struct Sha256Merkle;
    impl MerkleHasher for Sha256Merkle {
        type Digest = [u8; 32];
        fn empty() -> [u8; 32] {
            Sha256::digest([]).into()
        }
        fn leaf(data: &[u8]) -> [u8; 32] {
            let mut h = Sha256::new();
            Digest::update(&mut h, [0u8]);
            Digest::update(&mut h, data);
            h.finalize().into()
        }
        fn node(l: &[u8; 32], r: &[u8; 32]) -> [u8; 32] {
            let mut h = Sha256::new();
            Digest::update(&mut h, [1u8]);
            Digest::update(&mut h, l);
            Digest::update(&mut h, r);
            h.finalize().into()
        }
    }

    fn h(s: &str) -> [u8; 32] {
        hex::decode(s).expect("hex").try_into().expect("32 bytes")
    }

    // Certificate Transparency / transparency-dev RFC 6962 test data.
    const CT_LEAVES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];
    const CT_ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    fn ct_leaf_hashes() -> Vec<[u8; 32]> {
        CT_LEAVES
            .iter()
            .map(|l| Sha256Merkle::leaf(&hex::decode(l).expect("hex")))
            .collect()
    }

    #[test]
    fn sha256_reproduces_ct_roots_for_every_size() {
        let leaves = ct_leaf_hashes();
        for n in 0..=8 {
            assert_eq!(
                root_of::<Sha256Merkle>(&leaves[..n]),
                h(CT_ROOTS[n]),
                "size {n}"
            );
            let mut f = Frontier::<Sha256Merkle>::default();
            leaves[..n].iter().for_each(|l| f.push(*l, |_| {}));
            assert_eq!(f.root(), h(CT_ROOTS[n]), "frontier size {n}");
        }
    }

    #[test]
    fn sha256_reproduces_ct_audit_paths() {
        // (1-based leaf, tree size, path) from the CT test data.
        let vectors: [(u64, u64, &[&str]); 4] = [
            (
                1,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                &[
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                3,
                3,
                &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
            ),
            (
                2,
                5,
                &[
                    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        let leaves = ct_leaf_hashes();
        for (leaf, size, want) in vectors {
            let tree = &leaves[..size as usize];
            let path =
                inclusion_path::<Sha256Merkle, _>(&InMemory::<Sha256Merkle>(tree), leaf - 1, size)
                    .expect("in memory");
            let want: Vec<[u8; 32]> = want.iter().map(|s| h(s)).collect();
            assert_eq!(path, want, "leaf {leaf} of {size}");
            let root = h(CT_ROOTS[size as usize]);
            verify_inclusion::<Sha256Merkle>(
                leaf - 1,
                size,
                &leaves[leaf as usize - 1],
                &path,
                &root,
            )
            .expect("verifies");
        }
    }

    #[test]
    fn sha256_reproduces_ct_consistency_proofs() {
        // (old size, new size, proof) from the CT test data.
        let vectors: [(u64, u64, &[&str]); 4] = [
            (1, 1, &[]),
            (
                1,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                &[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                5,
                &[
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        let leaves = ct_leaf_hashes();
        for (old, new, want) in vectors {
            let source = InMemory::<Sha256Merkle>(&leaves[..new as usize]);
            let path = consistency_path::<Sha256Merkle, _>(&source, old, new).expect("in memory");
            let want: Vec<[u8; 32]> = want.iter().map(|s| h(s)).collect();
            assert_eq!(path, want, "{old} -> {new}");
            let (old_root, new_root) = (h(CT_ROOTS[old as usize]), h(CT_ROOTS[new as usize]));
            verify_consistency::<Sha256Merkle>(old, new, &old_root, &new_root, &path)
                .expect("verifies");
        }
    }

    #[test]
    fn every_consistency_proof_verifies_and_tampering_fails() {
        let leaves: Vec<Hash> = (0..37u32)
            .map(|i| Shake256Merkle::leaf(&i.to_be_bytes()))
            .collect();
        let source = InMemory::<Shake256Merkle>(&leaves);
        for new in 1..=leaves.len() as u64 {
            let new_root = root_of::<Shake256Merkle>(&leaves[..new as usize]);
            for old in 1..=new {
                let old_root = root_of::<Shake256Merkle>(&leaves[..old as usize]);
                let path = consistency_path::<Shake256Merkle, _>(&source, old, new).expect("mem");
                verify_consistency::<Shake256Merkle>(old, new, &old_root, &new_root, &path)
                    .unwrap_or_else(|e| panic!("{old} -> {new}: {e}"));
                let other = Shake256Merkle::leaf(b"other");
                assert!(
                    verify_consistency::<Shake256Merkle>(old, new, &other, &new_root, &path)
                        .is_err(),
                    "wrong old root accepted for {old} -> {new}"
                );
                assert!(
                    verify_consistency::<Shake256Merkle>(old, new, &old_root, &other, &path)
                        .is_err(),
                    "wrong new root accepted for {old} -> {new}"
                );
                for i in 0..path.len() {
                    let mut bad = path.clone();
                    bad[i] = other;
                    assert!(
                        verify_consistency::<Shake256Merkle>(old, new, &old_root, &new_root, &bad)
                            .is_err(),
                        "tampered element {i} accepted for {old} -> {new}"
                    );
                }
                let mut longer = path.clone();
                longer.push(other);
                assert!(verify_consistency::<Shake256Merkle>(
                    old, new, &old_root, &new_root, &longer
                )
                .is_err());
                if old < new {
                    assert!(verify_consistency::<Shake256Merkle>(
                        old,
                        new,
                        &old_root,
                        &new_root,
                        &path[..path.len() - 1]
                    )
                    .is_err());
                }
            }
        }
    }

    #[test]
    fn every_proof_verifies_and_tampering_fails() {
        let leaves: Vec<Hash> = (0..37u32)
            .map(|i| Shake256Merkle::leaf(&i.to_be_bytes()))
            .collect();
        for n in 1..=leaves.len() as u64 {
            let tree = &leaves[..n as usize];
            let root = root_of::<Shake256Merkle>(tree);
            for i in 0..n {
                let path =
                    inclusion_path::<Shake256Merkle, _>(&InMemory::<Shake256Merkle>(tree), i, n)
                        .expect("mem");
                let leaf = &tree[i as usize];
                verify_inclusion::<Shake256Merkle>(i, n, leaf, &path, &root).expect("valid");
                if n > 1 {
                    let other = (i + 1) % n;
                    assert!(
                        verify_inclusion::<Shake256Merkle>(other, n, leaf, &path, &root).is_err()
                    );
                    let mut bad = path.clone();
                    bad[0].0[0] ^= 1;
                    assert!(verify_inclusion::<Shake256Merkle>(i, n, leaf, &bad, &root).is_err());
                    assert!(
                        verify_inclusion::<Shake256Merkle>(i, n, leaf, &path[1..], &root).is_err()
                    );
                }
            }
        }
    }

    #[test]
    fn frontier_records_subtrees_and_rebuilds() {
        let leaves: Vec<Hash> = (0..21u32)
            .map(|i| Shake256Merkle::leaf(&i.to_le_bytes()))
            .collect();
        let mut stored = std::collections::HashMap::new();
        let mut f = Frontier::<Shake256Merkle>::default();
        for l in &leaves {
            f.push(*l, |c| {
                stored.insert((c.level, c.index), c.digest);
            });
        }
        struct Map<'a>(&'a std::collections::HashMap<(u32, u64), Hash>);
        impl SubtreeSource<Hash> for Map<'_> {
            type Error = (u32, u64);
            fn subtree(&self, level: u32, index: u64) -> Result<Hash, (u32, u64)> {
                self.0.get(&(level, index)).copied().ok_or((level, index))
            }
        }
        for n in 1..=21u64 {
            let want = root_of::<Shake256Merkle>(&leaves[..n as usize]);
            assert_eq!(
                root_from_source::<Shake256Merkle, _>(&Map(&stored), n),
                Ok(want)
            );
            let rebuilt =
                Frontier::<Shake256Merkle>::from_source(&Map(&stored), n).expect("stored");
            assert_eq!(rebuilt.root(), want);
        }
    }

    #[test]
    fn subtrees_computed_apart_combine_into_the_same_root() {
        let leaves: Vec<Hash> = (0..45u32)
            .map(|i| Shake256Merkle::leaf(&i.to_be_bytes()))
            .collect();
        let mut global = Frontier::<Shake256Merkle>::default();
        for chunk in leaves.chunks(8) {
            let mut local = Frontier::<Shake256Merkle>::default();
            for (i, l) in chunk.iter().enumerate() {
                local.push(*l, |_| {});
                let upto = global.size() as usize + i + 1;
                assert_eq!(
                    global.root_with(local.peaks()),
                    root_of::<Shake256Merkle>(&leaves[..upto])
                );
            }
            if chunk.len() == 8 {
                global.push_subtree(3, local.root());
            }
        }
        assert_eq!(global.size(), 40);
        assert_eq!(global.root(), root_of::<Shake256Merkle>(&leaves[..40]));
    }

    #[test]
    fn split_point_is_rfc6962s() {
        for (n, k) in [(2, 1), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8), (1000, 512)] {
            assert_eq!(split_point(n), k);
        }
    }
}
