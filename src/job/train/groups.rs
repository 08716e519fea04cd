//! Which training documents must stay on the same side of every split: exact duplicates (the
//! same words once case, spacing and punctuation are ignored), near duplicates (template messages
//! that differ in a number or a few words, found by MinHash over word 3-shingles) and threads
//! (e-mail and Usenet posts whose `Subject:` is the same once `Re:`/`Fwd:` are stripped). Random
//! folds put such documents on both sides and overstate quality: 20news by seven points, SMS by
//! one.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::text::hash::hash_bytes;

/// MinHash signature length, and how it is cut into LSH bands. 16 bands of 4 make documents
/// whose shingle sets overlap by half (Jaccard 0.5) candidates with probability 0.65, and by
/// 0.8 with probability 1.0; candidates are then confirmed on the whole signature.
const SIGNATURE: usize = 64;
const BAND_ROWS: usize = 4;
/// Share of equal signature entries (the estimated Jaccard similarity) that makes two
/// documents near duplicates.
const NEAR_JACCARD: f64 = 0.5;
const SHINGLE_WORDS: usize = 3;
/// Subjects shorter than this (after normalising) say too little to join a thread.
const MIN_SUBJECT_CHARS: usize = 3;

/// How the documents were grouped, for `model.json`, cross-validation output and the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupCounts {
    pub documents: usize,
    /// Groups (a document without duplicates or thread is a group of one).
    pub groups: usize,
    /// Documents that repeat an earlier document exactly (ignoring case, spacing, punctuation).
    pub exact_duplicates: usize,
    /// Further documents joined to a group as near duplicates.
    pub near_duplicates: usize,
    /// Further documents joined to a group by their thread (`Subject:`).
    pub thread_members: usize,
    pub largest_group: usize,
}

/// Each document's group (the index of its group's first document) and the counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Groups {
    pub of: Vec<usize>,
    pub counts: GroupCounts,
}

/// What grouping keeps of one document: its exact key and MinHash signature.
pub struct Fingerprint {
    exact: u64,
    signature: Option<[u64; SIGNATURE]>,
    thread: Option<u64>,
}

impl Fingerprint {
    pub fn of(text: &str) -> Self {
        let words = words(text);
        let mut joined = Vec::with_capacity(text.len());
        for w in &words {
            joined.extend_from_slice(w.as_bytes());
            joined.push(b' ');
        }
        Fingerprint {
            exact: hash_bytes(0x5eed_0001, &joined),
            signature: signature(&words),
            thread: subject(text).map(|s| hash_bytes(0x5eed_0002, s.as_bytes())),
        }
    }

    /// Estimated Jaccard similarity of two documents' shingle sets.
    fn similarity(&self, other: &Fingerprint) -> f64 {
        match (&self.signature, &other.signature) {
            (Some(a), Some(b)) => {
                a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / SIGNATURE as f64
            }
            _ => 0.0,
        }
    }
}

/// Groups `texts` (deterministically: the same texts give the same groups in any thread count).
pub fn group<S: AsRef<str> + Sync>(texts: &[S]) -> Groups {
    let prints: Vec<Fingerprint> = texts
        .par_iter()
        .map(|t| Fingerprint::of(t.as_ref()))
        .collect();
    group_prints(&prints)
}

