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
    #[inline(always)]
    fn word<'a>(&self, text: &'a str, start: usize, buf: &'a mut String) -> (&'a str, usize) {
        #[cfg(target_arch = "x86_64")]
        match ascii_word_x86(text.as_bytes(), start, self.lowercase) {
            Some(AsciiWord::Clean(end)) => {
                // SAFETY: `start` and `end` are offsets of ASCII bytes in `text` (or its end), so
                // character boundaries; `get_unchecked` skips re-checking that per word.
                return (unsafe { text.get_unchecked(start..end) }, end);
            }
            Some(AsciiWord::Lowered(lowered, len)) => {
                // SAFETY: the first `len` bytes are ASCII letters and digits; the sixteen-byte
                // copy (one move, no memcpy call) is cut to them before `buf` is used again, so
                // it holds valid UTF-8 whenever it is read.
                unsafe {
                    let bytes = buf.as_mut_vec();
                    bytes.clear();
                    bytes.extend_from_slice(&lowered);
                    bytes.truncate(len);
                }
                return (buf.as_str(), start + len);
            }
            None => {}
        }
        self.word_bytewise(text, start, buf)
    }

    /// `word`, a byte at a time: for words of 16 bytes and more, and words with non-ASCII
    /// letters.
    #[inline(never)]
    fn word_bytewise<'a>(
        &self,
        text: &'a str,
        start: usize,
        buf: &'a mut String,
    ) -> (&'a str, usize) {
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

/// An ASCII word found by `ascii_word_x86`.
#[cfg(target_arch = "x86_64")]
enum AsciiWord {
    /// It needs no lower-casing and ends at this byte offset.
    Clean(usize),
    /// Lower-cased, in the first `len` bytes.
    Lowered([u8; 16], usize),
}

/// The ASCII word starting at `bytes[start]` when it is shorter than 16 bytes and followed by
/// an ASCII byte or the end: sixteen bytes classified at once (SSE2, part of every x86-64)
/// instead of one at a time. `None` leaves the word to the byte-wise path.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn ascii_word_x86(bytes: &[u8], start: usize, lowercase: bool) -> Option<AsciiWord> {
    use super::hash::{tail_le, u64_le};
    use std::arch::x86_64::*;
    let rest = &bytes[start..];
    // The sixteen bytes from `start`, or the text's last bytes padded with zeros (which end a
    // word as the text's end does), loaded without a copy.
    let block = match rest.get(..16) {
        Some(b) => u128::from_le_bytes(b.try_into().unwrap_or([0; 16])),
        None => {
            let n = rest.len();
            let (lo, hi) = match n {
                8.. => (
                    u64_le(&rest[..8]),
                    if n > 8 { tail_le(&rest[8..]) } else { 0 },
                ),
                _ => (tail_le(rest), 0),
            };
            u128::from(lo) | u128::from(hi) << 64
        }
    };
    // SAFETY: SSE2 is part of every x86-64 CPU (the target's baseline); the store writes
    // exactly the 16 bytes of `out`.
    unsafe {
        let v = _mm_set_epi64x((block >> 64) as i64, block as i64);
        // Signed compares: bytes from 0x80 up are negative, so in no range below.
        let within = |lo: u8, hi: u8| {
            _mm_and_si128(
                _mm_cmpgt_epi8(v, _mm_set1_epi8(lo as i8 - 1)),
                _mm_cmplt_epi8(v, _mm_set1_epi8(hi as i8 + 1)),
            )
        };
        let upper = within(b'A', b'Z');
        let alnum = _mm_or_si128(_mm_or_si128(within(b'a', b'z'), within(b'0', b'9')), upper);
        let len = (!(_mm_movemask_epi8(alnum) as u32)).trailing_zeros() as usize;
        // A word of 16 bytes or more, or one that may go on with a non-ASCII letter.
        if len == 16 || (block >> (8 * len)) as u8 >= 0x80 {
            return None;
        }
        let upper_bits = _mm_movemask_epi8(upper) as u32 & ((1 << len) - 1);
        if !lowercase || upper_bits == 0 {
            return Some(AsciiWord::Clean(start + len));
        }
        let lowered = _mm_or_si128(v, _mm_and_si128(upper, _mm_set1_epi8(0x20)));
        let mut out = [0u8; 16];
        _mm_storeu_si128(out.as_mut_ptr().cast(), lowered);
        Some(AsciiWord::Lowered(out, len))
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

        /// Mostly ASCII words of every length around 16 bytes, at every distance from the end of
        /// the text, some going on with a non-ASCII letter: the sixteen-byte path's edges.
        #[test]
        fn ascii_words_of_every_length_match_the_reference(
            text in "([A-Za-z0-9]{0,20}(é|ẞ|\u{130}|\u{0}|\u{80}|[ ,.!£])?){0,8}",
            lowercase: bool,
        ) {
            let tok = Tokenizer { lowercase, symbols: true };
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
