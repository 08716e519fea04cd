//! Planning: the job's documents as a lazy sequence of work units of about 1 MiB, in input
//! order, each with the offset of its first byte in the concatenation of the listed files (what
//! shards are cut by). ONE_DOC_PER_FILE units group whole files; ONE_DOC_PER_LINE units are line
//! chunks of big files (cut one at a time, so planning never touches pages ahead) or groups of
//! small files. Every shard plans the same units: cuts depend only on the bytes and listed sizes.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

use super::config::ClassifyConfig;
use crate::error::Error;
use crate::input::mmap::{Chunk, LineChunkReader};
use crate::input::split::{after_terminator, next_cut, Cut};
use crate::input::{FileBytes, InputFile, LineSource, SplitMode};

/// Most files in one unit, so a unit of tiny files still bounds a worker's output.
const UNIT_MAX_FILES: usize = 512;

/// One unit of work.
pub enum Unit {
    /// Whole lines of a big file; `first_line` and `skip` are filled in by the driver's
    /// numbering pass before the unit runs.
    Lines {
        file: usize,
        data: Arc<FileBytes>,
        range: Range<usize>,
        first_line: u64,
        skip: bool,
    },
    /// Whole files of a ONE_DOC_PER_FILE job, read by the worker.
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

/// What the next unit of a file held whole is.
pub enum MappedPiece {
    /// Whole lines from the start to the returned end.
    Lines,
    /// One line over the size limit, of this many bytes (terminator excluded).
    LongLine(u64),
}

/// The next unit of `data` from `start` (see `split::next_cut`); a line over `max_line` is
/// measured in blocks whose pages are released as the scan passes them, so even a line of
/// gigabytes never makes the process hold it.
pub fn next_mapped_piece(
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

/// Whether a file's name says PDF, Word or image.
fn named_like_a_document(key: &str) -> bool {
    let ext = key.rsplit_once('.').map_or("", |(_, e)| e);
    ["pdf", "docx", "png", "jpg", "jpeg", "tif", "tiff"]
        .iter()
        .any(|d| ext.eq_ignore_ascii_case(d))
}

/// What one planning step produced.
enum Step {
    Unit((u64, Unit)),
    /// Nothing yet (a file was opened or finished): plan again.
    Again,
    /// Planning stops (`Planner::failure` says why).
    Stop,
}

/// Lazily produces units in input order, each with the offset of its first byte in the
/// concatenation of the listed files.
pub struct Planner<'a> {
    cfg: &'a ClassifyConfig,
    files: &'a [InputFile],
    /// Offset of each file in the concatenation of all files.
    file_start: Vec<u64>,
    next_file: usize,
    pending: VecDeque<(u64, Unit)>,
    /// A file being read in chunks (not mapped), with its index.
    stream: Option<(usize, LineChunkReader)>,
    /// A file held whole (mapped or small), with its index and the next unit's start.
    mapped: Option<(usize, Arc<FileBytes>, usize)>,
    /// Files ending at or before this offset hold no unit of this shard and are not opened.
    skip_before: u64,
    /// An S3 object that could not be read (after retries): the job fails rather than lose
    /// the rest of the object to an error record, since a rerun will most likely read it.
    pub failure: Option<Error>,
}

impl<'a> Planner<'a> {
    pub fn new(cfg: &'a ClassifyConfig, files: &'a [InputFile], skip_before: u64) -> Self {
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
            pending: VecDeque::new(),
            stream: None,
            mapped: None,
            skip_before,
            failure: None,
        }
    }

    /// The next unit and the offset of its first byte, or `None` when planning is over.
    pub fn next_unit(&mut self) -> Option<(u64, Unit)> {
        loop {
            if let Some(u) = self.pending.pop_front() {
                return Some(u);
            }
            if self.next_file >= self.files.len() && self.stream.is_none() && self.mapped.is_none()
            {
                return None;
            }
            let step = match self.cfg.split {
                SplitMode::OnePerFile => self.file_group(),
                SplitMode::OnePerLine if self.mapped.is_some() => self.cut_mapped(),
                SplitMode::OnePerLine if self.stream.is_some() => self.cut_stream(),
                SplitMode::OnePerLine => self.open_line_file(),
            };
            match step {
                Step::Unit(u) => return Some(u),
                Step::Again => continue,
                Step::Stop => return None,
            }
        }
    }

