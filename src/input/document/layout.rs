//! Reading order: positioned glyphs of a page (from a PDF's text layer) into lines of text in the
//! order a person reads them. Glyphs on one baseline form rows; a row splits into segments at
//! gaps wider than a gutter; segments are ordered by recursive XY cuts (a vertical cut through
//! an empty gutter separates columns, read left then right; otherwise a horizontal cut separates
//! blocks, read top then bottom), so two-column pages read column by column and single-column
//! pages line by line. Spaces are inserted where glyphs stand apart, ligatures are spelled out.

/// One glyph in page space (y grows downward), with its Unicode text.
#[derive(Debug, Clone, PartialEq)]
pub struct Glyph {
    pub x: f64,
    /// Baseline.
    pub y: f64,
    /// Font size in page units.
    pub size: f64,
    /// Advance width in page units.
    pub advance: f64,
    pub text: String,
}

/// Consecutive glyphs of one row with no gutter between them.
#[derive(Debug, Clone)]
struct Segment {
    x0: f64,
    x1: f64,
    y: f64,
    size: f64,
    text: String,
}

/// A gap wider than this many font sizes splits a row into segments (a column gutter).
const GUTTER: f64 = 2.0;
/// Glyphs further apart than this many font sizes are separate words.
const WORD_GAP: f64 = 0.18;
/// Baselines closer than this many font sizes are one row.
const SAME_ROW: f64 = 0.4;

/// The page's text in reading order, one line per segment.
pub fn text_of(mut glyphs: Vec<Glyph>) -> String {
    glyphs.retain(|g| g.x.is_finite() && g.y.is_finite() && g.size.is_finite());
    if glyphs.is_empty() {
        return String::new();
    }
    let segments = segments(glyphs);
    let mut order = Vec::with_capacity(segments.len());
    xy_cut(&segments, (0..segments.len()).collect(), &mut order);
    let mut out = String::new();
    for i in order {
        let text = segments[i].text.trim();
        if !text.is_empty() {
            out.push_str(text);
            out.push('\n');
        }
    }
    out
}

/// Rows of glyphs, cut into segments at gutters.
fn segments(mut glyphs: Vec<Glyph>) -> Vec<Segment> {
    glyphs.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x.total_cmp(&b.x)));
    let mut rows: Vec<Vec<Glyph>> = Vec::new();
    for g in glyphs {
        match rows.last_mut() {
            Some(row) if (g.y - row[0].y).abs() <= SAME_ROW * row[0].size.max(g.size) => {
                row.push(g)
            }
            _ => rows.push(vec![g]),
        }
    }
    let mut out = Vec::new();
    for mut row in rows {
        row.sort_by(|a, b| a.x.total_cmp(&b.x));
        let mut seg: Option<Segment> = None;
        for g in row {
            let size = g.size.max(1e-3);
            match &mut seg {
                Some(s) if g.x - s.x1 <= GUTTER * size => {
                    let ends_in_space = s.text.ends_with(' ');
                    if g.x - s.x1 > WORD_GAP * size && !ends_in_space && g.text != " " {
                        s.text.push(' ');
                    }
                    push_spelled(&mut s.text, &g.text);
                    s.x1 = s.x1.max(g.x + g.advance);
                    s.size = s.size.max(size);
                }
                _ => {
                    if let Some(s) = seg.take() {
                        out.push(s);
                    }
                    let mut text = String::new();
                    push_spelled(&mut text, &g.text);
                    seg = Some(Segment {
                        x0: g.x,
                        x1: g.x + g.advance,
                        y: g.y,
                        size,
                        text,
                    });
                }
            }
        }
        out.extend(seg);
    }
    out
}

/// Appends a glyph's text, spelling out typographic ligatures (ﬁ → fi).
fn push_spelled(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\u{fb00}' => out.push_str("ff"),
            '\u{fb01}' => out.push_str("fi"),
            '\u{fb02}' => out.push_str("fl"),
            '\u{fb03}' => out.push_str("ffi"),
            '\u{fb04}' => out.push_str("ffl"),
            '\u{fb05}' | '\u{fb06}' => out.push_str("st"),
            '\0' => {}
            c => out.push(c),
        }
    }
}

