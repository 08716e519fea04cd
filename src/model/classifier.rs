//! A loaded, ready-to-score classifier: its metadata (`io::ModelMeta`), vectorizer and linear
//! model, and the one scoring path from text to probabilities that batch jobs and
//! ClassifyDocument share. Reading and writing the model folder is `io`'s.

use super::io::ModelMeta;
use super::linear::LinearModel;
use crate::text::{HashingVectorizer, SparseVec, VectorizerScratch};

/// A loaded, ready-to-score classifier: its metadata, vectorizer and linear model.
#[derive(Debug, Clone)]
pub struct Classifier {
    pub meta: ModelMeta,
    pub vectorizer: HashingVectorizer,
    pub model: LinearModel,
}

/// Buffers `Classifier::probabilities_into` reuses from one document to the next.
#[derive(Debug, Default)]
pub struct ScoreScratch {
    vectorizer: VectorizerScratch,
    tf: SparseVec,
    z: Vec<f64>,
}

impl Classifier {
    /// Probability per label of `text`, into `probs`: term frequencies, then IDF weighting,
    /// normalisation and the dot product in one pass. Batch jobs and ClassifyDocument both score
    /// through here, so the same text gets the same scores either way.
    pub fn probabilities_into(&self, text: &str, scratch: &mut ScoreScratch, probs: &mut Vec<f64>) {
        self.vectorizer
            .term_frequencies_into(text, &mut scratch.vectorizer, &mut scratch.tf);
        let l2 = self.vectorizer.spec().l2_normalize;
        self.model
            .decision_tf_into(&scratch.tf, self.vectorizer.idf(), l2, &mut scratch.z);
        self.model.link_into(&scratch.z, probs);
    }

    /// Assembles a classifier from its parts (after training).
    pub fn new(meta: ModelMeta, vectorizer: HashingVectorizer, model: LinearModel) -> Self {
        Classifier {
            meta,
            vectorizer,
            model,
        }
    }
}
