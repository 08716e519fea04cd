//! The library's error type. Every variant names the offending value and, where a user can act,
//! says what to do next; the binary adds context (which command, which file) with anyhow.

use std::path::PathBuf;

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the engine can refuse or fail at.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // The cause is part of the message (job records store only the message), so it is not also
    // a `source`, which would print it twice in a context chain.
    #[error("{}: {cause}{}", path.display(), io_hint(cause))]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },

    #[error("invalid value for {name}: {reason}")]
    InvalidParam { name: String, reason: String },

    #[error("unsupported URI '{uri}': {reason}")]
    Uri { uri: String, reason: String },

    #[error(
        "no input files match '{0}': check the path, or end a folder with '/' to use its contents"
    )]
    NoInput(String),

    #[error("{}: {message}", location)]
    Data { location: String, message: String },

    #[error("{}:{line}: invalid UTF-8 at byte offset {offset}; pass --on-invalid-utf8 lossy to decode it lossily", path.display())]
    InvalidUtf8 {
        path: PathBuf,
        line: u64,
        offset: u64,
    },

    #[error("model '{}': format version {found} is not supported (this build reads version {supported}); retrain the model or upgrade docclass", path.display())]
    ModelVersion {
        path: PathBuf,
        found: u32,
        supported: u32,
    },

    #[error("model '{}' is corrupt: {reason}; retrain it or restore it from a backup", path.display())]
    ModelCorrupt { path: PathBuf, reason: String },

    #[error("model '{}' not found: {reason}", target)]
    ModelNotFound { target: String, reason: String },

    #[error("model '{}' already exists; choose another --version-name or delete the folder first", path.display())]
    ModelExists { path: PathBuf },

    #[error("training failed: {0}")]
    Training(String),

    #[error("job '{0}' not found in the job store; list jobs with `docclass list-document-classification-jobs`")]
    JobNotFound(String),

    #[error("job was cancelled")]
    Cancelled,

    #[error(transparent)]
    Json(#[from] serde_json::Error),

    #[error(transparent)]
    Linfa(#[from] linfa::Error),
}

impl Error {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            cause: source,
        }
    }

    /// A parameter that failed validation.
    pub fn param(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidParam {
            name: name.into(),
            reason: reason.into(),
        }
    }

    /// A problem in training data at a given location (`file:row`).
    pub fn data(location: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Data {
            location: location.into(),
            message: message.into(),
        }
    }
}

/// What to do about the I/O failures a user can fix.
fn io_hint(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
            "; free space on that filesystem (or choose another output), then run the job again"
        }
        std::io::ErrorKind::PermissionDenied => "; check the file's permissions",
        _ => "",
    }
}
