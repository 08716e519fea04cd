//! Integration tests: one binary (see matklad's "Delete Cargo Integration Tests"), each module
//! running the real `docclass` binary on small fixtures in a fresh temporary folder, with the
//! helpers of `util`. Features add the groups that need more than the repository:
//! `s3-server` (`s3`: a real S3 server, s3s-fs) and `shared-data` (`shared_data`: the corpora in
//! ../shared/data), `ocr` (`ocr`: images and scans through the real Tesseract) and `botocore`
//! (`api_model`: the API table against the installed botocore);
//! each fails, never skips, when what it needs is missing.

#[cfg(feature = "botocore")]
mod api_model;
mod classify;
mod documents;
mod faults;
mod flywheel;
#[cfg(feature = "ocr")]
mod ocr;
#[cfg(feature = "s3-server")]
mod s3;
mod service;
mod shards;
#[cfg(feature = "shared-data")]
mod shared_data;
mod snapshots;
mod train;
mod util;
