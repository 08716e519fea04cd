//! Errors as Comprehend's JSON 1.1 protocol sends them: an exception name in `__type`, a
//! `Message`, and the HTTP status the API model gives that exception. Library errors are said
//! here in the API's words: settings as request members (`JobId`), never a flag of the CLI.

use serde_json::json;

use crate::error::{Error, Param};

/// An error answer of the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: &'static str,
    pub message: String,
    /// `InvalidRequestException`'s `Detail.Reason` for a document refused as a whole (with
    /// `Reason: INVALID_DOCUMENT`).
    pub detail: Option<&'static str>,
}

impl ApiError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            detail: None,
        }
    }

    /// A document refused as a whole, as Comprehend answers it: `InvalidRequestException`
    /// with `Reason: INVALID_DOCUMENT` and the cause in `Detail.Reason`.
    pub fn invalid_document(detail: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            detail: Some(detail),
            ..ApiError::invalid(message)
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new("InvalidRequestException", message)
    }

    /// HTTP status, as the newest API model assigns them.
    pub fn status(&self) -> u16 {
        match self.code {
            "JobNotFoundException"
            | "ResourceNotFoundException"
            | "ResourceUnavailableException" => 404,
            "TooManyRequestsException" => 429,
            "InternalServerException" => 500,
            "RequestEntityTooLargeException" => 413,
            _ => 400,
        }
    }

    pub fn body(&self) -> serde_json::Value {
        match self.detail {
            Some(d) => json!({"__type": self.code, "Message": self.message,
                              "Reason": "INVALID_DOCUMENT", "Detail": {"Reason": d}}),
            None => json!({"__type": self.code, "Message": self.message}),
        }
    }
}

/// The request member a library setting comes from.
pub fn member(param: Param) -> &'static str {
    match param {
        Param::Region => "Region",
        Param::AccountId => "DataAccessRoleArn",
        Param::JobId => "JobId",
        Param::JobName => "JobName",
        Param::InputUri => "InputDataConfig.S3Uri",
        Param::OutputUri => "OutputDataConfig.S3Uri",
        Param::InputFormat => "InputDataConfig.InputFormat",
        Param::DocumentReaderConfig => "InputDataConfig.DocumentReaderConfig",
        Param::FeatureTypes => "DocumentReaderConfig.FeatureTypes",
        Param::MaxPages => "InputDataConfig",
        Param::Utf8Policy => "InputDataConfig",
        Param::MaxLineBytes | Param::MaxFileBytes => "InputDataConfig",
        Param::CompressionLevel => "OutputDataConfig",
        Param::ShardIndex | Param::ShardCount => "InputDataConfig",
        Param::ClassifierName => "DocumentClassifierName",
        Param::VersionName => "VersionName",
        Param::ClassifierArn => "DocumentClassifierArn",
        Param::LanguageCode => "LanguageCode",
        Param::Mode => "Mode",
        Param::DataFormat => "InputDataConfig.DataFormat",
        Param::LabelDelimiter => "InputDataConfig.LabelDelimiter",
        Param::TrainingData => "InputDataConfig.S3Uri",
        Param::TestData => "InputDataConfig.TestS3Uri",
        Param::AugmentedManifests => "InputDataConfig.AugmentedManifests",
        Param::InputDataConfig => "InputDataConfig",
        Param::OutputDataConfig => "OutputDataConfig",
        Param::HoldoutFraction
        | Param::Folds
        | Param::NFeaturesLog2
        | Param::WordNgrams
        | Param::CharNgrams
        | Param::FeatureKinds
        | Param::C
        | Param::MaxIter
        | Param::Tolerance
        | Param::MemoryBudget => "InputDataConfig",
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidParam {
                param,
                value,
                expected,
            } => {
                let got = if value.is_empty() {
                    String::new()
                } else {
                    format!(", got '{value}'")
                };
                ApiError::invalid(format!(
                    "invalid value for {}: expected {expected}{got}",
                    member(param)
                ))
            }
            Error::Uri { .. } | Error::Data { .. } | Error::NoInput(_) => {
                ApiError::invalid(e.to_string())
            }
            Error::JobNotFound(id) => {
                ApiError::new("JobNotFoundException", format!("Job {id} not found"))
            }
            Error::ModelNotFound { .. } => ApiError::new(
                "ResourceNotFoundException",
                "The specified resource ARN was not found. Check the ARN and try your request again.",
            ),
            Error::ModelExists { .. } => ApiError::new(
                "ResourceInUseException",
                "a classifier with this name and version already exists",
            ),
            Error::JobExists(id) | Error::JobRunning(id) => ApiError::new(
                "ResourceInUseException",
                format!("job {id} already exists"),
            ),
            _ => ApiError::new("InternalServerException", e.to_string()),
        }
    }
}
