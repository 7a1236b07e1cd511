//! CNIE numbers: one or two letters tied to the place of issue, then 4 to 6 digits.
//!
//! Numbers are issued in order from a counter per (letters, length) through a fixed bijection of the
//! number space, so they look scattered yet are unique by construction; mistyped numbers given to
//! duplicates are checked against the counters and remembered, and the counters skip them.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use crate::rng::Rand;

/// Letters of issue by region (`01`..`12`).
const REGION_PREFIXES: [&[&str]; 12] = [
    &["K", "KA", "KB", "L", "LA", "LB", "R"],
    &["F", "FA", "FB", "FC", "S", "SA"],
    &["C", "CB", "CD", "D", "DA", "DN", "Z"],
    &["A", "AA", "AB", "AD", "AE", "G", "GA", "GK", "X"],
    &["I", "IA", "IB", "P", "PA", "W"],
    &[
        "B", "BA", "BB", "BE", "BH", "BJ", "BK", "BL", "BM", "M", "MA", "N", "T",
    ],
    &["E", "EA", "EB", "EE", "H", "HA"],
    &["U", "UA", "UB", "V", "VA"],
    &["J", "JA", "JB", "JC", "JE", "JK"],
    &["JF", "JG", "JH"],
    &["SH", "SJ", "SL"],
    &["SK", "VD"],
];

/// A CNIE number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Nid {
    prefix: u16,
    digits: u8,
    number: u32,
}

impl Nid {
    pub(crate) fn write(self, out: &mut Vec<u8>, prefixes: &Prefixes) {
        out.extend_from_slice(prefixes.names[self.prefix as usize].as_bytes());
        let mut n = self.number;
        let start = out.len();
        for _ in 0..self.digits {
            out.push(b'0' + (n % 10) as u8);
            n /= 10;
        }
        out[start..].reverse();
    }
}

/// All letter prefixes, flattened.
pub(crate) struct Prefixes {
    names: Vec<&'static str>,
    by_region: Vec<Vec<u16>>,
}

impl Prefixes {
    pub(crate) fn new() -> Self {
        let mut names = Vec::new();
        let mut by_region = Vec::new();
        for list in REGION_PREFIXES {
            let mut ids = Vec::new();
            for p in list {
                ids.push(names.len() as u16);
                names.push(*p);
            }
            by_region.push(ids);
        }
        Prefixes { names, by_region }
    }

    fn find(&self, name: &str) -> Option<u16> {
        self.names.iter().position(|n| *n == name).map(|i| i as u16)
    }
}

const MODULI: [u64; 3] = [10_000, 100_000, 1_000_000];
const MULTIPLIERS: [u64; 3] = [3_779, 38_113, 381_323];

fn slot(digits: u8) -> usize {
    (digits.clamp(4, 6) - 4) as usize
}

fn inverse(a: u64, m: u64) -> u64 {
    // Extended Euclid; a and m are coprime.
    let (mut t, mut new_t) = (0i64, 1i64);
    let (mut r, mut new_r) = (m as i64, a as i64);
    while new_r != 0 {
        let q = r / new_r;
        (t, new_t) = (new_t, t - q * new_t);
        (r, new_r) = (new_r, r - q * new_r);
    }
    if t < 0 {
        t += m as i64;
    }
    t as u64
}

#[derive(Default)]
struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Issues CNIE numbers; used sequentially, in file order.
pub(crate) struct NidRegistry {
    pub prefixes: Prefixes,
    counters: Vec<[u64; 3]>,
    inverses: [u64; 3],
    /// Numbers handed out outside the counters (mistyped copies).
    extra: HashSet<u64, BuildHasherDefault<Fx>>,
}

/// Which CNIE a person should get: its length and a random draw for the letters.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NidRequest {
    pub region: u8,
    pub digits: u8,
    pub pick: u16,
}

impl NidRegistry {
    pub(crate) fn new() -> Self {
        let prefixes = Prefixes::new();
        let counters = vec![[0; 3]; prefixes.names.len()];
        let inverses = [0, 1, 2].map(|i| inverse(MULTIPLIERS[i], MODULI[i]));
        NidRegistry {
            prefixes,
            counters,
            inverses,
            extra: HashSet::default(),
        }
    }

    fn offset(prefix: u16, s: usize) -> u64 {
        (u64::from(prefix) * 7_919 + 104_729 * (s as u64 + 1)) % MODULI[s]
    }

    fn number(prefix: u16, s: usize, counter: u64) -> u32 {
        ((MULTIPLIERS[s] * counter + Self::offset(prefix, s)) % MODULI[s]) as u32
    }

