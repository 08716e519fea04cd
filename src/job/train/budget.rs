//! How much memory a training run needs, and how much it may use.
//!
//! The model of a run's peak (stated in the README): a base for the program and its buffers,
//! plus the text of every document (held until the chosen features are vectorized), plus a few
//! dozen bytes of bookkeeping per document, plus the vectorized rows (about two bytes per stored
//! feature), plus the optimiser (fifteen vectors of one `f64` per parameter, and one gradient per
//! part of the rows). A training set whose estimate exceeds the budget is refused before it is
//! read, with the size it needs; a feature family whose final fit would not fit is not tried.

use std::path::Path;

use crate::error::{Error, Param, Result};
use crate::input::csv::CsvReader;
use crate::input::labeled::DataFormat;
use crate::input::listing::{self, InputFile};
use crate::model::TfStore;
use crate::text::{FeatureSpec, HashingVectorizer, VectorizerScratch};

use super::{TrainConfig, TrainProgress};

/// Bytes read from the start of the training data to estimate what the whole will need.
const SAMPLE_BYTES: usize = 1 << 20;
/// Stored bytes per feature at least: the sample's few columns encode in fewer bytes than a
/// whole corpus's many.
const MIN_BYTES_PER_ENTRY: f64 = 2.0;

/// Memory the program itself, its thread stacks and per-thread scratch take.
pub const BASE_BYTES: u64 = 64 << 20;
/// Bookkeeping per document: text offsets, labels, origins, groups, folds, fingerprints (the
/// largest of these live at different times; this is their sum, rounded up).
pub const BYTES_PER_DOCUMENT: u64 = 200;
/// Vectors the optimiser keeps per parameter: five remembered pairs, the point, gradient and
/// direction, and the trial point and gradient of the line search.
pub const OPTIMISER_VECTORS: u64 = 15;

/// What a run may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryBudget {
    pub bytes: u64,
    /// Whether `bytes` was read off the machine (rather than given by the user).
    pub from_machine: bool,
}

impl MemoryBudget {
    /// Four fifths of the memory available now (the kernel's `MemAvailable`, or a control
    /// group's limit when lower): room for the page cache and for whatever else runs.
    pub fn of_machine() -> Self {
        let available = mem_available().unwrap_or(8 << 30);
        let limit = cgroup_limit().unwrap_or(u64::MAX);
        MemoryBudget {
            bytes: available.min(limit) / 5 * 4,
            from_machine: true,
        }
    }

    pub fn bytes(bytes: u64) -> Self {
        MemoryBudget {
            bytes,
            from_machine: false,
        }
    }

    /// How a message names the budget and where it came from.
    pub fn describe(&self) -> String {
        if self.from_machine {
            format!(
                "{} (four fifths of the memory available on this machine)",
                human_bytes(self.bytes)
            )
        } else {
            format!("{} (--memory-budget)", human_bytes(self.bytes))
        }
    }
}

/// Parses `12G`, `800M`, `1.5GiB`, `2000000000` (bytes) and the like.
pub fn parse_bytes(s: &str) -> Result<u64> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        "T" | "TB" | "TIB" => 1 << 40,
        _ => 0,
    };
    match number.parse::<f64>() {
        Ok(v) if scale > 0 && v.is_finite() && v > 0.0 => Ok((v * scale as f64) as u64),
        _ => Err(Error::param(
            Param::MemoryBudget,
            s,
            "a size such as 800M, 12G or 1.5GiB",
        )),
    }
}

/// `1.5 GiB`, `800 MiB`.
pub fn human_bytes(b: u64) -> String {
    if b >= 1 << 30 {
        format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64)
    } else {
        format!("{} MiB", b.div_ceil(1 << 20))
    }
}

/// Peak memory of fitting `rows` rows with `params` parameters (optimiser and the parts'
/// gradients) beside the data.
pub fn fit_bytes(rows: usize, params: usize, heads: usize) -> u64 {
    OPTIMISER_VECTORS * 8 * params as u64
        + crate::model::train::objective::buffer_bytes(rows, params, heads)
}

/// A run's estimated peak: base, text, bookkeeping, stored rows and the final fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub documents: u64,
    pub text_bytes: u64,
    pub store_bytes: u64,
    pub fit_bytes: u64,
}

impl Estimate {
    pub fn peak(&self) -> u64 {
        BASE_BYTES
            + self.text_bytes
            + BYTES_PER_DOCUMENT * self.documents
            + self.store_bytes
            + self.fit_bytes
    }

