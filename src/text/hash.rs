//! Hashing vectorizer: tokens → word n-grams, character n-grams inside words and digit shapes →
//! hashed feature indices (no vocabulary to store, fixed memory) → term frequencies, optional
//! sublinear scaling and IDF weighting → L2 normalisation. The settings travel inside every model
//! (`FeatureSpec`), so classification rebuilds exactly the features training saw.

use serde::{Deserialize, Serialize};

use super::tokenize::{Token, Tokenizer};
use super::wordcache::{WordCache, MAX_WORD_BYTES};
use crate::error::{Error, Param, Result};

/// Longest word n-gram supported.
pub const MAX_WORD_NGRAM: u32 = 4;
/// Feature spaces up to this size count occurrences in a dense byte array (4 MiB per thread).
const DENSE_COUNT_MAX_LOG2: u32 = 22;
/// Longest character n-gram supported.
pub const MAX_CHAR_NGRAM: u32 = 8;

/// How text becomes a feature vector. Stored verbatim in the model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSpec {
    /// The vector has `2^n_features_log2` dimensions.
    pub n_features_log2: u32,
    pub lowercase: bool,
    /// Single non-alphanumeric characters count as tokens.
    pub symbols: bool,
    /// Word n-grams from 1 up to this length (0 turns word features off).
    pub word_ngrams: u32,
    /// Character n-grams of these lengths inside each word padded with spaces (`char_wb`).
    pub char_ngrams: Option<[u32; 2]>,
    /// Words holding digits also emit their shape (`£1000` → `a0000`), so unseen numbers generalise.
    pub digit_shapes: bool,
    /// Term frequency `tf` becomes `1 + ln(tf)`.
    pub sublinear_tf: bool,
    /// Weight features by smoothed inverse document frequency learned at training time.
    pub idf: bool,
    /// Scale every vector to unit Euclidean length.
    pub l2_normalize: bool,
    /// Seed mixed into every hash.
    pub seed: u64,
    /// Training also scales each feature's IDF weight by how well it tells the labels apart (its
    /// largest |log-count ratio| of one label against the rest, as NB-SVM). The product is what
    /// the model stores as IDF, so classification does exactly the same work.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub label_weighting: bool,
}

impl Default for FeatureSpec {
    fn default() -> Self {
        FeatureSpec {
            n_features_log2: 18,
            lowercase: true,
            symbols: true,
            word_ngrams: 2,
            char_ngrams: Some([1, 4]),
            digit_shapes: true,
            sublinear_tf: true,
            idf: true,
            l2_normalize: true,
            seed: 0,
            label_weighting: false,
        }
    }
}

impl FeatureSpec {
    /// Number of dimensions.
    pub fn n_features(&self) -> usize {
        1usize << self.n_features_log2
    }

    /// Checks every setting, naming the first one out of range.
    pub fn validate(&self) -> Result<()> {
        if !(8..=26).contains(&self.n_features_log2) {
            return Err(Error::param(
                Param::NFeaturesLog2,
                self.n_features_log2,
                "8..=26",
            ));
        }
        if self.word_ngrams > MAX_WORD_NGRAM {
            return Err(Error::param(
                Param::WordNgrams,
                self.word_ngrams,
                format!("0..={MAX_WORD_NGRAM}"),
            ));
        }
        if let Some([lo, hi]) = self.char_ngrams {
            if lo == 0 || lo > hi || hi > MAX_CHAR_NGRAM {
                return Err(Error::param(
                    Param::CharNgrams,
                    format!("{lo}-{hi}"),
                    format!("MIN-MAX with 1 <= MIN <= MAX <= {MAX_CHAR_NGRAM}"),
                ));
            }
        }
        if self.word_ngrams == 0 && self.char_ngrams.is_none() && !self.digit_shapes {
            return Err(Error::missing(
                Param::FeatureKinds,
                "at least one feature kind; enable word or character n-grams",
            ));
        }
        Ok(())
    }

    fn tokenizer(&self) -> Tokenizer {
        Tokenizer {
            lowercase: self.lowercase,
            symbols: self.symbols,
        }
    }
}

/// A sparse vector: distinct indices (in order of first occurrence) with their values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseVec {
    pub idx: Vec<u32>,
    pub val: Vec<f32>,
}

impl SparseVec {
    pub fn clear(&mut self) {
        self.idx.clear();
        self.val.clear();
    }

    pub fn len(&self) -> usize {
        self.idx.len()
    }

    pub fn is_empty(&self) -> bool {
        self.idx.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (u32, f32)> + '_ {
        self.idx.iter().copied().zip(self.val.iter().copied())
    }
}