pub fn group_prints(prints: &[Fingerprint]) -> Groups {
    let n = prints.len();
    let mut sets = DisjointSets::new(n);
    let mut counts = GroupCounts {
        documents: n,
        ..GroupCounts::default()
    };

    let mut first_exact: HashMap<u64, usize> = HashMap::with_capacity(n);
    for (i, p) in prints.iter().enumerate() {
        match first_exact.get(&p.exact) {
            Some(&j) => {
                sets.union(j, i);
                counts.exact_duplicates += 1;
            }
            None => {
                first_exact.insert(p.exact, i);
            }
        }
    }

    let mut bands: HashMap<(usize, u64), usize> = HashMap::with_capacity(n * 2);
    for (i, p) in prints.iter().enumerate() {
        let Some(sig) = &p.signature else { continue };
        for (b, rows) in sig.chunks_exact(BAND_ROWS).enumerate() {
            let key = rows
                .iter()
                .fold(b as u64, |h, &r| hash_bytes(h, &r.to_le_bytes()));
            match bands.get(&(b, key)) {
                Some(&j) => {
                    if sets.find(i) != sets.find(j) && p.similarity(&prints[j]) >= NEAR_JACCARD {
                        sets.union(j, i);
                        counts.near_duplicates += 1;
                    }
                }
                None => {
                    bands.insert((b, key), i);
                }
            }
        }
    }

    let mut first_thread: HashMap<u64, usize> = HashMap::new();
    for (i, p) in prints.iter().enumerate() {
        let Some(t) = p.thread else { continue };
        match first_thread.get(&t) {
            Some(&j) => {
                if sets.find(i) != sets.find(j) {
                    sets.union(j, i);
                    counts.thread_members += 1;
                }
            }
            None => {
                first_thread.insert(t, i);
            }
        }
    }

    let of: Vec<usize> = (0..n).map(|i| sets.find(i)).collect();
    let mut sizes: HashMap<usize, usize> = HashMap::new();
    for &g in &of {
        *sizes.entry(g).or_default() += 1;
    }
    counts.groups = sizes.len();
    counts.largest_group = sizes.values().copied().max().unwrap_or(0);
    Groups { of, counts }
}

/// How many of `test` duplicate (exactly or nearly) a document of `train`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Overlap {
    pub test_documents: usize,
    pub exact_duplicates_of_training: usize,
    pub near_duplicates_of_training: usize,
}

/// Counts test documents that repeat training documents (a `TestS3Uri` drawn from the same
/// pool as the training data makes the evaluation look better than new documents will).
pub fn overlap(train: &[Fingerprint], test: &[Fingerprint]) -> Overlap {
    let exact: std::collections::HashSet<u64> = train.iter().map(|p| p.exact).collect();
    let mut bands: HashMap<(usize, u64), Vec<usize>> = HashMap::new();
    for (i, p) in train.iter().enumerate() {
        let Some(sig) = &p.signature else { continue };
        for (b, key) in band_keys(sig) {
            bands.entry((b, key)).or_default().push(i);
        }
    }
    let mut out = Overlap {
        test_documents: test.len(),
        ..Overlap::default()
    };
    for p in test {
        if exact.contains(&p.exact) {
            out.exact_duplicates_of_training += 1;
            continue;
        }
        let Some(sig) = &p.signature else { continue };
        let near = band_keys(sig).any(|(b, key)| {
            bands
                .get(&(b, key))
                .is_some_and(|c| c.iter().any(|&j| p.similarity(&train[j]) >= NEAR_JACCARD))
        });
        if near {
            out.near_duplicates_of_training += 1;
        }
    }
    out
}

fn band_keys(sig: &[u64; SIGNATURE]) -> impl Iterator<Item = (usize, u64)> + '_ {
    sig.chunks_exact(BAND_ROWS).enumerate().map(|(b, rows)| {
        (
            b,
            rows.iter()
                .fold(b as u64, |h, &r| hash_bytes(h, &r.to_le_bytes())),
        )
    })
}

/// Lower-cased alphanumeric words; digits become `0` so that messages differing only in a
/// phone number or an amount count as the same words.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            w.chars()
                .flat_map(char::to_lowercase)
                .map(|c| if c.is_ascii_digit() { '0' } else { c })
                .collect()
        })
        .collect()
}

/// MinHash of the document's word 3-shingles (a shorter document is one shingle).
fn signature(words: &[String]) -> Option<[u64; SIGNATURE]> {
    if words.is_empty() {
        return None;
    }
    let mut sig = [u64::MAX; SIGNATURE];
    let mut buf = Vec::new();
    for shingle in words.windows(SHINGLE_WORDS.min(words.len())) {
        buf.clear();
        for w in shingle {
            buf.extend_from_slice(w.as_bytes());
            buf.push(b' ');
        }
        let h = hash_bytes(0x5eed_0003, &buf);
        for (k, slot) in sig.iter_mut().enumerate() {
            let v = mix(h ^ PERMUTATIONS[k]);
            if v < *slot {
                *slot = v;
            }
        }
    }
    Some(sig)
}