    fn key(nid: Nid) -> u64 {
        (u64::from(nid.prefix) << 40) | (u64::from(nid.digits) << 32) | u64::from(nid.number)
    }

    /// Whether a number was already handed out.
    pub(crate) fn is_taken(&self, nid: Nid) -> bool {
        let s = slot(nid.digits);
        let m = MODULI[s];
        let counter = (self.inverses[s]
            * ((u64::from(nid.number) + m - Self::offset(nid.prefix, s)) % m))
            % m;
        counter < self.counters[nid.prefix as usize][s] || self.extra.contains(&Self::key(nid))
    }

    fn next_in(&mut self, prefix: u16, digits: u8) -> Option<Nid> {
        let s = slot(digits);
        loop {
            let c = self.counters[prefix as usize][s];
            if c >= MODULI[s] {
                return None;
            }
            self.counters[prefix as usize][s] = c + 1;
            let nid = Nid {
                prefix,
                digits: digits.clamp(4, 6),
                number: Self::number(prefix, s, c),
            };
            if self.extra.is_empty() || !self.extra.contains(&Self::key(nid)) {
                return Some(nid);
            }
        }
    }

    /// A new number; `None` only once the whole number space is used.
    pub(crate) fn issue(&mut self, req: NidRequest) -> Option<Nid> {
        let region = &self.prefixes.by_region[req.region.min(11) as usize];
        let n = region.len();
        let start = req.pick as usize % n;
        let candidates: Vec<u16> = (0..n).map(|i| region[(start + i) % n]).collect();
        for p in candidates {
            if let Some(nid) = self.next_in(p, req.digits) {
                return Some(nid);
            }
            if req.digits != 6
                && let Some(nid) = self.next_in(p, 6)
            {
                return Some(nid);
            }
        }
        for p in 0..self.prefixes.names.len() as u16 {
            if let Some(nid) = self.next_in(p, 6) {
                return Some(nid);
            }
        }
        None
    }

    /// A mistyped copy of `nid` that nobody holds: a wrong digit, two digits swapped or a wrong
    /// letter. `None` if no such copy was found after a few tries.
    pub(crate) fn mistype(&mut self, nid: Nid, rng: &mut Rand) -> Option<Nid> {
        for _ in 0..16 {
            let mut cand = nid;
            let mut digits: Vec<u8> = Vec::with_capacity(6);
            let mut n = nid.number;
            for _ in 0..nid.digits {
                digits.push((n % 10) as u8);
                n /= 10;
            }
            digits.reverse();
            match rng.below(10) {
                0..=5 => {
                    let i = rng.below(digits.len());
                    digits[i] = (digits[i] + 1 + rng.below(9) as u8) % 10;
                }
                6..=8 => {
                    let i = rng.below(digits.len() - 1);
                    digits.swap(i, i + 1);
                }
                _ => {
                    let name = self.prefixes.names[nid.prefix as usize];
                    let other = if name.len() == 2 && rng.chance(0.5) {
                        self.prefixes.find(&name[..1])
                    } else {
                        let region = self
                            .prefixes
                            .by_region
                            .iter()
                            .find(|r| r.contains(&nid.prefix));
                        region.map(|r| *rng.pick(r))
                    };
                    if let Some(p) = other {
                        cand.prefix = p;
                    }
                }
            }
            cand.number = digits.iter().fold(0u32, |acc, d| acc * 10 + u32::from(*d));
            if cand != nid && !self.is_taken(cand) {
                self.extra.insert(Self::key(cand));
                return Some(cand);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_a_bijection_and_is_taken_matches() {
        let mut reg = NidRegistry::new();
        let req = NidRequest {
            region: 5,
            digits: 4,
            pick: 0,
        };
        let mut seen = HashSet::new();
        for _ in 0..10_000 {
            let nid = reg.issue(req).unwrap();
            assert!(seen.insert(Nid { ..nid }.number as u64 | (u64::from(nid.prefix) << 32)));
            assert!(reg.is_taken(nid));
        }
        // The first prefix of the region is full: the next one goes to the second prefix (or 6 digits).
        let next = reg.issue(req).unwrap();
        assert!(next.prefix != 0 || next.digits == 6);
        let mut rng = Rand::new(1, 2, 3);
        let mut out = Vec::new();
        for _ in 0..100 {
            let nid = reg.issue(NidRequest {
                region: 0,
                digits: 6,
                pick: 3,
            });
            let nid = nid.unwrap();
            if let Some(typo) = reg.mistype(nid, &mut rng) {
                assert!(reg.is_taken(typo));
                assert_ne!(typo, nid);
                out.clear();
                typo.write(&mut out, &reg.prefixes);
                assert!(out.len() >= 5);
            }
        }
    }
}
