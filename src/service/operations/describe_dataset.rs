//! `DescribeDataset`: a dataset's `DatasetProperties`.

use serde::Deserialize;
use serde_json::{json, Value};

use super::Caller;
use crate::flywheel::record::public;
use crate::flywheel::{DatasetRecord, FlywheelArn};
use crate::service::error::ApiError;
use crate::service::resources::not_found;
use crate::service::runtime::Service;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    dataset_arn: String,
}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    let req: Request = serde_json::from_value(body)
        .map_err(|e| ApiError::new("SerializationException", e.to_string()))?;
    let arn = FlywheelArn::parse(&req.dataset_arn).ok_or_else(not_found)?;
    let name = arn.dataset.clone().ok_or_else(not_found)?;
    let found = service.flywheel(&arn.flywheel(), caller)?;
    let dataset = service
        .flywheels
        .load_dataset(&found.key, &name)
        .ok_or_else(not_found)?;
    Ok(json!({ "DatasetProperties": dataset_view(service, &dataset) }))
}

/// A dataset as clients see it (messages without host paths).
pub fn dataset_view(service: &Service, rec: &DatasetRecord) -> Value {
    let mut v = public(rec);
    if let Some(Value::String(m)) = v.get_mut("Message") {
        *m = service.public(m);
    }
    v
}
