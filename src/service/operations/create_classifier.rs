//! `CreateDocumentClassifier`: checks the training input, refuses a name (and version) already
//! taken, stores a SUBMITTED record and queues the training.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{call, Caller};
use crate::aws::{ClassifierArn, Identity};
use crate::input::labeled::{DataFormat, ManifestSpec};
use crate::model::registry::Registry;
use crate::model::{ClassifierRecord, Mode};
use crate::service::error::ApiError;
use crate::service::pending::PendingClassifiers;
use crate::service::runtime::{Service, Task};
use crate::service::tags::{self, Tag};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    document_classifier_name: String,
    version_name: Option<String>,
    data_access_role_arn: String,
    /// Kept as sent: echoed in the classifier's record.
    input_data_config: Value,
    output_data_config: Option<Value>,
    language_code: String,
    mode: Option<String>,
    volume_kms_key_id: Option<String>,
    vpc_config: Option<Value>,
    model_kms_key_id: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

/// The members of `InputDataConfig` training reads.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TrainingInput {
    data_format: Option<String>,
    s3_uri: Option<String>,
    test_s3_uri: Option<String>,
    augmented_manifests: Option<Vec<ManifestSpec>>,
    document_type: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Response {
    document_classifier_arn: String,
}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    call(service, body, caller, run)
}

fn run(service: &Service, req: Request, caller: &Caller) -> Result<Response, ApiError> {
    let identity = Identity {
        region: caller.region.clone(),
        account: req
            .data_access_role_arn
            .split(':')
            .nth(4)
            .unwrap_or_default()
            .to_string(),
    };
    let mode: Mode = req
        .mode
        .as_deref()
        .unwrap_or("MULTI_CLASS")
        .parse()
        .map_err(ApiError::from)?;
    check_input(service, &req.input_data_config)?;
    tags::check(&req.tags)?;

    let name = &req.document_classifier_name;
    let version = req.version_name.as_deref();
    let arn = identity.classifier_arn(name, version);
    let parsed = ClassifierArn::parse(&arn).map_err(ApiError::from)?;
    let _guard = service.lock_records();
    let key = PendingClassifiers::key(&parsed);
    let scoped = Registry::new(service.cfg.registry.root.clone(), identity.clone()).scoped();
    let in_registry = scoped.folder_for(name, version).exists();
    let pending = service.pending.load(&key);
    if in_registry
        || pending
            .as_ref()
            .is_some_and(|p| p.status != "IN_ERROR" && p.status != "STOPPED")
    {
        return Err(ApiError::new(
            "ResourceInUseException",
            format!(
                "a classifier named {name}{} already exists",
                version
                    .map(|v| format!(" with version {v}"))
                    .unwrap_or_default()
            ),
        ));
    }
    service.admit()?;
    let record = ClassifierRecord {
        data_access_role_arn: Some(req.data_access_role_arn.clone()),
        volume_kms_key_id: req.volume_kms_key_id,
        vpc_config: req.vpc_config,
        model_kms_key_id: req.model_kms_key_id,
        ..ClassifierRecord::submitted(
            arn.clone(),
            req.language_code,
            mode,
            req.version_name,
            req.input_data_config,
            req.output_data_config,
        )
    };
    service
        .pending
        .save(&key, &record)
        .map_err(ApiError::from)?;
    if !req.tags.is_empty() {
        service.tags.tag(&arn, &req.tags)?;
    }
    service.enqueue(Task::Train(key));
    Ok(Response {
        document_classifier_arn: arn,
    })
}

/// The training input a plain-text classifier needs: its data format's source, readable.
fn check_input(service: &Service, input: &Value) -> Result<(), ApiError> {
    let input: TrainingInput = serde_json::from_value(input.clone())
        .map_err(|e| ApiError::new("SerializationException", e.to_string()))?;
    if input.document_type.as_deref() == Some("SEMI_STRUCTURED_DOCUMENT") {
        return Err(ApiError::invalid(
            "SEMI_STRUCTURED_DOCUMENT is not supported by docclass; train on plain text",
        ));
    }
    let format: DataFormat = input
        .data_format
        .as_deref()
        .unwrap_or("COMPREHEND_CSV")
        .parse()
        .map_err(ApiError::from)?;
    let manifests = input.augmented_manifests.unwrap_or_default();
    match format {
        DataFormat::AugmentedManifest if manifests.is_empty() => {
            return Err(ApiError::invalid(
                "AUGMENTED_MANIFEST needs AugmentedManifests",
            ))
        }
        DataFormat::ComprehendCsv if input.s3_uri.is_none() => {
            return Err(ApiError::invalid(
                "InputDataConfig.S3Uri is required for COMPREHEND_CSV",
            ))
        }
        _ => {}
    }
    for uri in input
        .s3_uri
        .iter()
        .chain(input.test_s3_uri.iter())
        .chain(manifests.iter().map(|m| &m.s3_uri))
    {
        service.local(uri)?;
    }
    Ok(())
}
