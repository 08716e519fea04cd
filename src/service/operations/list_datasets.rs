//! `ListDatasets`: a flywheel's datasets (every flywheel's in the caller's region when none is
//! named), newest first, filtered and paged.

use serde::Deserialize;
use serde_json::{json, Value};

use super::describe_dataset::dataset_view;
use super::Caller;
use crate::flywheel::FlywheelArn;
use crate::service::error::ApiError;
use crate::service::paging;
use crate::service::runtime::Service;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    flywheel_arn: Option<String>,
    filter: Option<Filter>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Filter {
    status: Option<String>,
    dataset_type: Option<String>,
    creation_time_after: Option<f64>,
    creation_time_before: Option<f64>,
}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    let req: Request = serde_json::from_value(body)
        .map_err(|e| ApiError::new("SerializationException", e.to_string()))?;
    let window = paging::window(req.next_token.as_deref(), req.max_results)?;
    let keys: Vec<String> = match &req.flywheel_arn {
        Some(arn) => vec![service.flywheel(arn, caller)?.key],
        None => service
            .flywheels
            .all()
            .into_iter()
            .filter(|(_, r)| {
                FlywheelArn::parse(&r.flywheel_arn).is_some_and(|a| a.region == caller.region)
            })
            .map(|(k, _)| k)
            .collect(),
    };
    let mut all: Vec<_> = keys
        .iter()
        .flat_map(|k| service.flywheels.datasets(k))
        .collect();
    if let Some(f) = req.filter {
        if let Some(s) = f.status {
            all.retain(|d| d.status == s);
        }
        if let Some(t) = f.dataset_type {
            all.retain(|d| d.dataset_type == t);
        }
        if let Some(t) = f.creation_time_after {
            all.retain(|d| d.creation_time > t);
        }
        if let Some(t) = f.creation_time_before {
            all.retain(|d| d.creation_time < t);
        }
    }
    all.sort_by(|a, b| b.creation_time.total_cmp(&a.creation_time));
    let (page, next) = paging::page(all, window);
    let list: Vec<Value> = page.iter().map(|d| dataset_view(service, d)).collect();
    let mut out = json!({ "DatasetPropertiesList": list });
    if let Some(n) = next {
        out["NextToken"] = n.into();
    }
    Ok(out)
}
