//! The worker: turns one unit into its compressed piece of `predictions.jsonl`. For each
//! document it decides between a prediction and Comprehend's error record (size limit, encoding
//! rule, unreadable or changed file), scores through the classifier's one scoring path, writes
//! the JSON lines into a buffer and deflates them. Workers keep their buffers across units
//! (pooled by the driver), so memory stays flat however long the job runs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::config::ClassifyConfig;
use super::plan::Unit;
use crate::error::Error;
use crate::input::document::ocr::OcrError;
use crate::input::document::{self, Format, Opened, Page, Paged, Reader, TEXTRACT_BAD_PAGE};
use crate::input::split::LineIter;
use crate::input::{InputFile, MmapChoice, SplitMode, Utf8Policy};
use crate::model::{Classifier, ScoreScratch};
use crate::output::archive::{CompressedChunk, Deflater};
use crate::output::jsonl::{rank_into, FileLine, JsonlFormat, PageInfo};

/// Error codes written in place of a result.
pub const DOCUMENT_SIZE_EXCEEDED: &str = "DOCUMENT_SIZE_EXCEEDED";
pub const UNSUPPORTED_ENCODING: &str = "UNSUPPORTED_ENCODING";
/// docclass's own code for a file that was listed but could not be read.
pub const UNREADABLE_FILE: &str = "UNREADABLE_FILE";

/// The message of the record for a line file that shrank while it was read.
pub const FILE_CHANGED: &str =
    "The file changed (it was truncated or rewritten) while the job read it; \
     this document and the rest of the file were not classified. Rerun the job once the file is \
     complete.";

/// The message of the record for a whole-file document that shrank while it was read.
const DOCUMENT_CHANGED: &str = "The file changed (it was truncated or rewritten) while the job \
    read it, so it was not classified. Rerun the job once the file is complete.";

/// What the workers have done so far: advanced as units finish (and, for documents, page by
/// page, since one scanned page may take seconds), read by whoever reports progress. Line units
/// add their counts once at their end, so the hot path pays one atomic add per unit.
#[derive(Debug, Default)]
pub struct Live {
    /// Output lines: predictions and error records.
    pub documents: AtomicU64,
    /// Pages of PDF, Word, image and Textract documents.
    pub pages: AtomicU64,
    /// Files finished.
    pub files: AtomicU64,
    /// Input bytes read.
    pub bytes: AtomicU64,
    /// Why OCR could not run, once a page needed it (the job reports it once).
    pub ocr_unavailable: Mutex<Option<String>>,
}

