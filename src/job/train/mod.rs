//! The training job: read labelled data, vectorize it once (term frequencies), hold out 10% (or
//! use the given test set) to evaluate as Comprehend does, then fit the final model on all
//! training data and write it atomically into the registry. Cross-validation reuses the same
//! steps over k folds. IDF weights are always learned on the fitting part only, and every split
//! keeps duplicates and threads on one side (`groups`, `folds`).

pub mod folds;
pub mod groups;
pub mod output;
pub mod report;
pub mod search;

/// The training report's file name, in the model folder and in the training output.
pub use report::FILE as REPORT_FILE;

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
use crate::model::io::{ModelFiles, ModelMeta, TrainingData, WeightsInfo, FORMAT_VERSION};
use crate::model::metrics::{
    self, ClassifierMetadata, ConfusionMatrix, EvaluationMetrics, LabelScore,
};
use crate::model::registry::Registry;
use crate::model::{
    Classifier, ClassifierRecord, LinearModel, Mode, SparseRows, Targets, TrainParams,
};
use crate::rng::SEED;
use crate::text::hash::idf_from_df;
use crate::text::{FeatureSpec, HashingVectorizer, SparseVec, VectorizerScratch};

use self::folds::{grouped_folds, grouped_holdout};
use self::groups::{Fingerprint, GroupCounts, Groups, Overlap};
use self::search::{Overrides, SearchRecord, SearchSettings};

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
    /// Settings used as given when `search` is off; the search's starting point otherwise.
    pub features: FeatureSpec,
    pub params: TrainParams,
    /// Settings the user fixed (tuning flags): every search candidate keeps them.
    pub overrides: Overrides,
    /// Choose features and regularisation from the data (Comprehend's knob-free training);
    /// `None` trains with `features` and `params` as they are.
    pub search: Option<SearchSettings>,
    pub min_examples_per_label: usize,
    pub holdout_fraction: f64,
    pub seed: u64,
    /// Echoed into the classifier record (Comprehend's `InputDataConfig`).
    pub input_data_config: serde_json::Value,
    pub output_data_config: Option<serde_json::Value>,
    /// Folder `s3://bucket/key` URIs map to (the service's `--s3-root`); `None` is real S3.
    pub s3_root: Option<PathBuf>,
    /// Replace an existing model of the same name and version.
    pub overwrite: bool,
}

/// Languages Comprehend's custom classification accepts.
pub const LANGUAGES: &[&str] = &[
    "en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW",
];

