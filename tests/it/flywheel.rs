//! Flywheels through docclass's own AWS-style commands (the same names and options as the AWS
//! CLI's): a flywheel made from an active model, datasets copied into its data lake, an
//! iteration that trains and evaluates a new version, promotion, and the seed's
//! `start-document-classification-job` with `--flywheel-arn`. The AWS CLI and boto3 drive the
//! same operations against `docclass serve` in tests/clients.

use std::path::Path;

use serde_json::Value;

use crate::util::{fixture, Workdir};

const ROLE: &str = "arn:aws:iam::000000000000:role/docclass";

/// Short messages of two kinds, varied enough to learn from (deterministic).
fn messages(n: usize, offset: usize) -> String {
    let ham_subjects = [
        "lunch",
        "the report",
        "dinner",
        "the train",
        "the kids",
        "football",
    ];
    let ham_verbs = [
        "are we still on for",
        "don't forget",
        "can you sort out",
        "running late for",
        "call me about",
    ];
    let spam_prizes = [
        "cash prize",
        "free ringtone",
        "holiday voucher",
        "bonus award",
        "gift card",
    ];
    let spam_asks = [
        "call 0906",
        "text WIN to 8",
        "reply CLAIM to 6",
        "txt GO to 87",
    ];
    let mut out = String::new();
    for i in offset..offset + n {
        if i % 2 == 0 {
            let s = ham_subjects[i % ham_subjects.len()];
            let v = ham_verbs[(i / 2) % ham_verbs.len()];
            out.push_str(&format!(
                "ham,{v} {s} tomorrow? see you at {}\n",
                1 + i % 11
            ));
        } else {
            let p = spam_prizes[i % spam_prizes.len()];
            let a = spam_asks[(i / 3) % spam_asks.len()];
            out.push_str(&format!(
                "spam,URGENT you have won a {p}! {a}{:04} now to claim\n",
                (i * 7919) % 10_000
            ));
        }
    }
    out
}

/// Messages of random words (no two alike, so none are grouped as near duplicates), with
/// words that tell the two labels apart.
fn random_messages(n: usize, seed: u64) -> String {
    const WORDS: &[&str] = &[
        "the", "a", "today", "later", "maybe", "please", "thanks", "soon", "week", "time", "phone",
        "text", "number", "friend", "mum", "office", "town", "park", "bus", "train", "red", "blue",
        "green", "small", "big", "old", "new", "early", "late", "quick",
    ];
    const HAM: &[&str] = &["lunch", "dinner", "home", "meeting", "kids", "gym"];
    const SPAM: &[&str] = &["prize", "claim", "winner", "cash", "urgent", "voucher"];
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let mut next = |k: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % k
    };
    let mut out = String::new();
    for i in 0..n {
        let (label, cue) = if i % 2 == 0 {
            ("ham", HAM)
        } else {
            ("spam", SPAM)
        };
        let mut words: Vec<&str> = (0..10).map(|_| WORDS[next(WORDS.len())]).collect();
        for _ in 0..2 {
            let at = next(words.len());
            words.insert(at, cue[next(cue.len())]);
        }
        out.push_str(&format!("{label},{}\n", words.join(" ")));
    }
    out
}

/// Runs an AWS-style command with the test's S3 root and returns its JSON output.
fn aws(w: &Workdir, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--s3-root", "s3", "-q"]);
    w.ok(&all)
}

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{pointer} missing in {v:#}"))
}

fn lake_file(w: &Workdir, uri: &str) -> std::path::PathBuf {
    w.join("s3").join(uri.strip_prefix("s3://").unwrap())
}

/// Version `v1` of classifier `name`, trained from the command line on `s3/data/v1.csv`; its
/// ARN.
fn train_v1(w: &Workdir, name: &str) -> String {
    w.ok(&[
        "train",
        "--name",
        name,
        "--version-name",
        "v1",
        "--train",
        &w.arg("s3/data/v1.csv"),
        "--n-features-log2",
        "14",
        "-q",
    ]);
    format!("arn:aws:comprehend:us-east-1:000000000000:document-classifier/{name}/version/v1")
}