/// Buffers reused from one document to the next, one per worker thread.
#[derive(Debug, Default)]
pub struct VectorizerScratch {
    word: String,
    padded: Vec<u8>,
    raw: Vec<u32>,
    /// A word's own features, computed afresh.
    fresh: Vec<u32>,
    /// The document's lower-cased words, one after another (other tokens stay in the text).
    token_text: String,
    tokens: Vec<TokenSpan>,
    /// Open-addressing table for counting: feature index per slot (`u32::MAX` when empty) and
    /// its position in the output.
    keys: Vec<u32>,
    slots: Vec<u32>,
    /// Dense per-feature counts up to 255 (all zero between documents).
    counts: Vec<u8>,
    /// Occurrences past 255, per feature: allocated the first time a document needs it (long
    /// documents), zero between documents.
    spill: Vec<u32>,
    /// Features of words seen before.
    cache: WordCache,
    /// `for_each_term_frequency`'s distinct features (dense counting) or term frequencies
    /// (table counting).
    distinct: Vec<u32>,
    table_tf: SparseVec,
}

/// One token of the document being hashed.
#[derive(Debug, Clone, Copy)]
struct TokenSpan {
    start: usize,
    end: usize,
    hash: u64,
    is_word: bool,
    /// Where `start..end` points: into the text, or (lower-cased words) into `token_text`.
    in_text: bool,
}

/// Turns text into `SparseVec`s as its `FeatureSpec` says. Cheap to share across threads.
#[derive(Debug, Clone, PartialEq)]
pub struct HashingVectorizer {
    spec: FeatureSpec,
    /// Per-feature IDF weights when `spec.idf` is on; empty otherwise.
    idf: Vec<f32>,
}

const NS_WORD: u64 = 0x9e37_79b9_7f4a_7c15;
const NS_NGRAM: u64 = 0xc2b2_ae3d_27d4_eb4f;
const NS_CHAR: u64 = 0x1656_67b1_9e37_79f9;
const NS_SHAPE: u64 = 0x27d4_eb2f_1656_67c5;

/// `1 + ln(tf)`, from a table for the small counts that make up nearly all of them.
#[inline]
pub(crate) fn sublinear(tf: f32) -> f32 {
    const TABLE: [f32; 9] = [
        0.0,
        1.0,
        1.693_147_2,
        2.098_612_3,
        2.386_294_4,
        2.609_438,
        2.791_759_5,
        2.945_910_1,
        3.079_441_5,
    ];
    let i = tf as usize;
    if i < TABLE.len() && i as f32 == tf {
        TABLE[i]
    } else {
        1.0 + tf.ln()
    }
}

#[inline]
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

/// A fast, platform-independent 64-bit hash of a byte string (8 bytes per step, then a final mix).
#[inline]
pub fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = seed ^ (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        h = (h ^ u64_le(c)).wrapping_mul(K).rotate_left(29);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        h = (h ^ tail_le(rest)).wrapping_mul(K).rotate_left(29);
    }
    fmix64(h)
}

/// The first 8 bytes of `bytes` (at least 8) as a little-endian number.
#[inline(always)]
pub(crate) fn u64_le(bytes: &[u8]) -> u64 {
    u64::from_le_bytes([
        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
    ])
}

/// The 1 to 7 bytes of `rest` as a little-endian number (zero-padded), from two overlapping
/// loads instead of a copy into a padded buffer (a memcpy call per word).
#[inline(always)]
pub(crate) fn tail_le(rest: &[u8]) -> u64 {
    let n = rest.len();
    debug_assert!((1..8).contains(&n));
    if n >= 4 {
        let lo = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as u64;
        let hi = u32::from_le_bytes([rest[n - 4], rest[n - 3], rest[n - 2], rest[n - 1]]) as u64;
        lo | hi << (8 * (n - 4))
    } else if n >= 2 {
        let lo = u16::from_le_bytes([rest[0], rest[1]]) as u64;
        let hi = u16::from_le_bytes([rest[n - 2], rest[n - 1]]) as u64;
        lo | hi << (8 * (n - 2))
    } else {
        rest[0] as u64
    }
}

#[inline]
fn combine(a: u64, b: u64) -> u64 {
    fmix64(a.rotate_left(17) ^ b ^ NS_NGRAM)
}

impl HashingVectorizer {
    /// A vectorizer without IDF weights (or before they are learned).
    pub fn new(spec: FeatureSpec) -> Result<Self> {
        spec.validate()?;
        Ok(HashingVectorizer {
            spec,
            idf: Vec::new(),
        })
    }

    /// A vectorizer with learned IDF weights; `idf.len()` must equal the number of features.
    pub fn with_idf(spec: FeatureSpec, idf: Vec<f32>) -> Result<Self> {
        spec.validate()?;
        if spec.idf && idf.len() != spec.n_features() {
            return Err(Error::Inconsistent {
                what: "idf",
                reason: format!(
                    "expected {} weights for 2^{} features, got {}",
                    spec.n_features(),
                    spec.n_features_log2,
                    idf.len()
                ),
            });
        }
        Ok(HashingVectorizer {
            idf: if spec.idf { idf } else { Vec::new() },
            spec,
        })
    }

    pub fn spec(&self) -> &FeatureSpec {
        &self.spec
    }

    pub fn idf(&self) -> &[f32] {
        &self.idf
    }

    /// Hashes every feature occurrence of `text` into `raw` (unsorted, with repeats).
    pub fn hash_into(&self, text: &str, scratch: &mut VectorizerScratch) {
        let mut raw = std::mem::take(&mut scratch.raw);
        raw.clear();
        self.features_into(text, scratch, &mut raw);
        scratch.raw = raw;
    }

