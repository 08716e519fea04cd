//! `DescribeDocumentClassifier`: a classifier's record, trained or pending.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{call, Caller};
use crate::model::ClassifierRecord;
use crate::service::error::ApiError;
use crate::service::runtime::Service;
use crate::service::{resources, views};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    document_classifier_arn: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Response {
    document_classifier_properties: ClassifierRecord,
}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    call(service, body, caller, run)
}

fn run(service: &Service, req: Request, caller: &Caller) -> Result<Response, ApiError> {
    let found = resources::classifier(service, &req.document_classifier_arn, caller)?;
    Ok(Response {
        document_classifier_properties: views::classifier(service, found.record),
    })
}
