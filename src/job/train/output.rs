//! Comprehend's training output: with `OutputDataConfig.S3Uri`, a finished training writes
//! `<S3Uri>/<account>-CLR-<id>/output/output.tar.gz` holding `confusion_matrix.json` (and, from
//! docclass, the report), and `DescribeDocumentClassifier` points `OutputDataConfig.S3Uri` at it.

use std::io::Write;
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;

use crate::atomic::write_atomic;
use crate::error::{Error, Result};
use crate::output::target::Target;

/// `<prefix>/<account>-CLR-<id>/output/output.tar.gz`, joined with one `/`.
pub fn archive_uri(prefix: &str, account: &str, id: &str) -> String {
    let sep = if prefix.ends_with('/') { "" } else { "/" };
    format!("{prefix}{sep}{account}-CLR-{id}/output/output.tar.gz")
}

/// A gzipped tar of `files` (name, bytes), each a regular file with mode 0644 and `mtime`.
pub fn tar_gz(files: &[(&str, &[u8])], mtime: u64) -> Result<Vec<u8>> {
    let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::new(6)));
    for (name, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, name, *bytes).map_err(|e| {
            Error::Training(format!("writing {name} into the training output: {e}"))
        })?;
    }
    let gz = tar
        .into_inner()
        .map_err(|e| Error::Training(format!("finishing the training output: {e}")))?;
    let mut bytes = gz
        .finish()
        .map_err(|e| Error::Training(format!("finishing the training output: {e}")))?;
    bytes.flush().ok();
    Ok(bytes)
}

/// Writes the archive to `uri` (local path, `file://` or `s3://`), never half-written.
pub fn write(uri: &str, s3_root: Option<&Path>, tag: &str, archive: &[u8]) -> Result<()> {
    let target = Target::new(uri, s3_root, tag)?;
    target.produce(|path| {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        write_atomic(path, archive)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn archive_holds_the_files_as_given() {
        let bytes = tar_gz(
            &[("confusion_matrix.json", b"{}"), ("report.html", b"<html>")],
            7,
        )
        .unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
        let mut seen = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let mut body = String::new();
            entry.read_to_string(&mut body).unwrap();
            seen.push((
                entry.path().unwrap().display().to_string(),
                body,
                entry.header().mtime().unwrap(),
            ));
        }
        assert_eq!(
            seen,
            vec![
                ("confusion_matrix.json".into(), "{}".into(), 7),
                ("report.html".into(), "<html>".into(), 7)
            ]
        );
    }

    #[test]
    fn uri_follows_comprehend() {
        assert_eq!(
            archive_uri("s3://b/out/", "111122223333", "abc"),
            "s3://b/out/111122223333-CLR-abc/output/output.tar.gz"
        );
        assert_eq!(
            archive_uri("s3://b/out", "111122223333", "abc"),
            "s3://b/out/111122223333-CLR-abc/output/output.tar.gz"
        );
    }
}