#[inline]
fn mix(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

/// One seed per signature entry, fixed so groups are the same on every machine.
const PERMUTATIONS: [u64; SIGNATURE] = {
    let mut out = [0u64; SIGNATURE];
    let mut state: u64 = crate::rng::SEED;
    let mut i = 0;
    while i < SIGNATURE {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        out[i] = z ^ (z >> 31);
        i += 1;
    }
    out
};

/// The thread of an e-mail or news post: its `Subject:` header, lower-cased, without `Re:`,
/// `Fwd:`, `[list]` prefixes and punctuation. Only read when the text starts with a header block.
fn subject(text: &str) -> Option<String> {
    let first = text.lines().next()?;
    if !looks_like_header(first) {
        return None;
    }
    let line = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .find(|l| {
            l.get(..8)
                .is_some_and(|p| p.eq_ignore_ascii_case("subject:"))
        })?;
    let mut s = line[8..].trim().to_lowercase();
    loop {
        let t = s.trim_start();
        let stripped = ["re:", "fw:", "fwd:", "aw:"]
            .iter()
            .find_map(|p| t.strip_prefix(p))
            .or_else(|| {
                t.strip_prefix('[')
                    .and_then(|r| r.split_once(']').map(|(_, rest)| rest))
            });
        match stripped {
            Some(rest) => s = rest.to_string(),
            None => break,
        }
    }
    let words: Vec<&str> = s
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let norm = words.join(" ");
    (norm.len() >= MIN_SUBJECT_CHARS).then_some(norm)
}

/// `Name: value` with an RFC 5322 field name.
fn looks_like_header(line: &str) -> bool {
    match line.split_once(':') {
        Some((name, _)) => {
            !name.is_empty()
                && name.as_bytes()[0].is_ascii_alphabetic()
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        }
        None => line.starts_with("From "),
    }
}

/// Union-find with path halving; the representative is always the smallest index, so group
/// ids do not depend on the order unions happen in.
struct DisjointSets {
    parent: Vec<usize>,
}

impl DisjointSets {
    fn new(n: usize) -> Self {
        DisjointSets {
            parent: (0..n).collect(),
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.parent[a.max(b)] = a.min(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_duplicates_ignore_case_spacing_and_punctuation() {
        let g = group(&["Call me NOW!", "call  me now", "see you at lunch"]);
        assert_eq!(g.of, vec![0, 0, 2]);
        assert_eq!(g.counts.exact_duplicates, 1);
        assert_eq!(g.counts.groups, 2);
    }

    #[test]
    fn template_messages_differing_in_numbers_are_near_duplicates() {
        let a = "Congratulations you have won a guaranteed cash prize of 1000 pounds call 09061701461 to claim before the offer ends today";
        let b = "Congratulations you have won a guaranteed cash prize of 2000 pounds call 09061701444 to claim before the offer ends tonight";
        let c = "Are we still meeting for lunch tomorrow at the usual place near the station";
        let g = group(&[a, b, c]);
        assert_eq!(g.of[1], 0, "{:?}", g.counts);
        assert_eq!(g.of[2], 2);
    }

    #[test]
    fn replies_join_their_thread() {
        let a = "From: a@x\nSubject: Clipper chip\n\nThe proposal is bad.";
        let b =
            "From: b@y\nSubject: Re: Re: [crypto] Clipper chip!\nLines: 3\n\nI disagree entirely.";
        let c = "From: c@z\nSubject: Something else\n\nUnrelated.";
        let d = "Subject: Clipper chip\nin a body, not a header block";
        let g = group(&[a, b, c, d]);
        assert_eq!(g.of, vec![0, 0, 2, 0]);
        assert_eq!(g.counts.thread_members, 2);
        assert_eq!(subject("no header here\nSubject: Clipper chip"), None);
    }

    #[test]
    fn overlap_counts_test_documents_seen_in_training() {
        let train: Vec<Fingerprint> = ["one two three four five six", "seven eight nine ten"]
            .iter()
            .map(|t| Fingerprint::of(t))
            .collect();
        let test: Vec<Fingerprint> = ["ONE two three, four five six", "completely new words here"]
            .iter()
            .map(|t| Fingerprint::of(t))
            .collect();
        let o = overlap(&train, &test);
        assert_eq!(o.exact_duplicates_of_training, 1);
        assert_eq!(o.near_duplicates_of_training, 0);
        assert_eq!(o.test_documents, 2);
    }
}
