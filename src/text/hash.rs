//! Hashing vectorizer: tokens → word n-grams, character n-grams inside words and digit shapes →
//! hashed feature indices (no vocabulary to store, fixed memory) → term frequencies, optional
//! sublinear scaling and IDF weighting → L2 normalisation. The settings travel inside every model
//! (`FeatureSpec`), so classification rebuilds exactly the features training saw.

use serde::{Deserialize, Serialize};

use super::tokenize::{Token, Tokenizer};
use crate::error::{Error, Result};

/// Longest word n-gram supported.
pub const MAX_WORD_NGRAM: u32 = 4;
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
                "n_features_log2",
                format!("expected 8..=26, got {}", self.n_features_log2),
            ));
        }
        if self.word_ngrams > MAX_WORD_NGRAM {
            return Err(Error::param(
                "word_ngrams",
                format!("expected 0..={MAX_WORD_NGRAM}, got {}", self.word_ngrams),
            ));
        }
        if let Some([lo, hi]) = self.char_ngrams {
            if lo == 0 || lo > hi || hi > MAX_CHAR_NGRAM {
                return Err(Error::param(
                    "char_ngrams",
                    format!(
                        "expected MIN-MAX with 1 <= MIN <= MAX <= {MAX_CHAR_NGRAM}, got {lo}-{hi}"
                    ),
                ));
            }
        }
        if self.word_ngrams == 0 && self.char_ngrams.is_none() && !self.digit_shapes {
            return Err(Error::param(
                "features",
                "no feature kind is enabled; enable word or character n-grams",
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

/// A sparse vector: strictly increasing indices with their values.
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
    starts: Vec<usize>,
    raw: Vec<u32>,
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
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h ^ w).wrapping_mul(K).rotate_left(29);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut tail = [0u8; 8];
        tail[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(tail))
            .wrapping_mul(K)
            .rotate_left(29);
    }
    fmix64(h)
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
            return Err(Error::param(
                "idf",
                format!(
                    "expected {} weights for 2^{} features, got {}",
                    spec.n_features(),
                    spec.n_features_log2,
                    idf.len()
                ),
            ));
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
        let spec = &self.spec;
        let shift = 64 - spec.n_features_log2;
        let seed = spec.seed;
        let VectorizerScratch {
            word,
            padded,
            starts,
            raw,
        } = scratch;
        raw.clear();
        let n_words = spec.word_ngrams as usize;
        let mut history = [0u64; MAX_WORD_NGRAM as usize];
        let mut seen = 0usize;
        spec.tokenizer().for_each_token(text, word, |token| {
            let text = match token {
                Token::Word(w) | Token::Symbol(w) => w,
            };
            if n_words > 0 {
                let h = hash_bytes(seed ^ NS_WORD, text.as_bytes());
                raw.push((h >> shift) as u32);
                let mut g = h;
                for prev in history.iter().take(seen.min(n_words - 1)) {
                    g = combine(*prev, g);
                    raw.push((g >> shift) as u32);
                }
                history.copy_within(0..n_words.saturating_sub(1).max(1) - 1, 1);
                history[0] = h;
                seen += 1;
            }
            let Token::Word(w) = token else { return };
            if let Some([lo, hi]) = spec.char_ngrams {
                char_ngrams(
                    w,
                    lo as usize,
                    hi as usize,
                    seed,
                    shift,
                    padded,
                    starts,
                    raw,
                );
            }
            if spec.digit_shapes && w.bytes().any(|b| b.is_ascii_digit()) {
                padded.clear();
                padded.extend(
                    w.chars()
                        .take(16)
                        .map(|c| if c.is_ascii_digit() { b'0' } else { b'a' }),
                );
                raw.push((hash_bytes(seed ^ NS_SHAPE, padded) >> shift) as u32);
            }
        });
    }

    /// Vectorizes `text` into `out`, reusing `scratch`; allocates nothing once buffers have grown.
    pub fn vectorize_into(&self, text: &str, scratch: &mut VectorizerScratch, out: &mut SparseVec) {
        self.term_frequencies_into(text, scratch, out);
        self.weigh(out);
    }

    /// First half of `vectorize_into`: distinct features with their (sublinear) term frequency,
    /// before IDF and normalisation. Training keeps these to learn IDF weights per data split.
    pub fn term_frequencies_into(
        &self,
        text: &str,
        scratch: &mut VectorizerScratch,
        out: &mut SparseVec,
    ) {
        self.hash_into(text, scratch);
        out.clear();
        let raw = &mut scratch.raw;
        raw.sort_unstable();
        let mut i = 0;
        while i < raw.len() {
            let j = raw[i];
            let mut k = i + 1;
            while k < raw.len() && raw[k] == j {
                k += 1;
            }
            let tf = (k - i) as f32;
            out.idx.push(j);
            out.val.push(if self.spec.sublinear_tf {
                1.0 + tf.ln()
            } else {
                tf
            });
            i = k;
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

/// Smoothed IDF, as in the usual TF-IDF: `ln((1 + n) / (1 + df)) + 1`.
pub fn idf_from_df(df: &[u32], n_docs: usize) -> Vec<f32> {
    let n = n_docs as f64;
    df.iter()
        .map(|&d| (((1.0 + n) / (1.0 + d as f64)).ln() + 1.0) as f32)
        .collect()
}

#[allow(clippy::too_many_arguments)]
#[inline]
fn char_ngrams(
    word: &str,
    lo: usize,
    hi: usize,
    seed: u64,
    shift: u32,
    padded: &mut Vec<u8>,
    starts: &mut Vec<usize>,
    raw: &mut Vec<u32>,
) {
    padded.clear();
    padded.push(b' ');
    padded.extend_from_slice(word.as_bytes());
    padded.push(b' ');
    starts.clear();
    starts.extend(
        padded
            .iter()
            .enumerate()
            .filter(|(_, &b)| b & 0xc0 != 0x80)
            .map(|(i, _)| i),
    );
    let n_chars = starts.len();
    starts.push(padded.len());
    let seed = seed ^ NS_CHAR;
    if n_chars <= lo {
        // A padded word no longer than the shortest n-gram counts once, whole.
        raw.push((hash_bytes(seed, padded) >> shift) as u32);
        return;
    }
    for n in lo..=hi.min(n_chars) {
        for s in 0..=n_chars - n {
            let gram = &padded[starts[s]..starts[s + n]];
            raw.push((hash_bytes(seed, gram) >> shift) as u32);
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
    fn same_text_same_vector_and_sorted_unique_indices() {
        let v = HashingVectorizer::new(spec()).unwrap();
        let a = v.vectorize("Free entry in 2 a wkly comp to win FA Cup final tkts");
        let b = v.vectorize("Free entry in 2 a wkly comp to win FA Cup final tkts");
        assert_eq!(a, b);
        assert!(a.idx.windows(2).all(|w| w[0] < w[1]));
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
        let msg = bad.validate().unwrap_err().to_string();
        assert!(msg.contains("char_ngrams") && msg.contains("4-2"), "{msg}");
        let bad = FeatureSpec {
            n_features_log2: 40,
            ..FeatureSpec::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("n_features_log2"));
    }

    #[test]
    fn vectorizer_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<HashingVectorizer>();
    }
}
