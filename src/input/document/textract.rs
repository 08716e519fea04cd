//! Textract JSON: the output of `DetectDocumentText` or `AnalyzeDocument` given as the document
//! (`DocumentMetadata` and `Blocks`). DetectDocumentText output reads as its LINE blocks, in
//! order. AnalyzeDocument output (recognised by its model version or by TABLE, CELL or
//! KEY_VALUE_SET blocks) reads as its lines that are neither table cells nor form fields, then
//! each table row by row (cells joined by ` | `), then each form field as `key: value`.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use super::{DocumentType, Failure, Page, Paged, Reader, INVALID_DOCUMENT};

/// Whether the start of a file looks like Textract output.
pub fn looks_like(head: &[u8]) -> bool {
    let trimmed = &head[head.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
    trimmed.starts_with(b"{")
        && memchr::memmem::find(head, b"\"Blocks\"").is_some()
        && (memchr::memmem::find(head, b"\"BlockType\"").is_some()
            || memchr::memmem::find(head, b"\"DocumentMetadata\"").is_some())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    #[serde(default)]
    document_metadata: Option<Metadata>,
    blocks: Vec<Block>,
    #[serde(default)]
    analyze_document_model_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Metadata {
    pages: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Block {
    block_type: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    page: Option<u32>,
    #[serde(default)]
    relationships: Vec<Relationship>,
    #[serde(default)]
    entity_types: Vec<String>,
    #[serde(default)]
    row_index: Option<u32>,
    #[serde(default)]
    column_index: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Relationship {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(default)]
    ids: Vec<String>,
}

pub struct TextractDocument {
    kind: DocumentType,
    pages: Vec<String>,
}

pub fn open(bytes: &[u8]) -> Result<Box<dyn Paged>, Failure> {
    let out: Output = serde_json::from_slice(bytes).map_err(|e| {
        Failure::new(
            INVALID_DOCUMENT,
            format!("The file is not Amazon Textract JSON ({e})."),
        )
    })?;
    let last = out.blocks.iter().filter_map(|b| b.page).max().unwrap_or(1);
    let pages = out.document_metadata.as_ref().map_or(last, |m| m.pages);
    if last > pages {
        return Err(Failure::new(
            INVALID_DOCUMENT,
            format!("The Textract JSON has blocks on page {last} but DocumentMetadata.Pages is {pages}."),
        ));
    }
    let analyzed = out.analyze_document_model_version.is_some()
        || out
            .blocks
            .iter()
            .any(|b| matches!(b.block_type.as_str(), "TABLE" | "CELL" | "KEY_VALUE_SET"));
    let kind = if analyzed {
        DocumentType::TextractAnalyzeDocumentJson
    } else {
        DocumentType::TextractDetectDocumentTextJson
    };
    let texts = (1..=pages)
        .map(|p| {
            let blocks: Vec<&Block> = out
                .blocks
                .iter()
                .filter(|b| b.page.unwrap_or(1) == p)
                .collect();
            if analyzed {
                analyzed_text(&blocks, &out.blocks)
            } else {
                lines(&blocks, &Default::default())
            }
        })
        .collect();
    Ok(Box::new(TextractDocument { kind, pages: texts }))
}

impl Paged for TextractDocument {
    fn page_count(&self) -> u32 {
        self.pages.len() as u32
    }

    fn page(&self, number: u32, reader: &Reader) -> Page {
        reader.finish(number, self.kind, self.pages[number as usize - 1].clone())
    }
}

fn children<'a>(b: &'a Block, kind: &'a str) -> impl Iterator<Item = &'a String> {
    b.relationships
        .iter()
        .filter(move |r| r.kind == kind)
        .flat_map(|r| r.ids.iter())
}

/// LINE blocks' text, leaving out lines all of whose words are in `taken`.
fn lines(blocks: &[&Block], taken: &std::collections::HashSet<&str>) -> String {
    let mut out = String::new();
    for b in blocks.iter().filter(|b| b.block_type == "LINE") {
        let words: Vec<&String> = children(b, "CHILD").collect();
        if !words.is_empty() && words.iter().all(|w| taken.contains(w.as_str())) {
            continue;
        }
        if let Some(t) = &b.text {
            out.push_str(t);
            out.push('\n');
        }
    }
    out
}

/// A page of AnalyzeDocument output: free lines, tables row by row, `key: value` fields.
fn analyzed_text(blocks: &[&Block], all: &[Block]) -> String {
    let by_id: HashMap<&str, &Block> = all.iter().map(|b| (b.id.as_str(), b)).collect();
    let words_of = |b: &Block| -> Vec<&str> {
        children(b, "CHILD")
            .filter_map(|id| by_id.get(id.as_str()))
            .filter(|w| w.block_type == "WORD")
            .filter_map(|w| w.text.as_deref())
            .collect()
    };
    let mut taken = std::collections::HashSet::new();
    let mut tables = String::new();
    for table in blocks.iter().filter(|b| b.block_type == "TABLE") {
        let mut rows: BTreeMap<u32, BTreeMap<u32, String>> = BTreeMap::new();
        for cell in children(table, "CHILD").filter_map(|id| by_id.get(id.as_str())) {
            if cell.block_type != "CELL" {
                continue;
            }
            taken.extend(children(cell, "CHILD").map(String::as_str));
            rows.entry(cell.row_index.unwrap_or(0))
                .or_default()
                .insert(cell.column_index.unwrap_or(0), words_of(cell).join(" "));
        }
        for row in rows.values() {
            tables.push_str(&row.values().cloned().collect::<Vec<_>>().join(" | "));
            tables.push('\n');
        }
    }
    let mut forms = String::new();
    for key in blocks
        .iter()
        .filter(|b| b.block_type == "KEY_VALUE_SET" && b.entity_types.iter().any(|e| e == "KEY"))
    {
        taken.extend(children(key, "CHILD").map(String::as_str));
        let value: Vec<&str> = children(key, "VALUE")
            .filter_map(|id| by_id.get(id.as_str()))
            .flat_map(|v| {
                taken.extend(children(v, "CHILD").map(String::as_str));
                words_of(v)
            })
            .collect();
        forms.push_str(&format!(
            "{}: {}\n",
            words_of(key).join(" ").trim_end_matches(':'),
            value.join(" ")
        ));
    }
    let mut out = lines(blocks, &taken);
    out.push_str(&tables);
    out.push_str(&forms);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(json: &str) -> (DocumentType, Vec<String>) {
        let doc = open(json.as_bytes()).unwrap();
        let reader = Reader::new(Default::default(), Default::default());
        let pages = (1..=doc.page_count())
            .map(|n| doc.page(n, &reader).text.unwrap())
            .collect();
        let kind = doc.page(1, &reader).kind;
        (kind, pages)
    }

    #[test]
    fn detect_output_reads_as_lines_per_page() {
        let json = r#"{"DocumentMetadata": {"Pages": 2}, "Blocks": [
            {"BlockType": "PAGE", "Id": "p1", "Page": 1},
            {"BlockType": "LINE", "Id": "l1", "Text": "Dear mum,", "Page": 1},
            {"BlockType": "LINE", "Id": "l2", "Text": "home at seven", "Page": 1},
            {"BlockType": "LINE", "Id": "l3", "Text": "love", "Page": 2}],
            "DetectDocumentTextModelVersion": "1.0"}"#;
        assert!(looks_like(json.as_bytes()));
        let (kind, pages) = text_of(json);
        assert_eq!(kind, DocumentType::TextractDetectDocumentTextJson);
        assert_eq!(pages, ["Dear mum,\nhome at seven\n", "love\n"]);
    }

    #[test]
    fn analyze_output_reads_tables_by_row_and_forms_as_pairs() {
        let json = r#"{"DocumentMetadata": {"Pages": 1}, "Blocks": [
            {"BlockType": "LINE", "Id": "l0", "Text": "Invoice", "Relationships": [{"Type": "CHILD", "Ids": ["w0"]}]},
            {"BlockType": "LINE", "Id": "l1", "Text": "Name: Ann", "Relationships": [{"Type": "CHILD", "Ids": ["w1", "w2"]}]},
            {"BlockType": "WORD", "Id": "w0", "Text": "Invoice"},
            {"BlockType": "WORD", "Id": "w1", "Text": "Name:"},
            {"BlockType": "WORD", "Id": "w2", "Text": "Ann"},
            {"BlockType": "WORD", "Id": "w3", "Text": "Total"},
            {"BlockType": "WORD", "Id": "w4", "Text": "42"},
            {"BlockType": "KEY_VALUE_SET", "Id": "k", "EntityTypes": ["KEY"], "Relationships": [{"Type": "CHILD", "Ids": ["w1"]}, {"Type": "VALUE", "Ids": ["v"]}]},
            {"BlockType": "KEY_VALUE_SET", "Id": "v", "EntityTypes": ["VALUE"], "Relationships": [{"Type": "CHILD", "Ids": ["w2"]}]},
            {"BlockType": "TABLE", "Id": "t", "Relationships": [{"Type": "CHILD", "Ids": ["c2", "c1"]}]},
            {"BlockType": "CELL", "Id": "c1", "RowIndex": 1, "ColumnIndex": 1, "Relationships": [{"Type": "CHILD", "Ids": ["w3"]}]},
            {"BlockType": "CELL", "Id": "c2", "RowIndex": 1, "ColumnIndex": 2, "Relationships": [{"Type": "CHILD", "Ids": ["w4"]}]}],
            "AnalyzeDocumentModelVersion": "1.0"}"#;
        let (kind, pages) = text_of(json);
        assert_eq!(kind, DocumentType::TextractAnalyzeDocumentJson);
        assert_eq!(pages, ["Invoice\nTotal | 42\nName: Ann\n"]);
    }

    #[test]
    fn page_counts_must_agree() {
        let json = r#"{"DocumentMetadata": {"Pages": 1}, "Blocks": [{"BlockType": "LINE", "Text": "x", "Page": 3}]}"#;
        assert!(open(json.as_bytes()).is_err());
        assert!(open(b"{\"Blocks\": 3}").is_err());
    }
}
