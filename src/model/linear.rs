//! The fitted linear model: one weight vector per output head over hashed features, plus a bias.
//! Multi-class models with two labels use one sigmoid head (P(second label)); with more labels, a
//! softmax over one head per label. Multi-label models use an independent sigmoid per label.
//! Pure: no I/O, no allocation per call once the output buffer has grown.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Param, Result};
use crate::text::SparseVec;

/// Comprehend's classifier modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    #[serde(rename = "MULTI_CLASS")]
    MultiClass,
    #[serde(rename = "MULTI_LABEL")]
    MultiLabel,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::MultiClass => "MULTI_CLASS",
            Mode::MultiLabel => "MULTI_LABEL",
        }
    }

    /// Number of weight vectors a model with `n_labels` labels needs in this mode.
    pub fn heads(self, n_labels: usize) -> usize {
        match self {
            Mode::MultiClass if n_labels == 2 => 1,
            _ => n_labels,
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "MULTI_CLASS" => Ok(Mode::MultiClass),
            "MULTI_LABEL" => Ok(Mode::MultiLabel),
            other => Err(Error::param(
                Param::Mode,
                other,
                "MULTI_CLASS or MULTI_LABEL",
            )),
        }
    }
}

/// A trained linear classifier over `n_features` hashed features.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearModel {
    labels: Vec<String>,
    mode: Mode,
    n_features: usize,
    heads: usize,
    /// Feature-major: the `heads` weights of feature `j` start at `j * heads`.
    weights: Vec<f32>,
    bias: Vec<f32>,
}

impl LinearModel {
    /// Builds a model, checking that the shapes agree with the labels and mode.
    pub fn new(
        labels: Vec<String>,
        mode: Mode,
        n_features: usize,
        weights: Vec<f32>,
        bias: Vec<f32>,
    ) -> Result<Self> {
        if labels.len() < 2 && mode == Mode::MultiClass {
            return Err(Error::Inconsistent {
                what: "labels",
                reason: format!(
                    "a MULTI_CLASS model needs at least 2 labels, got {}",
                    labels.len()
                ),
            });
        }
        if labels.is_empty() {
            return Err(Error::Inconsistent {
                what: "labels",
                reason: "a model needs at least 1 label".into(),
            });
        }
        let heads = mode.heads(labels.len());
        if weights.len() != n_features * heads || bias.len() != heads {
            return Err(Error::Inconsistent {
                what: "weights",
                reason: format!(
                    "expected {} weights and {} biases for {} features x {} heads, got {} and {}",
                    n_features * heads,
                    heads,
                    n_features,
                    heads,
                    weights.len(),
                    bias.len()
                ),
            });
        }
        Ok(LinearModel {
            labels,
            mode,
            n_features,
            heads,
            weights,
            bias,
        })
    }

    /// The element-wise mean of models of the same labels, mode and shape (`None` when there
    /// are none, or they differ).
    pub fn mean(models: &[LinearModel]) -> Option<LinearModel> {
        let first = models.first()?;
        if models.iter().any(|m| {
            m.labels != first.labels
                || m.mode != first.mode
                || m.weights.len() != first.weights.len()
                || m.bias.len() != first.bias.len()
        }) {
            return None;
        }
        let k = models.len() as f32;
        let mean = |get: &dyn Fn(&LinearModel) -> &[f32], len: usize| -> Vec<f32> {
            (0..len)
                .map(|j| models.iter().map(|m| get(m)[j]).sum::<f32>() / k)
                .collect()
        };
        let weights = mean(&|m| &m.weights, first.weights.len());
        let bias = mean(&|m| &m.bias, first.bias.len());
        LinearModel::new(
            first.labels.clone(),
            first.mode,
            first.n_features(),
            weights,
            bias,
        )
        .ok()
    }

    /// The same model in a hashed space `2^bits` times larger, every feature taking the weight
    /// of the feature it folded into here: hashed indices are the top bits of a feature's hash,
    /// so a feature `j` of the larger space is feature `j >> bits` of this one. A fit in the
    /// larger space starts there (the settings search's larger feature space) rather than at 0.
    pub fn lifted(&self, bits: u32) -> Option<LinearModel> {
        let n_features = self.n_features.checked_shl(bits)?;
        let m = self.heads;
        let mut weights = vec![0f32; n_features * m];
        for (j, w) in weights.chunks_mut(m).enumerate() {
            let from = (j >> bits) * m;
            w.copy_from_slice(&self.weights[from..from + m]);
        }
        LinearModel::new(
            self.labels.clone(),
            self.mode,
            n_features,
            weights,
            self.bias.clone(),
        )
        .ok()
    }

