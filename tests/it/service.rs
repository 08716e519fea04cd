//! `docclass serve` over raw HTTP with SigV4 signatures made by the library's signer: the
//! protocol edge (targets, status codes, error bodies, signature checks). The real AWS CLI and
//! boto3 are exercised by tests/clients (run by .ci/run).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use docclass::service::sigv4::{sign, Credentials, SignedRequest};

use crate::util::{repo, Workdir};

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(w: &Workdir) -> Server {
    start_with(w, &[])
}

fn start_with(w: &Workdir, extra: &[&str]) -> Server {
    let models = repo().join("models").display().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_docclass"))
        .args([
            "serve",
            "--port",
            "0",
            "--model-registry",
            &models,
            "--s3-root",
            "s3",
            "--access-key-id",
            "AKID",
            "--secret-access-key",
            "secret",
        ])
        .args(extra)
        .current_dir(w.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.trim().rsplit("http://").next().unwrap().to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{line}");
    Server { child, addr }
}

fn amz_date() -> String {
    let iso = docclass::aws::iso8601(docclass::aws::now_epoch());
    format!(
        "{}{}{}T{}{}{}Z",
        &iso[0..4],
        &iso[5..7],
        &iso[8..10],
        &iso[11..13],
        &iso[14..16],
        &iso[17..19]
    )
}

/// Sends one signed request; returns (status, body).
fn call(s: &Server, op: &str, body: &str, secret: &str) -> (u16, serde_json::Value) {
    let date = amz_date();
    let mut headers = vec![
        (
            "content-type".to_string(),
            "application/x-amz-json-1.1".to_string(),
        ),
        ("host".to_string(), s.addr.clone()),
        ("x-amz-date".to_string(), date.clone()),
        (
            "x-amz-target".to_string(),
            format!("Comprehend_20171127.{op}"),
        ),
    ];
    let creds = Credentials {
        access_key_id: "AKID".into(),
        secret_access_key: secret.into(),
    };
    let req = SignedRequest {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body: body.as_bytes(),
    };
    let auth = sign(
        &req,
        &creds,
        "us-east-1",
        &date,
        "content-type;host;x-amz-date;x-amz-target",
    );
    headers.push(("authorization".into(), auth));
    let mut stream = TcpStream::connect(&s.addr).unwrap();
    let mut text = format!(
        "POST / HTTP/1.1\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in &headers {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    stream.write_all(text.as_bytes()).unwrap();
    let mut resp = String::new();
    stream.read_to_string(&mut resp).unwrap();
    let status: u16 = resp.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(
        resp.to_ascii_lowercase()
            .contains("content-type: application/x-amz-json-1.1"),
        "{resp}"
    );
    assert!(
        resp.to_ascii_lowercase().contains("x-amzn-requestid: "),
        "{resp}"
    );
    let json = resp.split("\r\n\r\n").nth(1).unwrap_or("");
    (
        status,
        serde_json::from_str(json).unwrap_or(serde_json::Value::Null),
    )
}

#[test]
fn protocol_edge_statuses_and_errors() {
    let w = Workdir::new();
    let s = start(&w);
    let (status, body) = call(
        &s,
        "DescribeDocumentClassificationJob",
        r#"{"JobId": "abc"}"#,
        "secret",
    );
    assert_eq!(
        (status, body["__type"].as_str()),
        (404, Some("JobNotFoundException"))
    );
    let (status, body) = call(&s, "ListDocumentClassificationJobs", "{}", "secret");
    assert_eq!(status, 200);
    assert_eq!(
        body["DocumentClassificationJobPropertiesList"],
        serde_json::json!([])
    );
    let (status, body) = call(&s, "ListDocumentClassificationJobs", "{}", "wrong");
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("InvalidSignatureException"))
    );
    let (status, body) = call(&s, "DetectSentiment", "{}", "secret");
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("UnknownOperationException"))
    );
    let (status, body) = call(&s, "DescribeDocumentClassificationJob", "{}", "secret");
    assert_eq!(status, 400);
    assert!(
        body["Message"].as_str().unwrap().contains("'JobId'"),
        "{body}"
    );
    let (status, body) = call(
        &s,
        "ClassifyDocument",
        r#"{"Text": "WIN a FREE prize, call 0800 now", "EndpointArn": "arn:aws:comprehend:us-east-1:000000000000:document-classifier-endpoint/spam-ham"}"#,
        "secret",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["Classes"][0]["Name"], "spam");
}

#[test]
fn serve_refuses_to_start_without_keys_unless_asked() {
    let w = Workdir::new();
    let err = w.fails(2, &["serve", "--port", "0"]);
    assert!(
        err.contains("--access-key-id") && err.contains("--no-verify-signatures"),
        "{err}"
    );
}

#[test]
fn jobs_over_the_queue_limit_are_throttled() {
    let w = Workdir::new();
    w.write(
        "s3/in-bucket/big.txt",
        "win a free prize now call 0800 123 456\n".repeat(400_000),
    );
    let s = start_with(&w, &["--concurrency", "1", "--max-queued-jobs", "2"]);
    let start = r#"{"DocumentClassifierArn": "arn:aws:comprehend:us-east-1:000000000000:document-classifier/spam-ham",
        "InputDataConfig": {"S3Uri": "s3://in-bucket/big.txt", "InputFormat": "ONE_DOC_PER_LINE"},
        "OutputDataConfig": {"S3Uri": "s3://out-bucket/out/"},
        "DataAccessRoleArn": "arn:aws:iam::111122223333:role/docclass"}"#;
    // One job runs, one waits; the third is refused until one of them ends.
    for _ in 0..2 {
        let (status, body) = call(&s, "StartDocumentClassificationJob", start, "secret");
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = call(&s, "StartDocumentClassificationJob", start, "secret");
    assert_eq!(
        (status, body["__type"].as_str()),
        (429, Some("TooManyRequestsException")),
        "{body}"
    );
    let message = body["Message"].as_str().unwrap();
    assert!(
        message.contains("retry later") && !message.contains("--"),
        "{message}"
    );
    // Reads are never refused for the queue, and nothing was recorded for the refused job.
    let (status, body) = call(&s, "ListDocumentClassificationJobs", "{}", "secret");
    assert_eq!(status, 200);
    assert_eq!(
        body["DocumentClassificationJobPropertiesList"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn requests_over_the_inflight_limit_are_refused_until_one_ends() {
    let w = Workdir::new();
    let s = start_with(&w, &["--max-inflight-requests", "1"]);
    // A request whose body is still on its way holds the only slot.
    let mut slow = TcpStream::connect(&s.addr).unwrap();
    slow.write_all(
        b"POST / HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: 2\r\n\
          x-amz-target: Comprehend_20171127.ListDocumentClassificationJobs\r\n\
          content-type: application/x-amz-json-1.1\r\n\r\n{",
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (status, body) = call(&s, "ListDocumentClassificationJobs", "{}", "secret");
    assert_eq!(
        (status, body["__type"].as_str()),
        (429, Some("TooManyRequestsException")),
        "{body}"
    );
    let message = body["Message"].as_str().unwrap();
    assert!(
        message.contains("retry later") && !message.contains("--"),
        "{message}"
    );
    // Once the slow request ends (unsigned: refused), the slot is free again.
    slow.write_all(b"}").unwrap();
    let mut answer = String::new();
    slow.read_to_string(&mut answer).unwrap();
    assert!(
        answer.contains("MissingAuthenticationTokenException"),
        "{answer}"
    );
    let (status, body) = call(&s, "ListDocumentClassificationJobs", "{}", "secret");
    assert_eq!(status, 200, "{body}");
}
