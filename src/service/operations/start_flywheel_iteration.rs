//! `StartFlywheelIteration`: trains a new version of the flywheel's classifier on all its TRAIN
//! datasets and scores it beside the active version on the same test data, in the background
//! (TRAINING → EVALUATING → COMPLETED, or FAILED with the reason). One iteration at a time: a
//! second while one runs is `ResourceInUseException`. A repeated `ClientRequestToken` returns
//! the iteration it started.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{call, Caller};
use crate::aws;
use crate::flywheel::record::{stamp, Docclass};
use crate::flywheel::IterationRecord;
use crate::service::error::ApiError;
use crate::service::runtime::{Service, Task};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    flywheel_arn: String,
    client_request_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Response {
    flywheel_arn: String,
    flywheel_iteration_id: String,
}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    call(service, body, caller, run)
}

fn run(service: &Service, req: Request, caller: &Caller) -> Result<Response, ApiError> {
    let _guard = service.lock_records();
    let found = service.flywheel(&req.flywheel_arn, caller)?;
    let iterations = service.flywheels.iterations(&found.key);
    if let Some(token) = &req.client_request_token {
        if let Some(it) = iterations
            .iter()
            .find(|i| i.docclass.client_request_token.as_ref() == Some(token))
        {
            return Ok(Response {
                flywheel_arn: found.record.flywheel_arn,
                flywheel_iteration_id: it.flywheel_iteration_id.clone(),
            });
        }
    }
    found.require_active()?;
    if let Some(running) = iterations
        .iter()
        .find(|i| matches!(i.status.as_str(), "TRAINING" | "EVALUATING"))
    {
        return Err(ApiError::new(
            "ResourceInUseException",
            format!(
                "Iteration {} of this flywheel is still running; start the next when it has finished.",
                running.flywheel_iteration_id
            ),
        ));
    }
    let datasets = service.flywheels.datasets(&found.key);
    if datasets.iter().any(|d| d.status == "CREATING") {
        return Err(ApiError::new(
            "ResourceInUseException",
            "A dataset of this flywheel is still being copied into its data lake; start the iteration when it is COMPLETED.",
        ));
    }
    if !datasets
        .iter()
        .any(|d| d.status == "COMPLETED" && d.dataset_type == "TRAIN")
    {
        return Err(ApiError::invalid(
            "The flywheel has no COMPLETED TRAIN dataset to train on; add one with CreateDataset",
        ));
    }
    service.admit()?;
    // Ids are creation times to the second: a second iteration in the same second waits one.
    let mut now = aws::now_epoch();
    let mut id = stamp(now);
    while iterations.iter().any(|i| i.flywheel_iteration_id == id) {
        std::thread::sleep(std::time::Duration::from_millis(200));
        now = aws::now_epoch();
        id = stamp(now);
    }
    let record = IterationRecord {
        flywheel_arn: found.record.flywheel_arn.clone(),
        flywheel_iteration_id: id.clone(),
        creation_time: now,
        end_time: None,
        status: "TRAINING".into(),
        message: None,
        evaluated_model_arn: None,
        evaluated_model_metrics: None,
        trained_model_arn: None,
        trained_model_metrics: None,
        evaluation_manifest_s3_prefix: None,
        docclass: Docclass {
            client_request_token: req.client_request_token,
            ..Docclass::default()
        },
    };
    service
        .flywheels
        .save_iteration(&found.key, &record)
        .map_err(ApiError::from)?;
    let mut flywheel = found.record;
    flywheel.latest_flywheel_iteration = Some(id.clone());
    flywheel.last_modified_time = now;
    service
        .flywheels
        .save(&found.key, &flywheel)
        .map_err(ApiError::from)?;
    service.enqueue(Task::Iteration(found.key, id.clone()));
    Ok(Response {
        flywheel_arn: flywheel.flywheel_arn,
        flywheel_iteration_id: id,
    })
}
