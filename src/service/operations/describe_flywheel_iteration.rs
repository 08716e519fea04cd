//! `DescribeFlywheelIteration`: an iteration's `FlywheelIterationProperties`.

use serde::Deserialize;
use serde_json::{json, Value};

use super::Caller;
use crate::flywheel::record::public;
use crate::flywheel::IterationRecord;
use crate::service::error::ApiError;
use crate::service::resources::not_found;
use crate::service::runtime::Service;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    flywheel_arn: String,
    flywheel_iteration_id: String,
}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    let req: Request = serde_json::from_value(body)
        .map_err(|e| ApiError::new("SerializationException", e.to_string()))?;
    let found = service.flywheel(&req.flywheel_arn, caller)?;
    let it = service
        .flywheels
        .load_iteration(&found.key, &req.flywheel_iteration_id)
        .ok_or_else(not_found)?;
    Ok(json!({ "FlywheelIterationProperties": iteration_view(service, &it) }))
}

/// An iteration as clients see it (messages without host paths).
pub fn iteration_view(service: &Service, rec: &IterationRecord) -> Value {
    let mut v = public(rec);
    if let Some(Value::String(m)) = v.get_mut("Message") {
        *m = service.public(m);
    }
    v
}
