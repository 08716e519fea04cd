//! One flywheel iteration: train a new version of the flywheel's classifier with the automatic
//! settings search on all its TRAIN datasets, then score the active version and the new one on
//! the same test data (the TEST datasets; without any, a grouped tenth of the training data kept
//! out of the new version's training, duplicates and threads whole), and write the comparison
//! into the data lake (`evaluation.json`, `report.html`). Promotion stays the user's decision.

use std::path::{Path, PathBuf};

use serde_json::json;
use sha2::Sha256;

use super::lake;
use super::record::ModelMetrics;
use crate::aws::Identity;
use crate::error::{Error, Result};
use crate::input::labeled::{self, DataFormat, LabelShape, LabeledSet, ReadOptions};
use crate::input::Utf8Policy;
use crate::job::train::folds::grouped_holdout;
use crate::job::train::groups::{group_prints, Fingerprints};
use crate::job::train::{self, TrainConfig};
use crate::model::metrics::{self, EvaluationMetrics, LabelScore};
use crate::model::registry::Registry;
use crate::model::{Classifier, Mode, Targets, TrainParams};

/// What an iteration is given.
pub struct Plan<'a> {
    pub flywheel_arn: &'a str,
    pub iteration_id: &'a str,
    /// The flywheel's lake folder (`FlywheelProperties.DataLakeS3Uri`).
    pub lake: &'a str,
    /// Name of the classifier whose versions the flywheel trains.
    pub model_name: &'a str,
    pub identity: Identity,
    pub registry_root: &'a Path,
    pub mode: Mode,
    pub language_code: &'a str,
    pub label_delimiter: char,
    /// The active version: its ARN and folder (none before the first iteration of a flywheel
    /// made for a new model).
    pub active: Option<(String, PathBuf)>,
    /// COMPLETED datasets' folders in the lake, read where the engine reads them.
    pub train: Vec<String>,
    /// Those of `train` the active version was trained on: without TEST datasets, the test
    /// documents are held out from the others, so the active version is not scored on
    /// documents it learned.
    pub seen_by_active: Vec<String>,
    pub test: Vec<String>,
    pub s3_root: Option<&'a Path>,
}

/// What an iteration produced.
pub struct Outcome {
    pub trained_model_arn: String,
    pub trained: ModelMetrics,
    pub evaluated: Option<(String, ModelMetrics)>,
    pub manifest_prefix: String,
    pub report_uri: String,
    /// The new version's statistics folder in the lake.
    pub stats_prefix: String,
}

/// Runs an iteration; `stage` hears `EVALUATING` when training is done.
pub fn run(plan: &Plan, stage: &mut dyn FnMut(&str)) -> Result<Outcome> {
    if plan.train.is_empty() {
        return Err(Error::Training(
            "the flywheel has no TRAIN dataset; add one with CreateDataset".into(),
        ));
    }
    let manifest_prefix = lake::evaluation(plan.lake, plan.iteration_id);
    let local = |u: &str| engine_uri(u, plan.s3_root);
    let (train_uris, test_uris, active_saw_test) = if plan.test.is_empty() {
        let held = hold_out(plan, &manifest_prefix)?;
        (vec![held.train], vec![held.test], held.active_saw_test)
    } else {
        (plan.train.clone(), plan.test.clone(), false)
    };
    let train_local: Vec<String> = train_uris.iter().map(|u| local(u)).collect::<Result<_>>()?;
    let test_local: Vec<String> = test_uris.iter().map(|u| local(u)).collect::<Result<_>>()?;

    let registry = Registry::new(plan.registry_root.to_path_buf(), plan.identity.clone()).scoped();
    let mut config = TrainConfig::new(plan.model_name, registry);
    config.version = Some(plan.iteration_id.to_string());
    // The version is this iteration's own: one left by a run that died is replaced.
    config.overwrite = true;
    config.train_uri = train_local.first().cloned();
    config.more_train_uris = train_local[1..].to_vec();
    config.test_uri = test_local.first().cloned();
    config.more_test_uris = test_local[1..].to_vec();
    config.label_delimiter = plan.label_delimiter;
    config.language_code = plan.language_code.to_string();
    config.params = TrainParams {
        mode: plan.mode,
        ..TrainParams::default()
    };
    config.input_data_config = json!({
        "DataFormat": "COMPREHEND_CSV",
        "S3Uri": format!("{}datasets/", plan.lake),
    });
    config.s3_root = plan.s3_root.map(Path::to_path_buf);
    let trained = train::train(&config, &mut |_| {})?;
    let trained_arn = plan
        .identity
        .classifier_arn(plan.model_name, Some(plan.iteration_id));

    // The new version's own statistics, beside the data it was trained on.
    let stats = lake::model_stats(plan.lake, plan.iteration_id);
    for name in ["confusion_matrix.json", train::REPORT_FILE] {
        if let Ok(bytes) = std::fs::read(trained.dir.join(name)) {
            lake::write(&format!("{stats}{name}"), &bytes, plan.s3_root)?;
        }
    }

    stage("EVALUATING");
    let test = read(&test_local, plan)?;
    let new_model = Classifier::load(&trained.dir)?;
    let trained_scores = score(&new_model, &test);
    let evaluated = match &plan.active {
        Some((arn, dir)) => {
            let active = Classifier::load(dir)?;
            Some((arn.clone(), score(&active, &test)))
        }
        None => None,
    };
    let report = super::report::render(&super::report::Input {
        flywheel_arn: plan.flywheel_arn,
        iteration_id: plan.iteration_id,
        documents: test.len(),
        trained: (&trained_arn, &trained_scores),
        evaluated: evaluated.as_ref().map(|(a, s)| (a.as_str(), s)),
        active_saw_test,
    })?;
    let manifest = json!({
        "FlywheelArn": plan.flywheel_arn,
        "FlywheelIterationId": plan.iteration_id,
        "TestDocuments": test.len(),
        "TestData": test_uris,
        "TrainData": train_uris,
        "ActiveModelTrainedOnTestData": active_saw_test,
        "TrainedModel": scores_json(&trained_arn, &trained_scores),
        "EvaluatedModel": evaluated.as_ref().map(|(a, s)| scores_json(a, s)),
    });
    let mut bytes = serde_json::to_vec_pretty(&manifest)?;
    bytes.push(b'\n');
    lake::write(
        &format!("{manifest_prefix}evaluation.json"),
        &bytes,
        plan.s3_root,
    )?;
    let report_uri = format!("{manifest_prefix}report.html");
    lake::write(&report_uri, report.as_bytes(), plan.s3_root)?;
    Ok(Outcome {
        trained_model_arn: trained_arn,
        trained: trained_scores.metrics(),
        evaluated: evaluated.map(|(a, s)| (a, s.metrics())),
        manifest_prefix,
        report_uri,
        stats_prefix: stats,
    })
}

