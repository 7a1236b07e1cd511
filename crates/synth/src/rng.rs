//! A small deterministic random source on top of ChaCha8, seeded from (seed, chunk, stream).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub(crate) struct Rand(ChaCha8Rng);

impl Rand {
    pub(crate) fn new(seed: u64, chunk: u64, stream: u64) -> Self {
        let mut s = [0u8; 32];
        s[..8].copy_from_slice(&seed.to_le_bytes());
        s[8..16].copy_from_slice(&chunk.to_le_bytes());
        s[16..24].copy_from_slice(&stream.to_le_bytes());
        s[24..].copy_from_slice(b"SANADGEN");
        Rand(ChaCha8Rng::from_seed(s))
    }

    pub(crate) fn u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    /// Uniform in [0, 1).
    pub(crate) fn f64(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in 0..n (n > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u64::from(self.0.next_u32()) * n as u64) >> 32) as usize
    }

    /// Uniform in 0..n (n > 0), for large n.
    pub(crate) fn below_u64(&mut self, n: u64) -> u64 {
        ((u128::from(self.0.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in lo..=hi.
    pub(crate) fn range(&mut self, lo: i32, hi: i32) -> i32 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo + 1) as usize) as i32
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// Standard normal (Box–Muller).
    pub(crate) fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.f64();
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// round(mean + sd * N(0,1)) clamped to lo..=hi.
    pub(crate) fn normal_int(&mut self, mean: f64, sd: f64, lo: i32, hi: i32) -> i32 {
        ((mean + sd * self.normal()).round() as i32).clamp(lo, hi)
    }

    /// Poisson by inversion (small means).
    pub(crate) fn poisson(&mut self, mean: f64) -> u32 {
        let l = (-mean.max(0.0)).exp();
        let mut k = 0;
        let mut p = self.f64();
        while p > l && k < 30 {
            k += 1;
            p *= self.f64();
        }
        k
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index drawn with the given non-negative weights (the last index if they are all 0).
    pub(crate) fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.f64() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }

    /// Index of a spelling drawn with its frequency.
    pub(crate) fn spelling(&mut self, latin: &[(&str, u16)]) -> u8 {
        if latin.len() == 1 {
            return 0;
        }
        let total: u32 = latin.iter().map(|(_, w)| u32::from(*w)).sum();
        let mut x = self.below(total as usize) as u32;
        for (i, (_, w)) in latin.iter().enumerate() {
            if x < u32::from(*w) {
                return i as u8;
            }
            x -= u32::from(*w);
        }
        0
    }
}

pub(crate) fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Cumulative integer weights, sampled by binary search.
pub(crate) struct Cumulative {
    cum: Vec<u64>,
}

impl Cumulative {
    pub(crate) fn new(weights: impl IntoIterator<Item = u64>) -> Self {
        let mut total = 0u64;
        let cum = weights
            .into_iter()
            .map(|w| {
                total += w;
                total
            })
            .collect();
        Cumulative { cum }
    }

    /// The weight of item `i` (0 past the end).
    pub(crate) fn weight(&self, i: usize) -> u64 {
        match i {
            0 => self.cum.first().copied().unwrap_or(0),
            _ => match (self.cum.get(i), self.cum.get(i - 1)) {
                (Some(c), Some(p)) => c - p,
                _ => 0,
            },
        }
    }

    pub(crate) fn total(&self) -> u64 {
        self.cum.last().copied().unwrap_or(0)
    }

    pub(crate) fn sample(&self, rng: &mut Rand) -> usize {
        let total = self.total();
        if total == 0 {
            return 0;
        }
        let x = rng.below_u64(total);
        self.cum.partition_point(|&c| c <= x)
    }
}
