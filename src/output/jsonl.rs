//! Wire format of `predictions.jsonl`, one JSON object per line, keys in this order:
//!
//! ```text
//! {"File": "SampleSMStext1.txt", "Line": "0", "Classes": [{"Name": "spam", "Score": 0.9999}, {"Name": "ham", "Score": 0.0001}]}
//! {"File": "x.txt", "Line": "2", "ErrorCode": "DOCUMENT_SIZE_EXCEEDED", "ErrorMessage": "..."}
//! ```
//!
//! * `File`: the input file's key relative to the input prefix's folder.
//! * `Line`: the 0-based line number as a JSON string; `"0"` for ONE_DOC_PER_FILE unless omitted.
//! * `Classes` (MULTI_CLASS: top 3, descending) or `Labels` (MULTI_LABEL: top 3 plus every further
//!   label scoring at least 0.5); `Score` is Python's `round(p, 4)` printed as `repr` prints it.
//! * Error lines replace the result: `ErrorCode` and `ErrorMessage`.
//!
//! Strings are escaped as Python's `json.dumps` does by default (`ensure_ascii`): everything outside
//! printable ASCII becomes `\uXXXX`, so the file is pure ASCII whatever the labels and file names.
//!
//! Semi-structured documents (PDF, Word, images) get one line per page, keys sorted at every
//! level as in Comprehend's documented example of such output:
//!
//! ```text
//! {"Classes": [{"Name": "spam", "Page": 1, "Score": 0.9798}, ...], "DocumentMetadata": {"ExtractedCharacters": [{"Count": 152, "Page": 1}], "PageNumber": 1, "Pages": 2}, "DocumentType": [{"Page": 1, "Type": "NATIVE_PDF"}], "File": "a.pdf", "Version": "2023-03-20"}
//! {"DocumentMetadata": {...}, "DocumentType": [...], "Errors": [{"ErrorCode": "PAGE_CHARACTERS_EXCEEDED", "ErrorMessage": "...", "Page": 2}], "File": "a.pdf", "Version": "2023-03-20"}
//! {"ErrorCode": "PAGE_LIMIT_EXCEEDED", "ErrorMessage": "...", "File": "big.pdf"}
//! ```

use std::io::Write;

use crate::model::Mode;

/// Spacing of the JSON objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonStyle {
    /// `{"File": "a", ...}`: Python `json.dumps` defaults, as the documentation shows.
    Compact,
    /// `{ "File": "a", ... }`: as seen in captured real output.
    Padded,
}

/// Whether ONE_DOC_PER_FILE lines carry `"Line": "0"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileLine {
    Zero,
    Omit,
}

/// Everything that decides the bytes of a line, fixed for a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonlFormat {
    pub style: JsonStyle,
    pub file_line: FileLine,
    pub mode: Mode,
    /// Label names, already JSON-escaped with their quotes.
    pub labels: Vec<String>,
    /// Per label, the start of its entry up to its score (`{"Name": "spam", "Score": `).
    entry_heads: Vec<Piece>,
    /// A result line's other parts, which depend on the style and mode.
    file_head: Piece,
    classes_head: Piece,
    /// The end of an object (`}` or ` }`), and of a line.
    brace_end: Piece,
    line_end: Piece,
}

/// Bytes appended to every line, kept zero-padded to `Piece::ROOM` so that they are appended by
/// `push_prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Piece {
    padded: Vec<u8>,
    len: usize,
}

impl Piece {
    const ROOM: usize = 32;

    fn new(bytes: &[u8]) -> Self {
        let mut padded = bytes.to_vec();
        padded.resize(bytes.len().max(Self::ROOM), 0);
        Piece {
            padded,
            len: bytes.len(),
        }
    }

    #[inline(always)]
    fn push(&self, out: &mut Vec<u8>) {
        match self.padded.first_chunk::<{ Self::ROOM }>() {
            Some(room) if self.len <= Self::ROOM => push_prefix(out, room, self.len),
            _ => out.extend_from_slice(&self.padded[..self.len]),
        }
    }
}

