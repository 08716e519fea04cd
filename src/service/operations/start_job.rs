//! `StartDocumentClassificationJob`: checks the classifier and the S3 locations, returns the
//! first job for a repeated `ClientRequestToken`, stores a SUBMITTED record and queues the job.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{call, Caller};
use crate::aws::{self, Identity};
use crate::input::document::ReaderConfig;
use crate::job::lifecycle::prepare;
use crate::job::record::{JobRecord, JobStatus};
use crate::job::ClassifyConfig;
use crate::service::error::ApiError;
use crate::service::resources;
use crate::service::runtime::{Service, Task};
use crate::service::tags::{self, Tag};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    job_name: Option<String>,
    document_classifier_arn: Option<String>,
    input_data_config: InputDataConfig,
    output_data_config: OutputDataConfig,
    data_access_role_arn: String,
    client_request_token: Option<String>,
    volume_kms_key_id: Option<String>,
    vpc_config: Option<Value>,
    #[serde(default)]
    tags: Vec<Tag>,
    flywheel_arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InputDataConfig {
    s3_uri: String,
    input_format: Option<String>,
    document_reader_config: Option<ReaderConfig>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OutputDataConfig {
    s3_uri: String,
    kms_key_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    job_id: String,
    job_arn: String,
    job_status: JobStatus,
    document_classifier_arn: String,
}

impl From<&JobRecord> for Response {
    fn from(r: &JobRecord) -> Self {
        Response {
            job_id: r.job_id.clone(),
            job_arn: r.job_arn.clone(),
            job_status: r.job_status,
            document_classifier_arn: r.document_classifier_arn.clone(),
        }
    }
}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    call(service, body, caller, run)
}

fn run(service: &Service, req: Request, caller: &Caller) -> Result<Response, ApiError> {
    // A flywheel's jobs run its active model version, which the record names.
    let classifier_arn = match (req.document_classifier_arn, &req.flywheel_arn) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "Give DocumentClassifierArn or FlywheelArn, not both",
            ))
        }
        (None, None) => {
            return Err(ApiError::invalid(
                "DocumentClassifierArn or FlywheelArn is required",
            ))
        }
        (Some(arn), None) => arn,
        (None, Some(flywheel)) => service.flywheel_active_model(flywheel, caller)?,
    };
    let model_dir = resources::trained(service, &classifier_arn, caller)?;
    tags::check(&req.tags)?;
    service.local(&req.input_data_config.s3_uri)?;
    service.local(&req.output_data_config.s3_uri)?;
    // The caller's account, as Comprehend names output folders and job ARNs by it, is the
    // account of the role it passes.
    let role_account = req
        .data_access_role_arn
        .split(':')
        .nth(4)
        .unwrap_or_default();
    let identity = Identity {
        region: caller.region.clone(),
        account: role_account.to_string(),
    };

    let _guard = service.lock_records();
    if let Some(t) = &req.client_request_token {
        let jobs = service.store.list().map_err(ApiError::from)?;
        if let Some(existing) = jobs
            .iter()
            .find(|r| r.docclass.client_request_token.as_deref() == Some(t))
        {
            return Ok(existing.into());
        }
    }
    service.admit()?;
    let split = req
        .input_data_config
        .input_format
        .as_deref()
        .unwrap_or("ONE_DOC_PER_LINE")
        .parse()
        .map_err(ApiError::from)?;
    let mut cfg = ClassifyConfig::new(
        &req.input_data_config.s3_uri,
        split,
        &req.output_data_config.s3_uri,
        &aws::new_job_id(),
        identity,
    );
    cfg.job_name = req.job_name;
    cfg.s3_root = service.cfg.s3_root.clone();
    cfg.document_reader = req.input_data_config.document_reader_config;
    let mut record = prepare(&cfg, &model_dir, &service.store).map_err(ApiError::from)?;
    record.document_classifier_arn = classifier_arn;
    record.data_access_role_arn = Some(req.data_access_role_arn);
    record.volume_kms_key_id = req.volume_kms_key_id;
    record.vpc_config = req.vpc_config;
    record.output_data_config.kms_key_id = req.output_data_config.kms_key_id;
    record.docclass.client_request_token = req.client_request_token;
    record.flywheel_arn = req.flywheel_arn;
    // Run again from the start by the next service process if this one dies.
    record.docclass.resumable = true;
    service.store.create(&record).map_err(ApiError::from)?;
    if !req.tags.is_empty() {
        service.tags.tag(&record.job_arn, &req.tags)?;
    }
    service.enqueue(Task::Classify(record.job_id.clone()));
    Ok((&record).into())
}
