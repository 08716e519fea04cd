//! Getting a file's bytes: memory-mapped when that pays (large regular files), read into memory
//! otherwise or when mapping fails. Everything downstream sees one `&[u8]`.

use std::fs::File;
use std::io::Read;
use std::ops::Deref;
use std::path::Path;

use memmap2::Mmap;

use super::guard::{self, Guard};
use super::split::{cut_window, next_cut, Cut};

/// Whether to memory-map input files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MmapChoice {
    /// Map files of at least `MMAP_MIN_BYTES`; read smaller ones (mapping costs more than it saves).
    #[default]
    Auto,
    /// Always read.
    Never,
}

/// Files smaller than this are read rather than mapped.
pub const MMAP_MIN_BYTES: u64 = 256 * 1024;

/// The bytes of one file.
pub enum FileBytes {
    Mapped(GuardedMap),
    Owned(Vec<u8>),
}

/// A read-only file mapping registered with the SIGBUS guard, so that another process
/// truncating the file cannot kill this one: lost pages read as zeros and `changed` says so.
pub struct GuardedMap {
    // Field order matters: the guard is dropped (unregistered) before the map is unmapped.
    guard: Guard,
    map: Mmap,
    file: File,
}

impl Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => &m.map,
            FileBytes::Owned(v) => v,
        }
    }
}

impl AsRef<[u8]> for FileBytes {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl FileBytes {
    /// Tells the kernel the process is done with `range` of a mapped file, so resident memory
    /// stays flat however large the input (the pages stay in the page cache). No-op for read
    /// files and on failure.
    pub fn release(&self, range: std::ops::Range<usize>) {
        const PAGE: usize = 4096;
        if let FileBytes::Mapped(GuardedMap { map, .. }) = self {
            let start = range.start.div_ceil(PAGE) * PAGE;
            let end = range.end.min(map.len()) / PAGE * PAGE;
            if end > start {
                // SAFETY: the map is a private, read-only file mapping that is never written, so
                // dropping its pages only means they are read from the file again if touched.
                #[cfg(unix)]
                let _ = unsafe {
                    map.unchecked_advise_range(
                        memmap2::UncheckedAdvice::DontNeed,
                        start,
                        end - start,
                    )
                };
            }
        }
    }

    /// Whether the file shrank (or lost mapped pages) since it was opened, so bytes read from
    /// it may be zeros rather than its content. Always false for bytes read into memory, which
    /// are a snapshot.
    pub fn changed(&self) -> bool {
        match self {
            FileBytes::Mapped(m) => {
                m.guard.faulted()
                    || m.file
                        .metadata()
                        .map_or(true, |meta| meta.len() < m.map.len() as u64)
            }
            FileBytes::Owned(_) => false,
        }
    }

    /// Opens `path` and returns its bytes, mapping it when `choice` and its size allow.
    pub fn open(path: &Path, choice: MmapChoice) -> std::io::Result<FileBytes> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        match Self::map(file, len, choice) {
            Ok(mapped) => Ok(mapped),
            Err(file) => Self::read(file, len),
        }
    }

    /// Maps an open file of `len` bytes when `choice` and its size allow; gives the file back
    /// otherwise (or when mapping fails).
    fn map(file: File, len: u64, choice: MmapChoice) -> Result<FileBytes, File> {
        if choice != MmapChoice::Auto || len < MMAP_MIN_BYTES {
            return Err(file);
        }
        // SAFETY: the map is read-only and private to this process. If another process
        // truncates the file while it is mapped, touching the lost pages raises SIGBUS: the
        // guard catches it for registered ranges and puts a zero page there instead, and
        // `changed` reports it. Without a free guard slot the file is read, not mapped.
        let Ok(map) = (unsafe { Mmap::map(&file) }) else {
            return Err(file);
        };
        let Some(guard) = guard::register(map.as_ptr() as usize, map.len()) else {
            return Err(file);
        };
        #[cfg(unix)]
        let _ = map.advise(memmap2::Advice::Sequential);
        Ok(FileBytes::Mapped(GuardedMap { guard, map, file }))
    }

    fn read(mut file: File, len: u64) -> std::io::Result<FileBytes> {
        let mut buf = Vec::with_capacity(len as usize);
        file.read_to_end(&mut buf)?;
        Ok(FileBytes::Owned(buf))
    }
}

/// How a ONE_DOC_PER_LINE file is consumed: whole (mapped, or small enough to read at once), or
/// streamed in chunks that end at line boundaries, so reading never holds more than about one
/// chunk per work unit in memory, however large the file.
pub enum LineSource {
    Whole(FileBytes),
    Stream(LineChunkReader),
}

