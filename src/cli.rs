//! Command-line flags (clap derive): the only module that knows them. Short verbs (`train`,
//! `classify`) and the AWS CLI's names (`create-document-classifier`, ...) with its flag names,
//! so Comprehend users can map one tool onto the other.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use docclass::input::document::{FeatureType, ReadAction, ReadMode};
use docclass::input::labeled::DataFormat;
use docclass::input::{MmapChoice, SplitMode, Utf8Policy};
use docclass::model::{ClassWeight, Mode};
use docclass::output::JsonStyle;
use docclass::Param;

/// Comprehend's `InputFormat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormatArg {
    #[value(name = "ONE_DOC_PER_LINE", alias = "one-doc-per-line")]
    OneDocPerLine,
    #[value(name = "ONE_DOC_PER_FILE", alias = "one-doc-per-file")]
    OneDocPerFile,
}

impl From<InputFormatArg> for SplitMode {
    fn from(a: InputFormatArg) -> Self {
        match a {
            InputFormatArg::OneDocPerLine => SplitMode::OnePerLine,
            InputFormatArg::OneDocPerFile => SplitMode::OnePerFile,
        }
    }
}

/// Comprehend's classifier `Mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// One label per document.
    #[value(name = "MULTI_CLASS", alias = "multi-class")]
    MultiClass,
    /// Any number of labels per document.
    #[value(name = "MULTI_LABEL", alias = "multi-label")]
    MultiLabel,
}

impl From<ModeArg> for Mode {
    fn from(a: ModeArg) -> Self {
        match a {
            ModeArg::MultiClass => Mode::MultiClass,
            ModeArg::MultiLabel => Mode::MultiLabel,
        }
    }
}

/// Comprehend's `DataFormat`, plus folders per label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DataFormatArg {
    /// label,text rows (RFC 4180), no header.
    #[value(name = "COMPREHEND_CSV", alias = "csv")]
    ComprehendCsv,
    /// SageMaker Ground Truth JSON lines (needs AugmentedManifests in --input-data-config).
    #[value(name = "AUGMENTED_MANIFEST", alias = "manifest")]
    AugmentedManifest,
    /// <root>/<label>/<files>, one document per file.
    #[value(name = "LABEL_FOLDERS", alias = "folders")]
    LabelFolders,
}

impl From<DataFormatArg> for DataFormat {
    fn from(a: DataFormatArg) -> Self {
        match a {
            DataFormatArg::ComprehendCsv => DataFormat::ComprehendCsv,
            DataFormatArg::AugmentedManifest => DataFormat::AugmentedManifest,
            DataFormatArg::LabelFolders => DataFormat::LabelFolders,
        }
    }
}

/// Comprehend's `DocumentReadAction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReadActionArg {
    /// Lines in reading order (Textract DetectDocumentText).
    #[value(name = "TEXTRACT_DETECT_DOCUMENT_TEXT")]
    DetectDocumentText,
    /// Lines, with tables and forms laid out (Textract AnalyzeDocument); needs --feature-types.
    #[value(name = "TEXTRACT_ANALYZE_DOCUMENT")]
    AnalyzeDocument,
}

impl From<ReadActionArg> for ReadAction {
    fn from(a: ReadActionArg) -> Self {
        match a {
            ReadActionArg::DetectDocumentText => ReadAction::TextractDetectDocumentText,
            ReadActionArg::AnalyzeDocument => ReadAction::TextractAnalyzeDocument,
        }
    }
}

/// Comprehend's `DocumentReadMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReadModeArg {
    /// Text layers where PDF pages have them, OCR where they do not.
    #[value(name = "SERVICE_DEFAULT")]
    ServiceDefault,
    /// OCR for every PDF page.
    #[value(name = "FORCE_DOCUMENT_READ_ACTION")]
    ForceDocumentReadAction,
}

impl From<ReadModeArg> for ReadMode {
    fn from(a: ReadModeArg) -> Self {
        match a {
            ReadModeArg::ServiceDefault => ReadMode::ServiceDefault,
            ReadModeArg::ForceDocumentReadAction => ReadMode::ForceDocumentReadAction,
        }
    }
}

/// Comprehend's `FeatureTypes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FeatureTypeArg {
    /// Table cells row by row.
    #[value(name = "TABLES")]
    Tables,
    /// Form keys next to their values.
    #[value(name = "FORMS")]
    Forms,
}

