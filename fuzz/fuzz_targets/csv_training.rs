//! Training data in COMPREHEND_CSV: the CSV reader and the label/text checks behind it. Any bytes
//! must give records or a clear error, never a panic.
#![no_main]

use docclass::input::csv::CsvReader;
use docclass::input::labeled::{self, DataFormat, LabelShape, ReadOptions};
use docclass::input::Utf8Policy;
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

fn scratch() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the mode and the UTF-8 policy; the rest is the file.
    let Some((&knobs, body)) = data.split_first() else {
        return;
    };
    let mut last_line = 0;
    for rec in CsvReader::new(body) {
        let line = match rec {
            Ok(r) => {
                assert!(r.offset as usize <= body.len());
                assert!(r.fields.iter().map(|f| f.len()).sum::<usize>() <= body.len());
                r.line
            }
            Err(e) => {
                assert!(!e.message.is_empty());
                e.line
            }
        };
        assert!(line >= last_line, "records come in file order");
        last_line = line;
    }
    let path = scratch().join("train.csv");
    std::fs::write(&path, body).unwrap();
    let opts = ReadOptions {
        format: DataFormat::ComprehendCsv,
        labels: if knobs & 1 == 0 {
            LabelShape::One
        } else {
            LabelShape::Many { delimiter: '|' }
        },
        utf8: [Utf8Policy::SkipRest, Utf8Policy::SkipDocument, Utf8Policy::Lossy]
            [(knobs >> 1) as usize % 3],
        documents: docclass::input::document::Reader::new(Default::default(), Default::default()),
    };
    match labeled::read(path.to_str().unwrap(), &opts, &mut Sha256::new()) {
        Ok(set) => assert!(set.bytes as usize == body.len()),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