    pub fn labels(&self) -> &[String] {
        &self.labels
    }
    pub fn mode(&self) -> Mode {
        self.mode
    }
    pub fn n_features(&self) -> usize {
        self.n_features
    }
    pub fn heads(&self) -> usize {
        self.heads
    }
    pub fn weights(&self) -> &[f32] {
        &self.weights
    }
    pub fn bias(&self) -> &[f32] {
        &self.bias
    }

    /// Raw head scores `w_h · x + b_h` into `z` (length `heads`).
    #[inline]
    pub fn decision_into(&self, x: &SparseVec, z: &mut Vec<f64>) {
        z.clear();
        let m = self.heads;
        if m == 1 {
            let mut acc = 0.0f32;
            for (j, v) in x.iter() {
                acc += v * self.weights[j as usize];
            }
            z.push((acc + self.bias[0]) as f64);
            return;
        }
        let mut acc = [0.0f32; 32];
        if m <= acc.len() {
            let acc = &mut acc[..m];
            for (j, v) in x.iter() {
                let row = &self.weights[j as usize * m..j as usize * m + m];
                for (a, w) in acc.iter_mut().zip(row) {
                    *a += v * w;
                }
            }
            z.extend(acc.iter().zip(&self.bias).map(|(a, b)| (a + b) as f64));
        } else {
            z.extend(self.bias.iter().map(|&b| b as f64));
            for (j, v) in x.iter() {
                let row = &self.weights[j as usize * m..j as usize * m + m];
                for (a, w) in z.iter_mut().zip(row) {
                    *a += (v * w) as f64;
                }
            }
        }
    }

    /// Head scores straight from term frequencies: applies `idf` (when not empty) and L2
    /// normalisation on the fly, giving the same scores as `decision_into` on the weighted vector
    /// in one pass over the features (the classification hot path).
    #[inline]
    pub fn decision_tf_into(&self, tf: &SparseVec, idf: &[f32], l2: bool, z: &mut Vec<f64>) {
        let m = self.heads;
        let mut sumsq = 0.0f32;
        z.clear();
        if m == 1 {
            let mut acc = 0.0f32;
            for (j, v) in tf.iter() {
                let v = if idf.is_empty() {
                    v
                } else {
                    v * idf[j as usize]
                };
                sumsq += v * v;
                acc += v * self.weights[j as usize];
            }
            let scale = if l2 && sumsq > 0.0 {
                1.0 / sumsq.sqrt()
            } else {
                1.0
            };
            z.push((acc * scale + self.bias[0]) as f64);
            return;
        }
        z.resize(m, 0.0);
        for (j, v) in tf.iter() {
            let v = if idf.is_empty() {
                v
            } else {
                v * idf[j as usize]
            };
            sumsq += v * v;
            let row = &self.weights[j as usize * m..j as usize * m + m];
            for (a, w) in z.iter_mut().zip(row) {
                *a += (v * w) as f64;
            }
        }
        let scale = if l2 && sumsq > 0.0 {
            1.0 / (sumsq as f64).sqrt()
        } else {
            1.0
        };
        for (a, b) in z.iter_mut().zip(&self.bias) {
            *a = *a * scale + *b as f64;
        }
    }

    /// Probability per label (in `labels()` order) into `probs`; `z` is scratch.
    #[inline]
    pub fn probabilities_into(&self, x: &SparseVec, z: &mut Vec<f64>, probs: &mut Vec<f64>) {
        self.decision_into(x, z);
        self.link_into(z, probs);
    }

    /// Turns head scores into probabilities per label: sigmoid or softmax by mode.
    #[inline]
    pub fn link_into(&self, z: &[f64], probs: &mut Vec<f64>) {
        probs.clear();
        match (self.mode, self.heads) {
            (Mode::MultiClass, 1) => {
                let p = sigmoid(z[0]);
                probs.push(1.0 - p);
                probs.push(p);
            }
            (Mode::MultiClass, _) => {
                let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                probs.extend(z.iter().map(|&v| (v - max).exp()));
                let sum: f64 = probs.iter().sum();
                probs.iter_mut().for_each(|p| *p /= sum);
            }
            (Mode::MultiLabel, _) => probs.extend(z.iter().map(|&v| sigmoid(v))),
        }
    }