/// Where the engine reads a lake URI: under the service's S3 root when it has one, else the
/// URI itself (real S3, or a local path).
pub fn engine_uri(uri: &str, s3_root: Option<&Path>) -> Result<String> {
    match s3_root {
        Some(_) => crate::location::resolve(uri, s3_root),
        None => Ok(uri.to_string()),
    }
}

/// The labelled documents of `uris`, as the flywheel's models are trained on them.
fn read(uris: &[String], plan: &Plan) -> Result<LabeledSet> {
    let opts = ReadOptions {
        format: DataFormat::ComprehendCsv,
        labels: match plan.mode {
            Mode::MultiClass => LabelShape::One,
            Mode::MultiLabel => LabelShape::Many {
                delimiter: plan.label_delimiter,
            },
        },
        utf8: Utf8Policy::Lossy,
        documents: crate::input::document::Reader::new(Default::default(), Default::default()),
    };
    let mut all = LabeledSet::default();
    for u in uris {
        all.extend(labeled::read(u, &opts, &mut Sha256::default())?);
    }
    Ok(all)
}

/// The test data an iteration made itself, and where.
struct HeldOut {
    train: String,
    test: String,
    /// No document was left that the active version had not been trained on, so it is scored
    /// on some it learned (the report says so).
    active_saw_test: bool,
}

