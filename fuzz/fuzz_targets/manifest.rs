//! AUGMENTED_MANIFEST training data: JSON lines with a source text and label attributes. Any bytes
//! must give documents or a clear error, never a panic.
#![no_main]

use docclass::input::labeled::{self, DataFormat, LabelShape, ManifestSpec, ReadOptions};
use docclass::input::Utf8Policy;
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

fn scratch() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, body)) = data.split_first() else {
        return;
    };
    let path = scratch().join("train.manifest");
    std::fs::write(&path, body).unwrap();
    let specs = [ManifestSpec {
        s3_uri: path.display().to_string(),
        split: None,
        attribute_names: vec!["class".into(), "job".into()],
    }];
    let opts = ReadOptions {
        format: DataFormat::AugmentedManifest,
        labels: if knobs & 1 == 0 {
            LabelShape::One
        } else {
            LabelShape::Many { delimiter: '|' }
        },
        utf8: [Utf8Policy::SkipRest, Utf8Policy::SkipDocument, Utf8Policy::Lossy]
            [(knobs >> 1) as usize % 3],
        documents: docclass::input::document::Reader::new(Default::default(), Default::default()),
    };
    if let Err(e) = labeled::read_manifests(&specs, "TRAIN", &opts, &mut Sha256::new()) {
        assert!(!e.to_string().is_empty());
    }
});