    /// Convenience: probabilities of one vector.
    pub fn probabilities(&self, x: &SparseVec) -> Vec<f64> {
        let (mut z, mut p) = (Vec::new(), Vec::new());
        self.probabilities_into(x, &mut z, &mut p);
        p
    }
}

/// A one-head model's weights with each feature's IDF weight beside its model weight (1 when
/// the model has no IDF), so scoring a feature reads one cache line instead of two.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedWeights(Vec<[f32; 2]>);

impl PairedWeights {
    /// Pairs `model`'s only head with `idf` (empty: no IDF).
    pub fn new(model: &LinearModel, idf: &[f32]) -> Self {
        debug_assert_eq!(model.heads(), 1);
        // `adder` indexes through a mask: the feature space is 2^k (the loader checks the
        // weights' length against it).
        assert!(
            model.weights().len().is_power_of_two(),
            "a one-head model has 2^k weights"
        );
        PairedWeights(
            model
                .weights()
                .iter()
                .enumerate()
                .map(|(j, &w)| [idf.get(j).copied().unwrap_or(1.0), w])
                .collect(),
        )
    }

    /// A function that asks the CPU to start loading feature `j`'s pair into cache. It holds
    /// the pairs' slice itself, so a loop calling it need not reload it from `self` after
    /// every store.
    #[inline(always)]
    pub fn prefetcher(&self) -> impl Fn(u32) + '_ {
        let pairs = self.0.as_slice();
        move |j| crate::prefetch::prefetch_at(pairs, j as usize)
    }

    /// `LinearModel::decision_tf_into` for one head: the same operations in the same order, so
    /// the same score to the bit (multiplying by an IDF of 1 changes nothing).
    #[inline]
    pub fn decision_tf_into(&self, tf: &SparseVec, bias: f32, l2: bool, z: &mut Vec<f64>) {
        let mut dot = PairedDot::default();
        let add = self.adder();
        for (j, v) in tf.iter() {
            add(&mut dot, j, v);
        }
        self.finish(dot, bias, l2, z);
    }

    /// A function adding feature `j` with term frequency `tf` to a running score (features must
    /// come in the order `decision_tf_into` would see them). It holds the pairs' slice, so a
    /// loop need not reload it from `self` after every store, and indexes it through the mask
    /// of its power-of-two length, which changes no feature index (all are below it) and drops
    /// the bounds check.
    #[inline(always)]
    pub fn adder(&self) -> impl Fn(&mut PairedDot, u32, f32) + '_ {
        let mask = self.0.len() - 1;
        let pairs = &self.0[..=mask];
        move |dot, j, tf| dot.add(pairs[j as usize & mask], tf)
    }

    /// The score of the features added to `dot`, normalised when `l2`, into `z`.
    #[inline]
    pub fn finish(&self, dot: PairedDot, bias: f32, l2: bool, z: &mut Vec<f64>) {
        let scale = if l2 && dot.sumsq > 0.0 {
            1.0 / dot.sumsq.sqrt()
        } else {
            1.0
        };
        z.clear();
        z.push((dot.acc * scale + bias) as f64);
    }
}

/// A score being summed by `PairedWeights::adder`: the squared norm and the dot product so far.
#[derive(Debug, Clone, Copy, Default)]
pub struct PairedDot {
    sumsq: f32,
    acc: f32,
}

impl PairedDot {
    /// The one definition of a feature's share of the sums.
    #[inline(always)]
    fn add(&mut self, [idf, w]: [f32; 2], tf: f32) {
        let v = tf * idf;
        self.sumsq += v * v;
        self.acc += v * w;
    }
}

