//! Word documents (DOCX): the zip's `word/document.xml`, streamed with quick-xml. Paragraphs
//! (`w:p`) are lines of their runs' text (`w:t`, tabs, line breaks); table rows (`w:tr`) are one
//! line each with their cells (`w:tc`) joined by ` | `, in document order. DOCX has no pages of
//! its own: a page ends at an explicit page break (`w:br w:type="page"`), at a page break Word
//! recorded when it last laid the document out (`w:lastRenderedPageBreak`), and at a section
//! that starts on a new page. Files written by programs rather than by Word carry no layout
//! breaks, so a page is also ended when its text fills a printed page (`PAGE_CHARACTERS`), at a
//! paragraph's end (a paragraph longer than a page at a space): a long report is read as the
//! pages a reader sees, as its PDF would be, instead of one page over the character limit. The
//! XML is read through a byte limit, so a zip bomb stops there.

use std::io::Read;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader as XmlReader;

use super::DOCUMENT_SIZE_EXCEEDED;
use super::{DocumentType, Failure, Limits, Page, Paged, Reader, INVALID_DOCUMENT};

const BODY: &str = "word/document.xml";
/// Characters of a printed page: a Letter or A4 page of 11-point text with one-inch margins holds
/// about 500 words, some 3,000 characters (a third of Comprehend's 10,000 a page).
pub const PAGE_CHARACTERS: usize = 3_000;

/// Whether a zip holds a Word document body.
pub fn is_word(bytes: &[u8]) -> bool {
    zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map(|z| z.index_for_name(BODY).is_some())
        .unwrap_or(false)
}

pub struct DocxDocument {
    pages: Vec<String>,
}

pub fn open(bytes: &[u8], limits: &Limits) -> Result<Box<dyn Paged>, Failure> {
    let damaged = |why: String| {
        Failure::new(
            INVALID_DOCUMENT,
            format!("The Word document cannot be read: {why}."),
        )
    };
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| damaged(format!("not a valid zip archive ({e})")))?;
    let entry = zip
        .by_name(BODY)
        .map_err(|_| damaged(format!("it has no {BODY}")))?;
    let mut xml = Vec::new();
    let limit = limits.max_docx_xml_bytes;
    entry
        .take(limit + 1)
        .read_to_end(&mut xml)
        .map_err(|e| damaged(format!("{BODY} does not decompress ({e})")))?;
    if xml.len() as u64 > limit {
        return Err(Failure::new(
            DOCUMENT_SIZE_EXCEEDED,
            format!("The Word document's text expands to more than {limit} bytes."),
        ));
    }
    let pages = pages_of(&xml).map_err(damaged)?;
    Ok(Box::new(DocxDocument { pages }))
}

impl Paged for DocxDocument {
    fn page_count(&self) -> u32 {
        self.pages.len() as u32
    }

    fn page(&self, number: u32, reader: &Reader) -> Page {
        let text = self.pages[number as usize - 1].clone();
        reader.finish(number, DocumentType::MsWord, text)
    }
}

/// Where the walk through the XML is.
#[derive(Default)]
struct Walk {
    pages: Vec<String>,
    page: String,
    /// The paragraph being read.
    para: String,
    /// Cells of the table row being read (innermost table).
    row: Vec<String>,
    /// Depth of tables and of cells, to know where a paragraph's text goes.
    cell_depth: usize,
    in_text: bool,
    /// A page break seen inside the paragraph; the page ends after it.
    break_after: bool,
}

impl Walk {
    fn end_paragraph(&mut self) {
        let text = std::mem::take(&mut self.para);
        if self.cell_depth > 0 {
            if let Some(cell) = self.row.last_mut() {
                if !cell.is_empty() && !text.is_empty() {
                    cell.push(' ');
                }
                cell.push_str(text.trim());
            }
        } else if !text.trim().is_empty() {
            self.page.push_str(text.trim_end());
            self.page.push('\n');
        }
        if self.break_after {
            self.break_after = false;
            self.new_page();
        }
    }

    fn end_row(&mut self) {
        let cells = std::mem::take(&mut self.row);
        if cells.iter().any(|c| !c.is_empty()) {
            self.page.push_str(&cells.join(" | "));
            self.page.push('\n');
        }
    }

    fn new_page(&mut self) {
        let page = std::mem::take(&mut self.page);
        self.pages.push(page);
    }
}

fn local(e: &BytesStart) -> Vec<u8> {
    e.local_name().as_ref().to_vec()
}

fn is_page_break(e: &BytesStart) -> bool {
    e.attributes()
        .flatten()
        .any(|a| a.key.local_name().as_ref() == b"type" && a.value.as_ref() == b"page")
}

