//! The service's request handling: SigV4 header parsing and verification, and every operation's
//! JSON body validation. Any request must get an answer (a result or a named error), never a
//! panic.
#![no_main]

use std::sync::{Arc, OnceLock};

use docclass::aws::Identity;
use docclass::model::registry::Registry;
use docclass::service::operations;
use docclass::service::sigv4::{verify, Credentials, SignedRequest};
use docclass::service::{Service, ServiceConfig};
use libfuzzer_sys::fuzz_target;

fn service() -> &'static Arc<Service> {
    static S: OnceLock<(tempfile::TempDir, Arc<Service>)> = OnceLock::new();
    &S.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("models/tiny");
        std::fs::create_dir_all(&model).unwrap();
        for f in ["model.json", "weights.bin"] {
            let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/model");
            std::fs::copy(seed.join(f), model.join(f)).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("s3/bucket")).unwrap();
        let service = Service::start(ServiceConfig {
            registry: Registry::new(
                dir.path().join("models"),
                Identity {
                    region: "us-east-1".into(),
                    account: "000000000000".into(),
                },
            ),
            state_dir: dir.path().join("state"),
            s3_root: Some(dir.path().join("s3")),
            concurrency: 1,
            max_queued_jobs: 4,
            resume: false,
        })
        .unwrap();
        (dir, service)
    })
    .1
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    if selector & 0x80 != 0 {
        // "name: value" lines, then a blank line, then the body.
        let text = String::from_utf8_lossy(rest);
        let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
        let headers: Vec<(String, String)> = head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let req = SignedRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: body.as_bytes(),
        };
        let keys = [Credentials {
            access_key_id: "AKID".into(),
            secret_access_key: "secret".into(),
        }];
        if let Err((code, message)) = verify(&req, &keys, 1_700_000_000) {
            assert!(!code.is_empty() && !message.is_empty());
        }
        return;
    }
    let ops: Vec<&str> = operations::supported().collect();
    let op = ops
        .get(selector as usize % (ops.len() + 1))
        .copied()
        .unwrap_or("DetectSentiment");
    match service().handle(op, rest, "us-east-1") {
        Ok(v) => assert!(v.is_object()),
        Err(e) => assert!(!e.code.is_empty() && !e.message.is_empty()),
    }
});
