//! Validated configurations built from command-line flags: the bridge between `cli` (flags) and
//! the library's `TrainConfig` / `ClassifyConfig`. Every check that can fail does so here, before
//! any document is read, with a message naming the flag.

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::cli::{CreateArgs, CrossValidateArgs, RegistryArgs, TrainArgs, TuningArgs};
use crate::shorthand;
use docclass::aws::Identity;
use docclass::input::document::ReaderConfig;
use docclass::input::labeled::{DataFormat, ManifestSpec};
use docclass::input::Utf8Policy;
use docclass::job::shard::MergeConfig;
use docclass::job::train::budget::{parse_bytes, MemoryBudget};
use docclass::job::train::search::{Overrides, SearchSettings};
use docclass::job::train::TrainConfig;
use docclass::job::{ClassifyConfig, Shard};
use docclass::model::registry::Registry;
use docclass::model::{Mode, TrainParams};
use docclass::output::FileLine;
use docclass::service::{Credentials, HttpConfig, ServiceConfig};
use docclass::text::FeatureSpec;

/// A bad command-line value, found by the CLI itself: exits with status 2, naming the flag.
#[derive(Debug, thiserror::Error)]
#[error("invalid value for {flag}: {reason}")]
pub struct UsageError {
    pub flag: String,
    pub reason: String,
}

fn bad(flag: &str, reason: String) -> anyhow::Error {
    UsageError {
        flag: flag.into(),
        reason,
    }
    .into()
}

pub fn registry(args: &RegistryArgs) -> Result<Registry> {
    let identity = Identity::new(&args.region, &args.account_id)?;
    Ok(Registry::new(args.model_registry.clone(), identity))
}

pub fn thread_pool(threads: Option<usize>) -> Result<()> {
    if let Some(n) = threads {
        if n == 0 {
            return Err(bad("--threads", "expected at least 1, got 0".to_string()));
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("failed to start the worker threads")?;
    }
    Ok(())
}

/// The settings the tuning flags fix; the search chooses the others.
fn overrides(t: &TuningArgs) -> Result<Overrides> {
    let char_ngrams = match t.char_ngrams.as_deref() {
        None => None,
        Some(v) if v.eq_ignore_ascii_case("none") => Some(None),
        Some(v) => {
            let (lo, hi) = v
                .split_once('-')
                .map(|(a, b)| (a.trim().parse::<u32>(), b.trim().parse::<u32>()))
                .unwrap_or((v.trim().parse(), v.trim().parse()));
            match (lo, hi) {
                (Ok(lo), Ok(hi)) => Some(Some([lo, hi])),
                _ => {
                    return Err(bad(
                        "--char-ngrams",
                        format!("expected MIN-MAX (like 2-5) or none, got '{v}'"),
                    ))
                }
            }
        }
    };
    Ok(Overrides {
        n_features_log2: t.n_features_log2,
        word_ngrams: t.word_ngrams,
        char_ngrams,
        symbols: t.no_symbols.then_some(false),
        digit_shapes: t.no_digit_shapes.then_some(false),
        sublinear_tf: t.no_sublinear_tf.then_some(false),
        idf: t.no_idf.then_some(false),
        label_weighting: t.label_weighting,
        c: t.c,
        class_weight: t.class_weight.map(Into::into),
    })
}

/// The fixed settings (`--no-search`): the defaults with the flags given applied.
fn fixed(t: &TuningArgs, o: &Overrides) -> Result<(FeatureSpec, TrainParams)> {
    let mut spec = FeatureSpec::default();
    let mut p = TrainParams {
        mode: t.mode.into(),
        max_iter: t.max_iter,
        tolerance: t.tolerance,
        ..TrainParams::default()
    };
    o.apply(&mut spec, &mut p);
    spec.validate()?;
    p.validate()?;
    Ok((spec, p))
}

fn delimiter(s: &str) -> Result<char> {
    const ALLOWED: &str = " ~!@#$%^*-_+=|\\:;\t>?/";
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if ALLOWED.contains(c) => Ok(c),
        _ => Err(bad(
            "LabelDelimiter",
            format!("expected one character of {ALLOWED:?}, got '{s}'"),
        )),
    }
}

