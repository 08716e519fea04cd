//! The service's flywheel work, each a queued task whose record says how far it got, so a
//! restarted service picks it up again: a new flywheel's data lake (an active model's training
//! and test data copied in as its first datasets, CREATING → ACTIVE), a dataset copied into the
//! lake (CREATING → COMPLETED), and an iteration (TRAINING → EVALUATING → COMPLETED, or FAILED
//! with the reason). Lookups that operations share live here too.

use std::path::PathBuf;

use serde_json::{json, Value};
use sha2::Sha256;

use super::error::ApiError;
use super::operations::Caller;
use super::resources::not_found;
use super::runtime::Service;
use crate::aws::{self, ClassifierArn, Identity};
use crate::flywheel::iteration::{self, engine_uri, Plan};
use crate::flywheel::record::{Docclass, FULL_ITERATION};
use crate::flywheel::{lake, DatasetRecord, FlywheelArn, FlywheelRecord};
use crate::input::labeled::{self, DataFormat, LabelShape, ManifestSpec, ReadOptions};
use crate::input::Utf8Policy;
use crate::model::{Classifier, ClassifierRecord, Mode};

/// Datasets a flywheel makes from its active model's data: `active-model-train`, `-test`.
const ACTIVE_MODEL: &str = "active-model";
const ACTIVE_MODEL_TRAIN: &str = "active-model-train";

/// A flywheel an ARN names in the caller's region.
pub struct Found {
    pub key: String,
    pub arn: FlywheelArn,
    pub record: FlywheelRecord,
}

impl Found {
    /// Changes (datasets, iterations, updates) need an ACTIVE flywheel.
    pub fn require_active(&self) -> Result<(), ApiError> {
        if self.record.status != "ACTIVE" {
            return Err(ApiError::new(
                "ResourceUnavailableException",
                format!(
                    "The flywheel is {}, not ACTIVE; wait for it and try again.",
                    self.record.status
                ),
            ));
        }
        Ok(())
    }
}

impl Service {
    /// The ARN of the model version the flywheel `arn` names is using now: what a job or an
    /// endpoint given a FlywheelArn runs.
    pub fn flywheel_active_model(&self, arn: &str, caller: &Caller) -> Result<String, ApiError> {
        self.flywheel(arn, caller)?
            .record
            .active_model_arn
            .ok_or_else(|| {
                ApiError::new(
                    "ResourceUnavailableException",
                    "The flywheel has no active model version yet; run an iteration and promote its model with UpdateFlywheel.",
                )
            })
    }

    /// The flywheel `arn` names, in the caller's region.
    pub fn flywheel(&self, arn: &str, caller: &Caller) -> Result<Found, ApiError> {
        let parsed = FlywheelArn::parse(arn).ok_or_else(not_found)?;
        if parsed.region != caller.region {
            return Err(not_found());
        }
        let key = parsed.key();
        let record = self.flywheels.load(&key).ok_or_else(not_found)?;
        Ok(Found {
            key,
            arn: parsed,
            record,
        })
    }

    /// The model folder of a flywheel's active version.
    pub fn active_model(&self, rec: &FlywheelRecord) -> Option<(String, PathBuf)> {
        let arn = rec.active_model_arn.clone()?;
        let dir = ClassifierArn::parse(&arn)
            .ok()
            .and_then(|a| self.cfg.registry.resolve_arn(&a))?;
        Some((arn, dir))
    }

    /// A flywheel made from an active model: its training (and test) data copied into the lake
    /// as the flywheel's first datasets, then ACTIVE (FAILED, with the reason, if the data is
    /// no longer where the model was trained from).
    pub(crate) fn run_flywheel_creation(&self, key: &str) {
        let Some(mut rec) = self.flywheels.load(key) else {
            return;
        };
        if rec.status != "CREATING" {
            return;
        }
        let result = self.copy_model_data(key, &rec);
        rec.last_modified_time = aws::now_epoch();
        match result {
            Ok(()) => rec.status = "ACTIVE".into(),
            Err(message) => {
                rec.status = "FAILED".into();
                rec.message = Some(message);
            }
        }
        let _ = self.flywheels.save(key, &rec);
    }

