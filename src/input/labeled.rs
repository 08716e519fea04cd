//! Labelled training data in Comprehend's formats — `COMPREHEND_CSV` (`label,text`, labels split
//! by a delimiter in MULTI_LABEL mode) and `AUGMENTED_MANIFEST` (SageMaker Ground Truth JSON
//! lines) — and docclass's `LABEL_FOLDERS` (`<root>/<label>/<files>`, the layout of most public
//! corpora). Every problem names the file and row. A SHA-256 of all bytes read is kept so a model
//! records exactly what it was trained on.

use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::csv::CsvReader;
use super::document;
use super::listing::{self, InputFile, Listing};
use super::{FileBytes, MmapChoice, Utf8Policy};
use crate::error::{Error, Param, Result};
use crate::location;

/// Comprehend's `DataFormat`, plus folders-per-label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    ComprehendCsv,
    AugmentedManifest,
    LabelFolders,
}

impl DataFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            DataFormat::ComprehendCsv => "COMPREHEND_CSV",
            DataFormat::AugmentedManifest => "AUGMENTED_MANIFEST",
            DataFormat::LabelFolders => "LABEL_FOLDERS",
        }
    }
}

impl std::str::FromStr for DataFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().replace('-', "_").as_str() {
            "COMPREHEND_CSV" | "CSV" => Ok(DataFormat::ComprehendCsv),
            "AUGMENTED_MANIFEST" | "MANIFEST" => Ok(DataFormat::AugmentedManifest),
            "LABEL_FOLDERS" | "FOLDERS" => Ok(DataFormat::LabelFolders),
            _ => Err(Error::param(
                Param::DataFormat,
                s,
                "COMPREHEND_CSV, AUGMENTED_MANIFEST or LABEL_FOLDERS",
            )),
        }
    }
}

/// One labelled document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabeledDoc {
    pub text: String,
    pub labels: Vec<String>,
    /// `file:row` (or the file), for messages.
    pub origin: String,
}

/// Documents read from one URI (or manifest list), with a digest of the bytes.
#[derive(Debug, Default)]
pub struct LabeledSet {
    pub docs: Vec<LabeledDoc>,
    pub files: usize,
    pub bytes: u64,
    /// Documents left out under `Utf8Policy::SkipDocument`/`SkipRest`.
    pub skipped: usize,
}

/// How many labels a document has: one (the label field is one name, a manifest attribute one
/// class index), or any number (names split by `delimiter`, a list of class indices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelShape {
    One,
    Many { delimiter: char },
}

/// How to read labelled data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    pub format: DataFormat,
    pub labels: LabelShape,
    pub utf8: Utf8Policy,
    /// Reads PDF, Word and image files of LABEL_FOLDERS data (their pages' text).
    pub documents: document::Reader,
}

/// One entry of `AugmentedManifests`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ManifestSpec {
    pub s3_uri: String,
    #[serde(default)]
    pub split: Option<String>,
    pub attribute_names: Vec<String>,
}

enum Decoded {
    Text(String),
    Skip,
}

fn decode(
    bytes: Vec<u8>,
    policy: Utf8Policy,
    path: &Path,
    line: u64,
    base: u64,
) -> Result<Decoded> {
    match String::from_utf8(bytes) {
        Ok(s) => Ok(Decoded::Text(s)),
        Err(e) => match policy {
            Utf8Policy::Lossy => Ok(Decoded::Text(
                String::from_utf8_lossy(e.as_bytes()).into_owned(),
            )),
            Utf8Policy::SkipDocument | Utf8Policy::SkipRest => Ok(Decoded::Skip),
            Utf8Policy::Error => Err(Error::InvalidUtf8 {
                path: path.to_path_buf(),
                line,
                offset: base + e.utf8_error().valid_up_to() as u64,
            }),
        },
    }
}

/// Refuses a whole file that is not UTF-8 under `Utf8Policy::Error`, naming the first bad byte's
/// line and offset in the file.
fn check_utf8(bytes: &[u8], policy: Utf8Policy, path: &Path) -> Result<()> {
    if policy != Utf8Policy::Error {
        return Ok(());
    }
    match std::str::from_utf8(bytes) {
        Ok(_) => Ok(()),
        Err(e) => {
            let offset = e.valid_up_to();
            let line = bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            Err(Error::InvalidUtf8 {
                path: path.to_path_buf(),
                line,
                offset: offset as u64,
            })
        }
    }
}

