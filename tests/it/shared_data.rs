//! Tests on the real corpora in `../shared/data` (SMS spam, SpamAssassin, 20 Newsgroups). Run by
//! `.ci/run` with `--features shared-data`; they fail, never skip, when the data is missing.
//! Thresholds sit just under the figures measured with grouped 5-fold cross-validation (README).

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

/// Nested, grouped cross-validation of the automatic settings (no tuning flags): the search
/// runs inside every fold.
#[test]
fn sms_spam_cross_validation_of_the_automatic_settings() {
    let train = data("sms_spam/train.csv");
    let cv = docclass(&repo(), &["cross-validate", "--train", &train, "-q"]);
    let (acc, f1, recall) = pooled(&cv, "spam");
    assert!(acc >= 0.987, "accuracy {acc}");
    assert!(f1 >= 0.955, "spam F1 {f1}");
    assert!(recall >= 0.93, "spam recall {recall}");
    // Duplicates are found and kept whole: the SMS data repeats hundreds of messages.
    assert!(cv["Duplicates"]["ExactDuplicates"].as_u64().unwrap() >= 300);
    assert_eq!(cv["ChosenPerFold"].as_array().unwrap().len(), 5);
}

const FOLDERS: &[&str] = &["--format", "LABEL_FOLDERS", "--on-invalid-utf8", "lossy"];

/// Trains a model named `auto` with no tuning flags into a fresh folder's registry (`models/`),
/// checks the held-out accuracy and the search's record, and returns the folder and `model.json`.
fn train_automatically(
    corpus: &str,
    min_accuracy: f64,
    extra: &[&str],
) -> (tempfile::TempDir, serde_json::Value) {
    let train = data(corpus);
    let w = tempfile::tempdir().unwrap();
    let reg = w.path().join("models").display().to_string();
    let mut args = vec![
        "train",
        "--name",
        "auto",
        "--train",
        &train,
        "--model-registry",
        &reg,
        "-q",
    ];
    args.extend_from_slice(FOLDERS);
    args.extend_from_slice(extra);
    let props = docclass(w.path(), &args);
    let meta = &props["DocumentClassifierProperties"]["ClassifierMetadata"];
    let acc = meta["EvaluationMetrics"]["Accuracy"].as_f64().unwrap();
    assert!(acc >= min_accuracy, "held-out accuracy {acc}");
    let model: serde_json::Value =
        serde_json::from_slice(&std::fs::read(w.path().join("models/auto/model.json")).unwrap())
            .unwrap();
    let search = &model["selection"]["Search"];
    // How many candidates fit the time budget depends on the machine's load; each one is
    // either scored or says why not, and at least one is scored.
    let candidates = search["Candidates"].as_array().unwrap();
    assert!(candidates.len() >= 5, "{search}");
    assert!(candidates
        .iter()
        .all(|c| c["Score"].is_number() != c["Skipped"].is_string()));
    assert!(candidates.iter().any(|c| c["Score"].is_number()));
    assert!(w.path().join("models/auto/report.html").is_file());
    (w, model)
}

/// Raw e-mails: the search settles on word features (character n-grams add nothing on long
/// texts) and a weak regularisation.
#[test]
fn spamassassin_automatic_training() {
    // A budget no machine reaches (the search takes about 25 s here), so what is chosen does not
    // depend on the machine's load.
    let (_, model) = train_automatically("spamassassin/train", 0.98, &["--search-seconds", "600"]);
    assert_eq!(model["features"]["char_ngrams"], serde_json::Value::Null);
    assert!(
        model["selection"]["Duplicates"]["NearDuplicates"]
            .as_u64()
            .unwrap()
            > 1000
    );
}

/// The family the search chooses for long texts, fixed: label-weighted word unigrams.
const LABEL_WEIGHTED_WORDS: &[&str] = &[
    "--no-search",
    "--char-ngrams",
    "none",
    "--no-symbols",
    "--no-digit-shapes",
    "--word-ngrams",
    "1",
    "--label-weighting",
    "true",
];

/// The setting the search chooses for SpamAssassin (label-weighted words, C=300), on grouped
/// folds.
#[test]
fn spamassassin_cross_validation_of_the_chosen_setting() {
    let train = data("spamassassin/train");
    let mut args = vec!["cross-validate", "--train", &train, "-q"];
    args.extend_from_slice(FOLDERS);
    args.extend_from_slice(LABEL_WEIGHTED_WORDS);
    args.extend_from_slice(&["--c", "300"]);
    let cv = docclass(&repo(), &args);
    let (acc, f1, _) = pooled(&cv, "spam");
    assert!(acc >= 0.985, "accuracy {acc}");
    assert!(f1 >= 0.977, "spam F1 {f1}");
}

/// 20news with label-weighted words at C=100 (the search picks C=100 or 300 per fold), on
/// grouped folds: threads and cross-posts stay in one fold, so this is far below what random
/// folds would say (0.93).
#[test]
fn news20_cross_validation_of_the_chosen_setting() {
    let train = data("20news/train");
    let mut args = vec!["cross-validate", "--train", &train, "-q"];
    args.extend_from_slice(FOLDERS);
    args.extend_from_slice(LABEL_WEIGHTED_WORDS);
    args.extend_from_slice(&["--c", "100"]);
    let cv = docclass(&repo(), &args);
    let acc = cv["Pooled"]["Accuracy"].as_f64().unwrap();
    assert!(acc >= 0.873, "accuracy {acc}");
    assert!(cv["Duplicates"]["ThreadMembers"].as_u64().unwrap() > 5000);
}

#[test]
fn news20_automatic_training_and_classify_one_doc_per_file() {
    let train = data("20news/train");
    // The default budget, as users get it.
    let (w, model) = train_automatically("20news/train", 0.84, &[]);
    let reg = w.path().join("models").display().to_string();
    assert_eq!(model["labels"].as_array().unwrap().len(), 20);
    // With the default budget the costlier families are skipped, each saying what it would
    // have cost (time, or memory), and the choice is one of the word families (character
    // n-grams add nothing on long texts).
    let candidates = model["selection"]["Search"]["Candidates"]
        .as_array()
        .unwrap();
    for why in candidates.iter().filter_map(|c| c["Skipped"].as_str()) {
        assert!(
            why.contains("budget") || why.contains("the search had left"),
            "{why}"
        );
    }
    assert_eq!(model["features"]["char_ngrams"], serde_json::Value::Null);

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
            "auto",
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
