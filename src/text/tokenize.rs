//! Tokenizer: lower-cases text and cuts it into word tokens (maximal runs of Unicode letters and
//! digits) and, optionally, single-character symbol tokens (`$`, `£`, `!`, ...), which carry much of
//! the signal in spam. Works over `&str` with a caller-owned buffer, so it allocates nothing per
//! document once the buffer has grown.

/// One token, borrowed from the tokenizer's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token<'a> {
    /// A run of letters and digits, lower-cased when the tokenizer lower-cases.
    Word(&'a str),
    /// One character that is neither alphanumeric nor white space (nor a byte-order mark).
    Symbol(&'a str),
}

/// Settings for cutting text into tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tokenizer {
    pub lowercase: bool,
    pub symbols: bool,
}

impl Tokenizer {
    /// Calls `emit` for every token of `text`, in order. `buf` is scratch space reused across calls.
    pub fn for_each_token<F: FnMut(Token<'_>)>(&self, text: &str, buf: &mut String, mut emit: F) {
        buf.clear();
        let mut chars = text.char_indices().peekable();
        while let Some((_, c)) = chars.next() {
            if c.is_alphanumeric() {
                buf.clear();
                self.push_char(buf, c);
                while let Some(&(_, next)) = chars.peek() {
                    if !next.is_alphanumeric() {
                        break;
                    }
                    self.push_char(buf, next);
                    chars.next();
                }
                emit(Token::Word(buf));
            } else if self.symbols && !c.is_whitespace() && c != '\u{feff}' && !c.is_control() {
                let mut tmp = [0u8; 4];
                emit(Token::Symbol(c.encode_utf8(&mut tmp)));
            }
        }
    }

    #[inline]
    fn push_char(&self, buf: &mut String, c: char) {
        if !self.lowercase {
            buf.push(c);
        } else if c.is_ascii() {
            buf.push(c.to_ascii_lowercase());
        } else {
            buf.extend(c.to_lowercase());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(tok: Tokenizer, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut buf = String::new();
        tok.for_each_token(text, &mut buf, |t| match t {
            Token::Word(w) => out.push(w.to_string()),
            Token::Symbol(s) => out.push(format!("sym:{s}")),
        });
        out
    }

    #[test]
    fn table() {
        let both = Tokenizer {
            lowercase: true,
            symbols: true,
        };
        let words = Tokenizer {
            lowercase: true,
            symbols: false,
        };
        let cases: &[(Tokenizer, &str, &[&str])] = &[
            (both, "", &[]),
            (both, "   \t\r\n", &[]),
            (words, "Hello, World!", &["hello", "world"]),
            (both, "Hello, World!", &["hello", "sym:,", "world", "sym:!"]),
            (
                both,
                "WIN £1000 now!!",
                &["win", "sym:£", "1000", "now", "sym:!", "sym:!"],
            ),
            (words, "ÉCOLE straße", &["école", "straße"]),
            (words, "\u{feff}bom", &["bom"]),
            (both, "\u{feff}bom\u{0}x", &["bom", "x"]),
            (
                Tokenizer {
                    lowercase: false,
                    symbols: false,
                },
                "MiXeD case",
                &["MiXeD", "case"],
            ),
            (words, "don't", &["don", "t"]),
        ];
        for (tok, text, expected) in cases {
            assert_eq!(tokens(*tok, text), *expected, "input {text:?}");
        }
    }
}
