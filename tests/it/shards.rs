//! Jobs split in shards (`--shard-index/--shard-count`, or a scheduler's array variables) and
//! spliced by `docclass merge`: the archive is byte for byte the one a single process writes.

use std::fs;
use std::process::Command;

use crate::util::{repo, Workdir};

fn model() -> String {
    repo().join("models/spam-ham").display().to_string()
}

/// Runs docclass with a fixed archive time, so separate runs can be compared byte for byte.
fn run(w: &Workdir, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_docclass"));
    c.args(args)
        .current_dir(w.path())
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env_remove("DOCCLASS_JOB_STORE")
        .env_remove("DOCCLASS_MODEL_REGISTRY");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn ok(w: &Workdir, args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
    let out = run(w, args, env);
    // 3: the job completed with error records (the corpus has some on purpose).
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "docclass {args:?}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A corpus with a big file, small and empty files, a line over the limit and invalid UTF-8
/// (which makes Comprehend skip the rest of its file, across any shard boundary).
fn corpus(w: &Workdir) {
    let mut big = String::new();
    for i in 0..20_000 {
        big.push_str(
            [
                "win a free prize now\n",
                "see you at lunch\r\n",
                "call me\r",
            ][i % 3],
        );
    }
    w.write("in/a-big.txt", &big);
    w.write("in/b-empty.txt", "");
    w.write("in/c-small.txt", "ok\nwin cash\n");
    let mut bad = b"first line\n".repeat(3000);
    bad.extend_from_slice(b"bad \xff\xfe line\n");
    bad.extend_from_slice(&b"skipped after the bad line\n".repeat(3000));
    w.write("in/d-bad-utf8.txt", bad);
    w.write(
        "in/e-long.txt",
        format!("short\n{}\nshort again\n", "x".repeat(5000)),
    );
}

fn archive(w: &Workdir, out: &str, job: &str) -> Vec<u8> {
    fs::read(w.join(&format!(
        "{out}/000000000000-CLN-{job}/output/output.tar.gz"
    )))
    .unwrap()
}

#[test]
fn merged_shards_equal_a_single_run_byte_for_byte() {
    let w = Workdir::new();
    corpus(&w);
    for (fi, format) in ["ONE_DOC_PER_LINE", "ONE_DOC_PER_FILE"]
        .into_iter()
        .enumerate()
    {
        let single_id = format!("{fi}f");
        let common = [
            "--input",
            "in/",
            "--input-format",
            format,
            "--model",
            &model(),
            "--unit-bytes",
            "3000",
            "--max-line-bytes",
            "4000",
            "-q",
        ];
        let mut single = vec!["classify", "--output", "one/", "--job-id", &single_id];
        single.extend_from_slice(&common);
        let job = ok(&w, &single, &[]);
        assert_eq!(
            job["DocumentClassificationJobProperties"]["JobStatus"],
            "COMPLETED"
        );
        let expected = archive(&w, "one", &single_id);
        for shards in [1usize, 2, 3, 7] {
            let id = format!("{shards}a{fi}");
            for i in 0..shards {
                let (i, n) = (i.to_string(), shards.to_string());
                // Shards differ in threads and I/O path (mapped or streamed): same bytes.
                let threads = if i == "0" { "1" } else { "2" };
                let mmap = if i == "1" { "never" } else { "auto" };
                let mut args = vec![
                    "classify",
                    "--output",
                    "parts/",
                    "--job-id",
                    &id,
                    "--threads",
                    threads,
                    "--mmap",
                    mmap,
                    "--shard-index",
                    &i,
                    "--shard-count",
                    &n,
                ];
                args.extend_from_slice(&common);
                ok(&w, &args, &[]);
            }
            if shards > 1 {
                let merged = ok(&w, &["merge", "--output", "parts/", "--job-id", &id], &[]);
                let props = &merged["DocumentClassificationJobProperties"];
                assert_eq!(props["JobStatus"], "COMPLETED");
                assert_eq!(
                    props["InputDataConfig"]["InputFormat"], format,
                    "the record describes the job"
                );
            }
            assert!(
                archive(&w, "parts", &id) == expected,
                "{format}, {shards} shards: the merged archive differs from a single run"
            );
            let output = w.join(&format!("parts/000000000000-CLN-{id}/output"));
            let left: Vec<_> = fs::read_dir(&output)
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            assert_eq!(left, ["output.tar.gz"], "parts are removed after merging");
        }
        fs::remove_dir_all(w.join("one")).unwrap();
        fs::remove_dir_all(w.join("parts")).unwrap();
    }
}

#[test]
fn a_missing_shard_is_named_and_can_be_rerun_alone() {
    let w = Workdir::new();
    corpus(&w);
    let shard = |i: &str| {
        ok(
            &w,
            &[
                "classify",
                "--input",
                "in/",
                "--model",
                &model(),
                "--output",
                "out/",
                "--job-id",
                "b0",
                "--shard-index",
                i,
                "--shard-count",
                "3",
                "--unit-bytes",
                "3000",
                "-q",
            ],
            &[],
        )
    };
    shard("0");
    shard("2");
    let out = run(&w, &["merge", "--output", "out/", "--job-id", "b0"], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("shard(s) 1 of 3") && err.contains("rerun"),
        "{err}"
    );
    assert!(!w
        .join("out/000000000000-CLN-b0/output/output.tar.gz")
        .exists());
    let part = shard("1");
    assert_eq!(part["ShardIndex"], 1);
    assert!(part["Counts"]["Documents"].as_u64().unwrap() > 0);
    ok(&w, &["merge", "--output", "out/", "--job-id", "b0"], &[]);
    let rec = ok(
        &w,
        &["describe-document-classification-job", "--job-id", "b0"],
        &[],
    );
    assert_eq!(
        rec["DocumentClassificationJobProperties"]["JobStatus"],
        "COMPLETED"
    );

    // Parts of another job's settings are refused, not spliced.
    let other = |i: &str, unit: &str| {
        ok(
            &w,
            &[
                "classify",
                "--input",
                "in/",
                "--model",
                &model(),
                "--output",
                "mix/",
                "--job-id",
                "c0",
                "--shard-index",
                i,
                "--shard-count",
                "2",
                "--unit-bytes",
                unit,
                "-q",
            ],
            &[],
        )
    };
    other("0", "3000");
    other("1", "5000");
    let out = run(&w, &["merge", "--output", "mix/", "--job-id", "c0"], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("does not match"), "{err}");
}

#[test]
fn shards_default_from_slurm_and_aws_batch_array_variables() {
    let w = Workdir::new();
    corpus(&w);
    let base = [
        "classify",
        "--input",
        "in/",
        "--model",
        &model(),
        "--output",
        "out/",
        "--unit-bytes",
        "3000",
        "-q",
    ];
    ok(
        &w,
        &[
            "classify",
            "--input",
            "in/",
            "--model",
            &model(),
            "--output",
            "one/",
            "--job-id",
            "2",
            "--unit-bytes",
            "3000",
            "-q",
        ],
        &[],
    );
    // Slurm: --array=1-2 numbers tasks from SLURM_ARRAY_TASK_MIN; the array job id is shared.
    for task in ["1", "2"] {
        let part = ok(
            &w,
            &base,
            &[
                ("SLURM_ARRAY_JOB_ID", "4242"),
                ("SLURM_ARRAY_TASK_ID", task),
                ("SLURM_ARRAY_TASK_MIN", "1"),
                ("SLURM_ARRAY_TASK_COUNT", "2"),
            ],
        );
        assert_eq!(part["JobId"], "4242");
        assert_eq!(part["ShardCount"], 2);
    }
    ok(
        &w,
        &["merge", "--output", "out/"],
        &[("SLURM_ARRAY_JOB_ID", "4242")],
    );
    assert!(archive(&w, "out", "4242") == archive(&w, "one", "2"));

    // AWS Batch: children's job ids are <parent uuid>:<index>.
    for index in ["0", "1", "2"] {
        let batch_id = format!("1b2c3d4e-0000-4000-8000-00000000abcd:{index}");
        let part = ok(
            &w,
            &base,
            &[
                ("AWS_BATCH_JOB_ID", batch_id.as_str()),
                ("AWS_BATCH_JOB_ARRAY_INDEX", index),
                ("AWS_BATCH_JOB_ARRAY_SIZE", "3"),
            ],
        );
        assert_eq!(part["JobId"], "1b2c3d4e00004000800000000000abcd");
    }
    ok(
        &w,
        &[
            "merge",
            "--output",
            "out/",
            "--job-id",
            "1b2c3d4e00004000800000000000abcd",
        ],
        &[],
    );
    assert!(archive(&w, "out", "1b2c3d4e00004000800000000000abcd") == archive(&w, "one", "2"));

    let out = run(&w, &base, &[("SLURM_ARRAY_TASK_ID", "0")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--shard-count"), "{err}");
    let out = run(
        &w,
        &base,
        &[("JOB_COMPLETION_INDEX", "0"), ("DOCCLASS_SHARD_COUNT", "2")],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--job-id"),
        "a Kubernetes shard needs a shared id: {err}"
    );
}
