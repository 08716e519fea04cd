//! Where data lives: a local path, a `file://` URI, or `s3://bucket/key`, which is real S3 or,
//! when an S3 root folder is configured, a folder under it. Input listings (`input::listing`),
//! output targets (`output::target`) and the service all resolve URIs here, so one set of rules
//! decides what a URI means and which keys are refused.

use std::path::Path;

use crate::error::{Error, Result};
use crate::s3::S3Uri;

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
            "s3:// URIs are read from S3 (or from a folder, when an S3 root folder is configured)"
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert_eq!(local_path("in/x.txt").unwrap(), "in/x.txt");
        assert_eq!(local_path("file:///tmp/a%20b/").unwrap(), "/tmp/a b/");
        assert_eq!(local_path("file://localhost/tmp/x").unwrap(), "/tmp/x");
        let e = local_path("s3://bucket/key").unwrap_err().to_string();
        assert!(e.contains("s3") && e.contains("S3 root"), "{e}");
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
}