    fn copy_model_data(&self, key: &str, rec: &FlywheelRecord) -> Result<(), String> {
        let Some((arn, dir)) = self.active_model(rec) else {
            // A flywheel for a new model starts with no data: datasets bring it.
            return Ok(());
        };
        let model = ClassifierRecord::load(&dir).map_err(|e| self.public(&e.to_string()))?;
        let input = &model.input_data_config;
        for (member, kind) in [("S3Uri", "TRAIN"), ("TestS3Uri", "TEST")] {
            let Some(source) = input.get(member).and_then(Value::as_str) else {
                continue;
            };
            let created = aws::now_epoch();
            let name = format!("{ACTIVE_MODEL}-{}", kind.to_ascii_lowercase());
            let mut dataset = DatasetRecord {
                dataset_arn: format!("{}/dataset/{name}", rec.flywheel_arn),
                dataset_name: name.clone(),
                dataset_type: kind.into(),
                dataset_s3_uri: lake::dataset(&rec.data_lake_s3_uri, &name, created),
                description: Some(format!("{kind} Dataset created by Flywheel creation.")),
                status: "CREATING".into(),
                message: None,
                number_of_documents: None,
                creation_time: created,
                end_time: None,
                docclass: Docclass {
                    input_data_config: Some(serde_json::json!({
                        "DataFormat": input.get("DataFormat").cloned().unwrap_or("COMPREHEND_CSV".into()),
                        "DocumentClassifierInputDataConfig": {
                            "S3Uri": source,
                            "LabelDelimiter": input.get("LabelDelimiter").cloned().unwrap_or("|".into()),
                        },
                    })),
                    ..Docclass::default()
                },
            };
            self.flywheels
                .save_dataset(key, &dataset)
                .map_err(|e| e.to_string())?;
            self.ingest(key, &mut dataset, model.mode).map_err(|e| {
                format!("the active model {arn}'s {kind} data could not be copied into the data lake: {e}; Comprehend copies it from where the model was trained, so it must still be there")
            })?;
        }
        Ok(())
    }

    /// Copies a dataset into the data lake (CREATING → COMPLETED, or FAILED with the reason).
    pub(crate) fn run_dataset(&self, key: &str, name: &str) {
        let (Some(flywheel), Some(mut dataset)) = (
            self.flywheels.load(key),
            self.flywheels.load_dataset(key, name),
        ) else {
            return;
        };
        if dataset.status != "CREATING" {
            return;
        }
        let mode = self.flywheel_mode(&flywheel);
        if let Err(message) = self.ingest(key, &mut dataset, mode) {
            dataset.status = "FAILED".into();
            dataset.message = Some(message);
            dataset.end_time = Some(aws::now_epoch());
            let _ = self.flywheels.save_dataset(key, &dataset);
        }
    }

    /// The classification mode of a flywheel's models.
    pub fn flywheel_mode(&self, rec: &FlywheelRecord) -> Mode {
        if let Some((_, dir)) = self.active_model(rec) {
            if let Ok(c) = ClassifierRecord::load(&dir) {
                return c.mode;
            }
        }
        rec.task_config
            .as_ref()
            .and_then(|t| t.pointer("/DocumentClassificationConfig/Mode"))
            .and_then(Value::as_str)
            .and_then(|m| m.parse().ok())
            .unwrap_or(Mode::MultiClass)
    }

