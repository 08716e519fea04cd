//! Input: which files a URI names (`listing`, with S3's prefix semantics), how their bytes are
//! obtained (`mmap`: memory map with a read fallback, `guard`: surviving files truncated under a
//! map), how they are cut into documents (`split`), and labelled training data (`csv`,
//! `labeled`), and semi-structured documents (`document`: PDF, Word, images, Textract JSON into
//! pages of text). Nothing here tokenizes or scores.

pub mod csv;
pub mod document;
pub mod guard;
pub mod labeled;
pub mod listing;
pub mod mmap;
pub mod split;

pub use listing::{InputFile, Listing};
pub use mmap::{FileBytes, LineSource, MmapChoice};
pub use split::SplitMode;

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
