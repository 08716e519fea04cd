//! The model registry: a folder (default `./models`) holding one folder per classifier,
//! `<root>/<name>` or `<root>/<name>/version/<version>`, mirroring the classifier ARN. Each holds
//! the model files plus `classifier.json`, Comprehend's `DocumentClassifierProperties` record
//! (status, times, ARN). A model is addressed by its folder path, its bare name, or its ARN.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::io::{write_atomic, ModelFiles};
use super::linear::Mode;
use super::metrics::ClassifierMetadata;
use crate::aws::{ClassifierArn, Identity};
use crate::error::{Error, Result};

/// File name of the properties record inside a model folder.
pub const RECORD_FILE: &str = "classifier.json";

/// Comprehend's `DocumentClassifierProperties`, as `describe-document-classifier` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClassifierRecord {
    pub document_classifier_arn: String,
    pub language_code: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub submit_time: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_start_time: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_end_time: Option<f64>,
    pub input_data_config: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_data_config: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classifier_metadata: Option<ClassifierMetadata>,
    pub mode: Mode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_name: Option<String>,
}

impl ClassifierRecord {
    pub fn save(&self, dir: &Path) -> Result<()> {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let mut bytes = serde_json::to_vec_pretty(self)?;
        bytes.push(b'\n');
        write_atomic(&dir.join(RECORD_FILE), &bytes)
    }

    pub fn load(dir: &Path) -> Result<Self> {
        let p = dir.join(RECORD_FILE);
        let bytes = fs::read(&p).map_err(|e| Error::io(&p, e))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::ModelCorrupt {
            path: p,
            reason: format!("classifier.json is not a classifier record ({e})"),
        })
    }
}

/// A model registry rooted at a folder.
#[derive(Debug, Clone)]
pub struct Registry {
    pub root: PathBuf,
    pub identity: Identity,
}

impl Registry {
    pub fn new(root: impl Into<PathBuf>, identity: Identity) -> Self {
        Registry {
            root: root.into(),
            identity,
        }
    }

    /// The folder of classifier `name` (and `version`).
    pub fn folder_for(&self, name: &str, version: Option<&str>) -> PathBuf {
        let base = self.root.join(name);
        match version {
            Some(v) => base.join("version").join(v),
            None => base,
        }
    }

    /// Finds the model folder for a path, a bare classifier name, or a classifier ARN.
    pub fn resolve(&self, target: &str) -> Result<PathBuf> {
        let not_found = |reason: String| Error::ModelNotFound {
            target: target.into(),
            reason,
        };
        if target.starts_with("arn:") {
            let arn = ClassifierArn::parse(target)?;
            let dir = self.folder_for(&arn.name, arn.version.as_deref());
            if dir.join(ModelFiles::META).is_file() {
                return Ok(dir);
            }
            return Err(not_found(format!(
                "no model at {} (registry {}); train one or pass --model-registry",
                dir.display(),
                self.root.display()
            )));
        }
        let as_path = Path::new(target);
        if as_path.join(ModelFiles::META).is_file() {
            return Ok(as_path.to_path_buf());
        }
        let in_registry = self.root.join(target);
        if !target.contains('/') && in_registry.join(ModelFiles::META).is_file() {
            return Ok(in_registry);
        }
        Err(not_found(format!(
            "neither '{target}' nor '{}' is a model folder (a folder holding {}); list models with `docclass list-document-classifiers`",
            in_registry.display(),
            ModelFiles::META
        )))
    }

    /// Every model folder in the registry, sorted by path.
    pub fn list(&self) -> Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        if !self.root.is_dir() {
            return Ok(out);
        }
        let entries = fs::read_dir(&self.root).map_err(|e| Error::io(&self.root, e))?;
        for entry in entries.flatten() {
            let dir = entry.path();
            if dir.join(ModelFiles::META).is_file() {
                out.push(dir.clone());
            }
            if let Ok(versions) = fs::read_dir(dir.join("version")) {
                for v in versions.flatten() {
                    if v.path().join(ModelFiles::META).is_file() {
                        out.push(v.path());
                    }
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_paths_names_and_arns() {
        let d = tempfile::tempdir().unwrap();
        let reg = Registry::new(d.path(), Identity::default());
        let dir = reg.folder_for("spam", Some("v2"));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(ModelFiles::META), "{}").unwrap();
        let arn = reg.identity.classifier_arn("spam", Some("v2"));
        assert_eq!(reg.resolve(&arn).unwrap(), dir);
        assert_eq!(reg.resolve(dir.to_str().unwrap()).unwrap(), dir);
        let e = reg.resolve("nope").unwrap_err().to_string();
        assert!(e.contains("list-document-classifiers"), "{e}");
        assert!(reg
            .resolve(&reg.identity.classifier_arn("spam", None))
            .is_err());
        assert_eq!(reg.list().unwrap(), vec![dir]);
    }
}