impl From<FeatureTypeArg> for FeatureType {
    fn from(a: FeatureTypeArg) -> Self {
        match a {
            FeatureTypeArg::Tables => FeatureType::Tables,
            FeatureTypeArg::Forms => FeatureType::Forms,
        }
    }
}

/// What classification does with a document that is not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClassifyUtf8Arg {
    /// An error record for the document, the rest of its file skipped (Comprehend's rule).
    SkipRest,
    /// An error record for the document; the next one is read.
    SkipDocument,
    /// Decode with replacement characters and classify it.
    Lossy,
}

impl From<ClassifyUtf8Arg> for Utf8Policy {
    fn from(a: ClassifyUtf8Arg) -> Self {
        match a {
            ClassifyUtf8Arg::SkipRest => Utf8Policy::SkipRest,
            ClassifyUtf8Arg::SkipDocument => Utf8Policy::SkipDocument,
            ClassifyUtf8Arg::Lossy => Utf8Policy::Lossy,
        }
    }
}

/// What training does with a document that is not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TrainUtf8Arg {
    /// Refuse the data, naming the file and byte offset.
    Error,
    /// Decode with replacement characters (needed for raw e-mail and Usenet corpora).
    Lossy,
    /// Leave the document out.
    SkipDocument,
}

impl From<TrainUtf8Arg> for Utf8Policy {
    fn from(a: TrainUtf8Arg) -> Self {
        match a {
            TrainUtf8Arg::Error => Utf8Policy::Error,
            TrainUtf8Arg::Lossy => Utf8Policy::Lossy,
            TrainUtf8Arg::SkipDocument => Utf8Policy::SkipDocument,
        }
    }
}

/// How rows are weighted by their class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClassWeightArg {
    /// Rare classes count as much as common ones.
    Balanced,
    /// Every row counts once.
    None,
}

impl From<ClassWeightArg> for ClassWeight {
    fn from(a: ClassWeightArg) -> Self {
        match a {
            ClassWeightArg::Balanced => ClassWeight::Balanced,
            ClassWeightArg::None => ClassWeight::None,
        }
    }
}

/// JSON spacing of predictions.jsonl.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JsonStyleArg {
    /// {"File": ...}, as Comprehend's documentation shows.
    Compact,
    /// { "File": ... }, as some captured real output shows.
    Padded,
}

impl From<JsonStyleArg> for JsonStyle {
    fn from(a: JsonStyleArg) -> Self {
        match a {
            JsonStyleArg::Compact => JsonStyle::Compact,
            JsonStyleArg::Padded => JsonStyle::Padded,
        }
    }
}

/// Whether input files are memory-mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MmapArg {
    /// Map files where it pays, read the rest.
    Auto,
    /// Always read.
    Never,
}

impl From<MmapArg> for MmapChoice {
    fn from(a: MmapArg) -> Self {
        match a {
            MmapArg::Auto => MmapChoice::Auto,
            MmapArg::Never => MmapChoice::Never,
        }
    }
}

