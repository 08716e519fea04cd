//! `output.tar.gz` holding one member, `predictions.jsonl`, as ONE gzip member (Python's streaming
//! `tarfile` mode `r|gz` rejects multi-member gzip) without spooling the data twice:
//!
//! ```text
//! gzip header | stored deflate block: tar header (512 B, patched at the end) |
//! chunk 1 deflated, sync-flushed | chunk 2 ... | tar padding + end blocks, final block | CRC32, ISIZE
//! ```
//!
//! Workers deflate their chunks independently and in parallel (as pigz does); each chunk ends
//! byte-aligned on a sync flush, so the pieces concatenate into one valid deflate stream, and their
//! CRC-32s combine. The entry's size is only known at the end, so the tar header sits in a stored
//! block, where its bytes appear verbatim and can be overwritten in place. The file is written under
//! a temporary name, synced and renamed: a failed or killed job leaves nothing at the final path.

use std::fs::{self, File};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use flate2::{Compress, Compression, FlushCompress, Status};

use crate::error::{Error, Param, Result};

/// Name of the single archive member.
pub const MEMBER_NAME: &str = "predictions.jsonl";
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
/// Offset of the tar header inside the file: gzip header + stored block header (5 bytes).
const TAR_HEADER_OFFSET: u64 = 15;

/// One chunk of `predictions.jsonl`, deflated and ready to append.
#[derive(Clone)]
pub struct CompressedChunk {
    pub deflated: Vec<u8>,
    pub crc: crc32fast::Hasher,
    pub len: u64,
}

impl CompressedChunk {
    /// Deflates `data` on its own, ending with a sync flush so chunks can be concatenated.
    pub fn compress(data: &[u8], level: u32) -> CompressedChunk {
        Self::compress_with(&mut Deflater::new(level), data)
    }

    /// `compress`, reusing a deflater's state (no allocation of compressor tables per chunk).
    pub fn compress_with(deflater: &mut Deflater, data: &[u8]) -> CompressedChunk {
        let mut crc = crc32fast::Hasher::new();
        crc.update(data);
        deflater.0.reset();
        CompressedChunk {
            deflated: deflate_raw(&mut deflater.0, data, FlushCompress::Sync),
            crc,
            len: data.len() as u64,
        }
    }
}

/// A raw-deflate compressor that can be reused from chunk to chunk.
pub struct Deflater(Compress, u32);

impl Deflater {
    pub fn new(level: u32) -> Self {
        Deflater(Compress::new(Compression::new(level), false), level)
    }

    pub fn level(&self) -> u32 {
        self.1
    }
}

fn deflate_raw(c: &mut Compress, data: &[u8], flush: FlushCompress) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 3 + 128);
    loop {
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(1024));
        }
        let consumed = c.total_in() as usize;
        let status = c
            .compress_vec(&data[consumed..], &mut out, flush)
            .expect("deflate never fails on valid input and enough output room");
        let all_in = c.total_in() as usize == data.len();
        let room_left = out.len() < out.capacity();
        match flush {
            FlushCompress::Finish if status == Status::StreamEnd => break,
            FlushCompress::Finish => {}
            _ if all_in && room_left => break,
            _ => {}
        }
    }
    out
}

/// Writes `output.tar.gz` incrementally; see the module docs for the layout. A *part* (one
/// shard's share of a job) holds only the deflated chunks; `append_part` splices parts, in shard
/// order, into the archive a single process would have written.
pub struct ArchiveWriter {
    out: Option<BufWriter<File>>,
    tmp: PathBuf,
    dest: PathBuf,
    level: u32,
    crc: crc32fast::Hasher,
    len: u64,
}

/// What a finished part holds: its chunks' combined CRC-32 and length (uncompressed), and its
/// size on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartInfo {
    pub crc32: u32,
    pub len: u64,
    pub deflated_bytes: u64,
}

