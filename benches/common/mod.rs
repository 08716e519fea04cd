//! A seeded synthetic SMS-like corpus for the benches, so nothing is downloaded and every run
//! measures the same bytes.

use docclass::rng::SplitMix64;

const WORDS: &[&str] = &[
    "call",
    "now",
    "free",
    "win",
    "prize",
    "claim",
    "text",
    "reply",
    "stop",
    "cash",
    "you",
    "me",
    "are",
    "we",
    "the",
    "a",
    "to",
    "for",
    "see",
    "later",
    "home",
    "dinner",
    "tonight",
    "tomorrow",
    "meeting",
    "sorry",
    "late",
    "love",
    "thanks",
    "ok",
    "mobile",
    "urgent",
    "week",
    "draw",
    "guaranteed",
    "award",
    "ringtone",
    "holiday",
    "£1000",
    "150p",
    "08001234567",
    "!",
    "?",
    "lol",
    "u",
    "ur",
    "txt",
    "msg",
    "nokia",
    "camera",
    "weekend",
];

/// `n` lines of 8 to 30 words each, like SMS messages (about 80 bytes a line).
pub fn corpus(n: usize, seed: u64) -> String {
    let mut rng = SplitMix64(seed);
    let mut out = String::with_capacity(n * 90);
    for _ in 0..n {
        let len = 8 + (rng.next_u64() % 12) as usize;
        for w in 0..len {
            if w > 0 {
                out.push(' ');
            }
            out.push_str(WORDS[(rng.next_u64() % WORDS.len() as u64) as usize]);
        }
        out.push('\n');
    }
    out
}
