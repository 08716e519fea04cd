//! Tags of classifiers, jobs and endpoints: `<state-dir>/tags.json`, a map from resource ARN to
//! its tags in the order they were first set. Comprehend's limits: 50 tags a resource, keys of
//! 1-128 characters (not starting with `aws:`), values of 0-256.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::error::ApiError;
use crate::atomic::write_atomic;

/// Most tags a resource holds.
pub const MAX_TAGS: usize = 50;

/// One tag, as the API spells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

pub struct TagStore {
    path: PathBuf,
    /// Read-modify-write of the file, one at a time.
    lock: Mutex<()>,
}

impl TagStore {
    pub fn new(path: PathBuf) -> Self {
        TagStore {
            path,
            lock: Mutex::new(()),
        }
    }

    fn read(&self) -> BTreeMap<String, Vec<Tag>> {
        fs::read(&self.path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn write(&self, all: &BTreeMap<String, Vec<Tag>>) -> Result<(), ApiError> {
        let mut bytes = serde_json::to_vec_pretty(all).map_err(crate::Error::from)?;
        bytes.push(b'\n');
        write_atomic(&self.path, &bytes).map_err(ApiError::from)
    }

    pub fn get(&self, arn: &str) -> Vec<Tag> {
        self.read().remove(arn).unwrap_or_default()
    }

    /// Adds or replaces `tags` on `arn`.
    pub fn tag(&self, arn: &str, tags: &[Tag]) -> Result<(), ApiError> {
        check(tags)?;
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut all = self.read();
        let current = all.entry(arn.to_string()).or_default();
        for t in tags {
            match current.iter_mut().find(|c| c.key == t.key) {
                Some(c) => c.value = t.value.clone(),
                None => current.push(t.clone()),
            }
        }
        if current.len() > MAX_TAGS {
            return Err(ApiError::new(
                "TooManyTagsException",
                format!(
                    "The request would give the resource {} tags; a resource holds at most {MAX_TAGS}.",
                    current.len()
                ),
            ));
        }
        self.write(&all)
    }

    /// Removes the tags with `keys` from `arn`.
    pub fn untag(&self, arn: &str, keys: &[String]) -> Result<(), ApiError> {
        if keys.len() > MAX_TAGS {
            return Err(ApiError::new(
                "TooManyTagKeysException",
                format!(
                    "The request names {} tag keys; at most {MAX_TAGS} can be removed at once.",
                    keys.len()
                ),
            ));
        }
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut all = self.read();
        if let Some(current) = all.get_mut(arn) {
            current.retain(|t| !keys.contains(&t.key));
            if current.is_empty() {
                all.remove(arn);
            }
        }
        self.write(&all)
    }

    /// Forgets every tag of a deleted resource.
    pub fn forget(&self, arn: &str) {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut all = self.read();
        if all.remove(arn).is_some() {
            let _ = self.write(&all);
        }
    }
}

/// Tags a request may set: at most 50, keys not reserved, no key twice.
pub fn check(tags: &[Tag]) -> Result<(), ApiError> {
    if tags.len() > MAX_TAGS {
        return Err(ApiError::new(
            "TooManyTagsException",
            format!(
                "The request has {} tags; at most {MAX_TAGS} are allowed.",
                tags.len()
            ),
        ));
    }
    for (i, t) in tags.iter().enumerate() {
        if t.key.to_ascii_lowercase().starts_with("aws:") {
            return Err(ApiError::invalid(format!(
                "Tag key '{}' starts with 'aws:', which is reserved for AWS.",
                t.key
            )));
        }
        if tags[..i].iter().any(|o| o.key == t.key) {
            return Err(ApiError::invalid(format!(
                "Tag key '{}' appears twice in the request.",
                t.key
            )));
        }
    }
    Ok(())
}
