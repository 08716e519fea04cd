//! `ListFlywheels`: the caller's region's flywheels as `FlywheelSummary`s, newest first,
//! filtered by one member at a time and paged.

use serde::Deserialize;
use serde_json::{json, Value};

use super::describe_flywheel::flywheel_view;
use super::Caller;
use crate::flywheel::FlywheelArn;
use crate::service::error::ApiError;
use crate::service::paging;
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
    status: Option<String>,
    creation_time_after: Option<f64>,
    creation_time_before: Option<f64>,
}

/// `FlywheelSummary`'s members (a summary is the properties without the configuration).
const SUMMARY: &[&str] = &[
    "FlywheelArn",
    "ActiveModelArn",
    "DataLakeS3Uri",
    "Status",
    "ModelType",
    "Message",
    "CreationTime",
    "LastModifiedTime",
    "LatestFlywheelIteration",
];

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    let req: Request = serde_json::from_value(body)
        .map_err(|e| ApiError::new("SerializationException", e.to_string()))?;
    let window = paging::window(req.next_token.as_deref(), req.max_results)?;
    let mut all: Vec<_> = service
        .flywheels
        .all()
        .into_iter()
        .map(|(_, r)| r)
        .filter(|r| FlywheelArn::parse(&r.flywheel_arn).is_some_and(|a| a.region == caller.region))
        .collect();
    if let Some(f) = req.filter {
        paging::one_filter_member(&[
            ("Status", f.status.is_some()),
            ("CreationTimeAfter", f.creation_time_after.is_some()),
            ("CreationTimeBefore", f.creation_time_before.is_some()),
        ])?;
        if let Some(s) = f.status {
            all.retain(|r| r.status == s);
        }
        if let Some(t) = f.creation_time_after {
            all.retain(|r| r.creation_time > t);
        }
        if let Some(t) = f.creation_time_before {
            all.retain(|r| r.creation_time < t);
        }
    }
    all.sort_by(|a, b| b.creation_time.total_cmp(&a.creation_time));
    let (page, next) = paging::page(all, window);
    let summaries: Vec<Value> = page
        .iter()
        .map(|r| {
            let full = flywheel_view(service, r);
            let mut s = serde_json::Map::new();
            for k in SUMMARY {
                if let Some(v) = full.get(*k) {
                    s.insert((*k).into(), v.clone());
                }
            }
            Value::Object(s)
        })
        .collect();
    let mut out = json!({ "FlywheelSummaryList": summaries });
    if let Some(n) = next {
        out["NextToken"] = n.into();
    }
    Ok(out)
}