    /// Passes every feature occurrence of `text` to `sink`, in a fixed order: per token, its
    /// word n-grams ending there, its character n-grams, its digit shape. The order matters: it
    /// is the order of first occurrence, which the floating-point sums follow.
    ///
    /// Not inlined: a function of its own, it leaves its caller's loop over the distinct
    /// features (scoring) enough registers to keep its state out of the stack.
    #[inline(never)]
    fn features_into<S: Sink>(&self, text: &str, scratch: &mut VectorizerScratch, sink: &mut S) {
        let spec = &self.spec;
        let shift = 64 - spec.n_features_log2;
        let seed = spec.seed;
        let VectorizerScratch {
            word,
            padded,
            fresh,
            cache,
            tokens,
            token_text,
            ..
        } = scratch;
        let per_word = spec.char_ngrams.is_some() || spec.digit_shapes;
        cache.prepare((seed, shift, spec.char_ngrams, spec.digit_shapes));
        // First every token and its hash, loading each word's cache set as it is found; the
        // sets are then ready when the second pass reads them.
        tokens.clear();
        token_text.clear();
        spec.tokenizer().for_each_token(text, word, |token| {
            let (t, is_word) = match token {
                Token::Word(w) => (w, true),
                Token::Symbol(s) => (s, false),
            };
            let hash = hash_bytes(seed ^ NS_WORD, t.as_bytes());
            if is_word && per_word {
                cache.prefetch_set(hash);
            }
            // Most tokens are slices of the text itself; only lower-cased words are copied.
            let offset = (t.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
            let in_text = offset < text.len();
            let start = if in_text {
                offset
            } else {
                token_text.push_str(t);
                token_text.len() - t.len()
            };
            tokens.push(TokenSpan {
                start,
                end: start + t.len(),
                hash,
                is_word,
                in_text,
            });
        });
        let n_words = spec.word_ngrams as usize;
        let mut history = [0u64; MAX_WORD_NGRAM as usize];
        let mut seen = 0usize;
        for (k, t) in tokens.iter().enumerate() {
            if let Some(next) = tokens.get(k + 1) {
                if next.is_word && per_word {
                    cache.prefetch_features(next.hash);
                }
            }
            let h = t.hash;
            // The word n-grams ending at this token.
            let mut grams = [0u32; MAX_WORD_NGRAM as usize];
            let mut n_grams = 0;
            if n_words > 0 {
                grams[0] = (h >> shift) as u32;
                n_grams = 1;
                let mut g = h;
                for prev in history.iter().take(seen.min(n_words - 1)) {
                    g = combine(*prev, g);
                    grams[n_grams] = (g >> shift) as u32;
                    n_grams += 1;
                }
                // Shift the last words along (a loop: `copy_within` calls memmove per token).
                for i in (1..=n_words.saturating_sub(2)).rev() {
                    history[i] = history[i - 1];
                }
                history[0] = h;
                seen += 1;
            }
            let grams = &grams[..n_grams];
            if !t.is_word || !per_word {
                sink.token(grams, &[]);
                continue;
            }
            let source = if t.in_text { text } else { &token_text[..] };
            // Bytes for the lookup (a `str` slice would check both ends are char boundaries).
            let bytes = &source.as_bytes()[t.start..t.end];
            let cacheable = bytes.len() <= MAX_WORD_BYTES;
            if cacheable {
                if let Some(features) = cache.get(h, bytes) {
                    sink.token(grams, features);
                    continue;
                }
            }
            let w = &source[t.start..t.end];
            fresh.clear();
            if let Some([lo, hi]) = spec.char_ngrams {
                char_ngrams(w, lo as usize, hi as usize, seed, shift, padded, fresh);
            }
            if spec.digit_shapes && w.bytes().any(|b| b.is_ascii_digit()) {
                padded.clear();
                padded.extend(
                    w.chars()
                        .take(16)
                        .map(|c| if c.is_ascii_digit() { b'0' } else { b'a' }),
                );
                fresh.push((hash_bytes(seed ^ NS_SHAPE, padded) >> shift) as u32);
            }
            if cacheable {
                cache.put(h, bytes, fresh);
            }
            sink.token(grams, fresh);
        }
    }

    /// Vectorizes `text` into `out`, reusing `scratch`; allocates nothing once buffers have grown.
    pub fn vectorize_into(&self, text: &str, scratch: &mut VectorizerScratch, out: &mut SparseVec) {
        self.term_frequencies_into(text, scratch, out);
        self.weigh(out);
    }

    /// First half of `vectorize_into`: distinct features (in order of first occurrence) with their
    /// (sublinear) term frequency, before IDF and normalisation. Training keeps these to learn IDF
    /// weights per data split.
    pub fn term_frequencies_into(
        &self,
        text: &str,
        scratch: &mut VectorizerScratch,
        out: &mut SparseVec,
    ) {
        out.clear();
        if self.dense() {
            let SparseVec { idx, val } = out;
            let n = self.count_dense(text, scratch, idx, |_| {}, |_, tf| val.push(tf));
            idx.truncate(n);
            return;
        }
        self.count_sparse(text, scratch, out, |_| {});
    }

    /// `term_frequencies_into` without the output vector: `each(feature, tf)` for every distinct
    /// feature in order of first occurrence, and `touch` with every occurrence while counting.
    /// Scoring uses `touch` to start loading a feature's weights before `each` needs them.
    #[inline]
    pub fn for_each_term_frequency<T: FnMut(u32), E: FnMut(u32, f32)>(
        &self,
        text: &str,
        scratch: &mut VectorizerScratch,
        touch: T,
        mut each: E,
    ) {
        if self.dense() {
            let mut distinct = std::mem::take(&mut scratch.distinct);
            self.count_dense(text, scratch, &mut distinct, touch, each);
            scratch.distinct = distinct;
            return;
        }
        let mut tf = std::mem::take(&mut scratch.table_tf);
        self.count_sparse(text, scratch, &mut tf, touch);
        tf.iter().for_each(|(j, v)| each(j, v));
        scratch.table_tf = tf;
    }

    /// Whether counting goes through the dense byte array (`count_dense`).
    fn dense(&self) -> bool {
        self.spec.n_features_log2 <= DENSE_COUNT_MAX_LOG2
    }

    /// Counting for feature spaces too large for `count_dense`: the occurrences are listed, then
    /// counted through a small hash table.
    fn count_sparse<T: FnMut(u32)>(
        &self,
        text: &str,
        scratch: &mut VectorizerScratch,
        out: &mut SparseVec,
        touch: T,
    ) {
        out.clear();
        self.hash_into(text, scratch);
        scratch.raw.iter().copied().for_each(touch);
        count_table(scratch, out);
        if self.spec.sublinear_tf {
            for v in out.val.iter_mut() {
                if *v > 1.0 {
                    *v = sublinear(*v);
                }
            }
        }
    }

    /// Second half of `vectorize_into`: IDF weighting (when learned) and L2 normalisation.
    pub fn weigh(&self, out: &mut SparseVec) {
        if !self.idf.is_empty() {
            for (v, &j) in out.val.iter_mut().zip(&out.idx) {
                *v *= self.idf[j as usize];
            }
        }
        if self.spec.l2_normalize {
            let norm = out.val.iter().map(|v| v * v).sum::<f32>().sqrt();
            if norm > 0.0 {
                let inv = 1.0 / norm;
                out.val.iter_mut().for_each(|v| *v *= inv);
            }
        }
    }

    /// Convenience for tests and one-off calls.
    pub fn vectorize(&self, text: &str) -> SparseVec {
        let mut scratch = VectorizerScratch::default();
        let mut out = SparseVec::default();
        self.vectorize_into(text, &mut scratch, &mut out);
        out
    }
}

impl HashingVectorizer {
    /// Hashes `text` and counts its features as they come, with a per-thread byte array indexed
    /// by feature: no probing, no list of occurrences, and no data-dependent branches (every
    /// occurrence is written to `distinct`, and the write is kept only when the feature's count
    /// was zero). Occurrences past 255 go to a second, wider counter per feature. Then calls
    /// `each(feature, tf)` for the distinct features in order, zeroing their counters. Returns
    /// how many there are: the first that many of `distinct` (which may be longer).
    #[inline]
    fn count_dense<T: FnMut(u32), E: FnMut(u32, f32)>(
        &self,
        text: &str,
        scratch: &mut VectorizerScratch,
        distinct: &mut Vec<u32>,
        touch: T,
        mut each: E,
    ) -> usize {
        let n_features = self.spec.n_features();
        let mut counts = std::mem::take(&mut scratch.counts);
        let mut spill = std::mem::take(&mut scratch.spill);
        if counts.len() != n_features {
            counts.clear();
            counts.resize(n_features, 0);
            spill.clear();
        }
        // `distinct` is room to write into, its length kept from one document to the next (a
        // document's distinct features are its first `n`): cutting it to size per document
        // made the next one grow it again, a memset per document.
        if distinct.len() < 256 {
            distinct.resize(256, 0);
        }
        let mut counter = DenseCounter {
            counts: &mut counts,
            idx: distinct,
            n: 0,
            spill: &mut spill,
            touch,
        };
        self.features_into(text, scratch, &mut counter);
        let n = counter.n;
        let sublinear_tf = self.spec.sublinear_tf;
        let table: &[f32; 256] = &SUBLINEAR_OF_BYTE;
        // As in `DenseCounter::count_all`: masking a feature changes nothing, and drops a check.
        let mask = counts.len() - 1;
        let table_counts = &mut counts[..=mask];
        for &j in &distinct[..n] {
            let c = std::mem::take(&mut table_counts[j as usize & mask]);
            let tf = if c == u8::MAX && !spill.is_empty() {
                let tf = (u8::MAX as u32 + std::mem::take(&mut spill[j as usize])) as f32;
                if sublinear_tf {
                    sublinear(tf)
                } else {
                    tf
                }
            } else if sublinear_tf {
                table[c as usize]
            } else {
                c as f32
            };
            each(j, tf);
        }
        scratch.counts = counts;
        scratch.spill = spill;
        n
    }
}

/// Where hashing puts each feature occurrence: a list, or a counter.
trait Sink {
    /// One token's features: the word n-grams ending at it, then its own (character n-grams
    /// and digit shape).
    fn token(&mut self, grams: &[u32], own: &[u32]);
}

impl Sink for Vec<u32> {
    #[inline(always)]
    fn token(&mut self, grams: &[u32], own: &[u32]) {
        // One or two word n-grams: pushed, not copied by a memcpy call.
        grams.iter().for_each(|&g| self.push(g));
        self.extend_from_slice(own);
    }
}

/// Counts occurrences as they are hashed (see `count_dense`); `touch` sees every occurrence.
struct DenseCounter<'a, T> {
    counts: &'a mut [u8],
    /// Distinct features in order of first occurrence: the first `n`; the rest is room.
    idx: &'a mut Vec<u32>,
    n: usize,
    spill: &'a mut Vec<u32>,
    touch: T,
}