/// Appends `s` as a JSON string literal, escaped as Python's `json.dumps(ensure_ascii=True)`.
pub fn push_json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{:04x}", u);
                }
            }
            c => out.push(c as u8),
        }
    }
    out.push(b'"');
}

/// A JSON string literal as an owned `String`.
pub fn json_string(s: &str) -> String {
    let mut v = Vec::with_capacity(s.len() + 2);
    push_json_string(&mut v, s);
    String::from_utf8(v).unwrap_or_default()
}

/// Appends a probability as Python prints `round(p, 4)`: at most 4 decimals, trailing zeros
/// dropped but one digit kept after the point (`0.9999`, `0.228`, `1.0`, `0.0`).
pub fn push_score(out: &mut Vec<u8>, p: f64) {
    let p = if p.is_finite() {
        p.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = p * 1e4;
    // `x` is in 0..=10000, so truncation is `floor` (a call into libm on baseline x86-64, which
    // has no rounding instruction).
    let whole = x as u32;
    let frac = x - f64::from(whole);
    // Six characters, `0.0000` to `1.0000`, built on the stack and appended once.
    let mut text = [b'0'; 6];
    if (frac - 0.5).abs() < 1e-6 {
        // Too close to a tie for the scaled product to decide: format the exact binary value.
        let _ = write!(&mut text[..], "{:.4}", p);
    } else {
        // Not a tie (above), so `round` is: up when the fraction is past one half.
        let q = whole + u32::from(frac > 0.5);
        let [a, b] = DIGIT_PAIRS[(q / 100 % 100) as usize];
        let [c, d] = DIGIT_PAIRS[(q % 100) as usize];
        text = [b'0' + (q / 10_000) as u8, b'.', a, b, c, d];
    }
    let mut zeros = 0;
    while zeros < 3 && text[text.len() - 1 - zeros] == b'0' {
        zeros += 1;
    }
    push_prefix(out, &text, text.len() - zeros);
}

/// Appends the first `len` bytes of `bytes`: all `N` of them, then the rest cut off. A copy of
/// a fixed size is a move; a copy of a length known only at run time is a call to memmove.
#[inline(always)]
fn push_prefix<const N: usize>(out: &mut Vec<u8>, bytes: &[u8; N], len: usize) {
    debug_assert!(len <= N);
    out.extend_from_slice(bytes);
    out.truncate(out.len() - (N - len));
}

/// Appends `n` in decimal (what `write!` does, without the formatting machinery per line).
fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let width = n.checked_ilog10().unwrap_or(0) as usize + 1;
    // Room for the longest (a fixed-size move), the digits written from the last, then cut to
    // their number: no memmove call for a computed length.
    let at = out.len();
    out.extend_from_slice(&[b'0'; 20]);
    let digits = &mut out[at..at + width];
    // Two digits at a time from the last; `width` is exact, so one or two are left for the front.
    let mut end = width;
    while n >= 100 {
        digits[end - 2..end].copy_from_slice(&DIGIT_PAIRS[(n % 100) as usize]);
        end -= 2;
        n /= 100;
    }
    if n >= 10 {
        digits[..2].copy_from_slice(&DIGIT_PAIRS[n as usize]);
    } else {
        digits[0] = b'0' + n as u8;
    }
    out.truncate(at + width);
}

