//! The model registry: a folder (default `./models`) holding one folder per classifier,
//! `<root>/<name>` or `<root>/<name>/version/<version>`, mirroring the classifier ARN. Each holds
//! the model files plus `classifier.json`, Comprehend's `DocumentClassifierProperties` record
//! (status, times, ARN). A model is addressed by its folder path, its bare name, or its ARN.

use std::fs;
use std::path::{Path, PathBuf};

use super::io::ModelFiles;
use crate::aws::{ClassifierArn, Identity};
use crate::error::{Error, Result};

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
        let not_found = || Error::ModelNotFound {
            target: target.into(),
            registry: self.root.clone(),
        };
        if target.starts_with("arn:") {
            let arn = ClassifierArn::parse(target)?;
            let dir = self.folder_for(&arn.name, arn.version.as_deref());
            if dir.join(ModelFiles::META).is_file() {
                return Ok(dir);
            }
            return Err(not_found());
        }
        let as_path = Path::new(target);
        if as_path.join(ModelFiles::META).is_file() {
            return Ok(as_path.to_path_buf());
        }
        let in_registry = self.root.join(target);
        if !target.contains('/') && in_registry.join(ModelFiles::META).is_file() {
            return Ok(in_registry);
        }
        Err(not_found())
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
        assert!(matches!(
            reg.resolve("nope"),
            Err(Error::ModelNotFound { target, .. }) if target == "nope"
        ));
        assert!(reg
            .resolve(&reg.identity.classifier_arn("spam", None))
            .is_err());
        assert_eq!(reg.list().unwrap(), vec![dir]);
    }
}
