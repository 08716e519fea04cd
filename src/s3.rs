//! Real S3 (or any S3-compatible store) through the `object_store` crate: prefix listing, ranged
//! streaming reads, small puts and multipart uploads that become visible only when complete.
//!
//! Configuration is the AWS standard: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/
//! `AWS_SESSION_TOKEN`, `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL` (or
//! `AWS_ENDPOINT_URL_S3`) for S3-compatible servers, addressed path-style; without keys in the
//! environment, the profile `AWS_PROFILE` (default `default`) of `~/.aws/credentials` and
//! `~/.aws/config` (or `AWS_SHARED_CREDENTIALS_FILE`/`AWS_CONFIG_FILE`). Requests are retried
//! with exponential backoff (throttling, 5xx, dropped connections) before an error names the URI.
//!
//! The engine is synchronous; this module owns a small tokio runtime and blocks on it, so it may
//! be called from any thread that is not itself driving async tasks.

use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
    WriteMultipart,
};

use crate::error::{Error, Result};

/// `s3://bucket/key`, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Uri {
    pub bucket: String,
    pub key: String,
}

impl S3Uri {
    pub fn parse(uri: &str) -> Result<S3Uri> {
        let rest = uri.strip_prefix("s3://").ok_or_else(|| Error::Uri {
            uri: uri.into(),
            reason: "expected s3://bucket/key".into(),
        })?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(Error::Uri {
                uri: uri.into(),
                reason: "no bucket name; expected s3://bucket/key".into(),
            });
        }
        Ok(S3Uri {
            bucket: bucket.into(),
            key: key.into(),
        })
    }

    pub fn join(&self, name: &str) -> S3Uri {
        let sep = if self.key.is_empty() || self.key.ends_with('/') {
            ""
        } else {
            "/"
        };
        S3Uri {
            bucket: self.bucket.clone(),
            key: format!("{}{sep}{name}", self.key),
        }
    }
}

impl std::fmt::Display for S3Uri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// One listed object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    pub uri: S3Uri,
    pub len: u64,
}

/// Part size of multipart uploads: 16 MiB, or `DOCCLASS_S3_PART_BYTES` (S3 wants at least
/// 5 MiB for every part but the last; values are clamped to 5 MiB-5 GiB).
fn part_bytes() -> usize {
    std::env::var("DOCCLASS_S3_PART_BYTES")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(16 << 20, |n| n.clamp(5 << 20, 5 << 30))
}
/// Ranged reads: block size and how many blocks are fetched ahead of the reader.
const READ_BLOCK: u64 = 8 << 20;
const READ_AHEAD: usize = 3;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("docclass-s3")
            .enable_all()
            .build()
            .expect("a tokio runtime for S3 I/O")
    })
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    runtime().block_on(f)
}

/// The store for `bucket`, built once per bucket from the environment.
fn store(bucket: &str) -> Result<Arc<dyn ObjectStore>> {
    static STORES: OnceLock<Mutex<HashMap<String, Arc<dyn ObjectStore>>>> = OnceLock::new();
    let mut stores = STORES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(s) = stores.get(bucket) {
        return Ok(Arc::clone(s));
    }
    let built: Arc<dyn ObjectStore> =
        Arc::new(builder(bucket).build().map_err(|e| Error::Uri {
            uri: format!("s3://{bucket}/"),
            reason: format!("S3 is not configured: {e}"),
        })?);
    stores.insert(bucket.to_string(), Arc::clone(&built));
    Ok(built)
}

/// S3 settings a front end gives explicitly (the CLI's `--endpoint-url` and `--profile`); they
/// win over the standard AWS environment variables they stand for.
#[derive(Debug, Clone, Default)]
pub struct S3Settings {
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
}

static SETTINGS: OnceLock<S3Settings> = OnceLock::new();

/// Sets the explicit S3 settings, once, before the first S3 call (later calls are ignored).
pub fn configure(settings: S3Settings) {
    let _ = SETTINGS.set(settings);
}

