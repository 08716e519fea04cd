//! Semi-structured documents: PDF, Word (DOCX), images (PNG, JPEG, TIFF) and Textract JSON,
//! read into pages of text the way Comprehend's `DocumentReaderConfig` says. A file is
//! recognised by its first bytes (the name's extension only breaks ties); plain text is left to
//! the caller as before. Each format is a room: `pdf` (text layer and rendering, through hayro),
//! `docx` (zip + XML), `image`, `textract`, with `ocr` (the `tesseract` command) for images and
//! pages without text, and `layout` for reading order.
//!
//! A document opens cheaply (its pages are counted, limits checked) and hands out its pages one
//! at a time, so a caller can extract a few pages in parallel, use their text and drop it: a
//! document of thousands of pages never sits whole in memory as text or images.

mod docx;
mod image;
pub mod layout;
pub mod ocr;
mod pdf;
mod textract;

use std::ops::RangeInclusive;
use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Param, Result};
use crate::input::FileBytes;
pub use ocr::Ocr;

/// Comprehend's `DocumentReadAction`: which Textract operation reads images and scans. Here both
/// are Tesseract; ANALYZE also lays out tables and forms (see `FeatureTypes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReadAction {
    TextractDetectDocumentText,
    TextractAnalyzeDocument,
}

/// Comprehend's `DocumentReadMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReadMode {
    /// Text layers where pages have them, OCR where they do not.
    #[default]
    ServiceDefault,
    /// OCR for every PDF page, text layer or not.
    ForceDocumentReadAction,
}

/// Comprehend's `FeatureTypes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FeatureType {
    Tables,
    Forms,
}

/// Comprehend's `DocumentReaderConfig`, as clients send it and records keep it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReaderConfig {
    pub document_read_action: ReadAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_read_mode: Option<ReadMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_types: Option<Vec<FeatureType>>,
}

impl Default for ReaderConfig {
    /// What Comprehend does without a `DocumentReaderConfig`.
    fn default() -> Self {
        ReaderConfig {
            document_read_action: ReadAction::TextractDetectDocumentText,
            document_read_mode: None,
            feature_types: None,
        }
    }
}

impl ReaderConfig {
    /// The API model's rules beyond single members: ANALYZE needs one or both feature types,
    /// DETECT takes none, and none twice.
    pub fn validate(&self) -> Result<()> {
        let features = self.feature_types.as_deref().unwrap_or_default();
        match self.document_read_action {
            ReadAction::TextractAnalyzeDocument if features.is_empty() => Err(Error::missing(
                Param::FeatureTypes,
                "TABLES, FORMS or both with TEXTRACT_ANALYZE_DOCUMENT",
            )),
            ReadAction::TextractDetectDocumentText if !features.is_empty() => Err(Error::param(
                Param::FeatureTypes,
                format!("{features:?}"),
                "no feature types with TEXTRACT_DETECT_DOCUMENT_TEXT (they apply to TEXTRACT_ANALYZE_DOCUMENT)",
            )),
            _ if features.len() == 2 && features[0] == features[1] => Err(Error::param(
                Param::FeatureTypes,
                format!("{features:?}"),
                "each feature type at most once",
            )),
            _ => Ok(()),
        }
    }

    pub fn mode(&self) -> ReadMode {
        self.document_read_mode.unwrap_or_default()
    }

    fn has(&self, f: FeatureType) -> bool {
        self.document_read_action == ReadAction::TextractAnalyzeDocument
            && self
                .feature_types
                .as_deref()
                .unwrap_or_default()
                .contains(&f)
    }
}

/// What a page is, as Comprehend reports it (`DocumentType` of `ClassifyDocument`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentType {
    NativePdf,
    ScannedPdf,
    MsWord,
    Image,
    PlainText,
    TextractDetectDocumentTextJson,
    TextractAnalyzeDocumentJson,
}