impl<T: FnMut(u32)> DenseCounter<'_, T> {
    /// Counts a token's features. Inlined into the hashing pass, which is kept out of scoring
    /// (see `features_into`): inlined into both at once, this loop had its state (even `n`, a
    /// dependency from one feature to the next) spilled to the stack for lack of registers.
    #[inline(always)]
    fn count_all(&mut self, grams: &[u32], own: &[u32]) {
        let need = self.n + grams.len() + own.len();
        if self.idx.len() < need {
            self.idx.resize(need.max(self.idx.len() * 2), 0);
        }
        let idx = &mut self.idx[..need];
        // Features are below the table's length, a power of two: masking them changes nothing
        // and lets the compiler drop the bounds check.
        let mask = self.counts.len() - 1;
        let counts = &mut self.counts[..=mask];
        let touch = &mut self.touch;
        let mut n = self.n;
        let spill = &mut *self.spill;
        let mut count = |j: u32| {
            // Masked once and used masked everywhere (the same number), so one register holds it.
            let j = j as usize & mask;
            // What `touch` starts loading (the scoring weights) is needed only once the whole
            // document is counted. (Prefetching the counters as well, a loop ahead, measured
            // slower: they live in the second-level cache.)
            touch(j as u32);
            debug_assert!(n < idx.len());
            // SAFETY: `idx` has `self.n + grams.len() + own.len()` elements and `n` grows by
            // at most one per feature, so it stays below that. (The checked write costs a
            // compare and a branch per feature occurrence, the hottest loop there is.)
            unsafe { *idx.get_unchecked_mut(n) = j as u32 };
            let c = &mut counts[j];
            // Incremented first, checked after: the increment's own flags say whether it wrapped.
            let counted = c.wrapping_add(1);
            *c = counted;
            n += usize::from(counted == 1);
            if counted == 0 {
                *c = u8::MAX;
                spill_one(spill, mask + 1, j as u32);
            }
        };
        // Two loops, not a chained iterator, which would test which half it is in per feature;
        // two features per step for a feature's own, most of them.
        grams.iter().for_each(|&j| count(j));
        let mut pairs = own.chunks_exact(2);
        for p in &mut pairs {
            count(p[0]);
            count(p[1]);
        }
        pairs.remainder().iter().for_each(|&j| count(j));
        self.n = n;
    }
}

