//! `CreateDataset`: a TRAIN (the default) or TEST dataset of a flywheel, its input copied into
//! the data lake (`datasets/<name>/<creation time>/`) in the background, CREATING → COMPLETED
//! with its document count (FAILED with the row that cannot be read), so the original may be
//! deleted afterwards. A repeated `ClientRequestToken` returns the first dataset.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{call, Caller};
use crate::aws;
use crate::flywheel::record::Docclass;
use crate::flywheel::{lake, DatasetRecord};
use crate::service::error::ApiError;
use crate::service::runtime::{Service, Task};
use crate::service::tags::{self, Tag};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    flywheel_arn: String,
    dataset_name: String,
    dataset_type: Option<String>,
    description: Option<String>,
    input_data_config: Value,
    client_request_token: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Response {
    dataset_arn: String,
}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    call(service, body, caller, run)
}

fn run(service: &Service, req: Request, caller: &Caller) -> Result<Response, ApiError> {
    tags::check(&req.tags)?;
    let config = &req.input_data_config;
    if config.get("EntityRecognizerInputDataConfig").is_some() {
        return Err(ApiError::invalid(
            "docclass flywheels train document classifiers: give DocumentClassifierInputDataConfig",
        ));
    }
    match config
        .get("DataFormat")
        .and_then(Value::as_str)
        .unwrap_or("COMPREHEND_CSV")
    {
        "AUGMENTED_MANIFEST" => {
            let manifests = config.get("AugmentedManifests").and_then(Value::as_array);
            if manifests.is_none_or(|m| m.is_empty()) {
                return Err(ApiError::invalid(
                    "InputDataConfig.AugmentedManifests is required for AUGMENTED_MANIFEST",
                ));
            }
            for m in manifests.into_iter().flatten() {
                if let Some(u) = m.get("S3Uri").and_then(Value::as_str) {
                    service.local(u)?;
                }
            }
        }
        _ => {
            let uri = config
                .pointer("/DocumentClassifierInputDataConfig/S3Uri")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    ApiError::invalid(
                        "InputDataConfig.DocumentClassifierInputDataConfig.S3Uri is required for COMPREHEND_CSV",
                    )
                })?;
            service.local(uri)?;
        }
    }
    let _guard = service.lock_records();
    let found = service.flywheel(&req.flywheel_arn, caller)?;
    found.require_active()?;
    if let Some(existing) = service
        .flywheels
        .load_dataset(&found.key, &req.dataset_name)
    {
        if req.client_request_token.is_some()
            && existing.docclass.client_request_token == req.client_request_token
        {
            return Ok(Response {
                dataset_arn: existing.dataset_arn,
            });
        }
        return Err(ApiError::new(
            "ResourceInUseException",
            format!(
                "The flywheel already has a dataset named {}.",
                req.dataset_name
            ),
        ));
    }
    service.admit()?;
    let now = aws::now_epoch();
    let arn = format!("{}/dataset/{}", found.record.flywheel_arn, req.dataset_name);
    let record = DatasetRecord {
        dataset_arn: arn.clone(),
        dataset_name: req.dataset_name.clone(),
        dataset_type: req.dataset_type.unwrap_or_else(|| "TRAIN".into()),
        dataset_s3_uri: lake::dataset(&found.record.data_lake_s3_uri, &req.dataset_name, now),
        description: req.description,
        status: "CREATING".into(),
        message: None,
        number_of_documents: None,
        creation_time: now,
        end_time: None,
        docclass: Docclass {
            client_request_token: req.client_request_token,
            input_data_config: Some(req.input_data_config),
            ..Docclass::default()
        },
    };
    service
        .flywheels
        .save_dataset(&found.key, &record)
        .map_err(ApiError::from)?;
    if !req.tags.is_empty() {
        service.tags.tag(&arn, &req.tags)?;
    }
    service.enqueue(Task::Dataset(found.key, req.dataset_name));
    Ok(Response { dataset_arn: arn })
}
