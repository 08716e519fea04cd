//! `ListDocumentClassifiers`: trained and pending classifiers, oldest submission first,
//! filtered and paged.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{call, Caller};
use crate::aws::{ClassifierArn, Identity};
use crate::model::ClassifierRecord;
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
    status: Option<String>,
    document_classifier_name: Option<String>,
    submit_time_before: Option<f64>,
    submit_time_after: Option<f64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Response {
    document_classifier_properties_list: Vec<ClassifierRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    call(service, body, caller, run)
}

fn run(service: &Service, req: Request, caller: &Caller) -> Result<Response, ApiError> {
    let window = paging::window(req.next_token.as_deref(), req.max_results)?;
    let mut all = visible(service, caller)?;
    // Oldest first, except under SubmitTimeAfter, which lists newest first (as the API says).
    let newest_first = req
        .filter
        .as_ref()
        .is_some_and(|f| f.submit_time_after.is_some());
    if let Some(f) = req.filter {
        paging::one_filter_member(&[
            ("Status", f.status.is_some()),
            (
                "DocumentClassifierName",
                f.document_classifier_name.is_some(),
            ),
            ("SubmitTimeBefore", f.submit_time_before.is_some()),
            ("SubmitTimeAfter", f.submit_time_after.is_some()),
        ])?;
        if let Some(status) = f.status {
            all.retain(|r| r.status == status);
        }
        if let Some(name) = f.document_classifier_name {
            all.retain(|r| {
                ClassifierArn::parse(&r.document_classifier_arn).is_ok_and(|a| a.name == name)
            });
        }
        if let Some(t) = f.submit_time_before {
            all.retain(|r| r.submit_time < t);
        }
        if let Some(t) = f.submit_time_after {
            all.retain(|r| r.submit_time > t);
        }
    }
    all.sort_by(|a, b| a.submit_time.total_cmp(&b.submit_time));
    if newest_first {
        all.reverse();
    }
    let (items, next_token) = paging::page(all, window);
    Ok(Response {
        document_classifier_properties_list: items
            .into_iter()
            .map(|r| views::classifier(service, r))
            .collect(),
        next_token,
    })
}

/// Every classifier the caller's region sees: its own (trained or pending) and the shared
/// models, which answer to their name in every region.
pub fn visible(service: &Service, caller: &Caller) -> Result<Vec<ClassifierRecord>, ApiError> {
    let mut all: Vec<ClassifierRecord> = Vec::new();
    let registry = &service.cfg.registry;
    for dir in registry.list().map_err(ApiError::from)? {
        let Ok(mut r) = ClassifierRecord::load(&dir) else {
            continue;
        };
        let Ok(arn) = ClassifierArn::parse(&r.document_classifier_arn) else {
            continue;
        };
        let shared = dir == registry.root.join(&arn.name)
            || dir.starts_with(registry.root.join(&arn.name).join("version"));
        if shared {
            r.document_classifier_arn = Identity::new(&caller.region, &arn.account)
                .map(|i| i.classifier_arn(&arn.name, arn.version.as_deref()))
                .unwrap_or(r.document_classifier_arn);
            all.push(r);
        } else if arn.region == caller.region {
            all.push(r);
        }
    }
    for (_, r) in service.pending.all().map_err(ApiError::from)? {
        // A training that has just written its model is listed once, from the registry.
        let trained = all
            .iter()
            .any(|t| t.document_classifier_arn == r.document_classifier_arn);
        if !trained
            && ClassifierArn::parse(&r.document_classifier_arn)
                .is_ok_and(|a| a.region == caller.region)
        {
            all.push(r);
        }
    }
    Ok(all)
}