/// The flag a library setting comes from, for error messages.
pub fn flag(param: Param) -> &'static str {
    match param {
        Param::Region => "--region",
        Param::AccountId => "--account-id",
        Param::JobId => "--job-id",
        Param::JobName => "--job-name",
        Param::InputUri => "--input",
        Param::OutputUri => "--output",
        Param::InputFormat => "--input-format",
        Param::DocumentReaderConfig => "--document-read-action",
        Param::FeatureTypes => "--feature-types",
        Param::MaxPages => "--max-pages",
        Param::Utf8Policy => "--on-invalid-utf8",
        Param::MaxLineBytes => "--max-line-bytes",
        Param::MaxFileBytes => "--max-file-bytes",
        Param::CompressionLevel => "--compression-level",
        Param::ShardIndex => "--shard-index",
        Param::ShardCount => "--shard-count",
        Param::ClassifierName => "--document-classifier-name",
        Param::VersionName => "--version-name",
        Param::ClassifierArn => "--document-classifier-arn",
        Param::LanguageCode => "--language-code",
        Param::Mode => "--mode",
        Param::DataFormat => "--format",
        Param::LabelDelimiter => "--label-delimiter",
        Param::TrainingData => "--input-data-config",
        Param::TestData => "--test",
        Param::AugmentedManifests => "--input-data-config",
        Param::InputDataConfig => "--input-data-config",
        Param::OutputDataConfig => "--output-data-config",
        Param::HoldoutFraction => "--holdout-fraction",
        Param::Folds => "--folds",
        Param::NFeaturesLog2 => "--n-features-log2",
        Param::WordNgrams => "--word-ngrams",
        Param::CharNgrams => "--char-ngrams",
        Param::FeatureKinds => "--word-ngrams/--char-ngrams",
        Param::C => "--c",
        Param::MaxIter => "--max-iter",
        Param::Tolerance => "--tolerance",
        Param::MemoryBudget => "--memory-budget",
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "docclass",
    version,
    about = "Train text classifiers and run Comprehend-compatible batch classification jobs, offline",
    after_help = "Exit codes: 0 success, 1 failure, 2 bad arguments, 3 job completed with per-document errors."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// S3-compatible endpoint for s3:// URIs (path-style), as the AWS CLI's --endpoint-url;
    /// also read from AWS_ENDPOINT_URL. Without it, s3:// means AWS S3.
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Named profile of ~/.aws/credentials and ~/.aws/config (as AWS_PROFILE).
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a classifier from labelled data (short form of create-document-classifier).
    Train(TrainArgs),
    /// Train a classifier, with Comprehend's CreateDocumentClassifier arguments.
    CreateDocumentClassifier(CreateArgs),
    /// Estimate model quality by k-fold cross-validation (no model is written).
    CrossValidate(CrossValidateArgs),
    /// Print a classifier's DocumentClassifierProperties as JSON.
    DescribeDocumentClassifier(DescribeClassifierArgs),
    /// List the classifiers in the model registry.
    ListDocumentClassifiers(ListClassifiersArgs),
    /// Print the path of a classifier's training report (report.html, opens offline in a browser).
    Report(ReportArgs),
    /// Run a batch classification job in the foreground: input prefix → output.tar.gz.
    Classify(ClassifyArgs),
    /// Print a classification job's DocumentClassificationJobProperties as JSON.
    DescribeDocumentClassificationJob(DescribeJobArgs),
    /// List classification jobs in the job store.
    ListDocumentClassificationJobs(ListJobsArgs),
    /// Serve Comprehend's API on 127.0.0.1 for the AWS CLI, boto3 and SDKs (--endpoint-url).
    Serve(ServeArgs),
    /// Splice the parts of a sharded job into its output.tar.gz and record the job.
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; anything but loopback exposes the service to the network.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// Port (0 picks a free one; the chosen address is printed on stdout).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Map s3://bucket/key to DIR/bucket/key for job input, output and training data (offline
    /// use). Without it, s3:// URIs are read from and written to S3 itself (AWS, or the
    /// S3-compatible server of --endpoint-url / AWS_ENDPOINT_URL).
    #[arg(long, value_name = "DIR")]
    pub s3_root: Option<PathBuf>,
    /// Folder for job records and classifiers in training (shared with `docclass classify`'s job store parent).
    #[arg(long, default_value = ".docclass")]
    pub state_dir: PathBuf,
    /// Jobs (classification or training) running at once; the rest wait as SUBMITTED.
    #[arg(long, default_value_t = 2)]
    pub concurrency: usize,
    /// Access key id clients sign with (SigV4).
    #[arg(long, env = "DOCCLASS_ACCESS_KEY_ID")]
    pub access_key_id: Option<String>,
    /// Secret access key clients sign with (SigV4).
    #[arg(long, env = "DOCCLASS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub secret_access_key: Option<String>,
    /// Accept unsigned and wrongly signed requests (local experiments only).
    #[arg(long)]
    pub no_verify_signatures: bool,
    /// Largest request body in bytes (ClassifyDocument's 10 MB documents arrive as base64).
    #[arg(long, default_value_t = 16 << 20)]
    pub max_body_bytes: usize,
    /// Jobs (classification or training) queued or running at most; more are refused with
    /// TooManyRequestsException, which the AWS SDKs retry with backoff.
    #[arg(long, default_value_t = 100)]
    pub max_queued_jobs: usize,
    /// Requests handled at once; more are refused with TooManyRequestsException.
    #[arg(long, default_value_t = 256)]
    pub max_inflight_requests: usize,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Where ARNs point and models live.
#[derive(Debug, Args, Clone)]
pub struct RegistryArgs {
    /// Folder holding trained models (one folder per classifier).
    #[arg(long, env = "DOCCLASS_MODEL_REGISTRY", default_value = "models")]
    pub model_registry: PathBuf,
    /// Region written into ARNs.
    #[arg(long, env = "DOCCLASS_REGION", default_value = "us-east-1")]
    pub region: String,
    /// 12-digit account id written into ARNs and output folder names.
    #[arg(long, env = "DOCCLASS_ACCOUNT_ID", default_value = "000000000000")]
    pub account_id: String,
}

/// Feature and learner settings shared by every training command.
#[derive(Debug, Args, Clone)]
pub struct TuningArgs {
    /// One label per document, or any number.
    #[arg(long, value_enum, ignore_case = true, default_value = "MULTI_CLASS")]
    pub mode: ModeArg,
    /// Language of the documents (Comprehend's LanguageCode).
    #[arg(long, default_value = "en",
          value_parser = clap::builder::PossibleValuesParser::new(docclass::job::train::LANGUAGES))]
    pub language_code: String,
    /// Invalid UTF-8 in training data.
    #[arg(long, value_enum, ignore_case = true, default_value = "error")]
    pub on_invalid_utf8: TrainUtf8Arg,
    /// Hashed feature space size, as a power of two [searched when not given; default 18].
    #[arg(long)]
    pub n_features_log2: Option<u32>,
    /// Word n-grams from 1 to N, 0 turns them off [searched when not given].
    #[arg(long)]
    pub word_ngrams: Option<u32>,
    /// Character n-grams inside words, MIN-MAX (e.g. 2-5), or "none" [searched when not given].
    #[arg(long)]
    pub char_ngrams: Option<String>,
    /// Leave out single-character symbol tokens ($, £, !) [searched when not given].
    #[arg(long)]
    pub no_symbols: bool,
    /// Leave out digit-shape features [searched when not given].
    #[arg(long)]
    pub no_digit_shapes: bool,
    /// Use raw term frequencies instead of 1 + ln(tf).
    #[arg(long)]
    pub no_sublinear_tf: bool,
    /// Do not weight features by inverse document frequency.
    #[arg(long)]
    pub no_idf: bool,
    /// Scale IDF weights by how well each feature tells the labels apart (NB-SVM's log-count
    /// ratio), true or false [searched when not given].
    #[arg(long, value_name = "BOOL")]
    pub label_weighting: Option<bool>,
    /// Inverse regularisation strength of the logistic regression [searched when not given].
    #[arg(long)]
    pub c: Option<f64>,
    /// Class weighting [searched when not given].
    #[arg(long, value_enum, ignore_case = true)]
    pub class_weight: Option<ClassWeightArg>,
    /// Train with the fixed defaults (words 1-2 + chars 1-4, C=10, balanced) and the settings
    /// given, without the settings search: faster, usually less accurate.
    #[arg(long)]
    pub no_search: bool,
    /// Wall-clock seconds the settings search may take; a candidate predicted to run past them is
    /// skipped (so on a busy machine fewer candidates may be tried).
    #[arg(long, default_value_t = 40)]
    pub search_seconds: u64,
    /// Optimizer iteration limit.
    #[arg(long, default_value_t = 300)]
    pub max_iter: usize,
    /// Optimizer stops when the relative objective decrease falls below this.
    #[arg(long, default_value_t = 1e-6)]
    pub tolerance: f64,
    /// Labels with fewer examples are refused (Comprehend requires 10).
    #[arg(long, default_value_t = 10)]
    pub min_examples_per_label: usize,
    /// Memory training may use, e.g. 12G or 800M: a training set that would need more is refused
    /// before it is read [default: four fifths of the memory available].
    #[arg(long, value_name = "SIZE")]
    pub memory_budget: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Classifier name (folder and ARN name).
    #[arg(long, alias = "document-classifier-name")]
    pub name: String,
    /// Version name (optional; part of the ARN).
    #[arg(long)]
    pub version_name: Option<String>,
    /// Training data: a file or prefix (local path or file:// URI).
    #[arg(long)]
    pub train: String,
    /// Test data (same format); without it 10% of the training data is held out for evaluation.
    #[arg(long)]
    pub test: Option<String>,
    /// Format of the training data.
    #[arg(long, value_enum, ignore_case = true, default_value = "COMPREHEND_CSV")]
    pub format: DataFormatArg,
    /// Separator of labels in MULTI_LABEL CSV rows.
    #[arg(long, default_value = "|")]
    pub label_delimiter: String,
    /// Seed of the evaluation hold-out split.
    #[arg(long, default_value_t = docclass::rng::SEED)]
    pub seed: u64,
    /// Replace an existing model with the same name and version.
    #[arg(long)]
    pub overwrite: bool,
    #[command(flatten)]
    pub tuning: TuningArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Classifier name (folder and ARN name).
    #[arg(long)]
    pub document_classifier_name: String,
    /// Version name (optional; part of the ARN).
    #[arg(long)]
    pub version_name: Option<String>,
    /// S3Uri=...,TestS3Uri=...,LabelDelimiter=|,DataFormat=COMPREHEND_CSV (shorthand or JSON).
    #[arg(long)]
    pub input_data_config: String,
    /// S3Uri=... (recorded in the classifier's properties).
    #[arg(long)]
    pub output_data_config: Option<String>,
    /// Accepted for compatibility; no role is assumed offline.
    #[arg(long)]
    pub data_access_role_arn: Option<String>,
    /// Seed of the evaluation hold-out split.
    #[arg(long, default_value_t = docclass::rng::SEED)]
    pub seed: u64,
    /// Replace an existing model with the same name and version.
    #[arg(long)]
    pub overwrite: bool,
    #[command(flatten)]
    pub tuning: TuningArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct CrossValidateArgs {
    /// Labelled data: a file or prefix.
    #[arg(long)]
    pub train: String,
    /// Format of the labelled data (COMPREHEND_CSV or LABEL_FOLDERS).
    #[arg(long, value_enum, ignore_case = true, default_value = "COMPREHEND_CSV")]
    pub format: DataFormatArg,
    /// Separator of labels in MULTI_LABEL CSV rows.
    #[arg(long, default_value = "|")]
    pub label_delimiter: String,
    /// Number of folds. Exact and near duplicates and threads stay inside one fold.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Write every document's fold (0-based, one line per document in input order) to this
    /// file, so other tools can be scored on the same folds.
    #[arg(long, value_name = "PATH")]
    pub write_folds: Option<std::path::PathBuf>,
    /// Write every document's out-of-fold label scores to this file (JSON lines in input order,
    /// `{"Labels": [{"Name": ..., "Score": ...}, ...]}` with every label), to score them at any
    /// threshold.
    #[arg(long, value_name = "PATH")]
    pub write_scores: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub tuning: TuningArgs,
}

