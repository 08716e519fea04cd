//! Cutting bytes into documents. `ONE_DOC_PER_FILE`: the file is the document.
//! `ONE_DOC_PER_LINE`: lines end at LF, CR or CRLF; `Line` numbers count every line, empty or not.
//! Big files are cut into chunks at line boundaries (never inside a CRLF) so all cores share one
//! file; each chunk knows how many lines it holds, so numbering does not depend on chunking.

use memchr::memchr2;

use crate::error::{Error, Param, Result};

/// Comprehend's `InputFormat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitMode {
    OnePerFile,
    OnePerLine,
}

impl SplitMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SplitMode::OnePerFile => "ONE_DOC_PER_FILE",
            SplitMode::OnePerLine => "ONE_DOC_PER_LINE",
        }
    }
}

impl std::str::FromStr for SplitMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().replace('-', "_").as_str() {
            "ONE_DOC_PER_FILE" => Ok(SplitMode::OnePerFile),
            "ONE_DOC_PER_LINE" => Ok(SplitMode::OnePerLine),
            _ => Err(Error::param(
                Param::InputFormat,
                s,
                "ONE_DOC_PER_FILE or ONE_DOC_PER_LINE",
            )),
        }
    }
}

/// One line: its byte range without the terminator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineSpan {
    pub start: usize,
    pub end: usize,
}

/// Iterates over the lines of a buffer. A final line without a terminator counts; a buffer
/// ending in a terminator has no extra empty line after it.
///
/// Terminators are found 64 bytes at a time, as a bit mask, and taken from the mask one line
/// at a time: cheaper than a search call per line for short lines (SMS, tickets, log lines).
pub struct LineIter<'a> {
    data: &'a [u8],
    /// Where the next line starts.
    pos: usize,
    /// The offset of the 64 bytes `mask` describes.
    base: usize,
    /// Terminators (CR or LF) at `base + bit`, those before `pos` cleared.
    mask: u64,
}

impl<'a> LineIter<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        LineIter {
            data,
            pos: 0,
            base: 0,
            mask: terminator_masks(data, 0).0,
        }
    }
}

impl Iterator for LineIter<'_> {
    type Item = LineSpan;

    #[inline]
    fn next(&mut self) -> Option<LineSpan> {
        let data = self.data;
        if self.pos >= data.len() {
            return None;
        }
        let start = self.pos;
        while self.mask == 0 {
            self.base += 64;
            if self.base >= data.len() {
                self.pos = data.len();
                return Some(LineSpan {
                    start,
                    end: data.len(),
                });
            }
            // The LF of a CRLF that ended the last block's line may open this one.
            let carried = self.pos.saturating_sub(self.base).min(1);
            self.mask = terminator_masks(data, self.base).0 & !0u64 << carried;
        }
        let end = self.base + self.mask.trailing_zeros() as usize;
        let crlf = data[end] == b'\r' && data.get(end + 1) == Some(&b'\n');
        self.pos = end + if crlf { 2 } else { 1 };
        let taken = self.pos - self.base;
        self.mask = if taken >= 64 {
            0
        } else {
            self.mask & !0u64 << taken
        };
        Some(LineSpan { start, end })
    }
}

/// Number of lines in `data` (as `LineIter` counts them): its terminators, a CRLF counted once,
/// and a last line without one. From the same bit masks, with no loop over lines.
pub fn count_lines(data: &[u8]) -> u64 {
    let mut n = 0u64;
    let mut cr_before = 0u64;
    let mut base = 0;
    while base < data.len() {
        let (any, cr, lf) = terminator_masks(data, base);
        // A CR directly before an LF: one terminator, not two (also across blocks).
        let pairs = (cr & lf >> 1) | (cr_before & lf & 1);
        n += u64::from(any.count_ones()) - u64::from(pairs.count_ones());
        cr_before = cr >> 63;
        base += 64;
    }
    n + u64::from(data.last().is_some_and(|&b| b != b'\n' && b != b'\r'))
}

/// Bit masks of the terminators in `data[base..]`'s first 64 bytes (fewer at the end of
/// `data`): CR or LF, CR, LF; bit `i` is `data[base + i]`.
#[inline(always)]
fn terminator_masks(data: &[u8], base: usize) -> (u64, u64, u64) {
    let rest = data.get(base..).unwrap_or(&[]);
    let mut padded = [0u8; 64];
    let block: &[u8; 64] = match rest.first_chunk::<64>() {
        Some(b) => b,
        None => {
            // Zeros are not terminators.
            padded[..rest.len()].copy_from_slice(rest);
            &padded
        }
    };
    let cr = byte_mask(block, b'\r');
    let lf = byte_mask(block, b'\n');
    (cr | lf, cr, lf)
}