/// The standard variable `key`, unless an explicit setting stands for it.
fn setting(key: &str) -> Option<String> {
    let explicit = SETTINGS.get().and_then(|s| match key {
        "AWS_ENDPOINT_URL_S3" => s.endpoint_url.clone(),
        "AWS_PROFILE" => s.profile.clone(),
        _ => None,
    });
    explicit.or_else(|| std::env::var(key).ok().filter(|v| !v.is_empty()))
}

fn builder(bucket: &str) -> AmazonS3Builder {
    let env = setting;
    // Client options first: they hold allow_http, which the endpoint below may turn on.
    let mut b = AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .with_client_options(
            ClientOptions::new()
                .with_connect_timeout(Duration::from_secs(5))
                .with_timeout(Duration::from_secs(300)),
        );
    let profile = Profile::load(&env);
    if env("AWS_ACCESS_KEY_ID").is_none() {
        if let Some(id) = profile.get("aws_access_key_id") {
            b = b.with_access_key_id(id);
        }
        if let Some(secret) = profile.get("aws_secret_access_key") {
            b = b.with_secret_access_key(secret);
        }
        if let Some(token) = profile.get("aws_session_token") {
            b = b.with_token(token);
        }
    }
    let region = env("AWS_REGION")
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .or_else(|| profile.get("region"))
        .unwrap_or_else(|| "us-east-1".into());
    b = b.with_region(region);
    let endpoint = env("AWS_ENDPOINT_URL_S3")
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .or_else(|| profile.get("endpoint_url"));
    if let Some(e) = endpoint {
        // S3-compatible servers: path-style addressing, plain HTTP allowed on an explicit URL.
        b = b
            .with_allow_http(e.starts_with("http://"))
            .with_virtual_hosted_style_request(false)
            .with_endpoint(e);
    }
    let retries = env("DOCCLASS_S3_MAX_RETRIES")
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    b.with_retry(RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(8),
            base: 2.0,
        },
        max_retries: retries,
        retry_timeout: Duration::from_secs(60),
    })
}

/// The settings of one profile from the shared credentials and config files.
#[derive(Default)]
struct Profile(HashMap<String, String>);

impl Profile {
    fn load(env: &dyn Fn(&str) -> Option<String>) -> Profile {
        let name = env("AWS_PROFILE").unwrap_or_else(|| "default".into());
        let home = env("HOME").unwrap_or_default();
        let credentials = env("AWS_SHARED_CREDENTIALS_FILE")
            .unwrap_or_else(|| format!("{home}/.aws/credentials"));
        let config = env("AWS_CONFIG_FILE").unwrap_or_else(|| format!("{home}/.aws/config"));
        let mut p = Profile::default();
        // The config file names sections "profile NAME" (except "default"); credentials win.
        let config_section = if name == "default" {
            name.clone()
        } else {
            format!("profile {name}")
        };
        p.read(Path::new(&config), &config_section);
        p.read(Path::new(&credentials), &name);
        p
    }

    fn read(&mut self, path: &Path, section: &str) {
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        let mut inside = false;
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                inside = name.trim() == section;
            } else if inside {
                if let Some((k, v)) = line.split_once('=') {
                    self.0
                        .insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                }
            }
        }
    }

    fn get(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
}

/// An object_store error as a docclass error naming the URI and what to check.
fn failed(uri: &S3Uri, action: &str, e: object_store::Error) -> Error {
    Error::Io {
        path: uri.to_string().into(),
        cause: std::io::Error::other(describe(action, e)),
    }
}

/// What failed, the server's answer, and what to check.
fn describe(action: &str, e: object_store::Error) -> String {
    let text = e.to_string();
    let hint = match &e {
        object_store::Error::NotFound { .. } => "; check the bucket and key",
        object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. } => {
            "; check the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE) and the bucket policy"
        }
        // Listing errors come back generic: tell them apart by the status in the message.
        _ if text.contains("403") || text.contains("SignatureDoesNotMatch") => {
            "; check the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE) and the bucket policy"
        }
        _ if text.contains("404") || text.contains("NoSuchBucket") => "; check the bucket name",
        _ => "; check the endpoint (AWS_ENDPOINT_URL), the network and the credentials, then run again",
    };
    format!("{action} failed: {text}{hint}")
}

