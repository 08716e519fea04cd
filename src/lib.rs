//! docclass: Amazon Comprehend's custom document classification, offline.
//!
//! A classification job moves documents through these stages, one module each:
//!
//! 1. [`input`]: a URI names one file or a prefix of files (`listing`); each file's bytes are
//!    memory-mapped or read (`mmap`) and cut into documents, one per file or one per line
//!    (`split`).
//! 2. [`text`]: each document is tokenized and turned into a hashed, TF-IDF weighted sparse vector.
//! 3. [`model`]: a linear model scores the vector (softmax or sigmoid by mode).
//! 4. [`output`]: one `predictions.jsonl` line per document, in input order, streamed into a
//!    single-member gzip tar (`output.tar.gz`) that appears atomically.
//! 5. [`job`]: the glue (`plan` → `worker` → `driver`, run by `lifecycle`; `train` for
//!    training) and the job records (`record`, `store`) in Comprehend's
//!    `DocumentClassificationJobProperties` shape.
//!
//! Beside the stages: [`location`] (what a URI means: local, S3, a mapped S3 root), [`s3`] (real
//! S3), [`atomic`] (files that appear whole), [`aws`] (ARNs, ids, times and the API model's
//! table), [`rng`] (the seeded generator), [`error`]. [`service`] serves Comprehend's wire
//! protocol over the same engine, job store and registry, so the AWS CLI and boto3 run docclass
//! jobs with `--endpoint-url`.
//!
//! Training reads labelled data (`input::labeled`), shares stage 2 with classification, fits
//! the model with sparse L-BFGS (`model::train`) and evaluates it as Comprehend reports it
//! (`model::metrics`). [`flywheel`] keeps a classifier improving: datasets copied into a data
//! lake, iterations that train a new version and score it beside the active one.

pub mod atomic;
pub mod aws;
pub mod error;
pub mod flywheel;
pub mod input;
pub mod job;
pub mod location;
pub mod model;
pub mod output;
mod prefetch;
pub mod rng;
pub mod s3;
pub mod service;
pub mod text;

pub use error::{Error, Param, Result};
