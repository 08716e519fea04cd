//! The learner: L2-regularised logistic regression on sparse rows, minimised with in-place L-BFGS.
//! `TrainParams` (unfitted) → `LinearModel` (fitted), through linfa's `Fit` on a `DatasetBase`
//! whose records are `SparseRows`, so the learner is a linfa citizen without a dense matrix.
//!
//! Objective, the same as linfa-logistic's with `alpha = 1 / c`:
//! `c · Σ_i s_i · loss_i(W, b) + ½‖W‖²` (bias not regularised; `s_i` sample weights).
//! Work is split into fixed-size row and column chunks, so the result is identical for any
//! number of threads.

use std::ops::Range;

use linfa::dataset::{DatasetBase, Records};
use linfa::traits::Fit;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::lbfgs::{minimize, LbfgsParams, LbfgsReport};
use super::linear::{sigmoid, LinearModel, Mode};
use crate::error::{Error, Result};
use crate::text::SparseVec;

const ROW_CHUNK: usize = 256;
const COL_CHUNK: usize = 4096;
/// Column ranges of the forward pass; fixed, so sums never depend on the thread count.
const FORWARD_PARTS: usize = 4;

/// Splits columns into `parts` consecutive ranges holding about the same number of entries.
fn column_parts(indptr: &[usize], parts: usize) -> Vec<Range<usize>> {
    let n_cols = indptr.len() - 1;
    let nnz = indptr[n_cols];
    let mut out = Vec::with_capacity(parts);
    let mut start = 0;
    for p in 1..=parts {
        let target = nnz * p / parts;
        let mut end = start;
        while end < n_cols && (indptr[end + 1] <= target || p == parts) {
            end += 1;
        }
        out.push(start..end);
        start = end;
    }
    out
}

/// Sparse rows in compressed-row form over `n_features` columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseRows {
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
    pub n_features: usize,
}

impl SparseRows {
    pub fn new(n_features: usize) -> Self {
        SparseRows {
            indptr: vec![0],
            indices: Vec::new(),
            values: Vec::new(),
            n_features,
        }
    }

    pub fn from_vecs<'a>(n_features: usize, rows: impl IntoIterator<Item = &'a SparseVec>) -> Self {
        let mut out = SparseRows::new(n_features);
        for r in rows {
            out.push(r);
        }
        out
    }

    pub fn push(&mut self, row: &SparseVec) {
        self.indices.extend_from_slice(&row.idx);
        self.values.extend_from_slice(&row.val);
        self.indptr.push(self.indices.len());
    }

    pub fn n_rows(&self) -> usize {
        self.indptr.len() - 1
    }

    pub fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[a..b], &self.values[a..b])
    }
}

impl Records for SparseRows {
    type Elem = f32;
    fn nsamples(&self) -> usize {
        self.n_rows()
    }
    fn nfeatures(&self) -> usize {
        self.n_features
    }
}

/// Training targets: the label indices of each row (exactly one per row in MULTI_CLASS).
#[derive(Debug, Clone, PartialEq)]
pub struct Targets {
    pub n_labels: usize,
    pub rows: Vec<Vec<u32>>,
}

/// How rows are weighted by their class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClassWeight {
    /// Every row counts once.
    None,
    /// Rows weigh `n / (k · n_class)`, so rare classes count as much as common ones.
    Balanced,
}

/// Hyper-parameters of the learner (unfitted). Validated before any work by `validate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainParams {
    pub mode: Mode,
    /// Inverse regularisation strength (larger fits the training data more closely).
    pub c: f64,
    pub class_weight: ClassWeight,
    pub max_iter: usize,
    pub tolerance: f64,
}

impl Default for TrainParams {
    fn default() -> Self {
        TrainParams {
            mode: Mode::MultiClass,
            c: 10.0,
            class_weight: ClassWeight::Balanced,
            max_iter: 300,
            tolerance: 1e-6,
        }
    }
}

/// One optimiser iteration, for progress reports.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub iteration: usize,
    pub objective: f64,
}

/// Transposed copy of the active columns, for the gradient.
struct Columns {
    /// Original feature index of each active column.
    feature: Vec<u32>,
    indptr: Vec<usize>,
    rows: Vec<u32>,
    values: Vec<f32>,
}

