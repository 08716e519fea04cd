//! docclass against a real S3-compatible server: s3s-fs (checks SigV4 signatures), one per test,
//! started on a free loopback port over a folder (its top-level folders are buckets, objects are
//! files). Run by .ci/run, which installs s3s-fs; fails, not skips, when the server is missing.
//!
//! `cargo test --release --features s3-server --test it s3::` (S3S_FS names the binary if it is
//! not on PATH or in ~/.cargo/bin).

use std::fs;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const KEY: &str = "docclass-test";
const SECRET: &str = "docclass-test-secret";

fn s3s_fs() -> PathBuf {
    if let Some(p) = std::env::var_os("S3S_FS") {
        return PathBuf::from(p);
    }
    let home = std::env::var("HOME").unwrap_or_default();
    let cargo_bin = Path::new(&home).join(".cargo/bin/s3s-fs");
    if cargo_bin.exists() {
        return cargo_bin;
    }
    PathBuf::from("s3s-fs")
}

struct Server {
    child: Child,
    port: u16,
    root: PathBuf,
}

impl Server {
    fn start(root: &Path) -> Server {
        for bucket in ["in-bucket", "out-bucket"] {
            fs::create_dir_all(root.join(bucket)).unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_on(root, port)
    }

    fn start_on(root: &Path, port: u16) -> Server {
        let child = Command::new(s3s_fs())
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", KEY, "--secret-key", SECRET])
            .arg(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start s3s-fs ({e}); install it with `cargo install s3s-fs@0.14.1 --locked --features binary` or set S3S_FS"
                )
            });
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "s3s-fs did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Server {
            child,
            port,
            root: root.to_path_buf(),
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Puts an object by writing the file s3s-fs serves it from.
    fn object(&self, bucket: &str, key: &str, bytes: impl AsRef<[u8]>) {
        let p = self.root.join(bucket).join(key);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, bytes).unwrap();
    }

    fn read(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        fs::read(self.root.join(bucket).join(key)).ok()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Env {
    dir: tempfile::TempDir,
    server: Server,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(&dir.path().join("s3"));
        fs::create_dir_all(dir.path().join("work")).unwrap();
        Env { dir, server }
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = crate::util::command(&self.work(), args);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("AWS_ACCESS_KEY_ID", KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", self.server.endpoint())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("DOCCLASS_SPOOL_DIR", self.dir.path().join("spool"))
            .env("DOCCLASS_S3_MAX_RETRIES", "2")
            .env("SOURCE_DATE_EPOCH", "1700000000");
        c
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = self.cmd(args);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> serde_json::Value {
        let out = self.run(args, &[]);
        assert!(
            matches!(out.status.code(), Some(0 | 3)),
            "docclass {args:?}: {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// No spool file may outlive a job.
    fn assert_spool_empty(&self) {
        let spool = self.dir.path().join("spool");
        let left: Vec<_> = walk(&spool);
        assert!(left.is_empty(), "spool files left behind: {left:?}");
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.path().is_dir() {
                out.extend(walk(&e.path()));
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

fn model() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models/spam-ham")
        .display()
        .to_string()
}

/// Lines of a few words from a small vocabulary (varied scores), `n` of them.
fn lines(n: usize, seed: u64) -> String {
    const WORDS: [&str; 12] = [
        "win", "free", "prize", "call", "now", "lunch", "tomorrow", "mum", "claim", "cash", "home",
        "ok",
    ];
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut out = String::new();
    for _ in 0..n {
        for w in 0..5 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if w > 0 {
                out.push(' ');
            }
            out.push_str(WORDS[(state % 12) as usize]);
        }
        out.push('\n');
    }
    out
}

fn members(archive: &[u8]) -> String {
    use std::io::Read;
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    let mut e = ar.entries().unwrap().next().unwrap().unwrap();
    let mut s = String::new();
    e.read_to_string(&mut s).unwrap();
    s
}

#[test]
fn s3_input_and_output_match_a_local_run_byte_for_byte() {
    let env = Env::new();
    let s = &env.server;
    // Prefix semantics: `in/sms` matches `in/sms1.txt` and `in/sms/...`, not `in/other.txt`.
    let big = lines(800_000, 1);
    s.object("in-bucket", "in/sms1.txt", &big);
    s.object(
        "in-bucket",
        "in/sms/nested.txt",
        "win a free prize\r\nsee you\n",
    );
    s.object("in-bucket", "in/other.txt", "not selected\n");
    fs::create_dir_all(env.work().join("local/in/sms")).unwrap();
    fs::write(env.work().join("local/in/sms1.txt"), &big).unwrap();
    fs::write(
        env.work().join("local/in/sms/nested.txt"),
        "win a free prize\r\nsee you\n",
    )
    .unwrap();
    fs::write(env.work().join("local/in/other.txt"), "not selected\n").unwrap();

    let remote = env.run(
        &[
            "classify",
            "--input",
            "s3://in-bucket/in/sms",
            "--model",
            &model(),
            "--output",
            "s3://out-bucket/results/",
            "--job-id",
            "5e",
            "-q",
        ],
        // Small parts, so the archive is a real multi-part upload.
        &[("DOCCLASS_S3_PART_BYTES", "5242880")],
    );
    assert!(
        remote.status.success(),
        "{}",
        String::from_utf8_lossy(&remote.stderr)
    );
    let job: serde_json::Value = serde_json::from_slice(&remote.stdout).unwrap();
    let props = &job["DocumentClassificationJobProperties"];
    assert_eq!(props["JobStatus"], "COMPLETED");
    assert_eq!(
        props["OutputDataConfig"]["S3Uri"],
        "s3://out-bucket/results/000000000000-CLN-5e/output/output.tar.gz"
    );
    let archive = s
        .read(
            "out-bucket",
            "results/000000000000-CLN-5e/output/output.tar.gz",
        )
        .expect("the archive is in the output bucket");
    assert!(archive.len() > 5 << 20, "several parts: {}", archive.len());
    let text = members(&archive);
    assert_eq!(text.lines().count(), 800_002);
    assert!(text.starts_with(r#"{"File": "sms/nested.txt", "Line": "0""#));
    assert!(!text.contains("other.txt"));

    env.ok(&[
        "classify",
        "--input",
        "local/in/sms",
        "--model",
        &model(),
        "--output",
        "out/",
        "--job-id",
        "5f",
        "-q",
    ]);
    let local = fs::read(
        env.work()
            .join("out/000000000000-CLN-5f/output/output.tar.gz"),
    )
    .unwrap();
    assert!(local == archive, "the S3 run and the local run differ");
    env.assert_spool_empty();
}

#[test]
fn sharded_jobs_read_and_write_s3_and_merge_byte_for_byte() {
    let env = Env::new();
    let s = &env.server;
    s.object("in-bucket", "corpus/a.txt", lines(50_000, 2));
    s.object("in-bucket", "corpus/b.txt", lines(10, 3));
    s.object("in-bucket", "corpus/c.txt", lines(30_000, 4));
    let common = |out: &str, id: &str| -> Vec<String> {
        [
            "classify",
            "--input",
            "s3://in-bucket/corpus/",
            "--model",
            &model(),
            "--output",
            out,
            "--job-id",
            id,
            "--unit-bytes",
            "65536",
            "-q",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let single = common("s3://out-bucket/one/", "1");
    env.ok(&single.iter().map(String::as_str).collect::<Vec<_>>());
    for i in 0..3 {
        let mut args = common("s3://out-bucket/many/", "3");
        args.extend([
            "--shard-index".into(),
            i.to_string(),
            "--shard-count".into(),
            "3".into(),
        ]);
        let part = env.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(part["ShardIndex"], i);
    }
    let parts = s
        .root
        .join("out-bucket/many/000000000000-CLN-3/output/parts");
    assert_eq!(
        fs::read_dir(&parts).unwrap().count(),
        6,
        "3 parts, 3 records"
    );
    let merged = env.ok(&[
        "merge",
        "--output",
        "s3://out-bucket/many/",
        "--job-id",
        "3",
    ]);
    assert_eq!(
        merged["DocumentClassificationJobProperties"]["Docclass"]["Counts"]["Documents"],
        80_010
    );
    let one = s
        .read("out-bucket", "one/000000000000-CLN-1/output/output.tar.gz")
        .unwrap();
    let many = s
        .read("out-bucket", "many/000000000000-CLN-3/output/output.tar.gz")
        .unwrap();
    assert!(one == many, "merged S3 parts differ from the single run");
    let left: Vec<_> = walk(&parts);
    assert!(left.is_empty(), "parts are removed from S3: {left:?}");
    env.assert_spool_empty();
}

#[test]
fn training_reads_labelled_data_from_s3() {
    let env = Env::new();
    let csv = fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sms_small.csv"))
        .unwrap();
    env.server.object("in-bucket", "train/sms.csv", csv);
    let out = env.ok(&[
        "train",
        "--name",
        "from-s3",
        "--train",
        "s3://in-bucket/train/sms.csv",
        "--n-features-log2",
        "12",
        "-q",
    ]);
    assert_eq!(out["DocumentClassifierProperties"]["Status"], "TRAINED");
    assert_eq!(
        out["DocumentClassifierProperties"]["InputDataConfig"]["S3Uri"],
        "s3://in-bucket/train/sms.csv"
    );
    assert!(env.work().join("models/from-s3/model.json").exists());
}

#[test]
fn bad_credentials_missing_buckets_and_keys_fail_clearly_and_publish_nothing() {
    let env = Env::new();
    env.server.object("in-bucket", "in/a.txt", lines(100, 5));
    let job = |input: &str, output: &str, id: &str, extra: &[(&str, &str)]| {
        let out = env.run(
            &[
                "classify",
                "--input",
                input,
                "--model",
                &model(),
                "--output",
                output,
                "--job-id",
                id,
                "-q",
            ],
            extra,
        );
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        err
    };
    let err = job(
        "s3://in-bucket/in/",
        "s3://out-bucket/o/",
        "a1",
        &[("AWS_SECRET_ACCESS_KEY", "wrong")],
    );
    assert!(
        err.contains("s3://in-bucket/in/") && err.contains("credentials"),
        "{err}"
    );
    let err = job("s3://no-such-bucket/in/", "s3://out-bucket/o/", "a2", &[]);
    assert!(err.contains("s3://no-such-bucket/in/"), "{err}");
    let err = job(
        "s3://in-bucket/nothing-here/",
        "s3://out-bucket/o/",
        "a3",
        &[],
    );
    assert!(err.contains("no input files match"), "{err}");
    // The output cannot be stored (s3s-fs keeps a bucket in a folder, and this one is a file):
    // the upload fails after the job ran; nothing is left behind.
    fs::write(env.server.root.join("blocked-out"), "not a folder").unwrap();
    let err = job("s3://in-bucket/in/", "s3://blocked-out/o/", "a4", &[]);
    assert!(
        err.contains("s3://blocked-out/o/000000000000-CLN-a4/output/output.tar.gz"),
        "{err}"
    );
    let rec = env.ok(&["describe-document-classification-job", "--job-id", "a4"]);
    assert_eq!(
        rec["DocumentClassificationJobProperties"]["JobStatus"],
        "FAILED"
    );
    env.assert_spool_empty();
    assert!(walk(&env.server.root.join("out-bucket")).is_empty());
}

#[test]
fn a_server_lost_mid_job_fails_the_job_and_publishes_nothing() {
    let mut env = Env::new();
    // Big enough that the job is still reading when the server goes away.
    env.server
        .object("in-bucket", "in/big.txt", lines(1_500_000, 6));
    let child = env
        .cmd(&[
            "classify",
            "--input",
            "s3://in-bucket/in/",
            "--model",
            &model(),
            "--output",
            "s3://out-bucket/o/",
            "--job-id",
            "c07",
            "--threads",
            "1",
            "-q",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let record = env.work().join(".docclass/jobs/c07.json");
    let started = Instant::now();
    while !fs::read_to_string(&record).is_ok_and(|r| r.contains("IN_PROGRESS")) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "job never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(200));
    let port = env.server.port;
    env.server.stop();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("s3://in-bucket/in/big.txt"),
        "names the object: {err}"
    );
    let rec = env.ok(&["describe-document-classification-job", "--job-id", "c07"]);
    assert_eq!(
        rec["DocumentClassificationJobProperties"]["JobStatus"],
        "FAILED"
    );
    env.assert_spool_empty();
    // Back up: nothing was published, and a rerun succeeds.
    env.server = Server::start_on(&env.server.root.clone(), port);
    assert!(env
        .server
        .read("out-bucket", "o/000000000000-CLN-c07/output/output.tar.gz")
        .is_none());
    let job = env.ok(&[
        "classify",
        "--input",
        "s3://in-bucket/in/",
        "--model",
        &model(),
        "--output",
        "s3://out-bucket/o/",
        "-q",
    ]);
    assert_eq!(
        job["DocumentClassificationJobProperties"]["Docclass"]["Counts"]["Documents"],
        1_500_000
    );
}
