//! Validated configurations built from command-line flags: the bridge between `cli` (flags) and
//! the library's `TrainConfig` / `ClassifyConfig`. Every check that can fail does so here, before
//! any document is read, with a message naming the flag.

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::cli::{CreateArgs, CrossValidateArgs, RegistryArgs, TrainArgs, TuningArgs};
use docclass::aws::Identity;
use docclass::input::labeled::{DataFormat, ManifestSpec, ReadOptions};
use docclass::input::{MmapChoice, Utf8Policy};
use docclass::job::run::{ClassifyConfig, Shard};
use docclass::job::shard::MergeConfig;
use docclass::job::train::TrainConfig;
use docclass::model::registry::Registry;
use docclass::model::{ClassWeight, Mode, TrainParams};
use docclass::output::{FileLine, JsonStyle};
use docclass::service::{Credentials, HttpConfig, ServiceConfig};
use docclass::text::FeatureSpec;

/// A bad flag value: exits with status 2, naming the flag.
fn bad(name: &str, reason: String) -> anyhow::Error {
    docclass::Error::param(name, reason).into()
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

fn features(t: &TuningArgs) -> Result<FeatureSpec> {
    let char_ngrams = if t.char_ngrams.eq_ignore_ascii_case("none") {
        None
    } else {
        let (lo, hi) = t
            .char_ngrams
            .split_once('-')
            .map(|(a, b)| (a.trim().parse::<u32>(), b.trim().parse::<u32>()))
            .unwrap_or((t.char_ngrams.trim().parse(), t.char_ngrams.trim().parse()));
        match (lo, hi) {
            (Ok(lo), Ok(hi)) => Some([lo, hi]),
            _ => {
                return Err(bad(
                    "--char-ngrams",
                    format!(
                        "expected MIN-MAX (like 2-5) or none, got '{}'",
                        t.char_ngrams
                    ),
                ))
            }
        }
    };
    let spec = FeatureSpec {
        n_features_log2: t.n_features_log2,
        lowercase: true,
        symbols: !t.no_symbols,
        word_ngrams: t.word_ngrams,
        char_ngrams,
        digit_shapes: !t.no_digit_shapes,
        sublinear_tf: !t.no_sublinear_tf,
        idf: !t.no_idf,
        l2_normalize: true,
        seed: 0,
    };
    spec.validate()?;
    Ok(spec)
}

fn params(t: &TuningArgs, mode: Mode) -> Result<TrainParams> {
    let class_weight = match t.class_weight.as_str() {
        "none" => ClassWeight::None,
        "balanced" => ClassWeight::Balanced,
        other => {
            return Err(bad(
                "--class-weight",
                format!("expected none or balanced, got '{other}'"),
            ))
        }
    };
    let p = TrainParams {
        mode,
        c: t.c,
        class_weight,
        max_iter: t.max_iter,
        tolerance: t.tolerance,
    };
    p.validate()?;
    Ok(p)
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

fn utf8_policy(s: &str) -> Result<Utf8Policy> {
    let p: Utf8Policy = s.parse()?;
    if p == Utf8Policy::SkipRest {
        return Err(bad(
            "--on-invalid-utf8",
            "training takes error, lossy or skip-document, got 'skip-rest'".to_string(),
        ));
    }
    Ok(p)
}

struct Base {
    read: ReadOptions,
    features: FeatureSpec,
    params: TrainParams,
}

fn base(t: &TuningArgs, format: &str, label_delimiter: &str) -> Result<Base> {
    let mode: Mode = t.mode.parse()?;
    Ok(Base {
        read: ReadOptions {
            format: format.parse()?,
            mode,
            label_delimiter: delimiter(label_delimiter)?,
            utf8: utf8_policy(&t.on_invalid_utf8)?,
        },
        features: features(t)?,
        params: params(t, mode)?,
    })
}

pub fn train_config(a: &TrainArgs) -> Result<TrainConfig> {
    let b = base(&a.tuning, &a.format, &a.label_delimiter)?;
    let mut idc = serde_json::json!({"DataFormat": b.read.format.as_str(), "S3Uri": a.train});
    if let Some(t) = &a.test {
        idc["TestS3Uri"] = t.clone().into();
    }
    if b.read.mode == Mode::MultiLabel {
        idc["LabelDelimiter"] = a.label_delimiter.clone().into();
    }
    Ok(TrainConfig {
        name: a.name.clone(),
        version: a.version_name.clone(),
        registry: registry(&a.registry)?,
        train_uri: Some(a.train.clone()),
        test_uri: a.test.clone(),
        manifests: Vec::new(),
        read: b.read,
        language_code: a.tuning.language_code.clone(),
        features: b.features,
        params: b.params,
        min_examples_per_label: a.tuning.min_examples_per_label,
        holdout_fraction: 0.1,
        seed: a.seed,
        input_data_config: idc,
        output_data_config: None,
        overwrite: a.overwrite,
    })
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
    let raw = docclass::shorthand::parse("--input-data-config", &a.input_data_config)?;
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
    let format = idc
        .data_format
        .clone()
        .unwrap_or_else(|| "COMPREHEND_CSV".into());
    let b = base(
        &a.tuning,
        &format,
        idc.label_delimiter.as_deref().unwrap_or("|"),
    )?;
    let output = match &a.output_data_config {
        Some(s) => Some(docclass::shorthand::parse("--output-data-config", s)?),
        None => None,
    };
    Ok(TrainConfig {
        name: a.document_classifier_name.clone(),
        version: a.version_name.clone(),
        registry: registry(&a.registry)?,
        train_uri: idc.s3_uri.clone(),
        test_uri: idc.test_s3_uri.clone(),
        manifests: idc.augmented_manifests.unwrap_or_default(),
        read: b.read,
        language_code: a.tuning.language_code.clone(),
        features: b.features,
        params: b.params,
        min_examples_per_label: a.tuning.min_examples_per_label,
        holdout_fraction: 0.1,
        seed: a.seed,
        input_data_config: raw,
        output_data_config: output,
        overwrite: a.overwrite,
    })
}

pub fn cv_config(a: &CrossValidateArgs) -> Result<TrainConfig> {
    let b = base(&a.tuning, &a.format, &a.label_delimiter)?;
    if b.read.format == DataFormat::AugmentedManifest {
        return Err(bad(
            "--format",
            "cross-validate reads COMPREHEND_CSV or LABEL_FOLDERS".to_string(),
        ));
    }
    Ok(TrainConfig {
        name: "cross-validation".into(),
        version: None,
        registry: Registry::new("models", Identity::default()),
        train_uri: Some(a.train.clone()),
        test_uri: None,
        manifests: Vec::new(),
        read: b.read,
        language_code: a.tuning.language_code.clone(),
        features: b.features,
        params: b.params,
        min_examples_per_label: a.tuning.min_examples_per_label,
        holdout_fraction: 0.1,
        seed: 0,
        input_data_config: serde_json::Value::Null,
        output_data_config: None,
        overwrite: false,
    })
}

pub fn classify_config(
    a: &crate::cli::ClassifyArgs,
    registry: &Registry,
) -> Result<ClassifyConfig> {
    let style = match a.json_style.as_str() {
        "compact" => JsonStyle::Compact,
        "padded" => JsonStyle::Padded,
        other => {
            return Err(bad(
                "--json-style",
                format!("expected compact or padded, got '{other}'"),
            ))
        }
    };
    let mmap = match a.mmap.as_str() {
        "auto" => MmapChoice::Auto,
        "never" => MmapChoice::Never,
        other => {
            return Err(bad(
                "--mmap",
                format!("expected auto or never, got '{other}'"),
            ))
        }
    };
    let utf8: Utf8Policy = a.on_invalid_utf8.parse()?;
    if utf8 == Utf8Policy::Error {
        return Err(bad(
            "--on-invalid-utf8",
            "classification takes skip-rest, skip-document or lossy, got 'error'".to_string(),
        ));
    }
    let shard = shard(a.shard_index, a.shard_count, &|k| std::env::var(k).ok())?;
    let job_id = match (&a.job_id, shard) {
        (Some(id), _) => id.clone(),
        (None, None) => docclass::aws::new_job_id(),
        (None, Some(_)) => engine_job_id(&|k| std::env::var(k).ok())?,
    };
    let cfg = ClassifyConfig {
        input_uri: a.input.clone(),
        split: a.input_format.parse()?,
        output_uri: a.output.clone(),
        job_id,
        job_name: a.job_name.clone(),
        identity: registry.identity.clone(),
        utf8,
        max_line_bytes: a.max_line_bytes,
        max_file_bytes: a.max_file_bytes,
        style,
        file_line: if a.omit_file_line {
            FileLine::Omit
        } else {
            FileLine::Zero
        },
        compression_level: a.compression_level,
        mmap,
        unit_bytes: a.unit_bytes.max(1),
        s3_root: a.s3_root.clone(),
        shard,
        mtime: source_date_epoch()?,
    };
    cfg.validate()?;
    Ok(cfg)
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