impl Columns {
    fn from_rows(x: &SparseRows) -> (Self, Vec<u32>) {
        let mut count = vec![0usize; x.n_features];
        for &j in &x.indices {
            count[j as usize] += 1;
        }
        // Map every feature to its active column (u32::MAX when never seen).
        let mut col_of = vec![u32::MAX; x.n_features];
        let mut feature = Vec::new();
        let mut indptr = vec![0usize];
        for (j, &c) in count.iter().enumerate() {
            if c > 0 {
                col_of[j] = feature.len() as u32;
                feature.push(j as u32);
                indptr.push(indptr.last().unwrap() + c);
            }
        }
        let nnz = x.indices.len();
        let mut rows = vec![0u32; nnz];
        let mut values = vec![0f32; nnz];
        let mut next: Vec<usize> = indptr[..feature.len()].to_vec();
        for i in 0..x.n_rows() {
            let (idx, val) = x.row(i);
            for (&j, &v) in idx.iter().zip(val) {
                let c = col_of[j as usize] as usize;
                rows[next[c]] = i as u32;
                values[next[c]] = v;
                next[c] += 1;
            }
        }
        (
            Columns {
                feature,
                indptr,
                rows,
                values,
            },
            col_of,
        )
    }
}

impl TrainParams {
    /// Checks the hyper-parameters, naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        if !(self.c.is_finite() && self.c > 0.0) {
            return Err(Error::param(
                "c",
                format!("expected a positive number, got {}", self.c),
            ));
        }
        if self.max_iter == 0 {
            return Err(Error::param("max_iter", "expected at least 1"));
        }
        if !(self.tolerance.is_finite() && self.tolerance >= 0.0) {
            return Err(Error::param(
                "tolerance",
                format!("expected a non-negative number, got {}", self.tolerance),
            ));
        }
        Ok(())
    }

    /// Fits a model, calling `progress` after every optimiser iteration.
    pub fn fit_with_progress(
        &self,
        data: &DatasetBase<SparseRows, Targets>,
        labels: Vec<String>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(LinearModel, LbfgsReport)> {
        self.validate()?;
        let x = &data.records;
        let y = &data.targets;
        let n = x.n_rows();
        if y.rows.len() != n {
            return Err(Error::param(
                "targets",
                format!(
                    "expected one target per row, got {} rows and {} targets",
                    n,
                    y.rows.len()
                ),
            ));
        }
        if labels.len() != y.n_labels {
            return Err(Error::param(
                "labels",
                format!("expected {} label names, got {}", y.n_labels, labels.len()),
            ));
        }
        if n == 0 {
            return Err(Error::Training("no training documents".into()));
        }
        let k = y.n_labels;
        let m = self.mode.heads(k);
        // Per-row, per-head targets in {0, 1} for sigmoid heads; the class index for softmax.
        let softmax = self.mode == Mode::MultiClass && m > 1;
        let mut t = vec![0f32; n * m];
        let mut class = vec![0u32; n];
        for (i, labs) in y.rows.iter().enumerate() {
            if let Some(bad) = labs.iter().find(|&&l| l as usize >= k) {
                return Err(Error::param(
                    "targets",
                    format!("label index {bad} >= {k} labels"),
                ));
            }
            if self.mode == Mode::MultiClass {
                if labs.len() != 1 {
                    return Err(Error::param(
                        "targets",
                        format!(
                            "row {i} has {} labels; MULTI_CLASS needs exactly one",
                            labs.len()
                        ),
                    ));
                }
                class[i] = labs[0];
                if m == 1 {
                    t[i] = labs[0] as f32;
                }
            } else {
                for &l in labs {
                    t[i * m + l as usize] = 1.0;
                }
            }
        }
        let weights = self.sample_weights(data, &class)?;

        let (cols, _) = Columns::from_rows(x);
        let n_active = cols.feature.len();
        let n_params = n_active * m + m;
        let c = self.c;
        let mut resid = vec![0f64; n * m];

        // The forward pass walks the weights column by column (sequential reads of a large matrix)
        // and scatters into per-part score buffers, summed in a fixed order: much faster than
        // row-wise gathers from random weight rows, and independent of the thread count.
        let parts = column_parts(&cols.indptr, FORWARD_PARTS);
        let mut partial: Vec<Vec<f64>> = vec![vec![0f64; n * m]; parts.len()];
        let mut scores = vec![0f64; n * m];

        let mut eval = |w: &[f64], grad: &mut [f64]| -> f64 {
            let bias = &w[n_active * m..];
            partial
                .par_iter_mut()
                .zip(parts.par_iter())
                .for_each(|(zp, range)| {
                    zp.fill(0.0);
                    for col in range.clone() {
                        let wc = &w[col * m..col * m + m];
                        for p in cols.indptr[col]..cols.indptr[col + 1] {
                            let i = cols.rows[p] as usize;
                            let v = cols.values[p] as f64;
                            let z = &mut zp[i * m..i * m + m];
                            for (z, w) in z.iter_mut().zip(wc) {
                                *z += v * w;
                            }
                        }
                    }
                });
            let partial = &partial;
            scores
                .par_chunks_mut(ROW_CHUNK * m)
                .enumerate()
                .for_each(|(chunk, z)| {
                    let base = chunk * ROW_CHUNK * m;
                    for (o, z) in z.chunks_mut(m).enumerate() {
                        z.copy_from_slice(bias);
                        for part in partial {
                            let src = &part[base + o * m..base + o * m + m];
                            for (z, s) in z.iter_mut().zip(src) {
                                *z += s;
                            }
                        }
                    }
                });
            let scores = &scores;
            // Loss and residuals over fixed row chunks.
            let losses: Vec<f64> = resid
                .par_chunks_mut(ROW_CHUNK * m)
                .enumerate()
                .map(|(chunk, r)| {
                    let mut loss = 0.0;
                    for (o, r) in r.chunks_mut(m).enumerate() {
                        let i = chunk * ROW_CHUNK + o;
                        let z = &scores[i * m..i * m + m];
                        let s = weights[i];
                        if softmax {
                            let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                            let sum: f64 = z.iter().map(|v| (v - max).exp()).sum();
                            let lse = max + sum.ln();
                            loss += s * (lse - z[class[i] as usize]);
                            for h in 0..m {
                                let p = (z[h] - lse).exp();
                                let target = if h == class[i] as usize { 1.0 } else { 0.0 };
                                r[h] = s * (p - target);
                            }
                        } else {
                            for h in 0..m {
                                let zt = z[h];
                                let target = t[i * m + h] as f64;
                                // softplus(z) - t z, computed stably.
                                let sp = if zt > 0.0 {
                                    zt + (-zt).exp().ln_1p()
                                } else {
                                    zt.exp().ln_1p()
                                };
                                loss += s * (sp - target * zt);
                                r[h] = s * (sigmoid(zt) - target);
                            }
                        }
                    }
                    loss
                })
                .collect();
            let data_loss: f64 = losses.iter().sum();
            // Backward pass over fixed column chunks: gradient of the weights.
            let (gw, gb) = grad.split_at_mut(n_active * m);
            let resid = &resid;
            gw.par_chunks_mut(COL_CHUNK * m)
                .enumerate()
                .for_each(|(chunk, g)| {
                    for (o, g) in g.chunks_mut(m).enumerate() {
                        let col = chunk * COL_CHUNK + o;
                        g.fill(0.0);
                        for p in cols.indptr[col]..cols.indptr[col + 1] {
                            let i = cols.rows[p] as usize;
                            let v = cols.values[p] as f64;
                            for h in 0..m {
                                g[h] += v * resid[i * m + h];
                            }
                        }
                        for h in 0..m {
                            g[h] = c * g[h] + w[col * m + h];
                        }
                    }
                });
            let bias_parts: Vec<Vec<f64>> = resid
                .par_chunks(ROW_CHUNK * m)
                .map(|r| {
                    let mut acc = vec![0f64; m];
                    for r in r.chunks(m) {
                        for h in 0..m {
                            acc[h] += r[h];
                        }
                    }
                    acc
                })
                .collect();
            gb.fill(0.0);
            for part in &bias_parts {
                for h in 0..m {
                    gb[h] += c * part[h];
                }
            }
            let reg: f64 = w[..n_active * m].iter().map(|v| v * v).sum::<f64>() * 0.5;
            c * data_loss + reg
        };

        let mut params = vec![0f64; n_params];
        let lbfgs = LbfgsParams {
            max_iter: self.max_iter,
            ftol: self.tolerance,
            gtol: 1e-8,
            ..LbfgsParams::default()
        };
        let report = minimize(&mut params, &lbfgs, &mut eval, |iteration, objective| {
            progress(Progress {
                iteration,
                objective,
            });
            true
        });

        let mut weights_full = vec![0f32; x.n_features * m];
        for (a, &j) in cols.feature.iter().enumerate() {
            for h in 0..m {
                weights_full[j as usize * m + h] = params[a * m + h] as f32;
            }
        }
        let bias = params[n_active * m..].iter().map(|&b| b as f32).collect();
        let model = LinearModel::new(labels, self.mode, x.n_features, weights_full, bias)?;
        Ok((model, report))
    }

    fn sample_weights(
        &self,
        data: &DatasetBase<SparseRows, Targets>,
        class: &[u32],
    ) -> Result<Vec<f64>> {
        let n = data.records.n_rows();
        if let Some(w) = data.weights() {
            if w.len() != n {
                return Err(Error::param(
                    "weights",
                    format!("expected {n} sample weights, got {}", w.len()),
                ));
            }
            return Ok(w.iter().map(|&v| v as f64).collect());
        }
        match (self.class_weight, self.mode) {
            (ClassWeight::Balanced, Mode::MultiClass) => {
                let k = data.targets.n_labels;
                let mut count = vec![0usize; k];
                for &c in class {
                    count[c as usize] += 1;
                }
                Ok(class
                    .iter()
                    .map(|&c| n as f64 / (k as f64 * count[c as usize] as f64))
                    .collect())
            }
            _ => Ok(vec![1.0; n]),
        }
    }
}

