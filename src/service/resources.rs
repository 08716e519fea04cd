//! Resource access, in one place for every operation: what an ARN names, within the caller's
//! region (a client signing for another region sees nothing), and only inside the model
//! registry and the service's state (an ARN is never read as a path of the host). Classifiers
//! are trained models (scoped to their account and region, or shared models that answer to
//! their name everywhere) or pending ones; endpoints live in the endpoint store.

use std::path::PathBuf;

use super::endpoints::EndpointRecord;
use super::error::ApiError;
use super::operations::Caller;
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

pub fn not_found() -> ApiError {
    ApiError::new(
        "ResourceNotFoundException",
        "The specified resource ARN was not found. Check the ARN and try your request again.",
    )
}

/// The parts of an ARN of `kind` (`document-classifier`, `document-classification-job`,
/// `document-classifier-endpoint`) in the caller's region: (account, resource).
pub fn in_region<'a>(arn: &'a str, kind: &str, caller: &Caller) -> Option<(&'a str, &'a str)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[2] != "comprehend" || parts[3] != caller.region {
        return None;
    }
    let resource = parts[5].strip_prefix(kind)?.strip_prefix('/')?;
    Some((parts[4], resource))
}

/// The classifier `arn` names in the caller's region: trained or pending.
pub fn classifier(
    service: &Service,
    arn: &str,
    caller: &Caller,
) -> Result<FoundClassifier, ApiError> {
    let parsed = ClassifierArn::parse(arn).map_err(|_| not_found())?;
    if parsed.region != caller.region {
        return Err(not_found());
    }
    let key = PendingClassifiers::key(&parsed);
    if let Some(dir) = service.cfg.registry.resolve_arn(&parsed) {
        let mut record = ClassifierRecord::load(&dir).map_err(ApiError::from)?;
        // A shared model answers to its name in every region and account.
        record.document_classifier_arn = arn.to_string();
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

/// The model folder of a TRAINED classifier; one that exists but is not trained is
/// `ResourceUnavailableException`, as Comprehend answers.
pub fn trained(service: &Service, arn: &str, caller: &Caller) -> Result<PathBuf, ApiError> {
    let found = classifier(service, arn, caller)?;
    match found.dir {
        Some(dir) => Ok(dir),
        None => Err(ApiError::new(
            "ResourceUnavailableException",
            format!(
                "The classifier {arn} is {}, not TRAINED; wait for its training to finish, or create it again.",
                found.record.status
            ),
        )),
    }
}

/// The endpoint `arn` names in the caller's region.
pub fn endpoint(service: &Service, arn: &str, caller: &Caller) -> Result<EndpointRecord, ApiError> {
    let (account, name) =
        in_region(arn, "document-classifier-endpoint", caller).ok_or_else(not_found)?;
    service
        .endpoints
        .load(account, &caller.region, name)
        .ok_or_else(not_found)
}
