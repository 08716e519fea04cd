//! Cross-validation: k fits, each on all folds but one, predicting the fold left out; folds keep
//! duplicates and threads whole. With the settings search on, the search runs inside every fold
//! on that fold's training part only (nested), so the score is what the automatic settings give
//! on new data.

use std::time::Instant;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Param, Result};
use crate::model::metrics::{self, EvaluationMetrics, LabelScore};
use crate::model::{LinearModel, Mode, Targets, TrainParams};
use crate::text::FeatureSpec;

use super::data::{self, Corpus};
use super::fit::{self, decide};
use super::folds::grouped_folds;
use super::groups::GroupCounts;
use super::store::vectorize;
use super::{budget, search, TrainConfig, TrainProgress};

/// Cross-validation results.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CrossValidation {
    pub folds: usize,
    pub documents: usize,
    /// Duplicates and threads found, each group kept inside one fold.
    pub duplicates: GroupCounts,
    pub per_fold: Vec<EvaluationMetrics>,
    /// Metrics of all out-of-fold predictions pooled together.
    pub pooled: EvaluationMetrics,
    pub per_label: Vec<LabelScore>,
    /// Seconds per fold: the fit, and the settings search when there is one.
    pub mean_fit_seconds: f64,
    /// The setting the search chose in each fold (empty when the settings were fixed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chosen_per_fold: Vec<String>,
    /// The fold of every document, in input order (`--write-folds` shares it with other tools).
    #[serde(skip)]
    pub fold_of: Vec<usize>,
    /// Every document's out-of-fold label probabilities, in input order (`--write-scores`).
    #[serde(skip)]
    pub probabilities: Vec<Vec<f64>>,
}

/// Out-of-fold predictions of one setting: every document predicted by the model fitted on the
/// other folds.
pub struct OutOfFold {
    pub predicted: Vec<Vec<u32>>,
    /// Probabilities of every label, per document.
    pub probabilities: Vec<Vec<f64>>,
    pub per_fold: Vec<EvaluationMetrics>,
    pub fit_seconds: f64,
    /// The most passes over the rows one fold's fit took.
    pub most_passes: usize,
    /// The setting chosen for each fold, when a search chose them.
    pub chosen: Vec<String>,
    /// The fold models, to start the next setting's fits from (the settings search).
    pub models: Vec<LinearModel>,
}

impl OutOfFold {
    fn new(n: usize, k: usize) -> Self {
        OutOfFold {
            predicted: vec![Vec::new(); n],
            probabilities: vec![Vec::new(); n],
            per_fold: Vec::with_capacity(k),
            fit_seconds: 0.0,
            most_passes: 0,
            chosen: Vec::new(),
            models: Vec::with_capacity(k),
        }
    }

    /// Records a fold's predictions: `probs[k]` is of the row at position `at[k]`, whose labels
    /// `targets` gives.
    fn record(
        &mut self,
        (mode, labels): (Mode, &[String]),
        targets: &Targets,
        at: &[u32],
        probs: Vec<Vec<f64>>,
    ) {
        let pred: Vec<Vec<u32>> = probs.iter().map(|p| decide(mode, p)).collect();
        let truth: Vec<Vec<u32>> = at
            .iter()
            .map(|&i| targets.get(i as usize).to_vec())
            .collect();
        self.per_fold
            .push(metrics::evaluate(mode, labels, &truth, &pred).0);
        for ((&i, p), q) in at.iter().zip(pred).zip(probs) {
            self.predicted[i as usize] = p;
            self.probabilities[i as usize] = q;
        }
    }
}

/// The rows of fold `f` (test) and of the others (fit).
pub fn fold_rows(fold_of: &[usize], f: usize) -> (Vec<u32>, Vec<u32>) {
    (0..fold_of.len() as u32).partition(|&i| fold_of[i as usize] == f)
}

