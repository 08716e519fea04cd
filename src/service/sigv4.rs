//! AWS Signature Version 4 verification for the service: rebuild the canonical request the
//! client signed, derive the signing key from the configured secret, and compare signatures in
//! constant time. A wrong signature or an unknown access key is refused with the error the AWS
//! clients expect, before any operation runs.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// One access key the service accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// Why a request was refused: (error code, message).
pub type Refusal = (&'static str, String);

/// The parts of a signed request that verification needs.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    /// Header names in lower case, with their values.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// What a verified signature tells: the access key and the region of its credential scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub access_key_id: String,
    pub region: String,
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn header<'a>(req: &'a SignedRequest, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The signing key for a date (`YYYYMMDD`), region and service.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(&str, &str)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The string a client signs for `req` with the given signed headers and credential scope.
pub fn string_to_sign(
    req: &SignedRequest,
    signed_headers: &str,
    amz_date: &str,
    scope: &str,
) -> String {
    let mut canonical_headers = String::new();
    for name in signed_headers.split(';') {
        let value = req
            .headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join(",");
        canonical_headers.push_str(&format!("{name}:{value}\n"));
    }
    let payload = header(req, "x-amz-content-sha256")
        .map(str::to_string)
        .unwrap_or_else(|| hex(&Sha256::digest(req.body)));
    let canonical = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method,
        if req.path.is_empty() { "/" } else { req.path },
        canonical_query(req.query),
        canonical_headers,
        signed_headers,
        payload
    );
    format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    )
}

/// Signs a request (used by tests and tools that talk to the service).
pub fn sign(
    req: &SignedRequest,
    creds: &Credentials,
    region: &str,
    amz_date: &str,
    signed_headers: &str,
) -> String {
    let date = &amz_date[..8];
    let scope = format!("{date}/{region}/comprehend/aws4_request");
    let sts = string_to_sign(req, signed_headers, amz_date, &scope);
    let key = signing_key(&creds.secret_access_key, date, region, "comprehend");
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={}",
        creds.access_key_id,
        hex(&hmac(&key, sts.as_bytes()))
    )
}

/// Seconds since the epoch of an `X-Amz-Date` value (`YYYYMMDDTHHMMSSZ`).
fn parse_amz_date(s: &str) -> Option<i64> {
    // ASCII first: a header may carry any bytes, and slicing inside a multi-byte character
    // would panic (found by the service_request fuzz target).
    if s.len() != 16 || !s.is_ascii() || &s[8..9] != "T" || !s.ends_with('Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|v| v.parse::<i64>().ok());
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hh, mm, ss) = (num(9..11)?, num(11..13)?, num(13..15)?);
    // Days from civil date (proleptic Gregorian), the inverse of aws::iso8601's conversion.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

fn incomplete(what: &str) -> Refusal {
    (
        "IncompleteSignatureException",
        format!("Authorization header lacks {what}"),
    )
}

/// The `Credential`, `SignedHeaders` and `Signature` of an `Authorization` header.
fn authorization_parts(auth: &str) -> Result<(&str, &str, &str), Refusal> {
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256 ").ok_or_else(|| {
        (
            "IncompleteSignatureException",
            "Authorization header is not AWS4-HMAC-SHA256".to_string(),
        )
    })?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed_headers = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    Ok((
        credential.ok_or_else(|| incomplete("Credential"))?,
        signed_headers.ok_or_else(|| incomplete("SignedHeaders"))?,
        signature.ok_or_else(|| incomplete("Signature"))?,
    ))
}

