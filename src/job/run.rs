//! The classification hot path, and the only place where I/O meets scoring.
//!
//! Documents are cut into work units of about 1 MiB (line chunks of big files, or groups of small
//! files). Units are processed in waves: for line chunks a cheap parallel pass counts lines (and
//! finds undecodable lines, for Comprehend's skip-the-rest-of-the-file rule) so every unit knows its
//! first line number; then every unit is vectorized, scored, written as JSON lines and deflated in
//! parallel, and the writer appends the compressed units in input order. Output bytes therefore do
//! not depend on the number of threads, and memory is bounded by the wave size, not the input size.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rayon::prelude::*;

use super::record::{
    DocclassInfo, InputDataConfig, JobCounts, JobRecord, JobStatus, OutputDataConfig,
};
use super::store::JobStore;
use crate::aws::{self, Identity};
use crate::error::{Error, Result};
use crate::input::mmap::{Chunk, LineChunkReader};
use crate::input::split::{after_terminator, count_lines, next_cut, Cut, LineIter};
use crate::input::{uri, FileBytes, LineSource, Listing, MmapChoice, SplitMode, Utf8Policy};
use crate::model::io::ScoreScratch;
use crate::model::registry::ClassifierRecord;
use crate::model::Classifier;
use crate::output::archive::{ArchiveWriter, CompressedChunk, Deflater, PartInfo};
use crate::output::jsonl::{json_string, rank_into, FileLine, JsonStyle, JsonlFormat};
use crate::output::target::Target;

/// Error codes written in place of a result.
pub const DOCUMENT_SIZE_EXCEEDED: &str = "DOCUMENT_SIZE_EXCEEDED";
pub const UNSUPPORTED_ENCODING: &str = "UNSUPPORTED_ENCODING";
/// docclass's own code for a file that was listed but could not be read.
pub const UNREADABLE_FILE: &str = "UNREADABLE_FILE";

/// Target size of one work unit.
pub const UNIT_BYTES: usize = 1 << 20;
const UNIT_MAX_FILES: usize = 512;

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
    pub max_file_bytes: u64,
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
            return Err(Error::param(
                "--shard-index/--shard-count",
                format!("expected 0 <= index < count, got index {index} of count {count}"),
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
            style: JsonStyle::Compact,
            file_line: FileLine::Zero,
            compression_level: 6,
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
                "--on-invalid-utf8",
                "classification takes skip-rest, skip-document or lossy",
            ));
        }
        if self.max_line_bytes == 0 || self.max_file_bytes == 0 {
            return Err(Error::param(
                "--max-line-bytes/--max-file-bytes",
                "expected at least 1",
            ));
        }
        if self.compression_level > 9 {
            return Err(Error::param(
                "--compression-level",
                format!("expected 0-9, got {}", self.compression_level),
            ));
        }
        if let Some(name) = &self.job_name {
            let ok = !name.is_empty()
                && name.chars().count() <= 256
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-%@".contains(c));
            if !ok {
                return Err(Error::param(
                    "--job-name",
                    format!("expected 1-256 letters, digits, spaces or _.:/=+-%@, got '{name}'"),
                ));
            }
        }
        uri::check(&self.input_uri, self.s3_root.as_deref())?;
        uri::check(&self.output_uri, self.s3_root.as_deref())?;
        Ok(())
    }
}

/// Progress of a running job, reported after every wave.
#[derive(Debug, Clone, Copy, Default)]
pub struct JobProgress {
    pub documents: u64,
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub elapsed: f64,
}

/// Read-only state every worker shares.
struct Context<'a> {
    classifier: &'a Classifier,
    format: JsonlFormat,
    files: &'a [uri::InputFile],
    file_json: Vec<String>,
    cfg: &'a ClassifyConfig,
}

/// One unit of work.
enum Unit {
    Lines {
        file: usize,
        data: Arc<FileBytes>,
        range: Range<usize>,
        first_line: u64,
        skip: bool,
    },
    Files(Range<usize>),
    /// Whole small files of a ONE_DOC_PER_LINE job, together, so a million tiny files do not
    /// cost a million units.
    LineFiles(Range<usize>),
    Unreadable {
        file: usize,
        message: String,
    },
    /// A streamed line over the size limit, known only by its length.
    LongLine {
        file: usize,
        bytes: u64,
        line: u64,
        skip: bool,
    },
    /// The rest of a mapped file that shrank while the job read it.
    Changed {
        file: usize,
        line: u64,
        skip: bool,
    },
}

/// The message of the record for a file that shrank while it was read.
const FILE_CHANGED: &str =
    "The file changed (it was truncated or rewritten) while the job read it; \
     this document and the rest of the file were not classified. Rerun the job once the file is \
     complete.";

/// Per-worker buffers, reused across documents and, through the pool in `classify_into`,
/// across waves, so memory stays flat however long the job runs.
#[derive(Default)]
struct Worker {
    deflater: Option<Deflater>,
    scratch: ScoreScratch,
    probs: Vec<f64>,
    ranked: Vec<u32>,
    out: Vec<u8>,
    predictions: u64,
    errors: u64,
    fatal: Option<Error>,
}

