//! `ClassifyDocument`: one text scored through the same path as batch jobs, answered with
//! Comprehend's 4-decimal scores widened from 32-bit floats. The endpoint ARN's name is a
//! classifier's name in the registry.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{call, Caller};
use crate::model::{Mode, ScoreScratch};
use crate::output::jsonl::rank_into;
use crate::service::error::ApiError;
use crate::service::runtime::Service;

/// Largest `Text` ClassifyDocument takes, as Comprehend's synchronous limit.
pub const MAX_TEXT_BYTES: usize = 10_000;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    text: Option<String>,
    endpoint_arn: String,
    bytes: Option<String>,
    document_reader_config: Option<Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    name: String,
    score: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Response {
    #[serde(skip_serializing_if = "Option::is_none")]
    classes: Option<Vec<Entry>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<Vec<Entry>>,
}

pub fn handle(service: &Service, body: Value, caller: &Caller) -> Result<Value, ApiError> {
    call(service, body, caller, run)
}

fn run(service: &Service, req: Request, _: &Caller) -> Result<Response, ApiError> {
    if req.bytes.is_some() || req.document_reader_config.is_some() {
        return Err(ApiError::invalid(
            "Bytes (PDF, Word and image documents) is not supported by docclass; send Text",
        ));
    }
    let text = req
        .text
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::invalid("Text is required (at least 1 character)"))?;
    if text.len() > MAX_TEXT_BYTES {
        return Err(ApiError::new(
            "TextSizeLimitExceededException",
            format!("Input text size exceeds limit. Max length of request text allowed is {MAX_TEXT_BYTES} bytes while in this request the text size is {} bytes", text.len()),
        ));
    }
    let endpoint = &req.endpoint_arn;
    let name = endpoint
        .rsplit_once('/')
        .map(|(_, n)| n)
        .unwrap_or_default();
    let dir = service.cfg.registry.resolve(name).map_err(|_| {
        ApiError::new(
            "ResourceUnavailableException",
            format!("endpoint {endpoint} is not available: no classifier named '{name}'"),
        )
    })?;
    let c = service.models.get(&dir).map_err(ApiError::from)?;
    let mut probs = Vec::new();
    c.probabilities_into(&text, &mut ScoreScratch::default(), &mut probs);
    let mut ranked = Vec::new();
    rank_into(c.model.mode(), &probs, &mut ranked);
    let entries: Vec<Entry> = ranked
        .iter()
        .map(|&l| Entry {
            name: c.model.labels()[l as usize].clone(),
            // Comprehend returns 4-decimal scores widened from 32-bit floats.
            score: ((probs[l as usize] * 1e4).round() / 1e4) as f32 as f64,
        })
        .collect();
    Ok(match c.model.mode() {
        Mode::MultiClass => Response {
            classes: Some(entries),
            labels: None,
        },
        Mode::MultiLabel => Response {
            classes: None,
            labels: Some(entries),
        },
    })
}