/// Orders the segments `ids` by recursive XY cuts, appending to `order`.
fn xy_cut(segs: &[Segment], ids: Vec<usize>, order: &mut Vec<usize>) {
    if ids.len() <= 1 {
        order.extend(ids);
        return;
    }
    if let Some((left, right)) = vertical_cut(segs, &ids) {
        xy_cut(segs, left, order);
        xy_cut(segs, right, order);
        return;
    }
    if let Some((top, bottom)) = horizontal_cut(segs, &ids) {
        xy_cut(segs, top, order);
        xy_cut(segs, bottom, order);
        return;
    }
    let mut ids = ids;
    ids.sort_by(|&a, &b| {
        segs[a]
            .y
            .total_cmp(&segs[b].y)
            .then(segs[a].x0.total_cmp(&segs[b].x0))
    });
    order.extend(ids);
}

/// The widest empty vertical gutter that leaves at least 3 segments on each side (a column, not a
/// gap between two words of a table row).
fn vertical_cut(segs: &[Segment], ids: &[usize]) -> Option<(Vec<usize>, Vec<usize>)> {
    let mut spans: Vec<(f64, f64)> = ids.iter().map(|&i| (segs[i].x0, segs[i].x1)).collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let size = median_size(segs, ids);
    let mut best: Option<(f64, f64)> = None;
    let mut reach = spans[0].1;
    for &(x0, x1) in &spans[1..] {
        if x0 - reach > size && best.is_none_or(|(w, _)| x0 - reach > w) {
            best = Some((x0 - reach, (x0 + reach) / 2.0));
        }
        reach = reach.max(x1);
    }
    let (_, at) = best?;
    let (left, right): (Vec<usize>, Vec<usize>) = ids.iter().partition(|&&i| segs[i].x1 <= at);
    (left.len() >= 3 && right.len() >= 3).then_some((left, right))
}

/// The first empty horizontal band between rows (blocks read top to bottom).
fn horizontal_cut(segs: &[Segment], ids: &[usize]) -> Option<(Vec<usize>, Vec<usize>)> {
    let mut ys: Vec<f64> = ids.iter().map(|&i| segs[i].y).collect();
    ys.sort_by(f64::total_cmp);
    let size = median_size(segs, ids);
    let at = ys
        .windows(2)
        .find(|w| w[1] - w[0] > SAME_ROW * size)
        .map(|w| (w[0] + w[1]) / 2.0)?;
    let (top, bottom): (Vec<usize>, Vec<usize>) = ids.iter().partition(|&&i| segs[i].y < at);
    (!top.is_empty() && !bottom.is_empty()).then_some((top, bottom))
}

fn median_size(segs: &[Segment], ids: &[usize]) -> f64 {
    let mut sizes: Vec<f64> = ids.iter().map(|&i| segs[i].size).collect();
    sizes.sort_by(f64::total_cmp);
    sizes[sizes.len() / 2].max(1e-3)
}

