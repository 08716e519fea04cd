//! Where results go. A local path is written under a temporary name and renamed into place
//! (`archive`). An S3 object is written to a local spool file first (the archive's tar header is
//! patched in place at the end, which needs a seekable file), then uploaded as a multipart
//! upload that completes only when the whole file is in: either way, nothing is ever visible at
//! the final name until it is complete.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::atomic::write_atomic;
use crate::error::{Error, Result};
use crate::location;
use crate::s3::{self, RangeReader, S3Object, S3Uri};

/// One output file.
#[derive(Debug, Clone)]
pub enum Target {
    Local(PathBuf),
    Remote { uri: S3Uri, spool: PathBuf },
}

/// Folder for spool files: `DOCCLASS_SPOOL_DIR`, else the system's temporary folder.
fn spool_dir() -> PathBuf {
    std::env::var_os("DOCCLASS_SPOOL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("docclass-spool"))
}

impl Target {
    /// The target for `uri`; `tag` keeps concurrent jobs' spool files apart.
    pub fn new(uri_str: &str, s3_root: Option<&Path>, tag: &str) -> Result<Target> {
        if location::is_remote(uri_str, s3_root) {
            let uri = S3Uri::parse(uri_str)?;
            let name = uri.key.rsplit('/').next().unwrap_or_default();
            let name = if name.is_empty() { "object" } else { name };
            let spool = spool_dir().join(tag).join(name);
            return Ok(Target::Remote { uri, spool });
        }
        Ok(Target::Local(PathBuf::from(location::resolve(
            uri_str, s3_root,
        )?)))
    }

    /// Where the file is written on this machine.
    pub fn path(&self) -> &Path {
        match self {
            Target::Local(p) => p,
            Target::Remote { spool, .. } => spool,
        }
    }

    /// Runs `write` to produce the file at `path()`, then makes it visible: a spooled file is
    /// uploaded and removed; a local file is already in place. On failure no spool is left.
    pub fn produce<T>(&self, write: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
        let out = write(self.path()).inspect_err(|_| self.discard())?;
        self.publish()?;
        Ok(out)
    }

    fn publish(&self) -> Result<()> {
        match self {
            Target::Local(_) => Ok(()),
            Target::Remote { uri, spool } => {
                let result = s3::upload(spool, uri);
                self.discard();
                result
            }
        }
    }

    /// Removes a spool file (and its folder); local targets need nothing.
    fn discard(&self) {
        if let Target::Remote { spool, .. } = self {
            let _ = fs::remove_file(spool);
            if let Some(dir) = spool.parent() {
                let _ = fs::remove_dir(dir);
            }
        }
    }
}

/// A folder of small records and part files (a sharded job's `parts/`), local or in S3.
#[derive(Debug, Clone)]
pub enum Folder {
    Local(PathBuf),
    Remote(S3Uri),
}

impl Folder {
    /// `uri` names the folder (a trailing `/` is added where missing).
    pub fn new(uri_str: &str, s3_root: Option<&Path>) -> Result<Folder> {
        let with_slash = if uri_str.ends_with('/') {
            uri_str.to_string()
        } else {
            format!("{uri_str}/")
        };
        if location::is_remote(&with_slash, s3_root) {
            return Ok(Folder::Remote(S3Uri::parse(&with_slash)?));
        }
        Ok(Folder::Local(PathBuf::from(location::resolve(
            &with_slash,
            s3_root,
        )?)))
    }

    /// How the folder is named in messages.
    pub fn display(&self) -> String {
        match self {
            Folder::Local(p) => p.display().to_string(),
            Folder::Remote(u) => u.to_string(),
        }
    }

    /// The names of the files directly in the folder, with their sizes; empty if it is missing.
    pub fn list(&self) -> Result<Vec<(String, u64)>> {
        match self {
            Folder::Local(dir) => {
                let entries = match fs::read_dir(dir) {
                    Ok(e) => e,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                    Err(e) => return Err(Error::io(dir, e)),
                };
                let mut out = Vec::new();
                for entry in entries {
                    let entry = entry.map_err(|e| Error::io(dir, e))?;
                    let meta = entry.metadata().map_err(|e| Error::io(entry.path(), e))?;
                    if meta.is_file() {
                        out.push((entry.file_name().to_string_lossy().into_owned(), meta.len()));
                    }
                }
                Ok(out)
            }
            Folder::Remote(prefix) => Ok(s3::list(prefix)?
                .into_iter()
                .filter_map(|o| {
                    let name = o.uri.key.strip_prefix(prefix.key.as_str())?;
                    (!name.contains('/')).then(|| (name.to_string(), o.len))
                })
                .collect()),
        }
    }

    pub fn read(&self, name: &str) -> Result<Vec<u8>> {
        match self {
            Folder::Local(dir) => {
                let p = dir.join(name);
                fs::read(&p).map_err(|e| Error::io(p, e))
            }
            Folder::Remote(prefix) => s3::read_all(&prefix.join(name)),
        }
    }

    /// Streams the file `name` of `len` bytes.
    pub fn reader(&self, name: &str, len: u64) -> Result<Box<dyn Read + Send>> {
        match self {
            Folder::Local(dir) => {
                let p = dir.join(name);
                Ok(Box::new(fs::File::open(&p).map_err(|e| Error::io(p, e))?))
            }
            Folder::Remote(prefix) => Ok(Box::new(RangeReader::open(&S3Object {
                uri: prefix.join(name),
                len,
            })?)),
        }
    }

    /// Writes a small file atomically.
    pub fn put(&self, name: &str, bytes: Vec<u8>) -> Result<()> {
        match self {
            Folder::Local(dir) => {
                fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
                write_atomic(&dir.join(name), &bytes)
            }
            Folder::Remote(prefix) => s3::put(&prefix.join(name), bytes),
        }
    }

    /// The target for writing a large file `name`.
    pub fn target(&self, name: &str, tag: &str) -> Target {
        match self {
            Folder::Local(dir) => Target::Local(dir.join(name)),
            Folder::Remote(prefix) => Target::Remote {
                uri: prefix.join(name),
                spool: spool_dir().join(tag).join(name),
            },
        }
    }

    /// Removes `name`; a missing file is not an error.
    pub fn remove(&self, name: &str) -> Result<()> {
        match self {
            Folder::Local(dir) => match fs::remove_file(dir.join(name)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(Error::io(dir.join(name), e))
                }
                _ => Ok(()),
            },
            Folder::Remote(prefix) => s3::delete(&prefix.join(name)),
        }
    }

    /// Removes every file in the folder, and the folder itself where folders exist.
    pub fn remove_all(&self) -> Result<()> {
        for (name, _) in self.list()? {
            self.remove(&name)?;
        }
        if let Folder::Local(dir) = self {
            let _ = fs::remove_dir(dir);
        }
        Ok(())
    }
}
