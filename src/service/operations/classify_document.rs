//! `ClassifyDocument`: one text, or one document in `Bytes` (PDF, Word, image, Textract JSON or
//! UTF-8 text; one page, 10 MB), scored through the same path as batch jobs and answered with
//! Comprehend's 4-decimal scores widened from 32-bit floats. A document answers with `Page` on
//! each class, `DocumentMetadata`, `DocumentType`, page `Errors` and `Warnings` (every docclass
//! model is a plain-text model). The endpoint ARN's name is a classifier's name in the registry.

use std::cell::RefCell;
use std::sync::Arc;

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{call, Caller};
use crate::aws::Identity;
use crate::input::document::{self, DocumentType, Limits, Opened, Page, Reader, ReaderConfig};
use crate::input::FileBytes;
use crate::model::{Classifier, Mode, ScoreScratch};
use crate::output::jsonl::rank_into;
use crate::service::error::ApiError;
use crate::service::resources;
use crate::service::runtime::Service;

/// Largest `Text` ClassifyDocument takes, as Comprehend's synchronous limit.
pub const MAX_TEXT_BYTES: usize = 10_000;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    text: Option<String>,
    endpoint_arn: String,
    bytes: Option<String>,
    document_reader_config: Option<ReaderConfig>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    name: String,
    score: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PageCount {
    page: u32,
    count: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Metadata {
    pages: u32,
    extracted_characters: Vec<PageCount>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PageType {
    page: u32,
    #[serde(rename = "Type")]
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PageError {
    page: u32,
    error_code: &'static str,
    error_message: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PageWarning {
    page: u32,
    warn_code: &'static str,
    warn_message: &'static str,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Response {
    #[serde(skip_serializing_if = "Option::is_none")]
    classes: Option<Vec<Entry>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<Vec<Entry>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    document_metadata: Option<Metadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    document_type: Option<Vec<PageType>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<PageError>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warnings: Option<Vec<PageWarning>>,
}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    call(service, body, caller, run)
}

fn run(service: &Service, req: Request, caller: &Caller) -> Result<Response, ApiError> {
    match (&req.text, &req.bytes) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "give Text or Bytes, not both: Text for plain text, Bytes for a document",
            ))
        }
        (None, None) => {
            return Err(ApiError::invalid(
                "Text or Bytes is required (Text for plain text, Bytes for a document)",
            ))
        }
        _ => {}
    }
    if let Some(text) = &req.text {
        if text.len() > MAX_TEXT_BYTES {
            return Err(ApiError::new(
                "TextSizeLimitExceededException",
                format!("Input text size exceeds limit. Max length of request text allowed is {MAX_TEXT_BYTES} bytes while in this request the text size is {} bytes", text.len()),
            ));
        }
    }
    let c = endpoint_model(service, &req.endpoint_arn, caller)?;
    match (req.text, req.bytes) {
        (Some(text), _) => {
            let entries = classify(&c, &text, None);
            Ok(respond(&c, entries, Response::default()))
        }
        (None, Some(b64)) => document(&c, &b64, req.document_reader_config),
        (None, None) => unreachable!("checked above"),
    }
}

/// The model behind an endpoint: the endpoint's classifier when it is IN_SERVICE (or being
/// updated, when its current model still answers); with no such endpoint, the classifier of the
/// endpoint's name in the endpoint's account and region (a convenience: no CreateEndpoint
/// needed for a model of that name).
fn endpoint_model(
    service: &Service,
    endpoint: &str,
    caller: &Caller,
) -> Result<Arc<Classifier>, ApiError> {
    let unavailable = |why: String| {
        ApiError::new(
            "ResourceUnavailableException",
            format!("The endpoint {endpoint} is not available: {why}."),
        )
    };
    let model_arn = match resources::endpoint(service, endpoint, caller) {
        Ok(e) if matches!(e.status.as_str(), "IN_SERVICE" | "UPDATING") => e.model_arn,
        Ok(e) => return Err(unavailable(format!("it is {}", e.status))),
        Err(_) => {
            let (account, name) =
                resources::in_region(endpoint, "document-classifier-endpoint", caller)
                    .ok_or_else(|| unavailable("it is not in this region".into()))?;
            let account = if account == "aws" {
                "000000000000"
            } else {
                account
            };
            Identity::new(&caller.region, account)
                .map_err(|_| unavailable("its account is not valid".into()))?
                .classifier_arn(name, None)
        }
    };
    let dir = resources::trained(service, &model_arn, caller)
        .map_err(|_| unavailable(format!("no trained classifier {model_arn}")))?;
    service.models.get(&dir).map_err(ApiError::from)
}

