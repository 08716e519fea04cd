//! `DescribeFlywheel`: a flywheel's `FlywheelProperties`.

use serde::Deserialize;
use serde_json::{json, Value};

use super::Caller;
use crate::flywheel::record::public;
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
    let found = service.flywheel(&req.flywheel_arn, caller)?;
    Ok(json!({ "FlywheelProperties": flywheel_view(service, &found.record) }))
}

/// A flywheel as clients see it (messages without host paths).
pub fn flywheel_view(service: &Service, rec: &crate::flywheel::FlywheelRecord) -> Value {
    let mut v = public(rec);
    if let Some(Value::String(m)) = v.get_mut("Message") {
        *m = service.public(m);
    }
    v
}