#[test]
fn a_flywheel_trains_evaluates_promotes_and_classifies() {
    let w = Workdir::new();
    // The active model, trained from the command line on a small set.
    w.write(
        "s3/data/v1.csv",
        std::fs::read(fixture("sms_small.csv")).unwrap(),
    );
    let v1 = &*train_v1(&w, "sms");

    let created = aws(
        &w,
        &[
            "create-flywheel",
            "--flywheel-name",
            "sms-flywheel",
            "--active-model-arn",
            v1,
            "--data-access-role-arn",
            ROLE,
            "--data-lake-s3-uri",
            "s3://lake",
        ],
    );
    let flywheel = text(&created, "/FlywheelArn").to_string();
    assert_eq!(
        flywheel,
        "arn:aws:comprehend:us-east-1:000000000000:flywheel/sms-flywheel"
    );
    assert_eq!(text(&created, "/ActiveModelArn"), v1);
    let described = aws(&w, &["describe-flywheel", "--flywheel-arn", &flywheel]);
    assert_eq!(text(&described, "/FlywheelProperties/Status"), "ACTIVE");
    let lake = text(&described, "/FlywheelProperties/DataLakeS3Uri").to_string();
    assert!(
        regex::Regex::new(r"^s3://lake/sms-flywheel/schemaVersion=1/\d{8}T\d{6}Z/$")
            .unwrap()
            .is_match(&lake),
        "{lake}"
    );
    // Timestamps print as the AWS CLI prints them.
    assert!(text(&described, "/FlywheelProperties/CreationTime").ends_with("+00:00"));

    // The active model's training data was copied into the lake: the original may go.
    let datasets = aws(&w, &["list-datasets", "--flywheel-arn", &flywheel]);
    let list = datasets["DatasetPropertiesList"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{datasets:#}");
    assert_eq!(list[0]["DatasetType"], "TRAIN");
    assert_eq!(list[0]["Status"], "COMPLETED");
    assert_eq!(list[0]["NumberOfDocuments"], 24);
    std::fs::remove_file(w.join("s3/data/v1.csv")).unwrap();

    // More labelled data arrives, and a test set.
    w.write("s3/data/more/part-1.csv", messages(60, 0));
    w.write("s3/data/more/part-2.csv", messages(60, 60));
    w.write("s3/data/test.csv", messages(40, 1000));
    for (name, kind, uri) in [
        ("more", "TRAIN", "s3://data/more/"),
        ("held-out", "TEST", "s3://data/test.csv"),
    ] {
        let config = format!(
            r#"{{"DataFormat": "COMPREHEND_CSV", "DocumentClassifierInputDataConfig": {{"S3Uri": "{uri}"}}}}"#
        );
        let out = aws(
            &w,
            &[
                "create-dataset",
                "--flywheel-arn",
                &flywheel,
                "--dataset-name",
                name,
                "--dataset-type",
                kind,
                "--input-data-config",
                &config,
            ],
        );
        assert_eq!(
            text(&out, "/DatasetArn"),
            format!("{flywheel}/dataset/{name}")
        );
        let d = aws(
            &w,
            &[
                "describe-dataset",
                "--dataset-arn",
                &format!("{flywheel}/dataset/{name}"),
            ],
        );
        assert_eq!(text(&d, "/DatasetProperties/Status"), "COMPLETED", "{d:#}");
        let copy = text(&d, "/DatasetProperties/DatasetS3Uri");
        assert!(
            copy.starts_with(&format!("{lake}datasets/{name}/")),
            "{copy}"
        );
    }
    let filtered = aws(
        &w,
        &[
            "list-datasets",
            "--flywheel-arn",
            &flywheel,
            "--filter",
            "DatasetType=TEST",
        ],
    );
    assert_eq!(
        filtered["DatasetPropertiesList"].as_array().unwrap().len(),
        1
    );

    // An iteration: a new version trained on everything, both scored on the test set.
    let started = aws(
        &w,
        &["start-flywheel-iteration", "--flywheel-arn", &flywheel],
    );
    let id = text(&started, "/FlywheelIterationId").to_string();
    assert!(
        regex::Regex::new(r"^\d{8}T\d{6}Z$").unwrap().is_match(&id),
        "{id}"
    );
    let it = aws(
        &w,
        &[
            "describe-flywheel-iteration",
            "--flywheel-arn",
            &flywheel,
            "--flywheel-iteration-id",
            &id,
        ],
    );
    let p = &it["FlywheelIterationProperties"];
    assert_eq!(p["Status"], "COMPLETED", "{it:#}");
    assert_eq!(p["EvaluatedModelArn"], v1);
    let v2 = text(p, "/TrainedModelArn").to_string();
    assert_eq!(
        v2,
        format!("arn:aws:comprehend:us-east-1:000000000000:document-classifier/sms/version/{id}")
    );
    for m in ["TrainedModelMetrics", "EvaluatedModelMetrics"] {
        for k in [
            "AverageF1Score",
            "AveragePrecision",
            "AverageRecall",
            "AverageAccuracy",
        ] {
            let x = p[m][k]
                .as_f64()
                .unwrap_or_else(|| panic!("{m}.{k} in {it:#}"));
            assert!((0.0..=1.0).contains(&x), "{m}.{k} = {x}");
        }
    }
    // The evaluation in the lake: both models on the same 40 documents, and the report.
    let prefix = text(p, "/EvaluationManifestS3Prefix");
    assert_eq!(prefix, format!("{lake}evaluation/{id}/"));
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(lake_file(&w, &format!("{prefix}evaluation.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["TestDocuments"], 40);
    assert_eq!(manifest["TrainedModel"]["ModelArn"], v2.as_str());
    assert_eq!(manifest["EvaluatedModel"]["ModelArn"], v1);
    let report = std::fs::read_to_string(lake_file(&w, &format!("{prefix}report.html"))).unwrap();
    assert!(report.contains(&v2) && report.contains(v1));
    assert!(lake_file(&w, &format!("{lake}model-stats/{id}/confusion_matrix.json")).is_file());

    let history = aws(
        &w,
        &[
            "list-flywheel-iteration-history",
            "--flywheel-arn",
            &flywheel,
        ],
    );
    assert_eq!(
        history["FlywheelIterationPropertiesList"][0]["FlywheelIterationId"],
        id.as_str()
    );

    // Promotion, then the seed's command with the flywheel instead of a classifier.
    let updated = aws(
        &w,
        &[
            "update-flywheel",
            "--flywheel-arn",
            &flywheel,
            "--active-model-arn",
            &v2,
        ],
    );
    assert_eq!(text(&updated, "/FlywheelProperties/ActiveModelArn"), v2);
    w.write(
        "s3/in-bucket/msgs.txt",
        "URGENT you have won a cash prize! call 09061234 now to claim\nare we still on for lunch tomorrow?\n",
    );
    std::fs::create_dir_all(w.join("s3/out-bucket")).unwrap();
    let job = aws(
        &w,
        &[
            "start-document-classification-job",
            "--job-name",
            "through-flywheel",
            "--flywheel-arn",
            &flywheel,
            "--input-data-config",
            "S3Uri=s3://in-bucket/,InputFormat=ONE_DOC_PER_LINE",
            "--output-data-config",
            "S3Uri=s3://out-bucket/",
            "--data-access-role-arn",
            ROLE,
            "--tags",
            "Key=team,Value=ops",
        ],
    );
    assert_eq!(job["JobStatus"], "SUBMITTED");
    assert_eq!(job["DocumentClassifierArn"], v2.as_str());
    let job_id = text(&job, "/JobId");
    let record = w.ok(&[
        "describe-document-classification-job",
        "--job-id",
        job_id,
        "--job-store",
        ".docclass/jobs",
    ]);
    let props = &record["DocumentClassificationJobProperties"];
    assert_eq!(props["JobStatus"], "COMPLETED", "{record:#}");
    assert_eq!(props["DocumentClassifierArn"], v2.as_str());
    assert_eq!(props["FlywheelArn"], flywheel.as_str());
    let archive = lake_file(&w, text(props, "/OutputDataConfig/S3Uri"));
    let lines = crate::util::prediction_values(&archive);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["Classes"][0]["Name"], "spam");
    assert_eq!(lines[1]["Classes"][0]["Name"], "ham");
    assert_no_temporary_files(&w.join("s3/out-bucket"));

    // --promote-if-better: a lead the new version cannot have keeps the active one; any lead
    // at all (a margin of -1) promotes.
    let active = |w: &Workdir| {
        let d = aws(w, &["describe-flywheel", "--flywheel-arn", &flywheel]);
        text(&d, "/FlywheelProperties/ActiveModelArn").to_string()
    };
    aws(
        &w,
        &[
            "start-flywheel-iteration",
            "--flywheel-arn",
            &flywheel,
            "--promote-if-better",
            "--promote-margin",
            "1",
        ],
    );
    assert_eq!(active(&w), v2);
    let third = aws(
        &w,
        &[
            "start-flywheel-iteration",
            "--flywheel-arn",
            &flywheel,
            "--promote-if-better",
            "--promote-margin=-1",
        ],
    );
    let v3 = format!(
        "arn:aws:comprehend:us-east-1:000000000000:document-classifier/sms/version/{}",
        text(&third, "/FlywheelIterationId")
    );
    assert_eq!(active(&w), v3);
}

fn assert_no_temporary_files(dir: &Path) {
    for entry in walk(dir) {
        let name = entry.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!name.contains(".tmp"), "left behind: {}", entry.display());
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn the_seed_command_refuses_what_comprehend_refuses() {
    let w = Workdir::new();
    // Both a classifier and a flywheel: Comprehend's InvalidRequestException, the AWS CLI's
    // wording and exit code.
    let out = w.run(&[
        "start-document-classification-job",
        "--document-classifier-arn",
        "arn:aws:comprehend:us-east-1:000000000000:document-classifier/spam-ham",
        "--flywheel-arn",
        "arn:aws:comprehend:us-east-1:000000000000:flywheel/f",
        "--input-data-config",
        "S3Uri=s3://in-bucket/",
        "--output-data-config",
        "S3Uri=s3://out-bucket/",
        "--data-access-role-arn",
        ROLE,
        "--s3-root",
        "s3",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(254), "{stderr}");
    assert!(
        stderr.contains(
            "An error occurred (InvalidRequestException) when calling the StartDocumentClassificationJob operation"
        ),
        "{stderr}"
    );
    // A missing required option is named, exit 2.
    let e = w.fails(
        2,
        &[
            "start-document-classification-job",
            "--input-data-config",
            "S3Uri=s3://in-bucket/",
            "--output-data-config",
            "S3Uri=s3://out-bucket/",
        ],
    );
    assert!(e.contains("--data-access-role-arn"), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    // Bad shorthand names the option.
    let e = w.fails(
        2,
        &[
            "start-document-classification-job",
            "--input-data-config",
            "S3Uri",
            "--output-data-config",
            "S3Uri=s3://out-bucket/",
            "--data-access-role-arn",
            ROLE,
        ],
    );
    assert!(e.contains("--input-data-config"), "{e}");
}

#[test]
fn skeletons_are_the_aws_clis() {
    let w = Workdir::new();
    let out = w.run(&[
        "start-document-classification-job",
        "--generate-cli-skeleton",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    // Four-space indents, the model's member order.
    assert!(
        text.starts_with("{\n    \"JobName\": \"\",\n    \"DocumentClassifierArn\": \"\",\n"),
        "{text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "JobName",
            "DocumentClassifierArn",
            "InputDataConfig",
            "OutputDataConfig",
            "DataAccessRoleArn",
            "ClientRequestToken",
            "VolumeKmsKeyId",
            "VpcConfig",
            "Tags",
            "FlywheelArn"
        ]
    );
    // The skeleton, filled in, is a request --cli-input-json takes.
    let out = w.ok(&[
        "start-document-classification-job",
        "--generate-cli-skeleton",
        "output",
        "--input-data-config",
        "S3Uri=s3://in-bucket/",
        "--output-data-config",
        "S3Uri=s3://out-bucket/",
        "--data-access-role-arn",
        ROLE,
    ]);
    assert_eq!(
        out,
        serde_json::json!({"JobId": "JobId", "JobArn": "JobArn", "JobStatus": "JobStatus",
                           "DocumentClassifierArn": "DocumentClassifierArn"})
    );
}

#[test]
fn a_job_names_its_model_through_cli_input_json() {
    let w = Workdir::new();
    w.train_small("spam", "sms_small.csv", &[]);
    w.write(
        "s3/in-bucket/a.txt",
        "WINNER! claim your cash prize now\nsee you at lunch\n",
    );
    std::fs::create_dir_all(w.join("s3/out-bucket")).unwrap();
    let request = serde_json::json!({
        "JobName": "from-json",
        "DocumentClassifierArn": "arn:aws:comprehend:us-east-1:000000000000:document-classifier/spam",
        "InputDataConfig": {"S3Uri": "s3://in-bucket/", "InputFormat": "ONE_DOC_PER_LINE"},
        "OutputDataConfig": {"S3Uri": "s3://in-bucket/"},
        "DataAccessRoleArn": ROLE,
    });
    w.write("request.json", request.to_string());
    // The command line's --output-data-config wins over the file's.
    let job = aws(
        &w,
        &[
            "start-document-classification-job",
            "--cli-input-json",
            &format!("file://{}", w.arg("request.json")),
            "--output-data-config",
            "S3Uri=s3://out-bucket/",
        ],
    );
    let record = w.ok(&[
        "describe-document-classification-job",
        "--job-id",
        text(&job, "/JobId"),
    ]);
    let props = &record["DocumentClassificationJobProperties"];
    assert_eq!(props["JobName"], "from-json");
    assert_eq!(props["JobStatus"], "COMPLETED");
    assert!(text(props, "/OutputDataConfig/S3Uri").starts_with("s3://out-bucket/"));
    assert_eq!(
        crate::util::prediction_values(&lake_file(&w, text(props, "/OutputDataConfig/S3Uri")))
            .len(),
        2
    );
}

#[test]
fn without_test_data_the_active_model_is_scored_on_documents_it_never_saw() {
    let w = Workdir::new();
    w.write("s3/data/v1.csv", random_messages(80, 1));
    let v1 = &*train_v1(&w, "fresh");
    let flywheel = text(
        &aws(
            &w,
            &[
                "create-flywheel",
                "--flywheel-name",
                "fresh",
                "--active-model-arn",
                v1,
                "--data-access-role-arn",
                ROLE,
                "--data-lake-s3-uri",
                "s3://lake",
            ],
        ),
        "/FlywheelArn",
    )
    .to_string();
    let evaluation = |w: &Workdir| -> (Value, String) {
        let id = text(
            &aws(
                w,
                &["start-flywheel-iteration", "--flywheel-arn", &flywheel],
            ),
            "/FlywheelIterationId",
        )
        .to_string();
        let it = aws(
            w,
            &[
                "describe-flywheel-iteration",
                "--flywheel-arn",
                &flywheel,
                "--flywheel-iteration-id",
                &id,
            ],
        );
        let prefix = text(
            &it,
            "/FlywheelIterationProperties/EvaluationManifestS3Prefix",
        );
        let manifest = std::fs::read(lake_file(w, &format!("{prefix}evaluation.json"))).unwrap();
        let test = std::fs::read_to_string(lake_file(w, &format!("{prefix}test.csv"))).unwrap();
        (serde_json::from_slice(&manifest).unwrap(), test)
    };
    // Only the active model's own data: nothing it has not seen, and the report says so.
    let (manifest, _) = evaluation(&w);
    assert_eq!(manifest["ActiveModelTrainedOnTestData"], true);
    // New data: the test documents come from it alone.
    w.write("s3/data/new.csv", random_messages(200, 2));
    aws(
        &w,
        &[
            "create-dataset",
            "--flywheel-arn",
            &flywheel,
            "--dataset-name",
            "new",
            "--input-data-config",
            r#"{"DataFormat": "COMPREHEND_CSV", "DocumentClassifierInputDataConfig": {"S3Uri": "s3://data/new.csv"}}"#,
        ],
    );
    let (manifest, test) = evaluation(&w);
    assert_eq!(manifest["ActiveModelTrainedOnTestData"], false);
    let v1_rows = std::fs::read_to_string(w.join("s3/data/v1.csv")).unwrap();
    let old: std::collections::HashSet<&str> = v1_rows.lines().collect();
    assert!(!test.is_empty());
    for row in test.lines() {
        assert!(!old.contains(row), "the active model was trained on {row}");
    }
}