/// One more occurrence of a feature already counted 255 times.
#[cold]
fn spill_one(spill: &mut Vec<u32>, n_features: usize, j: u32) {
    if spill.is_empty() {
        spill.resize(n_features, 0);
    }
    spill[j as usize] += 1;
}

impl<T: FnMut(u32)> Sink for DenseCounter<'_, T> {
    #[inline(always)]
    fn token(&mut self, grams: &[u32], own: &[u32]) {
        self.count_all(grams, own);
    }
}

/// `sublinear` of every count a counter byte holds, so counting needs no second pass.
static SUBLINEAR_OF_BYTE: std::sync::LazyLock<[f32; 256]> =
    std::sync::LazyLock::new(|| std::array::from_fn(|c| sublinear(c as f32)));

/// Counts occurrences through a small open-addressing table (twice the occurrences, a power of
/// two), for feature spaces too large for `count_dense`.
fn count_table(scratch: &mut VectorizerScratch, out: &mut SparseVec) {
    let VectorizerScratch {
        raw, keys, slots, ..
    } = scratch;
    // Counting through a small open-addressing table (twice the occurrences, a power of two)
    // is several times faster than sorting the occurrences. Indices are hash bits already, so
    // their low bits serve as the home slot.
    let cap = (raw.len() * 2).next_power_of_two().max(16);
    if keys.len() < cap {
        keys.resize(cap, u32::MAX);
        slots.resize(cap, 0);
    }
    let mask = cap - 1;
    let (keys, slots) = (&mut keys[..cap], &mut slots[..cap]);
    for &j in raw.iter() {
        let mut slot = j as usize & mask;
        loop {
            let k = keys[slot];
            if k == j {
                out.val[slots[slot] as usize] += 1.0;
                break;
            }
            if k == u32::MAX {
                keys[slot] = j;
                slots[slot] = out.idx.len() as u32;
                out.idx.push(j);
                out.val.push(1.0);
                break;
            }
            slot = (slot + 1) & mask;
        }
    }
    // Reset only the used slots: clearing from each key's home slot to the next empty slot
    // clears every run of the table.
    for &j in &out.idx {
        let mut slot = j as usize & mask;
        while keys[slot] != u32::MAX {
            keys[slot] = u32::MAX;
            slot = (slot + 1) & mask;
        }
    }
}