/// A training configuration with the settings every training command shares.
fn tuned(
    name: &str,
    registry: Registry,
    t: &TuningArgs,
    format: DataFormat,
    label_delimiter: &str,
) -> Result<TrainConfig> {
    let mut c = TrainConfig::new(name, registry);
    c.format = format;
    c.label_delimiter = delimiter(label_delimiter)?;
    c.utf8 = Utf8Policy::from(t.on_invalid_utf8);
    c.language_code = t.language_code.clone();
    let o = overrides(t)?;
    (c.features, c.params) = fixed(t, &o)?;
    c.search = (!t.no_search).then(|| SearchSettings {
        budget: std::time::Duration::from_secs(t.search_seconds),
        ..SearchSettings::default()
    });
    c.overrides = o;
    c.min_examples_per_label = t.min_examples_per_label;
    if let Some(b) = &t.memory_budget {
        c.memory = MemoryBudget::bytes(parse_bytes(b)?);
    }
    Ok(c)
}

pub fn train_config(a: &TrainArgs) -> Result<TrainConfig> {
    let format: DataFormat = a.format.into();
    let mut c = tuned(
        &a.name,
        registry(&a.registry)?,
        &a.tuning,
        format,
        &a.label_delimiter,
    )?;
    let mut idc = serde_json::json!({"DataFormat": format.as_str(), "S3Uri": a.train});
    if let Some(t) = &a.test {
        idc["TestS3Uri"] = t.clone().into();
    }
    if c.params.mode == Mode::MultiLabel {
        idc["LabelDelimiter"] = a.label_delimiter.clone().into();
    }
    c.version = a.version_name.clone();
    c.train_uri = Some(a.train.clone());
    c.test_uri = a.test.clone();
    c.seed = a.seed;
    c.input_data_config = idc;
    c.overwrite = a.overwrite;
    Ok(c)
}

/// Comprehend's `DocumentClassifierInputDataConfig`, as far as plain text training uses it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct InputDataConfigArg {
    data_format: Option<String>,
    s3_uri: Option<String>,
    test_s3_uri: Option<String>,
    label_delimiter: Option<String>,
    augmented_manifests: Option<Vec<ManifestSpec>>,
    document_type: Option<String>,
}

pub fn create_config(a: &CreateArgs) -> Result<TrainConfig> {
    let raw = shorthand::parse("--input-data-config", &a.input_data_config)?;
    let idc: InputDataConfigArg = serde_json::from_value(raw.clone())
        .map_err(|e| bad("--input-data-config", e.to_string()))?;
    if let Some(dt) = &idc.document_type {
        if dt != "PLAIN_TEXT_DOCUMENT" {
            return Err(bad(
                "--input-data-config DocumentType",
                format!("only PLAIN_TEXT_DOCUMENT is supported, got '{dt}'"),
            ));
        }
    }
    let format = match &idc.data_format {
        Some(f) => f.parse()?,
        None => DataFormat::ComprehendCsv,
    };
    let mut c = tuned(
        &a.document_classifier_name,
        registry(&a.registry)?,
        &a.tuning,
        format,
        idc.label_delimiter.as_deref().unwrap_or("|"),
    )?;
    c.version = a.version_name.clone();
    c.train_uri = idc.s3_uri.clone();
    c.test_uri = idc.test_s3_uri.clone();
    c.manifests = idc.augmented_manifests.unwrap_or_default();
    c.seed = a.seed;
    c.input_data_config = raw;
    c.output_data_config = match &a.output_data_config {
        Some(s) => Some(shorthand::parse("--output-data-config", s)?),
        None => None,
    };
    c.overwrite = a.overwrite;
    Ok(c)
}

pub fn cv_config(a: &CrossValidateArgs) -> Result<TrainConfig> {
    let format: DataFormat = a.format.into();
    if format == DataFormat::AugmentedManifest {
        return Err(bad(
            "--format",
            "cross-validate reads COMPREHEND_CSV or LABEL_FOLDERS".to_string(),
        ));
    }
    let registry = Registry::new("models", Identity::default());
    let mut c = tuned(
        "cross-validation",
        registry,
        &a.tuning,
        format,
        &a.label_delimiter,
    )?;
    c.train_uri = Some(a.train.clone());
    c.seed = 0;
    Ok(c)
}