struct UnitOutput {
    chunk: CompressedChunk,
    predictions: u64,
    errors: u64,
    bytes: u64,
    /// The file whose change this unit reports; only the first such unit of a file is kept.
    changed_file: Option<usize>,
    /// An S3 object that could not be read: the job fails (see `Planner::failure`).
    fatal: Option<Error>,
}

impl Worker {
    fn classify(&mut self, ctx: &Context, file: usize, line: Option<u64>, text: &str) {
        let c = ctx.classifier;
        c.probabilities_into(text, &mut self.scratch, &mut self.probs);
        rank_into(c.model.mode(), &self.probs, &mut self.ranked);
        ctx.format.push_prediction(
            &mut self.out,
            &ctx.file_json[file],
            line,
            &self.ranked,
            &self.probs,
        );
        self.predictions += 1;
    }

    fn error(&mut self, ctx: &Context, file: usize, line: Option<u64>, code: &str, message: &str) {
        ctx.format
            .push_error(&mut self.out, &ctx.file_json[file], line, code, message);
        self.errors += 1;
    }

    /// Handles one document's bytes; returns false when the rest of the file must be skipped.
    fn document(
        &mut self,
        ctx: &Context,
        file: usize,
        line: Option<u64>,
        bytes: &[u8],
        limit: u64,
    ) -> bool {
        if bytes.len() as u64 > limit {
            self.too_large(ctx, file, line, limit);
            return true;
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => self.classify(ctx, file, line, text),
            Err(_) => match ctx.cfg.utf8 {
                Utf8Policy::Lossy => {
                    let text = String::from_utf8_lossy(bytes);
                    self.classify(ctx, file, line, &text);
                }
                Utf8Policy::SkipRest if ctx.cfg.split == SplitMode::OnePerLine => {
                    let msg =
                        "Document is not in UTF-8 format and all subsequent lines are ignored.";
                    self.error(ctx, file, line, UNSUPPORTED_ENCODING, msg);
                    return false;
                }
                _ => self.error(
                    ctx,
                    file,
                    line,
                    UNSUPPORTED_ENCODING,
                    "Document is not in UTF-8 format.",
                ),
            },
        }
        true
    }

    /// Drops what was produced since `mark` (output length, predictions, errors): it may have
    /// been read from zero pages of a file that shrank.
    fn roll_back(&mut self, mark: (usize, u64, u64)) {
        self.out.truncate(mark.0);
        self.predictions = mark.1;
        self.errors = mark.2;
    }

    fn mark(&self) -> (usize, u64, u64) {
        (self.out.len(), self.predictions, self.errors)
    }

    /// Comprehend's record for a document over the size limit.
    fn too_large(&mut self, ctx: &Context, file: usize, line: Option<u64>, limit: u64) {
        let msg = format!("Document size exceeds maximum size limit {limit} bytes.");
        self.error(ctx, file, line, DOCUMENT_SIZE_EXCEEDED, &msg);
    }

    /// A listed file that could not be read: an S3 object fails the job (a rerun will most
    /// likely read it, and error records would lose its documents); a local file gets an error
    /// record and the job goes on.
    fn unreadable(&mut self, ctx: &Context, file: usize, line: Option<u64>, e: std::io::Error) {
        let info = &ctx.files[file];
        if info.remote.is_some() {
            self.fatal = Some(Error::io(&info.path, e));
        } else {
            let msg = format!("The file could not be read: {e}.");
            self.error(ctx, file, line, UNREADABLE_FILE, &msg);
        }
    }

    /// The documents of `chunk`, whole lines of `file` whose first is line `first_line`.
    fn lines(&mut self, ctx: &Context, file: usize, chunk: &[u8], first_line: u64) {
        for (i, span) in LineIter::new(chunk).enumerate() {
            let doc = &chunk[span.start..span.end];
            if doc.is_empty() {
                continue;
            }
            let line = Some(first_line + i as u64);
            if !self.document(ctx, file, line, doc, ctx.cfg.max_line_bytes) {
                break;
            }
        }
    }

