//! `StopTrainingDocumentClassifier`: a SUBMITTED classifier is STOPPED at once; one TRAINING is
//! STOP_REQUESTED and stops when its fit ends (its model is discarded). Anything else is left as
//! it is, as Comprehend does.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{call, Caller};
use crate::aws;
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
    let found = resources::classifier(service, &req.document_classifier_arn, caller)?;
    if found.dir.is_none() {
        let mut rec = found.record;
        match rec.status.as_str() {
            "SUBMITTED" => {
                rec.status = "STOPPED".into();
                rec.end_time = Some(aws::now_epoch());
            }
            "TRAINING" => rec.status = "STOP_REQUESTED".into(),
            _ => return Ok(Response {}),
        }
        service
            .pending
            .save(&found.key, &rec)
            .map_err(ApiError::from)?;
    }
    Ok(Response {})
}