pub fn classify_config(
    a: &crate::cli::ClassifyArgs,
    registry: &Registry,
) -> Result<ClassifyConfig> {
    let shard = shard(a.shard_index, a.shard_count, &|k| std::env::var(k).ok())?;
    let job_id = match (&a.job_id, shard) {
        (Some(id), _) => id.clone(),
        (None, None) => docclass::aws::new_job_id(),
        (None, Some(_)) => engine_job_id(&|k| std::env::var(k).ok())?,
    };
    let cfg = ClassifyConfig {
        input_uri: a.input.clone(),
        split: a.input_format.into(),
        output_uri: a.output.clone(),
        job_id,
        job_name: a.job_name.clone(),
        identity: registry.identity.clone(),
        utf8: a.on_invalid_utf8.into(),
        max_line_bytes: a.max_line_bytes,
        max_file_bytes: a.max_file_bytes,
        style: a.json_style.into(),
        file_line: if a.omit_file_line {
            FileLine::Omit
        } else {
            FileLine::Zero
        },
        compression_level: a.compression_level,
        document_reader: reader_config(a)?,
        document_limits: docclass::input::document::Limits {
            max_pages: a.max_pages,
            ..Default::default()
        },
        ocr: docclass::input::document::Ocr {
            timeout: std::time::Duration::from_secs(a.ocr_timeout.max(1)),
            ..Default::default()
        },
        mmap: a.mmap.into(),
        unit_bytes: a.unit_bytes.max(1),
        s3_root: a.s3_root.clone(),
        shard,
        mtime: source_date_epoch()?,
    };
    cfg.validate()?;
    Ok(cfg)
}

/// Comprehend's `DocumentReaderConfig` from the classify flags: given when the read action is.
fn reader_config(a: &crate::cli::ClassifyArgs) -> Result<Option<ReaderConfig>> {
    let Some(action) = a.document_read_action else {
        if a.document_read_mode.is_some() || !a.feature_types.is_empty() {
            return Err(bad(
                "--document-read-action",
                "--document-read-mode and --feature-types need the read action (TEXTRACT_DETECT_DOCUMENT_TEXT or TEXTRACT_ANALYZE_DOCUMENT)".to_string(),
            ));
        }
        return Ok(None);
    };
    Ok(Some(ReaderConfig {
        document_read_action: action.into(),
        document_read_mode: a.document_read_mode.map(Into::into),
        feature_types: (!a.feature_types.is_empty())
            .then(|| a.feature_types.iter().map(|&f| f.into()).collect()),
    }))
}

pub fn merge_config(a: &crate::cli::MergeArgs, registry: &Registry) -> Result<MergeConfig> {
    let job_id = match &a.job_id {
        Some(id) => id.clone(),
        None => engine_job_id(&|k| std::env::var(k).ok())?,
    };
    Ok(MergeConfig {
        output_uri: a.output.clone(),
        job_id,
        identity: registry.identity.clone(),
        s3_root: a.s3_root.clone(),
        mtime: source_date_epoch()?,
        keep_parts: a.keep_parts,
    })
}

/// Reproducible archives: the tar header's time comes from `SOURCE_DATE_EPOCH` when it is set.
fn source_date_epoch() -> Result<Option<u64>> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => v.trim().parse().map(Some).map_err(|_| {
            bad(
                "SOURCE_DATE_EPOCH",
                format!("expected whole seconds since 1970, got '{v}'"),
            )
        }),
        Err(_) => Ok(None),
    }
}