impl DocumentType {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentType::NativePdf => "NATIVE_PDF",
            DocumentType::ScannedPdf => "SCANNED_PDF",
            DocumentType::MsWord => "MS_WORD",
            DocumentType::Image => "IMAGE",
            DocumentType::PlainText => "PLAIN_TEXT",
            DocumentType::TextractDetectDocumentTextJson => "TEXTRACT_DETECT_DOCUMENT_TEXT_JSON",
            DocumentType::TextractAnalyzeDocumentJson => "TEXTRACT_ANALYZE_DOCUMENT_JSON",
        }
    }
}

/// Comprehend's page-level error codes (`PageBasedErrorCode`).
pub const TEXTRACT_BAD_PAGE: &str = "TEXTRACT_BAD_PAGE";
pub const PAGE_CHARACTERS_EXCEEDED: &str = "PAGE_CHARACTERS_EXCEEDED";
pub const PAGE_SIZE_EXCEEDED: &str = "PAGE_SIZE_EXCEEDED";
pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";

/// Comprehend's document-level error reasons (`InvalidRequestDetail.Reason`).
pub const DOCUMENT_SIZE_EXCEEDED: &str = "DOCUMENT_SIZE_EXCEEDED";
pub const UNSUPPORTED_DOC_TYPE: &str = "UNSUPPORTED_DOC_TYPE";
pub const PAGE_LIMIT_EXCEEDED: &str = "PAGE_LIMIT_EXCEEDED";
pub const INVALID_DOCUMENT: &str = "INVALID_DOCUMENT";

/// A failure with Comprehend's code and a message saying what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: &'static str,
    pub message: String,
}

impl Failure {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }
}

/// One page's outcome: its text, or why it has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// 1-based.
    pub number: u32,
    pub kind: DocumentType,
    pub text: std::result::Result<String, Failure>,
}

impl Page {
    /// Characters extracted from the page (`ExtractedCharacters.Count`).
    pub fn characters(&self) -> usize {
        self.text.as_ref().map_or(0, |t| t.chars().count())
    }
}

/// Limits on what is read, Comprehend's by default (asynchronous jobs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    pub pdf_bytes: u64,
    pub docx_bytes: u64,
    pub image_bytes: u64,
    pub textract_bytes: u64,
    pub max_pages: u32,
    pub max_page_characters: usize,
    /// Largest image side in pixels (Textract reads up to 10,000).
    pub max_image_side: u32,
    /// Largest uncompressed XML part of a DOCX (a zip bomb stops here).
    pub max_docx_xml_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            pdf_bytes: 50 << 20,
            docx_bytes: 5 << 20,
            image_bytes: 10 << 20,
            textract_bytes: 10 << 20,
            max_pages: 100,
            max_page_characters: 10_000,
            max_image_side: 10_000,
            max_docx_xml_bytes: 100 << 20,
        }
    }
}

impl Limits {
    /// The limits of real-time `ClassifyDocument`: one page, 10 MB (Textract JSON 1 MB).
    pub fn real_time() -> Self {
        Limits {
            pdf_bytes: 10 << 20,
            docx_bytes: 10 << 20,
            image_bytes: 10 << 20,
            textract_bytes: 1 << 20,
            max_pages: 1,
            ..Limits::default()
        }
    }
}

/// Formats recognised by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Docx,
    Png,
    Jpeg,
    Tiff,
    TextractJson,
    /// Anything else: text, read as before.
    Text,
    /// A zip that is not a Word document, or another binary format docclass does not read.
    Unsupported(&'static str),
}

/// Recognises a document by its content; `name` only settles what content cannot (a zip).
pub fn sniff(bytes: &[u8], name: &str) -> Format {
    let head = &bytes[..bytes.len().min(1024)];
    // A PDF may start with a byte-order mark or blank lines before its header, nothing else.
    let start = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = &start[start.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
    if start.starts_with(b"%PDF-") {
        return Format::Pdf;
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Format::Png;
    }
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        return Format::Jpeg;
    }
    if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        return Format::Tiff;
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return if docx::is_word(bytes) || name.to_ascii_lowercase().ends_with(".docx") {
            Format::Docx
        } else {
            Format::Unsupported("a zip archive that is not a Word (DOCX) document")
        };
    }
    if bytes.starts_with(b"GIF8") {
        return Format::Unsupported("GIF (send PNG, JPEG or TIFF)");
    }
    if bytes.starts_with(&[0xd0, 0xcf, 0x11, 0xe0]) {
        return Format::Unsupported("a legacy Office (.doc) file (save it as DOCX)");
    }
    if textract::looks_like(head) {
        return Format::TextractJson;
    }
    Format::Text
}

