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
/// 0.8 with probability 1.0; candidates are then confirmed on the whole signature. Each entry
/// keeps the top 32 bits of its minimum hash (b-bit MinHash): unrelated entries agree once in
/// four billion, so the groups are those of whole hashes, and a million documents' signatures
/// take 256 MB instead of 512. (With 16 bits, 6 of SpamAssassin's 1,433 near duplicates changed:
/// pairs at the similarity threshold tipped over it.)
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

/// What grouping keeps of many documents: each one's exact key, thread and MinHash signature,
/// the signatures in one block (`SIGNATURE` entries per document).
#[derive(Debug, Default)]
pub struct Fingerprints {
    exact: Vec<u64>,
    thread: Vec<Option<u64>>,
    /// Whether the document has words (and so a signature).
    signed: Vec<bool>,
    signatures: Vec<u32>,
}

impl Fingerprints {
    /// Fingerprints of `n` documents, `text(i)` giving document `i` (in parallel, in order).
    pub fn of_all<'a, T>(n: usize, text: T) -> Self
    where
        T: Fn(usize) -> &'a str + Sync,
    {
        let per_doc: Vec<(u64, Option<u64>, Option<[u32; SIGNATURE]>)> = (0..n)
            .into_par_iter()
            .map_init(Words::default, |words, i| {
                let t = text(i);
                words.read(t);
                (
                    hash_bytes(0x5eed_0001, &words.joined),
                    subject(t).map(|s| hash_bytes(0x5eed_0002, s.as_bytes())),
                    words.signature(),
                )
            })
            .collect();
        let mut out = Fingerprints {
            exact: Vec::with_capacity(n),
            thread: Vec::with_capacity(n),
            signed: Vec::with_capacity(n),
            signatures: Vec::with_capacity(n * SIGNATURE),
        };
        for (exact, thread, sig) in per_doc {
            out.exact.push(exact);
            out.thread.push(thread);
            out.signed.push(sig.is_some());
            out.signatures
                .extend_from_slice(&sig.unwrap_or([0; SIGNATURE]));
        }
        out
    }

    pub fn len(&self) -> usize {
        self.exact.len()
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty()
    }

    fn signature(&self, i: usize) -> Option<&[u32]> {
        self.signed[i].then(|| &self.signatures[i * SIGNATURE..(i + 1) * SIGNATURE])
    }

    /// Estimated Jaccard similarity of documents `i` of `self` and `j` of `other`.
    fn similarity(&self, i: usize, other: &Fingerprints, j: usize) -> f64 {
        match (self.signature(i), other.signature(j)) {
            (Some(a), Some(b)) => {
                a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / SIGNATURE as f64
            }
            _ => 0.0,
        }
    }

    /// `(band key, document)` of every signed document for band `b`, sorted.
    fn band(&self, b: usize) -> Vec<(u64, u32)> {
        let mut keys: Vec<(u64, u32)> = (0..self.len())
            .into_par_iter()
            .filter_map(|i| self.signature(i).map(|s| (band_key(s, b), i as u32)))
            .collect();
        keys.par_sort_unstable();
        keys
    }
}

/// Groups `texts` (deterministically: the same texts give the same groups in any thread count).
pub fn group<S: AsRef<str> + Sync>(texts: &[S]) -> Groups {
    group_prints(&Fingerprints::of_all(texts.len(), |i| texts[i].as_ref()))
}

