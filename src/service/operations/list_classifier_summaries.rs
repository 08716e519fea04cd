//! `ListDocumentClassifierSummaries`: one summary per classifier name of the caller's region:
//! how many versions it has and its newest version's name, time and status.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::list_classifiers::visible;
use super::{call, Caller};
use crate::aws::ClassifierArn;
use crate::model::ClassifierRecord;
use crate::service::error::ApiError;
use crate::service::paging;
use crate::service::runtime::Service;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Summary {
    document_classifier_name: String,
    number_of_versions: usize,
    latest_version_created_at: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    latest_version_name: Option<String>,
    latest_version_status: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Response {
    document_classifier_summaries_list: Vec<Summary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    call(service, body, caller, run)
}

fn run(service: &Service, req: Request, caller: &Caller) -> Result<Response, ApiError> {
    let window = paging::window(req.next_token.as_deref(), req.max_results)?;
    let mut by_name: BTreeMap<String, Vec<ClassifierRecord>> = BTreeMap::new();
    for r in visible(service, caller)? {
        if let Ok(arn) = ClassifierArn::parse(&r.document_classifier_arn) {
            by_name.entry(arn.name).or_default().push(r);
        }
    }
    let summaries = by_name
        .into_iter()
        .map(|(name, versions)| {
            let latest = versions
                .iter()
                .max_by(|a, b| a.submit_time.total_cmp(&b.submit_time))
                .expect("a name has at least one version");
            Summary {
                document_classifier_name: name,
                number_of_versions: versions.len(),
                latest_version_created_at: latest.submit_time,
                latest_version_name: latest.version_name.clone(),
                latest_version_status: latest.status.clone(),
            }
        })
        .collect();
    let (items, next_token) = paging::page(summaries, window);
    Ok(Response {
        document_classifier_summaries_list: items,
        next_token,
    })
}