/// A document opened for reading, page by page.
pub trait Paged: Send + Sync {
    fn page_count(&self) -> u32;
    /// Reads page `number` (1-based) with the reader's settings.
    fn page(&self, number: u32, reader: &Reader) -> Page;
    /// Reads the pages `numbers`, in parallel, in order. What a format keeps while reading
    /// (parsed objects, fonts) lives only as long as the call, so reading a long document a
    /// range at a time holds one range's worth.
    fn pages(&self, numbers: RangeInclusive<u32>, reader: &Reader) -> Vec<Page> {
        numbers
            .into_par_iter()
            .map(|n| self.page(n, reader))
            .collect()
    }
}

/// What `Reader::open` found.
pub enum Opened {
    /// Plain text: the caller reads it as before.
    Text,
    Document(Box<dyn Paged>),
    /// The whole document is refused (size, type, pages, damage): one error record.
    Refused(Failure),
}

/// Reads semi-structured documents with one configuration and set of limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub config: ReaderConfig,
    pub limits: Limits,
    pub ocr: Ocr,
}

impl Reader {
    pub fn new(config: ReaderConfig, limits: Limits) -> Self {
        Reader {
            config,
            limits,
            ocr: Ocr::default(),
        }
    }

    /// Opens a document: recognises its format, checks size and page limits.
    pub fn open(&self, bytes: Arc<FileBytes>, name: &str) -> Opened {
        let format = sniff(&bytes, name);
        let too_big = |limit: u64, what: &str| {
            Opened::Refused(Failure::new(
                DOCUMENT_SIZE_EXCEEDED,
                format!(
                    "Document size {} bytes exceeds the {what} limit of {limit} bytes.",
                    bytes.len()
                ),
            ))
        };
        let len = bytes.len() as u64;
        let opened = match format {
            Format::Text => return Opened::Text,
            Format::Unsupported(what) => {
                return Opened::Refused(Failure::new(
                    UNSUPPORTED_DOC_TYPE,
                    format!("Document type is not supported: {what}."),
                ))
            }
            Format::Pdf if len > self.limits.pdf_bytes => {
                return too_big(self.limits.pdf_bytes, "PDF")
            }
            Format::Docx if len > self.limits.docx_bytes => {
                return too_big(self.limits.docx_bytes, "Word")
            }
            Format::Png | Format::Jpeg | Format::Tiff if len > self.limits.image_bytes => {
                return too_big(self.limits.image_bytes, "image")
            }
            Format::TextractJson if len > self.limits.textract_bytes => {
                return too_big(self.limits.textract_bytes, "Textract JSON")
            }
            Format::Pdf => pdf::open(bytes),
            Format::Docx => docx::open(&bytes, &self.limits),
            Format::Png | Format::Jpeg | Format::Tiff => image::open(bytes, format, &self.limits),
            Format::TextractJson => textract::open(&bytes),
        };
        match opened {
            Ok(doc) if doc.page_count() > self.limits.max_pages => Opened::Refused(Failure::new(
                PAGE_LIMIT_EXCEEDED,
                format!(
                    "The document has {} pages; at most {} are read.",
                    doc.page_count(),
                    self.limits.max_pages
                ),
            )),
            Ok(doc) if doc.page_count() == 0 => {
                Opened::Refused(Failure::new(INVALID_DOCUMENT, "The document has no pages."))
            }
            Ok(doc) => Opened::Document(doc),
            Err(f) => Opened::Refused(f),
        }
    }

