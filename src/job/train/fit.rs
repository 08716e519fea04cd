//! One fit: a vectorizer (its IDF learned on the fitted rows) and a linear model on some rows of
//! a store, then the label probabilities and decisions of other rows.

use std::time::Instant;

use rayon::prelude::*;

use crate::error::Result;
use crate::model::{Design, LinearModel, Mode, Targets, TfStore, TrainParams};
use crate::text::{FeatureSpec, HashingVectorizer, SparseVec};

use super::store::{column_weights, tf_scale};
use super::TrainProgress;

/// Vectorized rows and what a fit needs beside them.
pub struct Data<'a> {
    pub store: &'a TfStore,
    /// Labels of every store row.
    pub targets: &'a Targets,
    pub labels: &'a [String],
}

/// What a fit produced: the vectorizer (its IDF learned on the fitted rows), the model, and
/// how many passes over the rows the optimiser made.
pub struct Fit {
    pub vectorizer: HashingVectorizer,
    pub model: LinearModel,
    pub passes: usize,
}

/// The rows of `rows` as a fit of `spec` reads them (IDF and label weights learned on them).
fn design<'a>(spec: &FeatureSpec, data: &Data<'a>, rows: &'a [u32]) -> (Design<'a>, Vec<f32>) {
    let weights = column_weights(spec, data.store, data.targets, rows);
    let design = Design::new(
        data.store,
        rows,
        tf_scale(spec),
        weights.columns,
        spec.l2_normalize,
    );
    (design, weights.idf)
}

/// Seconds one pass of the optimiser over `rows` takes (see `TrainParams::time_pass`).
pub fn pass_seconds(
    spec: &FeatureSpec,
    params: &TrainParams,
    data: &Data,
    rows: &[u32],
) -> Result<f64> {
    let (design, _) = design(spec, data, rows);
    params.time_pass(&design, &data.targets.subset(rows))
}

/// Fits a vectorizer (IDF) and a linear model on the store rows `rows`, the optimiser starting
/// at `start`'s weights when given (see `TrainParams::fit_rows`).
pub fn fit(
    spec: &FeatureSpec,
    params: &TrainParams,
    data: &Data,
    rows: &[u32],
    start: Option<&LinearModel>,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<Fit> {
    let (design, idf) = design(spec, data, rows);
    let targets = data.targets.subset(rows);
    let started = Instant::now();
    let fitted = params.fit_rows(
        &design,
        (&targets, None),
        data.labels.to_vec(),
        start,
        &mut |p| {
            progress(TrainProgress::Status(format!(
                "iteration {:>4}  objective {:.6}",
                p.iteration, p.objective
            )));
        },
    )?;
    let report = fitted.report;
    progress(TrainProgress::Line(format!(
        "  fitted {} documents in {:.2} s: {} iterations ({} passes), objective {:.6}{}",
        rows.len(),
        started.elapsed().as_secs_f64(),
        report.iterations,
        report.evaluations,
        report.objective,
        if report.converged {
            ""
        } else {
            " (iteration limit reached)"
        }
    )));
    Ok(Fit {
        vectorizer: HashingVectorizer::with_idf(spec.clone(), idf)?,
        model: fitted.model,
        passes: report.evaluations,
    })
}

/// Label probabilities of the store rows `rows`, weighted as `vectorizer` weighs text.
pub fn probabilities(
    vectorizer: &HashingVectorizer,
    model: &LinearModel,
    store: &TfStore,
    rows: &[u32],
) -> Vec<Vec<f64>> {
    let scale = tf_scale(vectorizer.spec());
    let features = store.column_feature();
    rows.par_iter()
        .map_init(
            || (SparseVec::default(), Vec::new()),
            |(v, z), &i| {
                v.clear();
                store.for_each_in_row(i as usize, |c, n| {
                    v.idx.push(features[c as usize]);
                    v.val.push(scale.apply(n));
                });
                vectorizer.weigh(v);
                let mut probs = Vec::new();
                model.probabilities_into(v, z, &mut probs);
                probs
            },
        )
        .collect()
}

/// The label decision Comprehend's metrics use: the top class, or every label at 0.5 or more.
pub fn decide(mode: Mode, probs: &[f64]) -> Vec<u32> {
    match mode {
        Mode::MultiClass => {
            let mut best = 0;
            for (i, &p) in probs.iter().enumerate() {
                if p > probs[best] {
                    best = i;
                }
            }
            vec![best as u32]
        }
        Mode::MultiLabel => probs
            .iter()
            .enumerate()
            .filter(|(_, &p)| p >= 0.5)
            .map(|(i, _)| i as u32)
            .collect(),
    }
}
