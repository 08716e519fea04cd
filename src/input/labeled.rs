//! Labelled training data in Comprehend's formats — `COMPREHEND_CSV` (`label,text`, labels split
//! by a delimiter in MULTI_LABEL mode) and `AUGMENTED_MANIFEST` (SageMaker Ground Truth JSON
//! lines) — and docclass's `LABEL_FOLDERS` (`<root>/<label>/<files>`, the layout of most public
//! corpora). Every problem names the file and row. A SHA-256 of all bytes read is kept so a model
//! records exactly what it was trained on.

use std::collections::HashMap;
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

/// Labelled documents as read, kept compact for sets of millions: all texts in one buffer, label
/// names once (each document holds their indices), and where each document came from as a file
/// number and a row.
#[derive(Debug, Default)]
pub struct LabeledSet {
    text: String,
    ends: Vec<usize>,
    /// Label names in order of first appearance.
    names: Vec<String>,
    name_index: HashMap<String, u32>,
    /// Label indices (into `names`) of every document, sorted by name and distinct.
    labels: Vec<u32>,
    label_ends: Vec<u32>,
    /// Source file (into `sources`) and 1-based row of every document (row 0: the whole file).
    origins: Vec<(u32, u64)>,
    sources: Vec<String>,
    pub files: usize,
    pub bytes: u64,
    /// Documents left out under `Utf8Policy::SkipDocument`/`SkipRest`.
    pub skipped: usize,
}

impl LabeledSet {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Document `i`'s text.
    pub fn text(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    /// Document `i`'s labels, as indices into `names`.
    pub fn label_ids(&self, i: usize) -> &[u32] {
        let start = if i == 0 { 0 } else { self.label_ends[i - 1] };
        &self.labels[start as usize..self.label_ends[i] as usize]
    }

    /// Document `i`'s label names.
    pub fn labels(&self, i: usize) -> impl Iterator<Item = &str> + '_ {
        self.label_ids(i)
            .iter()
            .map(|&l| self.names[l as usize].as_str())
    }

    /// Every label name, in order of first appearance.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// `file:row` (or the file) of document `i`, for messages.
    pub fn origin(&self, i: usize) -> String {
        let (file, row) = self.origins[i];
        let name = &self.sources[file as usize];
        if row == 0 {
            name.clone()
        } else {
            format!("{name}:{row}")
        }
    }

    /// Bytes of text held.
    pub fn text_bytes(&self) -> usize {
        self.text.len()
    }

    /// Appends `other`'s documents (their labels renamed into this set's numbering).
    pub fn extend(&mut self, other: LabeledSet) {
        let first_source = self.sources.len() as u32;
        self.sources.extend(other.sources.iter().cloned());
        for i in 0..other.len() {
            let (file, row) = other.origins[i];
            self.push_at(other.text(i), other.labels(i), (first_source + file, row));
        }
        self.files += other.files;
        self.bytes += other.bytes;
        self.skipped += other.skipped;
    }

    /// Starts a new source file (documents pushed next come from it).
    fn source(&mut self, name: String) {
        self.sources.push(name);
    }

    /// Adds a document of the current source file, at `row` (0 for the whole file).
    fn push<'l>(&mut self, text: &str, labels: impl IntoIterator<Item = &'l str>, row: u64) {
        let source = self.sources.len() as u32 - 1;
        self.push_at(text, labels, (source, row));
    }

    /// Adds a document from `origin` (source file, row).
    fn push_at<'l>(
        &mut self,
        text: &str,
        labels: impl IntoIterator<Item = &'l str>,
        origin: (u32, u64),
    ) {
        self.text.push_str(text);
        self.ends.push(self.text.len());
        let first = self.labels.len();
        for l in labels {
            let id = match self.name_index.get(l) {
                Some(&id) => id,
                None => {
                    let id = self.names.len() as u32;
                    self.names.push(l.to_string());
                    self.name_index.insert(l.to_string(), id);
                    id
                }
            };
            self.labels.push(id);
        }
        let names = &self.names;
        let added = &mut self.labels[first..];
        added.sort_by(|a, b| names[*a as usize].cmp(&names[*b as usize]));
        let distinct = dedup_sorted(added);
        self.labels.truncate(first + distinct);
        self.label_ends.push(self.labels.len() as u32);
        self.origins.push(origin);
    }
}

