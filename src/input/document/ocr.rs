//! OCR with Tesseract, run as the `tesseract` command (Debian: `tesseract-ocr`,
//! `tesseract-ocr-eng`): no library to link, so building docclass needs no C toolchain for it,
//! and a page that hangs the engine can be killed. One process a page, single-threaded
//! (`OMP_THREAD_LIMIT=1`), so pages run in parallel on the job's threads. The image goes in on
//! stdin (PNG/JPEG bytes as they are, rendered pages as PGM); the TSV comes back on stdout: one
//! row per word with its block, paragraph and line and its box, in Tesseract's reading order.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// An image for the engine.
pub enum OcrImage<'a> {
    /// An encoded image Tesseract reads itself (PNG, JPEG, TIFF, PNM).
    Encoded(&'a [u8]),
    /// 8-bit grey pixels, row by row.
    Gray {
        width: u32,
        height: u32,
        pixels: &'a [u8],
    },
}

/// One recognised word and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub block: u32,
    pub par: u32,
    pub line: u32,
    pub left: i32,
    pub top: i32,
    pub width: i32,
    pub height: i32,
    pub text: String,
}

/// Why a page could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OcrError {
    /// No `tesseract` to run.
    Unavailable(String),
    /// Tesseract runs, but without the language pack the job needs.
    Missing(String),
    /// The engine ran longer than the limit and was stopped.
    TimedOut(Duration),
    /// The engine failed on the image.
    Failed(String),
}

impl std::fmt::Display for OcrError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OcrError::Unavailable(why) => write!(
                f,
                "OCR is not available ({why}); install Tesseract (apt-get install tesseract-ocr tesseract-ocr-eng) to read images and scans"
            ),
            OcrError::Missing(why) => write!(f, "OCR cannot read this language: {why}"),
            OcrError::TimedOut(d) => {
                write!(f, "OCR did not finish within {} s and was stopped", d.as_secs())
            }
            OcrError::Failed(why) => write!(f, "OCR could not read the page: {why}"),
        }
    }
}

/// The OCR engine's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ocr {
    /// The `tesseract` command (`DOCCLASS_TESSERACT` or `tesseract` on PATH).
    pub command: PathBuf,
    /// Tesseract's language(s), `eng` by default.
    pub language: String,
    /// Longest a page may take.
    pub timeout: Duration,
}

impl Default for Ocr {
    fn default() -> Self {
        Ocr {
            command: std::env::var_os("DOCCLASS_TESSERACT")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("tesseract")),
            language: "eng".into(),
            timeout: Duration::from_secs(60),
        }
    }
}

/// Longest `tesseract --list-langs` may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Tesseract's language pack for each of Comprehend's language codes.
const LANGUAGE_PACKS: &[(&str, &str, &str)] = &[
    ("en", "eng", "English"),
    ("es", "spa", "Spanish"),
    ("fr", "fra", "French"),
    ("de", "deu", "German"),
    ("it", "ita", "Italian"),
    ("pt", "por", "Portuguese"),
    ("ar", "ara", "Arabic"),
    ("hi", "hin", "Hindi"),
    ("ja", "jpn", "Japanese"),
    ("ko", "kor", "Korean"),
    ("zh", "chi_sim", "Chinese (simplified)"),
    ("zh-TW", "chi_tra", "Chinese (traditional)"),
];

/// Whether a `tesseract` command (and language pack) ran, remembered per command and language.
type Checked = ((PathBuf, String), Result<(), OcrError>);

impl Ocr {
    /// The same engine reading `language_code` (Comprehend's: `en`, `de`, ...) with Tesseract's
    /// pack for it (`eng`, `deu`, ...); an unknown code keeps the current language.
    pub fn for_language(mut self, language_code: &str) -> Self {
        if let Some((_, pack, _)) = LANGUAGE_PACKS.iter().find(|(c, _, _)| *c == language_code) {
            self.language = (*pack).to_string();
        }
        self
    }