/// Every object whose key starts with `prefix.key`, sorted by key bytes (S3 prefix semantics:
/// `s3://b/in/doc` matches `in/doc1.txt` and `in/doc/x.txt`).
pub fn list(prefix: &S3Uri) -> Result<Vec<S3Object>> {
    let store = store(&prefix.bucket)?;
    // object_store lists by whole path segments; list the prefix's folder and filter.
    let folder = match prefix.key.rfind('/') {
        Some(i) => &prefix.key[..i],
        None => "",
    };
    let folder_path = (!folder.is_empty()).then(|| ObjectPath::from(folder));
    let metas: Vec<object_store::ObjectMeta> =
        block_on(async { store.list(folder_path.as_ref()).try_collect().await })
            .map_err(|e| failed(prefix, "listing", e))?;
    let mut objects: Vec<S3Object> = metas
        .into_iter()
        .filter(|m| m.location.as_ref().starts_with(prefix.key.as_str()))
        .map(|m| S3Object {
            uri: S3Uri {
                bucket: prefix.bucket.clone(),
                key: m.location.as_ref().to_string(),
            },
            len: m.size,
        })
        .collect();
    objects.sort_by(|a, b| a.uri.key.as_bytes().cmp(b.uri.key.as_bytes()));
    Ok(objects)
}

/// The bytes `range` of an object.
pub fn read_range(uri: &S3Uri, range: Range<u64>) -> Result<Vec<u8>> {
    if range.is_empty() {
        return Ok(Vec::new());
    }
    let store = store(&uri.bucket)?;
    let path = ObjectPath::from(uri.key.as_str());
    block_on(async { store.get_range(&path, range).await })
        .map(|b| b.to_vec())
        .map_err(|e| failed(uri, "reading", e))
}

/// A whole object (small ones: records, part descriptions, documents).
pub fn read_all(uri: &S3Uri) -> Result<Vec<u8>> {
    let store = store(&uri.bucket)?;
    let path = ObjectPath::from(uri.key.as_str());
    block_on(async { store.get(&path).await?.bytes().await })
        .map(|b| b.to_vec())
        .map_err(|e| failed(uri, "reading", e))
}

/// Stores a small object in one request (atomic: readers see all of it or nothing).
pub fn put(uri: &S3Uri, bytes: Vec<u8>) -> Result<()> {
    let store = store(&uri.bucket)?;
    let path = ObjectPath::from(uri.key.as_str());
    block_on(async { store.put(&path, PutPayload::from(bytes)).await })
        .map(|_| ())
        .map_err(|e| failed(uri, "writing", e))
}

pub fn delete(uri: &S3Uri) -> Result<()> {
    let store = store(&uri.bucket)?;
    let path = ObjectPath::from(uri.key.as_str());
    match block_on(async { store.delete(&path).await }) {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(e) => Err(failed(uri, "deleting", e)),
    }
}

/// Uploads a local file as a multipart upload that completes only once every part is in; on
/// any failure the upload is aborted, so nothing appears at `uri`.
pub fn upload(file: &Path, uri: &S3Uri) -> Result<()> {
    let store = store(&uri.bucket)?;
    let path = ObjectPath::from(uri.key.as_str());
    let mut source = std::fs::File::open(file).map_err(|e| Error::io(file, e))?;
    block_on(async {
        let upload = store
            .put_multipart(&path)
            .await
            .map_err(|e| failed(uri, "starting the upload", e))?;
        let part = part_bytes();
        let mut writer = WriteMultipart::new_with_chunk_size(upload, part);
        let mut buf = vec![0u8; part.min(8 << 20)];
        loop {
            let n = match source.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(Error::io(file, e));
                }
            };
            // At most four parts in flight: bounded memory, and parallel upload.
            if let Err(e) = writer.wait_for_capacity(4).await {
                return Err(failed(uri, "uploading", e));
            }
            writer.write(&buf[..n]);
        }
        writer
            .finish()
            .await
            .map(|_| ())
            .map_err(|e| failed(uri, "completing the upload", e))
    })
}

