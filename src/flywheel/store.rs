//! Where flywheel records live: `<state-dir>/flywheels/<account>-<region>-<name>/`, holding
//! `flywheel.json`, `datasets/<name>.json` and `iterations/<id>.json`. Deleting a flywheel
//! removes its folder here; its data lake stays, as in Comprehend.

use std::fs;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::record::{DatasetRecord, FlywheelRecord, IterationRecord};
use crate::atomic::write_atomic;
use crate::error::{Error, Result};

/// Account, region and name of a flywheel ARN
/// (`arn:<partition>:comprehend:<region>:<account>:flywheel/<name>`), and of a dataset's
/// (`.../flywheel/<name>/dataset/<dataset>`) with the dataset's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlywheelArn {
    pub region: String,
    pub account: String,
    pub name: String,
    pub dataset: Option<String>,
}

impl FlywheelArn {
    pub fn parse(arn: &str) -> Option<FlywheelArn> {
        let p: Vec<&str> = arn.splitn(6, ':').collect();
        if p.len() != 6 || p[0] != "arn" || p[2] != "comprehend" {
            return None;
        }
        let rest = p[5].strip_prefix("flywheel/")?;
        let (name, dataset) = match rest.split_once("/dataset/") {
            Some((n, d)) => (n, Some(d.to_string())),
            None => (rest, None),
        };
        if name.is_empty() || name.contains('/') {
            return None;
        }
        Some(FlywheelArn {
            region: p[3].into(),
            account: p[4].into(),
            name: name.into(),
            dataset,
        })
    }

    /// The flywheel's key among the stored flywheels.
    pub fn key(&self) -> String {
        format!("{}-{}-{}", self.account, self.region, self.name)
    }

    /// The flywheel's own ARN (without a dataset).
    pub fn flywheel(&self) -> String {
        format!(
            "arn:aws:comprehend:{}:{}:flywheel/{}",
            self.region, self.account, self.name
        )
    }
}

/// The folder of flywheel records.
pub struct FlywheelStore {
    dir: PathBuf,
}

impl FlywheelStore {
    pub fn open(dir: PathBuf) -> Result<Self> {
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(FlywheelStore { dir })
    }

    fn folder(&self, key: &str) -> PathBuf {
        self.dir.join(key)
    }

    pub fn exists(&self, key: &str) -> bool {
        self.folder(key).join("flywheel.json").exists()
    }

    pub fn save(&self, key: &str, rec: &FlywheelRecord) -> Result<()> {
        save(&self.folder(key).join("flywheel.json"), rec)
    }

    pub fn load(&self, key: &str) -> Option<FlywheelRecord> {
        load(&self.folder(key).join("flywheel.json"))
    }

    /// Every flywheel with its key, sorted by key.
    pub fn all(&self) -> Vec<(String, FlywheelRecord)> {
        let mut keys: Vec<String> = fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        keys.sort();
        keys.into_iter()
            .filter_map(|k| self.load(&k).map(|r| (k, r)))
            .collect()
    }

    /// Removes a flywheel's records (datasets and iterations with them).
    pub fn remove(&self, key: &str) {
        let _ = fs::remove_dir_all(self.folder(key));
    }

    pub fn save_dataset(&self, key: &str, rec: &DatasetRecord) -> Result<()> {
        save(
            &self
                .folder(key)
                .join("datasets")
                .join(format!("{}.json", rec.dataset_name)),
            rec,
        )
    }

    pub fn load_dataset(&self, key: &str, name: &str) -> Option<DatasetRecord> {
        load(
            &self
                .folder(key)
                .join("datasets")
                .join(format!("{name}.json")),
        )
    }

    /// The flywheel's datasets, oldest first.
    pub fn datasets(&self, key: &str) -> Vec<DatasetRecord> {
        let mut all: Vec<DatasetRecord> = list(&self.folder(key).join("datasets"));
        all.sort_by(|a, b| {
            a.creation_time
                .total_cmp(&b.creation_time)
                .then(a.dataset_name.cmp(&b.dataset_name))
        });
        all
    }

    pub fn save_iteration(&self, key: &str, rec: &IterationRecord) -> Result<()> {
        save(
            &self
                .folder(key)
                .join("iterations")
                .join(format!("{}.json", rec.flywheel_iteration_id)),
            rec,
        )
    }

    pub fn load_iteration(&self, key: &str, id: &str) -> Option<IterationRecord> {
        load(
            &self
                .folder(key)
                .join("iterations")
                .join(format!("{id}.json")),
        )
    }

    /// The flywheel's iterations, oldest first.
    pub fn iterations(&self, key: &str) -> Vec<IterationRecord> {
        let mut all: Vec<IterationRecord> = list(&self.folder(key).join("iterations"));
        all.sort_by(|a, b| a.flywheel_iteration_id.cmp(&b.flywheel_iteration_id));
        all
    }
}

fn save<T: Serialize>(path: &Path, rec: &T) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let mut bytes = serde_json::to_vec_pretty(rec)?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

fn load<T: DeserializeOwned>(path: &Path) -> Option<T> {
    let bytes = fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn list<T: DeserializeOwned>(dir: &Path) -> Vec<T> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.ends_with(".json") && !n.starts_with('.')
        })
        .filter_map(|e| load(&e.path()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_of_flywheels_and_datasets() {
        let f =
            FlywheelArn::parse("arn:aws:comprehend:us-west-2:111122223333:flywheel/fw-1").unwrap();
        assert_eq!(
            (
                f.region.as_str(),
                f.account.as_str(),
                f.name.as_str(),
                f.dataset.clone()
            ),
            ("us-west-2", "111122223333", "fw-1", None)
        );
        assert_eq!(f.key(), "111122223333-us-west-2-fw-1");
        let d = FlywheelArn::parse(
            "arn:aws:comprehend:us-west-2:111122223333:flywheel/fw-1/dataset/train-2",
        )
        .unwrap();
        assert_eq!(d.dataset.as_deref(), Some("train-2"));
        assert_eq!(
            d.flywheel(),
            "arn:aws:comprehend:us-west-2:111122223333:flywheel/fw-1"
        );
        assert!(
            FlywheelArn::parse("arn:aws:comprehend:us-west-2:1:document-classifier/x").is_none()
        );
    }
}
