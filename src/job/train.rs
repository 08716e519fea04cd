//! The training job: read labelled data, vectorize it once (term frequencies), hold out a
//! stratified 10% (or use the given test set) to evaluate as Comprehend does, then fit the final
//! model on all training data and write it atomically into the registry. Cross-validation reuses
//! the same steps over k folds. IDF weights are always learned on the fitting part only.

use std::fs;
use std::path::PathBuf;
use std::time::Instant;

use linfa::dataset::DatasetBase;
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::aws::{self, check_resource_name};
use crate::error::{Error, Param, Result};
use crate::input::labeled::{
    self, DataFormat, LabelShape, LabeledDoc, LabeledSet, ManifestSpec, ReadOptions,
};
use crate::input::Utf8Policy;
use crate::model::io::{ModelMeta, TrainingData, WeightsInfo, FORMAT_VERSION};
use crate::model::metrics::{
    self, ClassifierMetadata, ConfusionMatrix, EvaluationMetrics, LabelScore,
};
use crate::model::registry::Registry;
use crate::model::{
    Classifier, ClassifierRecord, LinearModel, Mode, SparseRows, Targets, TrainParams,
};
use crate::rng::{SplitMix64, SEED};
use crate::text::hash::idf_from_df;
use crate::text::{FeatureSpec, HashingVectorizer, SparseVec, VectorizerScratch};

/// Everything a training run needs, validated by `validate` before any data is read.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    pub name: String,
    pub version: Option<String>,
    pub registry: Registry,
    pub train_uri: Option<String>,
    pub test_uri: Option<String>,
    pub manifests: Vec<ManifestSpec>,
    pub format: DataFormat,
    /// Separates labels in MULTI_LABEL CSV rows (`params.mode` says which mode).
    pub label_delimiter: char,
    pub utf8: Utf8Policy,
    pub language_code: String,
    pub features: FeatureSpec,
    pub params: TrainParams,
    pub min_examples_per_label: usize,
    pub holdout_fraction: f64,
    pub seed: u64,
    /// Echoed into the classifier record (Comprehend's `InputDataConfig`).
    pub input_data_config: serde_json::Value,
    pub output_data_config: Option<serde_json::Value>,
    /// Replace an existing model of the same name and version.
    pub overwrite: bool,
}

/// Languages Comprehend's custom classification accepts.
pub const LANGUAGES: &[&str] = &[
    "en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW",
];

impl TrainConfig {
    /// A training run of classifier `name` into `registry` with every other setting at its
    /// default: COMPREHEND_CSV, MULTI_CLASS, English, strict UTF-8, the default features and
    /// learner, Comprehend's 10 examples per label, a 10% hold-out drawn with the project seed.
    pub fn new(name: &str, registry: Registry) -> Self {
        TrainConfig {
            name: name.into(),
            version: None,
            registry,
            train_uri: None,
            test_uri: None,
            manifests: Vec::new(),
            format: DataFormat::ComprehendCsv,
            label_delimiter: '|',
            utf8: Utf8Policy::Error,
            language_code: "en".into(),
            features: FeatureSpec::default(),
            params: TrainParams::default(),
            min_examples_per_label: 10,
            holdout_fraction: 0.1,
            seed: SEED,
            input_data_config: serde_json::Value::Null,
            output_data_config: None,
            overwrite: false,
        }
    }