/// OCR words laid out as TEXTRACT_ANALYZE_DOCUMENT asks: rows across the page (words whose
/// vertical middles fall within a row's height), so a table reads row by row; with `tables`,
/// wide gaps in a row (over twice the row's height) separate cells with ` | `; with `forms`, a
/// row that ends in `:` (a field's key) is joined with the row below it (its value), unless
/// the value already follows on the same row.
pub fn analyzed(words: &[super::ocr::Word], tables: bool, forms: bool) -> String {
    let mut sorted: Vec<&super::ocr::Word> = words.iter().collect();
    sorted.sort_by_key(|w| (w.top + w.height / 2, w.left));
    let mut rows: Vec<Vec<&super::ocr::Word>> = Vec::new();
    for w in sorted {
        let middle = w.top + w.height / 2;
        match rows.last_mut() {
            Some(row)
                if row
                    .iter()
                    .any(|r| middle >= r.top && middle <= r.top + r.height) =>
            {
                row.push(w)
            }
            _ => rows.push(vec![w]),
        }
    }
    let mut lines = Vec::with_capacity(rows.len());
    for mut row in rows {
        row.sort_by_key(|w| w.left);
        let height = row.iter().map(|w| w.height).max().unwrap_or(1).max(1);
        let mut line = String::new();
        let mut end = None;
        for w in row {
            if let Some(e) = end {
                line.push_str(if tables && w.left - e > 2 * height {
                    " | "
                } else {
                    " "
                });
            }
            line.push_str(&w.text);
            end = Some(w.left + w.width);
        }
        lines.push(line);
    }
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        out.push_str(&lines[i]);
        if forms && lines[i].ends_with(':') && i + 1 < lines.len() {
            out.push(' ');
            out.push_str(&lines[i + 1]);
            i += 1;
        }
        out.push('\n');
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Glyphs of `text` set at (x, y), 10 units a character, 10-unit font.
    fn line(text: &str, x: f64, y: f64) -> Vec<Glyph> {
        text.chars()
            .enumerate()
            .filter(|(_, c)| *c != ' ')
            .map(|(i, c)| Glyph {
                x: x + i as f64 * 6.0,
                y,
                size: 10.0,
                advance: 6.0,
                text: c.to_string(),
            })
            .collect()
    }

    #[test]
    fn words_lines_and_ligatures() {
        let mut g = line("second line", 50.0, 112.0);
        g.extend(line("first line", 50.0, 100.0));
        g.push(Glyph {
            x: 200.0,
            y: 100.0,
            size: 10.0,
            advance: 6.0,
            text: "\u{fb01}".into(),
        });
        assert_eq!(text_of(g), "first line\nfi\nsecond line\n");
    }

    fn word(text: &str, left: i32, top: i32) -> super::super::ocr::Word {
        super::super::ocr::Word {
            block: 1,
            par: 1,
            line: 1,
            left,
            top,
            width: 10 * text.len() as i32,
            height: 20,
            text: text.into(),
        }
    }

    #[test]
    fn analyzed_rows_cells_and_fields() {
        // A table whose columns OCR found as separate blocks, and a key over its value.
        let words = [
            word("Item", 10, 100),
            word("Apples", 10, 130),
            word("Price", 300, 101),
            word("3.20", 300, 129),
            word("Name:", 10, 200),
            word("Ann", 10, 230),
        ];
        assert_eq!(
            analyzed(&words, true, false),
            "Item | Price\nApples | 3.20\nName:\nAnn\n"
        );
        assert_eq!(
            analyzed(&words, false, true),
            "Item Price\nApples 3.20\nName: Ann\n"
        );
    }

    #[test]
    fn two_columns_read_column_by_column() {
        let mut g = Vec::new();
        for row in 0..4 {
            let y = 100.0 + row as f64 * 12.0;
            g.extend(line(&format!("left{row}"), 50.0, y));
            g.extend(line(&format!("right{row}"), 300.0, y));
        }
        assert_eq!(
            text_of(g),
            "left0\nleft1\nleft2\nleft3\nright0\nright1\nright2\nright3\n"
        );
    }

    #[test]
    fn a_title_over_two_columns_comes_first() {
        let mut g = line(
            "a title across the whole width of the page here",
            50.0,
            80.0,
        );
        for row in 0..3 {
            let y = 100.0 + row as f64 * 12.0;
            g.extend(line(&format!("l{row}"), 50.0, y));
            g.extend(line(&format!("r{row}"), 300.0, y));
        }
        let text = text_of(g);
        assert!(text.starts_with("a title across"), "{text}");
        assert!(text.ends_with("l0\nl1\nl2\nr0\nr1\nr2\n"), "{text}");
    }
}