    /// Reads a dataset's source (checking every row), copies it into the lake and records it
    /// COMPLETED with its document count.
    fn ingest(&self, key: &str, dataset: &mut DatasetRecord, mode: Mode) -> Result<(), String> {
        let config = dataset
            .docclass
            .input_data_config
            .clone()
            .unwrap_or_default();
        let format: DataFormat = config
            .get("DataFormat")
            .and_then(Value::as_str)
            .unwrap_or("COMPREHEND_CSV")
            .parse()
            .map_err(|e: crate::Error| e.to_string())?;
        let delimiter = config
            .pointer("/DocumentClassifierInputDataConfig/LabelDelimiter")
            .and_then(Value::as_str)
            .and_then(|d| d.chars().next())
            .unwrap_or('|');
        let opts = ReadOptions {
            format,
            labels: match mode {
                Mode::MultiClass => LabelShape::One,
                Mode::MultiLabel => LabelShape::Many { delimiter },
            },
            utf8: Utf8Policy::Lossy,
            documents: crate::input::document::Reader::new(Default::default(), Default::default()),
        };
        let sources: Vec<String> = match format {
            DataFormat::AugmentedManifest => {
                let specs: Vec<ManifestSpec> = serde_json::from_value(
                    config.get("AugmentedManifests").cloned().unwrap_or_default(),
                )
                .map_err(|e| format!("AugmentedManifests: {e}"))?;
                specs.into_iter().map(|s| s.s3_uri).collect()
            }
            _ => config
                .pointer("/DocumentClassifierInputDataConfig/S3Uri")
                .and_then(Value::as_str)
                .map(|s| vec![s.to_string()])
                .ok_or("InputDataConfig.DocumentClassifierInputDataConfig.S3Uri is required for COMPREHEND_CSV")?,
        };
        let mut documents = 0u64;
        for source in &sources {
            // A model trained from the command line recorded a local path; requests carry s3://.
            let local = if source.starts_with("s3://") {
                self.local(source).map_err(|e| e.message)?
            } else {
                crate::location::resolve(source, None).map_err(|e| e.to_string())?
            };
            let set = match format {
                DataFormat::AugmentedManifest => {
                    let spec = ManifestSpec {
                        s3_uri: local.clone(),
                        split: None,
                        attribute_names: manifest_attributes(&config, source),
                    };
                    labeled::read_manifests(&[spec], "TRAIN", &opts, &mut Sha256::default())
                }
                _ => labeled::read(&local, &opts, &mut Sha256::default()),
            }
            .map_err(|e| self.public(&e.to_string()))?;
            documents += set.len() as u64;
            lake::copy(&local, &dataset.dataset_s3_uri, self.cfg.s3_root.as_deref())
                .map_err(|e| self.public(&e.to_string()))?;
        }
        dataset.status = "COMPLETED".into();
        dataset.number_of_documents = Some(documents);
        dataset.end_time = Some(aws::now_epoch());
        dataset.docclass.data_format = Some(format.as_str().into());
        dataset.docclass.label_delimiter = Some(delimiter.to_string());
        self.flywheels
            .save_dataset(key, dataset)
            .map_err(|e| e.to_string())
    }

    /// Runs an iteration to COMPLETED (or FAILED, with the reason).
    pub(crate) fn run_iteration(&self, key: &str, id: &str) {
        let (Some(flywheel), Some(mut it)) = (
            self.flywheels.load(key),
            self.flywheels.load_iteration(key, id),
        ) else {
            return;
        };
        if !matches!(it.status.as_str(), "TRAINING" | "EVALUATING") {
            return;
        }
        it.status = "TRAINING".into();
        let _ = self.flywheels.save_iteration(key, &it);
        let result = self.iterate(key, &flywheel, id);
        let mut latest = self.flywheels.load_iteration(key, id).unwrap_or(it);
        latest.end_time = Some(aws::now_epoch());
        match result {
            Ok(out) => {
                latest.status = "COMPLETED".into();
                latest.message = Some(FULL_ITERATION.into());
                latest.trained_model_arn = Some(out.trained_model_arn);
                latest.trained_model_metrics = Some(out.trained);
                if let Some((arn, m)) = out.evaluated {
                    latest.evaluated_model_arn = Some(arn);
                    latest.evaluated_model_metrics = Some(m);
                }
                latest.evaluation_manifest_s3_prefix = Some(out.manifest_prefix);
                latest.docclass.report_s3_uri = Some(out.report_uri);
            }
            Err(message) => {
                latest.status = "FAILED".into();
                latest.message = Some(message);
            }
        }
        let _ = self.flywheels.save_iteration(key, &latest);
    }

