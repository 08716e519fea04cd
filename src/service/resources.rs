//! Resource access, in one place for every operation: what a classifier ARN names (a trained
//! model in the registry, or a classifier still pending), so no operation resolves ARNs or
//! touches folders on its own.

use std::path::PathBuf;

use super::error::ApiError;
use super::pending::PendingClassifiers;
use super::runtime::Service;
use crate::aws::ClassifierArn;
use crate::model::ClassifierRecord;

/// A classifier an ARN names.
pub struct FoundClassifier {
    /// Its model folder, when it is trained.
    pub dir: Option<PathBuf>,
    /// Its key among pending classifiers.
    pub key: String,
    pub record: ClassifierRecord,
}

fn not_found() -> ApiError {
    ApiError::new(
        "ResourceNotFoundException",
        "The specified resource ARN was not found. Check the ARN and try your request again.",
    )
}

/// The classifier `arn` names: trained (in the registry) or pending (being trained, failed).
pub fn classifier(service: &Service, arn: &str) -> Result<FoundClassifier, ApiError> {
    let parsed = ClassifierArn::parse(arn).map_err(|_| not_found())?;
    let key = PendingClassifiers::key(&parsed.name, parsed.version.as_deref());
    if let Ok(dir) = service.cfg.registry.resolve(arn) {
        let record = ClassifierRecord::load(&dir).map_err(ApiError::from)?;
        return Ok(FoundClassifier {
            dir: Some(dir),
            key,
            record,
        });
    }
    let record = service.pending.load(&key).ok_or_else(not_found)?;
    Ok(FoundClassifier {
        dir: None,
        key,
        record,
    })
}