/// Checks the request's SigV4 signature against `keys`.
pub fn verify(req: &SignedRequest, keys: &[Credentials], now: i64) -> Result<Verified, Refusal> {
    let missing = || {
        (
            "MissingAuthenticationTokenException",
            "Missing Authentication Token: sign the request (configure AWS credentials)"
                .to_string(),
        )
    };
    let auth = header(req, "authorization").ok_or_else(missing)?;
    let (credential, signed_headers, signature) = authorization_parts(auth)?;
    let mut scope_parts = credential.splitn(2, '/');
    let access_key = scope_parts.next().unwrap_or_default();
    let scope = scope_parts
        .next()
        .ok_or_else(|| incomplete("a credential scope"))?;
    let fields: Vec<&str> = scope.split('/').collect();
    if fields.len() != 4 || fields[3] != "aws4_request" {
        return Err(incomplete("a well-formed credential scope"));
    }
    let Some(creds) = keys.iter().find(|c| c.access_key_id == access_key) else {
        return Err((
            "UnrecognizedClientException",
            "The security token included in the request is invalid.".to_string(),
        ));
    };
    let amz_date = header(req, "x-amz-date").ok_or_else(|| incomplete("an X-Amz-Date header"))?;
    let when = parse_amz_date(amz_date).ok_or_else(|| incomplete("a valid X-Amz-Date"))?;
    if (now - when).abs() > 15 * 60 {
        return Err((
            "InvalidSignatureException",
            format!(
                "Signature expired: {amz_date} is more than 15 minutes away from the server's time"
            ),
        ));
    }
    if !signed_headers.split(';').any(|h| h == "host") {
        return Err(incomplete("'host' among SignedHeaders"));
    }
    let sts = string_to_sign(req, signed_headers, amz_date, scope);
    let key = signing_key(&creds.secret_access_key, fields[0], fields[1], fields[2]);
    let mut mac = HmacSha256::new_from_slice(&key).expect("HMAC takes keys of any length");
    mac.update(sts.as_bytes());
    let provided = (0..signature.len() / 2)
        .map(|i| u8::from_str_radix(signature.get(2 * i..2 * i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .unwrap_or_default();
    if mac.verify_slice(&provided).is_err() {
        return Err((
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.".to_string(),
        ));
    }
    Ok(Verified {
        access_key_id: access_key.to_string(),
        region: fields[1].to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(date: &str) -> Vec<(String, String)> {
        vec![
            ("content-type".into(), "application/x-amz-json-1.1".into()),
            ("host".into(), "127.0.0.1:8765".into()),
            ("x-amz-date".into(), date.into()),
            (
                "x-amz-target".into(),
                "Comprehend_20171127.DescribeDocumentClassificationJob".into(),
            ),
        ]
    }

    #[test]
    fn non_ascii_dates_are_refused_not_panicked_on() {
        // Regression (fuzz/seeds/service_request/crash-2b713d66...): 16 bytes whose 9th byte is
        // inside a multi-byte character.
        let date = "20!3111\u{2ab}22q32\u{10}Z";
        assert_eq!(date.len(), 16);
        assert_eq!(parse_amz_date(date), None);
        let hs = headers(date);
        let req = SignedRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &hs,
            body: b"{}",
        };
        let creds = [Credentials {
            access_key_id: "AKID".into(),
            secret_access_key: "secret".into(),
        }];
        assert!(verify(&req, &creds, 1_700_000_000).is_err());
    }

    #[test]
    fn signing_key_matches_the_aws_documentation_example() {
        // From AWS's "Examples of how to derive a signing key for Signature Version 4".
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex(&key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn verifies_good_and_refuses_tampered_requests() {
        let creds = Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "secret".into(),
        };
        let date = "20261129T044027Z";
        let now = parse_amz_date(date).unwrap();
        let mut hs = headers(date);
        let body = br#"{"JobId": "job-1"}"#;
        let signed = "content-type;host;x-amz-date;x-amz-target";
        let req = SignedRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &hs,
            body,
        };
        let auth = sign(&req, &creds, "us-east-1", date, signed);
        hs.push(("authorization".into(), auth.clone()));
        let ok = SignedRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &hs,
            body,
        };
        let v = verify(&ok, std::slice::from_ref(&creds), now).unwrap();
        assert_eq!(v.region, "us-east-1");

        let tampered = SignedRequest {
            body: br#"{"JobId": "job-2"}"#,
            ..ok
        };
        assert_eq!(
            verify(&tampered, std::slice::from_ref(&creds), now)
                .unwrap_err()
                .0,
            "InvalidSignatureException"
        );
        let other = Credentials {
            access_key_id: "OTHER".into(),
            ..creds.clone()
        };
        assert_eq!(
            verify(&ok, &[other], now).unwrap_err().0,
            "UnrecognizedClientException"
        );
        let wrong_secret = Credentials {
            secret_access_key: "nope".into(),
            ..creds.clone()
        };
        assert_eq!(
            verify(&ok, &[wrong_secret], now).unwrap_err().0,
            "InvalidSignatureException"
        );
        assert_eq!(
            verify(&ok, std::slice::from_ref(&creds), now + 3600)
                .unwrap_err()
                .0,
            "InvalidSignatureException"
        );
        let unsigned = SignedRequest {
            headers: &hs[..4],
            ..ok
        };
        assert_eq!(
            verify(&unsigned, &[creds], now).unwrap_err().0,
            "MissingAuthenticationTokenException"
        );
    }

    #[test]
    fn amz_dates() {
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
        assert_eq!(parse_amz_date("20261129T044027Z"), Some(1_795_927_227));
        assert_eq!(parse_amz_date("2026-11-29"), None);
    }
}
