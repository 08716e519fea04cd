//! Job records in Comprehend's `DocumentClassificationJobProperties` shape, plus docclass's own
//! counters under a separate `Docclass` key so Comprehend's fields stay exactly as clients expect.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::config::ClassifyConfig;
use crate::input::document::ReaderConfig;

/// Comprehend's `JobStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    Submitted,
    InProgress,
    Completed,
    Failed,
    StopRequested,
    Stopped,
}

impl JobStatus {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobStatus::Completed | JobStatus::Failed | JobStatus::Stopped
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InputDataConfig {
    pub s3_uri: String,
    pub input_format: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_reader_config: Option<ReaderConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OutputDataConfig {
    pub s3_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
}

/// Counters and facts docclass adds to a job record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct JobCounts {
    /// Documents that produced a line (predictions plus error records).
    pub documents: u64,
    pub predictions: u64,
    /// Error records (`ErrorCode` lines).
    pub errors: u64,
    pub files: u64,
    /// Input bytes.
    pub bytes: u64,
    /// Paths under the prefix that were not read (links, FIFOs, devices), with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_paths: Vec<String>,
    pub output_bytes: u64,
    pub seconds: f64,
    /// Something every page of a kind failed for, said once (OCR not installed, a language
    /// pack missing) beside the per-page error records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// docclass's part of a job record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DocclassInfo {
    /// Process running the job while it is IN_PROGRESS (to detect jobs whose process died).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    pub model_path: String,
    pub threads: usize,
    pub counts: JobCounts,
    /// The archive's temporary file while the job runs, removed if the job's process died.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_output: Option<String>,
    /// Idempotency token of the Start request that created the job (service only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_request_token: Option<String>,
    /// Whether the job runs again from the start when its process dies (the service's jobs,
    /// resumed by the next service process), rather than failing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resumable: bool,
    /// How far the job is, updated every few seconds while it runs (Describe shows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<Progress>,
}

/// A running job's progress as its record keeps it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Progress {
    pub files_done: u64,
    pub files_total: u64,
    /// Pages of PDF, Word and image documents.
    pub pages: u64,
    /// Output lines: predictions and error records.
    pub documents: u64,
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub seconds: f64,
}

impl From<&super::driver::JobProgress> for Progress {
    fn from(p: &super::driver::JobProgress) -> Self {
        Progress {
            files_done: p.files_done,
            files_total: p.files_total,
            pages: p.pages,
            documents: p.documents,
            bytes_done: p.bytes_done,
            bytes_total: p.bytes_total,
            seconds: (p.elapsed * 1000.0).round() / 1000.0,
        }
    }
}

/// One classification job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct JobRecord {
    pub job_id: String,
    pub job_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_name: Option<String>,
    pub job_status: JobStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub submit_time: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<f64>,
    pub document_classifier_arn: String,
    pub input_data_config: InputDataConfig,
    pub output_data_config: OutputDataConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_access_role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_kms_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_config: Option<serde_json::Value>,
    /// The flywheel whose active model version the job ran (`DocumentClassifierArn` names it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flywheel_arn: Option<String>,
    pub docclass: DocclassInfo,
}

impl JobRecord {
    /// A new job's record, SUBMITTED now.
    pub fn submitted(cfg: &ClassifyConfig, classifier_arn: String, model_dir: &Path) -> Self {
        JobRecord {
            job_id: cfg.job_id.clone(),
            job_arn: cfg.identity.job_arn(&cfg.job_id),
            job_name: cfg.job_name.clone(),
            job_status: JobStatus::Submitted,
            message: None,
            submit_time: crate::aws::now_epoch(),
            end_time: None,
            document_classifier_arn: classifier_arn,
            input_data_config: InputDataConfig {
                s3_uri: cfg.input_uri.clone(),
                input_format: cfg.split.as_str().into(),
                document_reader_config: cfg.document_reader.clone(),
            },
            output_data_config: OutputDataConfig {
                s3_uri: cfg.output_uri.clone(),
                kms_key_id: None,
            },
            data_access_role_arn: None,
            volume_kms_key_id: None,
            vpc_config: None,
            flywheel_arn: None,
            docclass: DocclassInfo {
                pid: None,
                model_path: model_dir.display().to_string(),
                threads: rayon::current_num_threads(),
                ..DocclassInfo::default()
            },
        }
    }

    /// The record as the AWS CLI prints it: timestamps in ISO 8601 instead of epoch seconds.
    pub fn to_cli_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        crate::aws::iso_timestamps(&mut v, &["SubmitTime", "EndTime"]);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_in_comprehend_shape() {
        let r = JobRecord {
            job_id: "ab".into(),
            job_arn: "arn".into(),
            job_name: None,
            job_status: JobStatus::InProgress,
            message: None,
            submit_time: 1.5,
            end_time: None,
            document_classifier_arn: "c".into(),
            input_data_config: InputDataConfig {
                s3_uri: "in/".into(),
                input_format: "ONE_DOC_PER_LINE".into(),
                document_reader_config: None,
            },
            output_data_config: OutputDataConfig {
                s3_uri: "out/".into(),
                kms_key_id: None,
            },
            data_access_role_arn: None,
            volume_kms_key_id: None,
            vpc_config: None,
            flywheel_arn: None,
            docclass: DocclassInfo::default(),
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["JobStatus"], "IN_PROGRESS");
        assert_eq!(v["InputDataConfig"]["InputFormat"], "ONE_DOC_PER_LINE");
        assert!(v.get("Message").is_none() && v.get("EndTime").is_none());
        assert_eq!(
            r.to_cli_json()["SubmitTime"],
            "1970-01-01T00:00:01.500000+00:00"
        );
        let back: JobRecord = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }
}