/// "00" to "99": two digits per lookup instead of a division for each.
const DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut pairs = [[0; 2]; 100];
    let mut i = 0;
    while i < 100 {
        pairs[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    pairs
};

impl JsonlFormat {
    pub fn new(style: JsonStyle, file_line: FileLine, mode: Mode, labels: &[String]) -> Self {
        let labels: Vec<String> = labels.iter().map(|l| json_string(l)).collect();
        let open = match style {
            JsonStyle::Compact => "{\"Name\": ",
            JsonStyle::Padded => "{ \"Name\": ",
        };
        let entry_heads = labels
            .iter()
            .map(|l| Piece::new(format!("{open}{l}, \"Score\": ").as_bytes()))
            .collect();
        let padded = style == JsonStyle::Padded;
        JsonlFormat {
            style,
            file_line,
            mode,
            labels,
            entry_heads,
            file_head: Piece::new(if padded {
                b"{ \"File\": "
            } else {
                b"{\"File\": "
            }),
            classes_head: Piece::new(match mode {
                Mode::MultiClass => b", \"Classes\": [",
                Mode::MultiLabel => b", \"Labels\": [",
            }),
            brace_end: Piece::new(if padded { b" }" } else { b"}" }),
            line_end: Piece::new(if padded { b" }\n" } else { b"}\n" }),
        }
    }

    fn open(&self, out: &mut Vec<u8>, file_json: &str, line: Option<u64>) {
        self.file_head.push(out);
        out.extend_from_slice(file_json.as_bytes());
        if let Some(n) = line {
            out.extend_from_slice(b", \"Line\": \"");
            push_decimal(out, n);
            out.push(b'"');
        }
    }

    fn close(&self, out: &mut Vec<u8>) {
        self.line_end.push(out);
    }

    /// Appends a result line. `ranked` holds label indices, best first; `probs` their scores.
    pub fn push_prediction(
        &self,
        out: &mut Vec<u8>,
        file_json: &str,
        line: Option<u64>,
        ranked: &[u32],
        probs: &[f64],
    ) {
        self.open(out, file_json, line);
        self.classes_head.push(out);
        for (n, &l) in ranked.iter().enumerate() {
            if n > 0 {
                out.extend_from_slice(b", ");
            }
            self.entry_heads[l as usize].push(out);
            push_score(out, probs[l as usize]);
            self.unbrace(out);
        }
        out.push(b']');
        self.close(out);
    }

    /// Appends an error line in place of a result.
    pub fn push_error(
        &self,
        out: &mut Vec<u8>,
        file_json: &str,
        line: Option<u64>,
        code: &str,
        message: &str,
    ) {
        self.open(out, file_json, line);
        out.extend_from_slice(b", \"ErrorCode\": ");
        push_json_string(out, code);
        out.extend_from_slice(b", \"ErrorMessage\": ");
        push_json_string(out, message);
        self.close(out);
    }
}

/// The `Version` of semi-structured output lines.
pub const PAGE_FORMAT_VERSION: &str = "2023-03-20";

/// What a page line says about its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageInfo<'a> {
    /// 1-based.
    pub number: u32,
    pub pages: u32,
    pub characters: usize,
    /// Comprehend's `DocumentType` value (`NATIVE_PDF`, ...).
    pub kind: &'a str,
}

impl JsonlFormat {
    fn brace(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(match self.style {
            JsonStyle::Compact => b"{",
            JsonStyle::Padded => b"{ ",
        });
    }

    fn unbrace(&self, out: &mut Vec<u8>) {
        self.brace_end.push(out);
    }

    /// `"DocumentMetadata": {...}, "DocumentType": [...], ` of a page line.
    fn page_head(&self, out: &mut Vec<u8>, page: &PageInfo) {
        out.extend_from_slice(b"\"DocumentMetadata\": ");
        self.brace(out);
        out.extend_from_slice(b"\"ExtractedCharacters\": [");
        self.brace(out);
        let _ = write!(
            out,
            "\"Count\": {}, \"Page\": {}",
            page.characters, page.number
        );
        self.unbrace(out);
        let _ = write!(
            out,
            "], \"PageNumber\": {}, \"Pages\": {}",
            page.number, page.pages
        );
        self.unbrace(out);
        out.extend_from_slice(b", \"DocumentType\": [");
        self.brace(out);
        let _ = write!(out, "\"Page\": {}, \"Type\": ", page.number);
        push_json_string(out, page.kind);
        self.unbrace(out);
        out.extend_from_slice(b"], ");
    }

    fn page_tail(&self, out: &mut Vec<u8>, file_json: &str) {
        out.extend_from_slice(b"\"File\": ");
        out.extend_from_slice(file_json.as_bytes());
    }

