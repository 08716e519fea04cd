//! The library's error type. Every variant carries what was wrong as data (which setting, which
//! value, what was expected; which path; which model) so each front end can say it in its own
//! words: the CLI names flags (`--job-id`) and local paths, the service names API members
//! (`JobId`) and never a path of the host. `Display` is the neutral wording both fall back to.

use std::path::PathBuf;

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A setting the library checks. The CLI renders it as a flag, the service as an API member;
/// the library itself only ever describes it (`Param::describe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Param {
    Region,
    AccountId,
    JobId,
    JobName,
    InputUri,
    OutputUri,
    InputFormat,
    DocumentReaderConfig,
    FeatureTypes,
    MaxPages,
    Utf8Policy,
    MaxLineBytes,
    MaxFileBytes,
    CompressionLevel,
    ShardIndex,
    ShardCount,
    ClassifierName,
    VersionName,
    ClassifierArn,
    LanguageCode,
    Mode,
    DataFormat,
    LabelDelimiter,
    TrainingData,
    TestData,
    AugmentedManifests,
    InputDataConfig,
    OutputDataConfig,
    HoldoutFraction,
    Folds,
    NFeaturesLog2,
    WordNgrams,
    CharNgrams,
    FeatureKinds,
    C,
    MaxIter,
    Tolerance,
    MemoryBudget,
}

impl Param {
    /// How the library's own messages name the setting.
    pub fn describe(self) -> &'static str {
        match self {
            Param::Region => "region",
            Param::AccountId => "account id",
            Param::JobId => "job id",
            Param::JobName => "job name",
            Param::InputUri => "input URI",
            Param::OutputUri => "output URI",
            Param::InputFormat => "input format",
            Param::DocumentReaderConfig => "document reader config",
            Param::FeatureTypes => "feature types",
            Param::MaxPages => "largest number of pages",
            Param::Utf8Policy => "invalid-UTF-8 policy",
            Param::MaxLineBytes => "largest line document",
            Param::MaxFileBytes => "largest file document",
            Param::CompressionLevel => "compression level",
            Param::ShardIndex => "shard index",
            Param::ShardCount => "shard count",
            Param::ClassifierName => "classifier name",
            Param::VersionName => "version name",
            Param::ClassifierArn => "classifier ARN",
            Param::LanguageCode => "language code",
            Param::Mode => "mode",
            Param::DataFormat => "data format",
            Param::LabelDelimiter => "label delimiter",
            Param::TrainingData => "training data",
            Param::TestData => "test data",
            Param::AugmentedManifests => "augmented manifests",
            Param::InputDataConfig => "input data config",
            Param::OutputDataConfig => "output data config",
            Param::HoldoutFraction => "hold-out fraction",
            Param::Folds => "number of folds",
            Param::NFeaturesLog2 => "feature space size (log2)",
            Param::WordNgrams => "word n-grams",
            Param::CharNgrams => "character n-grams",
            Param::FeatureKinds => "feature kinds",
            Param::C => "regularisation C",
            Param::MaxIter => "iteration limit",
            Param::Tolerance => "tolerance",
            Param::MemoryBudget => "memory budget",
        }
    }
}

impl std::fmt::Display for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

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

    /// A setting with a value it cannot take; `value` is empty when the setting is missing.
    #[error("invalid {param}: expected {expected}{}", got(value))]
    InvalidParam {
        param: Param,
        value: String,
        expected: String,
    },

    #[error("unsupported URI '{uri}': {reason}")]
    Uri { uri: String, reason: String },

    #[error(
        "no input files match '{0}': check the path, or end a folder with '/' to use its contents"
    )]
    NoInput(String),

    #[error("{}: {message}", location)]
    Data { location: String, message: String },

    #[error("{}:{line}: invalid UTF-8 at byte offset {offset}", path.display())]
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

    /// No model answers to `target` (a name, an ARN or a folder) in the registry at `registry`.
    #[error("no model '{target}' in the model registry {}", registry.display())]
    ModelNotFound { target: String, registry: PathBuf },

    #[error("model '{}' already exists", path.display())]
    ModelExists { path: PathBuf },

    /// Parts of a model or data set that do not fit together (label names and weights, IDF
    /// weights and the feature space).
    #[error("inconsistent {what}: {reason}")]
    Inconsistent { what: &'static str, reason: String },

    #[error("training failed: {0}")]
    Training(String),

    #[error("job '{0}' not found in the job store")]
    JobNotFound(String),

    /// A job id that another process is running right now.
    #[error("job '{0}' is already running in another process")]
    JobRunning(String),

    /// A job id that already has a record.
    #[error("job '{0}' already exists in the job store; choose another job id")]
    JobExists(String),

    #[error("job was cancelled")]
    Cancelled,

    #[error(transparent)]
    Json(#[from] serde_json::Error),

    #[error(transparent)]
    Linfa(#[from] linfa::Error),
}

fn got(value: &str) -> String {
    if value.is_empty() {
        String::new()
    } else {
        format!(", got '{value}'")
    }
}

impl Error {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            cause: source,
        }
    }

    /// A setting that failed validation: what it was given and what it takes.
    pub fn param(param: Param, value: impl ToString, expected: impl Into<String>) -> Self {
        Error::InvalidParam {
            param,
            value: value.to_string(),
            expected: expected.into(),
        }
    }

    /// A required setting that was not given.
    pub fn missing(param: Param, expected: impl Into<String>) -> Self {
        Error::param(param, "", expected)
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