    /// A page's text checked against the per-page character limit.
    fn finish(&self, number: u32, kind: DocumentType, text: String) -> Page {
        let count = text.chars().count();
        let text = if count > self.limits.max_page_characters {
            Err(Failure::new(
                PAGE_CHARACTERS_EXCEEDED,
                format!(
                    "The page has {count} characters; at most {} are read.",
                    self.limits.max_page_characters
                ),
            ))
        } else {
            Ok(text)
        };
        Page { number, kind, text }
    }

    /// Text of an OCR'd image as the read action lays it out.
    fn ocr_text(&self, words: &[ocr::Word]) -> String {
        let tables = self.config.has(FeatureType::Tables);
        let forms = self.config.has(FeatureType::Forms);
        if tables || forms {
            layout::analyzed(words, tables, forms)
        } else {
            ocr::lines_of(words)
        }
    }
}

/// Every page's text of a document joined (for training on documents): pages that could not be
/// read are left out; `None` when the file is plain text.
pub fn full_text(reader: &Reader, bytes: Arc<FileBytes>, name: &str) -> Option<Result<String>> {
    match reader.open(bytes, name) {
        Opened::Text => None,
        Opened::Refused(f) => Some(Err(Error::data(name, format!("{}: {}", f.code, f.message)))),
        Opened::Document(doc) => {
            let mut text = String::new();
            for page in doc.pages(1..=doc.page_count(), reader) {
                if let Ok(t) = page.text {
                    text.push_str(&t);
                    text.push('\n');
                }
            }
            Some(Ok(text))
        }
    }
}

/// Runs `f`, turning a panic inside a parser into a page failure: one damaged page must not take
/// the job down.
fn guarded<T>(
    what: &str,
    f: impl FnOnce() -> std::result::Result<T, Failure>,
) -> std::result::Result<T, Failure> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(Failure::new(
            TEXTRACT_BAD_PAGE,
            format!("The {what} could not be read: it is damaged or uses features docclass does not read."),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised_by_content() {
        assert_eq!(sniff(b"%PDF-1.7\n...", "x.txt"), Format::Pdf);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest", "a.pdf"), Format::Png);
        assert_eq!(sniff(&[0xff, 0xd8, 0xff, 0xe0], "a"), Format::Jpeg);
        assert_eq!(sniff(b"II*\0rest", "a"), Format::Tiff);
        assert_eq!(sniff(b"MM\0*rest", "a"), Format::Tiff);
        assert_eq!(sniff(b"\n  %PDF-1.4 after blank lines", "a"), Format::Pdf);
        assert_eq!(sniff(b"a post about %PDF- headers", "a.pdf"), Format::Text);
        assert_eq!(sniff(b"just some words", "a.pdf"), Format::Text);
        assert_eq!(
            sniff(br#"{"DocumentMetadata": {"Pages": 1}, "Blocks": []}"#, "a"),
            Format::TextractJson
        );
        assert!(matches!(sniff(b"GIF89a", "a"), Format::Unsupported(_)));
        assert!(matches!(
            sniff(b"PK\x03\x04junk", "a.zip"),
            Format::Unsupported(_)
        ));
    }

    #[test]
    fn reader_config_rules() {
        let analyze = |f: Option<Vec<FeatureType>>| ReaderConfig {
            document_read_action: ReadAction::TextractAnalyzeDocument,
            document_read_mode: None,
            feature_types: f,
        };
        assert!(analyze(None).validate().is_err());
        assert!(analyze(Some(vec![])).validate().is_err());
        assert!(analyze(Some(vec![FeatureType::Tables])).validate().is_ok());
        assert!(analyze(Some(vec![FeatureType::Forms, FeatureType::Forms]))
            .validate()
            .is_err());
        let mut detect = ReaderConfig::default();
        assert!(detect.validate().is_ok());
        detect.feature_types = Some(vec![FeatureType::Tables]);
        assert!(detect.validate().is_err());
        let json = serde_json::to_value(analyze(Some(vec![FeatureType::Tables]))).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"DocumentReadAction": "TEXTRACT_ANALYZE_DOCUMENT", "FeatureTypes": ["TABLES"]})
        );
    }
}
