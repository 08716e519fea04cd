//! Comprehend's operations, one file each, over typed request and response shapes. A request
//! reaches an operation only after two layers: the HTTP edge checked its signature, and
//! `handle` here validated its body against the API model's table (`aws::shapes`), so every
//! operation starts from a well-formed request and says only what is specific to it. A new
//! operation is one file here, one line in `SUPPORTED`, and its shapes in the table.

mod classify_document;
mod create_classifier;
mod create_dataset;
mod create_endpoint;
mod create_flywheel;
mod delete_classifier;
mod delete_endpoint;
mod delete_flywheel;
mod describe_classifier;
mod describe_dataset;
mod describe_endpoint;
mod describe_flywheel;
mod describe_flywheel_iteration;
mod describe_job;
mod list_classifier_summaries;
mod list_classifiers;
mod list_datasets;
mod list_endpoints;
mod list_flywheel_iteration_history;
mod list_flywheels;
mod list_jobs;
mod start_flywheel_iteration;
mod start_job;
mod stop_training;
mod tag_resource;
mod update_endpoint;
mod update_flywheel;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::error::ApiError;
use super::runtime::Service;
use crate::aws::shapes::{self, Shape, Violation};

/// Who is calling: the region the request was signed for.
#[derive(Debug, Clone)]
pub struct Caller {
    pub region: String,
}

/// One operation: its name, its input shape, and what it does with a validated body.
struct Operation {
    name: &'static str,
    run: fn(&Service, Value, &Caller) -> Result<Value, ApiError>,
}

/// Every operation this service answers; anything else is `UnknownOperationException`.
static SUPPORTED: &[Operation] = &[
    Operation {
        name: "StartDocumentClassificationJob",
        run: start_job::handle,
    },
    Operation {
        name: "DescribeDocumentClassificationJob",
        run: describe_job::handle,
    },
    Operation {
        name: "ListDocumentClassificationJobs",
        run: list_jobs::handle,
    },
    Operation {
        name: "CreateDocumentClassifier",
        run: create_classifier::handle,
    },
    Operation {
        name: "DescribeDocumentClassifier",
        run: describe_classifier::handle,
    },
    Operation {
        name: "ListDocumentClassifiers",
        run: list_classifiers::handle,
    },
    Operation {
        name: "DeleteDocumentClassifier",
        run: delete_classifier::handle,
    },
    Operation {
        name: "StopTrainingDocumentClassifier",
        run: stop_training::handle,
    },
    Operation {
        name: "ClassifyDocument",
        run: classify_document::handle,
    },
    Operation {
        name: "CreateEndpoint",
        run: create_endpoint::handle,
    },
    Operation {
        name: "DescribeEndpoint",
        run: describe_endpoint::handle,
    },
    Operation {
        name: "ListEndpoints",
        run: list_endpoints::handle,
    },
    Operation {
        name: "UpdateEndpoint",
        run: update_endpoint::handle,
    },
    Operation {
        name: "DeleteEndpoint",
        run: delete_endpoint::handle,
    },
    Operation {
        name: "TagResource",
        run: tag_resource::tag,
    },
    Operation {
        name: "UntagResource",
        run: tag_resource::untag,
    },
    Operation {
        name: "ListTagsForResource",
        run: tag_resource::list,
    },
    Operation {
        name: "ListDocumentClassifierSummaries",
        run: list_classifier_summaries::handle,
    },
    Operation {
        name: "CreateFlywheel",
        run: create_flywheel::handle,
    },
    Operation {
        name: "DescribeFlywheel",
        run: describe_flywheel::handle,
    },
    Operation {
        name: "ListFlywheels",
        run: list_flywheels::handle,
    },
    Operation {
        name: "UpdateFlywheel",
        run: update_flywheel::handle,
    },
    Operation {
        name: "DeleteFlywheel",
        run: delete_flywheel::handle,
    },
    Operation {
        name: "CreateDataset",
        run: create_dataset::handle,
    },
    Operation {
        name: "DescribeDataset",
        run: describe_dataset::handle,
    },
    Operation {
        name: "ListDatasets",
        run: list_datasets::handle,
    },
    Operation {
        name: "StartFlywheelIteration",
        run: start_flywheel_iteration::handle,
    },
    Operation {
        name: "DescribeFlywheelIteration",
        run: describe_flywheel_iteration::handle,
    },
    Operation {
        name: "ListFlywheelIterationHistory",
        run: list_flywheel_iteration_history::handle,
    },
];

/// Names of the operations this service answers.
pub fn supported() -> impl Iterator<Item = &'static str> {
    SUPPORTED.iter().map(|o| o.name)
}

/// Answers one operation. `region` comes from the request's signature (or the default).
pub fn handle(service: &Service, op: &str, body: &[u8], region: &str) -> Result<Value, ApiError> {
    let Some(operation) = SUPPORTED.iter().find(|o| o.name == op) else {
        return Err(ApiError::new(
            "UnknownOperationException",
            format!(
                "operation '{op}' is not supported by docclass; supported: {}",
                supported().collect::<Vec<_>>().join(", ")
            ),
        ));
    };
    let body = parse_body(body)?;
    let input = shapes::input_shape(op).expect("every supported operation has an input shape");
    validate(input, &body)?;
    let caller = Caller {
        region: region.to_string(),
    };
    (operation.run)(service, body, &caller)
}

fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    let body: Value = if body.is_empty() {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(body).map_err(|e| {
            ApiError::new(
                "SerializationException",
                format!("request body is not JSON: {e}"),
            )
        })?
    };
    if !body.is_object() {
        return Err(ApiError::new(
            "SerializationException",
            "request body must be a JSON object",
        ));
    }
    Ok(body)
}

/// Checks a request against its input shape, answering as Comprehend does.
fn validate(shape: &Shape, body: &Value) -> Result<(), ApiError> {
    shape.validate(body, "").map_err(|v| match v {
        Violation::Type { .. } => ApiError::new("SerializationException", v.message()),
        Violation::Constraint { .. } => ApiError::invalid(v.message()),
    })
}

/// Runs an operation over its typed request and response.
fn call<Req: DeserializeOwned, Resp: Serialize>(
    service: &Service,
    body: Value,
    caller: &Caller,
    run: fn(&Service, Req, &Caller) -> Result<Resp, ApiError>,
) -> Result<Value, ApiError> {
    let req: Req = serde_json::from_value(body)
        .map_err(|e| ApiError::new("SerializationException", e.to_string()))?;
    let resp = run(service, req, caller)?;
    serde_json::to_value(resp).map_err(|e| ApiError::new("InternalServerException", e.to_string()))
}
