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

/// Whether a `tesseract` command ran, remembered per command.
type Checked = (PathBuf, Result<(), OcrError>);

impl Ocr {
    /// Whether the engine runs at all (checked once per process and command).
    pub fn check(&self) -> Result<(), OcrError> {
        static CHECKED: OnceLock<std::sync::Mutex<Vec<Checked>>> = OnceLock::new();
        let mut done = CHECKED
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some((_, r)) = done.iter().find(|(c, _)| *c == self.command) {
            return r.clone();
        }
        let r = match Command::new(&self.command)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
        {
            Ok(s) if s.success() => Ok(()),
            Ok(s) => Err(OcrError::Unavailable(format!(
                "'{} --version' exited with {s}",
                self.command.display()
            ))),
            Err(e) => Err(OcrError::Unavailable(format!(
                "cannot run '{}': {e}",
                self.command.display()
            ))),
        };
        done.push((self.command.clone(), r.clone()));
        r
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
