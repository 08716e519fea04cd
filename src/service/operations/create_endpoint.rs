//! `CreateEndpoint`: an endpoint for a TRAINED classifier of the caller's region, or for a
//! flywheel (its active model version, followed when UpdateFlywheel promotes another), CREATING
//! until its model is loaded, then IN_SERVICE. A repeated `ClientRequestToken` returns the first.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{call, Caller};
use crate::aws::{self, Identity};
use crate::service::endpoints::EndpointRecord;
use crate::service::error::ApiError;
use crate::service::resources;
use crate::service::runtime::Service;
use crate::service::tags::{self, Tag};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    endpoint_name: String,
    model_arn: Option<String>,
    desired_inference_units: i64,
    client_request_token: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
    data_access_role_arn: Option<String>,
    flywheel_arn: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Response {
    endpoint_arn: String,
    model_arn: String,
}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    call(service, body, caller, run)
}

fn run(service: &Service, req: Request, caller: &Caller) -> Result<Response, ApiError> {
    // An endpoint of a flywheel serves its active model version, and follows it.
    let model_arn = match (req.model_arn, &req.flywheel_arn) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid("Give ModelArn or FlywheelArn, not both"))
        }
        (None, None) => return Err(ApiError::invalid("ModelArn or FlywheelArn is required")),
        (Some(arn), None) => arn,
        (None, Some(flywheel)) => service.flywheel_active_model(flywheel, caller)?,
    };
    if !model_arn.contains(":document-classifier/") {
        return Err(ApiError::invalid(
            "ModelArn must be a document classifier (docclass has no entity recognizers)",
        ));
    }
    resources::trained(service, &model_arn, caller)?;
    tags::check(&req.tags)?;
    let account = model_arn.split(':').nth(4).unwrap_or_default().to_string();
    let identity = Identity {
        region: caller.region.clone(),
        account,
    };
    let endpoint_arn = identity.endpoint_arn(&req.endpoint_name);
    let _guard = service.lock_records();
    if let Some(existing) =
        service
            .endpoints
            .load(&identity.account, &identity.region, &req.endpoint_name)
    {
        if req.client_request_token.is_some()
            && existing.client_request_token == req.client_request_token
        {
            return Ok(Response {
                endpoint_arn: existing.endpoint_arn,
                model_arn: existing.model_arn,
            });
        }
        return Err(ApiError::new(
            "ResourceInUseException",
            format!("An endpoint named {} already exists.", req.endpoint_name),
        ));
    }
    let now = aws::now_epoch();
    let record = EndpointRecord {
        endpoint_arn: endpoint_arn.clone(),
        status: "CREATING".into(),
        message: None,
        model_arn: model_arn.clone(),
        desired_model_arn: None,
        desired_inference_units: req.desired_inference_units,
        current_inference_units: 0,
        creation_time: now,
        last_modified_time: now,
        data_access_role_arn: req.data_access_role_arn,
        desired_data_access_role_arn: None,
        flywheel_arn: req.flywheel_arn,
        client_request_token: req.client_request_token,
    };
    service.endpoints.save(&record).map_err(ApiError::from)?;
    if !req.tags.is_empty() {
        service.tags.tag(&endpoint_arn, &req.tags)?;
    }
    Arc::clone(&service.this()).settle_endpoint(record);
    Ok(Response {
        endpoint_arn,
        model_arn,
    })
}
