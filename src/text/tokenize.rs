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
    ///
    /// ASCII, nearly all of most input, takes a byte-wise path: a word that needs no lower-casing
    /// is passed straight from `text`, without a copy; other words are built in `buf`.
    #[inline]
    pub fn for_each_token<F: FnMut(Token<'_>)>(&self, text: &str, buf: &mut String, mut emit: F) {
        let mut i = 0;
        while i < text.len() {
            // One call site for `emit`, so the compiler inlines it (hashing runs in it).
            let (token, next) = self.token_at(text, i, buf);
            i = next;
            if let Some(token) = token {
                emit(token);
            }
        }
    }

    /// The token starting at byte `i` (a character boundary), if one does, and where the next
    /// one may start.
    #[inline(always)]
    fn token_at<'a>(
        &self,
        text: &'a str,
        i: usize,
        buf: &'a mut String,
    ) -> (Option<Token<'a>>, usize) {
        let b = text.as_bytes()[i];
        if b < 0x80 {
            if b.is_ascii_alphanumeric() {
                let (word, end) = self.word(text, i, buf);
                return (Some(Token::Word(word)), end);
            }
            // Space and control characters (ASCII's white space is all among them) separate
            // tokens; anything else printable is a symbol.
            let symbol = self.symbols && b > b' ' && b != 0x7f;
            return (symbol.then(|| Token::Symbol(&text[i..i + 1])), i + 1);
        }
        let c = char_at(text, i);
        if c.is_alphanumeric() {
            let (word, end) = self.word(text, i, buf);
            return (Some(Token::Word(word)), end);
        }
        let end = i + c.len_utf8();
        let symbol = self.symbols && !c.is_whitespace() && c != '\u{feff}' && !c.is_control();
        (symbol.then(|| Token::Symbol(&text[i..end])), end)
    }

    /// The word (maximal run of alphanumeric characters) starting at byte `start`, from `text`
    /// itself when it needs no lower-casing and from `buf` otherwise, and the byte offset after
    /// it.
    #[inline]
    fn word<'a>(&self, text: &'a str, start: usize, buf: &'a mut String) -> (&'a str, usize) {
        let bytes = text.as_bytes();
        let mut i = start;
        // The common case: ASCII letters and digits that lower-casing leaves as they are.
        while i < bytes.len() {
            let b = bytes[i];
            if b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || (!self.lowercase && b.is_ascii_uppercase())
            {
                i += 1;
            } else {
                break;
            }
        }
        let clean_end = i;
        let continues = i < bytes.len()
            && (bytes[i].is_ascii_alphanumeric()
                || (bytes[i] >= 0x80 && char_at(text, i).is_alphanumeric()));
        if !continues {
            return (&text[start..clean_end], clean_end);
        }
        buf.clear();
        buf.push_str(&text[start..clean_end]);
        while i < bytes.len() {
            let b = bytes[i];
            if b < 0x80 {
                if !b.is_ascii_alphanumeric() {
                    break;
                }
                buf.push(if self.lowercase {
                    b.to_ascii_lowercase()
                } else {
                    b
                } as char);
                i += 1;
            } else {
                let c = char_at(text, i);
                if !c.is_alphanumeric() {
                    break;
                }
                if self.lowercase {
                    buf.extend(c.to_lowercase());
                } else {
                    buf.push(c);
                }
                i += c.len_utf8();
            }
        }
        (buf.as_str(), i)
    }
}

/// The character starting at byte `i` (a character boundary) of `text`.
#[inline]
fn char_at(text: &str, i: usize) -> char {
    text[i..].chars().next().expect("a character starts here")
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

    /// The straightforward tokenizer: char by char, every word copied and lower-cased.
    fn reference(tok: Tokenizer, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c.is_alphanumeric() {
                let mut w = String::new();
                let mut push = |c: char| {
                    if tok.lowercase {
                        w.extend(c.to_lowercase())
                    } else {
                        w.push(c)
                    }
                };
                push(c);
                while let Some(&n) = chars.peek() {
                    if !n.is_alphanumeric() {
                        break;
                    }
                    push(n);
                    chars.next();
                }
                out.push(w);
            } else if tok.symbols && !c.is_whitespace() && c != '\u{feff}' && !c.is_control() {
                out.push(format!("sym:{c}"));
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn byte_wise_path_matches_the_reference(
            text in "(\\PC|[ \t\r\n\u{0}-\u{1f}\u{7f}\u{feff}\u{130}A-Za-z0-9!£$])*",
            lowercase: bool,
            symbols: bool,
        ) {
            let tok = Tokenizer { lowercase, symbols };
            proptest::prop_assert_eq!(tokens(tok, &text), reference(tok, &text));
        }
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