    /// Takes the next files into one unit: at least one, then more while they are `size`d (not
    /// `None`), fewer than `UNIT_MAX_FILES`, and the unit is under `unit_bytes`. Decided by
    /// listed sizes alone, so every shard forms the same units.
    fn group(&mut self, size: impl Fn(&InputFile) -> Option<u64>) -> Range<usize> {
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

    /// ONE_DOC_PER_FILE: the next group of whole files. A file named like a PDF, Word file or
    /// image is a unit of its own: reading it (OCR above all) costs far more than its bytes
    /// suggest, and units are what the cores share. The name only plans; content decides how
    /// the file is read.
    fn file_group(&mut self) -> Step {
        let max = self.cfg.max_file_bytes;
        let unit = self.cfg.unit_bytes as u64;
        let files = self.group(|f| {
            Some(if named_like_a_document(&f.key) {
                unit
            } else {
                f.len.min(max)
            })
        });
        Step::Unit((self.file_start[files.start], Unit::Files(files)))
    }

    /// The next unit of the file held whole; the file is done when it is cut to its end or it
    /// shrank (its remaining pages are gone).
    fn cut_mapped(&mut self) -> Step {
        let Some((f, data, start)) = &mut self.mapped else {
            return Step::Again;
        };
        let (f, at) = (*f, self.file_start[*f] + *start as u64);
        if *start >= data.len() {
            self.mapped = None;
            return Step::Again;
        }
        if data.changed() {
            self.mapped = None;
            let unit = Unit::Changed {
                file: f,
                line: 0,
                skip: false,
            };
            return Step::Unit((at, unit));
        }
        let (piece, end) =
            next_mapped_piece(data, *start, self.cfg.unit_bytes, self.cfg.max_line_bytes);
        let unit = match piece {
            MappedPiece::Lines => Unit::Lines {
                file: f,
                data: Arc::clone(data),
                range: *start..end,
                first_line: 0,
                skip: false,
            },
            MappedPiece::LongLine(bytes) => Unit::LongLine {
                file: f,
                bytes,
                line: 0,
                skip: false,
            },
        };
        *start = end;
        Step::Unit((at, unit))
    }

    /// The next chunk of the file being streamed.
    fn cut_stream(&mut self) -> Step {
        let Some((f, reader)) = &mut self.stream else {
            return Step::Again;
        };
        let f = *f;
        let at = self.file_start[f] + reader.position();
        let chunk = reader.next_chunk(self.cfg.unit_bytes, self.cfg.max_line_bytes);
        let unit = match chunk {
            Ok(Some(Chunk::Lines(chunk))) => Unit::Lines {
                file: f,
                range: 0..chunk.len(),
                data: Arc::new(FileBytes::Owned(chunk)),
                first_line: 0,
                skip: false,
            },
            Ok(Some(Chunk::LongLine(bytes))) => Unit::LongLine {
                file: f,
                bytes,
                line: 0,
                skip: false,
            },
            Ok(None) => {
                self.stream = None;
                return Step::Again;
            }
            Err(e) if self.files[f].remote.is_some() => {
                self.stream = None;
                self.failure = Some(Error::io(&self.files[f].path, e));
                return Step::Stop;
            }
            Err(e) => {
                self.stream = None;
                let message = format!("The file could not be read to its end: {e}.");
                Unit::Unreadable { file: f, message }
            }
        };
        Step::Unit((at, unit))
    }

    /// ONE_DOC_PER_LINE: groups the next small files into a unit (read by the worker), or opens
    /// the next big file to be cut (mapped, or streamed in chunks).
    fn open_line_file(&mut self) -> Step {
        let f = self.next_file;
        let unit = self.cfg.unit_bytes as u64;
        if self.files[f].len <= unit {
            let files = self.group(|f| (f.len <= unit).then_some(f.len));
            return Step::Unit((self.file_start[f], Unit::LineFiles(files)));
        }
        self.next_file += 1;
        if self.file_start[f] + self.files[f].len <= self.skip_before {
            return Step::Again;
        }
        match self.files[f].lines(self.cfg.mmap, self.cfg.unit_bytes) {
            Ok(LineSource::Whole(data)) => self.mapped = Some((f, Arc::new(data), 0)),
            Ok(LineSource::Stream(reader)) => self.stream = Some((f, reader)),
            Err(e) if self.files[f].remote.is_some() => {
                self.failure = Some(Error::io(&self.files[f].path, e));
                return Step::Stop;
            }
            Err(e) => self.pending.push_back((
                self.file_start[f],
                Unit::Unreadable {
                    file: f,
                    message: format!("The file could not be read: {e}."),
                },
            )),
        }
        Step::Again
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::split::LineIter;
    use proptest::prelude::*;

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
}
