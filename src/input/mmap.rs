//! Getting a file's bytes: memory-mapped when that pays (large regular files), read into memory
//! otherwise or when mapping fails. Everything downstream sees one `&[u8]`.

use std::fs::File;
use std::io::Read;
use std::ops::Deref;
use std::path::Path;

use memmap2::Mmap;

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
    Mapped(Mmap),
    Owned(Vec<u8>),
}

impl Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m,
            FileBytes::Owned(v) => v,
        }
    }
}

impl FileBytes {
    /// Tells the kernel the process is done with `range` of a mapped file, so resident memory
    /// stays flat however large the input (the pages stay in the page cache). No-op for read
    /// files and on failure.
    pub fn release(&self, range: std::ops::Range<usize>) {
        const PAGE: usize = 4096;
        if let FileBytes::Mapped(map) = self {
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

    /// Opens `path` and returns its bytes, mapping it when `choice` and its size allow.
    pub fn open(path: &Path, choice: MmapChoice) -> std::io::Result<FileBytes> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        if choice == MmapChoice::Auto && len >= MMAP_MIN_BYTES {
            // SAFETY: the map is read-only and private to this process. If another process
            // truncates the file while it is mapped, reading the lost pages raises SIGBUS; input
            // files are treated as immutable for the duration of a job, as ripgrep does.
            if let Ok(map) = unsafe { Mmap::map(&file) } {
                #[cfg(unix)]
                let _ = map.advise(memmap2::Advice::Sequential);
                return Ok(FileBytes::Mapped(map));
            }
        }
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
            return FileBytes::open(path, MmapChoice::Never).map(LineSource::Whole);
        }
        if choice == MmapChoice::Auto {
            if let Ok(bytes @ FileBytes::Mapped(_)) = FileBytes::open(path, choice) {
                return Ok(LineSource::Whole(bytes));
            }
        }
        Ok(LineSource::Stream(LineChunkReader {
            file,
            buf: Vec::new(),
            eof: false,
        }))
    }
}

/// Reads a file in chunks of at least `target` bytes that end right after a line terminator
/// (never between CR and LF); the last chunk ends at the end of the file.
pub struct LineChunkReader {
    file: File,
    buf: Vec<u8>,
    eof: bool,
}

/// Where to cut `b` so the first part ends right after a line terminator, or `None`. A CR as the
/// very last byte cannot be cut after: an LF may follow in the next read.
fn last_line_cut(b: &[u8]) -> Option<usize> {
    let mut end = b.len();
    while let Some(p) = memchr::memrchr2(b'\n', b'\r', &b[..end]) {
        if b[p] == b'\r' && p + 1 == b.len() {
            end = p;
            continue;
        }
        return Some(p + 1);
    }
    None
}

impl LineChunkReader {
    pub fn next_chunk(&mut self, target: usize) -> std::io::Result<Option<Vec<u8>>> {
        let mut want = target.max(1);
        loop {
            while !self.eof && self.buf.len() < want {
                let start = self.buf.len();
                self.buf.resize(want.max(start + 64 * 1024), 0);
                let n = self.file.read(&mut self.buf[start..])?;
                self.buf.truncate(start + n);
                self.eof = n == 0;
            }
            if self.buf.is_empty() {
                return Ok(None);
            }
            if self.eof {
                return Ok(Some(std::mem::take(&mut self.buf)));
            }
            if let Some(cut) = last_line_cut(&self.buf) {
                let rest = self.buf.split_off(cut);
                return Ok(Some(std::mem::replace(&mut self.buf, rest)));
            }
            // One line longer than the buffer: read on until it ends.
            want = self.buf.len() * 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::split::LineIter;
    use proptest::prelude::*;

    proptest! {
        // Streamed chunks concatenate to the file and hold whole lines only: the lines found
        // chunk by chunk are the lines of the whole file.
        #[test]
        fn streamed_chunks_hold_whole_lines(data in proptest::collection::vec(
            prop_oneof![Just(b'a'), Just(b'\n'), Just(b'\r'), Just(b'x')], 0..400),
            target in 1usize..50) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("f");
            std::fs::write(&path, &data).unwrap();
            let mut reader = LineChunkReader { file: File::open(&path).unwrap(), buf: Vec::new(), eof: false };
            let mut joined = Vec::new();
            let mut lines = Vec::new();
            while let Some(chunk) = reader.next_chunk(target).unwrap() {
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
    }
}