/// Moves the distinct values of sorted `v` to its front; returns how many there are.
fn dedup_sorted(v: &mut [u32]) -> usize {
    let mut kept = 0;
    for k in 0..v.len() {
        if kept == 0 || v[k] != v[kept - 1] {
            v[kept] = v[k];
            kept += 1;
        }
    }
    kept
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

enum Decoded<'a> {
    Text(std::borrow::Cow<'a, str>),
    Skip,
}

fn decode<'a>(
    bytes: std::borrow::Cow<'a, [u8]>,
    policy: Utf8Policy,
    path: &Path,
    line: u64,
    base: u64,
) -> Result<Decoded<'a>> {
    use std::borrow::Cow;
    let valid = std::str::from_utf8(&bytes).map(|_| ());
    match valid {
        Ok(()) => Ok(Decoded::Text(match bytes {
            Cow::Borrowed(b) => Cow::Borrowed(std::str::from_utf8(b).expect("checked above")),
            Cow::Owned(b) => Cow::Owned(String::from_utf8(b).expect("checked above")),
        })),
        Err(e) => match policy {
            Utf8Policy::Lossy => Ok(Decoded::Text(Cow::Owned(
                String::from_utf8_lossy(&bytes).into_owned(),
            ))),
            Utf8Policy::SkipDocument | Utf8Policy::SkipRest => Ok(Decoded::Skip),
            Utf8Policy::Error => Err(Error::InvalidUtf8 {
                path: path.to_path_buf(),
                line,
                offset: base + e.valid_up_to() as u64,
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

fn split_labels<'f>(
    field: &'f str,
    opts: &ReadOptions,
    origin: &dyn Fn() -> String,
) -> Result<Vec<&'f str>> {
    let labels: Vec<&str> = match opts.labels {
        LabelShape::One => vec![field],
        LabelShape::Many { delimiter } => field.split(delimiter).collect(),
    };
    if labels.iter().any(|l| l.is_empty()) {
        return Err(Error::data(
            origin(),
            format!("empty label in '{field}'; every row needs a label before the first comma"),
        ));
    }
    if let Some(l) = labels.iter().find(|l| l.trim() != **l) {
        return Err(Error::data(
            origin(),
            format!("label '{l}' has leading or trailing spaces; remove the spaces around commas and delimiters"),
        ));
    }
    Ok(labels)
}

fn check_text(text: &str, origin: &dyn Fn() -> String) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::data(
            origin(),
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
        set.source(name.clone());
        for rec in CsvReader::new(&bytes) {
            let rec = rec.map_err(|e| Error::data(format!("{name}:{}", e.line), e.message))?;
            let origin = || format!("{name}:{}", rec.line);
            if rec.fields.len() != 2 {
                return Err(Error::data(
                    origin(),
                    if rec.fields.len() < 2 {
                        "found a label and no text (one column); write each row as label,text"
                            .to_string()
                    } else {
                        format!(
                            "expected 2 columns (label,text), found {}; quote text that contains commas",
                            rec.fields.len()
                        )
                    },
                ));
            }
            let mut fields = rec.fields.into_iter();
            let label_bytes = fields.next().unwrap_or_default();
            let text_bytes = fields.next().unwrap_or_default();
            let Decoded::Text(label_field) =
                decode(label_bytes, opts.utf8, &file.path, rec.line, rec.offset)?
            else {
                set.skipped += 1;
                continue;
            };
            let Decoded::Text(text) =
                decode(text_bytes, opts.utf8, &file.path, rec.line, rec.offset)?
            else {
                set.skipped += 1;
                continue;
            };
            let labels = split_labels(&label_field, opts, &origin)?;
            check_text(&text, &origin)?;
            set.push(&text, labels, rec.line);
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
        let labels: Vec<String> = split_labels(label_dir, opts, &|| origin.clone())?
            .into_iter()
            .map(str::to_string)
            .collect();
        let bytes = Arc::new(read_file(file, hasher, &mut set)?);
        read.push((file, origin, labels, bytes));
    }
    let texts: Vec<Result<Option<String>>> = read
        .par_iter()
        .map(|(file, origin, _, bytes)| {
            if let Some(text) = document::full_text(&opts.documents, Arc::clone(bytes), origin) {
                return text.map(Some);
            }
            check_utf8(bytes, opts.utf8, &file.path)?;
            Ok(
                match decode(
                    std::borrow::Cow::Borrowed(&bytes[..]),
                    opts.utf8,
                    &file.path,
                    1,
                    0,
                )? {
                    Decoded::Text(t) => Some(t.into_owned()),
                    Decoded::Skip => None,
                },
            )
        })
        .collect();
    for ((_, origin, labels, _), text) in read.into_iter().zip(texts) {
        let Some(text) = text? else {
            set.skipped += 1;
            continue;
        };
        check_text(&text, &|| origin.clone())?;
        set.source(origin);
        set.push(&text, labels.iter().map(String::as_str), 0);
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
            set.source(name.clone());
            for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
                let row = i as u64 + 1;
                let origin = || format!("{name}:{row}");
                if line.iter().all(|b| b.is_ascii_whitespace()) {
                    continue;
                }
                let value: serde_json::Value = serde_json::from_slice(line)
                    .map_err(|e| Error::data(origin(), format!("not a JSON object: {e}")))?;
                let text = value
                    .get("source")
                    .and_then(|s| s.as_str())
                    .ok_or_else(|| Error::data(origin(), "no \"source\" text field"))?;
                check_text(text, &origin)?;
                let mut labels = Vec::new();
                for attr in &spec.attribute_names {
                    labels.extend(manifest_labels(&value, attr, opts.labels, &origin())?);
                }
                if labels.is_empty() {
                    return Err(Error::data(
                        origin(),
                        format!(
                            "none of the attributes {:?} is present",
                            spec.attribute_names
                        ),
                    ));
                }
                set.push(text, labels.iter().map(String::as_str), row);
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
        assert_eq!(set.labels(0).collect::<Vec<_>>(), ["A", "B"]);
        assert_eq!(set.text(0), "x, y");
        assert_eq!(set.origin(1), format!("{}:2", p.display()));
        let set = read(p.to_str().unwrap(), &opts(ONE), &mut Sha256::new()).unwrap();
        assert_eq!(set.labels(0).collect::<Vec<_>>(), ["A|B"]);

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
        assert_eq!(set.text(1), "bad \u{fffd} byte");
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
        let labels: Vec<_> = (0..set.len()).flat_map(|i| set.labels(i)).collect();
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
        assert_eq!(set.labels(0).collect::<Vec<_>>(), ["action", "drama"]);
        assert!(
            read_manifests(&specs, "TEST", &opts(MANY), &mut Sha256::new())
                .unwrap()
                .is_empty()
        );
    }
}
