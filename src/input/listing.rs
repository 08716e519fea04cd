//! Listings: the regular files a URI names, with S3's prefix semantics. A URI names one file or
//! a *prefix*: every regular file whose path starts with it, recursively, sorted by path bytes.
//! Each file's key is its path relative to the prefix's folder (the part up to the last `/`), so
//! `in/` gives bare names and `in/sms` gives `sms/...` and `sms2.txt`, exactly as an S3 prefix
//! would. What the URI means (local, real S3, a mapped S3 root) is `location`'s decision.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::mmap::{FileBytes, LineChunkReader, LineSource, MmapChoice};
use crate::error::{Error, Result};
use crate::location::{is_remote, resolve};
use crate::s3::{self, RangeReader, S3Object, S3Uri};

/// One input file found under a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// Local path, or the object's `s3://` URI (for messages) when `remote` is set.
    pub path: PathBuf,
    /// Path relative to the prefix's folder, `/`-separated: the output's `File`.
    pub key: String,
    pub len: u64,
    /// The S3 object, for input read from real S3 rather than the local file system.
    pub remote: Option<S3Object>,
}

impl InputFile {
    /// The whole file (documents, training files): mapped when large and local, else read.
    pub fn read(&self, mmap: MmapChoice) -> std::io::Result<FileBytes> {
        match &self.remote {
            Some(obj) => s3::read_all(&obj.uri)
                .map(FileBytes::Owned)
                .map_err(|e| std::io::Error::other(e.to_string())),
            None => FileBytes::open(&self.path, mmap),
        }
    }

    /// The first `n` bytes (fewer when the file is shorter), to recognise its format.
    pub fn head(&self, n: usize) -> std::io::Result<Vec<u8>> {
        let n = n.min(self.len as usize);
        match &self.remote {
            Some(obj) => s3::read_range(&obj.uri, 0..n as u64)
                .map_err(|e| std::io::Error::other(e.to_string())),
            None => {
                let mut head = Vec::with_capacity(n);
                std::io::Read::take(fs::File::open(&self.path)?, n as u64)
                    .read_to_end(&mut head)?;
                Ok(head)
            }
        }
    }

    /// The file as lines: held whole when small or mapped, else streamed in chunks (ranged
    /// reads for S3 objects).
    pub fn lines(&self, mmap: MmapChoice, chunk: usize) -> std::io::Result<LineSource> {
        match &self.remote {
            Some(obj) if obj.len as usize <= chunk => self.read(mmap).map(LineSource::Whole),
            Some(obj) => RangeReader::open(obj)
                .map(|r| LineSource::Stream(LineChunkReader::new(Box::new(r))))
                .map_err(|e| std::io::Error::other(e.to_string())),
            None => LineSource::open(&self.path, mmap, chunk),
        }
    }
}

/// Files under a prefix, plus what was passed over and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    pub files: Vec<InputFile>,
    pub skipped: Vec<(PathBuf, String)>,
}

impl Listing {
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.len).sum()
    }
}

/// Lists the regular files a URI names (one file, or every file under the prefix).
pub fn list(uri: &str) -> Result<Listing> {
    list_under(uri, None)
}

/// `list`, with `s3://` URIs mapped under `s3_root`.
pub fn list_under(uri: &str, s3_root: Option<&Path>) -> Result<Listing> {
    if is_remote(uri, s3_root) {
        return list_s3(uri);
    }
    let p = resolve(uri, s3_root)?;
    let path = Path::new(&p);
    let mut listing = Listing::default();
    if let Ok(meta) = fs::metadata(path) {
        if meta.is_file() && !p.ends_with('/') {
            let key = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.clone());
            listing.files.push(InputFile {
                path: path.to_path_buf(),
                key,
                len: meta.len(),
                remote: None,
            });
            return Ok(listing);
        }
    }
    let (folder, partial) = match p.rfind('/') {
        Some(i) => (&p[..=i], &p[i + 1..]),
        None => ("", p.as_str()),
    };
    let folder_path = if folder.is_empty() {
        PathBuf::from(".")
    } else {
        PathBuf::from(folder)
    };
    let entries = fs::read_dir(&folder_path).map_err(|e| Error::io(&folder_path, e))?;
    let mut names: Vec<(String, PathBuf)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(&folder_path, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(partial) {
            names.push((name, entry.path()));
        }
    }
    for (name, path) in names {
        walk(&path, name, &mut listing);
    }
    listing
        .files
        .sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
    listing.skipped.sort();
    Ok(listing)
}