    fn run(&mut self, ctx: &Context, unit: &Unit) -> UnitOutput {
        self.out.clear();
        self.predictions = 0;
        self.errors = 0;
        let mut bytes = 0u64;
        let mut changed_file = None;
        match unit {
            Unit::Lines {
                file,
                data,
                range,
                first_line,
                skip,
            } => {
                if !*skip {
                    let chunk = &data[range.clone()];
                    bytes = chunk.len() as u64;
                    self.lines(ctx, *file, chunk, *first_line);
                    if data.changed() {
                        self.roll_back((0, 0, 0));
                        let line = Some(*first_line);
                        self.error(ctx, *file, line, UNREADABLE_FILE, FILE_CHANGED);
                        changed_file = Some(*file);
                    }
                }
            }
            Unit::LineFiles(files) => {
                for f in files.clone() {
                    let info = &ctx.files[f];
                    match info.read(MmapChoice::Never) {
                        Ok(data) => {
                            bytes += data.len() as u64;
                            self.lines(ctx, f, &data, 0);
                        }
                        Err(e) => self.unreadable(ctx, f, None, e),
                    }
                }
            }
            Unit::Files(files) => {
                let line = match ctx.cfg.file_line {
                    FileLine::Zero => Some(0),
                    FileLine::Omit => None,
                };
                for f in files.clone() {
                    let info = &ctx.files[f];
                    if info.len > ctx.cfg.max_file_bytes {
                        self.too_large(ctx, f, line, ctx.cfg.max_file_bytes);
                        continue;
                    }
                    match info.read(ctx.cfg.mmap) {
                        Ok(data) => {
                            bytes += data.len() as u64;
                            let mark = self.mark();
                            if !data.is_empty() {
                                self.document(ctx, f, line, &data, ctx.cfg.max_file_bytes);
                            }
                            if data.changed() {
                                self.roll_back(mark);
                                let msg = "The file changed (it was truncated or rewritten) \
                                    while the job read it, so it was not classified. Rerun the \
                                    job once the file is complete.";
                                self.error(ctx, f, line, UNREADABLE_FILE, msg);
                            }
                        }
                        Err(e) => self.unreadable(ctx, f, line, e),
                    }
                }
            }
            Unit::Unreadable { file, message } => {
                self.error(ctx, *file, None, UNREADABLE_FILE, message);
            }
            Unit::LongLine {
                file,
                bytes: n,
                line,
                skip,
            } => {
                if !*skip {
                    bytes = *n;
                    self.too_large(ctx, *file, Some(*line), ctx.cfg.max_line_bytes);
                }
            }
            Unit::Changed { file, line, skip } => {
                if !*skip {
                    self.error(ctx, *file, Some(*line), UNREADABLE_FILE, FILE_CHANGED);
                    changed_file = Some(*file);
                }
            }
        }
        let level = ctx.cfg.compression_level;
        let deflater = match &mut self.deflater {
            Some(d) if d.level() == level => d,
            slot => slot.insert(Deflater::new(level)),
        };
        UnitOutput {
            chunk: CompressedChunk::compress_with(deflater, &self.out),
            predictions: self.predictions,
            errors: self.errors,
            bytes,
            changed_file,
            fatal: self.fatal.take(),
        }
    }
}

/// A worker borrowed from the pool for one rayon task, returned when the task ends.
struct Pooled<'a> {
    worker: Option<Worker>,
    pool: &'a Mutex<Vec<Worker>>,
}

impl<'a> Pooled<'a> {
    fn take(pool: &'a Mutex<Vec<Worker>>) -> Self {
        let worker = pool
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_default();
        Pooled {
            worker: Some(worker),
            pool,
        }
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(w) = self.worker.take() {
            self.pool.lock().unwrap_or_else(|e| e.into_inner()).push(w);
        }
    }
}

/// What the next unit of a file held whole is.
enum MappedPiece {
    /// Whole lines from the start to the returned end.
    Lines,
    /// One line over the size limit, of this many bytes (terminator excluded).
    LongLine(u64),
}

/// The next unit of `data` from `start` (see `split::next_cut`); a line over `max_line` is
/// measured in blocks whose pages are released as the scan passes them, so even a line of
/// gigabytes never makes the process hold it.
fn next_mapped_piece(
    data: &FileBytes,
    start: usize,
    target: usize,
    max_line: u64,
) -> (MappedPiece, usize) {
    if let Cut::Lines(end) = next_cut(data, start, target, max_line) {
        return (MappedPiece::Lines, end);
    }
    const BLOCK: usize = 8 << 20;
    let len = data.len();
    let mut pos = start;
    loop {
        let stop = pos.saturating_add(BLOCK).min(len);
        match memchr::memchr2(b'\n', b'\r', &data[pos..stop]) {
            Some(off) => {
                let p = pos + off;
                data.release(start..p);
                return (
                    MappedPiece::LongLine((p - start) as u64),
                    after_terminator(data, p),
                );
            }
            None if stop == len => {
                data.release(start..len);
                return (MappedPiece::LongLine((len - start) as u64), len);
            }
            None => {
                data.release(pos..stop);
                pos = stop;
            }
        }
    }
}

/// True when the chunk holds a line that Comprehend's rule would stop the file at.
fn has_undecodable_line(chunk: &[u8], max_line: u64) -> bool {
    if std::str::from_utf8(chunk).is_ok() {
        return false;
    }
    LineIter::new(chunk).any(|s| {
        let l = &chunk[s.start..s.end];
        !l.is_empty() && l.len() as u64 <= max_line && std::str::from_utf8(l).is_err()
    })
}

/// Lazily produces units in input order, each with the offset of its first byte in the
/// concatenation of the listed files (what shards are cut by).
struct Planner<'a> {
    cfg: &'a ClassifyConfig,
    files: &'a [uri::InputFile],
    /// Offset of each file in the concatenation of all files.
    file_start: Vec<u64>,
    next_file: usize,
    pending: std::collections::VecDeque<(u64, Unit)>,
    /// A file being read in chunks (not mapped), with its index.
    stream: Option<(usize, LineChunkReader)>,
    /// A file held whole (mapped or small), with its index and the next unit's start.
    mapped: Option<(usize, Arc<FileBytes>, usize)>,
    /// Files ending at or before this offset hold no unit of this shard and are not opened.
    skip_before: u64,
    /// An S3 object that could not be read (after retries): the job fails rather than lose
    /// the rest of the object to an error record, since a rerun will most likely read it.
    failure: Option<Error>,
}