    /// Whether the engine runs at all, with its language pack installed (checked once per
    /// process, command and language).
    pub fn check(&self) -> Result<(), OcrError> {
        static CHECKED: OnceLock<std::sync::Mutex<Vec<Checked>>> = OnceLock::new();
        let mut done = CHECKED
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let key = (self.command.clone(), self.language.clone());
        if let Some((_, r)) = done.iter().find(|(k, _)| *k == key) {
            return r.clone();
        }
        let r = self.probe();
        done.push((key, r.clone()));
        r
    }

    /// Runs `tesseract --list-langs` (for at most `PROBE_TIMEOUT`): the engine is there, and
    /// knows this job's language.
    fn probe(&self) -> Result<(), OcrError> {
        let cannot = |e: std::io::Error| {
            OcrError::Unavailable(format!("cannot run '{}': {e}", self.command.display()))
        };
        let mut child = Command::new(&self.command)
            .arg("--list-langs")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(cannot)?;
        let started = Instant::now();
        while child.try_wait().map_err(cannot)?.is_none() {
            if started.elapsed() > PROBE_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                return Err(OcrError::Unavailable(format!(
                    "'{} --list-langs' did not answer within {} s",
                    self.command.display(),
                    PROBE_TIMEOUT.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let out = child.wait_with_output().map_err(cannot)?;
        if !out.status.success() {
            return Err(OcrError::Unavailable(format!(
                "'{} --list-langs' exited with {}",
                self.command.display(),
                out.status
            )));
        }
        // Tesseract lists its languages one a line, after a heading line (on stdout, or on
        // stderr in older versions).
        let listed = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
        if listed.lines().any(|l| l.trim() == self.language) {
            return Ok(());
        }
        let (name, package) = LANGUAGE_PACKS
            .iter()
            .find(|(_, pack, _)| *pack == self.language)
            .map(|(_, pack, name)| (*name, format!("tesseract-ocr-{}", pack.replace('_', "-"))))
            .unwrap_or(("this", format!("tesseract-ocr-{}", self.language)));
        Err(OcrError::Missing(format!(
            "Tesseract has no language pack for {name} text ('{}'); install it (apt-get install {package})",
            self.language
        )))
    }

    /// The words of an image, in reading order. `dpi` is the image's resolution when known;
    /// `page` picks one page (0-based) of a multi-page TIFF.
    pub fn words(
        &self,
        image: OcrImage,
        dpi: Option<u32>,
        page: Option<u32>,
    ) -> Result<Vec<Word>, OcrError> {
        self.check()?;
        let mut pgm;
        let bytes = match image {
            OcrImage::Encoded(b) => b,
            OcrImage::Gray {
                width,
                height,
                pixels,
            } => {
                pgm = format!("P5\n{width} {height}\n255\n").into_bytes();
                pgm.extend_from_slice(pixels);
                &pgm[..]
            }
        };
        let tsv = self.run(bytes, dpi, page)?;
        Ok(parse_tsv(&tsv))
    }

    fn run(&self, image: &[u8], dpi: Option<u32>, page: Option<u32>) -> Result<String, OcrError> {
        let mut cmd = Command::new(&self.command);
        cmd.args(["stdin", "stdout", "-l", &self.language, "--psm", "3"]);
        if let Some(d) = dpi {
            cmd.args(["--dpi", &d.to_string()]);
        }
        if let Some(p) = page {
            cmd.args(["-c", &format!("tessedit_page_number={p}")]);
        }
        cmd.arg("tsv")
            .env("OMP_THREAD_LIMIT", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| OcrError::Unavailable(format!("cannot run tesseract: {e}")))?;
        let mut stdin = child.stdin.take().expect("piped stdin");
        let mut stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        // Feed and drain on their own threads, so a full pipe never stalls the wait below.
        let (out, err) = std::thread::scope(|s| {
            let feed = s.spawn(move || {
                let _ = stdin.write_all(image);
            });
            let out = s.spawn(move || {
                let mut v = String::new();
                let _ = stdout.read_to_string(&mut v);
                v
            });
            let err = s.spawn(move || {
                let mut v = String::new();
                let _ = stderr.read_to_string(&mut v);
                v
            });
            let started = Instant::now();
            let status = loop {
                match child.try_wait() {
                    Ok(Some(status)) => break Ok(status),
                    Ok(None) if started.elapsed() > self.timeout => {
                        let _ = child.kill();
                        let _ = child.wait();
                        break Err(OcrError::TimedOut(self.timeout));
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                    Err(e) => break Err(OcrError::Failed(e.to_string())),
                }
            };
            let _ = feed.join();
            let out = out.join().unwrap_or_default();
            let err = err.join().unwrap_or_default();
            (status.map(|s| (s, out)), err)
        });
        let (status, out) = out?;
        if !status.success() {
            let why = err
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no message");
            return Err(OcrError::Failed(format!(
                "tesseract exited with {status}: {why}"
            )));
        }
        Ok(out)
    }
}

/// Words of Tesseract's TSV (level 5 rows with text), in the order Tesseract wrote them.
pub fn parse_tsv(tsv: &str) -> Vec<Word> {
    tsv.lines()
        .skip(1)
        .filter_map(|row| {
            let f: Vec<&str> = row.splitn(12, '\t').collect();
            if f.len() < 12 || f[0] != "5" {
                return None;
            }
            let n = |i: usize| f[i].trim().parse::<i64>().ok();
            let text = f[11].trim();
            if text.is_empty() {
                return None;
            }
            Some(Word {
                block: n(2)? as u32,
                par: n(3)? as u32,
                line: n(4)? as u32,
                left: n(6)? as i32,
                top: n(7)? as i32,
                width: n(8)? as i32,
                height: n(9)? as i32,
                text: text.to_string(),
            })
        })
        .collect()
}

/// The words as lines, as Tesseract grouped them (block, paragraph, line), one per output line,
/// with a blank line between paragraphs.
pub fn lines_of(words: &[Word]) -> String {
    let mut out = String::new();
    let mut last: Option<(u32, u32, u32)> = None;
    for w in words {
        let key = (w.block, w.par, w.line);
        match last {
            Some(k) if k == key => out.push(' '),
            Some(k) if (k.0, k.1) != (key.0, key.1) => out.push_str("\n\n"),
            Some(_) => out.push('\n'),
            None => {}
        }
        out.push_str(&w.text);
        last = Some(key);
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TSV: &str = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
1\t1\t0\t0\t0\t0\t0\t0\t800\t600\t-1\t\n\
5\t1\t1\t1\t1\t1\t10\t10\t50\t12\t96.1\tDear\n\
5\t1\t1\t1\t1\t2\t70\t10\t40\t12\t95.0\tmum,\n\
5\t1\t1\t1\t2\t1\t10\t30\t40\t12\t91.0\thome\n\
5\t1\t2\t1\t1\t1\t10\t80\t40\t12\t90.0\tLove\n\
5\t1\t2\t1\t1\t2\t60\t80\t40\t12\t-1\t \n";

    #[test]
    fn tsv_rows_become_words_and_lines() {
        let words = parse_tsv(TSV);
        assert_eq!(words.len(), 4);
        assert_eq!(words[1].text, "mum,");
        assert_eq!((words[3].block, words[3].left, words[3].top), (2, 10, 80));
        assert_eq!(lines_of(&words), "Dear mum,\nhome\n\nLove\n");
    }

    #[test]
    fn a_missing_language_pack_is_named_with_its_package() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("tesseract");
        std::fs::write(
            &fake,
            "#!/bin/sh\necho 'List of available languages in \"/usr/share\" (2):'\necho eng\necho osd\n",
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let ocr = Ocr {
            command: fake,
            ..Ocr::default()
        };
        assert_eq!(ocr.clone().for_language("en").check(), Ok(()));
        let german = ocr.for_language("de");
        assert_eq!(german.language, "deu");
        let e = german.check().unwrap_err();
        assert!(matches!(e, OcrError::Missing(_)), "{e}");
        assert!(
            e.to_string().contains("German")
                && e.to_string().contains("apt-get install tesseract-ocr-deu"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_engine_is_named() {
        let ocr = Ocr {
            command: PathBuf::from("/nonexistent/tesseract"),
            ..Ocr::default()
        };
        let e = ocr.words(OcrImage::Encoded(b"x"), None, None).unwrap_err();
        assert!(matches!(e, OcrError::Unavailable(_)));
        assert!(
            e.to_string().contains("apt-get install tesseract-ocr"),
            "{e}"
        );
    }
}
