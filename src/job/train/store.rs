//! Vectorizing for training: documents' term counts into one compact store
//! (`model::train::TfStore`), and the per-column weights a fit learns from its own rows (IDF,
//! label weighting) together with the hashed-space IDF the model keeps.

use crate::error::Result;
use crate::model::{Targets, TfScale, TfStore};
use crate::text::hash::idf_from_df;
use crate::text::{FeatureSpec, HashingVectorizer, VectorizerScratch};

use super::data::Corpus;

/// The part of a feature spec term counts depend on (how counts are scaled, IDF and
/// normalisation come later): specs with the same key share a store.
pub fn tf_key(spec: &FeatureSpec) -> FeatureSpec {
    FeatureSpec {
        sublinear_tf: false,
        idf: false,
        l2_normalize: false,
        label_weighting: false,
        ..spec.clone()
    }
}

/// Term counts of the corpus rows `rows` (store row `k` is corpus row `rows[k]`) under `spec`.
pub fn vectorize(spec: &FeatureSpec, corpus: &Corpus, rows: &[u32]) -> Result<TfStore> {
    let vectorizer = HashingVectorizer::new(tf_key(spec))?;
    Ok(TfStore::build(
        rows.len(),
        spec.n_features(),
        VectorizerScratch::default,
        |scratch, k, out| {
            vectorizer.term_frequencies_into(corpus.text(rows[k] as usize), scratch, out)
        },
    ))
}

/// How a spec scales counts.
pub fn tf_scale(spec: &FeatureSpec) -> TfScale {
    if spec.sublinear_tf {
        TfScale::Sublinear
    } else {
        TfScale::Raw
    }
}

/// Weights learned from the rows a model is fitted on.
pub struct ColumnWeights {
    /// Per store column: IDF times the label weight (1 without IDF).
    pub columns: Vec<f32>,
    /// Per hashed feature, what the model stores as IDF (empty without IDF): features these
    /// rows never hold get the IDF of a document frequency of zero, as at classification.
    pub idf: Vec<f32>,
}

/// IDF (and, with `label_weighting`, each feature's largest |log-count ratio| of one label
/// against the rest) learned on `rows` of `store`, whose labels `targets` gives by store row.
pub fn column_weights(
    spec: &FeatureSpec,
    store: &TfStore,
    targets: &Targets,
    rows: &[u32],
) -> ColumnWeights {
    if !spec.idf {
        return ColumnWeights {
            columns: vec![1.0; store.n_cols()],
            idf: Vec::new(),
        };
    }
    let df = store.df(rows);
    let mut columns = idf_from_df(&df, rows.len());
    if spec.label_weighting {
        scale_by_label_ratios(&mut columns, &df, store, targets, rows);
    }
    let unseen = idf_from_df(&[0], rows.len())[0];
    let mut idf = vec![unseen; store.n_features()];
    for (c, &j) in store.column_feature().iter().enumerate() {
        if df[c] > 0 {
            idf[j as usize] = columns[c];
        }
    }
    ColumnWeights { columns, idf }
}

/// Multiplies each seen column's weight by its largest |log-count ratio| of one label against
/// the rest among `rows` (documents containing the feature, add-one smoothed, each side
/// normalised by its total; NB-SVM), so features that tell labels apart weigh more.
fn scale_by_label_ratios(
    weights: &mut [f32],
    df: &[u32],
    store: &TfStore,
    targets: &Targets,
    rows: &[u32],
) {
    let n_labels = targets.n_labels;
    let n = weights.len();
    let in_label = store.df_by_label(rows, n_labels, |i| targets.get(i));
    let seen: Vec<usize> = (0..n).filter(|&j| df[j] > 0).collect();
    let mut best = vec![0f64; n];
    for l in 0..n_labels {
        let counts = &in_label[l * n..(l + 1) * n];
        let (mut p_sum, mut q_sum) = (0f64, 0f64);
        for &j in &seen {
            p_sum += f64::from(counts[j]) + 1.0;
            q_sum += f64::from(df[j] - counts[j]) + 1.0;
        }
        for &j in &seen {
            let p = (f64::from(counts[j]) + 1.0) / p_sum;
            let q = (f64::from(df[j] - counts[j]) + 1.0) / q_sum;
            best[j] = best[j].max((p / q).ln().abs());
        }
    }
    for &j in &seen {
        weights[j] *= best[j] as f32;
    }
}