impl Live {
    fn add(counter: &AtomicU64, n: u64) {
        if n > 0 {
            counter.fetch_add(n, Ordering::Relaxed);
        }
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Read-only state every worker shares.
pub struct Context<'a> {
    pub classifier: &'a Classifier,
    pub format: JsonlFormat,
    pub files: &'a [InputFile],
    /// Each file's key, already a JSON string.
    pub file_json: Vec<String>,
    pub cfg: &'a ClassifyConfig,
    /// Reads PDF, Word and image documents of ONE_DOC_PER_FILE jobs.
    pub reader: Reader,
    pub live: &'a Live,
}

/// What one unit produced.
pub struct UnitOutput {
    pub chunk: CompressedChunk,
    pub predictions: u64,
    pub errors: u64,
    pub bytes: u64,
    /// The file whose change this unit reports; only the first such unit of a file is kept.
    pub changed_file: Option<usize>,
    /// An S3 object that could not be read: the job fails (see `Planner::failure`).
    pub fatal: Option<Error>,
}

/// Per-worker buffers, reused across documents and units.
#[derive(Default)]
pub struct Worker {
    deflater: Option<Deflater>,
    scratch: ScoreScratch,
    probs: Vec<f64>,
    ranked: Vec<u32>,
    out: Vec<u8>,
    predictions: u64,
    errors: u64,
    /// Of this unit's lines, those already added to `Live` (document pages, as they finish).
    counted: u64,
    bytes: u64,
    changed_file: Option<usize>,
    fatal: Option<Error>,
}

impl Worker {
    /// Runs one unit: its documents' lines, deflated.
    pub fn run(&mut self, ctx: &Context, unit: &Unit) -> UnitOutput {
        self.out.clear();
        self.predictions = 0;
        self.errors = 0;
        self.bytes = 0;
        self.counted = 0;
        self.changed_file = None;
        let files_ended = match unit {
            Unit::Lines { data, range, .. } => u64::from(range.end == data.len()),
            Unit::LineFiles(files) | Unit::Files(files) => files.len() as u64,
            Unit::Unreadable { .. } | Unit::Changed { .. } => 1,
            Unit::LongLine { .. } => 0,
        };
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
                    self.bytes = chunk.len() as u64;
                    self.lines(ctx, *file, chunk, *first_line);
                    if data.changed() {
                        self.roll_back((0, 0, 0));
                        self.changed(ctx, *file, *first_line);
                    }
                    data.release(range.clone());
                }
            }
            Unit::LineFiles(files) => {
                for f in files.clone() {
                    self.line_file(ctx, f);
                }
            }
            Unit::Files(files) => {
                for f in files.clone() {
                    self.whole_file(ctx, f);
                }
            }
            Unit::Unreadable { file, message } => {
                self.error(ctx, *file, None, UNREADABLE_FILE, message);
            }
            Unit::LongLine {
                file,
                bytes,
                line,
                skip,
            } => {
                if !*skip {
                    self.bytes = *bytes;
                    self.too_large(ctx, *file, Some(*line), ctx.cfg.max_line_bytes);
                }
            }
            Unit::Changed { file, line, skip } => {
                if !*skip {
                    self.changed(ctx, *file, *line);
                }
            }
        }
        let live = ctx.live;
        Live::add(
            &live.documents,
            (self.predictions + self.errors).saturating_sub(self.counted),
        );
        Live::add(&live.bytes, self.bytes);
        Live::add(&live.files, files_ended);
        UnitOutput {
            chunk: CompressedChunk::compress_with(
                deflater(&mut self.deflater, ctx.cfg.compression_level),
                &self.out,
            ),
            predictions: self.predictions,
            errors: self.errors,
            bytes: self.bytes,
            changed_file: self.changed_file,
            fatal: self.fatal.take(),
        }
    }

    fn classify(&mut self, ctx: &Context, file: usize, line: Option<u64>, text: &str) {
        let c = ctx.classifier;
        c.probabilities_into(text, &mut self.scratch, &mut self.probs);
        rank_into(c.model().mode(), &self.probs, &mut self.ranked);
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

    /// Handles one document's bytes (`text`: the same bytes, when already known to be UTF-8);
    /// returns false when the rest of the file must be skipped.
    fn document(
        &mut self,
        ctx: &Context,
        file: usize,
        line: Option<u64>,
        bytes: &[u8],
        text: Option<&str>,
        limit: u64,
    ) -> bool {
        if bytes.len() as u64 > limit {
            self.too_large(ctx, file, line, limit);
            return true;
        }
        match text.map_or_else(|| std::str::from_utf8(bytes), Ok) {
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

    /// The record for a line file that changed from `line` on; the driver keeps only the
    /// first such record of a file.
    fn changed(&mut self, ctx: &Context, file: usize, line: u64) {
        self.error(ctx, file, Some(line), UNREADABLE_FILE, FILE_CHANGED);
        self.changed_file = Some(file);
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
        // Checked as UTF-8 once: lines end at ASCII bytes, so every line of a UTF-8 chunk is
        // UTF-8 (one check of the whole chunk costs less than one call per line). Only a chunk
        // with a bad byte is checked line by line, to find the lines it is in.
        let text = std::str::from_utf8(chunk).ok();
        for (i, span) in LineIter::new(chunk).enumerate() {
            let doc = &chunk[span.start..span.end];
            if doc.is_empty() {
                continue;
            }
            let line = Some(first_line + i as u64);
            let doc_text = text.and_then(|t| t.get(span.start..span.end));
            if !self.document(ctx, file, line, doc, doc_text, ctx.cfg.max_line_bytes) {
                break;
            }
        }
    }

    /// A small ONE_DOC_PER_LINE file, read whole.
    fn line_file(&mut self, ctx: &Context, f: usize) {
        match ctx.files[f].read(MmapChoice::Never) {
            Ok(data) => {
                self.bytes += data.len() as u64;
                self.lines(ctx, f, &data, 0);
            }
            Err(e) => self.unreadable(ctx, f, None, e),
        }
    }

    /// A ONE_DOC_PER_FILE document: the whole file, plain text or a semi-structured document
    /// (recognised by its first bytes, each format with its own size limit).
    fn whole_file(&mut self, ctx: &Context, f: usize) {
        let line = match ctx.cfg.file_line {
            FileLine::Zero => Some(0),
            FileLine::Omit => None,
        };
        let info = &ctx.files[f];
        if info.len > ctx.cfg.max_file_bytes {
            // Too big for text: read it only if it is a document within its own limit.
            let format = match info.head(1024) {
                Ok(head) => document::sniff(&head, &info.key),
                Err(e) => return self.unreadable(ctx, f, line, e),
            };
            if matches!(format, Format::Text | Format::Unsupported(_)) {
                return self.too_large(ctx, f, line, ctx.cfg.max_file_bytes);
            }
        }
        let data = match info.read(ctx.cfg.mmap) {
            Ok(data) => Arc::new(data),
            Err(e) => return self.unreadable(ctx, f, line, e),
        };
        self.bytes += data.len() as u64;
        let mark = self.mark();
        if !data.is_empty() {
            match ctx.reader.open(Arc::clone(&data), &info.key) {
                Opened::Text => {
                    self.document(ctx, f, line, &data, None, ctx.cfg.max_file_bytes);
                }
                Opened::Refused(failure) => {
                    ctx.format.push_document_error(
                        &mut self.out,
                        &ctx.file_json[f],
                        failure.code,
                        &failure.message,
                    );
                    self.errors += 1;
                }
                Opened::Document(doc) => self.pages(ctx, f, doc.as_ref()),
            }
        }
        if data.changed() {
            self.roll_back(mark);
            self.error(ctx, f, line, UNREADABLE_FILE, DOCUMENT_CHANGED);
        }
    }

    /// Every page of a document, a range at a time in parallel (so a long document never sits
    /// whole in memory as text or images), written in page order. Ranges grow with the square
    /// root of the page count: each range costs a fresh parse of the document's page tree, and
    /// holds only its own pages.
    fn pages(&mut self, ctx: &Context, f: usize, doc: &dyn Paged) {
        let count = doc.page_count();
        let batch = (rayon::current_num_threads() as u32 * 8)
            .max(4 * (count as f64).sqrt() as u32)
            .max(8);
        let mut first = 1;
        while first <= count {
            let last = (first + batch - 1).min(count);
            for page in doc.pages(first..=last, &ctx.reader) {
                self.page(ctx, f, count, page);
            }
            first = last + 1;
        }
    }

    /// One page's line: its classes, or its page-level error.
    fn page(&mut self, ctx: &Context, f: usize, pages: u32, page: Page) {
        let info = PageInfo {
            number: page.number,
            pages,
            characters: page.characters(),
            kind: page.kind.as_str(),
        };
        match &page.text {
            Ok(text) => {
                let c = ctx.classifier;
                c.probabilities_into(text, &mut self.scratch, &mut self.probs);
                rank_into(c.model().mode(), &self.probs, &mut self.ranked);
                ctx.format.push_page(
                    &mut self.out,
                    &ctx.file_json[f],
                    &info,
                    &self.ranked,
                    &self.probs,
                );
                self.predictions += 1;
            }
            Err(failure) => {
                ctx.format.push_page_error(
                    &mut self.out,
                    &ctx.file_json[f],
                    &info,
                    failure.code,
                    &failure.message,
                );
                self.errors += 1;
                if failure.code == TEXTRACT_BAD_PAGE {
                    if let Err(why @ (OcrError::Unavailable(_) | OcrError::Missing(_))) =
                        ctx.reader.ocr.check()
                    {
                        let mut note = ctx
                            .live
                            .ocr_unavailable
                            .lock()
                            .unwrap_or_else(|e| e.into_inner());
                        note.get_or_insert_with(|| why.to_string());
                    }
                }
            }
        }
        Live::add(&ctx.live.pages, 1);
        Live::add(&ctx.live.documents, 1);
        self.counted += 1;
    }
}

/// The worker's deflater, made once for the job's level.
fn deflater(slot: &mut Option<Deflater>, level: u32) -> &mut Deflater {
    if slot.as_ref().is_none_or(|d| d.level() != level) {
        *slot = Some(Deflater::new(level));
    }
    slot.as_mut().expect("the deflater was just made")
}

/// A worker borrowed from the pool for one rayon task, returned when the task ends.
pub struct Pooled<'a> {
    worker: Worker,
    pool: &'a Mutex<Vec<Worker>>,
}

impl<'a> Pooled<'a> {
    pub fn take(pool: &'a Mutex<Vec<Worker>>) -> Self {
        let worker = pool
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_default();
        Pooled { worker, pool }
    }

    pub fn worker(&mut self) -> &mut Worker {
        &mut self.worker
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let w = std::mem::take(&mut self.worker);
        self.pool.lock().unwrap_or_else(|e| e.into_inner()).push(w);
    }
}
