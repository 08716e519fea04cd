//! `DescribeEndpoint`: an endpoint's properties.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{call, Caller};
use crate::service::endpoints::EndpointRecord;
use crate::service::error::ApiError;
use crate::service::resources;
use crate::service::runtime::Service;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    endpoint_arn: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Response {
    endpoint_properties: EndpointRecord,
}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    call(service, body, caller, run)
}

fn run(service: &Service, req: Request, caller: &Caller) -> Result<Response, ApiError> {
    let mut rec = resources::endpoint(service, &req.endpoint_arn, caller)?;
    rec.message = rec.message.map(|m| service.public(&m));
    Ok(Response {
        endpoint_properties: rec,
    })
}
