//! `DescribeDocumentClassificationJob`: the job's record, as stored.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{call, Caller};
use crate::job::record::JobRecord;
use crate::service::error::ApiError;
use crate::service::runtime::Service;
use crate::service::{resources, views};

/// Whether a job belongs to the caller's region.
pub fn in_region(job: &JobRecord, caller: &Caller) -> bool {
    resources::in_region(&job.job_arn, "document-classification-job", caller).is_some()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    job_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Response {
    document_classification_job_properties: Value,
}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    call(service, body, caller, run)
}

fn run(service: &Service, req: Request, caller: &Caller) -> Result<Response, ApiError> {
    let not_found = || {
        ApiError::new(
            "JobNotFoundException",
            format!("Job {} not found", req.job_id),
        )
    };
    // Job ids name files in the store: anything but letters and digits cannot be one.
    if !req.job_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(not_found());
    }
    match service.store.load(&req.job_id) {
        // A job belongs to the region in its ARN.
        Ok(r) if !in_region(&r, caller) => Err(not_found()),
        Ok(r) => Ok(Response {
            document_classification_job_properties: views::job(service, &r),
        }),
        Err(crate::Error::JobNotFound(_)) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}