/// The ranked classes of `text`, with 4-decimal scores widened from 32-bit floats.
fn classify(c: &Classifier, text: &str, page: Option<u32>) -> Vec<Entry> {
    thread_local! {
        /// This request thread's scoring buffers, kept from one request to the next: fresh ones
        /// would zero the word cache and the counters (1.3 MiB) for every request.
        static SCRATCH: RefCell<ScoreScratch> = RefCell::new(ScoreScratch::default());
    }
    let mut probs = Vec::new();
    SCRATCH.with_borrow_mut(|scratch| c.probabilities_into(text, scratch, &mut probs));
    let mut ranked = Vec::new();
    rank_into(c.model().mode(), &probs, &mut ranked);
    ranked
        .iter()
        .map(|&l| Entry {
            name: c.model().labels()[l as usize].clone(),
            score: ((probs[l as usize] * 1e4).round() / 1e4) as f32 as f64,
            page,
        })
        .collect()
}

fn respond(c: &Classifier, entries: Vec<Entry>, mut r: Response) -> Response {
    match c.model().mode() {
        Mode::MultiClass => r.classes = Some(entries),
        Mode::MultiLabel => r.labels = Some(entries),
    }
    r
}

/// A document in `Bytes`: one page, read as a batch job reads it.
fn document(c: &Classifier, b64: &str, config: Option<ReaderConfig>) -> Result<Response, ApiError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| {
            ApiError::new(
                "SerializationException",
                format!("Bytes is not base64: {e}"),
            )
        })?;
    let config = config.unwrap_or_default();
    config.validate().map_err(ApiError::from)?;
    let reader = Reader::new(config, Limits::real_time());
    let data = Arc::new(FileBytes::Owned(bytes));
    let (page, pages) = match reader.open(Arc::clone(&data), "Bytes") {
        Opened::Refused(f) => return Err(ApiError::invalid_document(f.code, f.message)),
        Opened::Document(doc) => (doc.page(1, &reader), doc.page_count()),
        Opened::Text => (plain_text(&data)?, 1),
    };
    let mut r = Response {
        document_metadata: Some(Metadata {
            pages,
            extracted_characters: vec![PageCount {
                page: 1,
                count: page.characters(),
            }],
        }),
        document_type: Some(vec![PageType {
            page: 1,
            kind: page.kind.as_str(),
        }]),
        ..Response::default()
    };
    if page.kind != DocumentType::PlainText {
        r.warnings = Some(vec![PageWarning {
            page: 1,
            warn_code: "INFERENCING_NATIVE_DOCUMENT_WITH_PLAINTEXT_TRAINED_MODEL",
            warn_message: "The document to classify is semi-structured, but the classifier is a plain-text model.",
        }]);
    }
    match page.text {
        Ok(text) => Ok(respond(c, classify(c, &text, Some(1)), r)),
        Err(f) => {
            r.errors = Some(vec![PageError {
                page: 1,
                error_code: f.code,
                error_message: f.message,
            }]);
            Ok(r)
        }
    }
}

/// UTF-8 text sent as `Bytes`: a PLAIN_TEXT page of at most 10 KB.
fn plain_text(data: &[u8]) -> Result<Page, ApiError> {
    if data.len() > MAX_TEXT_BYTES {
        return Err(ApiError::invalid_document(
            document::DOCUMENT_SIZE_EXCEEDED,
            format!(
                "The text is {} bytes; at most {MAX_TEXT_BYTES} are read.",
                data.len()
            ),
        ));
    }
    let text = std::str::from_utf8(data).map_err(|_| {
        ApiError::invalid_document(
            document::UNSUPPORTED_DOC_TYPE,
            "Document type is not supported: the bytes are neither a PDF, Word, image or Textract JSON document nor UTF-8 text.",
        )
    })?;
    Ok(Page {
        number: 1,
        kind: DocumentType::PlainText,
        text: Ok(text.to_string()),
    })
}