/// Bit `i` set where `block[i] == byte`: 16 bytes per compare (SSE2, part of every x86-64).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn byte_mask(block: &[u8; 64], byte: u8) -> u64 {
    use std::arch::x86_64::*;
    let mut mask = 0u64;
    for (k, sixteen) in block.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is part of every x86-64 CPU (the target's baseline); the load reads
        // the 16 bytes of `sixteen`.
        let bits = unsafe {
            let v = _mm_loadu_si128(sixteen.as_ptr().cast());
            _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(byte as i8)))
        };
        mask |= u64::from(bits as u16) << (16 * k);
    }
    mask
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn byte_mask(block: &[u8; 64], byte: u8) -> u64 {
    block
        .iter()
        .enumerate()
        .fold(0, |m, (i, &b)| m | u64::from(b == byte) << i)
}

/// End of the chunk that starts at `start`: about `target` bytes on, right after a line
/// terminator (never between CR and LF), or the end of `data`.
pub fn next_chunk_end(data: &[u8], start: usize, target: usize) -> usize {
    let want = start + target.max(1);
    if want >= data.len() {
        return data.len();
    }
    match memchr2(b'\n', b'\r', &data[want..]) {
        // `want` may sit between a CR and its LF: the LF found first ends that same CRLF.
        Some(off) => {
            let p = want + off;
            if data[p] == b'\r' && data.get(p + 1) == Some(&b'\n') {
                p + 2
            } else {
                p + 1
            }
        }
        None => data.len(),
    }
}

/// End of the CR, LF or CRLF terminator at `p`.
pub fn after_terminator(data: &[u8], p: usize) -> usize {
    if data[p] == b'\r' && data.get(p + 1) == Some(&b'\n') {
        p + 2
    } else {
        p + 1
    }
}

/// Where the next work unit of a file starts after `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Whole lines up to this end (right after a terminator, or the end of the file).
    Lines(usize),
    /// The line at `start` is longer than the limit: the caller skips it without holding it.
    LongLine,
}

/// The unit cut rule, shared by mapped and streamed files so both cut a file at the same
/// places (and write the same archive bytes): the unit ends after the first terminator at or
/// after `start + target`; a line at `start` over `max_line` is a unit of its own; a unit never
/// runs into a line over the limit. Looks at no byte past `start + target + max_line + 2`, so a
/// streamed reader holding that much (or the rest of the file) decides exactly as with the
/// whole file.
pub fn next_cut(data: &[u8], start: usize, target: usize, max_line: u64) -> Cut {
    let len = data.len();
    let reach = |from: usize| {
        from.saturating_add(max_line as usize)
            .saturating_add(2)
            .min(len)
    };
    if memchr2(b'\n', b'\r', &data[start..reach(start)]).is_none() && reach(start) < len {
        return Cut::LongLine;
    }
    let want = start + target.max(1);
    if want >= len {
        return Cut::Lines(len);
    }
    if let Some(off) = memchr2(b'\n', b'\r', &data[want..reach(want)]) {
        return Cut::Lines(after_terminator(data, want + off));
    }
    if reach(want) == len {
        return Cut::Lines(len);
    }
    // The line running through `want` is over the limit: end this unit before it.
    match memchr::memrchr2(b'\n', b'\r', &data[start..want]) {
        Some(off) => Cut::Lines(after_terminator(data, start + off)),
        None => Cut::Lines(next_chunk_end(data, start, target)),
    }
}

/// Bytes a streamed reader must hold (or reach the end of the file) for `next_cut` to decide
/// as it would on the whole file.
pub fn cut_window(target: usize, max_line: u64) -> usize {
    target
        .max(1)
        .saturating_add(max_line as usize)
        .saturating_add(3)
}

