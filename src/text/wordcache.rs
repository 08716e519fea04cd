//! A per-thread memo of the features a word yields on its own: its character n-grams and its
//! digit shape, about nine in ten of the features of short texts. Words repeat (most text is a
//! small vocabulary used over and over), so most words are hashed once per thread instead of
//! once per occurrence. Set-associative by the word's hash and bounded in memory; a hit is checked
//! against the word's bytes, so its features are exactly what computing them afresh gives.

use super::hash::{tail_le, u64_le};

/// Slots in the table (a power of two): 32,768 x 32 bytes, 1 MiB, in sets of `WAYS`. On 300,000
/// SMS lines (7,791 distinct words) a direct-mapped table of as many slots missed 5.3% of words,
/// nearly all of them frequent words evicting each other from a shared slot; four ways, kept in
/// order of last use, miss 0.3% (14,664 words computed afresh instead of 257,878), not much
/// more than each word's first sight.
const SLOTS: usize = 1 << 15;
/// Slots per set: four 32-byte slots, two cache lines.
const WAYS: usize = 4;
const SETS: usize = SLOTS / WAYS;
/// Longer words (addresses, encoded blobs, long compounds) are rarer and not kept; the word
/// lives in its slot, so a lookup reads one place before the features.
pub(crate) const MAX_WORD_BYTES: usize = 16;
/// When the features would grow past this the cache starts over (2 MiB).
const MAX_FEATURES: usize = 1 << 19;

/// What the cached features depend on besides the word: seed, index shift, character n-gram
/// lengths and digit shapes.
pub(crate) type CacheKey = (u64, u32, Option<[u32; 2]>, bool);

#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(32))]
struct Slot {
    hash: u64,
    word: [u8; MAX_WORD_BYTES],
    feat_start: u32,
    feat_len: u16,
    /// 0 marks an empty slot (words are never empty).
    word_len: u8,
}

impl Slot {
    #[inline(always)]
    fn holds(&self, hash: u64, word: &[u8]) -> bool {
        self.hash == hash && self.word_len as usize == word.len() && self.same_bytes(word)
    }

    /// Whether the slot's word is `word` (1 to `MAX_WORD_BYTES` bytes, the slot's length): two
    /// 8-byte compares, not a loop over bytes. The slot's word is zero-padded, so a word under
    /// 8 bytes compares with its first 8.
    #[inline(always)]
    fn same_bytes(&self, word: &[u8]) -> bool {
        let n = word.len();
        if n >= 8 {
            u64_le(&self.word) == u64_le(word)
                && u64_le(&self.word[n - 8..]) == u64_le(&word[n - 8..])
        } else {
            u64_le(&self.word) == tail_le(word)
        }
    }
}

/// One set's slots, most recently used first. Line-aligned: the first two ways, where nearly
/// every hit is, share one cache line.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(64))]
struct Set {
    ways: [Slot; WAYS],
}

