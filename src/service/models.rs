//! Loaded models, shared by ClassifyDocument requests: each model folder is loaded once and
//! kept while its `weights.bin` is unchanged (retraining or deleting replaces or drops it).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::error::{Error, Result};
use crate::model::{Classifier, ModelFiles};

#[derive(Default)]
pub struct ModelCache {
    models: Mutex<HashMap<PathBuf, (SystemTime, Arc<Classifier>)>>,
}

impl ModelCache {
    /// The model in `dir`, loaded now or earlier.
    pub fn get(&self, dir: &Path) -> Result<Arc<Classifier>> {
        let weights = dir.join(ModelFiles::WEIGHTS);
        let modified = fs::metadata(&weights)
            .and_then(|m| m.modified())
            .map_err(|e| Error::io(&weights, e))?;
        let mut cache = self.models.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((when, m)) = cache.get(dir) {
            if *when == modified {
                return Ok(Arc::clone(m));
            }
        }
        let m = Arc::new(Classifier::load(dir)?);
        cache.insert(dir.to_path_buf(), (modified, Arc::clone(&m)));
        Ok(m)
    }

    /// Forgets the model in `dir` (it was deleted).
    pub fn forget(&self, dir: &Path) {
        self.models
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(dir);
    }
}