fn read_file(file: &InputFile, hasher: &mut Sha256, set: &mut LabeledSet) -> Result<FileBytes> {
    let bytes = file
        .read(MmapChoice::Auto)
        .map_err(|e| Error::io(&file.path, e))?;
    hasher.update(&bytes[..]);
    set.files += 1;
    set.bytes += bytes.len() as u64;
    Ok(bytes)
}

/// Reads the labelled documents a URI names, in the given format. Returns the set and the hasher
/// (so train and test data can share one digest).
pub fn read(uri_str: &str, opts: &ReadOptions, hasher: &mut Sha256) -> Result<LabeledSet> {
    match opts.format {
        DataFormat::ComprehendCsv => read_csv(uri_str, opts, hasher),
        DataFormat::LabelFolders => read_folders(uri_str, opts, hasher),
        DataFormat::AugmentedManifest => Err(Error::missing(
            Param::AugmentedManifests,
            "the manifest files to read (AUGMENTED_MANIFEST reads the files named in AugmentedManifests)",
        )),
    }
}

fn list_nonempty(uri_str: &str) -> Result<Listing> {
    let listing = listing::list(uri_str)?;
    if listing.files.is_empty() {
        return Err(Error::NoInput(uri_str.into()));
    }
    Ok(listing)
}

fn split_labels(field: &str, opts: &ReadOptions, origin: &str) -> Result<Vec<String>> {
    let mut labels: Vec<String> = match opts.labels {
        LabelShape::One => vec![field.to_string()],
        LabelShape::Many { delimiter } => field.split(delimiter).map(str::to_string).collect(),
    };
    if labels.iter().any(|l| l.is_empty()) {
        return Err(Error::data(
            origin,
            format!("empty label in '{field}'; every row needs a label before the first comma"),
        ));
    }
    if let Some(l) = labels.iter().find(|l| l.trim() != l.as_str()) {
        return Err(Error::data(
            origin,
            format!("label '{l}' has leading or trailing spaces; remove the spaces around commas and delimiters"),
        ));
    }
    labels.sort();
    labels.dedup();
    Ok(labels)
}

fn check_text(text: &str, origin: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::data(
            origin,
            "the document text is empty; remove the row or add its text",
        ));
    }
    Ok(())
}

fn read_csv(uri_str: &str, opts: &ReadOptions, hasher: &mut Sha256) -> Result<LabeledSet> {
    let listing = list_nonempty(uri_str)?;
    let mut set = LabeledSet::default();
    for file in &listing.files {
        let bytes = read_file(file, hasher, &mut set)?;
        check_utf8(&bytes, opts.utf8, &file.path)?;
        let name = file.path.display().to_string();
        for rec in CsvReader::new(&bytes) {
            let rec = rec.map_err(|e| Error::data(format!("{name}:{}", e.line), e.message))?;
            let origin = format!("{name}:{}", rec.line);
            if rec.fields.len() != 2 {
                return Err(Error::data(
                    &origin,
                    format!(
                        "expected 2 columns (label,text), found {}; quote text that contains commas",
                        rec.fields.len()
                    ),
                ));
            }
            let mut fields = rec.fields.into_iter();
            let label_bytes = fields.next().unwrap_or_default();
            let text_bytes = fields.next().unwrap_or_default();
            let label_field =
                match decode(label_bytes, opts.utf8, &file.path, rec.line, rec.offset)? {
                    Decoded::Text(s) => s,
                    Decoded::Skip => {
                        set.skipped += 1;
                        continue;
                    }
                };
            let text = match decode(text_bytes, opts.utf8, &file.path, rec.line, rec.offset)? {
                Decoded::Text(s) => s,
                Decoded::Skip => {
                    set.skipped += 1;
                    continue;
                }
            };
            let labels = split_labels(&label_field, opts, &origin)?;
            check_text(&text, &origin)?;
            set.docs.push(LabeledDoc {
                text,
                labels,
                origin,
            });
        }
    }
    Ok(set)
}