impl<'a> Planner<'a> {
    fn new(cfg: &'a ClassifyConfig, files: &'a [uri::InputFile], skip_before: u64) -> Self {
        let file_start = files
            .iter()
            .scan(0u64, |at, f| {
                let start = *at;
                *at += f.len;
                Some(start)
            })
            .collect();
        Planner {
            cfg,
            files,
            file_start,
            next_file: 0,
            pending: Default::default(),
            stream: None,
            mapped: None,
            skip_before,
            failure: None,
        }
    }

    /// Takes the next files into one unit: at least one, then more while they are `size`d (not
    /// `None`), fewer than `UNIT_MAX_FILES`, and the unit is under `unit_bytes`. Decided by
    /// listed sizes alone, so every shard forms the same units.
    fn group(&mut self, size: impl Fn(&uri::InputFile) -> Option<u64>) -> Range<usize> {
        let start = self.next_file;
        let mut bytes = 0u64;
        while self.next_file < self.files.len()
            && self.next_file - start < UNIT_MAX_FILES
            && (bytes < self.cfg.unit_bytes as u64 || self.next_file == start)
        {
            let Some(n) = size(&self.files[self.next_file]) else {
                break;
            };
            bytes += n;
            self.next_file += 1;
        }
        start..self.next_file
    }

    fn next_unit(&mut self) -> Option<(u64, Unit)> {
        if let Some(u) = self.pending.pop_front() {
            return Some(u);
        }
        if self.next_file >= self.files.len() && self.stream.is_none() && self.mapped.is_none() {
            return None;
        }
        match self.cfg.split {
            SplitMode::OnePerFile => {
                let max = self.cfg.max_file_bytes;
                let files = self.group(|f| Some(f.len.min(max)));
                Some((self.file_start[files.start], Unit::Files(files)))
            }
            SplitMode::OnePerLine => {
                // Cut a mapped file one unit at a time, so planning never touches pages ahead.
                if let Some((f, data, start)) = &mut self.mapped {
                    let at = self.file_start[*f] + *start as u64;
                    if *start < data.len() && data.changed() {
                        // Stop cutting a file that shrank: its remaining pages are gone.
                        let unit = Unit::Changed {
                            file: *f,
                            line: 0,
                            skip: false,
                        };
                        self.mapped = None;
                        return Some((at, unit));
                    }
                    if *start < data.len() {
                        let (piece, end) = next_mapped_piece(
                            data,
                            *start,
                            self.cfg.unit_bytes,
                            self.cfg.max_line_bytes,
                        );
                        let unit = match piece {
                            MappedPiece::Lines => Unit::Lines {
                                file: *f,
                                data: Arc::clone(data),
                                range: *start..end,
                                first_line: 0,
                                skip: false,
                            },
                            MappedPiece::LongLine(bytes) => Unit::LongLine {
                                file: *f,
                                bytes,
                                line: 0,
                                skip: false,
                            },
                        };
                        *start = end;
                        return Some((at, unit));
                    }
                    self.mapped = None;
                    return self.next_unit();
                }
                if let Some((f, reader)) = &mut self.stream {
                    let f = *f;
                    let at = self.file_start[f] + reader.position();
                    match reader.next_chunk(self.cfg.unit_bytes, self.cfg.max_line_bytes) {
                        Ok(Some(Chunk::Lines(chunk))) => {
                            let range = 0..chunk.len();
                            return Some((
                                at,
                                Unit::Lines {
                                    file: f,
                                    data: Arc::new(FileBytes::Owned(chunk)),
                                    range,
                                    first_line: 0,
                                    skip: false,
                                },
                            ));
                        }
                        Ok(Some(Chunk::LongLine(bytes))) => {
                            return Some((
                                at,
                                Unit::LongLine {
                                    file: f,
                                    bytes,
                                    line: 0,
                                    skip: false,
                                },
                            ))
                        }
                        Ok(None) => self.stream = None,
                        Err(e) if self.files[f].remote.is_some() => {
                            self.stream = None;
                            self.failure = Some(Error::io(&self.files[f].path, e));
                            return None;
                        }
                        Err(e) => {
                            self.stream = None;
                            let message = format!("The file could not be read to its end: {e}.");
                            return Some((at, Unit::Unreadable { file: f, message }));
                        }
                    }
                    return self.next_unit();
                }
                let f = self.next_file;
                let unit = self.cfg.unit_bytes as u64;
                if self.files[f].len <= unit {
                    // Files small enough to be one unit each are grouped; they are read by the
                    // worker.
                    let files = self.group(|f| (f.len <= unit).then_some(f.len));
                    return Some((self.file_start[f], Unit::LineFiles(files)));
                }
                self.next_file += 1;
                if self.file_start[f] + self.files[f].len <= self.skip_before {
                    return self.next_unit();
                }
                match open_lines(&self.files[f], self.cfg) {
                    Ok(LineSource::Whole(data)) => self.mapped = Some((f, Arc::new(data), 0)),
                    Ok(LineSource::Stream(reader)) => self.stream = Some((f, reader)),
                    Err(e) if self.files[f].remote.is_some() => {
                        self.failure = Some(Error::io(&self.files[f].path, e));
                        return None;
                    }
                    Err(e) => self.pending.push_back((
                        self.file_start[f],
                        Unit::Unreadable {
                            file: f,
                            message: format!("The file could not be read: {e}."),
                        },
                    )),
                }
                self.next_unit()
            }
        }
    }
}