    /// Refuses the run when the estimate exceeds `budget`, saying what it needs and what to do.
    pub fn check(&self, budget: &MemoryBudget, what: &str) -> Result<()> {
        if self.peak() <= budget.bytes {
            return Ok(());
        }
        Err(Error::Training(format!(
            "training on {what} ({} documents, {} of text) needs about {} of memory \
             ({} of text, {} of vectorized rows, {} for the optimiser, {} of bookkeeping); \
             the budget is {}. Train on a sample of the data, or on a machine with more memory, \
             or give --memory-budget if more is free than the machine reports",
            self.documents,
            human_bytes(self.text_bytes),
            human_bytes(self.peak()),
            human_bytes(self.text_bytes),
            human_bytes(self.store_bytes),
            human_bytes(self.fit_bytes),
            human_bytes(BASE_BYTES + BYTES_PER_DOCUMENT * self.documents),
            budget.describe()
        )))
    }
}

/// Estimates the run's peak from the input's size and a sample of its start, before anything is
/// read whole, and refuses a run that cannot fit the budget (even with the smallest features
/// the search may choose).
pub fn check_input(config: &TrainConfig, progress: &mut dyn FnMut(TrainProgress)) -> Result<()> {
    let mut files = Vec::new();
    let mut uris: Vec<&str> = config
        .train_uri
        .iter()
        .chain(&config.test_uri)
        .chain(&config.more_train_uris)
        .chain(&config.more_test_uris)
        .map(String::as_str)
        .collect();
    if config.format == DataFormat::AugmentedManifest {
        uris.extend(config.manifests.iter().map(|m| m.s3_uri.as_str()));
    }
    for uri in uris {
        // A listing that fails is reported when the data is read, with its own message.
        if let Ok(l) = listing::list(uri) {
            files.extend(l.files);
        }
    }
    let total: u64 = files.iter().map(|f| f.len).sum();
    let Some(first) = files.iter().max_by_key(|f| f.len) else {
        return Ok(());
    };
    let Some(sample) = Sample::read(first, config.format)? else {
        return Ok(());
    };
    let mut estimate = sample.extrapolate(&smallest_features(config), total)?;
    let mut largest = sample.extrapolate(&largest_features(config), total)?;
    if config.format == DataFormat::LabelFolders {
        // One document a file, whatever the sample saw.
        estimate.documents = files.len() as u64;
        largest.documents = files.len() as u64;
    }
    let range = if largest.peak() > estimate.peak() {
        format!(
            "{} to {}",
            human_bytes(estimate.peak()),
            human_bytes(largest.peak())
        )
    } else {
        human_bytes(estimate.peak())
    };
    progress(TrainProgress::Line(format!(
        "memory: about {range} needed for {} of input (about {} documents), budget {}",
        human_bytes(total),
        estimate.documents,
        budget_words(&config.memory)
    )));
    let what = config
        .train_uri
        .clone()
        .unwrap_or_else(|| "the manifests".into());
    estimate.check(&config.memory, &what)
}

fn budget_words(b: &MemoryBudget) -> String {
    if b.from_machine {
        human_bytes(b.bytes)
    } else {
        format!("{} (--memory-budget)", human_bytes(b.bytes))
    }
}

/// The features with the fewest stored entries the run may use: the flags' when the settings
/// are fixed, else the search's word-only family.
fn smallest_features(config: &TrainConfig) -> FeatureSpec {
    if config.search.is_none() {
        return config.features.clone();
    }
    let mut spec = FeatureSpec {
        word_ngrams: 1,
        char_ngrams: None,
        symbols: false,
        digit_shapes: false,
        ..FeatureSpec::default()
    };
    config
        .overrides
        .apply(&mut spec, &mut crate::model::TrainParams::default());
    spec
}

/// The features with the most stored entries the search may try (character n-grams), or the
/// flags' when the settings are fixed.
fn largest_features(config: &TrainConfig) -> FeatureSpec {
    if config.search.is_none() {
        return config.features.clone();
    }
    let mut spec = FeatureSpec::default();
    config
        .overrides
        .apply(&mut spec, &mut crate::model::TrainParams::default());
    spec
}

/// Documents from the start of the input: their texts, the bytes they took, and their labels.
struct Sample {
    texts: Vec<String>,
    bytes: usize,
    labels: std::collections::BTreeSet<String>,
}

