//! The learner: L2-regularised logistic regression on sparse rows, minimised with in-place L-BFGS.
//! `TrainParams` (unfitted) → `LinearModel` (fitted), through linfa's `Fit` on a `DatasetBase`
//! whose records are `SparseRows`, or through `fit_rows` on any `Rows` (the training store's
//! `Design`), so the learner is a linfa citizen without a dense matrix.
//!
//! Rooms: `sparse` (rows as the learner reads them), `store` (the compact training data),
//! `objective` (loss and gradient), `lbfgs` (the optimiser). A new learner is a new objective here
//! and a new variant of the settings that choose it; nothing outside `model` changes.

pub mod columns;
pub mod lbfgs;
pub mod objective;
pub mod sparse;
pub mod store;

use linfa::dataset::DatasetBase;
use linfa::traits::Fit;
use serde::{Deserialize, Serialize};

use self::lbfgs::{minimize, LbfgsParams, LbfgsReport};
use self::objective::{for_rows, Encoded};
pub use self::sparse::{ActiveColumns, Rows, SparseRows};
pub use self::store::{Design, TfScale, TfStore};
use super::linear::{LinearModel, Mode};
use crate::error::{Error, Param, Result};

/// Training targets: the label indices of each row (exactly one per row in MULTI_CLASS), kept
/// as one list with row boundaries (a million rows take 8 MB, not a vector each).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    pub n_labels: usize,
    starts: Vec<u32>,
    labels: Vec<u32>,
}

impl Targets {
    pub fn new(n_labels: usize) -> Self {
        Targets {
            n_labels,
            starts: vec![0],
            labels: Vec::new(),
        }
    }

    /// Targets from one list of label indices per row.
    pub fn from_rows<I, L>(n_labels: usize, rows: I) -> Self
    where
        I: IntoIterator<Item = L>,
        L: AsRef<[u32]>,
    {
        let mut t = Targets::new(n_labels);
        for r in rows {
            t.push(r.as_ref());
        }
        t
    }

    pub fn push(&mut self, labels: &[u32]) {
        self.labels.extend_from_slice(labels);
        self.starts.push(self.labels.len() as u32);
    }

    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `i`'s labels.
    pub fn get(&self, i: usize) -> &[u32] {
        &self.labels[self.starts[i] as usize..self.starts[i + 1] as usize]
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u32]> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// The targets of rows `rows`, in that order.
    pub fn subset(&self, rows: &[u32]) -> Targets {
        Targets::from_rows(self.n_labels, rows.iter().map(|&i| self.get(i as usize)))
    }

    /// One vector per row (for metrics over a few rows).
    pub fn to_vecs(&self) -> Vec<Vec<u32>> {
        self.iter().map(<[u32]>::to_vec).collect()
    }
}

/// How rows are weighted by their class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClassWeight {
    /// Every row counts once.
    None,
    /// Rows weigh `n / (k · n_class)`, so rare classes count as much as common ones (MULTI_LABEL:
    /// each label's positive and negative rows, `n / (2 · n_side)`).
    Balanced,
}

impl ClassWeight {
    /// How reports and progress lines say it.
    pub fn describe(self) -> &'static str {
        match self {
            ClassWeight::Balanced => "balanced",
            ClassWeight::None => "unweighted",
        }
    }
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

/// A fitted model and how the optimiser ended.
#[derive(Debug)]
pub struct Fitted {
    pub model: LinearModel,
    pub report: LbfgsReport,
}

/// Curvature pairs the optimiser keeps: ten for a problem of one head, where a pass over the
/// rows costs far more than the pairs' vector work (100,000 SMS, C=100: 130 passes -> 95 for
/// the evaluation's fit, 51 -> 30 for the final one); five for many heads (20news: 2 M
/// parameters), where the pairs' work is as large and more of them did not save iterations.
fn history(heads: usize) -> usize {
    if heads == 1 {
        10
    } else {
        5
    }
}

/// One optimiser iteration, for progress reports.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub iteration: usize,
    pub objective: f64,
}