/// Opens a ONE_DOC_PER_LINE file for the planner.
fn open_lines(file: &uri::InputFile, cfg: &ClassifyConfig) -> std::io::Result<LineSource> {
    file.lines(cfg.mmap, cfg.unit_bytes)
}

/// Runs the hot path: classifies every document under the listing into the archive at `dest`.
pub fn classify_into(
    cfg: &ClassifyConfig,
    classifier: &Classifier,
    listing: &Listing,
    dest: &Path,
    on_progress: &mut dyn FnMut(&JobProgress),
    cancel: &AtomicBool,
) -> Result<JobCounts> {
    let started = Instant::now();
    let mut archive = ArchiveWriter::create(dest, cfg.compression_level, &cfg.job_id)?;
    let mut counts = run_units(cfg, classifier, listing, &mut archive, on_progress, cancel)?;
    counts.output_bytes = archive.finish(cfg.mtime.unwrap_or_else(aws::now_secs))?;
    counts.seconds = started.elapsed().as_secs_f64();
    Ok(counts)
}

/// Runs this process's shard (`cfg.shard`) of a job into the part file `dest`.
pub fn classify_part(
    cfg: &ClassifyConfig,
    classifier: &Classifier,
    listing: &Listing,
    dest: &Path,
    on_progress: &mut dyn FnMut(&JobProgress),
    cancel: &AtomicBool,
) -> Result<(JobCounts, PartInfo)> {
    let started = Instant::now();
    let mut part = ArchiveWriter::create_part(dest, cfg.compression_level, &cfg.job_id)?;
    let mut counts = run_units(cfg, classifier, listing, &mut part, on_progress, cancel)?;
    let info = part.finish_part()?;
    counts.output_bytes = info.deflated_bytes;
    counts.seconds = started.elapsed().as_secs_f64();
    Ok((counts, info))
}

/// Plans, scores and appends every unit of the job (or of its shard) to `archive`, in order.
fn run_units(
    cfg: &ClassifyConfig,
    classifier: &Classifier,
    listing: &Listing,
    archive: &mut ArchiveWriter,
    on_progress: &mut dyn FnMut(&JobProgress),
    cancel: &AtomicBool,
) -> Result<JobCounts> {
    let started = Instant::now();
    let files = &listing.files;
    let ctx = Context {
        classifier,
        format: JsonlFormat::new(
            cfg.style,
            cfg.file_line,
            classifier.model.mode(),
            classifier.model.labels(),
        ),
        files,
        file_json: files.iter().map(|f| json_string(&f.key)).collect(),
        cfg,
    };
    let total = listing.total_bytes();
    // Units are owned by the shard whose byte range holds their first byte. Every shard plans
    // the same units (the cuts do not depend on the shard), so the parts splice into exactly
    // the archive one process writes.
    let (lo, hi) = cfg.shard.map_or((0, u64::MAX), |s| s.bounds(total));
    let mut planner = Planner::new(cfg, files, lo);
    let mut owned: Vec<bool> = Vec::new();
    let mut planned_all = false;
    let wave_len = (rayon::current_num_threads() * 4).max(8);
    // Per-file numbering state for line chunks: (next line number, rest of file skipped).
    let mut line_state: Vec<(u64, bool)> = vec![(0, false); files.len()];
    let mut change_reported = vec![false; files.len()];
    let mut counts = JobCounts {
        files: files.len() as u64,
        skipped_paths: listing
            .skipped
            .iter()
            .map(|(p, why)| format!("{}: {why}", p.display()))
            .collect(),
        ..JobCounts::default()
    };
    let pool: Mutex<Vec<Worker>> = Mutex::new(Vec::new());
    let mut wave: Vec<Unit> = Vec::with_capacity(wave_len);
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        wave.clear();
        owned.clear();
        while wave.len() < wave_len && !planned_all {
            match planner.next_unit() {
                Some((at, u)) if at < hi => {
                    owned.push(at >= lo);
                    wave.push(u);
                }
                _ => planned_all = true,
            }
        }
        if let Some(e) = planner.failure.take() {
            return Err(e);
        }
        if wave.is_empty() {
            break;
        }
        if cfg.split == SplitMode::OnePerLine {
            let skip_rest = cfg.utf8 == Utf8Policy::SkipRest;
            let scans: Vec<(u64, bool)> = wave
                .par_iter()
                .map(|u| match u {
                    Unit::Lines { data, range, .. } => {
                        let chunk = &data[range.clone()];
                        (
                            count_lines(chunk),
                            skip_rest && has_undecodable_line(chunk, cfg.max_line_bytes),
                        )
                    }
                    Unit::LongLine { .. } => (1, false),
                    _ => (0, false),
                })
                .collect();
            for (u, (n, bad)) in wave.iter_mut().zip(scans) {
                let (file, first_line, skip) = match u {
                    Unit::Lines {
                        file,
                        first_line,
                        skip,
                        ..
                    } => (file, first_line, skip),
                    Unit::LongLine {
                        file, line, skip, ..
                    }
                    | Unit::Changed { file, line, skip } => (file, line, skip),
                    _ => continue,
                };
                let state = &mut line_state[*file];
                *first_line = state.0;
                *skip = state.1;
                state.0 += n;
                state.1 |= bad;
            }
        }
        let outputs: Vec<Option<UnitOutput>> = wave
            .par_iter()
            .zip(owned.par_iter())
            .map_init(
                || Pooled::take(&pool),
                |w, (u, &mine)| w.worker.as_mut().map(|w| mine.then(|| w.run(&ctx, u))),
            )
            .collect::<Option<Vec<_>>>()
            .expect("every pooled worker is present");
        for u in &wave {
            if let Unit::Lines { data, range, .. } = u {
                data.release(range.clone());
            }
        }
        for (u, o) in wave.iter().zip(outputs) {
            // Units before this shard's range were planned only to number lines.
            let Some(o) = o else { continue };
            if let Some(e) = o.fatal {
                return Err(e);
            }
            // After the first unit that reports a file's change, nothing more of that file.
            if let Unit::Lines { file, .. }
            | Unit::LongLine { file, .. }
            | Unit::Changed { file, .. } = u
            {
                if change_reported[*file] {
                    continue;
                }
                change_reported[*file] = o.changed_file == Some(*file);
            }
            archive.append(&o.chunk)?;
            counts.predictions += o.predictions;
            counts.errors += o.errors;
            counts.bytes += o.bytes;
        }
        on_progress(&JobProgress {
            documents: counts.predictions + counts.errors,
            bytes_done: counts.bytes,
            bytes_total: total,
            elapsed: started.elapsed().as_secs_f64(),
        });
    }
    counts.documents = counts.predictions + counts.errors;
    Ok(counts)
}

