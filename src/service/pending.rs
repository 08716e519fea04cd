//! Classifiers the service has accepted but not (or not successfully) trained: one
//! `DocumentClassifierProperties` record each in
//! `<state-dir>/classifiers/<account>-<region>-<name>[@<version>].json`,
//! SUBMITTED, TRAINING, STOP_REQUESTED, STOPPED or IN_ERROR. A classifier that finishes training
//! moves to the model registry and its record here is removed.

use std::fs;
use std::path::PathBuf;

use crate::atomic::write_atomic;
use crate::aws::ClassifierArn;
use crate::error::{Error, Result};
use crate::model::ClassifierRecord;

/// The folder of pending classifier records.
#[derive(Debug, Clone)]
pub struct PendingClassifiers {
    dir: PathBuf,
}

impl PendingClassifiers {
    /// Opens (creating) the folder.
    pub fn open(dir: PathBuf) -> Result<Self> {
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(PendingClassifiers { dir })
    }

    /// The key of a classifier: its account, region, name and version.
    pub fn key(arn: &ClassifierArn) -> String {
        let base = format!("{}-{}-{}", arn.account, arn.region, arn.name);
        match &arn.version {
            Some(v) => format!("{base}@{v}"),
            None => base,
        }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    pub fn save(&self, key: &str, rec: &ClassifierRecord) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(rec)?;
        bytes.push(b'\n');
        write_atomic(&self.path(key), &bytes)
    }

    pub fn load(&self, key: &str) -> Option<ClassifierRecord> {
        let bytes = fs::read(self.path(key)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn remove(&self, key: &str) {
        let _ = fs::remove_file(self.path(key));
    }

    /// Every record with its key, sorted by key.
    pub fn all(&self) -> Result<Vec<(String, ClassifierRecord)>> {
        let mut out = Vec::new();
        let entries = fs::read_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(key) = name.strip_suffix(".json") {
                if let Some(rec) = self.load(key) {
                    out.push((key.to_string(), rec));
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}
