//! `DeleteEndpoint`: DELETING, then gone (with its tags). An endpoint being created or updated
//! cannot be deleted until that ends, as in Comprehend.

use std::sync::Arc;

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
    endpoint_arn: String,
}

#[derive(Serialize)]
struct Response {}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    call(service, body, caller, run)
}

fn run(service: &Service, req: Request, caller: &Caller) -> Result<Response, ApiError> {
    let _guard = service.lock_records();
    let mut rec = resources::endpoint(service, &req.endpoint_arn, caller)?;
    if matches!(rec.status.as_str(), "CREATING" | "UPDATING") {
        return Err(ApiError::new(
            "ResourceInUseException",
            format!("The endpoint is {}; delete it when that ends.", rec.status),
        ));
    }
    if rec.status != "DELETING" {
        rec.status = "DELETING".into();
        rec.last_modified_time = aws::now_epoch();
        service.endpoints.save(&rec).map_err(ApiError::from)?;
        Arc::clone(&service.this()).settle_endpoint(rec);
    }
    Ok(Response {})
}