impl Set {
    /// Moves `word` to the front if one of the older ways holds it. Out of line: most hits are
    /// on the front way.
    #[inline(never)]
    fn promote(&mut self, hash: u64, word: &[u8]) -> bool {
        match self.ways[1..].iter().position(|s| s.holds(hash, word)) {
            Some(k) => {
                self.ways[..=k + 1].rotate_right(1);
                true
            }
            None => false,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct WordCache {
    sets: Vec<Set>,
    features: Vec<u32>,
    key: Option<CacheKey>,
}

impl WordCache {
    /// Readies the cache for features computed under `key`, forgetting what other settings made.
    #[inline]
    pub(crate) fn prepare(&mut self, key: CacheKey) {
        if self.key != Some(key) {
            self.clear();
            self.key = Some(key);
        }
    }

    fn clear(&mut self) {
        self.sets.clear();
        self.sets.resize(SETS, Set::default());
        self.features.clear();
    }

    #[inline]
    fn set(hash: u64) -> usize {
        hash as usize & (SETS - 1)
    }

    /// The features cached for `word` (whose hash is `hash`; not empty), if any. A hit becomes
    /// its set's most recently used word.
    #[inline(always)]
    pub(crate) fn get(&mut self, hash: u64, word: &[u8]) -> Option<&[u32]> {
        debug_assert!(!word.is_empty());
        let set = self.sets.get_mut(Self::set(hash))?;
        if !set.ways[0].holds(hash, word) && !set.promote(hash, word) {
            return None;
        }
        let s = &set.ways[0];
        let f = s.feat_start as usize;
        Some(&self.features[f..f + s.feat_len as usize])
    }

    /// Starts loading the first line of the set a word hashing to `hash` would be in.
    #[inline(always)]
    pub(crate) fn prefetch_set(&self, hash: u64) {
        crate::prefetch::prefetch_at(&self.sets, Self::set(hash));
    }

    /// Starts loading the features cached for a word hashing to `hash`, if its set holds it.
    #[inline(always)]
    pub(crate) fn prefetch_features(&self, hash: u64) {
        let Some(set) = self.sets.get(Self::set(hash)) else {
            return;
        };
        if let Some(s) = set.ways.iter().find(|s| s.hash == hash) {
            let start = s.feat_start as usize;
            let end = start + s.feat_len as usize;
            // Every cache line of the features: 16 to a line.
            for f in self
                .features
                .get(start..end)
                .unwrap_or(&[])
                .iter()
                .step_by(16)
            {
                crate::prefetch::prefetch(f);
            }
        }
    }

    /// Keeps `features` for `word` as its set's most recently used, in place of the least.
    #[inline]
    pub(crate) fn put(&mut self, hash: u64, word: &[u8], features: &[u32]) {
        if word.is_empty() || word.len() > MAX_WORD_BYTES || features.len() > u16::MAX as usize {
            return;
        }
        if self.features.len() + features.len() > MAX_FEATURES {
            self.clear();
        }
        let mut slot = Slot {
            hash,
            word: [0; MAX_WORD_BYTES],
            feat_start: self.features.len() as u32,
            feat_len: features.len() as u16,
            word_len: word.len() as u8,
        };
        slot.word[..word.len()].copy_from_slice(word);
        self.features.extend_from_slice(features);
        let set = &mut self.sets[Self::set(hash)];
        set.ways.rotate_right(1);
        set.ways[0] = slot;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_only_the_same_word_and_settings() {
        let mut c = WordCache::default();
        let key = (0, 46, Some([1, 4]), true);
        c.prepare(key);
        assert_eq!(c.get(7, b"spam"), None);
        c.put(7, b"spam", &[1, 2, 3]);
        assert_eq!(c.get(7, b"spam"), Some(&[1u32, 2, 3][..]));
        // Same hash, other bytes (a collision): a miss, not the other word's features.
        assert_eq!(c.get(7, b"spat"), None);
        assert_eq!(c.get(7 + SETS as u64, b"spam"), None);
        // Words of 8 to 16 bytes are compared by their first and last eight.
        for word in [&b"abcdefgh"[..], b"abcdefghij", b"abcdefghijklmnop"] {
            c.put(9, word, &[4]);
            assert_eq!(c.get(9, word), Some(&[4u32][..]));
            let mut other = word.to_vec();
            for i in [0, word.len() / 2, word.len() - 1] {
                other[i] ^= 1;
                assert_eq!(c.get(9, &other), None, "{other:?}");
                other[i] ^= 1;
            }
        }
        // Other settings forget everything.
        c.prepare((1, 46, Some([1, 4]), true));
        assert_eq!(c.get(7, b"spam"), None);
    }

    #[test]
    fn a_full_set_evicts_its_least_recently_used_word() {
        let mut c = WordCache::default();
        c.prepare((0, 46, Some([1, 4]), true));
        // Five words of one set (their hashes differ above the set's bits).
        let hash = |k: u64| 7 + k * SETS as u64;
        let words: [&[u8]; 5] = [b"a", b"bb", b"ccc", b"dddd", b"eeeee"];
        for (k, w) in words.iter().enumerate().take(WAYS) {
            c.put(hash(k as u64), w, &[k as u32]);
        }
        for (k, w) in words.iter().enumerate().take(WAYS) {
            assert_eq!(c.get(hash(k as u64), w), Some(&[k as u32][..]));
        }
        // "a" was used longest ago; using it again makes "bb" the oldest, which the fifth
        // word then evicts.
        assert!(c.get(hash(0), words[0]).is_some());
        c.put(hash(4), words[4], &[4]);
        assert_eq!(c.get(hash(1), words[1]), None);
        for k in [0, 2, 3, 4] {
            assert_eq!(c.get(hash(k), words[k as usize]), Some(&[k as u32][..]));
        }
    }

    #[test]
    fn stays_bounded() {
        let mut c = WordCache::default();
        c.prepare((0, 46, None, true));
        let feats = vec![5u32; 200];
        for i in 0..20_000u64 {
            let word = format!("w{i:08}");
            assert!(word.len() <= MAX_WORD_BYTES);
            c.put(
                i.wrapping_mul(0x9e37_79b9_7f4a_7c15),
                word.as_bytes(),
                &feats,
            );
            assert!(c.features.len() <= MAX_FEATURES);
        }
        // The last word put is still there.
        let last = 19_999u64.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        assert_eq!(c.get(last, b"w00019999").map(<[u32]>::len), Some(200));
        // Words longer than the limit are not kept.
        c.put(1, &[b'x'; MAX_WORD_BYTES + 1], &[1]);
        assert_eq!(c.get(1, &[b'x'; MAX_WORD_BYTES + 1]), None);
    }
}
