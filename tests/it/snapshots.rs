//! Snapshots (insta) of what users and their scripts read: `--help` of every command, the main
//! error messages, and the JSON shapes of job and classifier records and of service responses.
//! Times, ids and temporary paths are redacted, so a snapshot changes only when the interface
//! does. Review a change with `cargo insta review` (or `INSTA_UPDATE=always`, then `git diff`).

use std::path::Path;

use serde_json::{json, Value};

use crate::util::{command, repo, Workdir};

const COMMANDS: &[&str] = &[
    "train",
    "create-document-classifier",
    "cross-validate",
    "describe-document-classifier",
    "list-document-classifiers",
    "report",
    "classify",
    "describe-document-classification-job",
    "list-document-classification-jobs",
    "serve",
    "merge",
    "start-document-classification-job",
    "create-flywheel",
];

/// `docclass ARGS` in `cwd` with an empty environment (help shows variables' values).
fn run_clean(cwd: &Path, args: &[&str]) -> std::process::Output {
    command(cwd, args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap()
}

#[test]
fn help_of_every_command() {
    let w = Workdir::new();
    let top = run_clean(w.path(), &["--help"]);
    assert!(top.status.success());
    insta::assert_snapshot!("help", String::from_utf8(top.stdout).unwrap());
    for cmd in COMMANDS {
        let out = run_clean(w.path(), &[cmd, "--help"]);
        assert!(out.status.success(), "{cmd} --help");
        insta::assert_snapshot!(
            format!("help_{cmd}"),
            String::from_utf8(out.stdout).unwrap()
        );
    }
}

#[test]
fn main_error_messages() {
    let w = Workdir::new();
    w.write("in.txt", "hello\n");
    let model = repo().join("models/spam-ham").display().to_string();
    let cases: &[&[&str]] = &[
        &[
            "classify",
            "--input",
            "in.txt",
            "--input-format",
            "ONE_DOC_PER_PAGE",
            "--model",
            &model,
            "--output",
            "out/",
        ],
        &[
            "classify", "--input", "in.txt", "--model", &model, "--output", "out/", "--job-id",
            "XYZ",
        ],
        &[
            "classify",
            "--input",
            "in.txt",
            "--model",
            &model,
            "--output",
            "out/",
            "--compression-level",
            "12",
        ],
        &[
            "classify",
            "--input",
            "in.txt",
            "--model",
            "no-such-model",
            "--output",
            "out/",
        ],
        &[
            "classify",
            "--input",
            "s3:///in/",
            "--model",
            &model,
            "--output",
            "out/",
        ],
        &[
            "classify", "--input", "missing/", "--model", &model, "--output", "out/", "--job-id",
            "e1",
        ],
        &["classify", "--inptu", "in.txt"],
        &[
            "classify",
            "--input",
            "in.txt",
            "--model",
            &model,
            "--output",
            "out/",
            "--shard-index",
            "3",
            "--shard-count",
            "2",
        ],
        &["train", "--name=-bad-", "--train", "in.txt"],
        &[
            "train",
            "--name",
            "ok",
            "--train",
            "in.txt",
            "--char-ngrams",
            "4-2",
        ],
        &[
            "train",
            "--name",
            "ok",
            "--train",
            "in.txt",
            "--language-code",
            "xx",
        ],
        &["train", "--name", "ok", "--train", "in.txt"],
        &[
            "create-document-classifier",
            "--document-classifier-name",
            "x",
            "--input-data-config",
            "S3Uri=a,,",
        ],
        &["describe-document-classification-job", "--job-id", "0123"],
        &["merge", "--output", "out/", "--job-id", "abc"],
        &["serve", "--port", "0"],
    ];
    let mut report = String::new();
    for args in cases {
        let out = run_clean(w.path(), args);
        let stderr = String::from_utf8(out.stderr).unwrap();
        // Temporary folders differ from run to run.
        let stderr = stderr.replace(&w.path().display().to_string(), "[work]");
        report.push_str(&format!(
            "$ docclass {}\nexit {}\n{}\n",
            args.join(" ").replace(&model, "[model]"),
            out.status.code().unwrap_or(-1),
            stderr.trim_end()
        ));
    }
    insta::assert_snapshot!("error_messages", report);
}

#[test]
fn record_shapes() {
    let w = Workdir::new();
    w.write("in/a.txt", "WINNER! claim your prize now\n");
    let model = repo().join("models/spam-ham").display().to_string();
    let job = w.ok(&[
        "classify", "--input", "in/", "--model", &model, "--output", "out/", "--job-id", "5eed",
        "-q",
    ]);
    insta::assert_json_snapshot!("classify_record", job, {
        ".DocumentClassificationJobProperties.SubmitTime" => "[time]",
        ".DocumentClassificationJobProperties.EndTime" => "[time]",
        ".DocumentClassificationJobProperties.Docclass.ModelPath" => "[model]",
        ".DocumentClassificationJobProperties.Docclass.Threads" => "[threads]",
        ".DocumentClassificationJobProperties.Docclass.Counts.Seconds" => "[seconds]",
        ".DocumentClassificationJobProperties.Docclass.Counts.OutputBytes" => "[bytes]",
        ".DocumentClassificationJobProperties.Docclass.Progress.Seconds" => "[seconds]",
    });
    let described = w.ok(&[
        "describe-document-classifier",
        "--document-classifier-arn",
        &model,
    ]);
    insta::assert_json_snapshot!("describe_classifier", described, {
        ".DocumentClassifierProperties.InputDataConfig.S3Uri" => "[train]",
    });
    w.train_small("tiny", "sms_small.csv", &[]);
    let listed = w.ok(&["list-document-classifiers"]);
    insta::assert_json_snapshot!("list_classifiers", listed, {
        ".DocumentClassifierPropertiesList[].SubmitTime" => "[time]",
        ".DocumentClassifierPropertiesList[].EndTime" => "[time]",
        ".DocumentClassifierPropertiesList[].TrainingStartTime" => "[time]",
        ".DocumentClassifierPropertiesList[].TrainingEndTime" => "[time]",
        ".DocumentClassifierPropertiesList[].InputDataConfig.S3Uri" => "[train]",
    });
}

#[test]
fn service_response_shapes() {
    use docclass::aws::Identity;
    use docclass::model::registry::Registry;
    use docclass::service::{Service, ServiceConfig};

    let w = Workdir::new();
    w.write(
        "s3/in-bucket/sms/a.txt",
        "WINNER! claim your prize now\nsee you at lunch\n",
    );
    std::fs::create_dir_all(w.join("s3/out-bucket")).unwrap();
    let service = Service::start(ServiceConfig {
        registry: Registry::new(repo().join("models"), Identity::default()),
        state_dir: w.join("state"),
        s3_root: Some(w.join("s3")),
        concurrency: 1,
        max_queued_jobs: 10,
        resume: true,
    })
    .unwrap();
    let call = |op: &str, body: Value| match service.handle(
        op,
        body.to_string().as_bytes(),
        "us-west-2",
    ) {
        Ok(v) => v,
        Err(e) => json!({"__type": e.code, "Message": e.message, "Status": e.status()}),
    };
    let role = "arn:aws:iam::111122223333:role/r";
    let classifier = "arn:aws:comprehend:us-west-2:111122223333:document-classifier/spam-ham";
    let started = call(
        "StartDocumentClassificationJob",
        json!({"DocumentClassifierArn": classifier, "DataAccessRoleArn": role,
               "InputDataConfig": {"S3Uri": "s3://in-bucket/sms/"},
               "OutputDataConfig": {"S3Uri": "s3://out-bucket/r/"}}),
    );
    let id = started["JobId"].as_str().unwrap().to_string();
    insta::assert_json_snapshot!("start_job", started, {".JobId" => "[id]", ".JobArn" => "[arn]"});
    let mut described = json!(null);
    for _ in 0..200 {
        described = call("DescribeDocumentClassificationJob", json!({"JobId": id}));
        if described["DocumentClassificationJobProperties"]["JobStatus"] == "COMPLETED" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let job_id = id.clone();
    let redact = insta::dynamic_redaction(move |value, _| {
        value
            .as_str()
            .map(|s| s.replace(&job_id, "[id]"))
            .map_or(value.clone(), Into::into)
    });
    insta::assert_json_snapshot!("describe_job", described, {
        ".DocumentClassificationJobProperties.JobId" => "[id]",
        ".DocumentClassificationJobProperties.JobArn" => "[arn]",
        ".DocumentClassificationJobProperties.SubmitTime" => "[time]",
        ".DocumentClassificationJobProperties.EndTime" => "[time]",
        ".DocumentClassificationJobProperties.OutputDataConfig.S3Uri" => redact,
        ".DocumentClassificationJobProperties.Docclass.Progress.Seconds" => "[seconds]",
    });
    let classified = call(
        "ClassifyDocument",
        json!({"Text": "WINNER! claim your prize now",
               "EndpointArn": "arn:aws:comprehend:us-west-2:111122223333:document-classifier-endpoint/spam-ham"}),
    );
    insta::assert_json_snapshot!("classify_document", classified);
    let endpoint = call(
        "CreateEndpoint",
        json!({"EndpointName": "sms", "ModelArn": classifier, "DesiredInferenceUnits": 1,
               "Tags": [{"Key": "team", "Value": "mail"}]}),
    );
    let endpoint_arn = endpoint["EndpointArn"].as_str().unwrap().to_string();
    let mut described_endpoint = json!(null);
    for _ in 0..200 {
        described_endpoint = call("DescribeEndpoint", json!({"EndpointArn": endpoint_arn}));
        if described_endpoint["EndpointProperties"]["Status"] == "IN_SERVICE" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    insta::assert_json_snapshot!("describe_endpoint", described_endpoint, {
        ".EndpointProperties.CreationTime" => "[time]",
        ".EndpointProperties.LastModifiedTime" => "[time]",
    });
    call(
        "TagResource",
        json!({"ResourceArn": endpoint_arn, "Tags": [{"Key": "stage", "Value": "prod"}]}),
    );
    insta::assert_json_snapshot!(
        "list_tags",
        call("ListTagsForResource", json!({"ResourceArn": endpoint_arn}))
    );
    let errors: Vec<Value> = vec![
        call(
            "DescribeDocumentClassificationJob",
            json!({"JobId": "0123456789abcdef0123456789abcdef"}),
        ),
        call(
            "DescribeDocumentClassifier",
            json!({"DocumentClassifierArn": "arn:aws:comprehend:us-west-2:111122223333:document-classifier/nope"}),
        ),
        call(
            "StartDocumentClassificationJob",
            json!({"JobName": "bad<name>", "DataAccessRoleArn": role,
               "InputDataConfig": {"S3Uri": "s3://in-bucket/sms/"}, "OutputDataConfig": {"S3Uri": "s3://out-bucket/r/"}}),
        ),
        call(
            "StartDocumentClassificationJob",
            json!({"DataAccessRoleArn": role, "InputDataConfig": {}}),
        ),
        call("ListDocumentClassificationJobs", json!({"MaxResults": 0})),
        call(
            "ListDocumentClassificationJobs",
            json!({"Filter": {"JobName": "a", "JobStatus": "COMPLETED"}}),
        ),
        call(
            "ClassifyDocument",
            json!({"Text": "x".repeat(10_001), "EndpointArn": "arn:aws:comprehend:us-west-2:111122223333:document-classifier-endpoint/spam-ham"}),
        ),
        call("DetectSentiment", json!({})),
    ];
    insta::assert_json_snapshot!("service_errors", errors);
}
