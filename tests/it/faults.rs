//! Faults around a running job: an input file truncated underneath it, a full disk, and several
//! processes sharing one output prefix and one job store.

use std::fs;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{prediction_values, Workdir};

fn docclass() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_docclass"));
    c.env_remove("DOCCLASS_MODEL_REGISTRY")
        .env_remove("DOCCLASS_JOB_STORE");
    c
}

/// Lines of a few words drawn from a small vocabulary, so scores (and the output) vary.
fn varied_lines(n: usize) -> String {
    const WORDS: [&str; 16] = [
        "win", "free", "prize", "call", "now", "meeting", "lunch", "tomorrow", "mum", "text",
        "claim", "cash", "home", "late", "urgent", "ok",
    ];
    let mut state = 0x2545_f491_u64;
    let mut out = String::new();
    for _ in 0..n {
        for w in 0..6 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            if w > 0 {
                out.push(' ');
            }
            out.push_str(WORDS[(state >> 60) as usize]);
        }
        out.push('\n');
    }
    out
}

#[test]
fn an_input_truncated_while_mapped_ends_its_file_with_an_error_record() {
    let w = Workdir::new();
    w.train_small("m", "sms_small.csv", &[]);
    w.write(
        "in/a.txt",
        "win a free prize now call 0800 123 456\n".repeat(1_000_000),
    );
    w.write("in/b.txt", "see you at lunch\nwin cash now\n");
    let child = docclass()
        .args([
            "classify",
            "--input",
            "in/",
            "--model",
            "m",
            "--output",
            "out/",
            "--threads",
            "1",
            "-q",
        ])
        .current_dir(w.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the job has the file mapped, then cut it short underneath.
    let maps = format!("/proc/{}/maps", child.id());
    let started = Instant::now();
    while !fs::read_to_string(&maps).is_ok_and(|m| m.contains("in/a.txt")) {
        assert!(started.elapsed() < Duration::from_secs(60), "never mapped");
        std::thread::sleep(Duration::from_millis(1));
    }
    fs::File::options()
        .write(true)
        .open(w.join("in/a.txt"))
        .unwrap()
        .set_len(4000)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "the job survives (no SIGBUS) and reports error records: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let job: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        job["DocumentClassificationJobProperties"]["JobStatus"],
        "COMPLETED"
    );
    let lines = prediction_values(&w.archive(&job));
    let a: Vec<&serde_json::Value> = lines.iter().filter(|l| l["File"] == "a.txt").collect();
    let (last, classified) = a.split_last().unwrap();
    assert_eq!(last["ErrorCode"], "UNREADABLE_FILE", "{last}");
    assert!(last["ErrorMessage"].as_str().unwrap().contains("changed"));
    // Lines before the change are classified, in order, with no gap; nothing after it.
    for (i, l) in classified.iter().enumerate() {
        assert_eq!(l["Line"], i.to_string());
        assert_eq!(l["Classes"][0]["Name"], "spam");
    }
    assert_eq!(last["Line"], classified.len().to_string());
    assert!(classified.len() < 1_000_000);
    let b: Vec<&serde_json::Value> = lines.iter().filter(|l| l["File"] == "b.txt").collect();
    assert_eq!(b.len(), 2, "the next file is classified as usual");
}

#[test]
fn a_full_disk_fails_the_job_and_leaves_no_files() {
    // A 256 KiB tmpfs mounted over the output folder in a private mount namespace (unshare -rm
    // works for root and for users with user namespaces) fills up while the archive is written.
    let w = Workdir::new();
    w.train_small("m", "sms_small.csv", &[]);
    w.write("in.txt", varied_lines(60_000));
    fs::create_dir(w.join("out")).unwrap();
    let script = r#"mount -t tmpfs -o size=256k tmpfs out || exit 90
"$0" "$@"; code=$?
echo "== left behind:"; find out -type f
exit $code"#;
    let out = Command::new("unshare")
        .args(["-rm", "sh", "-c", script, env!("CARGO_BIN_EXE_docclass")])
        .args([
            "classify", "--input", "in.txt", "--model", "m", "--output", "out/", "--job-id",
            "f011", "-q",
        ])
        .current_dir(w.path())
        .env_remove("DOCCLASS_JOB_STORE")
        .env_remove("DOCCLASS_MODEL_REGISTRY")
        .output()
        .expect("unshare (util-linux) runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(
        out.status.code(),
        Some(90),
        "tmpfs could not be mounted: {stderr}"
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(
        stderr.contains("out/"),
        "the message names the output: {stderr}"
    );
    let left = stdout.split("== left behind:").nth(1).unwrap();
    assert_eq!(left.trim(), "", "temporary files are removed");
    let rec = w.ok(&["describe-document-classification-job", "--job-id", "f011"]);
    let props = &rec["DocumentClassificationJobProperties"];
    assert_eq!(props["JobStatus"], "FAILED");
    assert!(props["Message"]
        .as_str()
        .unwrap()
        .contains("No space left on device"));
}

#[test]
fn processes_share_an_output_prefix_and_a_job_store() {
    let w = Workdir::new();
    w.train_small("m", "sms_small.csv", &[]);
    w.write("in.txt", varied_lines(20_000));
    let spawn = |job_id: Option<&str>| {
        let mut c = docclass();
        c.args([
            "classify", "--input", "in.txt", "--model", "m", "--output", "out/", "-q",
        ]);
        if let Some(id) = job_id {
            c.args(["--job-id", id]);
        }
        c.current_dir(w.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Three jobs with their own ids and three racing for the same id, all at once.
    let children: Vec<_> = [None, None, None, Some("5a3e"), Some("5a3e"), Some("5a3e")]
        .into_iter()
        .map(spawn)
        .collect();
    let outs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let mut archives = Vec::new();
    let mut refused = 0;
    for (i, o) in outs.iter().enumerate() {
        let stderr = String::from_utf8_lossy(&o.stderr);
        if o.status.success() {
            let job: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            archives.push(w.archive(&job));
        } else {
            assert!(i >= 3, "jobs with their own ids succeed: {stderr}");
            assert_eq!(o.status.code(), Some(2), "{stderr}");
            assert!(stderr.contains("already exists"), "{stderr}");
            refused += 1;
        }
    }
    assert_eq!(refused, 2, "exactly one of the racing jobs runs");
    assert_eq!(archives.len(), 4);
    let first = prediction_values(&archives[0]);
    assert_eq!(first.len(), 20_000);
    for a in &archives[1..] {
        assert_ne!(a, &archives[0]);
        assert_eq!(prediction_values(a), first);
    }
    let list = w.ok(&["list-document-classification-jobs"]);
    let jobs = list["DocumentClassificationJobPropertiesList"]
        .as_array()
        .unwrap();
    assert_eq!(jobs.len(), 4);
    assert!(jobs.iter().all(|j| j["JobStatus"] == "COMPLETED"));
    let stray: Vec<_> = fs::read_dir(w.join(".docclass/jobs"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".json"))
        .collect();
    assert!(stray.is_empty(), "no temporary records left: {stray:?}");
}
