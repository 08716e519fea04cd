//! Comprehend's training CSV, read the way pandas' `read_csv` (and Python's `csv` module) read
//! it, since what pandas parses is what users expect to train on: fields separated by commas,
//! records by LF, CR or CRLF; a field that starts with a double quote is quoted and may hold
//! commas, line breaks and doubled quotes; a quote inside an unquoted field is just text, and text
//! after a quoted field's closing quote is appended to it (`"quoted" then text` reads as
//! `quoted then text`). A UTF-8 byte-order mark is skipped, and blank lines (or lines of spaces)
//! are not records. The one thing no reader can make sense of, a quote never closed (which would
//! swallow the rest of the file into one field), is an error naming the line it opened on.
//!
//! Works on bytes, so errors name the record's line and decoding stays the caller's; fields that
//! need no unescaping are borrowed from the input.

use std::borrow::Cow;

/// One record: its 1-based starting line, the byte offset where it starts, and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRecord<'a> {
    pub line: u64,
    pub offset: u64,
    pub fields: Vec<Cow<'a, [u8]>>,
}

/// A record that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvError {
    pub line: u64,
    pub message: String,
}

/// Iterates over the records of `data`; stops after the first error.
pub struct CsvReader<'a> {
    data: &'a [u8],
    at: usize,
    /// Line number (1-based) of the byte at `at`.
    line: u64,
    failed: bool,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl<'a> CsvReader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        let at = if data.starts_with(BOM) { BOM.len() } else { 0 };
        CsvReader {
            data,
            at,
            line: 1,
            failed: false,
        }
    }

    /// Steps over one line end at `at` (LF, CR or CRLF), if there is one.
    fn skip_line_end(&mut self) {
        match self.data.get(self.at) {
            Some(b'\n') => self.at += 1,
            Some(b'\r') => {
                self.at += 1;
                if self.data.get(self.at) == Some(&b'\n') {
                    self.at += 1;
                }
            }
            _ => return,
        }
        self.line += 1;
    }

    /// Skips blank lines and lines of spaces and tabs; false at the end of the data.
    fn skip_blank_lines(&mut self) -> bool {
        loop {
            let rest = &self.data[self.at..];
            let blank = rest
                .iter()
                .position(|&b| b != b' ' && b != b'\t')
                .unwrap_or(rest.len());
            match rest.get(blank) {
                None => {
                    self.at = self.data.len();
                    return false;
                }
                Some(b'\n' | b'\r') => {
                    self.at += blank;
                    self.skip_line_end();
                }
                Some(_) => return true,
            }
        }
    }

    /// Reads one field starting at `at`; leaves `at` on the comma, line end or end of data
    /// that ends it.
    fn field(&mut self) -> Result<Cow<'a, [u8]>, CsvError> {
        let data = self.data;
        if data.get(self.at) != Some(&b'"') {
            let start = self.at;
            let len =
                memchr::memchr3(b',', b'\n', b'\r', &data[start..]).unwrap_or(data.len() - start);
            self.at = start + len;
            return Ok(Cow::Borrowed(&data[start..start + len]));
        }
        let opened = self.line;
        self.at += 1;
        let start = self.at;
        let mut owned: Option<Vec<u8>> = None;
        loop {
            let Some(q) = memchr::memchr(b'"', &data[self.at..]) else {
                return Err(CsvError {
                    line: opened,
                    message: "a quoted field is never closed (a '\"' opens it and none closes it); close the quote, or double the quotes inside the field".into(),
                });
            };
            let chunk = &data[self.at..self.at + q];
            self.line += count_line_ends(chunk, data.get(self.at + q + 1).copied());
            if let Some(o) = owned.as_mut() {
                o.extend_from_slice(chunk);
            }
            self.at += q + 1;
            if data.get(self.at) == Some(&b'"') {
                // A doubled quote: one quote of text.
                let o = owned.get_or_insert_with(|| data[start..self.at - 1].to_vec());
                o.push(b'"');
                self.at += 1;
                continue;
            }
            break;
        }
        let inner_end = self.at - 1;
        // Text after the closing quote belongs to the same field, as pandas and Python read it.
        let tail_len =
            memchr::memchr3(b',', b'\n', b'\r', &data[self.at..]).unwrap_or(data.len() - self.at);
        if tail_len == 0 {
            return Ok(match owned {
                Some(o) => Cow::Owned(o),
                None => Cow::Borrowed(&data[start..inner_end]),
            });
        }
        let mut o = owned.unwrap_or_else(|| data[start..inner_end].to_vec());
        o.extend_from_slice(&data[self.at..self.at + tail_len]);
        self.at += tail_len;
        Ok(Cow::Owned(o))
    }
}

/// Line ends in `chunk`, a CR counted only when no LF follows it (`after` is the byte after the
/// chunk).
fn count_line_ends(chunk: &[u8], after: Option<u8>) -> u64 {
    let lf = memchr::memchr_iter(b'\n', chunk).count() as u64;
    let lone_cr = memchr::memchr_iter(b'\r', chunk)
        .filter(|&i| chunk.get(i + 1).copied().or(after) != Some(b'\n'))
        .count() as u64;
    lf + lone_cr
}

