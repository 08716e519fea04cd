//! `UpdateEndpoint`: a new model, inference units or role for an IN_SERVICE endpoint; UPDATING
//! until the new model is loaded (the old one keeps answering meanwhile), then IN_SERVICE. With
//! `FlywheelArn` the endpoint follows that flywheel: it serves its active model version now and
//! whichever version UpdateFlywheel promotes later.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{call, Caller};
use crate::aws;
use crate::service::error::ApiError;
use crate::service::resources;
use crate::service::runtime::Service;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    endpoint_arn: String,
    desired_model_arn: Option<String>,
    desired_inference_units: Option<i64>,
    desired_data_access_role_arn: Option<String>,
    flywheel_arn: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Response {
    #[serde(skip_serializing_if = "Option::is_none")]
    desired_model_arn: Option<String>,
}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    call(service, body, caller, run)
}

fn run(service: &Service, req: Request, caller: &Caller) -> Result<Response, ApiError> {
    let desired = match (req.desired_model_arn, &req.flywheel_arn) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "Give DesiredModelArn or FlywheelArn, not both",
            ))
        }
        (Some(arn), None) => Some(arn),
        (None, Some(flywheel)) => Some(service.flywheel_active_model(flywheel, caller)?),
        (None, None) => None,
    };
    let _guard = service.lock_records();
    let mut rec = resources::endpoint(service, &req.endpoint_arn, caller)?;
    if rec.status != "IN_SERVICE" {
        return Err(ApiError::new(
            "ResourceInUseException",
            format!(
                "The endpoint is {}; it can be updated when it is IN_SERVICE.",
                rec.status
            ),
        ));
    }
    if let Some(m) = &desired {
        resources::trained(service, m, caller)?;
    }
    rec.desired_model_arn = desired.clone();
    if req.flywheel_arn.is_some() {
        rec.flywheel_arn = req.flywheel_arn;
    } else if desired.is_some() {
        // A model chosen by hand ends following the flywheel.
        rec.flywheel_arn = None;
    }
    if let Some(units) = req.desired_inference_units {
        rec.desired_inference_units = units;
    }
    rec.desired_data_access_role_arn = req.desired_data_access_role_arn;
    rec.status = "UPDATING".into();
    rec.last_modified_time = aws::now_epoch();
    service.endpoints.save(&rec).map_err(ApiError::from)?;
    Arc::clone(&service.this()).settle_endpoint(rec);
    Ok(Response {
        desired_model_arn: desired,
    })
}
