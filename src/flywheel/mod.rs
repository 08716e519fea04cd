//! Flywheels: a classifier kept improving as labelled data keeps coming, as Comprehend's
//! flywheels do it. A flywheel has an active model version, a data lake (`lake`) its datasets
//! are copied into (TRAIN or TEST), and iterations (`iteration`) that train a new version on all
//! its training data and score it beside the active one on the same test data (`report`); the
//! user promotes the better one. Records (`record`) live in the service's state (`store`); the
//! operations that create and run them are the service's (`service::flywheels`).

pub mod iteration;
pub mod lake;
pub mod record;
pub mod report;
pub mod store;

pub use record::{DatasetRecord, FlywheelRecord, IterationRecord, ModelMetrics};
pub use store::{FlywheelArn, FlywheelStore};