impl Sample {
    fn read(file: &InputFile, format: DataFormat) -> Result<Option<Sample>> {
        let head = file
            .head(SAMPLE_BYTES)
            .map_err(|e| Error::io(&file.path, e))?;
        let whole = head.len() as u64 >= file.len;
        let mut sample = Sample {
            texts: Vec::new(),
            bytes: 0,
            labels: Default::default(),
        };
        match format {
            DataFormat::ComprehendCsv => {
                let mut reader = CsvReader::new(&head);
                let mut records = Vec::new();
                for rec in reader.by_ref() {
                    match rec {
                        Ok(r) if r.fields.len() == 2 => records.push(r),
                        _ => break,
                    }
                }
                // The last record may be cut short by the sample's end.
                if !whole && records.len() > 1 {
                    records.pop();
                }
                for r in &records {
                    sample
                        .labels
                        .insert(String::from_utf8_lossy(&r.fields[0]).into_owned());
                    sample
                        .texts
                        .push(String::from_utf8_lossy(&r.fields[1]).into_owned());
                }
                sample.bytes = match (records.last(), whole) {
                    (_, true) => head.len(),
                    (Some(_), false) => records
                        .iter()
                        .map(|r| r.fields.iter().map(|f| f.len() + 2).sum::<usize>())
                        .sum(),
                    (None, false) => 0,
                };
            }
            DataFormat::AugmentedManifest => {
                let lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
                let keep = if whole {
                    lines.len()
                } else {
                    lines.len().saturating_sub(1)
                };
                for line in &lines[..keep] {
                    sample.bytes += line.len() + 1;
                    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) {
                        if let Some(t) = v.get("source").and_then(|s| s.as_str()) {
                            sample.texts.push(t.to_string());
                        }
                    }
                }
            }
            DataFormat::LabelFolders => {
                // Documents' text is no larger than their files (PDF and Word compress theirs).
                sample
                    .texts
                    .push(String::from_utf8_lossy(&head).into_owned());
                sample.bytes = head.len();
            }
        }
        Ok((!sample.texts.is_empty() && sample.bytes > 0).then_some(sample))
    }

    /// The whole input's estimate under `spec`, from this sample of it.
    fn extrapolate(&self, spec: &FeatureSpec, total_bytes: u64) -> Result<Estimate> {
        let vectorizer = HashingVectorizer::new(super::store::tf_key(spec))?;
        let texts = &self.texts;
        let store = TfStore::build(
            texts.len(),
            spec.n_features(),
            VectorizerScratch::default,
            |scratch, i, out| vectorizer.term_frequencies_into(&texts[i], scratch, out),
        );
        let scale = total_bytes as f64 / self.bytes as f64;
        let text: usize = texts.iter().map(String::len).sum();
        let entries = store.entries() as f64 * scale;
        let per_entry =
            (store.heap_bytes() as f64 / store.entries().max(1) as f64).max(MIN_BYTES_PER_ENTRY);
        let documents = (texts.len() as f64 * scale) as u64;
        let heads = if self.labels.len() > 2 {
            self.labels.len()
        } else {
            1
        };
        let columns = ((store.n_cols() as f64) * scale.powf(0.7)).min(spec.n_features() as f64);
        let params = columns as usize * heads + heads;
        Ok(Estimate {
            documents,
            text_bytes: (text as f64 * scale) as u64,
            store_bytes: (entries * per_entry) as u64 + 4 * documents,
            fit_bytes: fit_bytes(documents as usize, params, heads)
                + 8 * (spec.n_features() * heads) as u64,
        })
    }
}

fn mem_available() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn cgroup_limit() -> Option<u64> {
    for file in [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ] {
        if let Ok(s) = std::fs::read_to_string(Path::new(file)) {
            if let Ok(v) = s.trim().parse::<u64>() {
                return Some(v);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_bad_ones_name_the_flag() {
        assert_eq!(parse_bytes("800M").unwrap(), 800 << 20);
        assert_eq!(parse_bytes("1.5GiB").unwrap(), 3 << 29);
        assert_eq!(parse_bytes("4096").unwrap(), 4096);
        let e = parse_bytes("lots").unwrap_err().to_string();
        assert!(e.contains("memory budget") && e.contains("12G"), "{e}");
        assert!(parse_bytes("0G").is_err());
    }

    #[test]
    fn a_refusal_names_what_is_needed() {
        let e = Estimate {
            documents: 5_000_000,
            text_bytes: 550 << 20,
            store_bytes: 3 << 30,
            fit_bytes: 200 << 20,
        };
        assert!(e.check(&MemoryBudget::bytes(16 << 30), "x").is_ok());
        let msg = e
            .check(&MemoryBudget::bytes(2 << 30), "train.csv")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("5000000 documents") && msg.contains("4.7 GiB") && msg.contains("2.0 GiB"),
            "{msg}"
        );
    }
}
