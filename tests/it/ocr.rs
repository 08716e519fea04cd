//! Images and scans through the real Tesseract (`tesseract-ocr`, `tesseract-ocr-eng`, installed
//! by `.ci/run`; `--features ocr`). Fails, never skips, when the engine is missing.

use std::fs;

use serde_json::Value;

use crate::util::{fixture, prediction_values, repo, Workdir};

fn job(w: &Workdir, extra: &[&str]) -> Vec<Value> {
    let status = std::process::Command::new("tesseract")
        .arg("--version")
        .output()
        .map(|o| o.status.success());
    assert!(
        matches!(status, Ok(true)),
        "these tests need Tesseract: apt-get install tesseract-ocr tesseract-ocr-eng"
    );
    let m = repo().join("models/spam-ham").display().to_string();
    let mut args = crate::util::classify_files(&m);
    args.push("-q");
    args.extend_from_slice(extra);
    let job = w.ok(&args);
    prediction_values(&w.archive(&job))
}

fn docs(w: &Workdir, names: &[&str]) {
    for n in names {
        w.write(
            &format!("in/{n}"),
            fs::read(fixture(&format!("docs/{n}"))).unwrap(),
        );
    }
}

/// (file, page, type, top class) of every line.
fn summary(lines: &[Value]) -> Vec<(String, u64, String, String)> {
    lines
        .iter()
        .map(|l| {
            (
                l["File"].as_str().unwrap().to_string(),
                l["DocumentMetadata"]["PageNumber"].as_u64().unwrap(),
                l["DocumentType"][0]["Type"].as_str().unwrap().to_string(),
                l["Classes"][0]["Name"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

#[test]
fn images_and_scans_are_read_by_ocr() {
    let w = Workdir::new();
    docs(&w, &["ham.jpg", "pages.tiff", "scanned.pdf", "spam.png"]);
    let s = |f: &str, p, t: &str, c: &str| (f.to_string(), p, t.to_string(), c.to_string());
    assert_eq!(
        summary(&job(&w, &[])),
        vec![
            s("ham.jpg", 1, "IMAGE", "ham"),
            s("pages.tiff", 1, "IMAGE", "spam"),
            s("pages.tiff", 2, "IMAGE", "ham"),
            s("scanned.pdf", 1, "SCANNED_PDF", "spam"),
            s("scanned.pdf", 2, "SCANNED_PDF", "ham"),
            s("spam.png", 1, "IMAGE", "spam"),
        ]
    );
}

#[test]
fn forced_ocr_reads_native_pages_as_images_and_analyze_lays_out_tables() {
    let w = Workdir::new();
    docs(&w, &["two-pages.pdf", "spam.png"]);
    let forced = job(
        &w,
        &[
            "--document-read-action",
            "TEXTRACT_DETECT_DOCUMENT_TEXT",
            "--document-read-mode",
            "FORCE_DOCUMENT_READ_ACTION",
        ],
    );
    let pdf: Vec<_> = summary(&forced)
        .into_iter()
        .filter(|l| l.0 == "two-pages.pdf")
        .collect();
    assert_eq!(pdf.len(), 2);
    assert_eq!(
        (pdf[0].2.as_str(), pdf[0].3.as_str()),
        ("NATIVE_PDF", "spam")
    );
    assert_eq!(pdf[1].3, "ham");
    // OCR'd text differs a little from the text layer: the page's character count shows it
    // went through OCR, and it is close to the text layer's.
    let analyzed = job(
        &w,
        &[
            "--document-read-action",
            "TEXTRACT_ANALYZE_DOCUMENT",
            "--feature-types",
            "TABLES,FORMS",
        ],
    );
    assert_eq!(summary(&analyzed).len(), 3);
    assert!(analyzed.iter().all(|l| l.get("Errors").is_none()));
}

/// A scan in German, classified by a classifier trained on German (`--language-code de`): OCR
/// runs with Tesseract's German pack (`-l deu`, `tesseract-ocr-deu`, installed by `.ci/run`),
/// reads the letter's umlauts, and the page is classified.
#[test]
fn a_german_scan_is_read_with_the_german_language_pack() {
    use std::os::unix::fs::PermissionsExt;
    let w = Workdir::new();
    w.train_small("de", "de_small.csv", &["--language-code", "de"]);
    docs(&w, &["brief-de.png"]);
    // The real engine behind a wrapper that notes how it was called.
    let log = w.join("calls.txt");
    let wrapper = w.join("tesseract");
    fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\nexec tesseract \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755)).unwrap();
    let m = w.join("models/de").display().to_string();
    let mut args = crate::util::classify_files(&m);
    args.push("-q");
    let out = crate::util::command(w.path(), &args)
        .env("DOCCLASS_TESSERACT", &wrapper)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "German OCR needs tesseract-ocr-deu: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let job: Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines = prediction_values(&w.archive(&job));
    assert_eq!(lines.len(), 1);
    assert!(lines[0].get("Errors").is_none(), "{}", lines[0]);
    assert_eq!(lines[0]["Classes"][0]["Name"], "spam", "{}", lines[0]);
    let chars = lines[0]["DocumentMetadata"]["ExtractedCharacters"][0]["Count"]
        .as_u64()
        .unwrap();
    assert!(chars > 250, "{chars} characters read");
    let calls = fs::read_to_string(&log).unwrap();
    assert!(
        calls.lines().any(|c| c.contains("-l deu")),
        "OCR was not run in German: {calls}"
    );
}
