//! The model registry: a folder (default `./models`) holding one folder per classifier. Shared
//! models (trained by the CLI, shipped) live at `<root>/<name>` or
//! `<root>/<name>/version/<version>` and answer to their name in every region; classifiers the
//! service creates belong to their ARN's account and region, at
//! `<root>/<account>/<region>/<name>[/version/<version>]`. Each folder holds the model files plus
//! `classifier.json`, Comprehend's `DocumentClassifierProperties` record. A model is addressed
//! by its folder path, its bare name, or its ARN (the service: its ARN only).

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
    /// New classifiers go to the identity's account and region (the service's classifiers).
    pub scoped: bool,
}

impl Registry {
    pub fn new(root: impl Into<PathBuf>, identity: Identity) -> Self {
        Registry {
            root: root.into(),
            identity,
            scoped: false,
        }
    }

    /// Removes model folders a process left half-written (`.<name>.tmp-<pid>`) when that
    /// process is gone: a training that died before its model was renamed into place.
    pub fn remove_unfinished(&self) {
        fn walk(dir: &std::path::Path, depth: usize) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let path = e.path();
                if !path.is_dir() {
                    continue;
                }
                if let Some(pid) = name
                    .strip_prefix('.')
                    .and_then(|n| n.rsplit_once(".tmp-"))
                    .and_then(|(_, pid)| pid.parse::<u32>().ok())
                {
                    if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                        let _ = std::fs::remove_dir_all(&path);
                    }
                } else if depth > 0 {
                    walk(&path, depth - 1);
                }
            }
        }
        walk(&self.root, 5);
    }

    /// The same registry, writing classifiers into the identity's account and region.
    pub fn scoped(mut self) -> Self {
        self.scoped = true;
        self
    }

    /// The folder of classifier `name` (and `version`): in the identity's account and region
    /// when scoped, else shared.
    pub fn folder_for(&self, name: &str, version: Option<&str>) -> PathBuf {
        let base = if self.scoped {
            self.root
                .join(&self.identity.account)
                .join(&self.identity.region)
                .join(name)
        } else {
            self.root.join(name)
        };
        match version {
            Some(v) => base.join("version").join(v),
            None => base,
        }
    }

    /// The model folder an ARN names: its account and region's classifier, else a shared model
    /// of that name (and version). Never a path outside the registry: the ARN's parts are
    /// checked names.
    pub fn resolve_arn(&self, arn: &ClassifierArn) -> Option<PathBuf> {
        let identity = Identity {
            region: arn.region.clone(),
            account: arn.account.clone(),
        };
        let scoped = Registry::new(self.root.clone(), identity).scoped();
        let shared = Registry::new(self.root.clone(), self.identity.clone());
        [scoped, shared]
            .iter()
            .map(|r| r.folder_for(&arn.name, arn.version.as_deref()))
            .find(|dir| dir.join(ModelFiles::META).is_file())
    }

    /// Finds the model folder for a path, a bare classifier name, or a classifier ARN.
    pub fn resolve(&self, target: &str) -> Result<PathBuf> {
        let not_found = || Error::ModelNotFound {
            target: target.into(),
            registry: self.root.clone(),
        };
        if target.starts_with("arn:") {
            let arn = ClassifierArn::parse(target)?;
            return self.resolve_arn(&arn).ok_or_else(not_found);
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

    /// Every model folder in the registry, shared and scoped, sorted by path.
    pub fn list(&self) -> Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        if !self.root.is_dir() {
            return Ok(out);
        }
        let entries = fs::read_dir(&self.root).map_err(|e| Error::io(&self.root, e))?;
        for entry in entries.flatten() {
            let dir = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.len() == 12 && name.bytes().all(|b| b.is_ascii_digit()) && !has_model(&dir) {
                // <account>/<region>/<name>
                for region in subfolders(&dir) {
                    for model in subfolders(&region) {
                        push_with_versions(&model, &mut out);
                    }
                }
            } else {
                push_with_versions(&dir, &mut out);
            }
        }
        out.sort();
        Ok(out)
    }
}

fn has_model(dir: &Path) -> bool {
    dir.join(ModelFiles::META).is_file()
}

fn subfolders(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .map(|e| {
            e.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default()
}

/// A classifier's folder and its versions' folders, those that hold a model.
fn push_with_versions(dir: &Path, out: &mut Vec<PathBuf>) {
    if has_model(dir) {
        out.push(dir.to_path_buf());
    }
    for v in subfolders(&dir.join("version")) {
        if has_model(&v) {
            out.push(v);
        }
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
        assert_eq!(reg.list().unwrap(), vec![dir.clone()]);
        // A classifier of one account and region: found by its ARN, listed, and not by the
        // same name in another region.
        let west = Identity::new("us-west-2", "111122223333").unwrap();
        let scoped = Registry::new(d.path(), west.clone()).scoped();
        let own = scoped.folder_for("spam", None);
        fs::create_dir_all(&own).unwrap();
        fs::write(own.join(ModelFiles::META), "{}").unwrap();
        assert!(own.starts_with(d.path().join("111122223333/us-west-2")));
        let arn = ClassifierArn::parse(&west.classifier_arn("spam", None)).unwrap();
        assert_eq!(reg.resolve_arn(&arn), Some(own.clone()));
        let east = ClassifierArn::parse(&Identity::default().classifier_arn("spam", None)).unwrap();
        assert_eq!(reg.resolve_arn(&east), None);
        assert_eq!(reg.list().unwrap(), vec![own, dir]);
    }
}