impl LineSource {
    pub fn open(path: &Path, choice: MmapChoice, chunk: usize) -> std::io::Result<LineSource> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        if len as usize <= chunk {
            return FileBytes::read(file, len).map(LineSource::Whole);
        }
        match FileBytes::map(file, len, choice) {
            Ok(mapped) => Ok(LineSource::Whole(mapped)),
            Err(file) => Ok(LineSource::Stream(LineChunkReader::new(Box::new(file)))),
        }
    }
}

/// Reads a file in chunks of at least `target` bytes that end right after a line terminator
/// (never between CR and LF); the last chunk ends at the end of the file.
pub struct LineChunkReader {
    file: Box<dyn Read + Send>,
    buf: Vec<u8>,
    eof: bool,
    /// Bytes read from the source so far.
    read: u64,
}

/// What `LineChunkReader::next_chunk` produces.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk {
    /// Whole lines, terminators included.
    Lines(Vec<u8>),
    /// One line longer than the limit, skipped without being held in memory: its length in
    /// bytes (terminator excluded).
    LongLine(u64),
}

impl LineChunkReader {
    pub fn new(source: Box<dyn Read + Send>) -> Self {
        LineChunkReader {
            file: source,
            buf: Vec::new(),
            eof: false,
            read: 0,
        }
    }

    /// Offset in the source of the next chunk's first byte.
    pub fn position(&self) -> u64 {
        self.read - self.buf.len() as u64
    }

    /// Reads one more block; returns false at the end of the file.
    fn fill(&mut self, block: usize) -> std::io::Result<bool> {
        let start = self.buf.len();
        self.buf.resize(start + block, 0);
        let n = loop {
            match self.file.read(&mut self.buf[start..]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let n = match n {
            Ok(n) => n,
            Err(e) => {
                self.buf.truncate(start);
                return Err(e);
            }
        };
        self.buf.truncate(start + n);
        self.read += n as u64;
        self.eof = n == 0;
        Ok(n > 0)
    }

    /// Consumes the line at the start of the buffer through its terminator, reading and dropping
    /// blocks as it goes. Returns the line's length.
    fn skip_line(&mut self) -> std::io::Result<u64> {
        let mut bytes = 0u64;
        loop {
            if let Some(p) = memchr::memchr2(b'\n', b'\r', &self.buf) {
                bytes += p as u64;
                let cr = self.buf[p] == b'\r';
                self.buf.drain(..=p);
                if cr && self.buf.is_empty() && !self.eof {
                    self.fill(SKIP_BLOCK)?;
                }
                if cr && self.buf.first() == Some(&b'\n') {
                    self.buf.drain(..1);
                }
                return Ok(bytes);
            }
            bytes += self.buf.len() as u64;
            self.buf.clear();
            if self.eof || !self.fill(SKIP_BLOCK)? {
                return Ok(bytes);
            }
        }
    }

    /// The next unit: about `target` bytes of whole lines, or a line longer than `max_line`
    /// bytes, skipped and reported by length only. Cut exactly where a mapped file is cut
    /// (`split::next_cut`), whatever the sizes the source's reads return.
    pub fn next_chunk(&mut self, target: usize, max_line: u64) -> std::io::Result<Option<Chunk>> {
        let window = cut_window(target, max_line);
        let want = target.max(1);
        while !self.eof && self.buf.len() < window && !cut_is_known(&self.buf, want, max_line) {
            let first = want.saturating_add(2).saturating_sub(self.buf.len());
            self.fill(first.max(SKIP_BLOCK).min(window - self.buf.len()))?;
        }
        if self.buf.is_empty() {
            return Ok(None);
        }
        match next_cut(&self.buf, 0, target, max_line) {
            Cut::LongLine => Ok(Some(Chunk::LongLine(self.skip_line()?))),
            Cut::Lines(end) => {
                let rest = self.buf.split_off(end);
                Ok(Some(Chunk::Lines(std::mem::replace(&mut self.buf, rest))))
            }
        }
    }
}

/// Whether `buf`, a prefix of the rest of a file, already decides `next_cut(.., 0, target, ..)`
/// as the whole file would: a line ends within the limit at the start, and one ends at or after
/// `want` within the limit, with the byte after it present (a CR may be followed by an LF).
fn cut_is_known(buf: &[u8], want: usize, max_line: u64) -> bool {
    let m = (max_line as usize).saturating_add(2);
    let n = buf.len();
    if want + 1 >= n || memchr::memchr2(b'\n', b'\r', &buf[..m.min(n)]).is_none() {
        return false;
    }
    memchr::memchr2(b'\n', b'\r', &buf[want..want.saturating_add(m).min(n - 1)]).is_some()
}

/// Read size while filling and skipping.
const SKIP_BLOCK: usize = 64 * 1024;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::split::LineIter;
    use proptest::prelude::*;

    #[test]
    fn a_mapped_file_truncated_underneath_reads_zeros_and_reports_the_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.txt");
        let len = 4 * MMAP_MIN_BYTES as usize;
        std::fs::write(&path, vec![b'a'; len]).unwrap();
        let bytes = FileBytes::open(&path, MmapChoice::Auto).unwrap();
        assert!(matches!(bytes, FileBytes::Mapped(_)));
        assert!(!bytes.changed());
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(10)
            .unwrap();
        // Without the guard this read raises SIGBUS and the test process dies.
        let tail: u64 = bytes[len / 2..].iter().map(|&b| b as u64).sum();
        assert_eq!(tail, 0);
        assert_eq!(bytes[0], b'a');
        assert!(bytes.changed());
    }