/// Groups documents by their fingerprints: exact duplicates, then near duplicates (documents
/// sharing a band of their signatures with a band's first document, confirmed on the whole
/// signature), then threads. Every match joins the later document to the earlier one's group, so
/// the groups are the same whatever order the matches are found in.
pub fn group_prints(prints: &Fingerprints) -> Groups {
    let n = prints.len();
    let mut sets = DisjointSets::new(n);
    let mut counts = GroupCounts {
        documents: n,
        ..GroupCounts::default()
    };
    for (first, i) in first_of_equal(&prints.exact) {
        sets.union(first, i);
        counts.exact_duplicates += 1;
    }
    for b in 0..SIGNATURE / BAND_ROWS {
        let keys = prints.band(b);
        let mut run = 0;
        for k in 1..keys.len() {
            if keys[k].0 != keys[run].0 {
                run = k;
                continue;
            }
            let (j, i) = (keys[run].1 as usize, keys[k].1 as usize);
            if sets.find(i) != sets.find(j) && prints.similarity(i, prints, j) >= NEAR_JACCARD {
                sets.union(j, i);
                counts.near_duplicates += 1;
            }
        }
    }
    let mut keyed: Vec<(u64, usize)> = prints
        .thread
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.map(|t| (t, i)))
        .collect();
    keyed.sort_unstable();
    for (j, i) in first_of_runs(&keyed) {
        if sets.find(i) != sets.find(j) {
            sets.union(j, i);
            counts.thread_members += 1;
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

/// `(first, later)` for every document whose key an earlier document has.
fn first_of_equal(keys: &[u64]) -> Vec<(usize, usize)> {
    let mut keyed: Vec<(u64, usize)> = keys.iter().copied().zip(0..).collect();
    keyed.par_sort_unstable();
    first_of_runs(&keyed)
}

/// In `(key, index)` pairs sorted by key then index: `(first index, index)` of every later
/// member of a run of equal keys.
fn first_of_runs(keyed: &[(u64, usize)]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut run = 0;
    for k in 1..keyed.len() {
        if keyed[k].0 != keyed[run].0 {
            run = k;
        } else {
            out.push((keyed[run].1, keyed[k].1));
        }
    }
    out
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
pub fn overlap(train: &Fingerprints, test: &Fingerprints) -> Overlap {
    let exact: std::collections::HashSet<u64> = train.exact.iter().copied().collect();
    let bands: Vec<Vec<(u64, u32)>> = (0..SIGNATURE / BAND_ROWS).map(|b| train.band(b)).collect();
    let mut out = Overlap {
        test_documents: test.len(),
        ..Overlap::default()
    };
    for p in 0..test.len() {
        if exact.contains(&test.exact[p]) {
            out.exact_duplicates_of_training += 1;
            continue;
        }
        let Some(sig) = test.signature(p) else {
            continue;
        };
        let near = bands.iter().enumerate().any(|(b, keys)| {
            let key = band_key(sig, b);
            let from = keys.partition_point(|&(k, _)| k < key);
            keys[from..]
                .iter()
                .take_while(|&&(k, _)| k == key)
                .any(|&(_, j)| test.similarity(p, train, j as usize) >= NEAR_JACCARD)
        });
        if near {
            out.near_duplicates_of_training += 1;
        }
    }
    out
}

fn band_key(sig: &[u32], b: usize) -> u64 {
    sig[b * BAND_ROWS..(b + 1) * BAND_ROWS]
        .iter()
        .fold(b as u64, |k, &r| mix(k.rotate_left(32) ^ u64::from(r)))
}

/// A document's lower-cased alphanumeric words, each followed by a space, in one buffer (digits
/// become `0`, so messages differing only in a phone number or an amount count as the same
/// words), and where each word ends: a run of words is one slice of the buffer.
#[derive(Default)]
struct Words {
    joined: Vec<u8>,
    ends: Vec<usize>,
}

impl Words {
    fn read(&mut self, text: &str) {
        self.joined.clear();
        self.ends.clear();
        let mut utf8 = [0u8; 4];
        for w in text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            for c in w.chars().flat_map(char::to_lowercase) {
                let c = if c.is_ascii_digit() { '0' } else { c };
                self.joined
                    .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
            self.joined.push(b' ');
            self.ends.push(self.joined.len());
        }
    }

    /// MinHash of the word 3-shingles (a shorter document is one shingle), each entry the top
    /// 32 bits of its minimum.
    fn signature(&self) -> Option<[u32; SIGNATURE]> {
        let n = self.ends.len();
        if n == 0 {
            return None;
        }
        let width = SHINGLE_WORDS.min(n);
        let mut sig = [u64::MAX; SIGNATURE];
        for first in 0..=n - width {
            let start = if first == 0 { 0 } else { self.ends[first - 1] };
            let h = hash_bytes(
                0x5eed_0003,
                &self.joined[start..self.ends[first + width - 1]],
            );
            for (k, slot) in sig.iter_mut().enumerate() {
                let v = mix(h ^ PERMUTATIONS[k]);
                if v < *slot {
                    *slot = v;
                }
            }
        }
        Some(sig.map(|v| (v >> 32) as u32))
    }
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
        let train = ["one two three four five six", "seven eight nine ten"];
        let train = Fingerprints::of_all(2, |i| train[i]);
        let test = ["ONE two three, four five six", "completely new words here"];
        let test = Fingerprints::of_all(2, |i| test[i]);
        let o = overlap(&train, &test);
        assert_eq!(o.exact_duplicates_of_training, 1);
        assert_eq!(o.near_duplicates_of_training, 0);
        assert_eq!(o.test_documents, 2);
    }
}
