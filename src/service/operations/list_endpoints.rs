//! `ListEndpoints`: the caller's region's endpoints, oldest first, filtered (one member at a
//! time, as Comprehend asks) and paged.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{call, Caller};
use crate::service::endpoints::EndpointRecord;
use crate::service::error::ApiError;
use crate::service::paging;
use crate::service::resources::in_region;
use crate::service::runtime::Service;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    filter: Option<Filter>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Filter {
    model_arn: Option<String>,
    status: Option<String>,
    creation_time_before: Option<f64>,
    creation_time_after: Option<f64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Response {
    endpoint_properties_list: Vec<EndpointRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    call(service, body, caller, run)
}

fn run(service: &Service, req: Request, caller: &Caller) -> Result<Response, ApiError> {
    let window = paging::window(req.next_token.as_deref(), req.max_results)?;
    let mut all: Vec<EndpointRecord> = service
        .endpoints
        .all()
        .into_iter()
        .filter(|e| in_region(&e.endpoint_arn, "document-classifier-endpoint", caller).is_some())
        .collect();
    if let Some(f) = req.filter {
        paging::one_filter_member(&[
            ("ModelArn", f.model_arn.is_some()),
            ("Status", f.status.is_some()),
            ("CreationTimeBefore", f.creation_time_before.is_some()),
            ("CreationTimeAfter", f.creation_time_after.is_some()),
        ])?;
        if let Some(m) = f.model_arn {
            all.retain(|e| e.model_arn == m);
        }
        if let Some(s) = f.status {
            all.retain(|e| e.status == s);
        }
        if let Some(t) = f.creation_time_before {
            all.retain(|e| e.creation_time < t);
        }
        if let Some(t) = f.creation_time_after {
            all.retain(|e| e.creation_time > t);
        }
    }
    for e in &mut all {
        e.message = e.message.take().map(|m| service.public(&m));
    }
    let (items, next_token) = paging::page(all, window);
    Ok(Response {
        endpoint_properties_list: items,
        next_token,
    })
}
