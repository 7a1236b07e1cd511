//! The Merkle tree of RFC 6962 §2.1 (RFC 9162 §2.1): leaf hash SHA-256(0x00 ‖ leaf), interior node
//! SHA-256(0x01 ‖ left ‖ right), a tree of n leaves split at the largest power of two smaller than n.
//!
//! Proofs are built from *complete subtrees*: the node at (level, index) covers the leaves
//! `[index·2^level, (index+1)·2^level)`. A store keeps those nodes as they complete, and the
//! functions here ask it only for the O(log n) nodes a proof needs (through [`Nodes`]), so that a
//! proof in a log of ten million events reads a few dozen rows. The hash of an incomplete subtree
//! (the right edge of a tree) is folded from the complete ones under it.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(leaf);
    h.finalize().into()
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: SHA-256 of nothing.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The largest power of two strictly smaller than `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Where a proof reads the hashes of complete subtrees.
pub trait Nodes {
    /// The hash of the complete subtree at `level` and `index` (leaves `index << level` to
    /// `(index + 1) << level`, all in the tree).
    fn complete(&mut self, level: u32, index: u64) -> Hash;
}

/// Leaf hashes in memory are a node source (tests, `verify`).
impl Nodes for &[Hash] {
    fn complete(&mut self, level: u32, index: u64) -> Hash {
        let start = (index << level) as usize;
        let end = ((index + 1) << level) as usize;
        root(&self[start..end])
    }
}

/// Records which complete subtrees a proof needs, answering zeros: the first pass of a two-pass
/// proof (read the recorded nodes in one query, then build the proof from them).
#[derive(Debug, Default)]
pub struct Needed(pub Vec<(u32, u64)>);

impl Nodes for Needed {
    fn complete(&mut self, level: u32, index: u64) -> Hash {
        self.0.push((level, index));
        [0; 32]
    }
}

/// Nodes already read, by (level, index); a node missing from the map is answered with zeros, and
/// the proof then fails to verify (it never panics).
impl Nodes for std::collections::HashMap<(u32, u64), Hash> {
    fn complete(&mut self, level: u32, index: u64) -> Hash {
        self.get(&(level, index)).copied().unwrap_or([0; 32])
    }
}

/// MTH(D[start:end]) where `start` is aligned as the RFC recursion aligns it (a multiple of a power
/// of two at least `end - start`).
fn subtree(nodes: &mut dyn Nodes, start: u64, end: u64) -> Hash {
    let n = end - start;
    if n.is_power_of_two() && start % n == 0 {
        let level = n.trailing_zeros();
        return nodes.complete(level, start >> level);
    }
    let k = split(n);
    let left = subtree(nodes, start, start + k);
    let right = subtree(nodes, start + k, end);
    node_hash(&left, &right)
}

/// The root of a tree over these leaf hashes (RFC 6962 MTH).
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n as u64) as usize;
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The root of the tree of `size` leaves, from its complete subtrees.
pub fn root_of(nodes: &mut dyn Nodes, size: u64) -> Hash {
    if size == 0 {
        return empty_root();
    }
    subtree(nodes, 0, size)
}

/// The inclusion proof (audit path, RFC 6962 §2.1.1) of leaf `index` in the tree of `size`
/// leaves; `None` when the index is outside the tree.
pub fn inclusion_proof(nodes: &mut dyn Nodes, index: u64, size: u64) -> Option<Vec<Hash>> {
    if index >= size {
        return None;
    }
    let mut path = Vec::new();
    path_into(nodes, index, 0, size, &mut path);
    Some(path)
}

fn path_into(nodes: &mut dyn Nodes, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) {
    let n = end - start;
    if n == 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path_into(nodes, m, start, start + k, out);
        out.push(subtree(nodes, start + k, end));
    } else {
        path_into(nodes, m - k, start + k, end, out);
        out.push(subtree(nodes, start, start + k));
    }
}

/// The consistency proof (RFC 6962 §2.1.2) between the trees of `old` and `new` leaves; `None`
/// unless `0 < old ≤ new`.
pub fn consistency_proof(nodes: &mut dyn Nodes, old: u64, new: u64) -> Option<Vec<Hash>> {
    if old == 0 || old > new {
        return None;
    }
    let mut proof = Vec::new();
    if old < new {
        subproof_into(nodes, old, 0, new, true, &mut proof);
    }
    Some(proof)
}

fn subproof_into(
    nodes: &mut dyn Nodes,
    m: u64,
    start: u64,
    end: u64,
    complete: bool,
    out: &mut Vec<Hash>,
) {
    let n = end - start;
    if m == n {
        if !complete {
            out.push(subtree(nodes, start, end));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof_into(nodes, m, start, start + k, complete, out);
        out.push(subtree(nodes, start + k, end));
    } else {
        subproof_into(nodes, m - k, start + k, end, false, out);
        out.push(subtree(nodes, start, start + k));
    }
}

/// Checks an inclusion proof, step by step as RFC 9162 §2.1.3.2 gives it.
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && &r == root
}

/// Checks a consistency proof between the tree of `old` leaves (root `old_root`) and the tree of
/// `new` leaves (root `new_root`), as RFC 9162 §2.1.4.2 gives it.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old > new {
        return false;
    }
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    if old == 0 {
        // Every tree extends the empty one; there is nothing to prove.
        return proof.is_empty();
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let (mut fnode, mut snode) = (old - 1, new - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && &fr == old_root && &sr == new_root
}

/// The complete subtrees on the right edge of a tree of `size` leaves, largest first: what an
/// append needs to know of the tree (its *frontier*).
pub fn frontier(size: u64) -> Vec<(u32, u64)> {
    (0..64u32)
        .rev()
        .filter(|level| size >> level & 1 == 1)
        .map(|level| (level, (size >> level) - 1))
        .collect()
}

/// Appends leaves to a tree of `size` leaves: every complete subtree that the new leaves complete,
/// as (level, index, hash), leaves (level 0) included. `old` answers the frontier nodes of the
/// tree before the append (see [`frontier`]).
pub fn append(
    size: u64,
    leaves: &[Hash],
    old: &mut dyn FnMut(u32, u64) -> Option<Hash>,
) -> Result<Vec<(u32, u64, Hash)>, MissingNode> {
    let mut made: std::collections::HashMap<(u32, u64), Hash> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(leaves.len() * 2);
    for (i, leaf) in leaves.iter().enumerate() {
        let (mut level, mut index, mut hash) = (0u32, size + i as u64, *leaf);
        out.push((level, index, hash));
        made.insert((level, index), hash);
        while index & 1 == 1 {
            let left = match made.get(&(level, index - 1)) {
                Some(h) => *h,
                None => old(level, index - 1).ok_or(MissingNode {
                    level,
                    index: index - 1,
                })?,
            };
            hash = node_hash(&left, &hash);
            level += 1;
            index >>= 1;
            out.push((level, index, hash));
            made.insert((level, index), hash);
        }
    }
    Ok(out)
}

/// The right edge of a tree being rebuilt leaf by leaf (a compact range from leaf 0): O(log n)
/// memory, so that `verify` recomputes the root of a log of any size.
#[derive(Debug, Clone, Default)]
pub struct Compact {
    size: u64,
    /// Roots of the complete subtrees of the right edge, largest first.
    stack: Vec<Hash>,
}

impl Compact {
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn push(&mut self, leaf: Hash) {
        self.stack.push(leaf);
        let mut s = self.size;
        while s & 1 == 1 {
            let (Some(right), Some(left)) = (self.stack.pop(), self.stack.pop()) else {
                break;
            };
            self.stack.push(node_hash(&left, &right));
            s >>= 1;
        }
        self.size += 1;
    }

    /// MTH of the leaves pushed so far.
    pub fn root(&self) -> Hash {
        let mut it = self.stack.iter().rev();
        let Some(last) = it.next() else {
            return empty_root();
        };
        it.fold(*last, |acc, left| node_hash(left, &acc))
    }
}

/// A node the tree should hold is missing from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingNode {
    pub level: u32,
    pub index: u64,
}

impl std::fmt::Display for MissingNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the tree node at level {} index {} is missing",
            self.level, self.index
        )
    }
}

impl std::error::Error for MissingNode {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    fn vector_leaves() -> Vec<Hash> {
        let data: [&[u8]; 8] = [
            &[],
            &[0x00],
            &[0x10],
            &[0x20, 0x21],
            &[0x30, 0x31],
            &[0x40, 0x41, 0x42, 0x43],
            &[0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
            &[
                0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d,
                0x6e, 0x6f,
            ],
        ];
        data.iter().map(|d| leaf_hash(d)).collect()
    }

    fn h(text: &str) -> Hash {
        hex::decode(text).unwrap().try_into().unwrap()
    }

    // The published RFC 6962 vectors (certificate-transparency and transparency-dev/merkle).
    const ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    #[test]
    fn roots_match_the_published_vectors() {
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let leaves = vector_leaves();
        for (n, want) in ROOTS.iter().enumerate() {
            assert_eq!(hex::encode(root(&leaves[..=n])), *want, "size {}", n + 1);
            let mut nodes: &[Hash] = &leaves[..=n];
            assert_eq!(hex::encode(root_of(&mut nodes, n as u64 + 1)), *want);
        }
    }

    #[test]
    fn inclusion_proofs_match_the_published_vectors() {
        let leaves = vector_leaves();
        let cases: [(u64, u64, Vec<&str>); 5] = [
            (0, 1, vec![]),
            (
                0,
                8,
                vec![
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                5,
                8,
                vec![
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                3,
                vec!["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
            ),
            (
                1,
                5,
                vec![
                    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        for (index, size, want) in cases {
            let mut nodes: &[Hash] = &leaves[..size as usize];
            let proof = inclusion_proof(&mut nodes, index, size).unwrap();
            let want: Vec<Hash> = want.into_iter().map(h).collect();
            assert_eq!(proof, want, "inclusion({index}, {size})");
            assert!(verify_inclusion(
                index,
                size,
                &leaves[index as usize],
                &want,
                &h(ROOTS[size as usize - 1])
            ));
        }
    }

    #[test]
    fn consistency_proofs_match_the_published_vectors() {
        let leaves = vector_leaves();
        let cases: [(u64, u64, Vec<&str>); 4] = [
            (1, 1, vec![]),
            (
                1,
                8,
                vec![
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                vec![
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                5,
                vec![
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        for (old, new, want) in cases {
            let mut nodes: &[Hash] = &leaves[..new as usize];
            let proof = consistency_proof(&mut nodes, old, new).unwrap();
            let want: Vec<Hash> = want.into_iter().map(h).collect();
            assert_eq!(proof, want, "consistency({old}, {new})");
            assert!(verify_consistency(
                old,
                new,
                &h(ROOTS[old as usize - 1]),
                &h(ROOTS[new as usize - 1]),
                &want
            ));
        }
    }

    fn leaves(n: usize, seed: u8) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(&[seed, (i % 251) as u8, (i / 251) as u8]))
            .collect()
    }

    /// The frontier-driven append stores exactly the complete subtrees, so proofs from the stored
    /// nodes equal proofs from the leaves.
    fn appended(n: usize, batches: &[usize]) -> std::collections::HashMap<(u32, u64), Hash> {
        let all = leaves(n, 7);
        let mut store = std::collections::HashMap::new();
        let mut size = 0usize;
        let mut cuts = batches.iter().copied().cycle();
        while size < n {
            let take = cuts.next().unwrap_or(1).max(1).min(n - size);
            let made = append(size as u64, &all[size..size + take], &mut |l, i| {
                store.get(&(l, i)).copied()
            })
            .unwrap();
            for (l, i, hash) in made {
                assert!(store.insert((l, i), hash).is_none(), "a node made twice");
            }
            size += take;
        }
        store
    }

    #[test]
    fn the_compact_range_gives_every_root() {
        let all = leaves(70, 3);
        let mut c = Compact::default();
        assert_eq!(c.root(), empty_root());
        for (i, l) in all.iter().enumerate() {
            c.push(*l);
            assert_eq!(c.root(), root(&all[..=i]), "size {}", i + 1);
        }
    }

    proptest! {
        #[test]
        fn every_inclusion_proof_verifies_and_any_flipped_byte_fails(
            n in 1usize..300, pick in any::<u64>(), byte in 0usize..32, bit in 0u8..8,
        ) {
            let all = leaves(n, 1);
            let index = pick % n as u64;
            let mut nodes: &[Hash] = &all;
            let proof = inclusion_proof(&mut nodes, index, n as u64).unwrap();
            let r = root(&all);
            prop_assert!(verify_inclusion(index, n as u64, &all[index as usize], &proof, &r));
            let mut leaf = all[index as usize];
            leaf[byte] ^= 1 << bit;
            prop_assert!(!verify_inclusion(index, n as u64, &leaf, &proof, &r));
            let mut bad_root = r;
            bad_root[byte] ^= 1 << bit;
            prop_assert!(!verify_inclusion(index, n as u64, &all[index as usize], &proof, &bad_root));
            if !proof.is_empty() {
                let mut bad = proof.clone();
                let at = (pick as usize / 7) % bad.len();
                bad[at][byte] ^= 1 << bit;
                prop_assert!(!verify_inclusion(index, n as u64, &all[index as usize], &bad, &r));
            }
            if n > 1 {
                prop_assert!(!verify_inclusion((index + 1) % n as u64, n as u64, &all[index as usize], &proof, &r));
            }
        }

        #[test]
        fn every_consistency_proof_verifies_and_any_flipped_byte_fails(
            n in 1usize..300, pick in any::<u64>(), byte in 0usize..32, bit in 0u8..8,
        ) {
            let all = leaves(n, 2);
            let old = 1 + pick % n as u64;
            let mut nodes: &[Hash] = &all;
            let proof = consistency_proof(&mut nodes, old, n as u64).unwrap();
            let (r1, r2) = (root(&all[..old as usize]), root(&all));
            prop_assert!(verify_consistency(old, n as u64, &r1, &r2, &proof));
            let mut bad1 = r1;
            bad1[byte] ^= 1 << bit;
            prop_assert!(!verify_consistency(old, n as u64, &bad1, &r2, &proof));
            let mut bad2 = r2;
            bad2[byte] ^= 1 << bit;
            prop_assert!(!verify_consistency(old, n as u64, &r1, &bad2, &proof));
            if !proof.is_empty() {
                let mut bad = proof.clone();
                let at = (pick as usize / 7) % bad.len();
                bad[at][byte] ^= 1 << bit;
                prop_assert!(!verify_consistency(old, n as u64, &r1, &r2, &bad));
            }
        }

        #[test]
        fn proofs_from_stored_nodes_equal_proofs_from_leaves(
            n in 1usize..200, batches in proptest::collection::vec(1usize..40, 1..5), pick in any::<u64>(),
        ) {
            let all = leaves(n, 7);
            let mut stored = appended(n, &batches);
            // Exactly the complete subtrees: 2n - popcount(n) nodes.
            prop_assert_eq!(stored.len(), 2 * n - (n as u64).count_ones() as usize);
            let mut from_leaves: &[Hash] = &all;
            prop_assert_eq!(root_of(&mut stored, n as u64), root(&all));
            let index = pick % n as u64;
            prop_assert_eq!(
                inclusion_proof(&mut stored, index, n as u64),
                inclusion_proof(&mut from_leaves, index, n as u64)
            );
            let old = 1 + pick % n as u64;
            prop_assert_eq!(
                consistency_proof(&mut stored, old, n as u64),
                consistency_proof(&mut from_leaves, old, n as u64)
            );
            // The first pass names every node the second reads.
            let mut needed = Needed::default();
            let _ = inclusion_proof(&mut needed, index, n as u64);
            let mut only: std::collections::HashMap<(u32, u64), Hash> = needed
                .0
                .iter()
                .map(|k| (*k, stored[k]))
                .collect();
            prop_assert_eq!(
                inclusion_proof(&mut only, index, n as u64),
                inclusion_proof(&mut from_leaves, index, n as u64)
            );
            prop_assert!(needed.0.len() <= 2 * 64);
        }
    }
}
