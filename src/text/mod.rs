//! Text to features: `tokenize` cuts normalised text into tokens, `hash` turns tokens into a
//! hashed, weighted, normalised sparse vector. Neither opens files nor knows about jobs; training
//! and classification share this one implementation so prediction re-creates features exactly.

pub mod hash;
pub mod tokenize;
mod wordcache;

pub use hash::{FeatureSpec, HashingVectorizer, SparseVec, VectorizerScratch};
pub use tokenize::{Token, Tokenizer};
