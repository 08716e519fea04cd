//! The settings of a training run: what to read, how, what to call the model, and what the
//! user fixed; checked before any data is read.

use std::path::PathBuf;

use crate::aws::check_resource_name;
use crate::error::{Error, Param, Result};
use crate::input::labeled::{DataFormat, LabelShape, ManifestSpec, ReadOptions};
use crate::input::Utf8Policy;
use crate::model::registry::Registry;
use crate::model::{Mode, TrainParams};
use crate::rng::SEED;
use crate::text::FeatureSpec;

use super::budget::MemoryBudget;
use super::search::{Overrides, SearchSettings};

/// Everything a training run needs, validated by `validate` before any data is read.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    pub name: String,
    pub version: Option<String>,
    pub registry: Registry,
    pub train_uri: Option<String>,
    pub test_uri: Option<String>,
    /// Further training and test files or prefixes, read after the first (a flywheel's
    /// datasets).
    pub more_train_uris: Vec<String>,
    pub more_test_uris: Vec<String>,
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
    /// Memory the run may use: a training set whose vectors would not fit is refused before it
    /// is read, and the search samples what its share cannot hold.
    pub memory: MemoryBudget,
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
            more_train_uris: Vec::new(),
            more_test_uris: Vec::new(),
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
            memory: MemoryBudget::of_machine(),
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
