//! `UpdateFlywheel`: a new active model version (promotion, as Comprehend leaves it to the user:
//! a version of the flywheel's classifier, or another TRAINED classifier of the same mode), a new
//! role or security configuration. Endpoints created from the flywheel follow its active version.

use serde::Deserialize;
use serde_json::{json, Value};

use super::describe_flywheel::flywheel_view;
use super::Caller;
use crate::aws;
use crate::model::ClassifierRecord;
use crate::service::error::ApiError;
use crate::service::resources;
use crate::service::runtime::Service;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    flywheel_arn: String,
    active_model_arn: Option<String>,
    data_access_role_arn: Option<String>,
    data_security_config: Option<Value>,
}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    let req: Request = serde_json::from_value(body)
        .map_err(|e| ApiError::new("SerializationException", e.to_string()))?;
    let _guard = service.lock_records();
    let found = service.flywheel(&req.flywheel_arn, caller)?;
    found.require_active()?;
    let mut rec = found.record;
    if let Some(model) = &req.active_model_arn {
        let dir = resources::trained(service, model, caller)?;
        let record = ClassifierRecord::load(&dir).map_err(ApiError::from)?;
        if record.mode != service.flywheel_mode(&rec) {
            return Err(ApiError::invalid(format!(
                "ActiveModelArn {model} is a {} model; the flywheel's models are {}",
                record.mode.as_str(),
                service.flywheel_mode(&rec).as_str()
            )));
        }
        rec.active_model_arn = Some(model.clone());
    }
    if let Some(role) = req.data_access_role_arn {
        rec.data_access_role_arn = role;
    }
    if let Some(security) = req.data_security_config {
        // Subfields missing from the request are cleared; a missing member leaves it as it was.
        rec.data_security_config = Some(security);
    }
    rec.last_modified_time = aws::now_epoch();
    service
        .flywheels
        .save(&found.key, &rec)
        .map_err(ApiError::from)?;
    if req.active_model_arn.is_some() {
        service.follow_flywheel(&rec);
    }
    Ok(json!({ "FlywheelProperties": flywheel_view(service, &rec) }))
}
