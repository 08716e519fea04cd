//! Jobs: the glue between the stages, one room per step of a job's trip.
//!
//! * `config`: a classification job's validated settings (`ClassifyConfig`, `Shard`).
//! * `plan`: the input as work units of about 1 MiB, in order (`Planner`, `Unit`).
//! * `worker`: one unit to its compressed lines of `predictions.jsonl` (`Worker`).
//! * `driver`: waves of units through pooled workers, appended in order (`classify_into`).
//! * `lifecycle`: submit, execute, run a job, with its records (`run_job`).
//! * `shard` and merge: one job split across machines.
//! * `record` and `store`: Comprehend-shaped job records on disk.
//! * `train`: the training job (read, vectorize, evaluate, fit, write the model).

pub mod config;
pub mod driver;
pub mod lifecycle;
pub mod plan;
pub mod record;
pub mod shard;
pub mod store;
pub mod train;
pub mod worker;

pub use config::{ClassifyConfig, Shard, DEFAULT_COMPRESSION_LEVEL, UNIT_BYTES};
pub use driver::{classify_into, classify_part, JobProgress};
pub use lifecycle::{execute, prepare, run_job, submit};