    fn iterate(
        &self,
        key: &str,
        flywheel: &FlywheelRecord,
        id: &str,
    ) -> Result<iteration::Outcome, String> {
        let arn = FlywheelArn::parse(&flywheel.flywheel_arn).ok_or("bad flywheel ARN")?;
        let datasets: Vec<DatasetRecord> = self
            .flywheels
            .datasets(key)
            .into_iter()
            .filter(|d| d.status == "COMPLETED")
            .collect();
        let of = |kind: &str| -> Vec<String> {
            datasets
                .iter()
                .filter(|d| d.dataset_type == kind)
                .map(|d| d.dataset_s3_uri.clone())
                .collect()
        };
        let active = self.active_model(flywheel);
        // The TRAIN datasets the active version learned: the data it was made from, and every
        // dataset that existed when its training started.
        let trained_at = active
            .as_ref()
            .and_then(|(_, dir)| ClassifierRecord::load(dir).ok())
            .map(|r| r.training_start_time.unwrap_or(r.submit_time));
        let seen_by_active: Vec<String> = datasets
            .iter()
            .filter(|d| d.dataset_type == "TRAIN")
            .filter(|d| {
                d.dataset_name == ACTIVE_MODEL_TRAIN
                    || trained_at.is_some_and(|t| d.creation_time < t)
            })
            .map(|d| d.dataset_s3_uri.clone())
            .collect();
        let (model_name, language) = match &active {
            Some((arn, dir)) => {
                let meta = Classifier::load(dir)
                    .map_err(|e| self.public(&e.to_string()))?
                    .meta;
                let name = ClassifierArn::parse(arn)
                    .map(|a| a.name)
                    .unwrap_or(meta.name);
                (name, meta.language_code)
            }
            None => (
                arn.name.clone(),
                flywheel
                    .task_config
                    .as_ref()
                    .and_then(|t| t.get("LanguageCode"))
                    .and_then(Value::as_str)
                    .unwrap_or("en")
                    .to_string(),
            ),
        };
        let delimiter = datasets
            .iter()
            .find_map(|d| d.docclass.label_delimiter.as_deref())
            .and_then(|d| d.chars().next())
            .unwrap_or('|');
        let plan = Plan {
            flywheel_arn: &flywheel.flywheel_arn,
            iteration_id: id,
            lake: &flywheel.data_lake_s3_uri,
            model_name: &model_name,
            identity: Identity {
                region: arn.region.clone(),
                account: arn.account.clone(),
            },
            registry_root: &self.cfg.registry.root,
            mode: self.flywheel_mode(flywheel),
            language_code: &language,
            label_delimiter: delimiter,
            active,
            train: of("TRAIN"),
            seen_by_active,
            test: of("TEST"),
            s3_root: self.cfg.s3_root.as_deref(),
        };
        let out = iteration::run(&plan, &mut |stage| {
            if let Some(mut it) = self.flywheels.load_iteration(key, id) {
                it.status = stage.into();
                let _ = self.flywheels.save_iteration(key, &it);
            }
        })
        .map_err(|e| self.public(&e.to_string()))?;
        // The new version belongs to the flywheel.
        if let Some(dir) = ClassifierArn::parse(&out.trained_model_arn)
            .ok()
            .and_then(|a| self.cfg.registry.resolve_arn(&a))
        {
            if let Ok(mut record) = ClassifierRecord::load(&dir) {
                record.flywheel_arn = Some(flywheel.flywheel_arn.clone());
                record.data_access_role_arn = Some(flywheel.data_access_role_arn.clone());
                let mut output = record
                    .output_data_config
                    .take()
                    .unwrap_or_else(|| json!({}));
                output["FlywheelStatsS3Prefix"] = Value::String(out.stats_prefix.clone());
                record.output_data_config = Some(output);
                let _ = record.save(&dir);
            }
        }
        Ok(out)
    }

    /// Where an iteration's data sits for the engine (the lake under the S3 root, or S3).
    pub fn lake_uri(&self, uri: &str) -> Result<String, ApiError> {
        engine_uri(uri, self.cfg.s3_root.as_deref()).map_err(ApiError::from)
    }
}

/// The attribute names a manifest dataset gives for `source`.
fn manifest_attributes(config: &Value, source: &str) -> Vec<String> {
    config
        .get("AugmentedManifests")
        .and_then(Value::as_array)
        .and_then(|list| {
            list.iter()
                .find(|m| m.get("S3Uri").and_then(Value::as_str) == Some(source))
        })
        .and_then(|m| m.get("AttributeNames"))
        .and_then(|a| serde_json::from_value(a.clone()).ok())
        .unwrap_or_default()
}
