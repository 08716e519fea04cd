//! A loaded, ready-to-score classifier: its metadata (`io::ModelMeta`), vectorizer and linear
//! model, and the one scoring path from text to probabilities that batch jobs and
//! ClassifyDocument share. Reading and writing the model folder is `io`'s.

use super::io::ModelMeta;
use super::linear::{LinearModel, PairedDot, PairedWeights};
use crate::text::{HashingVectorizer, SparseVec, VectorizerScratch};

/// A loaded, ready-to-score classifier: its metadata, vectorizer and linear model.
#[derive(Debug, Clone)]
pub struct Classifier {
    pub meta: ModelMeta,
    vectorizer: HashingVectorizer,
    model: LinearModel,
    /// One-head models: IDF and weight side by side, one cache line per feature instead of two.
    paired: Option<PairedWeights>,
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
        let l2 = self.vectorizer.spec().l2_normalize;
        match &self.paired {
            Some(paired) => {
                // Counting, IDF, normalisation and the dot product in one pass over the distinct
                // features, whose weights were asked for while counting.
                let mut dot = PairedDot::default();
                let add = paired.adder();
                self.vectorizer.for_each_term_frequency(
                    text,
                    &mut scratch.vectorizer,
                    paired.prefetcher(),
                    |j, tf| add(&mut dot, j, tf),
                );
                paired.finish(dot, self.model.bias()[0], l2, &mut scratch.z)
            }
            None => {
                self.vectorizer.term_frequencies_into(
                    text,
                    &mut scratch.vectorizer,
                    &mut scratch.tf,
                );
                self.model
                    .decision_tf_into(&scratch.tf, self.vectorizer.idf(), l2, &mut scratch.z)
            }
        }
        self.model.link_into(&scratch.z, probs);
    }

    /// Assembles a classifier from its parts (after training or loading).
    pub fn new(meta: ModelMeta, vectorizer: HashingVectorizer, model: LinearModel) -> Self {
        let paired = (model.heads() == 1).then(|| PairedWeights::new(&model, vectorizer.idf()));
        Classifier {
            meta,
            vectorizer,
            model,
            paired,
        }
    }

    /// How text becomes features.
    pub fn vectorizer(&self) -> &HashingVectorizer {
        &self.vectorizer
    }

    /// The fitted weights, labels and mode.
    pub fn model(&self) -> &LinearModel {
        &self.model
    }
}