    fn entries(&self, out: &mut Vec<u8>, page: u32, ranked: &[u32], probs: &[f64]) {
        out.push(b'[');
        for (n, &l) in ranked.iter().enumerate() {
            if n > 0 {
                out.extend_from_slice(b", ");
            }
            self.brace(out);
            out.extend_from_slice(b"\"Name\": ");
            out.extend_from_slice(self.labels[l as usize].as_bytes());
            let _ = write!(out, ", \"Page\": {page}, \"Score\": ");
            push_score(out, probs[l as usize]);
            self.unbrace(out);
        }
        out.push(b']');
    }

    /// Appends the result line of one page of a semi-structured document.
    pub fn push_page(
        &self,
        out: &mut Vec<u8>,
        file_json: &str,
        page: &PageInfo,
        ranked: &[u32],
        probs: &[f64],
    ) {
        self.brace(out);
        if self.mode == Mode::MultiClass {
            out.extend_from_slice(b"\"Classes\": ");
            self.entries(out, page.number, ranked, probs);
            out.extend_from_slice(b", ");
        }
        self.page_head(out, page);
        self.page_tail(out, file_json);
        if self.mode == Mode::MultiLabel {
            out.extend_from_slice(b", \"Labels\": ");
            self.entries(out, page.number, ranked, probs);
        }
        out.extend_from_slice(b", \"Version\": ");
        push_json_string(out, PAGE_FORMAT_VERSION);
        self.unbrace(out);
        out.push(b'\n');
    }

    /// Appends the line of a page that could not be read, with its page-level error.
    pub fn push_page_error(
        &self,
        out: &mut Vec<u8>,
        file_json: &str,
        page: &PageInfo,
        code: &str,
        message: &str,
    ) {
        self.brace(out);
        self.page_head(out, page);
        out.extend_from_slice(b"\"Errors\": [");
        self.brace(out);
        out.extend_from_slice(b"\"ErrorCode\": ");
        push_json_string(out, code);
        out.extend_from_slice(b", \"ErrorMessage\": ");
        push_json_string(out, message);
        let _ = write!(out, ", \"Page\": {}", page.number);
        self.unbrace(out);
        out.extend_from_slice(b"], ");
        self.page_tail(out, file_json);
        out.extend_from_slice(b", \"Version\": ");
        push_json_string(out, PAGE_FORMAT_VERSION);
        self.unbrace(out);
        out.push(b'\n');
    }

    /// Appends the line of a semi-structured document refused as a whole.
    pub fn push_document_error(
        &self,
        out: &mut Vec<u8>,
        file_json: &str,
        code: &str,
        message: &str,
    ) {
        self.brace(out);
        out.extend_from_slice(b"\"ErrorCode\": ");
        push_json_string(out, code);
        out.extend_from_slice(b", \"ErrorMessage\": ");
        push_json_string(out, message);
        out.extend_from_slice(b", ");
        self.page_tail(out, file_json);
        self.unbrace(out);
        out.push(b'\n');
    }
}

