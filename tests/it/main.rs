//! Integration tests: one binary (see matklad's "Delete Cargo Integration Tests"), each module
//! running the real `docclass` binary on small fixtures in a fresh temporary folder.

mod classify;
mod faults;
mod service;
mod shards;
mod train;
mod util;