/// Without TEST datasets: a grouped tenth of the TRAIN data becomes the test data (written as
/// `test.csv` beside the rest, `train.csv`, in the iteration's folder), so the new version is
/// scored on documents it never saw; groups holding a document the active version was trained
/// on stay on the training side, so it is scored on documents it never saw either.
fn hold_out(plan: &Plan, prefix: &str) -> Result<HeldOut> {
    let mut set = LabeledSet::default();
    let mut seen_rows = 0..0;
    // The active version's data first, so its rows are one range.
    let mut ordered: Vec<&String> = plan.seen_by_active.iter().collect();
    ordered.extend(
        plan.train
            .iter()
            .filter(|u| !plan.seen_by_active.contains(u)),
    );
    for (k, uri) in ordered.iter().enumerate() {
        set.extend(read(&[engine_uri(uri, plan.s3_root)?], plan)?);
        if k + 1 == plan.seen_by_active.len() {
            seen_rows = 0..set.len();
        }
    }
    let prints = Fingerprints::of_all(set.len(), |i| set.text(i));
    let groups = group_prints(&prints);
    let mut names = set.names().to_vec();
    names.sort();
    let targets = Targets::from_rows(
        names.len(),
        (0..set.len()).map(|i| {
            let mut ids: Vec<u32> = set
                .labels(i)
                .map(|l| names.binary_search_by(|n| n.as_str().cmp(l)).unwrap_or(0) as u32)
                .collect();
            ids.sort_unstable();
            ids
        }),
    );
    let (mut train_rows, mut test_rows) =
        grouped_holdout(&groups.of, &targets, 0.1, crate::rng::SEED);
    let seen_groups: std::collections::HashSet<usize> = seen_rows.map(|i| groups.of[i]).collect();
    let unseen: Vec<u32> = test_rows
        .iter()
        .copied()
        .filter(|&i| !seen_groups.contains(&groups.of[i as usize]))
        .collect();
    let active_saw_test = unseen.is_empty();
    if !active_saw_test {
        train_rows.extend(
            test_rows
                .iter()
                .filter(|&&i| seen_groups.contains(&groups.of[i as usize])),
        );
        train_rows.sort_unstable();
        test_rows = unseen;
    }
    let delimiter = plan.label_delimiter.to_string();
    let csv = |rows: &[u32]| -> Vec<u8> {
        let mut out = Vec::new();
        for &i in rows {
            let labels: Vec<&str> = set.labels(i as usize).collect();
            write_csv_row(&mut out, &labels.join(&delimiter), set.text(i as usize));
        }
        out
    };
    let train_uri = format!("{prefix}train.csv");
    let test_uri = format!("{prefix}test.csv");
    lake::write(&train_uri, &csv(&train_rows), plan.s3_root)?;
    lake::write(&test_uri, &csv(&test_rows), plan.s3_root)?;
    Ok(HeldOut {
        train: train_uri,
        test: test_uri,
        active_saw_test,
    })
}

/// One `label,text` row, each field quoted when it must be (RFC 4180).
fn write_csv_row(out: &mut Vec<u8>, label: &str, text: &str) {
    for (k, field) in [label, text].into_iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        if field.contains([',', '"', '\n', '\r']) || field.starts_with(' ') {
            out.push(b'"');
            out.extend_from_slice(field.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(field.as_bytes());
        }
    }
    out.push(b'\n');
}

/// A model's results on the test documents: Comprehend's metrics, per label, and the matrix.
pub struct Scores {
    pub labels: Vec<String>,
    pub mode: Mode,
    pub metrics: EvaluationMetrics,
    pub per_label: Vec<LabelScore>,
    pub confusion: serde_json::Value,
}

impl Scores {
    /// `FlywheelModelEvaluationMetrics`: Comprehend's averages are the macro averages its
    /// classifier metrics report (`Precision`, `Recall`, `F1Score`) and the accuracy.
    fn metrics(&self) -> ModelMetrics {
        ModelMetrics {
            average_f1_score: self.metrics.f1_score,
            average_precision: self.metrics.precision,
            average_recall: self.metrics.recall,
            average_accuracy: self.metrics.accuracy,
        }
    }
}

/// Classifies every test document with `model`, over the labels of the model and the test data
/// together (a test label the model does not know counts as missed).
fn score(model: &Classifier, test: &LabeledSet) -> Scores {
    let mode = model.model().mode();
    let mut labels: Vec<String> = model.model().labels().to_vec();
    for name in test.names() {
        if !labels.contains(name) {
            labels.push(name.clone());
        }
    }
    let index = |name: &str| labels.iter().position(|l| l == name).unwrap_or(0) as u32;
    let own: Vec<u32> = model.model().labels().iter().map(|l| index(l)).collect();
    let mut scratch = crate::model::ScoreScratch::default();
    let mut probs = Vec::new();
    let mut truth = Vec::with_capacity(test.len());
    let mut predicted = Vec::with_capacity(test.len());
    for i in 0..test.len() {
        model.probabilities_into(test.text(i), &mut scratch, &mut probs);
        let decided = crate::job::train::fit::decide(mode, &probs);
        predicted.push(
            decided
                .iter()
                .map(|&l| own[l as usize])
                .collect::<Vec<u32>>(),
        );
        truth.push(test.labels(i).map(index).collect::<Vec<u32>>());
    }
    let (metrics, confusion) = metrics::evaluate(mode, &labels, &truth, &predicted);
    let per_label = metrics::per_label(&labels, &truth, &predicted);
    Scores {
        confusion: confusion.confusion_matrix,
        labels,
        mode,
        metrics,
        per_label,
    }
}

fn scores_json(arn: &str, s: &Scores) -> serde_json::Value {
    json!({
        "ModelArn": arn,
        "EvaluationMetrics": s.metrics,
        "PerLabel": s.per_label,
        "ConfusionMatrix": { "labels": s.labels, "matrix": s.confusion },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_quoted_when_they_must_be() {
        let mut out = Vec::new();
        write_csv_row(&mut out, "spam", "plain text");
        write_csv_row(&mut out, "a|b", "says \"hi\", twice\nthen more");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "spam,plain text\na|b,\"says \"\"hi\"\", twice\nthen more\"\n"
        );
    }
}