/// Numerically stable logistic function.
#[inline]
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sv(pairs: &[(u32, f32)]) -> SparseVec {
        SparseVec {
            idx: pairs.iter().map(|p| p.0).collect(),
            val: pairs.iter().map(|p| p.1).collect(),
        }
    }

    proptest::proptest! {
        /// Pairing IDF with the weights gives the same score to the bit.
        #[test]
        fn paired_scores_are_the_unpaired_ones(
            features in proptest::collection::vec((0u32..64, 1u32..40), 0..50),
            weights in proptest::collection::vec(-5.0f32..5.0, 64),
            idf in proptest::collection::vec(1.0f32..9.0, 64),
            use_idf: bool,
            l2: bool,
            bias in -3.0f32..3.0,
        ) {
            let m = LinearModel::new(vec!["a".into(), "b".into()], Mode::MultiClass, 64, weights, vec![bias]).unwrap();
            let idf = if use_idf { idf } else { Vec::new() };
            let mut tf = SparseVec::default();
            for (j, c) in features {
                if !tf.idx.contains(&j) {
                    tf.idx.push(j);
                    tf.val.push(1.0 + (c as f32).ln());
                }
            }
            let (mut z1, mut z2) = (Vec::new(), Vec::new());
            m.decision_tf_into(&tf, &idf, l2, &mut z1);
            PairedWeights::new(&m, &idf).decision_tf_into(&tf, bias, l2, &mut z2);
            proptest::prop_assert_eq!(z1[0].to_bits(), z2[0].to_bits());
        }
    }

    #[test]
    fn binary_uses_one_sigmoid_head() {
        let m = LinearModel::new(
            vec!["ham".into(), "spam".into()],
            Mode::MultiClass,
            4,
            vec![0.0, 2.0, 0.0, -1.0],
            vec![0.5],
        )
        .unwrap();
        assert_eq!(m.heads(), 1);
        let p = m.probabilities(&sv(&[(1, 1.0), (3, 0.5)]));
        let expect = sigmoid(2.0 - 0.5 + 0.5);
        assert!((p[1] - expect).abs() < 1e-12 && (p[0] - (1.0 - expect)).abs() < 1e-12);
    }

    #[test]
    fn softmax_sums_to_one_and_multilabel_is_independent() {
        let w: Vec<f32> = (0..12).map(|i| i as f32 * 0.1).collect();
        let mc = LinearModel::new(
            vec!["a".into(), "b".into(), "c".into()],
            Mode::MultiClass,
            4,
            w.clone(),
            vec![0.0; 3],
        )
        .unwrap();
        let p = mc.probabilities(&sv(&[(0, 1.0), (2, 1.0)]));
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(p[2] > p[1] && p[1] > p[0]);
        let ml = LinearModel::new(
            vec!["a".into(), "b".into(), "c".into()],
            Mode::MultiLabel,
            4,
            w,
            vec![0.0; 3],
        )
        .unwrap();
        let q = ml.probabilities(&sv(&[]));
        assert_eq!(q, vec![0.5, 0.5, 0.5]);
    }

    #[test]
    fn shape_mismatch_is_refused() {
        let err = LinearModel::new(
            vec!["a".into(), "b".into(), "c".into()],
            Mode::MultiClass,
            4,
            vec![0.0; 4],
            vec![0.0; 3],
        )
        .unwrap_err();
        assert!(err.to_string().contains("expected 12 weights"), "{err}");
    }

    #[test]
    fn fused_scoring_matches_weigh_then_score() {
        use crate::text::{FeatureSpec, HashingVectorizer, VectorizerScratch};
        let spec = FeatureSpec {
            n_features_log2: 10,
            ..FeatureSpec::default()
        };
        let idf: Vec<f32> = (0..1024).map(|i| 1.0 + (i % 7) as f32 * 0.3).collect();
        let v = HashingVectorizer::with_idf(spec, idf).unwrap();
        for heads_labels in [2usize, 3] {
            let heads = Mode::MultiClass.heads(heads_labels);
            let w: Vec<f32> = (0..1024 * heads)
                .map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0)
                .collect();
            let labels = (0..heads_labels).map(|i| i.to_string()).collect();
            let m = LinearModel::new(labels, Mode::MultiClass, 1024, w, vec![0.25; heads]).unwrap();
            let mut scratch = VectorizerScratch::default();
            let mut tf = SparseVec::default();
            v.term_frequencies_into(
                "win win a FREE prize now, call 0800 123",
                &mut scratch,
                &mut tf,
            );
            let mut weighted = tf.clone();
            v.weigh(&mut weighted);
            let (mut z1, mut z2) = (Vec::new(), Vec::new());
            m.decision_into(&weighted, &mut z1);
            m.decision_tf_into(&tf, v.idf(), true, &mut z2);
            for (a, b) in z1.iter().zip(&z2) {
                assert!((a - b).abs() < 1e-5, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn model_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<LinearModel>();
    }
}