fn read_folders(uri_str: &str, opts: &ReadOptions, hasher: &mut Sha256) -> Result<LabeledSet> {
    // A folder given without its trailing '/' still means "the labels are its sub-folders".
    let mut uri_owned = uri_str.to_string();
    if let Ok(p) = location::local_path(uri_str) {
        if Path::new(&p).is_dir() && !p.ends_with('/') {
            uri_owned.push('/');
        }
    }
    let listing = list_nonempty(&uri_owned)?;
    let mut set = LabeledSet::default();
    // Read (and digest) in order, then decode or extract in parallel: OCR of scanned documents
    // dominates, and every core takes a share.
    let mut read = Vec::with_capacity(listing.files.len());
    for file in &listing.files {
        let origin = file.path.display().to_string();
        let Some((label_dir, _)) = file.key.split_once('/') else {
            return Err(Error::data(
                &origin,
                "file is not inside a label folder; LABEL_FOLDERS expects <root>/<label>/<files>",
            ));
        };
        let labels = split_labels(label_dir, opts, &origin)?;
        let bytes = Arc::new(read_file(file, hasher, &mut set)?);
        read.push((file, origin, labels, bytes));
    }
    let texts: Vec<Result<Decoded>> = read
        .par_iter()
        .map(|(file, origin, _, bytes)| {
            if let Some(text) = document::full_text(&opts.documents, Arc::clone(bytes), origin) {
                return text.map(Decoded::Text);
            }
            check_utf8(bytes, opts.utf8, &file.path)?;
            decode(bytes.to_vec(), opts.utf8, &file.path, 1, 0)
        })
        .collect();
    for ((_, origin, labels, _), text) in read.into_iter().zip(texts) {
        let text = match text? {
            Decoded::Text(s) => s,
            Decoded::Skip => {
                set.skipped += 1;
                continue;
            }
        };
        check_text(&text, &origin)?;
        set.docs.push(LabeledDoc {
            text,
            labels,
            origin,
        });
    }
    Ok(set)
}

/// Reads the manifests whose `Split` matches `split` (`TRAIN` when absent).
pub fn read_manifests(
    specs: &[ManifestSpec],
    split: &str,
    opts: &ReadOptions,
    hasher: &mut Sha256,
) -> Result<LabeledSet> {
    let mut set = LabeledSet::default();
    for spec in specs {
        let this_split = spec.split.as_deref().unwrap_or("TRAIN");
        if this_split != "TRAIN" && this_split != "TEST" {
            return Err(Error::param(
                Param::AugmentedManifests,
                this_split,
                "Split TRAIN or TEST",
            ));
        }
        if this_split != split {
            continue;
        }
        if spec.attribute_names.is_empty() {
            return Err(Error::missing(
                Param::AugmentedManifests,
                "AttributeNames naming at least one attribute",
            ));
        }
        let listing = list_nonempty(&spec.s3_uri)?;
        for file in &listing.files {
            let bytes = read_file(file, hasher, &mut set)?;
            check_utf8(&bytes, opts.utf8, &file.path)?;
            let name = file.path.display().to_string();
            for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
                let row = i as u64 + 1;
                let origin = format!("{name}:{row}");
                if line.iter().all(|b| b.is_ascii_whitespace()) {
                    continue;
                }
                let value: serde_json::Value = serde_json::from_slice(line)
                    .map_err(|e| Error::data(&origin, format!("not a JSON object: {e}")))?;
                let text = value
                    .get("source")
                    .and_then(|s| s.as_str())
                    .ok_or_else(|| Error::data(&origin, "no \"source\" text field"))?
                    .to_string();
                check_text(&text, &origin)?;
                let mut labels = Vec::new();
                for attr in &spec.attribute_names {
                    labels.extend(manifest_labels(&value, attr, opts.labels, &origin)?);
                }
                labels.sort();
                labels.dedup();
                if labels.is_empty() {
                    return Err(Error::data(
                        &origin,
                        format!(
                            "none of the attributes {:?} is present",
                            spec.attribute_names
                        ),
                    ));
                }
                set.docs.push(LabeledDoc {
                    text,
                    labels,
                    origin,
                });
            }
        }
    }
    Ok(set)
}