/// Fits `k` models, each on all folds but one, and predicts the fold left out. `fold_of` gives
/// every store row's fold. With `starts` (one model per fold, e.g. the same folds at a
/// neighbouring C), each fit begins there.
pub fn out_of_fold(
    spec: &FeatureSpec,
    params: &TrainParams,
    data: &fit::Data,
    fold_of: &[usize],
    k: usize,
    starts: Option<&[LinearModel]>,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<OutOfFold> {
    let mut out = OutOfFold::new(fold_of.len(), k);
    for f in 0..k {
        let (test, train) = fold_rows(fold_of, f);
        progress(TrainProgress::Line(format!(
            "fold {}/{k}: fitting on {}, testing on {}",
            f + 1,
            train.len(),
            test.len()
        )));
        let t = Instant::now();
        let start = starts.and_then(|s| s.get(f));
        let fitted = fit::fit(spec, params, data, &train, start, progress)?;
        out.fit_seconds += t.elapsed().as_secs_f64();
        out.most_passes = out.most_passes.max(fitted.passes);
        let probs = fit::probabilities(&fitted.vectorizer, &fitted.model, data.store, &test);
        out.record((params.mode, data.labels), data.targets, &test, probs);
        out.models.push(fitted.model);
    }
    Ok(out)
}

/// k-fold cross-validation with duplicates and threads kept inside one fold (`folds`).
pub fn cross_validate(
    config: &TrainConfig,
    folds: usize,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<CrossValidation> {
    config.validate()?;
    if folds < 2 {
        return Err(Error::param(Param::Folds, folds, "at least 2"));
    }
    budget::check_input(config, progress)?;
    let set = data::read_set(
        config,
        config.train_uri.as_deref(),
        "TRAIN",
        &mut Sha256::new(),
    )?;
    let mut corpus = data::corpus(config, set, Default::default())?;
    let (groups, _) = data::duplicates(&corpus, progress);
    let fold_of = grouped_folds(&groups.of, &corpus.targets, folds, config.seed);
    let mode = config.params.mode;
    let n = corpus.len();
    let all: Vec<u32> = (0..n as u32).collect();

    let oof = match &config.search {
        None => {
            let store = vectorize(&config.features, &corpus, &all)?;
            corpus.drop_texts();
            let data = fit::Data {
                store: &store,
                targets: &corpus.targets,
                labels: &corpus.labels,
            };
            out_of_fold(
                &config.features,
                &config.params,
                &data,
                &fold_of,
                folds,
                None,
                progress,
            )?
        }
        Some(settings) => {
            let mut oof = OutOfFold::new(n, folds);
            for f in 0..folds {
                let (test, train) = fold_rows(&fold_of, f);
                progress(TrainProgress::Line(format!(
                    "fold {}/{folds}: searching settings on {} documents",
                    f + 1,
                    train.len()
                )));
                let t = Instant::now();
                let winner = search::search(
                    &search::Data {
                        corpus: &corpus,
                        rows: &train,
                        groups: &groups.of,
                    },
                    config,
                    settings,
                    &mut |event| progress(event.indented()),
                )?;
                let (store, rows) = fold_store(&winner.candidate.features, &corpus, &train, &test)?;
                let targets = corpus.targets.subset(&rows);
                let data = fit::Data {
                    store: &store,
                    targets: &targets,
                    labels: &corpus.labels,
                };
                let fit_rows: Vec<u32> = (0..train.len() as u32).collect();
                let test_rows: Vec<u32> = (train.len() as u32..rows.len() as u32).collect();
                let fitted = fit::fit(
                    &winner.candidate.features,
                    &winner.candidate.params,
                    &data,
                    &fit_rows,
                    winner.start.as_ref(),
                    progress,
                )?;
                oof.fit_seconds += t.elapsed().as_secs_f64();
                let probs =
                    fit::probabilities(&fitted.vectorizer, &fitted.model, &store, &test_rows);
                oof.record((mode, &corpus.labels), &corpus.targets, &test, probs);
                oof.chosen.push(winner.candidate.describe());
            }
            oof
        }
    };
    let truth = corpus.targets.to_vecs();
    let pooled = metrics::evaluate(mode, &corpus.labels, &truth, &oof.predicted).0;
    let per_label = metrics::per_label(&corpus.labels, &truth, &oof.predicted);
    Ok(CrossValidation {
        folds,
        documents: n,
        duplicates: groups.counts,
        per_fold: oof.per_fold,
        pooled,
        per_label,
        mean_fit_seconds: oof.fit_seconds / folds as f64,
        chosen_per_fold: oof.chosen,
        fold_of,
        probabilities: oof.probabilities,
    })
}

/// A store of one fold's training rows then its test rows, vectorized with `features`.
fn fold_store(
    features: &FeatureSpec,
    corpus: &Corpus,
    train: &[u32],
    test: &[u32],
) -> Result<(crate::model::TfStore, Vec<u32>)> {
    let rows: Vec<u32> = train.iter().chain(test).copied().collect();
    Ok((vectorize(features, corpus, &rows)?, rows))
}