/// Cut points splitting `data` into chunks of about `target` bytes, each ending right after a line
/// terminator (the last ends at `data.len()`). Returns the chunk end offsets.
pub fn chunk_ends(data: &[u8], target: usize) -> Vec<usize> {
    let mut ends = Vec::with_capacity(data.len() / target.max(1) + 1);
    let mut start = 0;
    while start < data.len() {
        start = next_chunk_end(data, start, target);
        ends.push(start);
    }
    ends
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lines(s: &str) -> Vec<&str> {
        LineIter::new(s.as_bytes())
            .map(|l| &s[l.start..l.end])
            .collect()
    }

    #[test]
    fn table() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("a", &["a"]),
            ("a\n", &["a"]),
            ("a\nb", &["a", "b"]),
            ("a\r\nb\r\n", &["a", "b"]),
            ("a\rb\r", &["a", "b"]),
            ("a\n\nb", &["a", "", "b"]),
            ("\n", &[""]),
            ("\r\n\r\n", &["", ""]),
            ("a\r\rb", &["a", "", "b"]),
            ("a\n\rb", &["a", "", "b"]),
            ("x\u{2028}y", &["x\u{2028}y"]),
        ];
        for (input, expected) in cases {
            assert_eq!(lines(input), *expected, "input {input:?}");
            assert_eq!(
                count_lines(input.as_bytes()),
                expected.len() as u64,
                "count {input:?}"
            );
        }
    }

    #[test]
    fn chunks_never_split_crlf() {
        let data = b"ab\r\ncd\r\nef";
        for target in 1..12 {
            for &e in &chunk_ends(data, target) {
                assert!(!(e > 0 && e < data.len() && data[e - 1] == b'\r' && data[e] == b'\n'));
            }
        }
    }

    /// Lines found one byte at a time.
    fn reference_lines(data: &[u8]) -> Vec<LineSpan> {
        let mut out = Vec::new();
        let (mut start, mut i) = (0, 0);
        while i < data.len() {
            if data[i] == b'\n' || data[i] == b'\r' {
                out.push(LineSpan { start, end: i });
                i += if data[i..].starts_with(b"\r\n") { 2 } else { 1 };
                start = i;
            } else {
                i += 1;
            }
        }
        if start < data.len() {
            out.push(LineSpan {
                start,
                end: data.len(),
            });
        }
        out
    }

    proptest! {
        // Lines of every length, so terminators (a CRLF's two bytes too) fall at every place
        // of the 64-byte blocks the masks are taken from.
        #[test]
        fn lines_match_a_byte_by_byte_reference(
            segments in proptest::collection::vec((0usize..150, 0usize..4), 0..12),
            tail in 0usize..100,
        ) {
            let mut data = Vec::new();
            for (len, end) in segments {
                data.extend(std::iter::repeat_n(b'a', len));
                data.extend_from_slice([&b"\n"[..], b"\r", b"\r\n", b"\n\r"][end]);
            }
            data.extend(std::iter::repeat_n(b'z', tail));
            let expected = reference_lines(&data);
            prop_assert_eq!(LineIter::new(&data).collect::<Vec<_>>(), expected.clone());
            prop_assert_eq!(count_lines(&data), expected.len() as u64);
        }

        // Lines and terminators rebuild the input; chunking changes neither the lines nor their
        // numbering.
        #[test]
        fn chunked_lines_match_whole(data in proptest::collection::vec(
            prop_oneof![Just(b'a'), Just(b'\n'), Just(b'\r'), Just(b'x'), Just(0xffu8)], 0..300),
            target in 1usize..64) {
            let whole: Vec<(u64, &[u8])> = LineIter::new(&data)
                .enumerate()
                .map(|(i, l)| (i as u64, &data[l.start..l.end]))
                .collect();
            let mut chunked = Vec::new();
            let mut start = 0;
            let mut first_line = 0u64;
            let ends = chunk_ends(&data, target);
            for &end in &ends {
                let chunk = &data[start..end];
                for (i, l) in LineIter::new(chunk).enumerate() {
                    chunked.push((first_line + i as u64, &chunk[l.start..l.end]));
                }
                first_line += count_lines(chunk);
                start = end;
            }
            prop_assert_eq!(start, data.len());
            prop_assert_eq!(&chunked, &whole);
            // Lines plus the bytes between them reproduce the input exactly.
            let mut rebuilt = Vec::new();
            let mut prev = 0;
            for l in LineIter::new(&data) {
                rebuilt.extend_from_slice(&data[prev..l.start]);
                rebuilt.extend_from_slice(&data[l.start..l.end]);
                prev = l.end;
            }
            rebuilt.extend_from_slice(&data[prev..]);
            prop_assert_eq!(rebuilt, data.clone());
        }
    }
}