    /// How the labelled data is read, by format and mode.
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            format: self.format,
            labels: match self.params.mode {
                Mode::MultiClass => LabelShape::One,
                Mode::MultiLabel => LabelShape::Many {
                    delimiter: self.label_delimiter,
                },
            },
            utf8: self.utf8,
            documents: crate::input::document::Reader::new(Default::default(), Default::default()),
        }
    }

    pub fn validate(&self) -> Result<()> {
        check_resource_name(Param::ClassifierName, &self.name)?;
        if let Some(v) = &self.version {
            check_resource_name(Param::VersionName, v)?;
        }
        if !LANGUAGES.contains(&self.language_code.as_str()) {
            return Err(Error::param(
                Param::LanguageCode,
                &self.language_code,
                format!("one of {}", LANGUAGES.join(", ")),
            ));
        }
        self.features.validate()?;
        self.params.validate()?;
        if !(0.0..0.9).contains(&self.holdout_fraction) {
            return Err(Error::param(
                Param::HoldoutFraction,
                self.holdout_fraction,
                "0 <= f < 0.9",
            ));
        }
        match self.format {
            DataFormat::AugmentedManifest if self.manifests.is_empty() => Err(Error::missing(
                Param::AugmentedManifests,
                "AugmentedManifests=[{S3Uri=...,AttributeNames=[...]}] for AUGMENTED_MANIFEST",
            )),
            DataFormat::ComprehendCsv | DataFormat::LabelFolders if self.train_uri.is_none() => {
                Err(Error::missing(
                    Param::TrainingData,
                    "S3Uri, the training data",
                ))
            }
            _ => Ok(()),
        }
    }
}

/// Labelled data vectorized once: per-document term frequencies and label indices.
pub struct Prepared {
    pub labels: Vec<String>,
    pub tf: Vec<SparseVec>,
    pub targets: Vec<Vec<u32>>,
}

/// Vectorizes documents (term frequencies only) in parallel, in input order.
pub fn term_frequencies(spec: &FeatureSpec, docs: &[LabeledDoc]) -> Result<Vec<SparseVec>> {
    let vectorizer = HashingVectorizer::new(spec.clone())?;
    Ok(docs
        .par_iter()
        .map_init(VectorizerScratch::default, |scratch, doc| {
            let mut out = SparseVec::default();
            vectorizer.term_frequencies_into(&doc.text, scratch, &mut out);
            out
        })
        .collect())
}

/// Sorted label names of a document set.
pub fn label_names(docs: &[LabeledDoc]) -> Vec<String> {
    let mut names: Vec<String> = docs.iter().flat_map(|d| d.labels.iter().cloned()).collect();
    names.sort();
    names.dedup();
    names
}

fn label_indices(docs: &[LabeledDoc], labels: &[String], what: &str) -> Result<Vec<Vec<u32>>> {
    docs.iter()
        .map(|d| {
            d.labels
                .iter()
                .map(|l| {
                    labels
                        .binary_search(l)
                        .map(|i| i as u32)
                        .map_err(|_| {
                            Error::data(
                                &d.origin,
                                format!("{what} label '{l}' does not occur in the training data; every test label needs training examples"),
                            )
                        })
                })
                .collect()
        })
        .collect()
}

/// Checks label counts against Comprehend's rules.
pub fn check_label_counts(docs: &[LabeledDoc], mode: Mode, min: usize, source: &str) -> Result<()> {
    let labels = label_names(docs);
    if mode == Mode::MultiClass && labels.len() < 2 {
        return Err(Error::data(
            source,
            format!(
                "found {} label(s) {:?}; MULTI_CLASS training needs at least 2",
                labels.len(),
                labels
            ),
        ));
    }
    if mode == Mode::MultiLabel && labels.is_empty() {
        return Err(Error::data(source, "found no labels"));
    }
    let mut few: Vec<(String, usize)> = labels
        .iter()
        .map(|l| {
            (
                l.clone(),
                docs.iter().filter(|d| d.labels.contains(l)).count(),
            )
        })
        .filter(|(_, n)| *n < min)
        .collect();
    if !few.is_empty() {
        few.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        let list: Vec<String> = few
            .iter()
            .take(10)
            .map(|(l, n)| format!("'{l}' has {n}"))
            .collect();
        return Err(Error::data(
            source,
            format!(
                "insufficient data: at least {min} examples are required for each label, but {}{}; add examples (or lower the minimum examples per label)",
                list.join(", "),
                if few.len() > 10 { format!(" and {} more", few.len() - 10) } else { String::new() }
            ),
        ));
    }
    Ok(())
}

