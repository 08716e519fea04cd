//! Input: where documents come from (`uri`: local paths and `file://` URIs with S3-style prefix
//! semantics), how their bytes are obtained (`mmap`: memory map with a read fallback), how they
//! are cut into documents (`split`), and labelled training data (`csv`, `labeled`). Nothing here
//! tokenizes or scores.

pub mod csv;
pub mod guard;
pub mod labeled;
pub mod mmap;
pub mod split;
pub mod uri;

pub use mmap::{FileBytes, LineSource, MmapChoice};
pub use split::SplitMode;
pub use uri::{InputFile, Listing};

/// What to do with bytes that are not valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Utf8Policy {
    /// Refuse the input with an error naming the file and byte offset (training's default).
    Error,
    /// Emit an error record for the document and skip the rest of its file (Comprehend's rule).
    SkipRest,
    /// Emit an error record for the document and carry on with the next one.
    SkipDocument,
    /// Decode with U+FFFD replacement characters and use the document.
    Lossy,
}

impl std::str::FromStr for Utf8Policy {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s {
            "error" => Ok(Utf8Policy::Error),
            "skip-rest" => Ok(Utf8Policy::SkipRest),
            "skip-document" => Ok(Utf8Policy::SkipDocument),
            "lossy" => Ok(Utf8Policy::Lossy),
            other => Err(crate::Error::param(
                "--on-invalid-utf8",
                format!("expected error, skip-rest, skip-document or lossy, got '{other}'"),
            )),
        }
    }
}
