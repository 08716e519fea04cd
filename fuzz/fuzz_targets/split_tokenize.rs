//! The ONE_DOC_PER_LINE splitter and the vectorizer on any bytes: line spans rebuild the input,
//! chunk cuts fall on line starts, and vectors stay in range.
#![no_main]

use docclass::input::split::{chunk_ends, count_lines, LineIter};
use docclass::text::{FeatureSpec, HashingVectorizer};
use libfuzzer_sys::fuzz_target;

fn vectorizer() -> &'static HashingVectorizer {
    static V: std::sync::OnceLock<HashingVectorizer> = std::sync::OnceLock::new();
    V.get_or_init(|| HashingVectorizer::new(FeatureSpec::default()).unwrap())
}

fuzz_target!(|data: &[u8]| {
    let spans: Vec<_> = LineIter::new(data).collect();
    assert_eq!(spans.len() as u64, count_lines(data));
    let mut starts = vec![0];
    let mut pos = 0;
    for s in &spans {
        assert_eq!(s.start, pos, "lines are contiguous");
        let line = &data[s.start..s.end];
        assert!(!line.contains(&b'\n') && !line.contains(&b'\r'));
        pos = match data.get(s.end) {
            None => s.end,
            Some(b'\r') if data.get(s.end + 1) == Some(&b'\n') => s.end + 2,
            Some(b'\r' | b'\n') => s.end + 1,
            Some(_) => panic!("a line ends at a terminator or the end"),
        };
        starts.push(pos);
    }
    assert_eq!(pos, data.len(), "lines and terminators rebuild the input");
    for target in [1, 3, 64, 4096] {
        let ends = chunk_ends(data, target);
        assert_eq!(ends.last().copied().unwrap_or(0), data.len());
        assert!(ends.windows(2).all(|w| w[0] < w[1]));
        for e in ends {
            assert!(starts.binary_search(&e).is_ok(), "cut at {e} is not a line start");
        }
    }
    let v = vectorizer();
    let vec = v.vectorize(&String::from_utf8_lossy(data));
    for (i, x) in vec.iter() {
        assert!((i as usize) < v.spec().n_features());
        assert!(x.is_finite());
    }
});