/// Smoothed IDF, as in the usual TF-IDF: `ln((1 + n) / (1 + df)) + 1`.
pub fn idf_from_df(df: &[u32], n_docs: usize) -> Vec<f32> {
    let n = n_docs as f64;
    df.iter()
        .map(|&d| (((1.0 + n) / (1.0 + d as f64)).ln() + 1.0) as f32)
        .collect()
}

/// Index of an incrementally built n-gram hash: one more multiply to mix the last byte into
/// the top bits, which the index is taken from.
#[inline]
fn gram_index(h: u64, shift: u32) -> u32 {
    let x = (h ^ (h >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    ((x ^ (x >> 32)) >> shift) as u32
}

/// Character n-grams of `lo..=hi` characters of the word padded with a space on each side.
/// Each start position extends one hash byte by byte (FNV-1a), emitting at character boundaries,
/// so a word of `c` characters costs about `c * hi` multiplies.
#[inline]
fn char_ngrams(
    word: &str,
    lo: usize,
    hi: usize,
    seed: u64,
    shift: u32,
    padded: &mut Vec<u8>,
    raw: &mut Vec<u32>,
) {
    const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
    padded.clear();
    padded.push(b' ');
    padded.extend_from_slice(word.as_bytes());
    padded.push(b' ');
    let bytes = &padded[..];
    let seed = (seed ^ NS_CHAR).wrapping_mul(FNV_PRIME);
    let ascii = word.is_ascii();
    let n_chars = if ascii {
        bytes.len()
    } else {
        bytes.iter().filter(|&&b| b & 0xc0 != 0x80).count()
    };
    if n_chars <= lo {
        // A padded word no longer than the shortest n-gram counts once, whole.
        let mut h = seed;
        for &b in bytes {
            h = (h ^ b as u64).wrapping_mul(FNV_PRIME);
        }
        raw.push(gram_index(h, shift));
        return;
    }
    if ascii {
        // One byte per character: every byte ends a character.
        for start in 0..bytes.len() {
            let mut h = seed;
            let end = bytes.len().min(start + hi);
            for (k, &b) in bytes[start..end].iter().enumerate() {
                h = (h ^ b as u64).wrapping_mul(FNV_PRIME);
                if k + 1 >= lo {
                    raw.push(gram_index(h, shift));
                }
            }
        }
        return;
    }
    for start in 0..bytes.len() {
        if bytes[start] & 0xc0 == 0x80 {
            continue;
        }
        let mut h = seed;
        let mut chars = 0usize;
        let mut k = start;
        while k < bytes.len() {
            h = (h ^ bytes[k] as u64).wrapping_mul(FNV_PRIME);
            k += 1;
            if k == bytes.len() || bytes[k] & 0xc0 != 0x80 {
                chars += 1;
                if chars >= lo {
                    raw.push(gram_index(h, shift));
                }
                if chars == hi {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> FeatureSpec {
        FeatureSpec {
            n_features_log2: 16,
            ..FeatureSpec::default()
        }
    }

    #[test]
    fn same_text_same_vector_and_unique_indices() {
        let v = HashingVectorizer::new(spec()).unwrap();
        let a = v.vectorize("Free entry in 2 a wkly comp to win FA Cup final tkts");
        let b = v.vectorize("Free entry in 2 a wkly comp to win FA Cup final tkts");
        assert_eq!(a, b);
        let mut sorted = a.idx.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), a.idx.len(), "indices are distinct");
        assert!(a.idx.iter().all(|&i| (i as usize) < spec().n_features()));
        let norm: f32 = a.val.iter().map(|v| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
    }

    #[test]
    fn counts_follow_the_spec() {
        // Words only, no n-grams beyond 1: "a b a" has two distinct features, counts 2 and 1.
        let s = FeatureSpec {
            n_features_log2: 20,
            symbols: false,
            word_ngrams: 1,
            char_ngrams: None,
            digit_shapes: false,
            sublinear_tf: false,
            idf: false,
            l2_normalize: false,
            ..FeatureSpec::default()
        };
        let v = HashingVectorizer::new(s.clone()).unwrap();
        let x = v.vectorize("a b A");
        let mut vals = x.val.clone();
        vals.sort_by(f32::total_cmp);
        assert_eq!(vals, vec![1.0, 2.0]);
        // Bigrams add one feature per adjacent pair: "a b a" → a, b, a_b, b_a.
        let v2 = HashingVectorizer::new(FeatureSpec {
            word_ngrams: 2,
            ..s.clone()
        })
        .unwrap();
        assert_eq!(v2.vectorize("a b a").len(), 4);
        // Trigrams: "a b c" → a, b, c, a_b, b_c, a_b_c.
        let v3 = HashingVectorizer::new(FeatureSpec {
            word_ngrams: 3,
            ..s.clone()
        })
        .unwrap();
        assert_eq!(v3.vectorize("a b c").len(), 6);
        // Character 3-grams of " ab " are " ab" and "ab ".
        let vc = HashingVectorizer::new(FeatureSpec {
            word_ngrams: 0,
            char_ngrams: Some([3, 3]),
            ..s
        })
        .unwrap();
        assert_eq!(vc.vectorize("ab").len(), 2);
        // A padded word shorter than the n-gram counts once, whole.
        assert_eq!(vc.vectorize("a").len(), 1);
    }

    #[test]
    fn empty_text_is_empty_vector() {
        let v = HashingVectorizer::new(spec()).unwrap();
        assert!(v.vectorize("").is_empty());
        assert!(v.vectorize("   \n\t ").is_empty());
    }

    #[test]
    fn idf_scales_and_is_checked() {
        let s = FeatureSpec {
            n_features_log2: 8,
            ..FeatureSpec::default()
        };
        assert!(HashingVectorizer::with_idf(s.clone(), vec![1.0; 3]).is_err());
        let idf = idf_from_df(&[0, 1, 3], 3);
        assert!((idf[0] - (4.0f32.ln() + 1.0)).abs() < 1e-6);
        assert!((idf[2] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn bad_specs_are_named() {
        let bad = FeatureSpec {
            char_ngrams: Some([4, 2]),
            ..FeatureSpec::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(Error::InvalidParam { param: Param::CharNgrams, value, .. }) if value == "4-2"
        ));
        let bad = FeatureSpec {
            n_features_log2: 40,
            ..FeatureSpec::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(Error::InvalidParam { param: Param::NFeaturesLog2, value, .. }) if value == "40"
        ));
    }

    /// The n-grams a straightforward implementation finds: every window of `lo..=hi` characters
    /// of the padded word, hashed byte by byte.
    fn naive_char_ngrams(word: &str, lo: usize, hi: usize, shift: u32) -> Vec<u32> {
        let padded: Vec<char> = std::iter::once(' ')
            .chain(word.chars())
            .chain(std::iter::once(' '))
            .collect();
        let hash = |chars: &[char]| {
            let s: String = chars.iter().collect();
            let mut h = (NS_CHAR).wrapping_mul(0x0000_0100_0000_01b3);
            for b in s.bytes() {
                h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
            }
            gram_index(h, shift)
        };
        if padded.len() <= lo {
            return vec![hash(&padded)];
        }
        let mut out = Vec::new();
        for n in lo..=hi.min(padded.len()) {
            for w in padded.windows(n) {
                out.push(hash(w));
            }
        }
        out.sort_unstable();
        out
    }

    proptest::proptest! {
        #[test]
        fn char_ngrams_match_the_naive_definition(word in "[a-zé😀ß]{1,9}", lo in 1usize..4, extra in 0usize..3) {
            let hi = lo + extra;
            let mut got = Vec::new();
            char_ngrams(&word, lo, hi, 0, 64 - 20, &mut Vec::new(), &mut got);
            got.sort_unstable();
            proptest::prop_assert_eq!(got, naive_char_ngrams(&word, lo, hi, 64 - 20));
        }

        #[test]
        fn indices_stay_below_n_features(text in "\\PC{0,60}", log2 in 8u32..20) {
            let v = HashingVectorizer::new(FeatureSpec { n_features_log2: log2, ..FeatureSpec::default() }).unwrap();
            let x = v.vectorize(&text);
            proptest::prop_assert!(x.idx.iter().all(|&i| (i as usize) < (1usize << log2)));
        }
    }

    /// Every feature occurrence the straightforward way: a token list, then per token its word
    /// n-grams, every character window in order of start then length, and its digit shape.
    fn reference_features(spec: &FeatureSpec, text: &str) -> Vec<u32> {
        let shift = 64 - spec.n_features_log2;
        let mut tokens = Vec::new();
        spec.tokenizer()
            .for_each_token(text, &mut String::new(), |t| match t {
                Token::Word(w) => tokens.push((w.to_string(), true)),
                Token::Symbol(s) => tokens.push((s.to_string(), false)),
            });
        let mut out = Vec::new();
        let hashes: Vec<u64> = tokens
            .iter()
            .map(|(t, _)| hash_bytes(spec.seed ^ NS_WORD, t.as_bytes()))
            .collect();
        for (k, (t, is_word)) in tokens.iter().enumerate() {
            let n = spec.word_ngrams as usize;
            if n > 0 {
                let mut g = hashes[k];
                out.push((g >> shift) as u32);
                for back in 1..n.min(k + 1) {
                    g = combine(hashes[k - back], g);
                    out.push((g >> shift) as u32);
                }
            }
            if !is_word {
                continue;
            }
            if let Some([lo, hi]) = spec.char_ngrams {
                let chars: Vec<char> = std::iter::once(' ')
                    .chain(t.chars())
                    .chain(std::iter::once(' '))
                    .collect();
                let hash = |w: &[char]| {
                    let mut h = (spec.seed ^ NS_CHAR).wrapping_mul(0x0000_0100_0000_01b3);
                    for b in w.iter().collect::<String>().bytes() {
                        h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
                    }
                    gram_index(h, shift)
                };
                let (lo, hi) = (lo as usize, hi as usize);
                if chars.len() <= lo {
                    out.push(hash(&chars));
                } else {
                    for start in 0..chars.len() {
                        for len in lo..=hi.min(chars.len() - start) {
                            out.push(hash(&chars[start..start + len]));
                        }
                    }
                }
            }
            if spec.digit_shapes && t.bytes().any(|b| b.is_ascii_digit()) {
                let shape: String = t
                    .chars()
                    .take(16)
                    .map(|c| if c.is_ascii_digit() { '0' } else { 'a' })
                    .collect();
                out.push((hash_bytes(spec.seed ^ NS_SHAPE, shape.as_bytes()) >> shift) as u32);
            }
        }
        out
    }

    proptest::proptest! {
        /// The word cache changes nothing: with a cold cache, a warm one, and across settings
        /// sharing one scratch, the occurrences are the reference's, in the reference's order.
        #[test]
        fn features_match_the_reference_warm_or_cold(
            texts in proptest::collection::vec("([a-zA-Z0-9£!é😀]{1,20}[ ,.]){0,12}", 1..6),
            word_ngrams in 0u32..4,
            lo in 1u32..4,
            extra in 0u32..3,
            digit_shapes: bool,
        ) {
            let specs = [
                FeatureSpec { n_features_log2: 20, word_ngrams, char_ngrams: Some([lo, lo + extra]), digit_shapes, ..FeatureSpec::default() },
                FeatureSpec { n_features_log2: 18, word_ngrams: word_ngrams.max(1), char_ngrams: None, digit_shapes, ..FeatureSpec::default() },
            ];
            let mut shared = VectorizerScratch::default();
            for _ in 0..2 {
                for spec in &specs {
                    let v = HashingVectorizer::new(spec.clone()).unwrap();
                    for text in &texts {
                        v.hash_into(text, &mut shared);
                        proptest::prop_assert_eq!(&shared.raw, &reference_features(spec, text));
                    }
                }
            }
        }
    }

    #[test]
    fn dense_sublinear_matches_counting_then_scaling() {
        let text = format!("{} and more words", "spam spam eggs ".repeat(200));
        let spec = FeatureSpec {
            n_features_log2: 20,
            ..FeatureSpec::default()
        };
        let v = HashingVectorizer::new(spec).unwrap();
        let mut a = SparseVec::default();
        v.term_frequencies_into(&text, &mut VectorizerScratch::default(), &mut a);
        let mut s = VectorizerScratch::default();
        let mut b = SparseVec::default();
        v.hash_into(&text, &mut s);
        count_table(&mut s, &mut b);
        b.val.iter_mut().for_each(|x| *x = sublinear(*x));
        assert_eq!(a, b);
        assert!(
            a.val.iter().any(|&x| x > sublinear(255.0)),
            "a count past 255"
        );
    }

    #[test]
    fn dense_and_table_counting_agree() {
        // 300 repeats of one word overflow the byte counters into the spill counters; 2,000
        // distinct words grow the output far past its first allocation.
        let distinct: String = (0..2000).map(|i| format!("w{i} ")).collect();
        let texts = [
            format!("{} tail words here", "spam ".repeat(300)),
            distinct,
            "Ünïcode wörds, ÉCOLE straße 123 £1000!".to_string(),
        ];
        let small = HashingVectorizer::new(FeatureSpec {
            n_features_log2: 22,
            sublinear_tf: false,
            ..FeatureSpec::default()
        })
        .unwrap();
        let (mut s1, mut s2) = (VectorizerScratch::default(), VectorizerScratch::default());
        for text in texts.iter().chain(texts.iter()) {
            let (mut a, mut b) = (SparseVec::default(), SparseVec::default());
            small.term_frequencies_into(text, &mut s1, &mut a);
            small.hash_into(text, &mut s2);
            count_table(&mut s2, &mut b);
            assert_eq!(a, b);
            assert!(!a.is_empty());
        }
        small.term_frequencies_into(&texts[0], &mut s1, &mut SparseVec::default());
        let mut a = SparseVec::default();
        small.term_frequencies_into(&texts[0], &mut s1, &mut a);
        assert!(a.val.iter().any(|&v| v >= 300.0));
        assert!(
            s1.counts.iter().all(|&c| c == 0),
            "counters are left at zero"
        );
    }

    #[test]
    fn tail_loads_equal_the_padded_copy() {
        let bytes: Vec<u8> = (1..=7u8).map(|b| b.wrapping_mul(0x9d)).collect();
        for n in 1..8 {
            let mut tail = [0u8; 8];
            tail[..n].copy_from_slice(&bytes[..n]);
            assert_eq!(tail_le(&bytes[..n]), u64::from_le_bytes(tail), "{n} bytes");
        }
    }

    #[test]
    fn sublinear_table_matches_ln() {
        for tf in 1..40 {
            let want = 1.0 + (tf as f32).ln();
            assert!((sublinear(tf as f32) - want).abs() < 1e-6, "tf {tf}");
        }
    }

    #[test]
    fn vectorizer_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<HashingVectorizer>();
    }
}