/// Loads the job's model and lists its input; no input at all is an error.
pub fn model_and_input(cfg: &ClassifyConfig, model_dir: &Path) -> Result<(Classifier, Listing)> {
    let classifier = Classifier::load(model_dir)?;
    let listing = uri::list_under(&cfg.input_uri, cfg.s3_root.as_deref())?;
    if listing.files.is_empty() {
        return Err(Error::NoInput(cfg.input_uri.clone()));
    }
    Ok((classifier, listing))
}

/// The classifier ARN a model answers to: its recorded ARN, or one built from its name.
pub fn classifier_arn(model_dir: &Path, classifier: &Classifier, identity: &Identity) -> String {
    ClassifierRecord::load(model_dir)
        .map(|r| r.document_classifier_arn)
        .unwrap_or_else(|_| {
            identity.classifier_arn(
                &classifier.meta.name,
                classifier.meta.version_name.as_deref(),
            )
        })
}

/// Creates and stores a job's SUBMITTED record, after checking the config and the model.
pub fn submit(cfg: &ClassifyConfig, model_dir: &Path, store: &JobStore) -> Result<JobRecord> {
    cfg.validate()?;
    if store.exists(&cfg.job_id) {
        return Err(store.taken(&cfg.job_id));
    }
    let classifier = Classifier::load(model_dir)?;
    let record = JobRecord {
        job_id: cfg.job_id.clone(),
        job_arn: cfg.identity.job_arn(&cfg.job_id),
        job_name: cfg.job_name.clone(),
        job_status: JobStatus::Submitted,
        message: None,
        submit_time: aws::now_epoch(),
        end_time: None,
        document_classifier_arn: classifier_arn(model_dir, &classifier, &cfg.identity),
        input_data_config: InputDataConfig {
            s3_uri: cfg.input_uri.clone(),
            input_format: cfg.split.as_str().into(),
        },
        output_data_config: OutputDataConfig {
            s3_uri: cfg.output_uri.clone(),
        },
        data_access_role_arn: None,
        docclass: DocclassInfo {
            pid: None,
            model_path: model_dir.display().to_string(),
            threads: rayon::current_num_threads(),
            ..DocclassInfo::default()
        },
    };
    store.create(&record)?;
    Ok(record)
}

/// Runs a submitted job: IN_PROGRESS, then COMPLETED (OutputDataConfig.S3Uri rewritten to the
/// archive) or FAILED with the reason in `Message` (STOPPED when cancelled).
pub fn execute(
    cfg: &ClassifyConfig,
    model_dir: &Path,
    store: &JobStore,
    mut record: JobRecord,
    on_progress: &mut dyn FnMut(&JobProgress),
    cancel: &AtomicBool,
) -> Result<JobRecord> {
    // Held until this function returns: other processes reading the store see the job as
    // running exactly while this lock is held (the OS drops it when the process dies).
    let _running = store.lock_running(&cfg.job_id)?;
    let target = Target::new(&cfg.archive_uri(), cfg.s3_root.as_deref(), &cfg.job_id);
    record.job_status = JobStatus::InProgress;
    record.docclass.pid = Some(std::process::id());
    record.docclass.temp_output = target.as_ref().ok().map(|t| {
        ArchiveWriter::temp_path_for(t.path(), &cfg.job_id)
            .display()
            .to_string()
    });
    store.save(&record)?;
    let result = (|| {
        let target = target?;
        let (classifier, listing) = model_and_input(cfg, model_dir)?;
        target.produce(|dest| classify_into(cfg, &classifier, &listing, dest, on_progress, cancel))
    })();
    record.end_time = Some(aws::now_epoch());
    record.docclass.pid = None;
    record.docclass.temp_output = None;
    match result {
        Ok(counts) => {
            record.job_status = JobStatus::Completed;
            record.output_data_config.s3_uri = cfg.archive_uri();
            record.docclass.counts = counts;
            store.save(&record)?;
            Ok(record)
        }
        Err(e) => {
            record.job_status = match e {
                Error::Cancelled => JobStatus::Stopped,
                _ => JobStatus::Failed,
            };
            record.message = Some(e.to_string());
            store.save(&record)?;
            Err(e)
        }
    }
}