/// Every object under an S3 prefix, `File` relative to the prefix's folder as for local input.
fn list_s3(uri: &str) -> Result<Listing> {
    let prefix = S3Uri::parse(uri)?;
    let folder_len = prefix.key.rfind('/').map_or(0, |i| i + 1);
    let mut listing = Listing::default();
    for obj in s3::list(&prefix)? {
        let path = PathBuf::from(obj.uri.to_string());
        if obj.uri.key.ends_with('/') {
            // Consoles create empty "folder" objects; they hold no document.
            listing
                .skipped
                .push((path, "folder marker (key ends with '/')".into()));
            continue;
        }
        listing.files.push(InputFile {
            path,
            key: obj.uri.key[folder_len..].to_string(),
            len: obj.len,
            remote: Some(obj),
        });
    }
    Ok(listing)
}

fn walk(path: &Path, key: String, out: &mut Listing) {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) => {
            out.skipped
                .push((path.to_path_buf(), format!("cannot read metadata: {e}")));
            return;
        }
    };
    let ft = meta.file_type();
    if ft.is_symlink() {
        out.skipped.push((
            path.to_path_buf(),
            "symbolic link (links are not followed)".into(),
        ));
    } else if ft.is_dir() {
        match fs::read_dir(path) {
            Ok(entries) => {
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    walk(&entry.path(), format!("{key}/{name}"), out);
                }
            }
            Err(e) => out
                .skipped
                .push((path.to_path_buf(), format!("cannot list folder: {e}"))),
        }
    } else if ft.is_file() {
        out.files.push(InputFile {
            path: path.to_path_buf(),
            key,
            len: meta.len(),
            remote: None,
        });
    } else {
        out.skipped.push((
            path.to_path_buf(),
            "not a regular file (FIFO, socket or device)".into(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_semantics_like_s3() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        fs::create_dir_all(root.join("in/sms/deep")).unwrap();
        fs::write(root.join("in/sms/b.txt"), "b").unwrap();
        fs::write(root.join("in/sms/deep/a.txt"), "a").unwrap();
        fs::write(root.join("in/sms.txt"), "x").unwrap();
        fs::write(root.join("in/other.txt"), "o").unwrap();
        let base = root.to_str().unwrap();

        let l = list(&format!("{base}/in/sms/")).unwrap();
        let keys: Vec<_> = l.files.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["b.txt", "deep/a.txt"]);

        let l = list(&format!("{base}/in/sms")).unwrap();
        let keys: Vec<_> = l.files.iter().map(|f| f.key.as_str()).collect();
        // '.' (0x2e) sorts before '/' (0x2f), as in S3 key order.
        assert_eq!(keys, ["sms.txt", "sms/b.txt", "sms/deep/a.txt"]);

        let l = list(&format!("{base}/in/other.txt")).unwrap();
        assert_eq!(l.files.len(), 1);
        assert_eq!(l.files[0].key, "other.txt");

        assert!(list(&format!("{base}/in/nothing"))
            .unwrap()
            .files
            .is_empty());
        assert!(list(&format!("{base}/missing/")).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn links_and_fifos_are_skipped_with_reasons() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("real.txt"), "r").unwrap();
        std::os::unix::fs::symlink(d.path(), d.path().join("loop")).unwrap();
        let fifo = d.path().join("pipe");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status();
        let l = list(&format!("{}/", d.path().display())).unwrap();
        assert_eq!(l.files.len(), 1);
        assert!(l
            .skipped
            .iter()
            .any(|(_, why)| why.contains("symbolic link")));
        if status.map(|s| s.success()).unwrap_or(false) {
            assert!(l.skipped.iter().any(|(_, why)| why.contains("FIFO")));
        }
    }
}