#[derive(Debug, Args)]
pub struct DescribeClassifierArgs {
    /// Classifier ARN, name or model folder.
    #[arg(long)]
    pub document_classifier_arn: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Model: classifier ARN, name in the registry, or model folder.
    #[arg(long)]
    pub model: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct ListClassifiersArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Input file or prefix (local path or file:// URI).
    #[arg(long)]
    pub input: String,
    /// How input files hold documents.
    #[arg(
        long,
        value_enum,
        ignore_case = true,
        default_value = "ONE_DOC_PER_LINE"
    )]
    pub input_format: InputFormatArg,
    /// Model: classifier ARN, name in the registry, or model folder.
    #[arg(long)]
    pub model: String,
    /// Output prefix; the archive goes to <prefix>/<account>-CLN-<JobId>/output/output.tar.gz.
    #[arg(long)]
    pub output: String,
    /// Job name recorded in the job record.
    #[arg(long)]
    pub job_name: Option<String>,
    /// Use this job id (1-32 lowercase hex) instead of a random one.
    #[arg(long)]
    pub job_id: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Invalid UTF-8 in a document.
    #[arg(long, value_enum, ignore_case = true, default_value = "skip-rest")]
    pub on_invalid_utf8: ClassifyUtf8Arg,
    /// Largest ONE_DOC_PER_LINE document, in bytes.
    #[arg(long, default_value_t = 1_048_576)]
    pub max_line_bytes: u64,
    /// Largest ONE_DOC_PER_FILE document, in bytes.
    #[arg(long, default_value_t = 10_485_760)]
    pub max_file_bytes: u64,
    /// How PDF pages without text and images are read (DocumentReaderConfig's
    /// DocumentReadAction). PDF, Word and image files are read with the defaults without it.
    #[arg(long, value_enum, ignore_case = true)]
    pub document_read_action: Option<ReadActionArg>,
    /// Whether every PDF page is OCR'd (DocumentReadMode); needs --document-read-action.
    #[arg(long, value_enum, ignore_case = true)]
    pub document_read_mode: Option<ReadModeArg>,
    /// Tables and/or forms to lay out with TEXTRACT_ANALYZE_DOCUMENT (comma-separated).
    #[arg(long, value_enum, ignore_case = true, value_delimiter = ',')]
    pub feature_types: Vec<FeatureTypeArg>,
    /// Most pages of a PDF, Word or image document (Comprehend: 100); longer documents get an
    /// error record.
    #[arg(long, default_value_t = 100)]
    pub max_pages: u32,
    /// Longest OCR of one page, in seconds; a page that takes longer gets an error record.
    #[arg(long, default_value_t = 60)]
    pub ocr_timeout: u64,
    /// ONE_DOC_PER_FILE lines carry "Line": "0" (as real jobs do); pass this to omit it, as the documentation shows.
    #[arg(long)]
    pub omit_file_line: bool,
    /// JSON spacing of predictions.jsonl.
    #[arg(long, value_enum, ignore_case = true, default_value = "compact")]
    pub json_style: JsonStyleArg,
    /// gzip level of output.tar.gz (0-9). The default, 2, compresses predictions 16-fold in
    /// under a third of the time level 6 takes; 6 writes about 26% less.
    #[arg(long, default_value_t = docclass::job::DEFAULT_COMPRESSION_LEVEL)]
    pub compression_level: u32,
    /// Memory-map input files.
    #[arg(long, value_enum, ignore_case = true, default_value = "auto")]
    pub mmap: MmapArg,
    /// Folder of job records.
    #[arg(long, env = "DOCCLASS_JOB_STORE", default_value = ".docclass/jobs")]
    pub job_store: PathBuf,
    /// Map s3://bucket/key URIs to DIR/bucket/key (offline stand-in for S3). Without it, s3://
    /// URIs are S3 itself (AWS, or the server of --endpoint-url / AWS_ENDPOINT_URL).
    #[arg(long, value_name = "DIR")]
    pub s3_root: Option<PathBuf>,
    /// Size of one work unit in bytes (tests use small units to exercise chunking).
    #[arg(long, default_value_t = docclass::job::UNIT_BYTES, hide = true)]
    pub unit_bytes: usize,
    /// Run shard I (0-based) of a job split across processes or machines; writes a part that
    /// `docclass merge` splices. Defaults from SLURM_ARRAY_TASK_ID (minus SLURM_ARRAY_TASK_MIN),
    /// JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or AWS_BATCH_JOB_ARRAY_INDEX.
    #[arg(long, env = "DOCCLASS_SHARD_INDEX")]
    pub shard_index: Option<usize>,
    /// Number of shards N. Defaults from SLURM_ARRAY_TASK_COUNT or AWS_BATCH_JOB_ARRAY_SIZE;
    /// 1 turns sharding off.
    #[arg(long, env = "DOCCLASS_SHARD_COUNT")]
    pub shard_count: Option<usize>,
    /// No progress bar on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The output prefix the shards wrote under.
    #[arg(long)]
    pub output: String,
    /// The job id every shard ran with. Defaults as for `classify --shard-count`.
    #[arg(long)]
    pub job_id: Option<String>,
    /// Folder of job records (the merged job is recorded here).
    #[arg(long, env = "DOCCLASS_JOB_STORE", default_value = ".docclass/jobs")]
    pub job_store: PathBuf,
    /// Map s3://bucket/key URIs to DIR/bucket/key (offline stand-in for S3). Without it, s3://
    /// URIs are S3 itself (AWS, or the server of --endpoint-url / AWS_ENDPOINT_URL).
    #[arg(long, value_name = "DIR")]
    pub s3_root: Option<PathBuf>,
    /// Leave the parts in place after merging.
    #[arg(long)]
    pub keep_parts: bool,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct DescribeJobArgs {
    /// The job's id (JobId).
    #[arg(long)]
    pub job_id: String,
    /// Folder of job records.
    #[arg(long, env = "DOCCLASS_JOB_STORE", default_value = ".docclass/jobs")]
    pub job_store: PathBuf,
}

#[derive(Debug, Args)]
pub struct ListJobsArgs {
    /// Folder of job records.
    #[arg(long, env = "DOCCLASS_JOB_STORE", default_value = ".docclass/jobs")]
    pub job_store: PathBuf,
}
