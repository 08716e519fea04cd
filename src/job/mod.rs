//! Jobs: the glue between the stages. `train` runs a training job; `run` runs a classification
//! job over the hot path; `record` and `store` keep Comprehend-shaped job records on disk.

pub mod record;
pub mod run;
pub mod shard;
pub mod store;
pub mod train;
