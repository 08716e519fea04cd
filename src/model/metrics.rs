//! Evaluation as Comprehend reports it: `EvaluationMetrics` (accuracy, macro and micro precision,
//! recall and F1, Hamming loss) and `confusion_matrix.json`. Definitions follow scikit-learn's
//! `precision_recall_fscore_support`, to which Comprehend's documentation points: macro averages
//! are unweighted means over the labels present in the truth or the predictions, and a ratio with
//! a zero denominator counts as 0.

use serde::{Deserialize, Serialize};

use super::linear::Mode;

/// Comprehend's `EvaluationMetrics` shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EvaluationMetrics {
    pub accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1_score: f64,
    pub micro_precision: f64,
    pub micro_recall: f64,
    pub micro_f1_score: f64,
    pub hamming_loss: f64,
}

/// Comprehend's `ClassifierMetadata` shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClassifierMetadata {
    pub number_of_labels: usize,
    pub number_of_trained_documents: usize,
    pub number_of_test_documents: usize,
    pub evaluation_metrics: EvaluationMetrics,
}

/// `confusion_matrix.json`: rows are the actual label, columns the predicted one. Multi-label
/// models get one 2×2 matrix per label (rows actual No/Yes, columns predicted No/Yes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    #[serde(rename = "type")]
    pub kind: String,
    pub confusion_matrix: serde_json::Value,
    pub labels: Vec<String>,
    pub all_labels: Vec<String>,
}

/// Per-label counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LabelCounts {
    pub tp: u64,
    pub fp: u64,
    pub fn_: u64,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

/// Computes the metrics and confusion matrix of `predicted` against `truth` (label indices per
/// document; exactly one each in MULTI_CLASS).
pub fn evaluate(
    mode: Mode,
    labels: &[String],
    truth: &[Vec<u32>],
    predicted: &[Vec<u32>],
) -> (EvaluationMetrics, ConfusionMatrix) {
    assert_eq!(truth.len(), predicted.len(), "one prediction per document");
    let k = labels.len();
    let n = truth.len();
    let mut counts = vec![LabelCounts::default(); k];
    let mut present = vec![false; k];
    let mut exact = 0u64;
    let mut wrong_pairs = 0u64;
    for (t, p) in truth.iter().zip(predicted) {
        let mut ts: Vec<u32> = t.clone();
        let mut ps: Vec<u32> = p.clone();
        ts.sort_unstable();
        ts.dedup();
        ps.sort_unstable();
        ps.dedup();
        if ts == ps {
            exact += 1;
        }
        for &l in &ts {
            present[l as usize] = true;
            if ps.binary_search(&l).is_ok() {
                counts[l as usize].tp += 1;
            } else {
                counts[l as usize].fn_ += 1;
                wrong_pairs += 1;
            }
        }
        for &l in &ps {
            present[l as usize] = true;
            if ts.binary_search(&l).is_err() {
                counts[l as usize].fp += 1;
                wrong_pairs += 1;
            }
        }
    }
    let used: Vec<&LabelCounts> = counts
        .iter()
        .zip(&present)
        .filter(|(_, &p)| p)
        .map(|(c, _)| c)
        .collect();
    let denom = used.len().max(1) as f64;
    let precision = used.iter().map(|c| ratio(c.tp, c.tp + c.fp)).sum::<f64>() / denom;
    let recall = used.iter().map(|c| ratio(c.tp, c.tp + c.fn_)).sum::<f64>() / denom;
    let f1_score = used
        .iter()
        .map(|c| f1(ratio(c.tp, c.tp + c.fp), ratio(c.tp, c.tp + c.fn_)))
        .sum::<f64>()
        / denom;
    let (tp, fp, fn_) = counts
        .iter()
        .fold((0, 0, 0), |a, c| (a.0 + c.tp, a.1 + c.fp, a.2 + c.fn_));
    let micro_precision = ratio(tp, tp + fp);
    let micro_recall = ratio(tp, tp + fn_);
    let accuracy = ratio(exact, n as u64);
    let hamming_loss = match mode {
        Mode::MultiClass => 1.0 - accuracy,
        Mode::MultiLabel => ratio(wrong_pairs, (n * k) as u64),
    };
    let metrics = EvaluationMetrics {
        accuracy,
        precision,
        recall,
        f1_score,
        micro_precision,
        micro_recall,
        micro_f1_score: f1(micro_precision, micro_recall),
        hamming_loss,
    };
    let matrix = match mode {
        Mode::MultiClass => {
            let mut m = vec![vec![0u64; k]; k];
            for (t, p) in truth.iter().zip(predicted) {
                if let (Some(&a), Some(&b)) = (t.first(), p.first()) {
                    m[a as usize][b as usize] += 1;
                }
            }
            serde_json::json!(m)
        }
        Mode::MultiLabel => {
            let per_label: Vec<[[u64; 2]; 2]> = (0..k)
                .map(|l| {
                    let c = counts[l];
                    let tn = n as u64 - c.tp - c.fp - c.fn_;
                    [[tn, c.fp], [c.fn_, c.tp]]
                })
                .collect();
            serde_json::json!(per_label)
        }
    };
    let confusion = ConfusionMatrix {
        kind: match mode {
            Mode::MultiClass => "multi_class",
            Mode::MultiLabel => "multi_label",
        }
        .into(),
        confusion_matrix: matrix,
        labels: labels.to_vec(),
        all_labels: labels.to_vec(),
    };
    (metrics, confusion)
}