/// Ranks labels for output: MULTI_CLASS keeps the best 3; MULTI_LABEL the best 3 plus every
/// further label at 0.5 or more. Ties go to the label that sorts first.
pub fn rank_into(mode: Mode, probs: &[f64], ranked: &mut Vec<u32>) {
    ranked.clear();
    ranked.extend(0..probs.len() as u32);
    let by_score = |a: &u32, b: &u32| {
        probs[*b as usize]
            .total_cmp(&probs[*a as usize])
            .then(a.cmp(b))
    };
    match mode {
        Mode::MultiClass => {
            if ranked.len() > 3 {
                ranked.select_nth_unstable_by(2, by_score);
                ranked.truncate(3);
            }
            ranked.sort_unstable_by(by_score);
        }
        Mode::MultiLabel => {
            ranked.sort_unstable_by(by_score);
            let keep = ranked
                .iter()
                .enumerate()
                .take_while(|(i, &l)| *i < 3 || probs[l as usize] >= 0.5)
                .count();
            ranked.truncate(keep);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(p: f64) -> String {
        let mut v = Vec::new();
        push_score(&mut v, p);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn decimals_print_as_display_does() {
        for n in [
            0,
            7,
            10,
            99,
            100,
            1000,
            54_321,
            999_999,
            123_456_789,
            u32::MAX as u64 + 1,
            u64::MAX,
        ] {
            let mut v = b"x".to_vec();
            push_decimal(&mut v, n);
            assert_eq!(v, format!("x{n}").into_bytes());
        }
    }

    #[test]
    fn scores_print_like_python_round_4() {
        // Expected values from Python 3: repr(round(p, 4)).
        let cases = [
            (0.99991234, "0.9999"),
            (0.22800001, "0.228"),
            (0.5, "0.5"),
            (0.99996, "1.0"),
            (0.0, "0.0"),
            (0.00004, "0.0"),
            (0.00005001, "0.0001"),
            (1.0, "1.0"),
            (0.1, "0.1"),
            (0.03125, "0.0312"),
            (0.09375, "0.0938"),
        ];
        for (p, want) in cases {
            assert_eq!(s(p), want, "p = {p}");
        }
    }

    #[test]
    fn fast_path_agrees_with_exact_formatting() {
        // Every probability on a fine grid, plus values just around rounding boundaries.
        let mut p = 0.0f64;
        while p <= 1.0 {
            for q in [p, p + 4.99e-5, p + 5.01e-5, (p + 5e-5).min(1.0)] {
                let q = q.min(1.0);
                let mut exact = format!("{:.4}", q).into_bytes();
                while exact.len() > 3
                    && exact[exact.len() - 1] == b'0'
                    && exact[exact.len() - 2] != b'.'
                {
                    exact.pop();
                }
                assert_eq!(s(q), String::from_utf8(exact).unwrap(), "p = {q:e}");
            }
            p += 0.000_37;
        }
    }

    #[test]
    fn escaping_matches_python_ensure_ascii() {
        // json.dumps('a"b\\c\n\u00e9\U0001F600\x01') in Python 3.
        assert_eq!(
            json_string("a\"b\\c\né😀\u{1}"),
            r#""a\"b\\c\n\u00e9\ud83d\ude00\u0001""#
        );
        assert_eq!(json_string("\u{7f}"), r#""\u007f""#);
    }

    #[test]
    fn lines_match_the_documented_shape() {
        let labels = vec!["ham".to_string(), "spam".to_string()];
        let f = JsonlFormat::new(
            JsonStyle::Compact,
            FileLine::Zero,
            Mode::MultiClass,
            &labels,
        );
        let mut out = Vec::new();
        f.push_prediction(
            &mut out,
            &json_string("SampleSMStext1.txt"),
            Some(0),
            &[1, 0],
            &[0.00004, 0.99996 - 1e-9],
        );
        f.push_error(
            &mut out,
            &json_string("x.txt"),
            Some(2),
            "DOCUMENT_SIZE_EXCEEDED",
            "Document size exceeds maximum size limit 10 bytes.",
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            concat!(
                "{\"File\": \"SampleSMStext1.txt\", \"Line\": \"0\", \"Classes\": [{\"Name\": \"spam\", \"Score\": 1.0}, {\"Name\": \"ham\", \"Score\": 0.0}]}\n",
                "{\"File\": \"x.txt\", \"Line\": \"2\", \"ErrorCode\": \"DOCUMENT_SIZE_EXCEEDED\", \"ErrorMessage\": \"Document size exceeds maximum size limit 10 bytes.\"}\n"
            )
        );
        let p = JsonlFormat::new(JsonStyle::Padded, FileLine::Omit, Mode::MultiLabel, &labels);
        let mut out = Vec::new();
        p.push_prediction(&mut out, &json_string("f"), None, &[0], &[0.25, 0.0]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{ \"File\": \"f\", \"Labels\": [{ \"Name\": \"ham\", \"Score\": 0.25 }] }\n"
        );
    }

    #[test]
    fn page_lines_have_sorted_keys_and_parse() {
        let labels = vec!["ham".to_string(), "spam".to_string()];
        let f = JsonlFormat::new(
            JsonStyle::Compact,
            FileLine::Zero,
            Mode::MultiClass,
            &labels,
        );
        let page = PageInfo {
            number: 2,
            pages: 3,
            characters: 120,
            kind: "SCANNED_PDF",
        };
        let mut out = Vec::new();
        f.push_page(&mut out, &json_string("a.pdf"), &page, &[1, 0], &[0.2, 0.8]);
        f.push_page_error(
            &mut out,
            &json_string("a.pdf"),
            &page,
            "TEXTRACT_BAD_PAGE",
            "bad",
        );
        f.push_document_error(
            &mut out,
            &json_string("b.pdf"),
            "PAGE_LIMIT_EXCEEDED",
            "too many",
        );
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            r#"{"Classes": [{"Name": "spam", "Page": 2, "Score": 0.8}, {"Name": "ham", "Page": 2, "Score": 0.2}], "DocumentMetadata": {"ExtractedCharacters": [{"Count": 120, "Page": 2}], "PageNumber": 2, "Pages": 3}, "DocumentType": [{"Page": 2, "Type": "SCANNED_PDF"}], "File": "a.pdf", "Version": "2023-03-20"}"#
        );
        assert_eq!(
            lines[1],
            r#"{"DocumentMetadata": {"ExtractedCharacters": [{"Count": 120, "Page": 2}], "PageNumber": 2, "Pages": 3}, "DocumentType": [{"Page": 2, "Type": "SCANNED_PDF"}], "Errors": [{"ErrorCode": "TEXTRACT_BAD_PAGE", "ErrorMessage": "bad", "Page": 2}], "File": "a.pdf", "Version": "2023-03-20"}"#
        );
        assert_eq!(
            lines[2],
            r#"{"ErrorCode": "PAGE_LIMIT_EXCEEDED", "ErrorMessage": "too many", "File": "b.pdf"}"#
        );
        // Key order as Python's json.dumps(sort_keys=True) writes it, at every level.
        fn sorted(v: &serde_json::Value) -> bool {
            match v {
                serde_json::Value::Object(m) => {
                    let keys: Vec<&String> = m.keys().collect();
                    keys.windows(2).all(|w| w[0] < w[1]) && m.values().all(sorted)
                }
                serde_json::Value::Array(a) => a.iter().all(sorted),
                _ => true,
            }
        }
        for l in &lines {
            assert!(sorted(&serde_json::from_str(l).unwrap()), "{l}");
        }
        let m = JsonlFormat::new(JsonStyle::Padded, FileLine::Zero, Mode::MultiLabel, &labels);
        let mut out = Vec::new();
        m.push_page(&mut out, &json_string("a.pdf"), &page, &[1], &[0.2, 0.8]);
        let line = String::from_utf8(out).unwrap();
        assert!(
            line.starts_with(r#"{ "DocumentMetadata": { "ExtractedCharacters": [{ "Count": 120"#),
            "{line}"
        );
        assert!(line.contains(r#""File": "a.pdf", "Labels": [{ "Name": "spam", "Page": 2, "Score": 0.8 }], "Version""#), "{line}");
    }

    #[test]
    fn ranking_rules() {
        let mut r = Vec::new();
        rank_into(Mode::MultiClass, &[0.1, 0.4, 0.2, 0.3], &mut r);
        assert_eq!(r, [1, 3, 2]);
        rank_into(Mode::MultiClass, &[0.3, 0.7], &mut r);
        assert_eq!(r, [1, 0]);
        rank_into(Mode::MultiClass, &[0.25, 0.25, 0.25, 0.25], &mut r);
        assert_eq!(r, [0, 1, 2]);
        rank_into(Mode::MultiLabel, &[0.9, 0.8, 0.1, 0.7, 0.6, 0.2], &mut r);
        assert_eq!(r, [0, 1, 3, 4]);
        rank_into(Mode::MultiLabel, &[0.1, 0.2], &mut r);
        assert_eq!(r, [1, 0]);
    }
}
