//! Semi-structured documents: any bytes, recognised by content as PDF, Word, PNG, JPEG, TIFF or
//! Textract JSON, must open and give every page or a clear error, never a panic or a hang.
//! OCR is pointed at a command that does not exist, so images and scans give page errors.
#![no_main]

use std::sync::Arc;

use docclass::input::document::{Limits, Ocr, Opened, Reader};
use docclass::input::FileBytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // docclass catches a parser's panic per page (an error record, the job goes on); the
    // fuzzer's own hook would abort on it first. Panics that escape still end the run.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let reader = Reader {
        config: Default::default(),
        limits: Limits {
            max_pages: 20,
            max_docx_xml_bytes: 1 << 20,
            ..Limits::default()
        },
        ocr: Ocr {
            command: "/nonexistent/tesseract".into(),
            ..Ocr::default()
        },
    };
    match reader.open(Arc::new(FileBytes::Owned(data.to_vec())), "fuzz.bin") {
        Opened::Text => {}
        Opened::Refused(f) => assert!(!f.code.is_empty() && !f.message.is_empty()),
        Opened::Document(doc) => {
            let pages = doc.page_count();
            assert!((1..=20).contains(&pages));
            for n in 1..=pages {
                let page = doc.page(n, &reader);
                assert_eq!(page.number, n);
                if let Err(f) = &page.text {
                    assert!(!f.code.is_empty() && !f.message.is_empty());
                }
            }
        }
    }
});
