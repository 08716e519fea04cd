//! `CreateFlywheel`: a flywheel for an existing model (`ActiveModelArn`, whose training and test
//! data are copied into the data lake, CREATING → ACTIVE) or for a new one (`TaskConfig` and
//! `ModelType`; ACTIVE at once, its datasets come next). The lake is
//! `<DataLakeS3Uri>/<name>/schemaVersion=1/<creation time>/`. A repeated `ClientRequestToken`
//! returns the first flywheel.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{call, Caller};
use crate::aws;
use crate::flywheel::record::Docclass;
use crate::flywheel::{lake, FlywheelArn, FlywheelRecord};
use crate::service::error::ApiError;
use crate::service::resources;
use crate::service::runtime::{Service, Task};
use crate::service::tags::{self, Tag};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    flywheel_name: String,
    active_model_arn: Option<String>,
    data_access_role_arn: String,
    task_config: Option<Value>,
    model_type: Option<String>,
    data_lake_s3_uri: String,
    data_security_config: Option<Value>,
    client_request_token: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Response {
    flywheel_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    active_model_arn: Option<String>,
}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    call(service, body, caller, run)
}

fn run(service: &Service, req: Request, caller: &Caller) -> Result<Response, ApiError> {
    let model_type = match (&req.active_model_arn, &req.task_config) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "Give ActiveModelArn for a flywheel of an existing model, or TaskConfig and ModelType for a new one, not both",
            ))
        }
        (None, None) => {
            return Err(ApiError::invalid(
                "A flywheel needs ActiveModelArn (an existing model) or TaskConfig and ModelType (a new model)",
            ))
        }
        (Some(arn), None) => {
            if req.model_type.is_some() {
                return Err(ApiError::invalid(
                    "Do not set ModelType with ActiveModelArn: the model's type is used",
                ));
            }
            if !arn.contains(":document-classifier/") {
                return Err(ApiError::invalid(
                    "ActiveModelArn must be a document classifier (docclass has no entity recognizers)",
                ));
            }
            resources::trained(service, arn, caller)?;
            "DOCUMENT_CLASSIFIER".to_string()
        }
        (None, Some(task)) => {
            let kind = req.model_type.clone().ok_or_else(|| {
                ApiError::invalid("ModelType is required with TaskConfig (a new model)")
            })?;
            if kind != "DOCUMENT_CLASSIFIER" || task.get("DocumentClassificationConfig").is_none() {
                return Err(ApiError::invalid(
                    "docclass trains document classifiers: give ModelType DOCUMENT_CLASSIFIER and TaskConfig.DocumentClassificationConfig",
                ));
            }
            kind
        }
    };
    tags::check(&req.tags)?;
    // The account is the role's, as for every resource docclass creates.
    let account = req
        .data_access_role_arn
        .split(':')
        .nth(4)
        .unwrap_or_default()
        .to_string();
    let arn = format!(
        "arn:aws:comprehend:{}:{account}:flywheel/{}",
        caller.region, req.flywheel_name
    );
    let key = FlywheelArn::parse(&arn)
        .ok_or_else(|| ApiError::invalid("FlywheelName cannot make a flywheel ARN"))?
        .key();
    service.local(&req.data_lake_s3_uri)?;
    let _guard = service.lock_records();
    if let Some(existing) = service.flywheels.load(&key) {
        if req.client_request_token.is_some()
            && existing.docclass.client_request_token == req.client_request_token
        {
            return Ok(Response {
                flywheel_arn: existing.flywheel_arn,
                active_model_arn: existing.active_model_arn,
            });
        }
        return Err(ApiError::new(
            "ResourceInUseException",
            format!("A flywheel named {} already exists.", req.flywheel_name),
        ));
    }
    service.admit()?;
    let now = aws::now_epoch();
    let active = req.active_model_arn.clone();
    let record = FlywheelRecord {
        flywheel_arn: arn.clone(),
        active_model_arn: active.clone(),
        data_access_role_arn: req.data_access_role_arn,
        task_config: req.task_config,
        data_lake_s3_uri: lake::root(&req.data_lake_s3_uri, &req.flywheel_name, now),
        data_security_config: req.data_security_config,
        status: if active.is_some() {
            "CREATING"
        } else {
            "ACTIVE"
        }
        .into(),
        model_type,
        message: None,
        creation_time: now,
        last_modified_time: now,
        latest_flywheel_iteration: None,
        docclass: Docclass {
            client_request_token: req.client_request_token,
            ..Docclass::default()
        },
    };
    service
        .flywheels
        .save(&key, &record)
        .map_err(ApiError::from)?;
    if !req.tags.is_empty() {
        service.tags.tag(&arn, &req.tags)?;
    }
    if active.is_some() {
        service.enqueue(Task::CreateFlywheel(key));
    }
    Ok(Response {
        flywheel_arn: arn,
        active_model_arn: active,
    })
}
