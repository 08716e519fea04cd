//! Output: `jsonl` writes Comprehend's prediction and error lines byte for byte (Python
//! `json.dumps` spacing and ASCII escaping, scores as `round(x, 4)`); `archive` wraps the lines
//! into `output.tar.gz`, one gzip member whose body is deflated in parallel chunks, written under
//! a temporary name and renamed into place only when complete. Nothing here tokenizes or scores.

pub mod archive;
pub mod jsonl;
pub mod target;

pub use archive::{ArchiveWriter, CompressedChunk};
pub use jsonl::{FileLine, JsonStyle, JsonlFormat};
