//! The training job, room by room: `settings` (what a run is asked to do), `budget` (the memory
//! it may use), `data` (the labelled documents, read once, labels checked, duplicates and
//! threads grouped), `store` (vectorizing into one compact store), `search` (the settings
//! chosen from the data), `fit` (one model on some rows), `evaluate` (Comprehend's held-out
//! evaluation), `cross_validate`, and `write` (the model folder). `train` below is the pipeline
//! that calls them: load → choose → vectorize → evaluate → fit on everything → write. IDF
//! weights are always learned on the fitted rows only, and every split keeps duplicates and
//! threads on one side (`groups`, `folds`).

pub mod budget;
pub mod cross_validate;
pub mod data;
pub mod evaluate;
pub mod fit;
pub mod folds;
pub mod groups;
pub mod output;
pub mod report;
pub mod search;
pub mod settings;
pub mod store;
pub mod write;

/// The training report's file name, in the model folder and in the training output.
pub use report::FILE as REPORT_FILE;

pub use self::cross_validate::{cross_validate, CrossValidation};
pub use self::data::check_label_counts;
pub use self::evaluate::Evaluation;
pub use self::settings::{TrainConfig, LANGUAGES};

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use crate::aws;
use crate::error::{Error, Result};
use crate::model::{Classifier, ClassifierRecord, LinearModel, TrainParams};
use crate::text::FeatureSpec;

use self::data::Loaded;
use self::groups::{GroupCounts, Overlap};
use self::search::SearchRecord;

/// What training reports while it works: lasting lines (stages, each candidate's score, the
/// evaluation) and a passing status (the optimiser's iterations, the fold being fitted), which
/// a terminal shows in place and a log leaves out.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainProgress {
    Line(String),
    Status(String),
}

impl TrainProgress {
    /// The same report, indented one level (reports of a step inside another).
    pub fn indented(self) -> TrainProgress {
        match self {
            TrainProgress::Line(l) => TrainProgress::Line(format!("  {l}")),
            TrainProgress::Status(s) => TrainProgress::Status(s),
        }
    }

    /// The same report as a passing status within `context` (a search candidate's inner
    /// fits), the changing part first so a narrow terminal still shows it.
    pub fn as_status_of(self, context: &str) -> TrainProgress {
        match self {
            TrainProgress::Line(l) | TrainProgress::Status(l) => {
                TrainProgress::Status(format!("{} | {context}", l.trim_start()))
            }
        }
    }
}

/// What a finished training run produced.
#[derive(Debug)]
pub struct TrainOutcome {
    pub dir: PathBuf,
    pub record: ClassifierRecord,
    pub evaluation: Evaluation,
    pub selection: Selection,
}

/// How a training run chose its settings and split its data, as `model.json` records it.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Selection {
    pub duplicates: GroupCounts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_overlap: Option<Overlap>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<SearchRecord>,
}

/// The settings a training run fits with, and how they were found.
struct Chosen {
    features: FeatureSpec,
    params: TrainParams,
    search: Option<SearchRecord>,
    /// A model of the same setting on most of the data: the evaluation's fit starts there.
    start: Option<LinearModel>,
}

