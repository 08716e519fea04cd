//! `DeleteFlywheel`: removes the flywheel and its dataset and iteration records; its data lake
//! and its models stay, as in Comprehend. Refused while an iteration runs or a dataset is being
//! copied.

use serde::Deserialize;
use serde_json::{json, Value};

use super::Caller;
use crate::service::error::ApiError;
use crate::service::runtime::Service;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    flywheel_arn: String,
}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    let req: Request = serde_json::from_value(body)
        .map_err(|e| ApiError::new("SerializationException", e.to_string()))?;
    let _guard = service.lock_records();
    let found = service.flywheel(&req.flywheel_arn, caller)?;
    let busy_iteration = service
        .flywheels
        .iterations(&found.key)
        .iter()
        .any(|i| matches!(i.status.as_str(), "TRAINING" | "EVALUATING"));
    let busy_dataset = service
        .flywheels
        .datasets(&found.key)
        .iter()
        .any(|d| d.status == "CREATING");
    if busy_iteration || busy_dataset || found.record.status == "CREATING" {
        return Err(ApiError::new(
            "ResourceInUseException",
            "The flywheel is running an iteration or creating a dataset; delete it when that has finished.",
        ));
    }
    for d in service.flywheels.datasets(&found.key) {
        service.tags.forget(&d.dataset_arn);
    }
    service.tags.forget(&found.record.flywheel_arn);
    service.flywheels.remove(&found.key);
    Ok(json!({}))
}
