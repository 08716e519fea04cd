//! Tests on the real corpora in `../shared/data` (SMS spam, SpamAssassin, 20 Newsgroups). Run by
//! `.ci/run` with `--features shared-data`; they fail, never skip, when the data is missing.
//! Thresholds sit just under the figures measured with 5-fold cross-validation (README).

use std::path::Path;

use crate::util::{ok_in, repo};

fn data(rel: &str) -> String {
    let p = repo().join("../shared/data").join(rel);
    assert!(
        p.exists(),
        "{} is missing: these tests need the shared corpora beside the repository (../shared/data)",
        p.display()
    );
    p.display().to_string()
}

fn docclass(cwd: &Path, args: &[&str]) -> serde_json::Value {
    ok_in(cwd, args)
}

fn pooled(cv: &serde_json::Value, label: &str) -> (f64, f64, f64) {
    let l = cv["PerLabel"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["Name"] == label)
        .unwrap();
    (
        cv["Pooled"]["Accuracy"].as_f64().unwrap(),
        l["F1Score"].as_f64().unwrap(),
        l["Recall"].as_f64().unwrap(),
    )
}

/// The shipped model is exactly what the README's training command produces.
#[test]
fn shipped_spam_ham_model_is_reproducible() {
    data("sms_spam/train.csv");
    let reg = tempfile::tempdir().unwrap();
    let reg_arg = reg.path().display().to_string();
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.contains("docclass train --name spam-ham"))
        .expect("README shows the spam-ham training command");
    let args: Vec<&str> = line
        .split("docclass ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .filter(|a| *a != "--overwrite")
        .collect();
    let mut args = args.clone();
    args.extend_from_slice(&["--model-registry", &reg_arg, "-q"]);
    docclass(&repo(), &args);
    for f in ["weights.bin", "model.json", "confusion_matrix.json"] {
        let built = std::fs::read(reg.path().join("spam-ham").join(f)).unwrap();
        let shipped = std::fs::read(repo().join("models/spam-ham").join(f)).unwrap();
        assert!(
            built == shipped,
            "{f} differs from the shipped model: retrain with the README command"
        );
    }
}

#[test]
fn sms_spam_cross_validation() {
    let train = data("sms_spam/train.csv");
    let cv = docclass(
        &repo(),
        &[
            "cross-validate",
            "--train",
            &train,
            "--class-weight",
            "balanced",
            "--char-ngrams",
            "1-4",
            "-q",
        ],
    );
    let (acc, f1, recall) = pooled(&cv, "spam");
    assert!(acc >= 0.988, "accuracy {acc}");
    assert!(f1 >= 0.96, "spam F1 {f1}");
    assert!(recall >= 0.935, "spam recall {recall}");
}

/// The SpamAssassin recipe from the README.
const SPAMASSASSIN: &[&str] = &[
    "--format",
    "LABEL_FOLDERS",
    "--on-invalid-utf8",
    "lossy",
    "--char-ngrams",
    "none",
    "--c",
    "100",
    "--class-weight",
    "none",
];

#[test]
fn spamassassin_cross_validation() {
    let train = data("spamassassin/train");
    let mut args = vec!["cross-validate", "--train", &train, "-q"];
    args.extend_from_slice(SPAMASSASSIN);
    let cv = docclass(&repo(), &args);
    let (acc, f1, _) = pooled(&cv, "spam");
    assert!(acc >= 0.99, "accuracy {acc}");
    assert!(f1 >= 0.984, "spam F1 {f1}");
}

/// The 20 Newsgroups recipe from the README.
const NEWS20: &[&str] = &[
    "--format",
    "LABEL_FOLDERS",
    "--on-invalid-utf8",
    "lossy",
    "--char-ngrams",
    "none",
    "--no-symbols",
    "--no-digit-shapes",
    "--word-ngrams",
    "1",
    "--c",
    "100",
];

#[test]
fn news20_cross_validation() {
    let train = data("20news/train");
    let mut args = vec!["cross-validate", "--train", &train, "-q"];
    args.extend_from_slice(NEWS20);
    let cv = docclass(&repo(), &args);
    let acc = cv["Pooled"]["Accuracy"].as_f64().unwrap();
    assert!(acc >= 0.925, "accuracy {acc}");
}

#[test]
fn news20_train_and_classify_one_doc_per_file() {
    let train = data("20news/train");
    let w = tempfile::tempdir().unwrap();
    let reg = w.path().join("models").display().to_string();
    let mut args = vec![
        "train",
        "--name",
        "news20",
        "--train",
        &train,
        "--model-registry",
        &reg,
        "-q",
    ];
    args.extend_from_slice(NEWS20);
    let props = docclass(w.path(), &args);
    let meta = &props["DocumentClassifierProperties"]["ClassifierMetadata"];
    assert_eq!(meta["NumberOfLabels"], 20);
    let acc = meta["EvaluationMetrics"]["Accuracy"].as_f64().unwrap();
    assert!(acc >= 0.9, "held-out accuracy {acc}");

    let input = format!("{train}/");
    let job = docclass(
        w.path(),
        &[
            "classify",
            "--input",
            &input,
            "--input-format",
            "ONE_DOC_PER_FILE",
            "--model",
            "news20",
            "--model-registry",
            &reg,
            "--output",
            "out/",
            "--on-invalid-utf8",
            "lossy",
            "-q",
        ],
    );
    let counts = &job["DocumentClassificationJobProperties"]["Docclass"]["Counts"];
    assert_eq!(counts["Documents"], 11314);
    assert_eq!(counts["Errors"], 0);
}