    /// A source that returns at most `step` bytes per read, as a network stream may.
    struct ShortReads {
        data: Vec<u8>,
        pos: usize,
        step: usize,
    }

    impl Read for ShortReads {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = out.len().min(self.step).min(self.data.len() - self.pos);
            out[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    proptest! {
        // A streamed file is cut exactly where the whole file is cut, whatever the read sizes:
        // the archive bytes do not depend on mapping, reading or fetching from S3.
        #[test]
        fn streamed_cuts_equal_whole_file_cuts(data in proptest::collection::vec(
            prop_oneof![Just(b'a'), Just(b'\n'), Just(b'\r'), Just(b'x')], 0..600),
            target in 1usize..60, max_line in 1u64..40, step in 1usize..50) {
            let mut expected = Vec::new();
            let mut start = 0;
            while start < data.len() {
                match next_cut(&data, start, target, max_line) {
                    Cut::Lines(end) => {
                        expected.push(Chunk::Lines(data[start..end].to_vec()));
                        start = end;
                    }
                    Cut::LongLine => {
                        let p = memchr::memchr2(b'\n', b'\r', &data[start..]).map(|o| start + o);
                        expected.push(Chunk::LongLine((p.unwrap_or(data.len()) - start) as u64));
                        start = p.map_or(data.len(), |p| crate::input::split::after_terminator(&data, p));
                    }
                }
            }
            let mut reader = LineChunkReader::new(Box::new(ShortReads { data: data.clone(), pos: 0, step }));
            let mut got = Vec::new();
            while let Some(c) = reader.next_chunk(target, max_line).unwrap() {
                got.push(c);
            }
            prop_assert_eq!(got, expected);
        }

        // Streamed chunks concatenate to the file and hold whole lines only: the lines found
        // chunk by chunk are the lines of the whole file.
        #[test]
        fn streamed_chunks_hold_whole_lines(data in proptest::collection::vec(
            prop_oneof![Just(b'a'), Just(b'\n'), Just(b'\r'), Just(b'x')], 0..400),
            target in 1usize..50) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("f");
            std::fs::write(&path, &data).unwrap();
            let mut reader = LineChunkReader::new(Box::new(File::open(&path).unwrap()));
            let mut joined = Vec::new();
            let mut lines = Vec::new();
            while let Some(chunk) = reader.next_chunk(target, u64::MAX).unwrap() {
                let Chunk::Lines(chunk) = chunk else { panic!("no line is too long") };
                prop_assert!(!chunk.is_empty());
                for l in LineIter::new(&chunk) {
                    lines.push(chunk[l.start..l.end].to_vec());
                }
                joined.extend_from_slice(&chunk);
            }
            prop_assert_eq!(&joined, &data);
            let whole: Vec<Vec<u8>> = LineIter::new(&data).map(|l| data[l.start..l.end].to_vec()).collect();
            prop_assert_eq!(lines, whole);
        }

        // With a line limit, every line still comes out once, in order: short ones inside chunks,
        // lines over the limit either inside a chunk or as a length.
        #[test]
        fn long_lines_are_skipped_by_length(data in proptest::collection::vec(
            prop_oneof![Just(b'a'), Just(b'a'), Just(b'a'), Just(b'\n'), Just(b'\r')], 0..3000),
            target in 1usize..40, max_line in 0u64..30) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("f");
            std::fs::write(&path, &data).unwrap();
            let mut reader = LineChunkReader::new(Box::new(File::open(&path).unwrap()));
            let mut lengths = Vec::new();
            while let Some(chunk) = reader.next_chunk(target, max_line).unwrap() {
                match chunk {
                    Chunk::Lines(c) => lengths.extend(LineIter::new(&c).map(|l| (l.end - l.start) as u64)),
                    Chunk::LongLine(n) => {
                        prop_assert!(n > max_line);
                        lengths.push(n);
                    }
                }
            }
            let whole: Vec<u64> = LineIter::new(&data).map(|l| (l.end - l.start) as u64).collect();
            prop_assert_eq!(lengths, whole);
        }
    }
}