impl TrainConfig {
    /// A training run of classifier `name` into `registry` with every other setting at its
    /// default: COMPREHEND_CSV, MULTI_CLASS, English, strict UTF-8, features and learner chosen
    /// by the search, Comprehend's 10 examples per label, a 10% hold-out drawn with the project
    /// seed.
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
            overrides: Overrides::default(),
            search: Some(SearchSettings::default()),
            min_examples_per_label: 10,
            holdout_fraction: 0.1,
            seed: SEED,
            input_data_config: serde_json::Value::Null,
            output_data_config: None,
            s3_root: None,
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

/// Fits a vectorizer (IDF) and a linear model on the rows `rows` of `data`, the optimiser
/// starting at `start`'s weights when given (see `TrainParams::fit_with_progress`).
pub fn fit_rows(
    spec: &FeatureSpec,
    params: &TrainParams,
    data: &Prepared,
    rows: &[usize],
    start: Option<&LinearModel>,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<(HashingVectorizer, LinearModel)> {
    let n_features = spec.n_features();
    let idf = if spec.idf {
        let mut df = vec![0u32; n_features];
        for &i in rows {
            for &j in &data.tf[i].idx {
                df[j as usize] += 1;
            }
        }
        let mut idf = idf_from_df(&df, rows.len());
        if spec.label_weighting {
            scale_by_label_ratios(&mut idf, &df, data, rows);
        }
        idf
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
    let (model, report) =
        params.fit_with_progress(&dataset, data.labels.clone(), start, &mut |p| {
            progress(TrainProgress::Status(format!(
                "iteration {:>4}  objective {:.6}",
                p.iteration, p.objective
            )));
        })?;
    progress(TrainProgress::Line(format!(
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
    )));
    Ok((vectorizer, model))
}

/// Multiplies each seen feature's IDF by its largest |log-count ratio| of one label against the
/// rest among `rows` (documents containing the feature, add-one smoothed, each side normalised
/// by its total; NB-SVM), so features that tell labels apart weigh more.
fn scale_by_label_ratios(idf: &mut [f32], df: &[u32], data: &Prepared, rows: &[usize]) {
    let n_labels = data.labels.len();
    let n = idf.len();
    // in_label[l * n + j]: documents of label l that contain feature j.
    let mut in_label = vec![0u32; n_labels * n];
    for &i in rows {
        for &l in &data.targets[i] {
            let base = l as usize * n;
            for &j in &data.tf[i].idx {
                in_label[base + j as usize] += 1;
            }
        }
    }
    let seen: Vec<usize> = (0..n).filter(|&j| df[j] > 0).collect();
    let mut best = vec![0f64; n];
    for l in 0..n_labels {
        let counts = &in_label[l * n..(l + 1) * n];
        let (mut p_sum, mut q_sum) = (0f64, 0f64);
        for &j in &seen {
            p_sum += f64::from(counts[j]) + 1.0;
            q_sum += f64::from(df[j] - counts[j]) + 1.0;
        }
        for &j in &seen {
            let p = (f64::from(counts[j]) + 1.0) / p_sum;
            let q = (f64::from(df[j] - counts[j]) + 1.0) / q_sum;
            best[j] = best[j].max((p / q).ln().abs());
        }
    }
    for &j in &seen {
        idf[j] *= best[j] as f32;
    }
}

/// Label probabilities for the rows `rows` of `data`.
pub fn probabilities_rows(
    vectorizer: &HashingVectorizer,
    model: &LinearModel,
    data: &Prepared,
    rows: &[usize],
) -> Vec<Vec<f64>> {
    rows.par_iter()
        .map_init(Vec::new, |z, &i| {
            let mut v = data.tf[i].clone();
            vectorizer.weigh(&mut v);
            let mut probs = Vec::new();
            model.probabilities_into(&v, z, &mut probs);
            probs
        })
        .collect()
}

/// Predicted label indices for the rows `rows` of `data`.
pub fn predict_rows(
    vectorizer: &HashingVectorizer,
    model: &LinearModel,
    data: &Prepared,
    rows: &[usize],
) -> Vec<Vec<u32>> {
    probabilities_rows(vectorizer, model, data, rows)
        .iter()
        .map(|p| decide(model.mode(), p))
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

/// What a finished training run produced.
#[derive(Debug)]
pub struct TrainOutcome {
    pub dir: PathBuf,
    pub record: ClassifierRecord,
    pub evaluation: Evaluation,
    pub selection: Selection,
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

/// Training and test data as read; rows `0..n_train` are training rows.
struct Loaded {
    docs: Vec<LabeledDoc>,
    labels: Vec<String>,
    targets: Vec<Vec<u32>>,
    n_train: usize,
    sha256: String,
    /// Duplicate and thread groups of the training rows.
    groups: Groups,
    /// How much of a given test set repeats the training data.
    overlap: Option<Overlap>,
}

/// Reads the training and test data, checks the labels and groups duplicates.
fn load(config: &TrainConfig, progress: &mut dyn FnMut(TrainProgress)) -> Result<Loaded> {
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
    progress(TrainProgress::Line(format!(
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
    )));
    check_label_counts(
        &train_set.docs,
        config.params.mode,
        config.min_examples_per_label,
        &source,
    )?;

    let labels = label_names(&train_set.docs);
    let (groups, overlap) = duplicates(&train_set.docs, &test_set.docs, progress);
    let mut docs = train_set.docs;
    let n_train = docs.len();
    let test_targets = label_indices(&test_set.docs, &labels, "test")?;
    docs.extend(test_set.docs);
    let mut targets = label_indices(&docs[..n_train], &labels, "training")?;
    targets.extend(test_targets);
    Ok(Loaded {
        docs,
        labels,
        targets,
        n_train,
        sha256: hex(&hasher.finalize()),
        groups,
        overlap,
    })
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
    let n = loaded.n_train;
    let fold_of = grouped_folds(
        &loaded.groups.of,
        &loaded.targets[..n],
        settings.folds,
        config.seed,
    );
    let winner = search::search(
        &search::Data {
            docs: &loaded.docs[..n],
            targets: &loaded.targets[..n],
            labels: &loaded.labels,
            fold_of: &fold_of,
        },
        &config.params,
        &config.overrides,
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

/// The settings a training run fits with, and how they were found.
struct Chosen {
    features: FeatureSpec,
    params: TrainParams,
    search: Option<SearchRecord>,
    /// A model of the same setting on most of the data: the evaluation's fit starts there.
    start: Option<LinearModel>,
}

/// Term frequencies of every document (training and test) under `spec`.
fn vectorize(
    loaded: &Loaded,
    spec: &FeatureSpec,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<Prepared> {
    let t0 = Instant::now();
    let data = Prepared {
        labels: loaded.labels.clone(),
        tf: term_frequencies(spec, &loaded.docs)?,
        targets: loaded.targets.clone(),
    };
    progress(TrainProgress::Line(format!(
        "vectorized {} documents in {:.2} s ({} labels)",
        data.tf.len(),
        t0.elapsed().as_secs_f64(),
        data.labels.len()
    )));
    Ok(data)
}

/// Groups the training documents and counts test documents that repeat training documents.
fn duplicates(
    train: &[LabeledDoc],
    test: &[LabeledDoc],
    progress: &mut dyn FnMut(TrainProgress),
) -> (Groups, Option<Overlap>) {
    let started = Instant::now();
    let prints: Vec<Fingerprint> = train.par_iter().map(|d| Fingerprint::of(&d.text)).collect();
    let groups = groups::group_prints(&prints);
    let c = &groups.counts;
    progress(TrainProgress::Line(format!(
        "duplicates: {} exact, {} near, {} in threads; {} groups (largest {}) kept whole in every split ({:.2} s)",
        c.exact_duplicates,
        c.near_duplicates,
        c.thread_members,
        c.groups,
        c.largest_group,
        started.elapsed().as_secs_f64()
    )));
    let overlap = (!test.is_empty()).then(|| {
        let test: Vec<Fingerprint> = test.par_iter().map(|d| Fingerprint::of(&d.text)).collect();
        let o = groups::overlap(&prints, &test);
        if o.exact_duplicates_of_training + o.near_duplicates_of_training > 0 {
            progress(TrainProgress::Line(format!(
                "warning: {} of the {} test documents repeat training documents ({} exactly, {} nearly): the evaluation overstates quality on new documents",
                o.exact_duplicates_of_training + o.near_duplicates_of_training,
                o.test_documents,
                o.exact_duplicates_of_training,
                o.near_duplicates_of_training
            )));
        }
        o
    });
    (groups, overlap)
}

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

/// Comprehend's evaluation: a model fitted on the training rows (less the hold-out when there
/// is no test set) scores the test rows.
fn evaluate(
    config: &TrainConfig,
    loaded: &Loaded,
    data: &Prepared,
    (features, params): (&FeatureSpec, &TrainParams),
    start: Option<&LinearModel>,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<Evaluation> {
    let (eval_train, eval_test): (Vec<usize>, Vec<usize>) = if loaded.n_train < data.tf.len() {
        (
            (0..loaded.n_train).collect(),
            (loaded.n_train..data.tf.len()).collect(),
        )
    } else {
        grouped_holdout(
            &loaded.groups.of,
            &data.targets[..loaded.n_train],
            config.holdout_fraction,
            config.seed,
        )
    };
    let mode = params.mode;
    let truth: Vec<Vec<u32>> = eval_test.iter().map(|&i| data.targets[i].clone()).collect();
    let (probabilities, model) = if eval_test.is_empty() {
        progress(TrainProgress::Line(
            "no test documents: skipping evaluation".into(),
        ));
        (Vec::new(), None)
    } else {
        progress(TrainProgress::Line(format!(
            "evaluating: fitting on {} documents, testing on {}",
            eval_train.len(),
            eval_test.len()
        )));
        let (v, m) = fit_rows(features, params, data, &eval_train, start, progress)?;
        (probabilities_rows(&v, &m, data, &eval_test), Some(m))
    };
    let predicted: Vec<Vec<u32>> = probabilities.iter().map(|p| decide(mode, p)).collect();
    let (metrics, confusion) = metrics::evaluate(mode, &data.labels, &truth, &predicted);
    progress(TrainProgress::Line(format!(
        "evaluation: accuracy {:.4}, macro F1 {:.4}, micro F1 {:.4}",
        metrics.accuracy, metrics.f1_score, metrics.micro_f1_score
    )));
    Ok(Evaluation {
        metadata: ClassifierMetadata {
            number_of_labels: data.labels.len(),
            number_of_trained_documents: eval_train.len(),
            number_of_test_documents: eval_test.len(),
            evaluation_metrics: metrics,
        },
        confusion,
        truth,
        probabilities,
        model,
    })
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

/// `model.json` of a model trained on `loaded` with the chosen settings.
fn model_meta(
    config: &TrainConfig,
    loaded: &Loaded,
    (features, params): (&FeatureSpec, &TrainParams),
    metadata: ClassifierMetadata,
    selection: &Selection,
    model: &LinearModel,
) -> Result<ModelMeta> {
    Ok(ModelMeta {
        format: "docclass-model".into(),
        format_version: FORMAT_VERSION,
        name: config.name.clone(),
        version_name: config.version.clone(),
        mode: params.mode,
        language_code: config.language_code.clone(),
        labels: loaded.labels.clone(),
        features: features.clone(),
        training: params.clone(),
        training_data: TrainingData {
            sha256: loaded.sha256.clone(),
            documents: loaded.docs.len(),
            input_data_config: config.input_data_config.clone(),
        },
        classifier_metadata: metadata,
        weights: WeightsInfo {
            file: String::new(),
            bytes: 0,
            crc32: 0,
            heads: model.heads(),
        },
        selection: Some(serde_json::to_value(selection)?),
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
    let loaded = load(config, progress)?;
    let training_start = aws::now_epoch();
    let Chosen {
        features,
        params,
        search,
        start,
    } = choose(config, &loaded, progress)?;
    let data = vectorize(&loaded, &features, progress)?;
    let evaluation = evaluate(
        config,
        &loaded,
        &data,
        (&features, &params),
        start.as_ref(),
        progress,
    )?;
    drop(start);
    progress(TrainProgress::Line(format!(
        "fitting the final model on all {} training documents",
        loaded.n_train
    )));
    let all_rows: Vec<usize> = (0..loaded.n_train).collect();
    let (vectorizer, model) = fit_rows(
        &features,
        &params,
        &data,
        &all_rows,
        evaluation.model.as_ref(),
        progress,
    )?;
    drop(data);
    let training_end = aws::now_epoch();

    let selection = Selection {
        duplicates: loaded.groups.counts.clone(),
        test_overlap: loaded.overlap.clone(),
        search,
    };
    let meta = model_meta(
        config,
        &loaded,
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
        labels: &loaded.labels,
        documents: loaded.n_train,
        evaluation: &evaluation,
        selection: &selection,
        features: &features,
        params: &params,
        seconds: started.elapsed().as_secs_f64(),
    })?;
    let output_data_config = write_training_output(config, &evaluation.confusion, &report)?;
    let record = ClassifierRecord {
        submit_time,
        end_time: Some(aws::now_epoch()),
        training_start_time: Some(training_start),
        training_end_time: Some(training_end),
        output_data_config,
        ..ClassifierRecord::from_model(&meta, arn)
    };
    write_model_folder(
        &dir,
        Classifier::new(meta, vectorizer, model),
        &evaluation.confusion,
        &record,
        &[(report::FILE, report.as_bytes())],
        config.overwrite,
    )?;
    progress(TrainProgress::Line(format!(
        "wrote {} in {:.1} s total",
        dir.display(),
        started.elapsed().as_secs_f64()
    )));
    Ok(TrainOutcome {
        dir,
        record,
        evaluation,
        selection,
    })
}

/// Writes Comprehend's training output when `OutputDataConfig.S3Uri` was given, and returns the
/// `OutputDataConfig` to record: its `S3Uri` becomes the archive's full URI.
fn write_training_output(
    config: &TrainConfig,
    confusion: &ConfusionMatrix,
    report: &str,
) -> Result<Option<serde_json::Value>> {
    let Some(mut odc) = config.output_data_config.clone() else {
        return Ok(None);
    };
    let Some(prefix) = odc.get("S3Uri").and_then(|v| v.as_str()).map(String::from) else {
        return Ok(Some(odc));
    };
    let id = aws::new_job_id();
    let uri = output::archive_uri(&prefix, &config.registry.identity.account, &id);
    let mut cm = serde_json::to_vec(confusion)?;
    cm.push(b'\n');
    let archive = output::tar_gz(
        &[
            (ModelFiles::CONFUSION, &cm),
            (report::FILE, report.as_bytes()),
        ],
        aws::now_secs(),
    )?;
    output::write(
        &uri,
        config.s3_root.as_deref(),
        &format!("train-{id}"),
        &archive,
    )?;
    odc["S3Uri"] = uri.into();
    Ok(Some(odc))
}

/// Writes the model into a temporary sibling folder, then renames it into place, so a failed or
/// killed run never leaves a half-written model under the final name.
fn write_model_folder(
    dir: &PathBuf,
    mut classifier: Classifier,
    confusion: &ConfusionMatrix,
    record: &ClassifierRecord,
    extra: &[(&str, &[u8])],
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
        for (name, bytes) in extra {
            crate::atomic::write_atomic(&tmp.join(name), bytes)?;
        }
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
}

/// Out-of-fold predictions of one setting: every document predicted by the model fitted on the
/// other folds.
pub struct OutOfFold {
    pub predicted: Vec<Vec<u32>>,
    /// Probabilities of every label, per document.
    pub probabilities: Vec<Vec<f64>>,
    pub per_fold: Vec<EvaluationMetrics>,
    pub fit_seconds: f64,
    /// The setting chosen for each fold, when a search chose them.
    pub chosen: Vec<String>,
    /// The fold models, to start the next setting's fits from (the settings search).
    pub models: Vec<LinearModel>,
}

/// Fits `k` models, each on all folds but one, and predicts the fold left out. With `starts`
/// (one model per fold, e.g. the same folds at a neighbouring C), each fit begins there.
pub fn out_of_fold(
    spec: &FeatureSpec,
    params: &TrainParams,
    data: &Prepared,
    fold_of: &[usize],
    k: usize,
    starts: Option<&[LinearModel]>,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<OutOfFold> {
    let n = fold_of.len();
    let mut out = OutOfFold {
        predicted: vec![Vec::new(); n],
        probabilities: vec![Vec::new(); n],
        per_fold: Vec::with_capacity(k),
        fit_seconds: 0.0,
        chosen: Vec::new(),
        models: Vec::with_capacity(k),
    };
    for f in 0..k {
        let (test, train): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| fold_of[i] == f);
        progress(TrainProgress::Line(format!(
            "fold {}/{k}: fitting on {}, testing on {}",
            f + 1,
            train.len(),
            test.len()
        )));
        let t = Instant::now();
        let start = starts.and_then(|s| s.get(f));
        let (v, m) = fit_rows(spec, params, data, &train, start, progress)?;
        out.fit_seconds += t.elapsed().as_secs_f64();
        let probs = probabilities_rows(&v, &m, data, &test);
        let pred: Vec<Vec<u32>> = probs.iter().map(|p| decide(params.mode, p)).collect();
        let truth: Vec<Vec<u32>> = test.iter().map(|&i| data.targets[i].clone()).collect();
        out.per_fold
            .push(metrics::evaluate(params.mode, &data.labels, &truth, &pred).0);
        for ((&i, p), q) in test.iter().zip(pred).zip(probs) {
            out.predicted[i] = p;
            out.probabilities[i] = q;
        }
        out.models.push(m);
    }
    Ok(out)
}

/// k-fold cross-validation with duplicates and threads kept inside one fold (`folds`). When the
/// configuration searches its settings, the search runs inside every fold on that fold's
/// training part only (nested), so the score is what the automatic settings give on new data.
pub fn cross_validate(
    config: &TrainConfig,
    folds: usize,
    progress: &mut dyn FnMut(TrainProgress),
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
    let (groups, _) = duplicates(&set.docs, &[], progress);
    let fold_of = grouped_folds(&groups.of, &targets, folds, config.seed);
    let mode = config.params.mode;
    let n = targets.len();

    let oof = match &config.search {
        None => {
            let data = Prepared {
                labels: labels.clone(),
                tf: term_frequencies(&config.features, &set.docs)?,
                targets: targets.clone(),
            };
            drop(set);
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
            let mut oof = OutOfFold {
                predicted: vec![Vec::new(); n],
                probabilities: vec![Vec::new(); n],
                per_fold: Vec::with_capacity(folds),
                fit_seconds: 0.0,
                chosen: Vec::with_capacity(folds),
                models: Vec::new(),
            };
            for f in 0..folds {
                let (test, train): (Vec<usize>, Vec<usize>) =
                    (0..n).partition(|&i| fold_of[i] == f);
                progress(TrainProgress::Line(format!(
                    "fold {}/{folds}: searching settings on {} documents",
                    f + 1,
                    train.len()
                )));
                let t = Instant::now();
                let docs: Vec<LabeledDoc> = train.iter().map(|&i| set.docs[i].clone()).collect();
                let train_targets: Vec<Vec<u32>> =
                    train.iter().map(|&i| targets[i].clone()).collect();
                let train_groups: Vec<usize> = train.iter().map(|&i| groups.of[i]).collect();
                let inner =
                    grouped_folds(&train_groups, &train_targets, settings.folds, config.seed);
                let winner = search::search(
                    &search::Data {
                        docs: &docs,
                        targets: &train_targets,
                        labels: &labels,
                        fold_of: &inner,
                    },
                    &config.params,
                    &config.overrides,
                    settings,
                    &mut |event| progress(event.indented()),
                )?;
                drop(docs);
                let data = Prepared {
                    labels: labels.clone(),
                    tf: term_frequencies(&winner.candidate.features, &set.docs)?,
                    targets: targets.clone(),
                };
                let (v, m) = fit_rows(
                    &winner.candidate.features,
                    &winner.candidate.params,
                    &data,
                    &train,
                    winner.start.as_ref(),
                    progress,
                )?;
                oof.fit_seconds += t.elapsed().as_secs_f64();
                let probs = probabilities_rows(&v, &m, &data, &test);
                let pred: Vec<Vec<u32>> = probs.iter().map(|p| decide(mode, p)).collect();
                let truth: Vec<Vec<u32>> = test.iter().map(|&i| targets[i].clone()).collect();
                oof.per_fold
                    .push(metrics::evaluate(mode, &labels, &truth, &pred).0);
                for ((&i, p), q) in test.iter().zip(pred).zip(probs) {
                    oof.predicted[i] = p;
                    oof.probabilities[i] = q;
                }
                oof.chosen.push(winner.candidate.describe());
            }
            oof
        }
    };
    let pooled = metrics::evaluate(mode, &labels, &targets, &oof.predicted).0;
    let per_label = metrics::per_label(&labels, &targets, &oof.predicted);
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
