//! Flywheels, their datasets and their iterations as Comprehend describes them
//! (`FlywheelProperties`, `DatasetProperties`, `FlywheelIterationProperties`), plus what docclass
//! keeps beside them to do the work (request tokens, the datasets' sources). Times are epoch
//! seconds, as the JSON protocol carries them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `FlywheelProperties`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FlywheelRecord {
    pub flywheel_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_model_arn: Option<String>,
    pub data_access_role_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_config: Option<Value>,
    /// The data lake's own folder: `<DataLakeS3Uri>/<name>/schemaVersion=1/<creation time>/`.
    pub data_lake_s3_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_security_config: Option<Value>,
    /// CREATING, ACTIVE, UPDATING, DELETING or FAILED.
    pub status: String,
    pub model_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub creation_time: f64,
    pub last_modified_time: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_flywheel_iteration: Option<String>,
    /// docclass's own: not part of Comprehend's shape.
    #[serde(default, skip_serializing_if = "Docclass::is_empty")]
    pub docclass: Docclass,
}

/// What docclass keeps beside a record (never shown to clients).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Docclass {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_request_token: Option<String>,
    /// A dataset's source, copied into the data lake (`InputDataConfig` as given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_data_config: Option<Value>,
    /// Documents the dataset copy found, by format, for the iteration that reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_delimiter: Option<String>,
    /// The iteration's comparison report, in the data lake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_s3_uri: Option<String>,
}

impl Docclass {
    fn is_empty(&self) -> bool {
        *self == Docclass::default()
    }
}

/// `DatasetProperties`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DatasetRecord {
    pub dataset_arn: String,
    pub dataset_name: String,
    /// TRAIN or TEST.
    pub dataset_type: String,
    /// The dataset's folder in the data lake.
    pub dataset_s3_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// CREATING, COMPLETED or FAILED.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_documents: Option<u64>,
    pub creation_time: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<f64>,
    #[serde(default, skip_serializing_if = "Docclass::is_empty")]
    pub docclass: Docclass,
}

/// `FlywheelModelEvaluationMetrics`: a model's scores on an iteration's test data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModelMetrics {
    pub average_f1_score: f64,
    pub average_precision: f64,
    pub average_recall: f64,
    pub average_accuracy: f64,
}

/// `FlywheelIterationProperties`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IterationRecord {
    pub flywheel_arn: String,
    pub flywheel_iteration_id: String,
    pub creation_time: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<f64>,
    /// TRAINING, EVALUATING, COMPLETED, FAILED, STOP_REQUESTED or STOPPED.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluated_model_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluated_model_metrics: Option<ModelMetrics>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trained_model_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trained_model_metrics: Option<ModelMetrics>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation_manifest_s3_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Docclass::is_empty")]
    pub docclass: Docclass,
}

/// The message of an iteration that did everything (as Comprehend words it).
pub const FULL_ITERATION: &str =
    "FULL_ITERATION: Flywheel iteration performed all functions successfully.";

/// A record as a client sees it: without docclass's own part.
pub fn public<T: Serialize>(record: &T) -> Value {
    let mut v = serde_json::to_value(record).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.remove("Docclass");
    }
    v
}

/// `20230616T211026Z`: how Comprehend stamps data lake folders and iteration ids.
pub fn stamp(epoch: f64) -> String {
    let iso = crate::aws::iso8601(epoch);
    // 2023-06-16T21:10:26.385000+00:00 -> 20230616T211026Z
    let digits: String = iso[..19]
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect();
    format!("{digits}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_comprehends() {
        // 2023-06-16T21:10:26.385Z, the iteration of the AWS CLI's example.
        assert_eq!(stamp(1_686_949_826.385), "20230616T211026Z");
    }

    #[test]
    fn clients_never_see_docclass_fields() {
        let d = DatasetRecord {
            dataset_arn: "a".into(),
            dataset_name: "d".into(),
            dataset_type: "TRAIN".into(),
            dataset_s3_uri: "s3://b/x/".into(),
            description: None,
            status: "CREATING".into(),
            message: None,
            number_of_documents: None,
            creation_time: 1.0,
            end_time: None,
            docclass: Docclass {
                client_request_token: Some("t".into()),
                ..Docclass::default()
            },
        };
        let v = public(&d);
        assert!(v.get("Docclass").is_none());
        assert_eq!(v["DatasetType"], "TRAIN");
        assert!(v.get("NumberOfDocuments").is_none());
    }
}