/// Runs a whole job in the foreground: `submit`, then `execute`.
pub fn run_job(
    cfg: &ClassifyConfig,
    model_dir: &Path,
    store: &JobStore,
    on_progress: &mut dyn FnMut(&JobProgress),
    cancel: &AtomicBool,
) -> Result<JobRecord> {
    let record = submit(cfg, model_dir, store)?;
    execute(cfg, model_dir, store, record, on_progress, cancel)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::archive::MEMBER_NAME;
    use proptest::prelude::*;
    use std::io::Read;

    fn shipped() -> Classifier {
        Classifier::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("models/spam-ham")).unwrap()
    }

    /// (line number, outcome) of every output line, read back from the archive.
    fn outcomes(archive: &Path) -> Vec<(u64, String)> {
        let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(
            std::fs::File::open(archive).unwrap(),
        ));
        let mut e = ar.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(e.path().unwrap().to_str(), Some(MEMBER_NAME));
        let mut text = String::new();
        e.read_to_string(&mut text).unwrap();
        text.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let line = v["Line"].as_str().unwrap().parse().unwrap();
                let kind = v
                    .get("ErrorCode")
                    .and_then(|c| c.as_str())
                    .unwrap_or("ok")
                    .to_string();
                (line, kind)
            })
            .collect()
    }

    /// What the contract says the output must be, computed line by line.
    fn expected(data: &[u8], utf8: Utf8Policy, max_line: u64) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        for (i, span) in LineIter::new(data).enumerate() {
            let doc = &data[span.start..span.end];
            if doc.is_empty() {
                continue;
            }
            if doc.len() as u64 > max_line {
                out.push((i as u64, DOCUMENT_SIZE_EXCEEDED.to_string()));
            } else if std::str::from_utf8(doc).is_err() && utf8 != Utf8Policy::Lossy {
                out.push((i as u64, UNSUPPORTED_ENCODING.to_string()));
                if utf8 == Utf8Policy::SkipRest {
                    break;
                }
            } else {
                out.push((i as u64, "ok".to_string()));
            }
        }
        out
    }

    proptest! {
        // Pieces of a file held whole give every line once, in order; only lines over the limit
        // come out as lengths.
        #[test]
        fn mapped_pieces_cover_every_line(data in proptest::collection::vec(
            prop_oneof![Just(b'a'), Just(b'a'), Just(b'a'), Just(b'\n'), Just(b'\r')], 0..3000),
            target in 1usize..50, max_line in 0u64..30) {
            let bytes = FileBytes::Owned(data.clone());
            let mut lengths = Vec::new();
            let mut start = 0;
            while start < data.len() {
                let (piece, end) = next_mapped_piece(&bytes, start, target, max_line);
                prop_assert!(end > start);
                match piece {
                    MappedPiece::Lines => lengths.extend(
                        LineIter::new(&data[start..end]).map(|l| (l.end - l.start) as u64)),
                    MappedPiece::LongLine(n) => {
                        prop_assert!(n > max_line);
                        lengths.push(n);
                    }
                }
                start = end;
            }
            let whole: Vec<u64> = LineIter::new(&data).map(|l| (l.end - l.start) as u64).collect();
            prop_assert_eq!(lengths, whole);
        }
    }

    #[test]
    fn vanished_empty_and_nul_files_each_get_their_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        std::fs::write(p("a-nul.txt"), b"win\0a prize\n\0\n").unwrap();
        std::fs::write(p("b-empty.txt"), b"").unwrap();
        std::fs::write(p("c-gone.txt"), b"listed, then deleted\n").unwrap();
        std::fs::write(p("d-last.txt"), b"see you at lunch\n").unwrap();
        for split in [SplitMode::OnePerLine, SplitMode::OnePerFile] {
            std::fs::write(p("c-gone.txt"), b"listed, then deleted\n").unwrap();
            let prefix = format!("{}/", dir.path().display());
            let listing = uri::list(&prefix).unwrap();
            assert_eq!(listing.files.len(), 4);
            std::fs::remove_file(p("c-gone.txt")).unwrap();
            let cfg = ClassifyConfig::new(&prefix, split, "out/", "f00d", Identity::default());
            let out = tempfile::tempdir().unwrap();
            let dest = out.path().join("out.tar.gz");
            let counts = classify_into(
                &cfg,
                &shipped(),
                &listing,
                &dest,
                &mut |_| {},
                &AtomicBool::new(false),
            )
            .unwrap();
            let mut text = String::new();
            tar::Archive::new(flate2::read::GzDecoder::new(
                std::fs::File::open(&dest).unwrap(),
            ))
            .entries()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
            let lines: Vec<serde_json::Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            let files: Vec<&str> = lines.iter().map(|l| l["File"].as_str().unwrap()).collect();
            let gone: Vec<&serde_json::Value> =
                lines.iter().filter(|l| l["File"] == "c-gone.txt").collect();
            assert_eq!(gone.len(), 1, "{split:?}: {text}");
            assert_eq!(gone[0]["ErrorCode"], UNREADABLE_FILE);
            assert!(gone[0]["ErrorMessage"]
                .as_str()
                .unwrap()
                .contains("could not be read"));
            assert_eq!(
                files.last(),
                Some(&"d-last.txt"),
                "the job goes on after it"
            );
            assert!(
                !files.contains(&"b-empty.txt"),
                "an empty file holds no document"
            );
            // NUL is a valid UTF-8 character: classified, and escaped as Python's json does.
            assert!(text.contains(r#""File": "a-nul.txt""#));
            assert!(lines
                .iter()
                .filter(|l| l["File"] == "a-nul.txt")
                .all(|l| l.get("Classes").is_some()));
            assert_eq!(counts.errors, 1);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        // Shards of a job, spliced in order, are byte for byte the archive of one process, for
        // any bytes, unit size, line limit and shard count: no document lost, none twice.
        #[test]
        fn spliced_shards_equal_one_process(
            files in proptest::collection::vec(proptest::collection::vec(
                prop_oneof![Just(b'a'), Just(b' '), Just(b'\n'), Just(b'\r'), Just(0xffu8), Just(b'7')],
                0..400), 1..4),
            unit in 1usize..120,
            max_line in 1u64..40,
            shards in 1usize..6,
            split_per_file in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir(dir.path().join("in")).unwrap();
            for (i, data) in files.iter().enumerate() {
                std::fs::write(dir.path().join(format!("in/{i}.txt")), data).unwrap();
            }
            let prefix = format!("{}/in/", dir.path().display());
            let split = if split_per_file { SplitMode::OnePerFile } else { SplitMode::OnePerLine };
            let mut cfg = ClassifyConfig::new(&prefix, split, "out/", "f00d", Identity::default());
            cfg.unit_bytes = unit;
            cfg.max_line_bytes = max_line;
            cfg.max_file_bytes = max_line * 4;
            cfg.mtime = Some(1);
            let listing = uri::list(&prefix).unwrap();
            let whole = dir.path().join("whole.tar.gz");
            let never = AtomicBool::new(false);
            classify_into(&cfg, &shipped(), &listing, &whole, &mut |_| {}, &never).unwrap();
            let spliced = dir.path().join("spliced.tar.gz");
            let mut archive = ArchiveWriter::create(&spliced, cfg.compression_level, "t").unwrap();
            for index in 0..shards {
                cfg.shard = Some(Shard::new(index, shards).unwrap());
                let part = dir.path().join(format!("part{index}"));
                let (_, info) = classify_part(&cfg, &shipped(), &listing, &part, &mut |_| {}, &never).unwrap();
                archive.append_part(&mut std::fs::File::open(&part).unwrap(), &info).unwrap();
            }
            archive.finish(1).unwrap();
            prop_assert!(std::fs::read(&whole).unwrap() == std::fs::read(&spliced).unwrap());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        // Whatever the bytes, every document comes out exactly once, in order, as a prediction or
        // an error record, under every encoding policy, unit size, I/O path and thread count.
        #[test]
        fn every_document_comes_out_exactly_once(
            data in proptest::collection::vec(
                prop_oneof![Just(b'a'), Just(b' '), Just(b'\n'), Just(b'\r'), Just(0xffu8), Just(0xc3u8), Just(0xa9u8), Just(b'7')],
                0..1500),
            unit in 1usize..200,
            max_line in 1u64..40,
            policy in 0usize..3,
            threads in 1usize..3,
            mmap_never in any::<bool>(),
        ) {
            let utf8 = [Utf8Policy::SkipRest, Utf8Policy::SkipDocument, Utf8Policy::Lossy][policy];
            let dir = tempfile::tempdir().unwrap();
            let input = dir.path().join("in.txt");
            std::fs::write(&input, &data).unwrap();
            let mut cfg = ClassifyConfig::new(input.to_str().unwrap(), SplitMode::OnePerLine, "out/", "f00d", Identity::default());
            cfg.utf8 = utf8;
            cfg.max_line_bytes = max_line;
            cfg.unit_bytes = unit;
            cfg.mmap = if mmap_never { MmapChoice::Never } else { MmapChoice::Auto };
            let listing = uri::list(input.to_str().unwrap()).unwrap();
            let dest = dir.path().join("out.tar.gz");
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let counts = pool
                .install(|| classify_into(&cfg, &shipped(), &listing, &dest, &mut |_| {}, &AtomicBool::new(false)))
                .unwrap();
            let got = outcomes(&dest);
            prop_assert_eq!(counts.documents as usize, got.len());
            prop_assert_eq!(got, expected(&data, utf8, max_line));
        }
    }
}
