//! A strict RFC 4180 reader for Comprehend's training CSV: fields separated by commas, records by
//! LF or CRLF, double-quoted fields may hold commas, quotes (doubled) and line breaks. Works on
//! bytes so errors can name the record's line and the byte offset; decoding is the caller's.

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

/// Iterates over the records of `data`, skipping blank lines.
pub struct CsvReader<'a> {
    data: &'a [u8],
    pos: usize,
    line: u64,
}

impl<'a> CsvReader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        CsvReader {
            data,
            pos: 0,
            line: 1,
        }
    }

    fn at_line_end(&self) -> Option<usize> {
        match self.data.get(self.pos) {
            Some(b'\n') => Some(1),
            Some(b'\r') if self.data.get(self.pos + 1) == Some(&b'\n') => Some(2),
            Some(b'\r') => Some(1),
            _ => None,
        }
    }

    fn record(&mut self) -> Result<CsvRecord, CsvError> {
        let start_line = self.line;
        let offset = self.pos as u64;
        let mut fields = Vec::new();
        loop {
            let mut field = Vec::new();
            if self.data.get(self.pos) == Some(&b'"') {
                self.pos += 1;
                loop {
                    match self.data.get(self.pos) {
                        None => {
                            return Err(CsvError {
                                line: start_line,
                                message: "a quoted field is never closed (missing '\"')".into(),
                            })
                        }
                        Some(b'"') if self.data.get(self.pos + 1) == Some(&b'"') => {
                            field.push(b'"');
                            self.pos += 2;
                        }
                        Some(b'"') => {
                            self.pos += 1;
                            break;
                        }
                        Some(&b) => {
                            if b == b'\n' {
                                self.line += 1;
                            }
                            field.push(b);
                            self.pos += 1;
                        }
                    }
                }
                match self.data.get(self.pos) {
                    None | Some(b',') => {}
                    Some(_) if self.at_line_end().is_some() => {}
                    Some(&b) => {
                        return Err(CsvError {
                            line: self.line,
                            message: format!(
                                "unexpected {:?} after a closing quote; inside a quoted field write a quote as \"\"",
                                b as char
                            ),
                        })
                    }
                }
            } else {
                while let Some(&b) = self.data.get(self.pos) {
                    if b == b',' || self.at_line_end().is_some() {
                        break;
                    }
                    if b == b'"' {
                        return Err(CsvError {
                            line: self.line,
                            message: "a quote inside an unquoted field; quote the whole field and double the quote".into(),
                        });
                    }
                    field.push(b);
                    self.pos += 1;
                }
            }
            fields.push(field);
            match self.data.get(self.pos) {
                Some(b',') => self.pos += 1,
                _ => {
                    if let Some(n) = self.at_line_end() {
                        self.pos += n;
                        self.line += 1;
                    }
                    return Ok(CsvRecord {
                        line: start_line,
                        offset,
                        fields,
                    });
                }
            }
        }
    }
}

impl Iterator for CsvReader<'_> {
    type Item = Result<CsvRecord, CsvError>;

    fn next(&mut self) -> Option<Self::Item> {
        while let Some(n) = self.at_line_end() {
            self.pos += n;
            self.line += 1;
        }
        if self.pos >= self.data.len() {
            return None;
        }
        let rec = self.record();
        if rec.is_err() {
            self.pos = self.data.len();
        }
        Some(rec)
    }
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
