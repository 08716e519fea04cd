//! The on-disk model: a folder holding `model.json` (format version, mode, labels, feature
//! settings, learner settings, training data digest, evaluation) and `weights.bin` (little-endian
//! `f32`: IDF weights, the feature-major weight matrix and biases, closed by a CRC-32). Both files
//! are deterministic: the same data and settings give byte-identical files. Times and ARNs live in
//! the registry's `classifier.json`, not here. Loading checks the version first, then every size
//! and the checksum, so a truncated or bit-flipped model is refused rather than mis-scored.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::classifier::Classifier;
use super::linear::{LinearModel, Mode};
use super::metrics::{ClassifierMetadata, ConfusionMatrix};
use super::train::TrainParams;
use crate::atomic::write_atomic;
use crate::error::{Error, Result};
use crate::text::{FeatureSpec, HashingVectorizer};

/// The model format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
const FORMAT_NAME: &str = "docclass-model";
const MAGIC: &[u8; 8] = b"DCLSWGT\0";
const HEADER_LEN: usize = 24;

/// File names inside a model folder.
pub struct ModelFiles;

impl ModelFiles {
    pub const META: &'static str = "model.json";
    pub const WEIGHTS: &'static str = "weights.bin";
    pub const CONFUSION: &'static str = "confusion_matrix.json";
}

/// Where the training data came from, and a digest of its bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingData {
    /// SHA-256 of every training input file's bytes, in reading order.
    pub sha256: String,
    pub documents: usize,
    pub input_data_config: serde_json::Value,
}

/// Size and checksum of `weights.bin`, recorded so a swapped or damaged file is detected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightsInfo {
    pub file: String,
    pub bytes: u64,
    pub crc32: u32,
    pub heads: usize,
}

/// Contents of `model.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    pub format: String,
    pub format_version: u32,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_name: Option<String>,
    pub mode: Mode,
    pub language_code: String,
    pub labels: Vec<String>,
    pub features: FeatureSpec,
    pub training: TrainParams,
    pub training_data: TrainingData,
    pub classifier_metadata: ClassifierMetadata,
    pub weights: WeightsInfo,
    /// How the training run chose its settings and split its data (written by the training
    /// job: duplicate groups, test-set overlap, the settings search's candidates and choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<serde_json::Value>,
}

