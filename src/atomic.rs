//! Files that appear whole or not at all: every record, model file and status file docclass
//! writes goes through a temporary file beside its final name and a rename (or, to create
//! exclusively, a hard link), so a reader never sees half a file and a crash leaves only a
//! temporary file behind. Used by the job store, the model writer and the service's records.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Writes `bytes` to `path` through a temporary file and a rename, so readers never see half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    publish(path, bytes, |tmp, path| fs::rename(tmp, path)).map_err(|e| Error::io(path, e))
}

/// Like `write_atomic`, but fails with `AlreadyExists` instead of replacing an existing file, so
/// of several processes creating the same path at once exactly one wins (a hard link is atomic
/// and exclusive).
pub fn create_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    publish(path, bytes, |tmp, path| fs::hard_link(tmp, path))
}

/// Writes `bytes` to a temporary file beside `path` (named by process and call, so concurrent
/// writers never share one), syncs it, and hands it to `place`; the temporary file is gone after.
fn publish(
    path: &Path,
    bytes: &[u8],
    place: impl FnOnce(&Path, &Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!(
        "{}.tmp-{}-{call}",
        path.extension().and_then(|e| e.to_str()).unwrap_or(""),
        std::process::id()
    ));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        place(&tmp, path)
    })();
    let _ = fs::remove_file(&tmp);
    result
}
