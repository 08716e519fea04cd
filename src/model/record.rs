//! `classifier.json`: Comprehend's `DocumentClassifierProperties` for one classifier, kept in its
//! model folder (trained) or in the service's state folder (submitted, training, failed). The
//! registry finds folders; this record says what a classifier is and how it came to be.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::io::ModelMeta;
use super::linear::Mode;
use super::metrics::ClassifierMetadata;
use crate::atomic::write_atomic;
use crate::error::{Error, Result};

/// File name of the properties record inside a model folder.
pub const RECORD_FILE: &str = "classifier.json";

/// Comprehend's `DocumentClassifierProperties`, as `describe-document-classifier` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClassifierRecord {
    pub document_classifier_arn: String,
    pub language_code: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub submit_time: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_start_time: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_end_time: Option<f64>,
    pub input_data_config: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_data_config: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classifier_metadata: Option<ClassifierMetadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_access_role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_kms_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_config: Option<serde_json::Value>,
    pub mode: Mode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_kms_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_name: Option<String>,
    /// The flywheel that trained this version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flywheel_arn: Option<String>,
}

impl ClassifierRecord {
    pub fn save(&self, dir: &Path) -> Result<()> {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let mut bytes = serde_json::to_vec_pretty(self)?;
        bytes.push(b'\n');
        write_atomic(&dir.join(RECORD_FILE), &bytes)
    }

    pub fn load(dir: &Path) -> Result<Self> {
        let p = dir.join(RECORD_FILE);
        let bytes = fs::read(&p).map_err(|e| Error::io(&p, e))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::ModelCorrupt {
            path: p,
            reason: format!("classifier.json is not a classifier record ({e})"),
        })
    }

    /// The record as Comprehend shows it: `InputDataConfig.DataFormat` and `OutputDataConfig`
    /// present even when the request left them out (`COMPREHEND_CSV` and `{}`, as the AWS CLI's
    /// documented outputs show them).
    pub fn with_defaults(mut self) -> Self {
        if let serde_json::Value::Object(input) = &mut self.input_data_config {
            if !input.contains_key("DataFormat") {
                let rest = std::mem::take(input);
                input.insert("DataFormat".into(), "COMPREHEND_CSV".into());
                input.extend(rest);
            }
        }
        if self.output_data_config.is_none() {
            self.output_data_config = Some(serde_json::json!({}));
        }
        self
    }

    /// The record of a classifier just accepted for training.
    pub fn submitted(
        arn: String,
        language_code: String,
        mode: Mode,
        version_name: Option<String>,
        input_data_config: serde_json::Value,
        output_data_config: Option<serde_json::Value>,
    ) -> Self {
        ClassifierRecord {
            document_classifier_arn: arn,
            language_code,
            status: "SUBMITTED".into(),
            message: None,
            submit_time: crate::aws::now_epoch(),
            end_time: None,
            training_start_time: None,
            training_end_time: None,
            input_data_config,
            output_data_config,
            classifier_metadata: None,
            data_access_role_arn: None,
            volume_kms_key_id: None,
            vpc_config: None,
            mode,
            model_kms_key_id: None,
            version_name,
            flywheel_arn: None,
        }
    }

    /// A TRAINED record rebuilt from a model's `model.json` (for folders without one).
    pub fn from_model(meta: &ModelMeta, arn: String) -> Self {
        ClassifierRecord {
            status: "TRAINED".into(),
            submit_time: 0.0,
            classifier_metadata: Some(meta.classifier_metadata.clone()),
            ..ClassifierRecord::submitted(
                arn,
                meta.language_code.clone(),
                meta.mode,
                meta.version_name.clone(),
                meta.training_data.input_data_config.clone(),
                None,
            )
        }
    }
}
