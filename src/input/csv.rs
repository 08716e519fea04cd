//! Comprehend's training CSV: fields separated by commas, records by LF, CR or CRLF, double-quoted
//! fields may hold commas, quotes (doubled) and line breaks (RFC 4180). The `csv` crate parses;
//! a strict pass over each record's raw bytes refuses what RFC 4180 does not allow and the crate
//! would quietly accept (a quote inside an unquoted field, text after a closing quote, a quote
//! never closed, which would swallow the rest of the file into one document). Works on bytes so
//! errors name the record's line and decoding stays the caller's.

/// One record: its 1-based starting line, the byte offset where it starts, and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRecord {
    pub line: u64,
    pub offset: u64,
    pub fields: Vec<Vec<u8>>,
}

/// A malformed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvError {
    pub line: u64,
    pub message: String,
}

/// Iterates over the records of `data`, skipping blank lines; stops after the first error.
pub struct CsvReader<'a> {
    data: &'a [u8],
    inner: csv::Reader<&'a [u8]>,
    record: csv::ByteRecord,
    failed: bool,
}

impl<'a> CsvReader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        let inner = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(data);
        CsvReader {
            data,
            inner,
            record: csv::ByteRecord::new(),
            failed: false,
        }
    }

    fn fail(
        &mut self,
        line: u64,
        message: impl Into<String>,
    ) -> Option<Result<CsvRecord, CsvError>> {
        self.failed = true;
        Some(Err(CsvError {
            line,
            message: message.into(),
        }))
    }
}

impl Iterator for CsvReader<'_> {
    type Item = Result<CsvRecord, CsvError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.inner.read_byte_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => {
                let pos = self
                    .record
                    .position()
                    .cloned()
                    .unwrap_or_else(csv::Position::new);
                let end = (self.inner.position().byte() as usize).min(self.data.len());
                let raw = &self.data[(pos.byte() as usize).min(end)..end];
                if let Err((line, message)) = check_quoting(raw, pos.line()) {
                    return self.fail(line, message);
                }
                Some(Ok(CsvRecord {
                    line: pos.line(),
                    offset: pos.byte(),
                    fields: self.record.iter().map(<[u8]>::to_vec).collect(),
                }))
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                self.fail(line, e.to_string())
            }
        }
    }
}

/// Where the strict pass is inside a record.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// Just after a quote inside a quoted field: the field ends, or the quote was doubled.
    QuoteInQuoted,
}

/// Checks one record's raw bytes (starting on line `line`) against RFC 4180's quoting rules;
/// on a violation, the line it is on and what to do.
fn check_quoting(raw: &[u8], line: u64) -> Result<(), (u64, String)> {
    let mut state = State::FieldStart;
    let mut at = line;
    for &b in raw {
        state = match (state, b) {
            (State::Quoted, b'"') => State::QuoteInQuoted,
            (State::Quoted, b'\n') => {
                at += 1;
                State::Quoted
            }
            (State::Quoted, _) => State::Quoted,
            (State::QuoteInQuoted, b'"') => State::Quoted,
            (_, b'\n' | b'\r') => return Ok(()),
            (_, b',') => State::FieldStart,
            (State::FieldStart, b'"') => State::Quoted,
            (State::FieldStart | State::Unquoted, _) if b == b'"' => {
                return Err((
                    at,
                    "a quote inside an unquoted field; quote the whole field and double the quote"
                        .into(),
                ))
            }
            (State::FieldStart | State::Unquoted, _) => State::Unquoted,
            (State::QuoteInQuoted, _) => {
                return Err((
                    at,
                    format!(
                        "unexpected {:?} after a closing quote; inside a quoted field write a quote as \"\"",
                        b as char
                    ),
                ))
            }
        };
    }
    if state == State::Quoted {
        return Err((line, "a quoted field is never closed (missing '\"')".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Result<Vec<Vec<String>>, CsvError> {
        CsvReader::new(s.as_bytes())
            .map(|r| {
                r.map(|r| {
                    r.fields
                        .into_iter()
                        .map(|f| String::from_utf8(f).unwrap())
                        .collect()
                })
            })
            .collect()
    }

    #[test]
    fn table() {
        let ok: &[(&str, &[&[&str]])] = &[
            ("", &[]),
            ("a,b", &[&["a", "b"]]),
            ("a,b\n", &[&["a", "b"]]),
            ("a,b\r\nc,d\r\n", &[&["a", "b"], &["c", "d"]]),
            ("a,\"x, y\"\n", &[&["a", "x, y"]]),
            ("a,\"say \"\"hi\"\"\"\n", &[&["a", "say \"hi\""]]),
            (
                "a,\"two\nlines\"\nb,c\n",
                &[&["a", "two\nlines"], &["b", "c"]],
            ),
            ("\n\na,b\n\n", &[&["a", "b"]]),
            ("a,b,c\n", &[&["a", "b", "c"]]),
            ("a,\n", &[&["a", ""]]),
        ];
        for (input, expected) in ok {
            let got = parse(input).unwrap();
            let want: Vec<Vec<String>> = expected
                .iter()
                .map(|r| r.iter().map(|s| s.to_string()).collect())
                .collect();
            assert_eq!(got, want, "input {input:?}");
        }
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("a,b\nc,\"open\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("never closed"));
        let e = parse("a,b\nc,\"x\"y\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse("a,b\nc,d\"e\n").unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn multiline_fields_advance_line_numbers() {
        let recs: Vec<_> = CsvReader::new(b"a,\"1\n2\n3\"\nb,c\n")
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(recs[0].line, 1);
        assert_eq!(recs[1].line, 4);
        assert_eq!(recs[1].offset, 10);
    }

    fn quote(field: &str) -> String {
        if field.contains([',', '"', '\n', '\r']) || field.is_empty() {
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
            let got = parse(&text).unwrap();
            prop_assert_eq!(got, rows);
        }

        // Arbitrary bytes never panic the reader.
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            for rec in CsvReader::new(&bytes) { let _ = rec; }
        }
    }
}
