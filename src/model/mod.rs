//! Models: the fitted linear classifier (`linear`), its learner (`train`, sparse L-BFGS), the
//! evaluation metrics Comprehend reports (`metrics`), the versioned on-disk format (`io`) and the
//! registry that maps classifier ARNs to folders (`registry`). No module here reads documents.

pub mod io;
pub mod lbfgs;
pub mod linear;
pub mod metrics;
pub mod registry;
pub mod train;

pub use io::{Classifier, ModelFiles};
pub use linear::{LinearModel, Mode};
pub use train::{ClassWeight, SparseRows, Targets, TrainParams};
