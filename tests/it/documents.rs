//! Semi-structured documents in ONE_DOC_PER_FILE jobs, without a real OCR engine (the `ocr`
//! group has those): native PDF, Word and Textract JSON read into one line per page, bad
//! documents turned into error records while the job goes on, OCR that is missing or hangs,
//! the DocumentReaderConfig settings checked, and output independent of threads and shards.

use std::fs;
use std::io::Write;

use serde_json::Value;

use crate::util::{fixture, pdf_with_pages, prediction_values, predictions, repo, Workdir};

fn model() -> String {
    repo().join("models/spam-ham").display().to_string()
}

/// Copies fixture documents into `in/` of the work folder.
fn docs(w: &Workdir, names: &[&str]) {
    for n in names {
        w.write(
            &format!("in/{n}"),
            fs::read(fixture(&format!("docs/{n}"))).unwrap(),
        );
    }
}

/// Runs a ONE_DOC_PER_FILE job over `in/` with an OCR command that cannot run, unless `env`
/// says otherwise; returns (exit code, lines).
fn job(w: &Workdir, extra: &[&str], env: &[(&str, &str)]) -> (i32, Vec<Value>) {
    let m = model();
    let mut args = crate::util::classify_files(&m);
    args.push("-q");
    args.extend_from_slice(extra);
    let mut cmd = crate::util::command(w.path(), &args);
    cmd.env("DOCCLASS_TESSERACT", "/nonexistent/tesseract");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    assert!(
        matches!(code, 0 | 3),
        "exit {code}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let job: Value = serde_json::from_slice(&out.stdout).unwrap();
    (code, prediction_values(&w.archive(&job)))
}

/// A Word file of `paragraphs`, as programs write them: no page breaks, no layout Word recorded.
fn docx(paragraphs: &[&str]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    z.start_file(
        "word/document.xml",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    let body: String = paragraphs
        .iter()
        .map(|p| {
            format!(
                "<w:p><w:r><w:t>{}</w:t></w:r></w:p>",
                p.replace('&', "&amp;").replace('<', "&lt;")
            )
        })
        .collect();
    let xml = format!(r#"<w:document xmlns:w="w"><w:body>{body}</w:body></w:document>"#);
    z.write_all(xml.as_bytes()).unwrap();
    z.finish().unwrap().into_inner()
}

fn of<'a>(lines: &'a [Value], file: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["File"] == file).collect()
}

fn top(line: &Value) -> &str {
    line["Classes"][0]["Name"].as_str().unwrap()
}

#[test]
fn native_pdf_word_and_textract_json_read_page_by_page() {
    let w = Workdir::new();
    docs(
        &w,
        &["two-pages.pdf", "letter.docx", "textract-detect.json"],
    );
    w.write("in/note.txt", "see you at lunch tomorrow, love mum");
    let (code, lines) = job(&w, &[], &[]);
    assert_eq!(code, 0);
    let pdf = of(&lines, "two-pages.pdf");
    assert_eq!(pdf.len(), 2);
    assert_eq!(
        [top(pdf[0]), top(pdf[1])],
        ["spam", "ham"],
        "page 1 is the prize message, page 2 the note to mum"
    );
    for (i, page) in pdf.iter().enumerate() {
        let n = i as u64 + 1;
        assert_eq!(page["DocumentMetadata"]["PageNumber"], n);
        assert_eq!(page["DocumentMetadata"]["Pages"], 2);
        assert_eq!(page["DocumentType"][0]["Type"], "NATIVE_PDF");
        assert_eq!(page["DocumentType"][0]["Page"], n);
        assert_eq!(page["Classes"][0]["Page"], n);
        let count = page["DocumentMetadata"]["ExtractedCharacters"][0]["Count"]
            .as_u64()
            .unwrap();
        assert!((100..300).contains(&count), "{count}");
        assert!(page.get("Line").is_none() && page["Version"].is_string());
    }
    let word = of(&lines, "letter.docx");
    assert_eq!(word.len(), 2);
    assert_eq!(word[0]["DocumentType"][0]["Type"], "MS_WORD");
    assert_eq!([top(word[0]), top(word[1])], ["spam", "ham"]);
    let textract = of(&lines, "textract-detect.json");
    assert_eq!(textract.len(), 1);
    assert_eq!(
        textract[0]["DocumentType"][0]["Type"],
        "TEXTRACT_DETECT_DOCUMENT_TEXT_JSON"
    );
    assert_eq!(top(textract[0]), "spam");
    // Plain text keeps Comprehend's text line, exactly as before.
    let text = of(&lines, "note.txt");
    assert_eq!(text.len(), 1);
    assert_eq!(text[0]["Line"], "0");
    assert_eq!(top(text[0]), "ham");
    // Keys sorted on document lines; the text line keeps its own order.
    let raw = predictions(
        &w.join("out")
            .read_dir()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path()
            .join("output/output.tar.gz"),
    );
    let pdf_line = raw.lines().find(|l| l.contains("two-pages.pdf")).unwrap();
    assert!(
        pdf_line.starts_with(r#"{"Classes": [{"Name": "spam", "Page": 1, "Score": "#),
        "{pdf_line}"
    );
    assert!(raw.contains(r#"{"File": "note.txt", "Line": "0", "Classes": "#));
}

/// A long Word file without page breaks (as python-docx and most converters write it) is read
/// as the pages a reader sees, each classified, not refused as one page over the limit.
#[test]
fn a_long_word_file_is_read_page_by_page() {
    let w = Workdir::new();
    let spam = "WINNER! You have been selected to receive a cash prize of 1000 pounds. Call 09061701461 now to claim, text CLAIM to 80086, valid 12 hours only.";
    let paragraph = [spam; 10].join(" "); // about 1,400 characters
    let paragraphs: Vec<&str> = (0..16).map(|_| paragraph.as_str()).collect();
    w.write("in/long.docx", docx(&paragraphs));
    let (code, lines) = job(&w, &[], &[]);
    assert_eq!(code, 0, "{lines:?}");
    let pages = of(&lines, "long.docx");
    // 16 paragraphs of ~1,400 characters, two to a 3,000-character page.
    assert_eq!(pages.len(), 8, "{pages:?}");
    for (k, page) in pages.iter().enumerate() {
        assert!(page.get("Errors").is_none(), "{page}");
        assert_eq!(top(page), "spam");
        let meta = &page["DocumentMetadata"];
        assert_eq!(meta["PageNumber"], k + 1);
        assert_eq!(meta["Pages"], 8);
        let chars = meta["ExtractedCharacters"][0]["Count"].as_u64().unwrap();
        assert!((2_000..=3_000).contains(&chars), "page {}: {chars}", k + 1);
    }
}

#[test]
fn bad_documents_become_error_records_and_the_job_goes_on() {
    let w = Workdir::new();
    docs(&w, &["encrypted.pdf"]);
    let pdf = fs::read(fixture("docs/two-pages.pdf")).unwrap();
    w.write("in/a-truncated.pdf", &pdf[..pdf.len() / 3]);
    w.write(
        "in/b-corrupt.pdf",
        b"%PDF-1.7\n\x00\x01 not a pdf at all \xff\xfe",
    );
    // A zip bomb posing as Word: its body expands far past the limit.
    let mut bomb = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    bomb.start_file("word/document.xml", opts).unwrap();
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..120 {
        bomb.write_all(&zeros).unwrap();
    }
    w.write("in/c-bomb.docx", bomb.finish().unwrap().into_inner());
    // A PNG that claims 100,000 x 100,000 pixels.
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&100_000u32.to_be_bytes());
    png.extend_from_slice(&100_000u32.to_be_bytes());
    png.extend_from_slice(&[8, 0, 0, 0, 0, 0, 0, 0, 0]);
    w.write("in/d-huge.png", png);
    w.write(
        "in/e-10000-pages.pdf",
        pdf_with_pages(10_000, |_| "a page".into()),
    );
    w.write("in/f-archive.zip", b"PK\x03\x04not a word document");
    w.write("in/z-last.txt", "see you at lunch tomorrow");
    let (code, lines) = job(&w, &[], &[]);
    assert_eq!(code, 3);
    let code_of = |f: &str| of(&lines, f)[0]["ErrorCode"].as_str().unwrap().to_string();
    assert_eq!(code_of("encrypted.pdf"), "INVALID_DOCUMENT");
    // A truncated PDF keeps its page tree (hayro recovers it) but not its content: each page
    // says so.
    let truncated = of(&lines, "a-truncated.pdf");
    assert_eq!(truncated.len(), 2);
    for page in &truncated {
        assert_eq!(page["Errors"][0]["ErrorCode"], "TEXTRACT_BAD_PAGE");
        assert!(page.get("Classes").is_none());
    }
    assert_eq!(code_of("b-corrupt.pdf"), "INVALID_DOCUMENT");
    assert_eq!(code_of("c-bomb.docx"), "DOCUMENT_SIZE_EXCEEDED");
    assert_eq!(code_of("e-10000-pages.pdf"), "PAGE_LIMIT_EXCEEDED");
    assert_eq!(code_of("f-archive.zip"), "UNSUPPORTED_DOC_TYPE");
    let huge = of(&lines, "d-huge.png");
    assert_eq!(huge[0]["Errors"][0]["ErrorCode"], "TEXTRACT_BAD_PAGE");
    assert!(huge[0]["Errors"][0]["ErrorMessage"]
        .as_str()
        .unwrap()
        .contains("100000 x 100000"));
    for l in &lines {
        assert!(l["File"].is_string(), "{l}");
    }
    assert_eq!(top(of(&lines, "z-last.txt")[0]), "ham", "the job went on");
    assert_eq!(
        lines.len(),
        9,
        "one record per bad document (per page when pages are known)"
    );
}

#[test]
fn images_without_an_ocr_engine_get_a_page_error_that_says_what_to_install() {
    let w = Workdir::new();
    docs(&w, &["spam.png", "scanned.pdf"]);
    let (code, lines) = job(&w, &[], &[]);
    assert_eq!(code, 3);
    assert_eq!(lines.len(), 3, "one image page and two scanned pages");
    for l in &lines {
        let e = &l["Errors"][0];
        assert_eq!(e["ErrorCode"], "TEXTRACT_BAD_PAGE");
        assert!(e["ErrorMessage"]
            .as_str()
            .unwrap()
            .contains("apt-get install tesseract-ocr"));
    }
    assert_eq!(
        of(&lines, "scanned.pdf")[0]["DocumentType"][0]["Type"],
        "SCANNED_PDF"
    );
}

/// A fake `tesseract` that knows only English: a scan for a German classifier gets page errors
/// naming the pack to install, and the job says it once, in its record's Message and on stderr.
#[test]
fn a_missing_ocr_language_pack_is_named_once_for_the_job() {
    use std::os::unix::fs::PermissionsExt;
    let w = Workdir::new();
    w.train_small("de", "de_small.csv", &["--language-code", "de"]);
    let fake = w.join("tesseract");
    fs::write(
        &fake,
        "#!/bin/sh\n[ \"$1\" = --list-langs ] && { echo 'List of available languages (1):'; echo eng; exit 0; }\nexit 1\n",
    )
    .unwrap();
    fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
    docs(&w, &["brief-de.png", "spam.png"]);
    let m = w.join("models/de").display().to_string();
    let out = crate::util::command(w.path(), &crate::util::classify_files(&m))
        .env("DOCCLASS_TESSERACT", &fake)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let job: Value = serde_json::from_slice(&out.stdout).unwrap();
    let record = &job["DocumentClassificationJobProperties"];
    assert_eq!(record["JobStatus"], "COMPLETED");
    let message = record["Message"].as_str().unwrap();
    assert!(
        message.contains("apt-get install tesseract-ocr-deu"),
        "{message}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("tesseract-ocr-deu").count(), 1, "{stderr}");
    for line in prediction_values(&w.archive(&job)) {
        let e = &line["Errors"][0];
        assert_eq!(e["ErrorCode"], "TEXTRACT_BAD_PAGE");
        assert!(
            e["ErrorMessage"].as_str().unwrap().contains("German"),
            "{line}"
        );
    }
}

/// A job says how far it is while it runs: on stderr (a log here, not a terminal) a line every
/// few seconds, and in its record, which Describe shows; `-q` says nothing.
#[test]
fn a_long_job_reports_progress_as_it_runs() {
    use std::os::unix::fs::PermissionsExt;
    let w = Workdir::new();
    // A fake OCR engine that takes a second a page: 8 images take several seconds.
    let fake = w.join("tesseract");
    fs::write(
        &fake,
        "#!/bin/sh\n[ \"$1\" = --list-langs ] && { echo eng; exit 0; }\nsleep 1\nprintf 'level\\tpage_num\\tblock_num\\tpar_num\\tline_num\\tword_num\\tleft\\ttop\\twidth\\theight\\tconf\\ttext\\n5\\t1\\t1\\t1\\t1\\t1\\t10\\t10\\t50\\t12\\t96\\tWINNER\\n'\n",
    )
    .unwrap();
    fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
    let png = fs::read(fixture("docs/spam.png")).unwrap();
    for i in 0..8 {
        w.write(&format!("in/{i}.png"), &png);
    }
    let m = model();
    let mut args = crate::util::classify_files(&m);
    args.extend_from_slice(&["--threads", "1", "--job-id", "5106"]);
    let child = crate::util::command(w.path(), &args)
        .env("DOCCLASS_TESSERACT", &fake)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // While it runs, the record shows its progress.
    let record = w.join(".docclass/jobs/5106.json");
    let mut seen = None;
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        if let Ok(bytes) = fs::read(&record) {
            let r: Value = serde_json::from_slice(&bytes).unwrap_or_default();
            if r["JobStatus"] == "IN_PROGRESS"
                && r["Docclass"]["Progress"]["Pages"].as_u64() > Some(0)
            {
                seen = Some(r["Docclass"]["Progress"].clone());
                break;
            }
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = seen.expect("the running job's record showed no progress");
    assert_eq!(seen["FilesTotal"], 8);
    assert!(seen["Pages"].as_u64().unwrap() < 8, "{seen}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(" of 8 files"))
        .collect();
    assert!(!lines.is_empty(), "{stderr}");
    assert!(
        lines[0].contains("pages") && lines[0].contains("docs/s"),
        "{stderr}"
    );
    let done: Value = serde_json::from_slice(&fs::read(&record).unwrap()).unwrap();
    assert_eq!(done["Docclass"]["Progress"]["Pages"], 8);
    assert_eq!(done["Docclass"]["Progress"]["FilesDone"], 8);
    // Quiet: nothing on stderr.
    let quiet = crate::util::command(w.path(), &[&args[..11], &["-q"]].concat())
        .env("DOCCLASS_TESSERACT", &fake)
        .output()
        .unwrap();
    assert!(quiet.status.success());
    assert!(
        quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
}

#[cfg(unix)]
#[test]
fn ocr_that_hangs_is_stopped_and_that_page_reported() {
    use std::os::unix::fs::PermissionsExt;
    let w = Workdir::new();
    docs(&w, &["spam.png", "two-pages.pdf"]);
    let fake = w.join("tesseract");
    fs::write(
        &fake,
        "#!/bin/sh\n[ \"$1\" = --list-langs ] && { echo eng; exit 0; }\ncat > /dev/null\nexec sleep 30\n",
    )
    .unwrap();
    fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
    let tesseract = fake.display().to_string();
    let (code, lines) = job(
        &w,
        &["--ocr-timeout", "1"],
        &[("DOCCLASS_TESSERACT", &tesseract)],
    );
    assert_eq!(code, 3);
    let png = of(&lines, "spam.png");
    assert!(png[0]["Errors"][0]["ErrorMessage"]
        .as_str()
        .unwrap()
        .contains("did not finish within 1 s"));
    assert_eq!(
        of(&lines, "two-pages.pdf").len(),
        2,
        "the other document is read"
    );
}

#[test]
fn reader_settings_are_checked_as_the_api_does() {
    let w = Workdir::new();
    w.write("in/a.txt", "x");
    let m = model();
    let base = [
        "classify", "--input", "in/", "--model", &m, "--output", "out/",
    ];
    let with = |extra: &[&str]| {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        w.fails(2, &a)
    };
    let e = with(&[
        "--input-format",
        "ONE_DOC_PER_FILE",
        "--document-read-action",
        "TEXTRACT_ANALYZE_DOCUMENT",
    ]);
    assert!(e.contains("--feature-types") && e.contains("TABLES"), "{e}");
    let e = with(&["--document-read-action", "TEXTRACT_DETECT_DOCUMENT_TEXT"]);
    assert!(e.contains("ONE_DOC_PER_FILE"), "{e}");
    let e = with(&[
        "--input-format",
        "ONE_DOC_PER_FILE",
        "--feature-types",
        "TABLES",
    ]);
    assert!(e.contains("--document-read-action"), "{e}");
    let e = with(&[
        "--input-format",
        "ONE_DOC_PER_FILE",
        "--document-read-action",
        "TEXTRACT_DETECT_DOCUMENT_TEXT",
        "--feature-types",
        "FORMS",
    ]);
    assert!(e.contains("--feature-types"), "{e}");
}

#[test]
fn document_output_is_the_same_for_any_threads_and_shards() {
    let w = Workdir::new();
    docs(
        &w,
        &[
            "two-pages.pdf",
            "letter.docx",
            "encrypted.pdf",
            "textract-detect.json",
        ],
    );
    w.write(
        "in/long.pdf",
        pdf_with_pages(40, |p| format!("page {p} win a prize call now")),
    );
    w.write("in/note.txt", "see you at lunch");
    let run = |dir: &str, extra: &[&str]| {
        let m = model();
        let mut args = vec![
            "classify",
            "--input",
            "in/",
            "--input-format",
            "ONE_DOC_PER_FILE",
            "--model",
            &m,
            "--output",
            dir,
            "--job-id",
            "d0c",
            "--job-store",
            dir,
            "-q",
        ];
        args.extend_from_slice(extra);
        let out = crate::util::command(w.path(), &args)
            .env("SOURCE_DATE_EPOCH", "1")
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 3)),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run("one/", &["--threads", "1"]);
    run("two/", &["--threads", "2"]);
    let archive = |dir: &str| {
        fs::read(w.join(&format!("{dir}000000000000-CLN-d0c/output/output.tar.gz"))).unwrap()
    };
    assert_eq!(archive("one/"), archive("two/"));
    for i in 0..3 {
        run(
            "sharded/",
            &[
                "--shard-index",
                &i.to_string(),
                "--shard-count",
                "3",
                "--unit-bytes",
                "100",
            ],
        );
    }
    let out = crate::util::command(
        w.path(),
        &[
            "merge",
            "--output",
            "sharded/",
            "--job-id",
            "d0c",
            "--job-store",
            "sharded/",
        ],
    )
    .env("SOURCE_DATE_EPOCH", "1")
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let whole = {
        run("units/", &["--unit-bytes", "100"]);
        archive("units/")
    };
    assert_eq!(archive("sharded/"), whole);
    let lines = prediction_values(&w.join("one/000000000000-CLN-d0c/output/output.tar.gz"));
    assert_eq!(of(&lines, "long.pdf").len(), 40);
}

#[test]
fn a_model_trains_on_folders_of_documents() {
    let w = Workdir::new();
    let csv = fs::read_to_string(fixture("sms_small.csv")).unwrap();
    for (i, row) in csv.lines().enumerate() {
        let (label, text) = row.split_once(',').unwrap();
        let text = text.trim_matches('"').to_string();
        // Every other document a PDF, the rest Word documents.
        if i % 2 == 0 {
            w.write(
                &format!("train/{label}/{i}.pdf"),
                pdf_with_pages(1, |_| text.clone()),
            );
        } else {
            w.write(&format!("train/{label}/{i}.docx"), docx(&[&text]));
        }
    }
    w.ok(&[
        "train",
        "--name",
        "docs",
        "--train",
        "train/",
        "--format",
        "LABEL_FOLDERS",
        "--n-features-log2",
        "14",
        "-q",
    ]);
    let meta: Value =
        serde_json::from_slice(&fs::read(w.join("models/docs/model.json")).unwrap()).unwrap();
    assert_eq!(meta["training_data"]["documents"], 24);
    docs(&w, &["two-pages.pdf"]);
    let m = w.join("models/docs").display().to_string();
    let mut args = crate::util::classify_files(&m);
    args.push("-q");
    let job = w.ok(&args);
    let lines = prediction_values(&w.archive(&job));
    assert_eq!([top(&lines[0]), top(&lines[1])], ["spam", "ham"]);
}
