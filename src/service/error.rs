//! Errors as Comprehend's JSON 1.1 protocol sends them: an exception name in `__type`, a
//! `Message`, and the HTTP status the API model gives that exception.

use serde_json::json;

/// An error answer of the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
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
        json!({"__type": self.code, "Message": self.message})
    }
}

impl From<crate::Error> for ApiError {
    fn from(e: crate::Error) -> Self {
        match e {
            crate::Error::InvalidParam { .. }
            | crate::Error::Uri { .. }
            | crate::Error::Data { .. } => ApiError::invalid(e.to_string()),
            crate::Error::JobNotFound(_) => ApiError::new("JobNotFoundException", e.to_string()),
            crate::Error::ModelNotFound { .. } => {
                ApiError::new("ResourceNotFoundException", e.to_string())
            }
            crate::Error::ModelExists { .. } => {
                ApiError::new("ResourceInUseException", e.to_string())
            }
            _ => ApiError::new("InternalServerException", e.to_string()),
        }
    }
}