/// The features and learner settings to train with: the configuration's own, or the search's
/// choice on the training rows.
fn choose(
    config: &TrainConfig,
    loaded: &Loaded,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<Chosen> {
    let Some(settings) = &config.search else {
        return Ok(Chosen {
            features: config.features.clone(),
            params: config.params.clone(),
            search: None,
            start: None,
        });
    };
    let rows: Vec<u32> = (0..loaded.corpus.n_train() as u32).collect();
    let winner = search::search(
        &search::Data {
            corpus: &loaded.corpus,
            rows: &rows,
            groups: &loaded.groups.of,
        },
        config,
        settings,
        progress,
    )?;
    Ok(Chosen {
        features: winner.candidate.features,
        params: winner.candidate.params,
        search: Some(winner.record),
        start: winner.start,
    })
}

/// Runs a whole training job and writes the model into the registry.
pub fn train(
    config: &TrainConfig,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<TrainOutcome> {
    config.validate()?;
    let dir = config
        .registry
        .folder_for(&config.name, config.version.as_deref());
    if dir.exists() && !config.overwrite {
        return Err(Error::ModelExists { path: dir });
    }
    let submit_time = aws::now_epoch();
    let started = Instant::now();
    budget::check_input(config, progress)?;
    let mut loaded = data::load(config, progress)?;
    let training_start = aws::now_epoch();
    let chosen = choose(config, &loaded, progress)?;
    let fitted = fit_all(config, &mut loaded, chosen, progress)?;
    let times = (submit_time, training_start, aws::now_epoch());
    let outcome = write_run(config, &loaded, fitted, dir, times, started)?;
    progress(TrainProgress::Line(format!(
        "wrote {} in {:.1} s total",
        outcome.dir.display(),
        started.elapsed().as_secs_f64()
    )));
    Ok(outcome)
}

/// A run's fitted model, its evaluation and how its settings were chosen.
struct Fitted {
    features: FeatureSpec,
    params: TrainParams,
    vectorizer: crate::text::HashingVectorizer,
    model: LinearModel,
    evaluation: Evaluation,
    search: Option<SearchRecord>,
}

/// Vectorizes every row with the chosen features (the texts are freed then), evaluates, and
/// fits the final model on all training rows, starting from the evaluation's model.
fn fit_all(
    config: &TrainConfig,
    loaded: &mut Loaded,
    chosen: Chosen,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<Fitted> {
    let Chosen {
        features,
        params,
        search,
        start,
    } = chosen;
    let t0 = Instant::now();
    let all: Vec<u32> = (0..loaded.corpus.len() as u32).collect();
    let store = store::vectorize(&features, &loaded.corpus, &all)?;
    loaded.corpus.drop_texts();
    progress(TrainProgress::Line(format!(
        "vectorized {} documents in {:.2} s ({} labels, {} features stored in {:.1} MB)",
        store.n_rows(),
        t0.elapsed().as_secs_f64(),
        loaded.corpus.labels.len(),
        store.entries(),
        store.heap_bytes() as f64 / 1e6
    )));
    let data = fit::Data {
        store: &store,
        targets: &loaded.corpus.targets,
        labels: &loaded.corpus.labels,
    };
    let evaluation = evaluate::evaluate(
        config,
        loaded,
        &data,
        (&features, &params),
        start.as_ref(),
        progress,
    )?;
    drop(start);
    let n_train = loaded.corpus.n_train();
    progress(TrainProgress::Line(format!(
        "fitting the final model on all {n_train} training documents"
    )));
    let rows: Vec<u32> = (0..n_train as u32).collect();
    let fit::Fit {
        vectorizer, model, ..
    } = fit::fit(
        &features,
        &params,
        &data,
        &rows,
        evaluation.model.as_ref(),
        progress,
    )?;
    Ok(Fitted {
        features,
        params,
        vectorizer,
        model,
        evaluation,
        search,
    })
}

/// Writes the report, the training output and the model folder; returns the run's outcome.
fn write_run(
    config: &TrainConfig,
    loaded: &Loaded,
    fitted: Fitted,
    dir: PathBuf,
    (submit_time, training_start, training_end): (f64, f64, f64),
    started: Instant,
) -> Result<TrainOutcome> {
    let Fitted {
        features,
        params,
        vectorizer,
        model,
        evaluation,
        search,
    } = fitted;
    let selection = Selection {
        duplicates: loaded.groups.counts.clone(),
        test_overlap: loaded.overlap.clone(),
        search,
    };
    let meta = write::model_meta(
        config,
        loaded,
        (&features, &params),
        evaluation.metadata.clone(),
        &selection,
        &model,
    )?;
    let arn = config
        .registry
        .identity
        .classifier_arn(&config.name, config.version.as_deref());
    let report = report::render(&report::ReportInput {
        name: &config.name,
        arn: &arn,
        mode: params.mode,
        labels: &loaded.corpus.labels,
        documents: loaded.corpus.n_train(),
        evaluation: &evaluation,
        selection: &selection,
        features: &features,
        params: &params,
        seconds: started.elapsed().as_secs_f64(),
    })?;
    let output_data_config = write::write_training_output(config, &evaluation.confusion, &report)?;
    let record = ClassifierRecord {
        submit_time,
        end_time: Some(aws::now_epoch()),
        training_start_time: Some(training_start),
        training_end_time: Some(training_end),
        output_data_config,
        ..ClassifierRecord::from_model(&meta, arn)
    };
    write::write_model_folder(
        &dir,
        Classifier::new(meta, vectorizer, model),
        &evaluation.confusion,
        &record,
        &[(report::FILE, report.as_bytes())],
        config.overwrite,
    )?;
    Ok(TrainOutcome {
        dir,
        record,
        evaluation,
        selection,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_keeps_iterations_out_of_the_lasting_lines() {
        let dir = tempfile::tempdir().unwrap();
        let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sms_small.csv");
        let registry =
            crate::model::registry::Registry::new(dir.path(), crate::aws::Identity::default());
        let mut config = TrainConfig::new("progress", registry);
        config.train_uri = Some(fixture.to_string());
        let mut events = Vec::new();
        train(&config, &mut |e| events.push(e)).unwrap();
        let lines: Vec<&String> = events
            .iter()
            .filter_map(|e| match e {
                TrainProgress::Line(l) => Some(l),
                TrainProgress::Status(_) => None,
            })
            .collect();
        let statuses: Vec<&String> = events
            .iter()
            .filter_map(|e| match e {
                TrainProgress::Status(s) => Some(s),
                TrainProgress::Line(_) => None,
            })
            .collect();
        assert!(lines.iter().any(|l| l.starts_with("search: chose ")));
        assert!(lines.iter().all(|l| !l.contains("iteration ")), "{lines:?}");
        // A terminal sees the optimiser move, also inside the search's candidates.
        assert!(statuses
            .iter()
            .any(|s| s.starts_with("iteration ") && s.contains("| search: ")));
        assert!(statuses
            .iter()
            .any(|s| s.starts_with("iteration ") && !s.contains("search")));
    }
}