/// The shard this process runs: from the flags, else from the scheduler's array variables.
/// `None` when the job is not split (no variables, or a count of 1).
pub fn shard(
    index: Option<usize>,
    count: Option<usize>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Shard>> {
    let num = |name: &str| -> Result<Option<usize>> {
        env(name)
            .map(|v| {
                v.trim()
                    .parse::<usize>()
                    .map_err(|_| bad(name, format!("expected a whole number, got '{v}'")))
            })
            .transpose()
    };
    let slurm_index = match (num("SLURM_ARRAY_TASK_ID")?, num("SLURM_ARRAY_TASK_MIN")?) {
        (Some(id), min) => Some(id.checked_sub(min.unwrap_or(0)).ok_or_else(|| {
            bad(
                "SLURM_ARRAY_TASK_ID",
                "is below SLURM_ARRAY_TASK_MIN".to_string(),
            )
        })?),
        (None, _) => None,
    };
    let index = match index {
        Some(i) => Some(i),
        None => slurm_index
            .or(num("JOB_COMPLETION_INDEX")?)
            .or(num("AWS_BATCH_JOB_ARRAY_INDEX")?),
    };
    let count = match count {
        Some(c) => Some(c),
        None => num("SLURM_ARRAY_TASK_COUNT")?.or(num("AWS_BATCH_JOB_ARRAY_SIZE")?),
    };
    match (index, count) {
        (_, Some(1)) | (None, None) => Ok(None),
        (Some(i), Some(n)) => Ok(Some(Shard::new(i, n)?)),
        (None, Some(n)) => Err(bad(
            "--shard-index",
            format!(
                "a job split in {n} shards needs this shard's index (0-{})",
                n - 1
            ),
        )),
        (Some(i), None) => Err(bad(
            "--shard-count",
            format!("shard index {i} needs the number of shards"),
        )),
    }
}

/// The job id every shard of an array job shares: Slurm's array job id, or AWS Batch's parent
/// job id. Elsewhere (Kubernetes), `--job-id` must be given.
pub fn engine_job_id(env: &dyn Fn(&str) -> Option<String>) -> Result<String> {
    let id = env("SLURM_ARRAY_JOB_ID").or_else(|| {
        env("AWS_BATCH_JOB_ID").map(|v| {
            v.split(':')
                .next()
                .unwrap_or_default()
                .replace('-', "")
                .to_ascii_lowercase()
        })
    });
    id.ok_or_else(|| {
        bad(
            "--job-id",
            "a sharded job needs one job id shared by every shard (1-32 lowercase hex)".to_string(),
        )
    })
}

pub fn serve_config(a: &crate::cli::ServeArgs) -> Result<(ServiceConfig, HttpConfig)> {
    let registry = registry(&a.registry)?;
    for (name, value) in [
        ("--concurrency", a.concurrency),
        ("--max-queued-jobs", a.max_queued_jobs),
        ("--max-inflight-requests", a.max_inflight_requests),
    ] {
        if value == 0 {
            return Err(bad(name, "expected at least 1, got 0".to_string()));
        }
    }
    let keys = match (&a.access_key_id, &a.secret_access_key) {
        (Some(id), Some(secret)) => vec![Credentials {
            access_key_id: id.clone(),
            secret_access_key: secret.clone(),
        }],
        (None, None) => Vec::new(),
        _ => {
            return Err(bad(
                "--access-key-id/--secret-access-key",
                "give both, or neither".to_string(),
            ))
        }
    };
    if keys.is_empty() && !a.no_verify_signatures {
        return Err(bad(
            "--access-key-id",
            "requests are signature-checked: give --access-key-id and --secret-access-key (the keys your AWS CLI or SDK uses), or --no-verify-signatures for unsigned local use".to_string(),
        ));
    }
    let service = ServiceConfig {
        state_dir: a.state_dir.clone(),
        s3_root: a.s3_root.clone(),
        concurrency: a.concurrency,
        max_queued_jobs: a.max_queued_jobs,
        registry: registry.clone(),
        resume: true,
    };
    let http = HttpConfig {
        addr: std::net::SocketAddr::new(a.host, a.port),
        keys,
        verify_signatures: !a.no_verify_signatures,
        max_body_bytes: a.max_body_bytes,
        max_inflight_requests: a.max_inflight_requests,
        default_region: registry.identity.region.clone(),
    };
    Ok((service, http))
}
