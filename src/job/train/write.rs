//! What a finished training run writes: the model folder (renamed into place whole) with its
//! `model.json`, and Comprehend's training output when `OutputDataConfig.S3Uri` was given.

use std::fs;
use std::path::PathBuf;

use crate::aws;
use crate::error::{Error, Result};
use crate::model::io::{ModelFiles, ModelMeta, TrainingData, WeightsInfo, FORMAT_VERSION};
use crate::model::metrics::{ClassifierMetadata, ConfusionMatrix};
use crate::model::{Classifier, ClassifierRecord, LinearModel, TrainParams};
use crate::text::FeatureSpec;

use super::data::Loaded;
use super::{output, report, Selection, TrainConfig};

/// `model.json` of a model trained on `loaded` with the chosen settings.
pub fn model_meta(
    config: &TrainConfig,
    loaded: &Loaded,
    (features, params): (&FeatureSpec, &TrainParams),
    metadata: ClassifierMetadata,
    selection: &Selection,
    model: &LinearModel,
) -> Result<ModelMeta> {
    Ok(ModelMeta {
        format: "docclass-model".into(),
        format_version: FORMAT_VERSION,
        name: config.name.clone(),
        version_name: config.version.clone(),
        mode: params.mode,
        language_code: config.language_code.clone(),
        labels: loaded.corpus.labels.clone(),
        features: features.clone(),
        training: params.clone(),
        training_data: TrainingData {
            sha256: loaded.sha256.clone(),
            documents: loaded.corpus.len(),
            input_data_config: config.input_data_config.clone(),
        },
        classifier_metadata: metadata,
        weights: WeightsInfo {
            file: String::new(),
            bytes: 0,
            crc32: 0,
            heads: model.heads(),
        },
        selection: Some(serde_json::to_value(selection)?),
    })
}

/// Writes Comprehend's training output when `OutputDataConfig.S3Uri` was given, and returns the
/// `OutputDataConfig` to record: its `S3Uri` becomes the archive's full URI.
pub fn write_training_output(
    config: &TrainConfig,
    confusion: &ConfusionMatrix,
    report: &str,
) -> Result<Option<serde_json::Value>> {
    let Some(mut odc) = config.output_data_config.clone() else {
        return Ok(None);
    };
    let Some(prefix) = odc.get("S3Uri").and_then(|v| v.as_str()).map(String::from) else {
        return Ok(Some(odc));
    };
    let id = aws::new_job_id();
    let uri = output::archive_uri(&prefix, &config.registry.identity.account, &id);
    let mut cm = serde_json::to_vec(confusion)?;
    cm.push(b'\n');
    let archive = output::tar_gz(
        &[
            (ModelFiles::CONFUSION, &cm),
            (report::FILE, report.as_bytes()),
        ],
        aws::now_secs(),
    )?;
    output::write(
        &uri,
        config.s3_root.as_deref(),
        &format!("train-{id}"),
        &archive,
    )?;
    odc["S3Uri"] = uri.into();
    Ok(Some(odc))
}

/// Writes the model into a temporary sibling folder, then renames it into place, so a failed or
/// killed run never leaves a half-written model under the final name.
pub fn write_model_folder(
    dir: &PathBuf,
    mut classifier: Classifier,
    confusion: &ConfusionMatrix,
    record: &ClassifierRecord,
    extra: &[(&str, &[u8])],
    overwrite: bool,
) -> Result<()> {
    let parent = dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let leaf = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = parent.join(format!(".{leaf}.tmp-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let result = (|| {
        classifier.save(&tmp, confusion)?;
        record.save(&tmp)?;
        for (name, bytes) in extra {
            crate::atomic::write_atomic(&tmp.join(name), bytes)?;
        }
        if overwrite && dir.exists() {
            fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        fs::rename(&tmp, dir).map_err(|e| Error::io(dir, e))
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}
