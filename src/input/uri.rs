//! URIs and prefixes. A URI names one file or an S3-style *prefix*: every regular file whose path
//! starts with it, recursively, sorted by path bytes. Each file's key is its path relative to the
//! prefix's folder (the part up to the last `/`), so `in/` gives bare names and `in/sms` gives
//! `sms/...` and `sms2.txt`, exactly as an S3 prefix would.

use std::fs;
use std::path::{Path, PathBuf};

use super::mmap::{FileBytes, LineChunkReader, LineSource, MmapChoice};
use crate::error::{Error, Result};
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

/// Checks that `uri` can be used: an `s3://bucket/key` for real S3, else a path `resolve` takes.
pub fn check(uri: &str, s3_root: Option<&Path>) -> Result<()> {
    if is_remote(uri, s3_root) {
        S3Uri::parse(uri).map(|_| ())
    } else {
        resolve(uri, s3_root).map(|_| ())
    }
}

/// Whether `uri` is read from and written to real S3: an `s3://` URI with no local S3 root.
pub fn is_remote(uri: &str, s3_root: Option<&Path>) -> bool {
    uri.starts_with("s3://") && s3_root.is_none()
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

/// Turns a user URI into a local path string, rejecting schemes this build cannot read.
pub fn local_path(uri: &str) -> Result<String> {
    if let Some(rest) = uri.strip_prefix("file://") {
        let rest = rest.strip_prefix("localhost").unwrap_or(rest);
        if !rest.starts_with('/') {
            return Err(Error::Uri {
                uri: uri.into(),
                reason: "a file:// URI needs an absolute path (file:///data/in/)".into(),
            });
        }
        return percent_decode(rest).ok_or_else(|| Error::Uri {
            uri: uri.into(),
            reason: "bad percent-escape in file:// URI".into(),
        });
    }
    if let Some((scheme, _)) = uri.split_once("://") {
        let hint = if scheme.eq_ignore_ascii_case("s3") {
            "s3:// URIs are read from S3 (or mapped to a folder with --s3-root DIR)"
        } else {
            "supported are local paths and file:// URIs"
        };
        return Err(Error::Uri {
            uri: uri.into(),
            reason: format!("scheme '{scheme}' is not supported: {hint}"),
        });
    }
    if uri.is_empty() {
        return Err(Error::Uri {
            uri: uri.into(),
            reason: "the URI is empty".into(),
        });
    }
    Ok(uri.to_string())
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Maps a URI to a local path: local paths and `file://` as `local_path` does, and, when an S3
/// root folder is configured, `s3://bucket/key` to `<root>/bucket/key`. Keys that would leave
/// the root (`..` segments, empty segments, backslashes) are refused.
pub fn resolve(uri: &str, s3_root: Option<&Path>) -> Result<String> {
    let Some(rest) = uri.strip_prefix("s3://") else {
        return local_path(uri);
    };
    let Some(root) = s3_root else {
        return local_path(uri);
    };
    let bad = |reason: &str| Error::Uri {
        uri: uri.into(),
        reason: reason.into(),
    };
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    if !bucket_ok(bucket) {
        return Err(bad(
            "the bucket name must be 3-63 lowercase letters, digits, '.' or '-'",
        ));
    }
    let segments: Vec<&str> = key.split('/').collect();
    let last = segments.len() - 1;
    for (i, seg) in segments.iter().enumerate() {
        if *seg == ".." || *seg == "." || seg.contains('\\') || (seg.is_empty() && i != last) {
            return Err(bad(
                "the key has a '.', '..' or empty segment, which would leave the S3 root",
            ));
        }
    }
    Ok(format!("{}/{bucket}/{key}", root.display()))
}

/// S3's bucket naming rule: 3-63 lowercase letters, digits, '.' or '-', starting and ending
/// with a letter or digit.
pub fn bucket_ok(bucket: &str) -> bool {
    (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && !bucket.starts_with(['.', '-'])
        && !bucket.ends_with(['.', '-'])
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
    fn schemes() {
        assert_eq!(local_path("in/x.txt").unwrap(), "in/x.txt");
        assert_eq!(local_path("file:///tmp/a%20b/").unwrap(), "/tmp/a b/");
        assert_eq!(local_path("file://localhost/tmp/x").unwrap(), "/tmp/x");
        let e = local_path("s3://bucket/key").unwrap_err().to_string();
        assert!(e.contains("s3") && e.contains("--s3-root"), "{e}");
        assert!(local_path("http://x/y")
            .unwrap_err()
            .to_string()
            .contains("file://"));
        assert!(local_path("file://relative").is_err());
        assert!(local_path("").is_err());
    }

    #[test]
    fn s3_uris_map_under_the_root_and_never_leave_it() {
        let root = Path::new("/srv/s3");
        assert_eq!(
            resolve("s3://bucket/in/a.txt", Some(root)).unwrap(),
            "/srv/s3/bucket/in/a.txt"
        );
        assert_eq!(
            resolve("s3://bucket/in/", Some(root)).unwrap(),
            "/srv/s3/bucket/in/"
        );
        assert_eq!(
            resolve("s3://bucket", Some(root)).unwrap(),
            "/srv/s3/bucket/"
        );
        for bad in [
            "s3://bucket/../etc/passwd",
            "s3://bucket/a/../../x",
            "s3://bucket//abs",
            "s3://Bucket/x",
            "s3://../x",
            "s3://bucket/a\\..\\b",
        ] {
            assert!(resolve(bad, Some(root)).is_err(), "{bad}");
        }
        assert!(resolve("s3://bucket/x", None).is_err());
        assert_eq!(resolve("in/x", Some(root)).unwrap(), "in/x");
    }

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