/// Fits a vectorizer (IDF) and a linear model on the rows `rows` of `data`.
pub fn fit_rows(
    spec: &FeatureSpec,
    params: &TrainParams,
    data: &Prepared,
    rows: &[usize],
    progress: &mut dyn FnMut(String),
) -> Result<(HashingVectorizer, LinearModel)> {
    let n_features = spec.n_features();
    let idf = if spec.idf {
        let mut df = vec![0u32; n_features];
        for &i in rows {
            for &j in &data.tf[i].idx {
                df[j as usize] += 1;
            }
        }
        idf_from_df(&df, rows.len())
    } else {
        Vec::new()
    };
    let vectorizer = HashingVectorizer::with_idf(spec.clone(), idf)?;
    let weighted: Vec<SparseVec> = rows
        .par_iter()
        .map(|&i| {
            let mut v = data.tf[i].clone();
            vectorizer.weigh(&mut v);
            v
        })
        .collect();
    let x = SparseRows::from_vecs(n_features, &weighted);
    drop(weighted);
    let targets = Targets {
        n_labels: data.labels.len(),
        rows: rows.iter().map(|&i| data.targets[i].clone()).collect(),
    };
    let dataset = DatasetBase::new(x, targets);
    let started = Instant::now();
    let (model, report) = params.fit_with_progress(&dataset, data.labels.clone(), &mut |p| {
        if p.iteration % 25 == 0 {
            progress(format!(
                "  iteration {:>4}  objective {:.6}",
                p.iteration, p.objective
            ));
        }
    })?;
    progress(format!(
        "  fitted {} documents in {:.2} s: {} iterations, objective {:.6}{}",
        rows.len(),
        started.elapsed().as_secs_f64(),
        report.iterations,
        report.objective,
        if report.converged {
            ""
        } else {
            " (iteration limit reached)"
        }
    ));
    Ok((vectorizer, model))
}

