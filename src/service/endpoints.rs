//! Endpoints: Comprehend's `EndpointProperties`, one record each in
//! `<state-dir>/endpoints/<account>-<region>-<name>.json`, surviving restarts like jobs. An
//! endpoint names the classifier `ClassifyDocument` scores with; its inference units are
//! recorded as given (docclass serves as fast as the machine allows).

use std::fs;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::error::{Error, Result};

/// Comprehend's `EndpointProperties`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointRecord {
    pub endpoint_arn: String,
    /// CREATING, IN_SERVICE, UPDATING, DELETING or FAILED.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub model_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_model_arn: Option<String>,
    pub desired_inference_units: i64,
    pub current_inference_units: i64,
    pub creation_time: f64,
    pub last_modified_time: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_access_role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_data_access_role_arn: Option<String>,
    /// The flywheel the endpoint follows: it serves the flywheel's active model version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flywheel_arn: Option<String>,
    /// Idempotency token of the CreateEndpoint request (not part of Comprehend's shape).
    #[serde(default, skip_serializing)]
    pub client_request_token: Option<String>,
}

/// The folder of endpoint records.
pub struct EndpointStore {
    dir: PathBuf,
}

impl EndpointStore {
    pub fn open(dir: PathBuf) -> Result<Self> {
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(EndpointStore { dir })
    }

    fn path(&self, account: &str, region: &str, name: &str) -> PathBuf {
        self.dir.join(format!("{account}-{region}-{name}.json"))
    }

    /// Account, region and name of an endpoint ARN (`...:<account>:document-classifier-endpoint/<name>`).
    fn parts(arn: &str) -> Option<(&str, &str, &str)> {
        let p: Vec<&str> = arn.splitn(6, ':').collect();
        let name = p.get(5)?.strip_prefix("document-classifier-endpoint/")?;
        Some((p.get(4)?, p.get(3)?, name))
    }

    pub fn load(&self, account: &str, region: &str, name: &str) -> Option<EndpointRecord> {
        let bytes = fs::read(self.path(account, region, name)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn save(&self, rec: &EndpointRecord) -> Result<()> {
        let (account, region, name) =
            Self::parts(&rec.endpoint_arn).ok_or_else(|| Error::Inconsistent {
                what: "endpoint ARN",
                reason: rec.endpoint_arn.clone(),
            })?;
        let mut bytes = serde_json::to_vec_pretty(rec)?;
        bytes.push(b'\n');
        write_atomic(&self.path(account, region, name), &bytes)
    }

    pub fn remove(&self, rec: &EndpointRecord) {
        if let Some((account, region, name)) = Self::parts(&rec.endpoint_arn) {
            let _ = fs::remove_file(self.path(account, region, name));
        }
    }

    /// Every endpoint, oldest first.
    pub fn all(&self) -> Vec<EndpointRecord> {
        let mut out: Vec<EndpointRecord> = fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                    .filter_map(|e| fs::read(e.path()).ok())
                    .filter_map(|b| serde_json::from_slice(&b).ok())
                    .collect()
            })
            .unwrap_or_default();
        out.sort_by(|a: &EndpointRecord, b| {
            a.creation_time
                .total_cmp(&b.creation_time)
                .then(a.endpoint_arn.cmp(&b.endpoint_arn))
        });
        out
    }
}
