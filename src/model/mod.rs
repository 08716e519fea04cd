//! Models: the fitted linear classifier (`linear`) and the scoring path over it (`classifier`),
//! its learner (`train`: sparse logistic regression, L-BFGS), the evaluation metrics Comprehend
//! reports (`metrics`), the versioned on-disk format (`io`), the classifier's properties record
//! (`record`) and the registry that maps classifier ARNs to folders (`registry`). No module here
//! reads documents.

pub mod classifier;
pub mod io;
pub mod linear;
pub mod metrics;
pub mod record;
pub mod registry;
pub mod train;

pub use classifier::{Classifier, ScoreScratch};
pub use io::ModelFiles;
pub use linear::{LinearModel, Mode};
pub use record::ClassifierRecord;
pub use train::{ClassWeight, Design, Fitted, SparseRows, Targets, TfScale, TfStore, TrainParams};
