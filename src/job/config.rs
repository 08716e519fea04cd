//! A classification job's settings, validated once before any document is read (linfa's
//! `ParamGuard` idea): where input and output are, how documents are cut and encoded, the
//! limits, the output's JSON style and compression, and which shard of a split job this is.

use std::path::PathBuf;

use crate::aws::{self, Identity};
use crate::error::{Error, Param, Result};
use crate::input::document::{Limits, Ocr, ReaderConfig};
use crate::input::{MmapChoice, SplitMode, Utf8Policy};
use crate::location;
use crate::output::jsonl::{FileLine, JsonStyle};

/// Target size of one work unit.
pub const UNIT_BYTES: usize = 1 << 20;
/// gzip level of output.tar.gz unless asked otherwise. On 1M SMS predictions (127.5 MB, in
/// 1 MiB units): level 2 writes 8.06 MB in 0.13 s of CPU, level 5 6.26 MB in 0.30 s, level 6
/// 5.93 MB in 0.44 s (gzip -6: 6.09 MB). Predictions compress 16-fold even at level 2, and the
/// deflate time is a tenth of a job's, so the job's speed wins over the last 2 MB.
pub const DEFAULT_COMPRESSION_LEVEL: u32 = 2;

/// A validated classification job.
#[derive(Debug, Clone)]
pub struct ClassifyConfig {
    pub input_uri: String,
    pub split: SplitMode,
    /// The output prefix as the user gave it (local path or file:// URI).
    pub output_uri: String,
    pub job_id: String,
    pub job_name: Option<String>,
    pub identity: Identity,
    pub utf8: Utf8Policy,
    pub max_line_bytes: u64,
    /// Largest plain-text ONE_DOC_PER_FILE document; documents have their own limits.
    pub max_file_bytes: u64,
    /// Comprehend's `DocumentReaderConfig` as given (PDF, Word and images are read with the
    /// defaults without one).
    pub document_reader: Option<ReaderConfig>,
    /// Sizes and pages of semi-structured documents.
    pub document_limits: Limits,
    pub ocr: Ocr,
    pub style: JsonStyle,
    pub file_line: FileLine,
    pub compression_level: u32,
    pub mmap: MmapChoice,
    pub unit_bytes: usize,
    /// Folder that `s3://bucket/key` URIs map to (`<root>/bucket/key`); none refuses `s3://`.
    pub s3_root: Option<PathBuf>,
    /// This process's share of a job split across machines; `None` runs all of it.
    pub shard: Option<Shard>,
    /// Modification time recorded in the tar header (`SOURCE_DATE_EPOCH`); `None` is now.
    pub mtime: Option<u64>,
}

/// `<prefix>/<account>-CLN-<JobId>/output/output.tar.gz`, joined with one `/`.
pub fn archive_uri(output_uri: &str, account: &str, job_id: &str) -> String {
    let sep = if output_uri.ends_with('/') { "" } else { "/" };
    format!("{output_uri}{sep}{account}-CLN-{job_id}/output/output.tar.gz")
}

/// One of `count` processes that split a job between them (Slurm array task, Kubernetes
/// Indexed Job pod, AWS Batch array child).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub fn new(index: usize, count: usize) -> Result<Shard> {
        if count == 0 || index >= count {
            let param = if count == 0 {
                Param::ShardCount
            } else {
                Param::ShardIndex
            };
            return Err(Error::param(
                param,
                format!("{index} of {count}"),
                "0 <= index < count",
            ));
        }
        Ok(Shard { index, count })
    }

    /// The offsets `[lo, hi)` of the concatenated input whose units this shard runs: equal
    /// shares of the bytes. The last shard has no end, so a unit at the very end (an empty,
    /// unreadable last file) still belongs to one.
    pub fn bounds(&self, total: u64) -> (u64, u64) {
        let cut = |k: usize| (total as u128 * k as u128 / self.count as u128) as u64;
        let hi = if self.index + 1 == self.count {
            u64::MAX
        } else {
            cut(self.index + 1)
        };
        (cut(self.index), hi)
    }
}

impl ClassifyConfig {
    /// The reader of semi-structured documents this job uses.
    pub fn reader(&self) -> crate::input::document::Reader {
        crate::input::document::Reader {
            config: self.document_reader.clone().unwrap_or_default(),
            limits: self.document_limits,
            ocr: self.ocr.clone(),
        }
    }

    /// The reader for documents `classifier` classifies: OCR in the classifier's language
    /// (Comprehend trains a custom classifier for one language; its scans are in it too).
    pub fn reader_for(
        &self,
        classifier: &crate::model::Classifier,
    ) -> crate::input::document::Reader {
        let mut reader = self.reader();
        reader.ocr = reader.ocr.for_language(&classifier.meta.language_code);
        reader
    }

    /// A job with Comprehend's defaults: Comprehend's encoding rule and size limits, compact
    /// JSON with `"Line": "0"` for file documents, gzip level 6, memory maps where they pay.
    pub fn new(
        input_uri: &str,
        split: SplitMode,
        output_uri: &str,
        job_id: &str,
        identity: Identity,
    ) -> Self {
        ClassifyConfig {
            input_uri: input_uri.into(),
            split,
            output_uri: output_uri.into(),
            job_id: job_id.into(),
            job_name: None,
            identity,
            utf8: Utf8Policy::SkipRest,
            max_line_bytes: 1 << 20,
            max_file_bytes: 10 << 20,
            document_reader: None,
            document_limits: Limits::default(),
            ocr: Ocr::default(),
            style: JsonStyle::Compact,
            file_line: FileLine::Zero,
            compression_level: DEFAULT_COMPRESSION_LEVEL,
            mmap: MmapChoice::Auto,
            unit_bytes: UNIT_BYTES,
            s3_root: None,
            shard: None,
            mtime: None,
        }
    }

    pub fn archive_uri(&self) -> String {
        archive_uri(&self.output_uri, &self.identity.account, &self.job_id)
    }

    pub fn validate(&self) -> Result<()> {
        aws::check_job_id(&self.job_id)?;
        if self.utf8 == Utf8Policy::Error {
            return Err(Error::param(
                Param::Utf8Policy,
                "error",
                "skip-rest, skip-document or lossy (classification never stops at a bad document)",
            ));
        }
        if self.max_line_bytes == 0 {
            return Err(Error::param(Param::MaxLineBytes, 0, "at least 1"));
        }
        if self.max_file_bytes == 0 {
            return Err(Error::param(Param::MaxFileBytes, 0, "at least 1"));
        }
        if self.compression_level > 9 {
            return Err(Error::param(
                Param::CompressionLevel,
                self.compression_level,
                "0-9",
            ));
        }
        if let Some(name) = &self.job_name {
            aws::check_job_name(name)?;
        }
        if let Some(reader) = &self.document_reader {
            if self.split == SplitMode::OnePerLine {
                return Err(Error::param(
                    Param::DocumentReaderConfig,
                    "with ONE_DOC_PER_LINE",
                    "ONE_DOC_PER_FILE input (PDF, Word and image files are one document each)",
                ));
            }
            reader.validate()?;
        }
        if self.document_limits.max_pages == 0 {
            return Err(Error::param(Param::MaxPages, 0, "at least 1"));
        }
        location::check(&self.input_uri, self.s3_root.as_deref())?;
        location::check(&self.output_uri, self.s3_root.as_deref())?;
        Ok(())
    }
}
