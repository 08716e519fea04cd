//! Comprehend's evaluation: a model fitted on the training rows (less a grouped hold-out when
//! there is no test set) scores the test rows, giving `EvaluationMetrics` and the confusion
//! matrix.

use crate::error::Result;
use crate::model::metrics::{self, ClassifierMetadata, ConfusionMatrix};
use crate::model::{LinearModel, TrainParams};
use crate::text::FeatureSpec;

use super::data::Loaded;
use super::fit::{self, decide};
use super::folds::grouped_holdout;
use super::{TrainConfig, TrainProgress};

/// What the evaluation measured: Comprehend's metadata and confusion matrix, and the test
/// documents' labels and probabilities (for the report's curves).
#[derive(Debug)]
pub struct Evaluation {
    pub metadata: ClassifierMetadata,
    pub confusion: ConfusionMatrix,
    pub truth: Vec<Vec<u32>>,
    pub probabilities: Vec<Vec<f64>>,
    /// The model fitted for the evaluation: the final fit starts from it.
    pub model: Option<LinearModel>,
}

/// The rows to fit and to test on: the training rows and the test set, or a grouped hold-out
/// of the training rows.
pub fn split(config: &TrainConfig, loaded: &Loaded) -> (Vec<u32>, Vec<u32>) {
    let corpus = &loaded.corpus;
    let n_train = corpus.n_train() as u32;
    if corpus.len() > corpus.n_train() {
        return (
            (0..n_train).collect(),
            (n_train..corpus.len() as u32).collect(),
        );
    }
    grouped_holdout(
        &loaded.groups.of,
        &corpus.targets,
        config.holdout_fraction,
        config.seed,
    )
}

/// Fits on the evaluation's training rows (starting at `start` when given) and scores its test
/// rows. `data`'s store rows are the corpus rows.
pub fn evaluate(
    config: &TrainConfig,
    loaded: &Loaded,
    data: &fit::Data,
    (features, params): (&FeatureSpec, &TrainParams),
    start: Option<&LinearModel>,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<Evaluation> {
    let (fit_rows, test_rows) = split(config, loaded);
    let mode = params.mode;
    let truth: Vec<Vec<u32>> = test_rows
        .iter()
        .map(|&i| data.targets.get(i as usize).to_vec())
        .collect();
    let (probabilities, model) = if test_rows.is_empty() {
        progress(TrainProgress::Line(
            "no test documents: skipping evaluation".into(),
        ));
        (Vec::new(), None)
    } else {
        progress(TrainProgress::Line(format!(
            "evaluating: fitting on {} documents, testing on {}",
            fit_rows.len(),
            test_rows.len()
        )));
        let f = fit::fit(features, params, data, &fit_rows, start, progress)?;
        let probabilities = fit::probabilities(&f.vectorizer, &f.model, data.store, &test_rows);
        (probabilities, Some(f.model))
    };
    let predicted: Vec<Vec<u32>> = probabilities.iter().map(|p| decide(mode, p)).collect();
    let (metrics, confusion) = metrics::evaluate(mode, data.labels, &truth, &predicted);
    progress(TrainProgress::Line(format!(
        "evaluation: accuracy {:.4}, macro F1 {:.4}, micro F1 {:.4}",
        metrics.accuracy, metrics.f1_score, metrics.micro_f1_score
    )));
    Ok(Evaluation {
        metadata: ClassifierMetadata {
            number_of_labels: data.labels.len(),
            number_of_trained_documents: fit_rows.len(),
            number_of_test_documents: test_rows.len(),
            evaluation_metrics: metrics,
        },
        confusion,
        truth,
        probabilities,
        model,
    })
}
