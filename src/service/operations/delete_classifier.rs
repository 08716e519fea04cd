//! `DeleteDocumentClassifier`: removes a trained model, or the record of a classifier whose
//! training failed or was stopped; one still training must be stopped first.

use std::fs;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{call, Caller};
use crate::service::error::ApiError;
use crate::service::resources;
use crate::service::runtime::Service;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    document_classifier_arn: String,
}

#[derive(Serialize)]
struct Response {}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    call(service, body, caller, run)
}

fn run(service: &Service, req: Request, caller: &Caller) -> Result<Response, ApiError> {
    let _guard = service.lock_records();
    let arn = &req.document_classifier_arn;
    let found = resources::classifier(service, arn, caller)?;
    if let Some(e) = service
        .endpoints
        .all()
        .into_iter()
        .find(|e| &e.model_arn == arn || e.desired_model_arn.as_ref() == Some(arn))
    {
        return Err(ApiError::new(
            "ResourceInUseException",
            format!(
                "The classifier is in use by endpoint {}; delete the endpoint first.",
                e.endpoint_arn
            ),
        ));
    }
    service.tags.forget(arn);
    match found.dir {
        Some(dir) => {
            fs::remove_dir_all(&dir).map_err(|e| ApiError::from(crate::Error::io(&dir, e)))?;
            service.models.forget(&dir);
        }
        None if found.record.status == "IN_ERROR" || found.record.status == "STOPPED" => {
            service.pending.remove(&found.key);
        }
        None => {
            return Err(ApiError::new(
                "ResourceInUseException",
                format!(
                    "classifier {} is {}; stop its training first",
                    req.document_classifier_arn, found.record.status
                ),
            ))
        }
    }
    Ok(Response {})
}
