//! Seeded randomness. Every shuffle and split docclass makes (hold-out sets, folds, benchmark
//! corpora) draws from SplitMix64 seeded with `SEED` unless the caller passes its own seed, so
//! results are identical on every machine and run.

/// The project's one seed (also the seed of the shared data sets' splits).
pub const SEED: u64 = 20261129;

/// A tiny seeded generator (SplitMix64) for shuffles that must be identical everywhere.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}