fn manifest_labels(
    v: &serde_json::Value,
    attr: &str,
    shape: LabelShape,
    origin: &str,
) -> Result<Vec<String>> {
    let Some(val) = v.get(attr) else {
        return Ok(Vec::new());
    };
    let meta = v.get(format!("{attr}-metadata"));
    match shape {
        LabelShape::One => {
            let name = meta
                .and_then(|m| m.get("class-name"))
                .and_then(|n| n.as_str())
                .ok_or_else(|| {
                    Error::data(origin, format!("no \"{attr}-metadata\".\"class-name\""))
                })?;
            if !val.is_u64() {
                return Err(Error::data(
                    origin,
                    format!("\"{attr}\" should be a class index"),
                ));
            }
            Ok(vec![name.to_string()])
        }
        LabelShape::Many { .. } => {
            let idx = val.as_array().ok_or_else(|| {
                Error::data(
                    origin,
                    format!("\"{attr}\" should be a list of class indices"),
                )
            })?;
            let map = meta.and_then(|m| m.get("class-map")).ok_or_else(|| {
                Error::data(origin, format!("no \"{attr}-metadata\".\"class-map\""))
            })?;
            idx.iter()
                .map(|i| {
                    let key = i.as_u64().map(|n| n.to_string()).unwrap_or_default();
                    map.get(&key)
                        .and_then(|n| n.as_str())
                        .map(str::to_string)
                        .ok_or_else(|| {
                            Error::data(origin, format!("class index {i} is not in class-map"))
                        })
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const ONE: LabelShape = LabelShape::One;
    const MANY: LabelShape = LabelShape::Many { delimiter: '|' };

    fn opts(labels: LabelShape) -> ReadOptions {
        ReadOptions {
            format: DataFormat::ComprehendCsv,
            labels,
            utf8: Utf8Policy::Error,
            documents: document::Reader::new(Default::default(), Default::default()),
        }
    }

    #[test]
    fn csv_multi_label_and_errors_name_rows() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("t.csv");
        fs::write(&p, "A|B,\"x, y\"\nB,z\n").unwrap();
        let set = read(p.to_str().unwrap(), &opts(MANY), &mut Sha256::new()).unwrap();
        assert_eq!(set.docs[0].labels, ["A", "B"]);
        assert_eq!(set.docs[0].text, "x, y");
        let set = read(p.to_str().unwrap(), &opts(ONE), &mut Sha256::new()).unwrap();
        assert_eq!(set.docs[0].labels, ["A|B"]);

        fs::write(&p, "a,ok\nb,one,two\n").unwrap();
        let e = read(p.to_str().unwrap(), &opts(ONE), &mut Sha256::new()).unwrap_err();
        assert!(
            e.to_string().contains("t.csv:2") && e.to_string().contains("found 3"),
            "{e}"
        );

        fs::write(&p, "a,ok\nb,  \n").unwrap();
        let e = read(p.to_str().unwrap(), &opts(ONE), &mut Sha256::new()).unwrap_err();
        assert!(
            e.to_string().contains("t.csv:2") && e.to_string().contains("empty"),
            "{e}"
        );

        fs::write(&p, b"a,ok\nb,bad \xff byte\n").unwrap();
        let e = read(p.to_str().unwrap(), &opts(ONE), &mut Sha256::new()).unwrap_err();
        assert!(
            e.to_string().contains("t.csv:2") && e.to_string().contains("byte offset 11"),
            "{e}"
        );
        let mut lossy = opts(ONE);
        lossy.utf8 = Utf8Policy::Lossy;
        let set = read(p.to_str().unwrap(), &lossy, &mut Sha256::new()).unwrap();
        assert_eq!(set.docs[1].text, "bad \u{fffd} byte");
    }

    #[test]
    fn folders_and_manifests() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("c/ham")).unwrap();
        fs::create_dir_all(d.path().join("c/spam")).unwrap();
        fs::write(d.path().join("c/ham/1"), "hello").unwrap();
        fs::write(d.path().join("c/spam/2"), "win").unwrap();
        let mut o = opts(ONE);
        o.format = DataFormat::LabelFolders;
        let set = read(d.path().join("c").to_str().unwrap(), &o, &mut Sha256::new()).unwrap();
        let labels: Vec<_> = set.docs.iter().map(|d| d.labels[0].as_str()).collect();
        assert_eq!(labels, ["ham", "spam"]);

        let m = d.path().join("m.jsonl");
        fs::write(
            &m,
            concat!(
                r#"{"source":"Document 1 text","job":[0,4],"job-metadata":{"class-map":{"0":"action","4":"drama"}}}"#,
                "\n"
            ),
        )
        .unwrap();
        let specs = vec![ManifestSpec {
            s3_uri: m.to_str().unwrap().into(),
            split: None,
            attribute_names: vec!["job".into()],
        }];
        let set = read_manifests(&specs, "TRAIN", &opts(MANY), &mut Sha256::new()).unwrap();
        assert_eq!(set.docs[0].labels, ["action", "drama"]);
        assert!(
            read_manifests(&specs, "TEST", &opts(MANY), &mut Sha256::new())
                .unwrap()
                .docs
                .is_empty()
        );
    }
}
