//! `TagResource`, `UntagResource`, `ListTagsForResource`: tags of a classifier, job, endpoint,
//! flywheel or dataset of the caller's region (one that does not exist is `ResourceNotFoundException`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::describe_job::in_region as job_in_region;
use super::{call, Caller};
use crate::flywheel::FlywheelArn;
use crate::service::error::ApiError;
use crate::service::resources::{self, not_found};
use crate::service::runtime::Service;
use crate::service::tags::Tag;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagRequest {
    resource_arn: String,
    tags: Vec<Tag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UntagRequest {
    resource_arn: String,
    tag_keys: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRequest {
    resource_arn: String,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListResponse {
    resource_arn: String,
    tags: Vec<Tag>,
}

/// Checks that `arn` names a resource docclass holds in the caller's region.
fn exists(service: &Service, arn: &str, caller: &Caller) -> Result<(), ApiError> {
    if arn.contains(":document-classifier/") {
        return resources::classifier(service, arn, caller).map(|_| ());
    }
    if arn.contains(":document-classifier-endpoint/") {
        return resources::endpoint(service, arn, caller).map(|_| ());
    }
    if arn.contains(":flywheel/") {
        let parsed = FlywheelArn::parse(arn).ok_or_else(not_found)?;
        let found = service.flywheel(&parsed.flywheel(), caller)?;
        return match &parsed.dataset {
            None => Ok(()),
            Some(name) => service
                .flywheels
                .load_dataset(&found.key, name)
                .map(|_| ())
                .ok_or_else(not_found),
        };
    }
    if let Some((_, id)) = resources::in_region(arn, "document-classification-job", caller) {
        if id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            if let Ok(job) = service.store.load(id) {
                if job.job_arn == arn && job_in_region(&job, caller) {
                    return Ok(());
                }
            }
        }
    }
    Err(not_found())
}

pub fn tag(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    call(service, body, caller, |service, req: TagRequest, caller| {
        exists(service, &req.resource_arn, caller)?;
        service.tags.tag(&req.resource_arn, &req.tags)?;
        Ok(Empty {})
    })
}

pub fn untag(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    call(
        service,
        body,
        caller,
        |service, req: UntagRequest, caller| {
            exists(service, &req.resource_arn, caller)?;
            service.tags.untag(&req.resource_arn, &req.tag_keys)?;
            Ok(Empty {})
        },
    )
}

pub fn list(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    call(
        service,
        body,
        caller,
        |service, req: ListRequest, caller| {
            exists(service, &req.resource_arn, caller)?;
            Ok(ListResponse {
                tags: service.tags.get(&req.resource_arn),
                resource_arn: req.resource_arn,
            })
        },
    )
}
