//! `Workdir`: a temporary folder per test, a way to run the built binary in it, and readers for
//! the archives it writes.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Workdir {
    dir: tempfile::TempDir,
}

/// The repository root (for fixtures and the shipped models).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> String {
    repo()
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

impl Workdir {
    pub fn new() -> Workdir {
        Workdir {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// `join` as a string argument.
    pub fn arg(&self, p: &str) -> String {
        self.join(p).display().to_string()
    }

    pub fn write(&self, p: &str, bytes: impl AsRef<[u8]>) {
        let path = self.join(p);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }

    /// Runs `docclass ARGS` in this folder (job store and registry default to it).
    pub fn run(&self, args: &[&str]) -> Output {
        command(self.path(), args).output().unwrap()
    }

    /// Runs and asserts success; returns stdout parsed as JSON.
    pub fn ok(&self, args: &[&str]) -> serde_json::Value {
        ok_in(self.path(), args)
    }

    /// Runs, asserts the exit code, returns stderr.
    pub fn fails(&self, code: i32, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "docclass {args:?}\nstderr:\n{stderr}"
        );
        stderr
    }

    /// The archive path a finished job reports (relative paths are relative to this folder).
    pub fn archive(&self, job: &serde_json::Value) -> PathBuf {
        let uri = job["DocumentClassificationJobProperties"]["OutputDataConfig"]["S3Uri"]
            .as_str()
            .unwrap();
        self.path().join(uri)
    }

    /// Trains a small model from a fixture into this folder's registry.
    pub fn train_small(&self, name: &str, fixture_name: &str, extra: &[&str]) {
        let train = fixture(fixture_name);
        let mut args = vec![
            "train",
            "--name",
            name,
            "--train",
            &train,
            "--n-features-log2",
            "14",
            "-q",
        ];
        args.extend_from_slice(extra);
        self.ok(&args);
    }
}

/// The built binary with `args`, to run in `cwd`; the caller's registry and job-store variables
/// are not passed on, so defaults are relative to `cwd`.
/// `classify` over the files of `in/` (ONE_DOC_PER_FILE) with `model`, into `out/`: the job the
/// document and OCR tests run, to which each adds its own flags.
pub fn classify_files(model: &str) -> Vec<&str> {
    vec![
        "classify",
        "--input",
        "in/",
        "--input-format",
        "ONE_DOC_PER_FILE",
        "--model",
        model,
        "--output",
        "out/",
    ]
}

pub fn command(cwd: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_docclass"));
    c.args(args)
        .current_dir(cwd)
        .env_remove("DOCCLASS_MODEL_REGISTRY")
        .env_remove("DOCCLASS_JOB_STORE");
    c
}

/// Stdout of a successful run, as JSON; panics with stderr otherwise.
pub fn json_of(out: &Output, args: &[&str]) -> serde_json::Value {
    assert!(
        out.status.success(),
        "docclass {args:?} failed with {:?}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Runs `docclass ARGS` in `cwd`, asserts success and returns stdout as JSON.
pub fn ok_in(cwd: &Path, args: &[&str]) -> serde_json::Value {
    json_of(&command(cwd, args).output().unwrap(), args)
}

/// Reads `predictions.jsonl` out of an archive, asserting it is the only member.
pub fn predictions(archive: &Path) -> String {
    let f = fs::File::open(archive).unwrap();
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut entries = ar.entries().unwrap();
    let mut e = entries.next().expect("one member").unwrap();
    assert_eq!(e.path().unwrap().to_str().unwrap(), "predictions.jsonl");
    let mut s = String::new();
    e.read_to_string(&mut s).unwrap();
    assert!(
        entries.next().is_none(),
        "only predictions.jsonl in the archive"
    );
    s
}

/// Every line of `predictions.jsonl` parsed as JSON.
pub fn prediction_values(archive: &Path) -> Vec<serde_json::Value> {
    predictions(archive)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A minimal PDF with `pages` pages, each showing `text(page)` (0-based page index) in
/// Helvetica; pages sharing the same text share one content stream.
pub fn pdf_with_pages(pages: usize, text: impl Fn(usize) -> String) -> Vec<u8> {
    let mut objects: Vec<String> = Vec::new();
    // 1: catalog, 2: page tree, 3: font; contents and pages follow.
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".into());
    objects.push(String::new());
    objects.push(
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".into(),
    );
    let mut content_of: std::collections::HashMap<String, usize> = Default::default();
    let mut kids = Vec::with_capacity(pages);
    for p in 0..pages {
        let t = text(p);
        let content = *content_of.entry(t.clone()).or_insert_with(|| {
            let escaped = t
                .replace('\\', "\\\\")
                .replace('(', "\\(")
                .replace(')', "\\)");
            let stream = format!("BT /F1 11 Tf 72 720 Td ({escaped}) Tj ET");
            objects.push(format!(
                "<< /Length {} >>\nstream\n{stream}\nendstream",
                stream.len()
            ));
            objects.len()
        });
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents {content} 0 R >>"
        ));
        kids.push(format!("{} 0 R", objects.len()));
    }
    objects[1] = format!(
        "<< /Type /Pages /Kids [{}] /Count {pages} >>",
        kids.join(" ")
    );
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}