impl TrainParams {
    /// Checks the hyper-parameters, naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        if !(self.c.is_finite() && self.c > 0.0) {
            return Err(Error::param(Param::C, self.c, "a positive number"));
        }
        if self.max_iter == 0 {
            return Err(Error::param(Param::MaxIter, 0, "at least 1"));
        }
        if !(self.tolerance.is_finite() && self.tolerance >= 0.0) {
            return Err(Error::param(
                Param::Tolerance,
                self.tolerance,
                "a non-negative number",
            ));
        }
        Ok(())
    }

    /// Fits a model on linfa records, calling `progress` after every optimiser iteration (see
    /// `fit_rows`).
    pub fn fit_with_progress(
        &self,
        data: &DatasetBase<SparseRows, Targets>,
        labels: Vec<String>,
        start: Option<&LinearModel>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(LinearModel, LbfgsReport)> {
        let weights: Option<Vec<f64>> = data
            .weights()
            .map(|w| w.iter().map(|&v| f64::from(v)).collect());
        let fitted = self.fit_rows(
            &ActiveColumns::new(&data.records),
            (&data.targets, weights.as_deref()),
            labels,
            start,
            progress,
        )?;
        Ok((fitted.model, fitted.report))
    }

    /// Fits a model on `x` with `targets` (one per row) and, when given, sample weights (which
    /// replace the class weights), calling `progress` after every optimiser iteration. With
    /// `start`, the optimiser begins at that model's weights (same labels and feature space,
    /// e.g. a fit of most of the same data) instead of at zero: the same optimum, in far fewer
    /// iterations.
    pub fn fit_rows<R: Rows>(
        &self,
        x: &R,
        (targets, sample_weights): (&Targets, Option<&[f64]>),
        labels: Vec<String>,
        start: Option<&LinearModel>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Fitted> {
        self.validate()?;
        if labels.len() != targets.n_labels {
            return Err(Error::Training(format!(
                "expected {} label names, got {}",
                targets.n_labels,
                labels.len()
            )));
        }
        let rows = self.encode(x.n_rows(), targets, sample_weights)?;
        let m = rows.heads;
        let mut objective = for_rows(x, rows, self.c);
        let mut params = vec![0f64; objective.n_params()];
        if let Some(model) = start {
            self.warm_start(&mut params, x.column_feature(), m, model)?;
        }
        let lbfgs = LbfgsParams {
            max_iter: self.max_iter,
            ftol: self.tolerance,
            gtol: 1e-8,
            history: history(m),
        };
        let report = minimize(
            &mut params,
            &lbfgs,
            &mut |w: &[f64], grad: &mut [f64]| objective.value_and_gradient(w, grad),
            |iteration, objective| {
                progress(Progress {
                    iteration,
                    objective,
                });
                true
            },
        );
        // Back from columns to the whole feature space; features never seen stay 0.
        let active = x.column_feature();
        let mut weights_full = vec![0f32; x.n_features() * m];
        for (a, &j) in active.iter().enumerate() {
            for h in 0..m {
                weights_full[j as usize * m + h] = params[a * m + h] as f32;
            }
        }
        let bias = params[active.len() * m..]
            .iter()
            .map(|&b| b as f32)
            .collect();
        let model = LinearModel::new(labels, self.mode, x.n_features(), weights_full, bias)?;
        Ok(Fitted { model, report })
    }

    /// Seconds one pass of the objective (loss and gradient at zero) takes over `x`: a fit
    /// takes about that times its passes, which lets a caller predict a fit before running it.
    pub fn time_pass<R: Rows>(&self, x: &R, targets: &Targets) -> Result<f64> {
        let rows = self.encode(x.n_rows(), targets, None)?;
        let mut objective = for_rows(x, rows, self.c);
        let w = vec![0f64; objective.n_params()];
        let mut grad = vec![0f64; w.len()];
        let started = std::time::Instant::now();
        objective.value_and_gradient(&w, &mut grad);
        Ok(started.elapsed().as_secs_f64())
    }

    /// Copies `start`'s weights of the active features, and its biases, into `params`.
    fn warm_start(
        &self,
        params: &mut [f64],
        active: &[u32],
        heads: usize,
        start: &LinearModel,
    ) -> Result<()> {
        if start.mode() != self.mode || start.heads() != heads {
            return Err(Error::Training(format!(
                "a warm start needs a {} model with {heads} heads",
                self.mode.as_str()
            )));
        }
        let weights = start.weights();
        for (a, &j) in active.iter().enumerate() {
            let from = j as usize * heads;
            let Some(w) = weights.get(from..from + heads) else {
                return Err(Error::Training(
                    "a warm start needs a model of the same feature space".into(),
                ));
            };
            for (p, &w) in params[a * heads..(a + 1) * heads].iter_mut().zip(w) {
                *p = f64::from(w);
            }
        }
        let bias_at = active.len() * heads;
        for (p, &b) in params[bias_at..].iter_mut().zip(start.bias()) {
            *p = f64::from(b);
        }
        Ok(())
    }

    /// Each row's targets as the objective wants them, checked against the mode and labels.
    fn encode(&self, n: usize, y: &Targets, sample_weights: Option<&[f64]>) -> Result<Encoded> {
        if y.len() != n {
            return Err(Error::Training(format!(
                "expected one target per row, got {n} rows and {} targets",
                y.len()
            )));
        }
        if n == 0 {
            return Err(Error::Training("no training documents".into()));
        }
        let k = y.n_labels;
        let m = self.mode.heads(k);
        // Per-row, per-head targets in {0, 1} for sigmoid heads; the class index for softmax.
        let mut targets = vec![0f32; n * m];
        let mut class = vec![0u32; n];
        for (i, labs) in y.iter().enumerate() {
            if let Some(bad) = labs.iter().find(|&&l| l as usize >= k) {
                return Err(Error::Training(format!(
                    "row {i}: label index {bad} >= {k} labels"
                )));
            }
            if self.mode == Mode::MultiClass {
                if labs.len() != 1 {
                    return Err(Error::Training(format!(
                        "row {i} has {} labels; MULTI_CLASS needs exactly one",
                        labs.len()
                    )));
                }
                class[i] = labs[0];
                if m == 1 {
                    targets[i] = labs[0] as f32;
                }
            } else {
                for &l in labs {
                    targets[i * m + l as usize] = 1.0;
                }
            }
        }
        let weights = self.sample_weights(n, k, &class, sample_weights)?;
        let head_weights = self.head_weights(n, m, &targets);
        Ok(Encoded {
            heads: m,
            softmax: self.mode == Mode::MultiClass && m > 1,
            targets,
            class,
            weights,
            head_weights,
        })
    }

    /// MULTI_LABEL with balanced classes: each label's sigmoid weighs its positive and its
    /// negative rows so both sides count as much (`n / (2 · n_side)`, as one-vs-rest logistic
    /// regression with balanced classes does), so a rare label's scores reach the thresholds
    /// people use (0.5, 0.3) instead of staying near its base rate.
    fn head_weights(&self, n: usize, m: usize, targets: &[f32]) -> Vec<[f64; 2]> {
        if self.mode != Mode::MultiLabel || self.class_weight != ClassWeight::Balanced {
            return Vec::new();
        }
        (0..m)
            .map(|h| {
                let positive = (0..n).filter(|&i| targets[i * m + h] > 0.5).count();
                let negative = n - positive;
                if positive == 0 || negative == 0 {
                    [1.0, 1.0]
                } else {
                    [
                        n as f64 / (2.0 * negative as f64),
                        n as f64 / (2.0 * positive as f64),
                    ]
                }
            })
            .collect()
    }

    fn sample_weights(
        &self,
        n: usize,
        k: usize,
        class: &[u32],
        given: Option<&[f64]>,
    ) -> Result<Vec<f64>> {
        if let Some(w) = given {
            if w.len() != n {
                return Err(Error::Training(format!(
                    "expected {n} sample weights, got {}",
                    w.len()
                )));
            }
            return Ok(w.to_vec());
        }
        match (self.class_weight, self.mode) {
            (ClassWeight::Balanced, Mode::MultiClass) => {
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
        Ok(self.fit_with_progress(data, labels, None, &mut |_| {})?.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::SparseVec;

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
        DatasetBase::new(x, Targets::from_rows(2, t))
    }

    #[test]
    fn a_warm_start_reaches_the_same_optimum_in_fewer_iterations() {
        let params = TrainParams {
            c: 100.0,
            ..TrainParams::default()
        };
        let labels = vec!["a".to_string(), "b".to_string()];
        let (cold, cold_report) = params
            .fit_with_progress(&toy(), labels.clone(), None, &mut |_| {})
            .unwrap();
        // Start from the solution at a stronger regularisation, as the settings search does.
        let near = TrainParams {
            c: 30.0,
            ..params.clone()
        }
        .fit(&toy())
        .unwrap();
        let (warm, warm_report) = params
            .fit_with_progress(&toy(), labels, Some(&near), &mut |_| {})
            .unwrap();
        assert!(
            warm_report.iterations < cold_report.iterations,
            "{} vs {}",
            warm_report.iterations,
            cold_report.iterations
        );
        assert!(
            (warm_report.objective - cold_report.objective).abs() < 1e-4 * cold_report.objective
        );
        for (w, c) in warm.weights().iter().zip(cold.weights()) {
            assert!((w - c).abs() < 0.05 * c.abs().max(1.0), "{w} vs {c}");
        }
        // A model of another shape is refused, not silently misread.
        let three = TrainParams {
            mode: Mode::MultiLabel,
            ..params.clone()
        };
        let err = three
            .fit_with_progress(
                &toy(),
                vec!["a".into(), "b".into()],
                Some(&cold),
                &mut |_| {},
            )
            .unwrap_err();
        assert!(err.to_string().contains("warm start"), "{err}");
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
        assert!(
            err.to_string().contains("invalid regularisation C"),
            "{err}"
        );
        let mut data = toy();
        let mut rows = data.targets.to_vecs();
        rows[0] = vec![0, 1];
        data.targets = Targets::from_rows(2, rows);
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
        let mut rng = crate::rng::SplitMix64(seed);
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
        let targets = Targets::from_rows(k, y.iter().map(|&l| [l as u32]));
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