/// Streams an object with ranged GETs, a few blocks ahead of the reader, so a big object is
/// never held whole and a dropped connection costs one retried block.
pub struct RangeReader {
    store: Arc<dyn ObjectStore>,
    path: ObjectPath,
    len: u64,
    next_fetch: u64,
    ahead: VecDeque<tokio::task::JoinHandle<object_store::Result<bytes::Bytes>>>,
    current: bytes::Bytes,
}

impl RangeReader {
    pub fn open(object: &S3Object) -> Result<RangeReader> {
        Ok(RangeReader {
            store: store(&object.uri.bucket)?,
            path: ObjectPath::from(object.uri.key.as_str()),
            len: object.len,
            next_fetch: 0,
            ahead: VecDeque::new(),
            current: bytes::Bytes::new(),
        })
    }

    fn fill_ahead(&mut self) {
        while self.ahead.len() < READ_AHEAD && self.next_fetch < self.len {
            let range = self.next_fetch..(self.next_fetch + READ_BLOCK).min(self.len);
            self.next_fetch = range.end;
            let (store, path) = (Arc::clone(&self.store), self.path.clone());
            self.ahead
                .push_back(runtime().spawn(async move { store.get_range(&path, range).await }));
        }
    }
}

impl Read for RangeReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.current.is_empty() {
            self.fill_ahead();
            let Some(next) = self.ahead.pop_front() else {
                return Ok(0);
            };
            self.current = block_on(next)
                .map_err(std::io::Error::other)?
                .map_err(|e| std::io::Error::other(describe("reading", e)))?;
            self.fill_ahead();
        }
        let n = out.len().min(self.current.len());
        out[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}

impl Drop for RangeReader {
    fn drop(&mut self) {
        for task in &self.ahead {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_split_and_join() {
        let u = S3Uri::parse("s3://bucket/in/docs").unwrap();
        assert_eq!((u.bucket.as_str(), u.key.as_str()), ("bucket", "in/docs"));
        assert_eq!(u.join("x").to_string(), "s3://bucket/in/docs/x");
        assert_eq!(
            S3Uri::parse("s3://bucket").unwrap().join("a").to_string(),
            "s3://bucket/a"
        );
        assert!(S3Uri::parse("s3:///key").is_err());
        assert!(S3Uri::parse("/local").is_err());
    }

    #[test]
    fn profiles_come_from_the_shared_files() {
        let dir = tempfile::tempdir().unwrap();
        let creds = dir.path().join("credentials");
        let config = dir.path().join("config");
        std::fs::write(
            &creds,
            "[default]\naws_access_key_id = D\n[work]\naws_access_key_id = W\naws_secret_access_key = S\n",
        )
        .unwrap();
        std::fs::write(
            &config,
            "[profile work]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:9000\n",
        )
        .unwrap();
        let vars: HashMap<&str, String> = [
            ("AWS_PROFILE", "work".to_string()),
            ("AWS_SHARED_CREDENTIALS_FILE", creds.display().to_string()),
            ("AWS_CONFIG_FILE", config.display().to_string()),
        ]
        .into();
        let p = Profile::load(&|k| vars.get(k).cloned());
        assert_eq!(p.get("aws_access_key_id").as_deref(), Some("W"));
        assert_eq!(p.get("aws_secret_access_key").as_deref(), Some("S"));
        assert_eq!(p.get("region").as_deref(), Some("eu-west-1"));
        assert_eq!(
            p.get("endpoint_url").as_deref(),
            Some("http://127.0.0.1:9000")
        );
    }
}