impl<'a> Iterator for CsvReader<'a> {
    type Item = Result<CsvRecord<'a>, CsvError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || !self.skip_blank_lines() {
            return None;
        }
        let (line, offset) = (self.line, self.at as u64);
        let mut fields = Vec::with_capacity(2);
        loop {
            match self.field() {
                Ok(f) => fields.push(f),
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
            if self.data.get(self.at) == Some(&b',') {
                self.at += 1;
                continue;
            }
            self.skip_line_end();
            break;
        }
        Some(Ok(CsvRecord {
            line,
            offset,
            fields,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &[u8]) -> Result<Vec<Vec<String>>, CsvError> {
        CsvReader::new(s)
            .map(|r| {
                r.map(|r| {
                    r.fields
                        .into_iter()
                        .map(|f| String::from_utf8(f.into_owned()).unwrap())
                        .collect()
                })
            })
            .collect()
    }

    #[test]
    fn table() {
        // Each row as Python's csv module and pandas read it.
        let ok: &[(&str, &[&[&str]])] = &[
            ("", &[]),
            ("a,b", &[&["a", "b"]]),
            ("a,b\n", &[&["a", "b"]]),
            ("a,b\r\nc,d\r\n", &[&["a", "b"], &["c", "d"]]),
            ("a,b\rc,d", &[&["a", "b"], &["c", "d"]]),
            ("a,\"x, y\"\n", &[&["a", "x, y"]]),
            ("a,\"say \"\"hi\"\"\"\n", &[&["a", "say \"hi\""]]),
            (
                "a,\"two\nlines\"\nb,c\n",
                &[&["a", "two\nlines"], &["b", "c"]],
            ),
            ("\n\na,b\n\n", &[&["a", "b"]]),
            ("a,b\n   \n\t\nc,d\n", &[&["a", "b"], &["c", "d"]]),
            ("a,b,c\n", &[&["a", "b", "c"]]),
            ("a,\n", &[&["a", ""]]),
            ("a\n", &[&["a"]]),
            // Stray quotes inside unquoted text are text (AWS's own example writes them).
            (
                "alpha,sell the \"Darwin fish\". now\n",
                &[&["alpha", "sell the \"Darwin fish\". now"]],
            ),
            ("a,x\"\n", &[&["a", "x\""]]),
            // Text after a closing quote joins the field.
            (
                "alpha,\"quoted\" then text\n",
                &[&["alpha", "quoted then text"]],
            ),
            ("a,\"x\"\"y\"z,b\n", &[&["a", "x\"yz", "b"]]),
            // A space before a quote makes the field unquoted.
            ("a, \"x\"\n", &[&["a", " \"x\""]]),
            ("\u{feff}a,b\n", &[&["a", "b"]]),
            ("a,\"\"\n", &[&["a", ""]]),
        ];
        for (input, expected) in ok {
            let got = parse(input.as_bytes()).unwrap();
            let want: Vec<Vec<String>> = expected
                .iter()
                .map(|r| r.iter().map(|s| s.to_string()).collect())
                .collect();
            assert_eq!(got, want, "input {input:?}");
        }
    }

    #[test]
    fn an_unclosed_quote_names_the_line_it_opened_on() {
        let e = parse(b"a,b\nc,\"open\nmore\nlines\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("never closed"), "{}", e.message);
    }

    #[test]
    fn line_numbers_count_breaks_inside_quoted_fields() {
        let recs: Vec<_> = CsvReader::new(b"a,\"1\n2\r\n3\r4\"\n\nb,c\n")
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(recs[0].line, 1);
        assert_eq!(recs[1].line, 6);
        assert_eq!(recs[1].offset, 14);
    }

    fn quote(field: &str) -> String {
        if field.contains([',', '"', '\n', '\r']) || field.is_empty() || field.trim().is_empty() {
            format!("\"{}\"", field.replace('"', "\"\""))
        } else {
            field.to_string()
        }
    }

    proptest! {
        // Whatever the fields hold, writing them with RFC 4180 quoting and reading them back
        // gives the same records.
        #[test]
        fn round_trips(rows in proptest::collection::vec(
            proptest::collection::vec("[a-z ,\"\n\r|é]{0,12}", 2..3), 1..20)) {
            let text: String = rows.iter()
                .map(|r| r.iter().map(|f| quote(f)).collect::<Vec<_>>().join(",") + "\n")
                .collect();
            let got = parse(text.as_bytes()).unwrap();
            prop_assert_eq!(got, rows);
        }

        // Unquoted text with stray quotes (as AWS's example writes it) reads back unchanged.
        #[test]
        fn stray_quotes_are_text(rows in proptest::collection::vec(
            ("[a-z]{1,5}", "[a-z\"' .;]{1,30}"), 1..20)) {
            let text: String = rows.iter()
                .filter(|(_, t)| !t.starts_with('"') && !t.trim().is_empty())
                .map(|(l, t)| format!("{l},{t}\n"))
                .collect();
            let want: Vec<Vec<String>> = rows.iter()
                .filter(|(_, t)| !t.starts_with('"') && !t.trim().is_empty())
                .map(|(l, t)| vec![l.clone(), t.clone()])
                .collect();
            prop_assert_eq!(parse(text.as_bytes()).unwrap(), want);
        }

        // Arbitrary bytes never panic the reader.
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            for rec in CsvReader::new(&bytes) { let _ = rec; }
        }
    }
}