/// Precision, recall and F1 of one label, with its support (documents truly carrying it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LabelScore {
    pub name: String,
    pub precision: f64,
    pub recall: f64,
    pub f1_score: f64,
    pub support: u64,
}

/// Per-label scores of `predicted` against `truth`.
pub fn per_label(labels: &[String], truth: &[Vec<u32>], predicted: &[Vec<u32>]) -> Vec<LabelScore> {
    let mut counts = vec![LabelCounts::default(); labels.len()];
    for (t, p) in truth.iter().zip(predicted) {
        for &l in t {
            if p.contains(&l) {
                counts[l as usize].tp += 1;
            } else {
                counts[l as usize].fn_ += 1;
            }
        }
        for &l in p {
            if !t.contains(&l) {
                counts[l as usize].fp += 1;
            }
        }
    }
    labels
        .iter()
        .zip(counts)
        .map(|(name, c)| {
            let (p, r) = (ratio(c.tp, c.tp + c.fp), ratio(c.tp, c.tp + c.fn_));
            LabelScore {
                name: name.clone(),
                precision: p,
                recall: r,
                f1_score: f1(p, r),
                support: c.tp + c.fn_,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn multi_class_hand_computed() {
        // Truth a a a b b c c, predicted a a b b c c a (4 of 7 right), by hand:
        //   a: tp 2 fp 1 fn 1 → P 2/3 R 2/3 F1 2/3
        //   b: tp 1 fp 1 fn 1 → P 1/2 R 1/2 F1 1/2
        //   c: tp 1 fp 1 fn 1 → P 1/2 R 1/2 F1 1/2
        let truth: Vec<Vec<u32>> = [0, 0, 0, 1, 1, 2, 2].iter().map(|&l| vec![l]).collect();
        let pred: Vec<Vec<u32>> = [0, 0, 1, 1, 2, 2, 0].iter().map(|&l| vec![l]).collect();
        let (m, cm) = evaluate(Mode::MultiClass, &names(&["a", "b", "c"]), &truth, &pred);
        assert!((m.accuracy - 4.0 / 7.0).abs() < 1e-12);
        let p = (2.0 / 3.0 + 0.5 + 0.5) / 3.0;
        assert!((m.precision - p).abs() < 1e-12);
        assert!((m.recall - p).abs() < 1e-12);
        assert!((m.f1_score - p).abs() < 1e-12);
        assert!((m.micro_f1_score - 4.0 / 7.0).abs() < 1e-12);
        assert!((m.hamming_loss - 3.0 / 7.0).abs() < 1e-12);
        assert_eq!(
            cm.confusion_matrix,
            serde_json::json!([[2, 1, 0], [0, 1, 1], [1, 0, 1]])
        );
        assert_eq!(
            serde_json::to_string(&cm).unwrap(),
            r#"{"type":"multi_class","confusion_matrix":[[2,1,0],[0,1,1],[1,0,1]],"labels":["a","b","c"],"all_labels":["a","b","c"]}"#
        );
    }

    #[test]
    fn macro_f1_is_mean_of_per_label_f1() {
        // a: tp 3 fp 0 fn 2 (P 1, R .6, F1 .75); b: tp 1 fp 2 fn 0 (P 1/3, R 1, F1 .5).
        let truth: Vec<Vec<u32>> = [0, 0, 0, 0, 0, 1].iter().map(|&l| vec![l]).collect();
        let pred: Vec<Vec<u32>> = [0, 0, 0, 1, 1, 1].iter().map(|&l| vec![l]).collect();
        let (m, _) = evaluate(Mode::MultiClass, &names(&["a", "b"]), &truth, &pred);
        assert!((m.f1_score - 0.625).abs() < 1e-12, "{}", m.f1_score);
        assert!((m.precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.recall - 0.8).abs() < 1e-12);
    }

    #[test]
    fn multi_label_hand_computed() {
        // doc0 truth {a,b} pred {a}; doc1 truth {c} pred {c,b}; doc2 truth {a} pred {a}.
        let truth = vec![vec![0, 1], vec![2], vec![0]];
        let pred = vec![vec![0], vec![2, 1], vec![0]];
        let (m, cm) = evaluate(Mode::MultiLabel, &names(&["a", "b", "c"]), &truth, &pred);
        assert!((m.accuracy - 1.0 / 3.0).abs() < 1e-12);
        // 2 wrong (doc, label) pairs of 9.
        assert!((m.hamming_loss - 2.0 / 9.0).abs() < 1e-12);
        // tp 3 (a, a, c), fp 1 (b), fn 1 (b).
        assert!((m.micro_precision - 0.75).abs() < 1e-12);
        assert!((m.micro_recall - 0.75).abs() < 1e-12);
        assert_eq!(
            cm.confusion_matrix,
            serde_json::json!([[[1, 0], [0, 2]], [[1, 1], [1, 0]], [[2, 0], [0, 1]]])
        );
    }
}
