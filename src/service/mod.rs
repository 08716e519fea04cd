//! `docclass serve`: Comprehend's JSON 1.1 wire protocol over HTTP, so the AWS CLI and boto3 run
//! docclass jobs unchanged with `--endpoint-url`. A request passes through layers, each a room:
//!
//! * this module, the HTTP edge (axum on tokio): in-flight limit, `X-Amz-Target`, body size;
//! * `sigv4`: the request's signature, before anything else is looked at;
//! * `operations`: validation against the API model's table, then one file per operation over
//!   typed request and response shapes;
//! * `resources`: what an ARN names (registry, pending classifiers), for every operation;
//! * `runtime`: shared state, the queue and worker pool that run jobs and trainings, recovery;
//!   `models` (loaded models), `pending` (classifiers being trained), `endpoints`, `tags`,
//!   `views` (records as clients see them), `paging`, `error`.

pub mod endpoints;
pub mod error;
pub mod flywheels;
pub mod models;
pub mod operations;
pub mod paging;
pub mod pending;
pub mod resources;
pub mod runtime;
pub mod sigv4;
pub mod tags;
pub mod views;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;

pub use error::ApiError;
pub use runtime::{Service, ServiceConfig};
pub use sigv4::Credentials;

/// Comprehend's JSON 1.1 target prefix.
pub const TARGET_PREFIX: &str = "Comprehend_20171127.";

/// How the HTTP edge is set up.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub addr: SocketAddr,
    /// Accepted access keys; empty means signatures are not checked.
    pub keys: Vec<Credentials>,
    pub verify_signatures: bool,
    pub max_body_bytes: usize,
    /// Requests handled at once; more get TooManyRequestsException.
    pub max_inflight_requests: usize,
    /// Region used when requests are unsigned.
    pub default_region: String,
}

struct Edge {
    service: Arc<Service>,
    http: HttpConfig,
    inflight: Arc<tokio::sync::Semaphore>,
}

fn request_id() -> String {
    use crate::aws;
    let h = aws::new_job_id();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn answer(status: u16, body: serde_json::Value) -> Response {
    let mut resp = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        body.to_string(),
    )
        .into_response();
    let h = resp.headers_mut();
    h.insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    if let Ok(v) = HeaderValue::from_str(&request_id()) {
        h.insert("x-amzn-requestid", v);
    }
    resp
}

fn error_response(e: ApiError) -> Response {
    let mut resp = answer(e.status(), e.body());
    if let Ok(v) = HeaderValue::from_str(e.code) {
        resp.headers_mut().insert("x-amzn-errortype", v);
    }
    resp
}

async fn dispatch(
    State(edge): State<Arc<Edge>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if method != Method::POST || uri.path() != "/" || target.is_empty() {
        return error_response(ApiError::new(
            "UnknownOperationException",
            "expected POST / with an X-Amz-Target: Comprehend_20171127.<Operation> header",
        ));
    }
    let mut region = edge.http.default_region.clone();
    if edge.http.verify_signatures {
        let pairs: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let req = sigv4::SignedRequest {
            method: method.as_str(),
            path: uri.path(),
            query: uri.query().unwrap_or(""),
            headers: &pairs,
            body: &body,
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        match sigv4::verify(&req, &edge.http.keys, now) {
            Ok(v) => region = v.region,
            Err((code, message)) => return error_response(ApiError::new(code, message)),
        }
    }
    let Some(op) = target.strip_prefix(TARGET_PREFIX).map(str::to_string) else {
        return error_response(ApiError::new(
            "UnknownOperationException",
            format!("unknown target '{target}': expected {TARGET_PREFIX}<Operation>"),
        ));
    };
    let service = Arc::clone(&edge.service);
    let result = tokio::task::spawn_blocking(move || service.handle(&op, &body, &region)).await;
    match result {
        Ok(Ok(v)) => answer(200, v),
        Ok(Err(e)) => error_response(e),
        Err(e) => error_response(ApiError::new(
            "InternalServerException",
            format!("the request failed: {e}"),
        )),
    }
}

/// Sheds load before any work, as soon as a request's head arrives (its body may still be on
/// the way): over `--max-inflight-requests` requests at once get TooManyRequestsException,
/// which the SDKs back off on and retry.
async fn limit_inflight(
    State(edge): State<Arc<Edge>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Ok(_permit) = Arc::clone(&edge.inflight).try_acquire_owned() else {
        return error_response(ApiError::new(
            "TooManyRequestsException",
            format!(
                "{} requests are in progress, the most this service handles at once; retry later",
                edge.http.max_inflight_requests
            ),
        ));
    };
    next.run(request).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Runs the service until SIGINT or SIGTERM. `on_ready` gets the bound address (port 0 picks a
/// free port) once the listener accepts connections.
pub fn serve(
    service: ServiceConfig,
    http: HttpConfig,
    on_ready: impl FnOnce(SocketAddr),
) -> crate::Result<()> {
    let addr_text = http.addr.to_string();
    let io = |e: std::io::Error| crate::Error::io(&addr_text, e);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(&io)?;
    let service = Service::start(service)?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(http.addr)
            .await
            .map_err(&io)?;
        let addr = listener.local_addr().map_err(&io)?;
        let limit = http.max_body_bytes;
        let inflight = Arc::new(tokio::sync::Semaphore::new(http.max_inflight_requests));
        let edge = Arc::new(Edge {
            service,
            http,
            inflight,
        });
        let app = Router::new()
            .fallback(dispatch)
            .layer(DefaultBodyLimit::max(limit))
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(&edge),
                limit_inflight,
            ))
            .with_state(edge);
        on_ready(addr);
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(&io)
    })
}