/// The text of each page, in document order.
fn pages_of(xml: &[u8]) -> Result<Vec<String>, String> {
    let mut reader = XmlReader::from_reader(xml);
    let mut walk = Walk::default();
    let mut buf = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("{BODY} is not well-formed XML ({e})"))?;
        match event {
            Event::Start(e) => match local(&e).as_slice() {
                b"t" => walk.in_text = true,
                b"tc" => {
                    walk.cell_depth += 1;
                    walk.row.push(String::new());
                }
                b"tr" => walk.row.clear(),
                _ => {}
            },
            Event::Empty(e) => match local(&e).as_slice() {
                b"tab" => walk.para.push('\t'),
                b"br" | b"cr" if is_page_break(&e) => walk.break_after = true,
                b"br" | b"cr" => walk.para.push(' '),
                b"lastRenderedPageBreak" if !walk.page.is_empty() || !walk.para.is_empty() => {
                    // Word's own layout put a page break here: end the page before this
                    // paragraph's text that follows it.
                    let before = std::mem::take(&mut walk.para);
                    if !before.trim().is_empty() {
                        walk.page.push_str(before.trim_end());
                        walk.page.push('\n');
                    }
                    walk.new_page();
                }
                _ => {}
            },
            Event::Text(t) if walk.in_text => {
                let text = t
                    .decode()
                    .map_err(|e| format!("{BODY} is not UTF-8 ({e})"))?;
                walk.para.push_str(&text);
            }
            Event::GeneralRef(r) if walk.in_text => {
                let bad = || format!("{BODY} has a bad character reference");
                match r.resolve_char_ref().map_err(|_| bad())? {
                    Some(c) => walk.para.push(c),
                    None => {
                        let name = r.decode().map_err(|_| bad())?;
                        let c = quick_xml::escape::resolve_xml_entity(&name).ok_or_else(bad)?;
                        walk.para.push_str(c);
                    }
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                b"t" => walk.in_text = false,
                b"p" => walk.end_paragraph(),
                b"tc" => walk.cell_depth = walk.cell_depth.saturating_sub(1),
                b"tr" => walk.end_row(),
                b"sectPr" if walk.cell_depth == 0 => walk.break_after = true,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !walk.para.is_empty() {
        walk.end_paragraph();
    }
    if !walk.page.trim().is_empty() || walk.pages.is_empty() {
        walk.new_page();
    }
    // A section or page break at the very end leaves an empty last page: not a page.
    while walk.pages.len() > 1 && walk.pages.last().is_some_and(|p| p.trim().is_empty()) {
        walk.pages.pop();
    }
    Ok(walk
        .pages
        .into_iter()
        .flat_map(|p| fill_pages(&p, PAGE_CHARACTERS))
        .collect())
}

/// Cuts `text` into pages of at most `budget` characters: whole lines while they fit, a line
/// longer than a page at the last space before the budget (or at the budget, with none).
fn fill_pages(text: &str, budget: usize) -> Vec<String> {
    if text.chars().count() <= budget {
        return vec![text.to_string()];
    }
    let mut pages = Vec::new();
    let mut page = String::new();
    let mut used = 0;
    for line in text.split_inclusive('\n') {
        let mut rest = line;
        loop {
            let len = rest.chars().count();
            if used + len <= budget {
                page.push_str(rest);
                used += len;
                break;
            }
            if used > 0 {
                pages.push(std::mem::take(&mut page));
                used = 0;
                continue;
            }
            // A line longer than a page: cut it at its last space within the budget.
            let end = rest
                .char_indices()
                .nth(budget)
                .map_or(rest.len(), |(i, _)| i);
            let cut = rest[..end]
                .rfind(char::is_whitespace)
                .filter(|&i| i > 0)
                .map_or(end, |i| i + 1);
            let (head, tail) = rest.split_at(cut);
            pages.push(format!("{}\n", head.trim_end()));
            rest = tail;
            if rest.is_empty() {
                break;
            }
        }
    }
    if !page.trim().is_empty() {
        pages.push(page);
    }
    pages
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<?xml version="1.0"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
<w:p><w:r><w:t>Dear</w:t></w:r><w:r><w:t xml:space="preserve"> mum &amp; dad,</w:t></w:r></w:p>
<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Name</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Ann</w:t></w:r></w:p></w:tc></w:tr>
<w:tr><w:tc><w:p><w:r><w:t>Total</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>42</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
<w:p><w:r><w:t>a</w:t><w:tab/><w:t>b</w:t><w:br w:type="page"/></w:r></w:p>
<w:p><w:r><w:t>second page</w:t></w:r></w:p>
<w:sectPr/></w:body></w:document>"#;

    #[test]
    fn paragraphs_tables_and_pages_in_order() {
        let pages = pages_of(XML.as_bytes()).unwrap();
        assert_eq!(
            pages,
            vec![
                "Dear mum & dad,\nName | Ann\nTotal | 42\na\tb\n".to_string(),
                "second page\n".to_string()
            ]
        );
    }

    #[test]
    fn a_long_page_is_cut_where_a_reader_would_turn_it() {
        let para = "word ".repeat(100); // 500 characters a paragraph
        let text: String = (0..20).map(|_| format!("{}\n", para.trim_end())).collect();
        let pages = fill_pages(&text, 3_000);
        // Six 499-character paragraphs (and their line ends) fit a page: 20 make four pages.
        assert_eq!(pages.len(), 4);
        assert!(pages.iter().all(|p| p.chars().count() <= 3_000));
        assert_eq!(pages.concat(), text);
        // One paragraph longer than a page is cut at spaces, nothing lost.
        let long = format!("{}\n", "abcdefghi ".repeat(700).trim_end());
        let pages = fill_pages(&long, 3_000);
        assert_eq!(pages.len(), 3);
        assert!(pages
            .iter()
            .all(|p| p.chars().count() <= 3_000 && !p.starts_with(' ')));
        let words: Vec<&str> = pages.iter().flat_map(|p| p.split_whitespace()).collect();
        assert_eq!(words.len(), 700);
        // A page that fits stays as it is.
        assert_eq!(fill_pages("short\n", 3_000), vec!["short\n".to_string()]);
    }

    #[test]
    fn broken_xml_is_refused() {
        assert!(pages_of(b"<w:document><w:body><w:p>").is_ok());
        assert!(pages_of(b"<w:document></w:body>").is_err());
    }
}