/// Fitting without label names or progress: labels are named by their index.
impl Fit<SparseRows, Targets, Error> for TrainParams {
    type Object = LinearModel;

    fn fit(&self, data: &DatasetBase<SparseRows, Targets>) -> Result<LinearModel> {
        let labels = (0..data.targets.n_labels).map(|i| i.to_string()).collect();
        Ok(self.fit_with_progress(data, labels, &mut |_| {})?.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use linfa::traits::Fit;

    fn toy() -> DatasetBase<SparseRows, Targets> {
        // Feature 0 marks class 1, feature 1 marks class 0, feature 2 is noise.
        let rows = [
            (vec![0u32, 2], vec![1.0f32, 0.5], 1u32),
            (vec![0], vec![1.0], 1),
            (vec![1, 2], vec![1.0, 0.5], 0),
            (vec![1], vec![1.0], 0),
            (vec![0, 1], vec![0.9, 0.1], 1),
            (vec![1, 0], vec![0.9, 0.1], 0),
        ];
        let mut x = SparseRows::new(4);
        let mut t = Vec::new();
        for (idx, val, y) in rows {
            let mut pairs: Vec<_> = idx.into_iter().zip(val).collect();
            pairs.sort_by_key(|p| p.0);
            x.push(&SparseVec {
                idx: pairs.iter().map(|p| p.0).collect(),
                val: pairs.iter().map(|p| p.1).collect(),
            });
            t.push(vec![y]);
        }
        DatasetBase::new(
            x,
            Targets {
                n_labels: 2,
                rows: t,
            },
        )
    }

    #[test]
    fn separates_a_toy_problem_deterministically() {
        let params = TrainParams::default();
        let a = params.fit(&toy()).unwrap();
        let b = params.fit(&toy()).unwrap();
        assert_eq!(a, b);
        let p = a.probabilities(&SparseVec {
            idx: vec![0],
            val: vec![1.0],
        });
        assert!(p[1] > 0.9, "{p:?}");
        // Feature 3 never occurs: its weight stays exactly zero.
        assert_eq!(a.weights()[3], 0.0);
    }

    #[test]
    fn same_model_with_one_or_two_threads() {
        let params = TrainParams {
            mode: Mode::MultiLabel,
            ..TrainParams::default()
        };
        let data = toy();
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| params.fit(&data).unwrap());
        let two = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap()
            .install(|| params.fit(&data).unwrap());
        assert_eq!(one, two);
    }

    #[test]
    fn bad_params_and_targets_are_named() {
        let err = TrainParams {
            c: -1.0,
            ..TrainParams::default()
        }
        .fit(&toy())
        .unwrap_err();
        assert!(err.to_string().contains("invalid value for c"), "{err}");
        let mut data = toy();
        data.targets.rows[0] = vec![0, 1];
        let err = TrainParams::default().fit(&data).unwrap_err();
        assert!(err.to_string().contains("row 0 has 2 labels"), "{err}");
    }

    /// A small dense problem from a seeded generator: `n` rows of `d` features, labels from a
    /// noisy linear rule over `k` classes.
    fn dense_problem(
        n: usize,
        d: usize,
        k: usize,
        seed: u64,
    ) -> (ndarray::Array2<f64>, Vec<usize>) {
        let mut rng = crate::job::train::SplitMix64(seed);
        let mut unit = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let x = ndarray::Array2::from_shape_fn((n, d), |_| unit() * 2.0 - 1.0);
        let y = (0..n)
            .map(|i| {
                let row = x.row(i);
                let noise = unit() * 0.8;
                ((row[0] + 0.5 * row[1] - 0.3 * row[2] + noise + 1.5) * k as f64 / 4.0)
                    .clamp(0.0, k as f64 - 1.0) as usize
            })
            .collect();
        (x, y)
    }

    fn fit_ours(x: &ndarray::Array2<f64>, y: &[usize], k: usize, c: f64) -> LinearModel {
        let mut rows = SparseRows::new(x.ncols());
        for r in x.rows() {
            rows.push(&SparseVec {
                idx: (0..r.len() as u32).collect(),
                val: r.iter().map(|&v| v as f32).collect(),
            });
        }
        let targets = Targets {
            n_labels: k,
            rows: y.iter().map(|&l| vec![l as u32]).collect(),
        };
        TrainParams {
            mode: Mode::MultiClass,
            c,
            class_weight: ClassWeight::None,
            max_iter: 2000,
            tolerance: 0.0,
        }
        .fit(&DatasetBase::new(rows, targets))
        .unwrap()
    }

    fn probs_of(model: &LinearModel, row: ndarray::ArrayView1<f64>) -> Vec<f64> {
        model.probabilities(&SparseVec {
            idx: (0..row.len() as u32).collect(),
            val: row.iter().map(|&v| v as f32).collect(),
        })
    }

    /// Golden test: linfa-logistic minimises the same objective (`alpha = 1 / c`) with dense
    /// L-BFGS, so both learners must agree on weights and probabilities.
    #[test]
    fn agrees_with_linfa_logistic_binary() {
        use linfa_logistic::LogisticRegression;
        let (x, y) = dense_problem(120, 6, 2, 11);
        let c = 2.0;
        let ours = fit_ours(&x, &y, 2, c);
        let theirs = LogisticRegression::default()
            .alpha(1.0 / c)
            .max_iterations(2000)
            .gradient_tolerance(1e-10)
            .fit(&linfa::Dataset::new(
                x.clone(),
                ndarray::Array1::from(y.clone()),
            ))
            .unwrap();
        // linfa's probability is of its "positive" class, the more frequent training label.
        let pos = theirs.labels().pos.class;
        let sign = if pos == 1 { 1.0 } else { -1.0 };
        for (j, w) in theirs.params().iter().enumerate() {
            assert!(
                (sign * w - ours.weights()[j] as f64).abs() < 1e-3,
                "weight {j}: {w} vs {}",
                ours.weights()[j]
            );
        }
        let p_theirs = theirs.predict_probabilities(&x);
        for (i, row) in x.rows().into_iter().enumerate() {
            let p = probs_of(&ours, row)[pos];
            assert!(
                (p - p_theirs[i]).abs() < 1e-4,
                "row {i}: {p} vs {}",
                p_theirs[i]
            );
        }
    }

    #[test]
    fn agrees_with_linfa_logistic_multinomial() {
        use linfa_logistic::MultiLogisticRegression;
        let (x, y) = dense_problem(150, 5, 3, 5);
        let c = 1.0;
        let ours = fit_ours(&x, &y, 3, c);
        let theirs = MultiLogisticRegression::default()
            .alpha(1.0 / c)
            .max_iterations(2000)
            .gradient_tolerance(1e-10)
            .fit(&linfa::Dataset::new(
                x.clone(),
                ndarray::Array1::from(y.clone()),
            ))
            .unwrap();
        assert_eq!(theirs.classes(), &[0, 1, 2]);
        let p_theirs = theirs.predict_probabilities(&x);
        for (i, row) in x.rows().into_iter().enumerate() {
            let p = probs_of(&ours, row);
            for h in 0..3 {
                assert!(
                    (p[h] - p_theirs[[i, h]]).abs() < 1e-4,
                    "row {i} class {h}: {} vs {}",
                    p[h],
                    p_theirs[[i, h]]
                );
            }
        }
    }
}