impl ArchiveWriter {
    /// Starts an archive that will appear at `dest` when `finish` succeeds.
    pub fn create(dest: &Path, level: u32, tmp_tag: &str) -> Result<ArchiveWriter> {
        let mut writer = Self::create_part(dest, level, tmp_tag)?;
        let mut head = Vec::with_capacity(527);
        head.extend_from_slice(&GZIP_HEADER);
        // Stored block, not final: BFINAL=0 BTYPE=00, LEN=512, NLEN=!512; then a placeholder header.
        head.extend_from_slice(&[0x00, 0x00, 0x02, 0xff, 0xfd]);
        head.extend_from_slice(&[0u8; 512]);
        writer.write(&head)?;
        Ok(writer)
    }

    /// Starts a part that will appear at `dest` when `finish_part` succeeds.
    pub fn create_part(dest: &Path, level: u32, tmp_tag: &str) -> Result<ArchiveWriter> {
        if level > 9 {
            return Err(Error::param(Param::CompressionLevel, level, "0-9"));
        }
        let dir = dest.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let tmp = Self::temp_path_for(dest, tmp_tag);
        let file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        Ok(ArchiveWriter {
            out: Some(BufWriter::with_capacity(1 << 20, file)),
            tmp,
            dest: dest.to_path_buf(),
            level,
            crc: crc32fast::Hasher::new(),
            len: 0,
        })
    }

    /// Where the archive for `dest` is written until it is complete.
    pub fn temp_path_for(dest: &Path, tmp_tag: &str) -> PathBuf {
        let name = dest.file_name().and_then(|n| n.to_str()).unwrap_or("out");
        dest.parent()
            .unwrap_or(Path::new("."))
            .join(format!(".{name}.{tmp_tag}.tmp"))
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        let out = self.out.as_mut().expect("archive already finished");
        out.write_all(bytes).map_err(|e| Error::io(&self.tmp, e))
    }

    /// Appends the next chunk of `predictions.jsonl`.
    pub fn append(&mut self, chunk: &CompressedChunk) -> Result<()> {
        if chunk.len == 0 {
            return Ok(());
        }
        self.crc.combine(&chunk.crc);
        self.len += chunk.len;
        let deflated = &chunk.deflated;
        self.write(deflated)
    }

    /// Appends a finished part (`info` as `finish_part` returned it), copying its bytes.
    pub fn append_part(&mut self, part: &mut dyn io::Read, info: &PartInfo) -> Result<()> {
        let out = self.out.as_mut().expect("archive already finished");
        let copied = io::copy(part, out).map_err(|e| Error::io(&self.tmp, e))?;
        if copied != info.deflated_bytes {
            return Err(Error::data(
                self.dest.display().to_string(),
                format!(
                    "a part holds {copied} bytes where its record says {}; rerun that shard",
                    info.deflated_bytes
                ),
            ));
        }
        self.crc.combine(&crc32fast::Hasher::new_with_initial_len(
            info.crc32, info.len,
        ));
        self.len += info.len;
        Ok(())
    }

    /// Completes a part and moves it to its final path.
    pub fn finish_part(mut self) -> Result<PartInfo> {
        Ok(PartInfo {
            crc32: self.crc.clone().finalize(),
            len: self.len,
            deflated_bytes: self.publish(None)?,
        })
    }

    /// Completes the archive and moves it to its final path. Returns the archive's size.
    pub fn finish(mut self, mtime: u64) -> Result<u64> {
        let mut header = tar::Header::new_gnu();
        header
            .set_path(MEMBER_NAME)
            .map_err(|e| Error::io(&self.tmp, e))?;
        header.set_size(self.len);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        let padding = ((512 - self.len % 512) % 512) as usize;
        let tail = vec![0u8; padding + 1024];
        let mut total = crc32fast::Hasher::new();
        total.update(header.as_bytes());
        total.combine(&self.crc);
        total.update(&tail);
        let uncompressed = 512 + self.len + tail.len() as u64;
        let mut end = deflate_raw(
            &mut Compress::new(Compression::new(self.level), false),
            &tail,
            FlushCompress::Finish,
        );
        end.extend_from_slice(&total.finalize().to_le_bytes());
        end.extend_from_slice(&(uncompressed as u32).to_le_bytes());
        self.write(&end)?;
        self.publish(Some(header.as_bytes()))
    }

