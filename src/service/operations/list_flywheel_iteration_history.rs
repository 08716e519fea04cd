//! `ListFlywheelIterationHistory`: a flywheel's iterations, newest first, filtered by creation
//! time and paged.

use serde::Deserialize;
use serde_json::{json, Value};

use super::describe_flywheel_iteration::iteration_view;
use super::Caller;
use crate::service::error::ApiError;
use crate::service::paging;
use crate::service::runtime::Service;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    flywheel_arn: String,
    filter: Option<Filter>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Filter {
    creation_time_after: Option<f64>,
    creation_time_before: Option<f64>,
}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    let req: Request = serde_json::from_value(body)
        .map_err(|e| ApiError::new("SerializationException", e.to_string()))?;
    let window = paging::window(req.next_token.as_deref(), req.max_results)?;
    let found = service.flywheel(&req.flywheel_arn, caller)?;
    let mut all = service.flywheels.iterations(&found.key);
    if let Some(f) = req.filter {
        if let Some(t) = f.creation_time_after {
            all.retain(|i| i.creation_time > t);
        }
        if let Some(t) = f.creation_time_before {
            all.retain(|i| i.creation_time < t);
        }
    }
    all.reverse();
    let (page, next) = paging::page(all, window);
    let list: Vec<Value> = page.iter().map(|i| iteration_view(service, i)).collect();
    let mut out = json!({ "FlywheelIterationPropertiesList": list });
    if let Some(n) = next {
        out["NextToken"] = n.into();
    }
    Ok(out)
}
