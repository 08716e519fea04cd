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
