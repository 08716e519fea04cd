//! Classification jobs end to end: the reference example with the shipped model, input prefixes,
//! line splitting, per-document errors, output bytes independent of threads and I/O path, the
//! archive read by tar and Python, and job records.

use std::fs;
use std::process::Command;

use crate::util::{fixture, prediction_values, predictions, repo, Workdir};

fn classify(w: &Workdir, input: &str, model: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "classify", "--input", input, "--model", model, "--output", "out/", "-q",
    ];
    args.extend_from_slice(extra);
    w.ok(&args)
}

fn shipped_model() -> String {
    repo().join("models/spam-ham").display().to_string()
}

#[test]
fn reference_example_with_the_shipped_model() {
    let w = Workdir::new();
    let input = format!("{}/", repo().join("examples/sms").display());
    let job = classify(
        &w,
        &input,
        &shipped_model(),
        &["--job-name", "exampleclassificationjob"],
    );
    let props = &job["DocumentClassificationJobProperties"];
    assert_eq!(props["JobStatus"], "COMPLETED");
    assert_eq!(props["JobName"], "exampleclassificationjob");
    let id = props["JobId"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    let archive = w.archive(&job);
    assert!(archive.ends_with(format!("000000000000-CLN-{id}/output/output.tar.gz")));
    let lines = prediction_values(&archive);
    let files: Vec<&str> = lines.iter().map(|l| l["File"].as_str().unwrap()).collect();
    assert_eq!(
        files,
        [
            "SampleSMStext1.txt",
            "SampleSMStext2.txt",
            "SampleSMStext3.txt"
        ]
    );
    let top: Vec<&str> = lines
        .iter()
        .map(|l| l["Classes"][0]["Name"].as_str().unwrap())
        .collect();
    assert_eq!(top, ["spam", "ham", "spam"]);
    for l in &lines {
        assert_eq!(l["Line"], "0");
        let classes = l["Classes"].as_array().unwrap();
        assert_eq!(classes.len(), 2);
        let (a, b) = (
            classes[0]["Score"].as_f64().unwrap(),
            classes[1]["Score"].as_f64().unwrap(),
        );
        assert!(a >= b && (a + b - 1.0).abs() < 2e-4);
    }
    // Exact bytes of a line: key order, spacing, string line number, 4-decimal scores.
    let text = predictions(&archive);
    let first = text.lines().next().unwrap();
    assert!(first.starts_with(r#"{"File": "SampleSMStext1.txt", "Line": "0", "Classes": [{"Name": "spam", "Score": 0."#), "{first}");
    assert!(first.ends_with("}]}"), "{first}");

    // The README shows exactly these lines.
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let shown: Vec<&str> = readme
        .lines()
        .filter(|l| l.starts_with("{\"File\": \"SampleSMStext"))
        .collect();
    assert_eq!(
        shown,
        text.lines().collect::<Vec<_>>(),
        "update the README's example output"
    );

    let d = w.ok(&["describe-document-classification-job", "--job-id", id]);
    assert_eq!(
        d["DocumentClassificationJobProperties"]["JobStatus"],
        "COMPLETED"
    );
    assert_eq!(
        d["DocumentClassificationJobProperties"]["OutputDataConfig"]["S3Uri"],
        props["OutputDataConfig"]["S3Uri"]
    );
    let l = w.ok(&["list-document-classification-jobs"]);
    assert_eq!(
        l["DocumentClassificationJobPropertiesList"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let err = w.fails(
        1,
        &["describe-document-classification-job", "--job-id", "0123"],
    );
    assert!(err.contains("not found"), "{err}");
}

#[test]
fn prefixes_nested_keys_empty_lines_and_crlf() {
    let w = Workdir::new();
    w.train_small("m", "sms_small.csv", &[]);
    w.write("in/a.txt", "first\r\n\r\nthird\rfourth\n\nsixth");
    w.write("in/deep/b.txt", "only line\n");
    w.write("in.txt", "not under the folder prefix\n");
    w.write("in/empty.txt", "");
    let job = classify(&w, "in/", "m", &[]);
    let lines = prediction_values(&w.archive(&job));
    let got: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["File"].as_str().unwrap().into(),
                l["Line"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("a.txt", "0"),
        ("a.txt", "2"),
        ("a.txt", "3"),
        ("a.txt", "5"),
        ("deep/b.txt", "0"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, want);

    // Without the trailing slash, "in" is a prefix: it also matches in.txt, and keys keep "in/".
    let job = classify(&w, "in", "m", &[]);
    let files: Vec<String> = prediction_values(&w.archive(&job))
        .iter()
        .map(|l| l["File"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(files.first().unwrap(), "in.txt");
    assert!(files.contains(&"in/deep/b.txt".to_string()));
}

#[test]
fn oversized_and_undecodable_documents_become_error_records() {
    let w = Workdir::new();
    w.train_small("m", "sms_small.csv", &[]);
    let mut bytes = b"fine line\n".to_vec();
    bytes.extend_from_slice(&[b'x'; 64]);
    bytes.extend_from_slice(b"\nbad \xff byte\nafter the bad line\n");
    w.write("in/mixed.txt", &bytes);
    w.write("in/z.txt", "next file is still read\n");

    // Default (Comprehend's rule): error record, rest of the file skipped; exit code 3.
    let out = w.run(&[
        "classify",
        "--input",
        "in/",
        "--model",
        "m",
        "--output",
        "out/",
        "--max-line-bytes",
        "32",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let job: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines = prediction_values(&w.archive(&job));
    let codes: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["Line"].as_str().unwrap().to_string(),
                l.get("ErrorCode")
                    .and_then(|c| c.as_str())
                    .unwrap_or("ok")
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("0", "ok"),
            ("1", "DOCUMENT_SIZE_EXCEEDED"),
            ("2", "UNSUPPORTED_ENCODING"),
            ("0", "ok")
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect::<Vec<_>>()
    );
    assert!(lines[1]["ErrorMessage"]
        .as_str()
        .unwrap()
        .contains("32 bytes"));
    assert!(lines[1].get("Classes").is_none());
    assert_eq!(
        job["DocumentClassificationJobProperties"]["Docclass"]["Counts"]["Errors"],
        2
    );

    // skip-document carries on after the bad line; lossy classifies it.
    let out = w.run(&[
        "classify",
        "--input",
        "in/mixed.txt",
        "--model",
        "m",
        "--output",
        "out/",
        "--on-invalid-utf8",
        "skip-document",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(3), "error records give exit code 3");
    let job: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines = prediction_values(&w.archive(&job));
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[2]["ErrorCode"], "UNSUPPORTED_ENCODING");
    assert!(lines[3].get("Classes").is_some());
    let job = classify(&w, "in/mixed.txt", "m", &["--on-invalid-utf8", "lossy"]);
    let lines = prediction_values(&w.archive(&job));
    assert_eq!(lines.len(), 4);
    assert!(lines[2].get("Classes").is_some());

    // ONE_DOC_PER_FILE: the whole file is one document; size limit per file.
    let out = w.run(&[
        "classify",
        "--input",
        "in/",
        "--input-format",
        "ONE_DOC_PER_FILE",
        "--model",
        "m",
        "--output",
        "out/",
        "--max-file-bytes",
        "40",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let job: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines = prediction_values(&w.archive(&job));
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["ErrorCode"], "DOCUMENT_SIZE_EXCEEDED");
    assert_eq!(lines[1]["Line"], "0");
}

#[test]
fn one_doc_per_file_line_key_and_padded_style() {
    let w = Workdir::new();
    w.train_small("m", "sms_small.csv", &[]);
    w.write("docs/one.txt", "WIN a prize\ncall now\n");
    let job = classify(
        &w,
        "docs/",
        "m",
        &[
            "--input-format",
            "ONE_DOC_PER_FILE",
            "--omit-file-line",
            "--json-style",
            "padded",
        ],
    );
    let text = predictions(&w.archive(&job));
    assert!(
        text.starts_with("{ \"File\": \"one.txt\", \"Classes\": [{ \"Name\": "),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1);
}

#[test]
fn multi_label_models_write_labels() {
    let w = Workdir::new();
    w.train_small(
        "topics",
        "topics_multilabel.csv",
        &["--mode", "MULTI_LABEL"],
    );
    w.write(
        "in.txt",
        "the striker scored a goal\ninterest rates and bond yields\n",
    );
    let job = classify(&w, "in.txt", "topics", &[]);
    let lines = prediction_values(&w.archive(&job));
    assert_eq!(lines.len(), 2);
    for l in &lines {
        assert!(l.get("Classes").is_none());
        let labels = l["Labels"].as_array().unwrap();
        assert!(labels.len() >= 3);
        let scores: Vec<f64> = labels
            .iter()
            .map(|x| x["Score"].as_f64().unwrap())
            .collect();
        assert!(scores.windows(2).all(|p| p[0] >= p[1]));
    }
    assert_eq!(lines[0]["Labels"][0]["Name"], "sports");
    assert_eq!(lines[1]["Labels"][0]["Name"], "finance");
}

#[test]
fn output_is_identical_for_any_threads_chunking_and_io_path() {
    let w = Workdir::new();
    w.train_small("m", "sms_small.csv", &[]);
    let mut big = String::new();
    // Over 256 KiB, so `--mmap auto` maps it and `--mmap never` reads it.
    for i in 0..8000 {
        big.push_str(&format!("message {i}: call 0800{i:04} to WIN a prize\r\n"));
        if i % 7 == 0 {
            big.push('\n');
        }
    }
    w.write("in/big.txt", &big);
    w.write("in/small.txt", "hello\n");
    let run = |extra: &[&str]| predictions(&w.archive(&classify(&w, "in/", "m", extra)));
    let base = run(&["--threads", "1"]);
    assert!(big.len() > 256 * 1024);
    assert_eq!(base.lines().count(), 8001);
    assert_eq!(run(&["--threads", "2"]), base);
    assert_eq!(run(&["--threads", "3", "--mmap", "never"]), base);
    // Streamed reading (files larger than a unit are read chunk by chunk when not mapped).
    assert_eq!(
        run(&["--threads", "2", "--mmap", "never", "--unit-bytes", "4096"]),
        base
    );
    assert_eq!(
        run(&["--threads", "1", "--mmap", "never", "--unit-bytes", "7"]),
        base
    );
    assert_eq!(run(&["--threads", "2", "--unit-bytes", "4096"]), base);
    assert_eq!(
        run(&[
            "--threads",
            "1",
            "--unit-bytes",
            "100",
            "--compression-level",
            "1"
        ]),
        base
    );
}

#[test]
fn archives_open_with_tar_and_python_streaming_and_random_access() {
    let w = Workdir::new();
    let input = format!("{}/", repo().join("examples/sms").display());
    let job = classify(&w, &input, &shipped_model(), &[]);
    let archive = w.archive(&job);
    let expected = predictions(&archive);

    let x = w.join("x");
    fs::create_dir_all(&x).unwrap();
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&x)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        fs::read_to_string(x.join("predictions.jsonl")).unwrap(),
        expected
    );

    let script = r#"
import sys, tarfile
for mode in ("r:gz", "r|gz"):
    with tarfile.open(sys.argv[1], mode) as t:
        names = []
        for m in t:
            names.append(m.name)
            data = t.extractfile(m).read()
        assert names == ["predictions.jsonl"], names
        sys.stdout.write(data.decode("ascii"))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&archive)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected.repeat(2));
}

#[test]
fn failed_jobs_leave_no_archive_and_a_failed_record() {
    let w = Workdir::new();
    w.train_small("m", "sms_small.csv", &[]);
    w.write("in.txt", "hello\n");
    // The output prefix's folder is a file: the job fails, nothing appears at the final path.
    w.write("blocked", "a file where a folder should be");
    let err = w.fails(
        1,
        &[
            "classify", "--input", "in.txt", "--model", "m", "--output", "blocked/", "--job-id",
            "abc123", "-q",
        ],
    );
    assert!(err.contains("blocked"), "{err}");
    let rec = w.ok(&["describe-document-classification-job", "--job-id", "abc123"]);
    assert_eq!(
        rec["DocumentClassificationJobProperties"]["JobStatus"],
        "FAILED"
    );
    assert!(rec["DocumentClassificationJobProperties"]["Message"]
        .as_str()
        .unwrap()
        .contains("blocked"));

    let err = w.fails(
        2,
        &[
            "classify",
            "--input",
            "s3:///in/",
            "--model",
            "m",
            "--output",
            "out/",
            "-q",
        ],
    );
    assert!(err.contains("s3:///in/") && err.contains("bucket"), "{err}");
    let err = w.fails(
        2,
        &[
            "classify",
            "--input",
            "in.txt",
            "--input-format",
            "ONE_DOC_PER_PAGE",
            "--model",
            "m",
            "--output",
            "out/",
        ],
    );
    assert!(
        err.contains("--input-format") && err.contains("ONE_DOC_PER_LINE"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let err = w.fails(
        1,
        &[
            "classify", "--input", "missing/", "--model", "m", "--output", "out/", "-q",
        ],
    );
    assert!(err.contains("missing"), "{err}");
    let err = w.fails(
        1,
        &[
            "classify", "--input", "in.txt", "--model", "nomodel", "--output", "out/", "-q",
        ],
    );
    assert!(err.contains("list-document-classifiers"), "{err}");
    assert!(!w.join("out").exists());
}

/// Starts a long classification job (400,000 lines, one thread) and returns once its record says
/// IN_PROGRESS.
fn start_long_job(w: &Workdir, job_id: &str) -> std::process::Child {
    w.train_small("m", "sms_small.csv", &[]);
    w.write(
        "in/big.txt",
        "win a free prize now call 0800 123 456\n".repeat(400_000),
    );
    let child = Command::new(env!("CARGO_BIN_EXE_docclass"))
        .args([
            "classify",
            "--input",
            "in/",
            "--model",
            "m",
            "--output",
            "out/",
            "--job-id",
            job_id,
            "--threads",
            "1",
            "-q",
        ])
        .current_dir(w.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let record = w.join(&format!(".docclass/jobs/{job_id}.json"));
    let started = std::time::Instant::now();
    while !fs::read_to_string(&record).is_ok_and(|r| r.contains("IN_PROGRESS")) {
        assert!(started.elapsed().as_secs() < 60, "job never started");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child
}

#[test]
fn a_signal_stops_the_job_cleanly() {
    let w = Workdir::new();
    let child = start_long_job(&w, "feed");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rec = w.ok(&["describe-document-classification-job", "--job-id", "feed"]);
    assert_eq!(
        rec["DocumentClassificationJobProperties"]["JobStatus"],
        "STOPPED"
    );
    let folder = w.join("out/000000000000-CLN-feed/output");
    let left: Vec<_> = fs::read_dir(&folder)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "nothing may stay behind: {left:?}");
}

#[test]
fn a_killed_job_fails_on_the_next_read_and_leaves_nothing() {
    let w = Workdir::new();
    let mut child = start_long_job(&w, "dead");
    std::thread::sleep(std::time::Duration::from_millis(50));
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let folder = w.join("out/000000000000-CLN-dead/output");
    assert!(
        !folder.join("output.tar.gz").exists(),
        "no archive at the final path"
    );
    let rec = w.ok(&["describe-document-classification-job", "--job-id", "dead"]);
    let props = &rec["DocumentClassificationJobProperties"];
    assert_eq!(props["JobStatus"], "FAILED");
    assert!(props["Message"]
        .as_str()
        .unwrap()
        .contains("ended before the job finished"));
    let left: Vec<_> = fs::read_dir(&folder)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        left.is_empty(),
        "the temporary archive is removed: {left:?}"
    );
    // A rerun succeeds.
    let job = classify(&w, "in/", "m", &[]);
    assert_eq!(
        job["DocumentClassificationJobProperties"]["Docclass"]["Counts"]["Documents"],
        400_000
    );
}

/// Scores are pinned: `tests/fixtures/scores/predictions.jsonl` was written by the release before
/// the hot path was reworked for speed (word cache, fused counting, paired weights), with the
/// model shipped then (kept as `tests/fixtures/scores/model`), and every later build must write
/// the same bytes, with any thread count. The input mixes the example messages with Unicode,
/// long words the word cache does not keep, a word repeated past the byte counters' 255 and
/// hundreds of distinct words.
#[test]
fn pinned_model_scores_are_unchanged() {
    let w = Workdir::new();
    w.write(
        "input.txt",
        fs::read(fixture("scores/input.txt")).expect("the fixture input"),
    );
    let expected = fs::read_to_string(fixture("scores/predictions.jsonl")).unwrap();
    for threads in ["1", "2"] {
        let pinned = fixture("scores/model");
        let job = classify(&w, &w.arg("input.txt"), &pinned, &["--threads", threads]);
        let got = predictions(&w.archive(&job));
        assert!(
            got == expected,
            "predictions differ from tests/fixtures/scores/predictions.jsonl with {threads} thread(s)"
        );
    }
}
