//! `ListDocumentClassificationJobs`: records oldest first, one filter member at a time
//! (`SubmitTimeAfter` lists newest first, as Comprehend does), in pages.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::describe_job::in_region;
use super::{call, Caller};
use crate::job::record::JobStatus;
use crate::service::error::ApiError;
use crate::service::paging;
use crate::service::runtime::Service;
use crate::service::views;

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
    job_name: Option<String>,
    job_status: Option<JobStatus>,
    submit_time_before: Option<f64>,
    submit_time_after: Option<f64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Response {
    document_classification_job_properties_list: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    call(service, body, caller, run)
}

fn run(service: &Service, req: Request, caller: &Caller) -> Result<Response, ApiError> {
    let window = paging::window(req.next_token.as_deref(), req.max_results)?;
    let mut jobs = service.store.list().map_err(ApiError::from)?;
    jobs.retain(|j| in_region(j, caller));
    if let Some(f) = req.filter {
        paging::one_filter_member(&[
            ("JobName", f.job_name.is_some()),
            ("JobStatus", f.job_status.is_some()),
            ("SubmitTimeBefore", f.submit_time_before.is_some()),
            ("SubmitTimeAfter", f.submit_time_after.is_some()),
        ])?;
        if let Some(name) = f.job_name {
            jobs.retain(|j| j.job_name.as_deref() == Some(name.as_str()));
        }
        if let Some(status) = f.job_status {
            jobs.retain(|j| j.job_status == status);
        }
        if let Some(t) = f.submit_time_before {
            jobs.retain(|j| j.submit_time < t);
        }
        if let Some(t) = f.submit_time_after {
            jobs.retain(|j| j.submit_time > t);
            jobs.reverse();
        }
    }
    let (items, next_token) = paging::page(jobs, window);
    Ok(Response {
        document_classification_job_properties_list: items
            .iter()
            .map(|j| views::job(service, j))
            .collect(),
        next_token,
    })
}
