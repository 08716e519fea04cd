//! The model loader on damaged model folders: the input is a list of edits (set, truncate, insert,
//! remove a byte) applied to a small valid model's model.json and weights.bin. Loading must refuse
//! with a message or give a model whose scores are probabilities, never panic.
#![no_main]

use docclass::model::{Classifier, ScoreScratch};
use libfuzzer_sys::fuzz_target;

const META: &[u8] = include_bytes!("../seeds/model/model.json");
const WEIGHTS: &[u8] = include_bytes!("../seeds/model/weights.bin");

fn scratch() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

fuzz_target!(|data: &[u8]| {
    let mut files = [META.to_vec(), WEIGHTS.to_vec()];
    for edit in data.chunks_exact(4) {
        let file = &mut files[(edit[0] & 1) as usize];
        let at = u16::from_le_bytes([edit[1], edit[2]]) as usize % (file.len() + 1);
        match (edit[0] >> 1) & 3 {
            0 if at < file.len() => file[at] = edit[3],
            1 => file.truncate(at),
            2 => file.insert(at, edit[3]),
            3 if at < file.len() => {
                file.remove(at);
            }
            _ => {}
        }
    }
    let dir = scratch();
    std::fs::write(dir.join("model.json"), &files[0]).unwrap();
    std::fs::write(dir.join("weights.bin"), &files[1]).unwrap();
    match Classifier::load(dir) {
        Ok(c) => {
            let mut probs = Vec::new();
            c.probabilities_into("WIN a free prize", &mut ScoreScratch::default(), &mut probs);
            assert_eq!(probs.len(), c.meta.labels.len());
            assert!(probs.iter().all(|p| (0.0..=1.0).contains(p)), "{probs:?}");
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
