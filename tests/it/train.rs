//! Training from the command line: formats, determinism, evaluation output, and the messages
//! bad data gets.

use std::fs;

use crate::util::{fixture, Workdir};

#[test]
fn trains_describes_and_lists_a_csv_model() {
    let w = Workdir::new();
    w.train_small("sms", "sms_small.csv", &[]);
    let dir = w.join("models/sms");
    for f in [
        "model.json",
        "weights.bin",
        "confusion_matrix.json",
        "classifier.json",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let d = w.ok(&[
        "describe-document-classifier",
        "--document-classifier-arn",
        "arn:aws:comprehend:us-east-1:000000000000:document-classifier/sms",
    ]);
    let p = &d["DocumentClassifierProperties"];
    assert_eq!(p["Status"], "TRAINED");
    assert_eq!(p["Mode"], "MULTI_CLASS");
    assert_eq!(p["ClassifierMetadata"]["NumberOfLabels"], 2);
    let total = p["ClassifierMetadata"]["NumberOfTrainedDocuments"]
        .as_u64()
        .unwrap()
        + p["ClassifierMetadata"]["NumberOfTestDocuments"]
            .as_u64()
            .unwrap();
    assert_eq!(total, 24);
    for key in [
        "Accuracy",
        "Precision",
        "Recall",
        "F1Score",
        "MicroPrecision",
        "MicroRecall",
        "MicroF1Score",
        "HammingLoss",
    ] {
        assert!(
            p["ClassifierMetadata"]["EvaluationMetrics"][key].is_f64(),
            "{key}"
        );
    }
    let cm: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("confusion_matrix.json")).unwrap()).unwrap();
    assert_eq!(cm["type"], "multi_class");
    assert_eq!(cm["labels"], serde_json::json!(["ham", "spam"]));
    let l = w.ok(&["list-document-classifiers"]);
    assert_eq!(
        l["DocumentClassifierPropertiesList"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn training_is_deterministic_byte_for_byte() {
    let w = Workdir::new();
    w.train_small("a", "sms_small.csv", &[]);
    w.train_small("b", "sms_small.csv", &["--threads", "1"]);
    let read = |m: &str, f: &str| fs::read(w.join(&format!("models/{m}/{f}"))).unwrap();
    assert_eq!(read("a", "weights.bin"), read("b", "weights.bin"));
    let strip_name = |m: &str| {
        String::from_utf8(read(m, "model.json"))
            .unwrap()
            .replace(&format!("\"name\": \"{m}\""), "")
    };
    assert_eq!(strip_name("a"), strip_name("b"));
}

#[test]
fn create_document_classifier_with_shorthand_and_test_set() {
    let w = Workdir::new();
    let data = fixture("sms_small.csv");
    let idc = format!("S3Uri={data},TestS3Uri={data},DataFormat=COMPREHEND_CSV");
    let out = w.ok(&[
        "create-document-classifier",
        "--document-classifier-name",
        "smsapi",
        "--version-name",
        "v1",
        "--input-data-config",
        &idc,
        "--data-access-role-arn",
        "arn:aws:iam::111122223333:role/x",
        "--language-code",
        "en",
        "--n-features-log2",
        "14",
        "-q",
    ]);
    let arn = out["DocumentClassifierArn"].as_str().unwrap();
    assert_eq!(
        arn,
        "arn:aws:comprehend:us-east-1:000000000000:document-classifier/smsapi/version/v1"
    );
    let d = w.ok(&[
        "describe-document-classifier",
        "--document-classifier-arn",
        arn,
    ]);
    let meta = &d["DocumentClassifierProperties"]["ClassifierMetadata"];
    assert_eq!(meta["NumberOfTestDocuments"], 24);
    assert_eq!(meta["NumberOfTrainedDocuments"], 24);
    assert_eq!(d["DocumentClassifierProperties"]["VersionName"], "v1");
    // Same name and version again is refused, as Comprehend's ResourceInUseException would.
    let err = w.fails(
        1,
        &[
            "create-document-classifier",
            "--document-classifier-name",
            "smsapi",
            "--version-name",
            "v1",
            "--input-data-config",
            &idc,
            "-q",
        ],
    );
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn multi_label_and_folder_formats() {
    let w = Workdir::new();
    w.train_small(
        "topics",
        "topics_multilabel.csv",
        &["--mode", "MULTI_LABEL"],
    );
    let d = w.ok(&[
        "describe-document-classifier",
        "--document-classifier-arn",
        "topics",
    ]);
    assert_eq!(d["DocumentClassifierProperties"]["Mode"], "MULTI_LABEL");
    assert_eq!(
        d["DocumentClassifierProperties"]["ClassifierMetadata"]["NumberOfLabels"],
        3
    );
    let cm: serde_json::Value =
        serde_json::from_slice(&fs::read(w.join("models/topics/confusion_matrix.json")).unwrap())
            .unwrap();
    assert_eq!(cm["type"], "multi_label");

    // The same SMS rows laid out as <root>/<label>/<file>.
    let csv = fs::read_to_string(fixture("sms_small.csv")).unwrap();
    for (i, line) in csv.lines().enumerate() {
        let (label, text) = line.split_once(',').unwrap();
        w.write(
            &format!("corpus/{label}/{i:03}.txt"),
            text.trim_matches('"'),
        );
    }
    let root = w.arg("corpus");
    w.ok(&[
        "train",
        "--name",
        "folders",
        "--train",
        &root,
        "--format",
        "LABEL_FOLDERS",
        "--n-features-log2",
        "14",
        "-q",
    ]);
    let d = w.ok(&[
        "describe-document-classifier",
        "--document-classifier-arn",
        "folders",
    ]);
    assert_eq!(
        d["DocumentClassifierProperties"]["ClassifierMetadata"]["NumberOfLabels"],
        2
    );
}

#[test]
fn bad_training_data_is_named_precisely() {
    let w = Workdir::new();
    let rows: String = (0..12).map(|i| format!("ham,hello number {i}\n")).collect();
    let few = format!("{rows}spam,win now\nspam,win cash\nspam,free prize\n");
    w.write("few.csv", &few);
    let err = w.fails(
        1,
        &["train", "--name", "x", "--train", &w.arg("few.csv"), "-q"],
    );
    assert!(
        err.contains("'spam' has 3") && err.contains("at least 10"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");

    w.write("bad.csv", format!("{rows}spam,\"unclosed\n"));
    let err = w.fails(
        1,
        &["train", "--name", "x", "--train", &w.arg("bad.csv"), "-q"],
    );
    assert!(
        err.contains("bad.csv:13") && err.contains("never closed"),
        "{err}"
    );

    let mut bytes = rows.clone().into_bytes();
    bytes.extend_from_slice(b"spam,caf\xe9\n");
    w.write("latin1.csv", &bytes);
    let err = w.fails(
        1,
        &[
            "train",
            "--name",
            "x",
            "--train",
            &w.arg("latin1.csv"),
            "-q",
        ],
    );
    assert!(
        err.contains("latin1.csv:13") && err.contains("--on-invalid-utf8 lossy"),
        "{err}"
    );

    let spam: String = (0..12).map(|i| format!("spam,win {i}\n")).collect();
    w.write("ok.csv", format!("{rows}{spam}"));
    w.write("test.csv", "eggs,a label never trained\n");
    let err = w.fails(
        1,
        &[
            "train",
            "--name",
            "x",
            "--train",
            &w.arg("ok.csv"),
            "--test",
            &w.arg("test.csv"),
            "-q",
        ],
    );
    assert!(
        err.contains("test.csv:1") && err.contains("'eggs'"),
        "{err}"
    );

    let err = w.fails(
        2,
        &[
            "train",
            "--name",
            "x",
            "--train",
            &w.arg("ok.csv"),
            "--char-ngrams",
            "5-2",
        ],
    );
    assert!(
        err.contains("char_ngrams") || err.contains("--char-ngrams"),
        "{err}"
    );
    let err = w.fails(
        2,
        &["train", "--name", "bad name!", "--train", &w.arg("ok.csv")],
    );
    assert!(err.contains("--document-classifier-name"), "{err}");
    assert!(
        !w.join("models/x").exists(),
        "no model folder after failures"
    );
}

#[test]
fn damaged_models_are_refused_with_the_reason() {
    let w = Workdir::new();
    w.train_small("m", "sms_small.csv", &[]);
    w.write("in.txt", "hello there\n");
    let weights = w.join("models/m/weights.bin");
    let mut bytes = fs::read(&weights).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    fs::write(&weights, &bytes).unwrap();
    let err = w.fails(
        1,
        &[
            "classify", "--input", "in.txt", "--model", "m", "--output", "out/", "-q",
        ],
    );
    assert!(err.contains("corrupt") && err.contains("checksum"), "{err}");
    bytes.truncate(100);
    fs::write(&weights, &bytes).unwrap();
    let err = w.fails(
        1,
        &[
            "classify", "--input", "in.txt", "--model", "m", "--output", "out/", "-q",
        ],
    );
    assert!(err.contains("corrupt") && err.contains("bytes"), "{err}");
    let meta = w.join("models/m/model.json");
    let text = fs::read_to_string(&meta)
        .unwrap()
        .replace("\"format_version\": 1", "\"format_version\": 99");
    fs::write(&meta, text).unwrap();
    let err = w.fails(
        1,
        &[
            "classify", "--input", "in.txt", "--model", "m", "--output", "out/", "-q",
        ],
    );
    assert!(
        err.contains("format version 99") && err.contains("version 1"),
        "{err}"
    );
    assert!(!w.join("out").exists() || fs::read_dir(w.join("out")).unwrap().next().is_none());
}

#[test]
fn training_output_is_comprehends_archive_with_the_report() {
    let w = Workdir::new();
    let data = fixture("sms_small.csv");
    let out_prefix = w.arg("training-output/");
    let out = w.ok(&[
        "create-document-classifier",
        "--document-classifier-name",
        "withoutput",
        "--input-data-config",
        &format!("S3Uri={data}"),
        "--output-data-config",
        &format!("S3Uri={out_prefix}"),
        "-q",
    ]);
    let arn = out["DocumentClassifierArn"].as_str().unwrap();
    let d = w.ok(&[
        "describe-document-classifier",
        "--document-classifier-arn",
        arn,
    ]);
    let uri = d["DocumentClassifierProperties"]["OutputDataConfig"]["S3Uri"]
        .as_str()
        .unwrap()
        .to_string();
    let rest = uri.strip_prefix(&out_prefix).expect(&uri);
    let (folder, tail) = rest.split_once('/').unwrap();
    assert_eq!(tail, "output/output.tar.gz");
    let id = folder.strip_prefix("000000000000-CLR-").expect(folder);
    assert_eq!(id.len(), 32, "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");

    // The system's tar and Python's tarfile both read it.
    let unpacked = w.join("unpacked");
    fs::create_dir_all(&unpacked).unwrap();
    let tar = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(&uri)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(tar.success());
    let cm: serde_json::Value =
        serde_json::from_slice(&fs::read(unpacked.join("confusion_matrix.json")).unwrap()).unwrap();
    assert_eq!(cm["type"], "multi_class");
    assert_eq!(cm["labels"], serde_json::json!(["ham", "spam"]));
    let html = fs::read_to_string(unpacked.join("report.html")).unwrap();
    assert!(html.contains("id=\"confusion-matrix\""));
    assert!(html.contains("<svg"), "charts are inline SVG");
    assert!(!html.contains("src=\"http"), "the report needs no network");
    let py = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys,tarfile;print(' '.join(sorted(tarfile.open(sys.argv[1]).getnames())))",
            &uri,
        ])
        .output()
        .unwrap();
    assert!(py.status.success());
    assert_eq!(
        String::from_utf8(py.stdout).unwrap().trim(),
        "confusion_matrix.json report.html"
    );

    // The same report sits beside the model, and `report` says where.
    let shown = w.run(&["report", "--model", arn]);
    assert!(shown.status.success());
    let path = String::from_utf8(shown.stdout).unwrap();
    let beside = fs::read_to_string(path.trim()).unwrap();
    assert_eq!(beside, html);
}

#[test]
fn report_of_a_model_without_one_says_what_to_do() {
    let w = Workdir::new();
    w.train_small("sms", "sms_small.csv", &[]);
    fs::remove_file(w.join("models/sms/report.html")).unwrap();
    let err = w.fails(1, &["report", "--model", "sms"]);
    assert!(
        err.contains("has no report.html") && err.contains("train it again"),
        "{err}"
    );
}

#[test]
fn a_test_set_that_overlaps_training_is_reported_with_counts() {
    let w = Workdir::new();
    let data = fixture("sms_small.csv");
    // The test set: three training rows again (one reworded slightly) and one new message.
    let rows: Vec<String> = fs::read_to_string(&data)
        .unwrap()
        .lines()
        .take(3)
        .map(String::from)
        .collect();
    let test = format!(
        "{}\n{}\n{}\nham,a message about the garden party on saturday\n",
        rows[0],
        rows[1],
        {
            let (label, text) = rows[2].split_once(',').unwrap();
            format!("{label},{}", text.to_uppercase())
        }
    );
    w.write("test.csv", test);
    let test = w.arg("test.csv");
    let out = w.run(&[
        "create-document-classifier",
        "--document-classifier-name",
        "overlap",
        "--input-data-config",
        &format!("S3Uri={data},TestS3Uri={test}"),
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("3 of the 4 test documents"), "{stderr}");
    let model: serde_json::Value =
        serde_json::from_slice(&fs::read(w.join("models/overlap/model.json")).unwrap()).unwrap();
    let overlap = &model["selection"]["TestOverlap"];
    assert_eq!(overlap["TestDocuments"], 4);
    assert_eq!(
        overlap["ExactDuplicatesOfTraining"].as_u64().unwrap()
            + overlap["NearDuplicatesOfTraining"].as_u64().unwrap(),
        3,
        "{overlap}"
    );
}