    /// Flushes, writes the tar header in place (archives), syncs and renames to the final path.
    fn publish(&mut self, tar_header: Option<&[u8]>) -> Result<u64> {
        let tmp = self.tmp.clone();
        let out = self.out.take().expect("archive already finished");
        let result = (|| -> io::Result<u64> {
            let mut file = out.into_inner().map_err(|e| e.into_error())?;
            if let Some(header) = tar_header {
                file.seek(SeekFrom::Start(TAR_HEADER_OFFSET))?;
                file.write_all(header)?;
            }
            let size = file.seek(SeekFrom::End(0))?;
            file.sync_all()?;
            fs::rename(&tmp, &self.dest)?;
            Ok(size)
        })();
        match result {
            Ok(size) => {
                if let Some(dir) = self.dest.parent() {
                    // Make the rename itself durable.
                    if let Ok(d) = File::open(dir) {
                        let _ = d.sync_all();
                    }
                }
                Ok(size)
            }
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(Error::io(&self.dest, e))
            }
        }
    }

    /// The temporary file's path (removed again if the writer is dropped unfinished).
    pub fn temp_path(&self) -> &Path {
        &self.tmp
    }
}

impl Drop for ArchiveWriter {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;

    fn read_member(path: &Path) -> (String, Vec<u8>) {
        let f = File::open(path).unwrap();
        let mut ar = tar::Archive::new(GzDecoder::new(f));
        let mut entries = ar.entries().unwrap();
        let mut e = entries.next().unwrap().unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        assert!(entries.next().is_none(), "exactly one member");
        (name, data)
    }

    #[test]
    fn chunks_join_into_one_readable_member() {
        let d = tempfile::tempdir().unwrap();
        for (level, sizes) in [
            (6u32, vec![0usize, 1, 511, 512, 513, 70_000]),
            (1, vec![100_000, 3]),
            (0, vec![5]),
        ] {
            let dest = d.path().join(format!("l{level}/output.tar.gz"));
            let mut w = ArchiveWriter::create(&dest, level, "t").unwrap();
            let mut expected = Vec::new();
            for (i, n) in sizes.iter().enumerate() {
                let data: Vec<u8> = (0..*n)
                    .map(|k| b"abc\n{}\"0123"[(k * 7 + i) % 11])
                    .collect();
                w.append(&CompressedChunk::compress(&data, level)).unwrap();
                expected.extend_from_slice(&data);
            }
            assert!(!dest.exists(), "nothing at the final path before finish");
            w.finish(1_700_000_000).unwrap();
            let (name, data) = read_member(&dest);
            assert_eq!(name, MEMBER_NAME);
            assert_eq!(data, expected);
            // A single gzip member: decoding one member consumes every byte of the file.
            let raw = fs::read(&dest).unwrap();
            let mut one = flate2::bufread::GzDecoder::new(&raw[..]);
            let mut all = Vec::new();
            one.read_to_end(&mut all).unwrap();
            assert_eq!(all.len() % 512, 0);
            assert!(
                one.into_inner().is_empty(),
                "bytes after the first gzip member"
            );
        }
    }

    #[test]
    fn unfinished_writer_leaves_nothing() {
        let d = tempfile::tempdir().unwrap();
        let dest = d.path().join("out/output.tar.gz");
        let w = ArchiveWriter::create(&dest, 6, "x").unwrap();
        let tmp = w.temp_path().to_path_buf();
        assert!(tmp.exists());
        drop(w);
        assert!(!tmp.exists() && !dest.exists());
    }
}