fn corrupt(path: &Path, reason: impl Into<String>) -> Error {
    Error::ModelCorrupt {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Serialises weights.bin: header, IDF (if any), weights, biases, CRC-32 of all before it.
fn encode_weights(spec: &FeatureSpec, idf: &[f32], model: &LinearModel) -> Vec<u8> {
    let floats = idf.len() + model.weights().len() + model.bias().len();
    let mut out = Vec::with_capacity(HEADER_LEN + floats * 4 + 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&spec.n_features_log2.to_le_bytes());
    out.extend_from_slice(&(model.heads() as u32).to_le_bytes());
    out.extend_from_slice(&u32::from(!idf.is_empty()).to_le_bytes());
    for v in idf.iter().chain(model.weights()).chain(model.bias()) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn read_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn decode_floats(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

impl Classifier {
    /// Writes `model.json`, `weights.bin` and `confusion_matrix.json` into `dir` (created if needed).
    pub fn save(&mut self, dir: &Path, confusion: &ConfusionMatrix) -> Result<()> {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let weights = encode_weights(
            self.vectorizer().spec(),
            self.vectorizer().idf(),
            self.model(),
        );
        self.meta.weights = WeightsInfo {
            file: ModelFiles::WEIGHTS.into(),
            bytes: weights.len() as u64,
            crc32: read_u32(&weights, weights.len() - 4),
            heads: self.model().heads(),
        };
        write_atomic(&dir.join(ModelFiles::WEIGHTS), &weights)?;
        let mut meta = serde_json::to_vec_pretty(&self.meta)?;
        meta.push(b'\n');
        write_atomic(&dir.join(ModelFiles::META), &meta)?;
        let mut cm = serde_json::to_vec(confusion)?;
        cm.push(b'\n');
        write_atomic(&dir.join(ModelFiles::CONFUSION), &cm)
    }

    /// Loads and checks a model folder.
    pub fn load(dir: &Path) -> Result<Classifier> {
        let meta_path = dir.join(ModelFiles::META);
        let raw = fs::read(&meta_path).map_err(|e| Error::io(&meta_path, e))?;
        let value: serde_json::Value = serde_json::from_slice(&raw)
            .map_err(|e| corrupt(&meta_path, format!("model.json is not valid JSON ({e})")))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT_NAME) {
            return Err(corrupt(
                &meta_path,
                format!("model.json does not declare \"format\": \"{FORMAT_NAME}\""),
            ));
        }
        let found = value
            .get("format_version")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| corrupt(&meta_path, "model.json has no numeric format_version"))?;
        if found != FORMAT_VERSION as u64 {
            return Err(Error::ModelVersion {
                path: dir.to_path_buf(),
                found: found.min(u32::MAX as u64) as u32,
                supported: FORMAT_VERSION,
            });
        }
        let meta: ModelMeta = serde_json::from_value(value).map_err(|e| {
            corrupt(
                &meta_path,
                format!("model.json does not match format version {FORMAT_VERSION} ({e})"),
            )
        })?;
        meta.features
            .validate()
            .map_err(|e| corrupt(&meta_path, format!("feature settings are invalid ({e})")))?;

        let wpath = dir.join(&meta.weights.file);
        let bytes = fs::read(&wpath).map_err(|e| Error::io(&wpath, e))?;
        Self::from_parts(meta, &bytes, &wpath)
    }

    fn from_parts(meta: ModelMeta, bytes: &[u8], wpath: &Path) -> Result<Classifier> {
        let spec = &meta.features;
        let n = spec.n_features();
        let heads = meta.mode.heads(meta.labels.len());
        let idf_len = if spec.idf { n } else { 0 };
        let expected = HEADER_LEN + (idf_len + n * heads + heads) * 4 + 4;
        if bytes.len() as u64 != meta.weights.bytes || bytes.len() != expected {
            return Err(corrupt(
                wpath,
                format!(
                    "weights.bin has {} bytes, expected {expected} for 2^{} features x {heads} heads (model.json records {})",
                    bytes.len(),
                    spec.n_features_log2,
                    meta.weights.bytes
                ),
            ));
        }
        if &bytes[..8] != MAGIC {
            return Err(corrupt(
                wpath,
                "weights.bin does not start with the docclass weights signature",
            ));
        }
        let body = &bytes[..bytes.len() - 4];
        let stored = read_u32(bytes, bytes.len() - 4);
        let actual = crc32fast::hash(body);
        if stored != actual || stored != meta.weights.crc32 {
            return Err(corrupt(
                wpath,
                format!("weights.bin checksum mismatch (stored {stored:08x}, computed {actual:08x}, model.json {:08x})", meta.weights.crc32),
            ));
        }
        let (version, log2, file_heads, has_idf) = (
            read_u32(bytes, 8),
            read_u32(bytes, 12),
            read_u32(bytes, 16) as usize,
            read_u32(bytes, 20) != 0,
        );
        if version != FORMAT_VERSION
            || log2 != spec.n_features_log2
            || file_heads != heads
            || has_idf != spec.idf
        {
            return Err(corrupt(
                wpath,
                format!(
                    "weights.bin header (version {version}, 2^{log2} features, {file_heads} heads, idf {has_idf}) does not match model.json (version {FORMAT_VERSION}, 2^{} features, {heads} heads, idf {})",
                    spec.n_features_log2, spec.idf
                ),
            ));
        }
        let floats = decode_floats(&body[HEADER_LEN..]);
        if floats.iter().any(|v| !v.is_finite()) {
            return Err(corrupt(wpath, "weights.bin holds a non-finite number"));
        }
        let (idf, rest) = floats.split_at(idf_len);
        let (w, b) = rest.split_at(n * heads);
        let vectorizer = HashingVectorizer::with_idf(spec.clone(), idf.to_vec())?;
        let model = LinearModel::new(meta.labels.clone(), meta.mode, n, w.to_vec(), b.to_vec())?;
        Ok(Classifier::new(meta, vectorizer, model))
    }
}