/// Predicted label indices for the rows `rows` of `data`.
pub fn predict_rows(
    vectorizer: &HashingVectorizer,
    model: &LinearModel,
    data: &Prepared,
    rows: &[usize],
) -> Vec<Vec<u32>> {
    rows.par_iter()
        .map_init(
            || (Vec::new(), Vec::new()),
            |(z, probs), &i| {
                let mut v = data.tf[i].clone();
                vectorizer.weigh(&mut v);
                model.probabilities_into(&v, z, probs);
                decide(model.mode(), probs)
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

/// Splits row indices into (train, test), holding out `fraction` of each label's documents
/// (stratified by the document's first label), seeded.
pub fn stratified_holdout(
    targets: &[Vec<u32>],
    n_labels: usize,
    fraction: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); n_labels.max(1)];
    for (i, t) in targets.iter().enumerate() {
        groups[t.first().copied().unwrap_or(0) as usize].push(i);
    }
    let mut rng = SplitMix64(seed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for mut g in groups {
        rng.shuffle(&mut g);
        let mut k = (g.len() as f64 * fraction).round() as usize;
        if fraction > 0.0 && k == 0 && g.len() >= 2 {
            k = 1;
        }
        test.extend_from_slice(&g[..k]);
        train.extend_from_slice(&g[k..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

/// What a finished training run produced.
#[derive(Debug)]
pub struct TrainOutcome {
    pub dir: PathBuf,
    pub record: ClassifierRecord,
}

fn read_set(
    config: &TrainConfig,
    uri: Option<&str>,
    split: &str,
    hasher: &mut Sha256,
) -> Result<LabeledSet> {
    let opts = config.read_options();
    match config.format {
        DataFormat::AugmentedManifest => {
            labeled::read_manifests(&config.manifests, split, &opts, hasher)
        }
        _ => match uri {
            Some(u) => labeled::read(u, &opts, hasher),
            None => Ok(LabeledSet::default()),
        },
    }
}

/// Training and test data, read and vectorized once; rows `0..n_train` are training rows.
struct Loaded {
    data: Prepared,
    n_train: usize,
    sha256: String,
}

/// Reads the training and test data, checks the labels and vectorizes every document.
fn load(config: &TrainConfig, progress: &mut dyn FnMut(String)) -> Result<Loaded> {
    let started = Instant::now();
    let mut hasher = Sha256::new();
    let source = config
        .train_uri
        .clone()
        .unwrap_or_else(|| "AugmentedManifests".into());
    let train_set = read_set(config, config.train_uri.as_deref(), "TRAIN", &mut hasher)?;
    let test_set = read_set(config, config.test_uri.as_deref(), "TEST", &mut hasher)?;
    if train_set.docs.is_empty() {
        return Err(Error::data(&source, "no training documents were read"));
    }
    progress(format!(
        "read {} training and {} test documents from {} files ({:.1} MB) in {:.2} s{}",
        train_set.docs.len(),
        test_set.docs.len(),
        train_set.files + test_set.files,
        (train_set.bytes + test_set.bytes) as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        if train_set.skipped + test_set.skipped > 0 {
            format!(
                "; skipped {} undecodable documents",
                train_set.skipped + test_set.skipped
            )
        } else {
            String::new()
        }
    ));
    check_label_counts(
        &train_set.docs,
        config.params.mode,
        config.min_examples_per_label,
        &source,
    )?;

    let labels = label_names(&train_set.docs);
    let mut all_docs = train_set.docs;
    let n_train = all_docs.len();
    let test_targets = label_indices(&test_set.docs, &labels, "test")?;
    all_docs.extend(test_set.docs);
    let t0 = Instant::now();
    let tf = term_frequencies(&config.features, &all_docs)?;
    let mut targets = label_indices(&all_docs[..n_train], &labels, "training")?;
    targets.extend(test_targets);
    drop(all_docs);
    let data = Prepared {
        labels,
        tf,
        targets,
    };
    progress(format!(
        "vectorized {} documents in {:.2} s ({} labels)",
        data.tf.len(),
        t0.elapsed().as_secs_f64(),
        data.labels.len()
    ));
    Ok(Loaded {
        data,
        n_train,
        sha256: hex(&hasher.finalize()),
    })
}

/// Comprehend's evaluation: a model fitted on the training rows (less the hold-out when there
/// is no test set) scores the test rows.
fn evaluate(
    config: &TrainConfig,
    loaded: &Loaded,
    progress: &mut dyn FnMut(String),
) -> Result<(ClassifierMetadata, ConfusionMatrix)> {
    let data = &loaded.data;
    let (eval_train, eval_test): (Vec<usize>, Vec<usize>) = if loaded.n_train < data.tf.len() {
        (
            (0..loaded.n_train).collect(),
            (loaded.n_train..data.tf.len()).collect(),
        )
    } else {
        stratified_holdout(
            &data.targets,
            data.labels.len(),
            config.holdout_fraction,
            config.seed,
        )
    };
    let mode = config.params.mode;
    let (metrics, confusion) = if eval_test.is_empty() {
        progress("no test documents: skipping evaluation".into());
        let empty: Vec<Vec<u32>> = Vec::new();
        metrics::evaluate(mode, &data.labels, &empty, &empty)
    } else {
        progress(format!(
            "evaluating: fitting on {} documents, testing on {}",
            eval_train.len(),
            eval_test.len()
        ));
        let (v, m) = fit_rows(
            &config.features,
            &config.params,
            data,
            &eval_train,
            progress,
        )?;
        let predicted = predict_rows(&v, &m, data, &eval_test);
        let truth: Vec<Vec<u32>> = eval_test.iter().map(|&i| data.targets[i].clone()).collect();
        metrics::evaluate(mode, &data.labels, &truth, &predicted)
    };
    progress(format!(
        "evaluation: accuracy {:.4}, macro F1 {:.4}, micro F1 {:.4}",
        metrics.accuracy, metrics.f1_score, metrics.micro_f1_score
    ));
    let metadata = ClassifierMetadata {
        number_of_labels: data.labels.len(),
        number_of_trained_documents: eval_train.len(),
        number_of_test_documents: eval_test.len(),
        evaluation_metrics: metrics,
    };
    Ok((metadata, confusion))
}

/// `model.json` of a model trained on `loaded` with `config`'s settings.
fn model_meta(
    config: &TrainConfig,
    loaded: &Loaded,
    metadata: ClassifierMetadata,
    model: &LinearModel,
) -> ModelMeta {
    ModelMeta {
        format: "docclass-model".into(),
        format_version: FORMAT_VERSION,
        name: config.name.clone(),
        version_name: config.version.clone(),
        mode: config.params.mode,
        language_code: config.language_code.clone(),
        labels: loaded.data.labels.clone(),
        features: config.features.clone(),
        training: config.params.clone(),
        training_data: TrainingData {
            sha256: loaded.sha256.clone(),
            documents: loaded.data.tf.len(),
            input_data_config: config.input_data_config.clone(),
        },
        classifier_metadata: metadata,
        weights: WeightsInfo {
            file: String::new(),
            bytes: 0,
            crc32: 0,
            heads: model.heads(),
        },
    }
}

/// Runs a whole training job and writes the model into the registry.
pub fn train(config: &TrainConfig, progress: &mut dyn FnMut(String)) -> Result<TrainOutcome> {
    config.validate()?;
    let dir = config
        .registry
        .folder_for(&config.name, config.version.as_deref());
    if dir.exists() && !config.overwrite {
        return Err(Error::ModelExists { path: dir });
    }
    let submit_time = aws::now_epoch();
    let started = Instant::now();
    let loaded = load(config, progress)?;
    let training_start = aws::now_epoch();
    let (metadata, confusion) = evaluate(config, &loaded, progress)?;
    progress(format!(
        "fitting the final model on all {} training documents",
        loaded.n_train
    ));
    let all_rows: Vec<usize> = (0..loaded.n_train).collect();
    let (vectorizer, model) = fit_rows(
        &config.features,
        &config.params,
        &loaded.data,
        &all_rows,
        progress,
    )?;
    let training_end = aws::now_epoch();

    let meta = model_meta(config, &loaded, metadata, &model);
    let arn = config
        .registry
        .identity
        .classifier_arn(&config.name, config.version.as_deref());
    let record = ClassifierRecord {
        submit_time,
        end_time: Some(aws::now_epoch()),
        training_start_time: Some(training_start),
        training_end_time: Some(training_end),
        output_data_config: config.output_data_config.clone(),
        ..ClassifierRecord::from_model(&meta, arn)
    };
    write_model_folder(
        &dir,
        Classifier::new(meta, vectorizer, model),
        &confusion,
        &record,
        config.overwrite,
    )?;
    progress(format!(
        "wrote {} in {:.1} s total",
        dir.display(),
        started.elapsed().as_secs_f64()
    ));
    Ok(TrainOutcome { dir, record })
}

/// Writes the model into a temporary sibling folder, then renames it into place, so a failed or
/// killed run never leaves a half-written model under the final name.
fn write_model_folder(
    dir: &PathBuf,
    mut classifier: Classifier,
    confusion: &ConfusionMatrix,
    record: &ClassifierRecord,
    overwrite: bool,
) -> Result<()> {
    let parent = dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let leaf = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = parent.join(format!(".{leaf}.tmp-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let result = (|| {
        classifier.save(&tmp, confusion)?;
        record.save(&tmp)?;
        if overwrite && dir.exists() {
            fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        fs::rename(&tmp, dir).map_err(|e| Error::io(dir, e))
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Cross-validation results.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CrossValidation {
    pub folds: usize,
    pub documents: usize,
    pub per_fold: Vec<EvaluationMetrics>,
    /// Metrics of all out-of-fold predictions pooled together.
    pub pooled: EvaluationMetrics,
    pub per_label: Vec<LabelScore>,
    pub mean_fit_seconds: f64,
}

/// k-fold cross-validation: document `i` is tested in fold `i mod k` (input order), the
/// documented rule the peer comparison scripts use too.
pub fn cross_validate(
    config: &TrainConfig,
    folds: usize,
    progress: &mut dyn FnMut(String),
) -> Result<CrossValidation> {
    config.validate()?;
    if folds < 2 {
        return Err(Error::param(Param::Folds, folds, "at least 2"));
    }
    let mut hasher = Sha256::new();
    let source = config
        .train_uri
        .clone()
        .unwrap_or_else(|| "AugmentedManifests".into());
    let set = read_set(config, config.train_uri.as_deref(), "TRAIN", &mut hasher)?;
    check_label_counts(
        &set.docs,
        config.params.mode,
        config.min_examples_per_label,
        &source,
    )?;
    let labels = label_names(&set.docs);
    let targets = label_indices(&set.docs, &labels, "training")?;
    let tf = term_frequencies(&config.features, &set.docs)?;
    let data = Prepared {
        labels,
        tf,
        targets,
    };
    let n = data.tf.len();
    let mut per_fold = Vec::new();
    let mut pooled_pred: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut fit_seconds = 0.0;
    for f in 0..folds {
        let train: Vec<usize> = (0..n).filter(|i| i % folds != f).collect();
        let test: Vec<usize> = (0..n).filter(|i| i % folds == f).collect();
        progress(format!(
            "fold {}/{folds}: fitting on {}, testing on {}",
            f + 1,
            train.len(),
            test.len()
        ));
        let t = Instant::now();
        let (v, m) = fit_rows(&config.features, &config.params, &data, &train, progress)?;
        fit_seconds += t.elapsed().as_secs_f64();
        let pred = predict_rows(&v, &m, &data, &test);
        let truth: Vec<Vec<u32>> = test.iter().map(|&i| data.targets[i].clone()).collect();
        per_fold.push(metrics::evaluate(config.params.mode, &data.labels, &truth, &pred).0);
        for (&i, p) in test.iter().zip(pred) {
            pooled_pred[i] = p;
        }
    }
    let pooled = metrics::evaluate(
        config.params.mode,
        &data.labels,
        &data.targets,
        &pooled_pred,
    )
    .0;
    let per_label = metrics::per_label(&data.labels, &data.targets, &pooled_pred);
    Ok(CrossValidation {
        folds,
        documents: n,
        per_fold,
        pooled,
        per_label,
        mean_fit_seconds: fit_seconds / folds as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holdout_is_stratified_and_seeded() {
        let targets: Vec<Vec<u32>> = (0..100).map(|i| vec![u32::from(i % 10 == 0)]).collect();
        let (tr, te) = stratified_holdout(&targets, 2, 0.1, 7);
        assert_eq!(te.len(), 10);
        assert_eq!(te.iter().filter(|&&i| targets[i][0] == 1).count(), 1);
        assert_eq!(tr.len() + te.len(), 100);
        assert_eq!(stratified_holdout(&targets, 2, 0.1, 7).1, te);
        assert_ne!(stratified_holdout(&targets, 2, 0.1, 8).1, te);
    }

    #[test]
    fn too_few_examples_names_label_and_count() {
        let mk = |l: &str| LabeledDoc {
            text: "x".into(),
            labels: vec![l.into()],
            origin: "t.csv:1".into(),
        };
        let mut docs: Vec<LabeledDoc> = (0..12).map(|_| mk("ham")).collect();
        docs.extend((0..3).map(|_| mk("spam")));
        let e = check_label_counts(&docs, Mode::MultiClass, 10, "t.csv")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("'spam' has 3") && e.contains("at least 10"),
            "{e}"
        );
        let one: Vec<LabeledDoc> = (0..12).map(|_| mk("ham")).collect();
        assert!(check_label_counts(&one, Mode::MultiClass, 10, "t.csv").is_err());
    }
}
