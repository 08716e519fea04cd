//! Comprehend's operations over the local engine: request validation as the API model states it,
//! job and classifier records in the shared job store and model registry, and a bounded pool of
//! worker threads that runs queued classification and training jobs. No HTTP here: `handle`
//! takes an operation name and a JSON body, so tests can call it directly.

use std::collections::{HashMap, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use serde_json::{json, Map, Value};

use super::error::ApiError;
use crate::aws::{self, Identity};
use crate::input::labeled::{DataFormat, ManifestSpec, ReadOptions};
use crate::input::{uri, SplitMode, Utf8Policy};
use crate::job::record::{JobRecord, JobStatus};
use crate::job::run::{self, ClassifyConfig};
use crate::job::store::JobStore;
use crate::job::train::{self, TrainConfig, LANGUAGES};
use crate::model::io::write_atomic;
use crate::model::io::ScoreScratch;
use crate::model::registry::{ClassifierRecord, Registry};
use crate::model::{Classifier, Mode, TrainParams};
use crate::output::jsonl::rank_into;
use crate::text::FeatureSpec;

/// Largest `Text` ClassifyDocument takes, as Comprehend's synchronous limit.
pub const MAX_TEXT_BYTES: usize = 10_000;

/// Operations this service implements.
pub const OPERATIONS: &[&str] = &[
    "StartDocumentClassificationJob",
    "DescribeDocumentClassificationJob",
    "ListDocumentClassificationJobs",
    "CreateDocumentClassifier",
    "DescribeDocumentClassifier",
    "ListDocumentClassifiers",
    "DeleteDocumentClassifier",
    "StopTrainingDocumentClassifier",
    "ClassifyDocument",
];

/// Settings of a running service.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub registry: Registry,
    /// Holds `jobs/` (job records) and `classifiers/` (classifiers being trained).
    pub state_dir: PathBuf,
    pub s3_root: Option<PathBuf>,
    /// Jobs (classification or training) running at once; the rest wait as SUBMITTED.
    pub concurrency: usize,
    /// Jobs queued or running at most; more are refused with TooManyRequestsException.
    pub max_queued_jobs: usize,
}

enum Task {
    Classify(String),
    Train(String),
}

/// The service state shared by all requests and workers.
pub struct Service {
    cfg: ServiceConfig,
    store: JobStore,
    queue: Mutex<VecDeque<Task>>,
    /// Tasks taken from the queue and not finished.
    running: std::sync::atomic::AtomicUsize,
    wake: Condvar,
    /// Serialises read-check-write sequences on records (idempotency, duplicate names).
    records: Mutex<()>,
    models: Mutex<HashMap<PathBuf, (std::time::SystemTime, Arc<Classifier>)>>,
}

fn field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.get(name).filter(|x| !x.is_null())
}

fn constraint(name: &str, value: &str, what: &str) -> ApiError {
    ApiError::invalid(format!(
        "1 validation error detected: Value '{value}' at '{name}' failed to satisfy constraint: Member must {what}"
    ))
}

/// A string member: required or not, within `min..=max` characters, accepted by `ok`.
fn string(
    v: &Value,
    name: &str,
    required: bool,
    max: usize,
    ok: impl Fn(&str) -> bool,
    what: &str,
) -> Result<Option<String>, ApiError> {
    match field(v, name) {
        None if required => Err(ApiError::invalid(format!(
            "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"
        ))),
        None => Ok(None),
        Some(Value::String(s)) => {
            if s.is_empty() || s.chars().count() > max {
                return Err(constraint(name, s, &format!("have length between 1 and {max}")));
            }
            if !ok(s) {
                return Err(constraint(name, s, what));
            }
            Ok(Some(s.clone()))
        }
        Some(other) => Err(ApiError::new(
            "SerializationException",
            format!("'{name}' must be a string, got {other}"),
        )),
    }
}

fn any(_: &str) -> bool {
    true
}

fn s3_uri_ok(s: &str) -> bool {
    s.strip_prefix("s3://")
        .is_some_and(|rest| uri::bucket_ok(rest.split('/').next().unwrap_or("")))
}

const S3_PATTERN: &str =
    "satisfy regular expression pattern: s3://[a-z0-9][\\.\\-a-z0-9]{1,61}[a-z0-9](/.*)?";

fn role_ok(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("arn:aws") else {
        return false;
    };
    let rest = match rest.strip_prefix('-') {
        Some(r) => match r.split_once(':') {
            Some((_, after)) => after,
            None => return false,
        },
        None => match rest.strip_prefix(':') {
            Some(r) => r,
            None => return false,
        },
    };
    let Some(rest) = rest.strip_prefix("iam::") else {
        return false;
    };
    // `get`, not `split_at`: byte 12 of untrusted input may fall inside a character (a panic
    // found by the service_request fuzz target).
    let (Some(account), Some(role)) = (rest.get(..12), rest.get(12..)) else {
        return false;
    };
    s.len() >= 20
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && role.strip_prefix(":role/").is_some_and(|r| !r.is_empty())
}

/// The required `DataAccessRoleArn` member.
fn role_member(body: &Value) -> Result<Option<String>, ApiError> {
    string(
        body,
        "DataAccessRoleArn",
        true,
        2048,
        role_ok,
        "satisfy regular expression pattern: arn:aws(-[^:]+)?:iam::[0-9]{12}:role/.+",
    )
}

/// The optional `ClientRequestToken` member.
fn token_member(body: &Value) -> Result<Option<String>, ApiError> {
    string(
        body,
        "ClientRequestToken",
        false,
        64,
        token_ok,
        "satisfy regular expression pattern: ^[a-zA-Z0-9-]+$",
    )
}

/// A required structure member.
fn required<'a>(body: &'a Value, name: &str) -> Result<&'a Value, ApiError> {
    field(body, name).ok_or_else(|| {
        ApiError::invalid(format!(
            "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

fn job_name_ok(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-%@".contains(c))
}

fn token_ok(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn name_ok(s: &str) -> bool {
    aws::check_resource_name("name", s).is_ok()
}

fn enum_member(v: &Value, name: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
    let what = format!("satisfy enum value set: [{}]", allowed.join(", "));
    string(v, name, false, 64, |s| allowed.contains(&s), &what)
}

fn epoch(v: &Value, name: &str) -> Result<Option<f64>, ApiError> {
    match field(v, name) {
        None => Ok(None),
        Some(x) => x.as_f64().map(Some).ok_or_else(|| {
            ApiError::new(
                "SerializationException",
                format!("'{name}' must be a timestamp"),
            )
        }),
    }
}

fn max_results(body: &Value) -> Result<usize, ApiError> {
    match field(body, "MaxResults") {
        None => Ok(100),
        Some(v) => match v.as_u64() {
            Some(n @ 1..=500) => Ok(n as usize),
            _ => Err(constraint(
                "MaxResults",
                &v.to_string(),
                "have value between 1 and 500",
            )),
        },
    }
}

fn next_token(body: &Value) -> Result<usize, ApiError> {
    match string(body, "NextToken", false, 4096, any, "")? {
        None => Ok(0),
        Some(t) => t
            .strip_prefix("offset-")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| {
                ApiError::invalid(format!(
                    "invalid NextToken '{t}': pass the NextToken of the previous page"
                ))
            }),
    }
}

/// One page of `items` and the token of the next, if any.
fn page<T>(items: Vec<T>, start: usize, max: usize) -> (Vec<T>, Option<String>) {
    let total = items.len();
    let end = (start + max).min(total);
    let page: Vec<T> = items
        .into_iter()
        .skip(start)
        .take(end.saturating_sub(start))
        .collect();
    let next = (end < total).then(|| format!("offset-{end}"));
    (page, next)
}

fn record_json(r: &JobRecord) -> Value {
    serde_json::to_value(r).unwrap_or_default()
}

impl Service {
    /// Opens the state folders, recovers jobs left behind by a previous run and starts the workers.
    pub fn start(cfg: ServiceConfig) -> crate::Result<Arc<Service>> {
        let store = JobStore::new(cfg.state_dir.join("jobs"));
        fs::create_dir_all(store.dir()).map_err(|e| crate::Error::io(store.dir(), e))?;
        let pending = cfg.state_dir.join("classifiers");
        fs::create_dir_all(&pending).map_err(|e| crate::Error::io(&pending, e))?;
        let service = Arc::new(Service {
            cfg,
            store,
            queue: Mutex::new(VecDeque::new()),
            running: Default::default(),
            wake: Condvar::new(),
            records: Mutex::new(()),
            models: Mutex::new(HashMap::new()),
        });
        service.recover()?;
        for _ in 0..service.cfg.concurrency.max(1) {
            let s = Arc::clone(&service);
            std::thread::spawn(move || s.worker());
        }
        Ok(service)
    }

    /// Jobs still SUBMITTED are queued again; records of work that was running when the previous
    /// process died are failed (the job store does that for jobs as it reads them).
    fn recover(&self) -> crate::Result<()> {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        for r in self.store.list()? {
            if r.job_status == JobStatus::Submitted {
                queue.push_back(Task::Classify(r.job_id));
            }
        }
        for (key, mut rec) in self.pending_records()? {
            match rec.status.as_str() {
                "SUBMITTED" => queue.push_back(Task::Train(key)),
                "TRAINING" | "STOP_REQUESTED" => {
                    rec.status = "IN_ERROR".into();
                    rec.message = Some(
                        "the service stopped while this classifier was training; create it again"
                            .into(),
                    );
                    rec.end_time = Some(aws::now_epoch());
                    self.save_pending(&key, &rec)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn worker(self: Arc<Self>) {
        loop {
            let task = {
                let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                loop {
                    if let Some(t) = q.pop_front() {
                        self.running.fetch_add(1, Ordering::SeqCst);
                        break t;
                    }
                    q = self.wake.wait(q).unwrap_or_else(|e| e.into_inner());
                }
            };
            // A bug in one job must not take a worker away from the others.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match &task {
                Task::Classify(id) => self.run_classification(id),
                Task::Train(key) => self.run_training(key),
            }));
            if outcome.is_err() {
                self.fail_after_panic(&task);
            }
            self.running.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Refuses new work when `max_queued_jobs` tasks are already queued or running, as
    /// Comprehend refuses jobs over its concurrency quota; SDKs retry it with backoff.
    fn admit(&self) -> Result<(), ApiError> {
        let queued = self.queue.lock().unwrap_or_else(|e| e.into_inner()).len();
        let busy = queued + self.running.load(Ordering::SeqCst);
        if busy >= self.cfg.max_queued_jobs {
            return Err(ApiError::new(
                "TooManyRequestsException",
                format!(
                    "{busy} jobs are queued or running, the most this service accepts (--max-queued-jobs {}); retry later",
                    self.cfg.max_queued_jobs
                ),
            ));
        }
        Ok(())
    }

    fn fail_after_panic(&self, task: &Task) {
        let message =
            "docclass failed internally while running this job; please report it".to_string();
        match task {
            Task::Classify(id) => {
                if let Ok(mut r) = self.store.load(id) {
                    if !r.job_status.is_terminal() {
                        r.job_status = JobStatus::Failed;
                        r.message = Some(message);
                        r.end_time = Some(aws::now_epoch());
                        r.docclass.pid = None;
                        let _ = self.store.save(&r);
                    }
                }
            }
            Task::Train(key) => {
                if let Some(mut r) = self.load_pending(key) {
                    r.status = "IN_ERROR".into();
                    r.message = Some(message);
                    r.end_time = Some(aws::now_epoch());
                    let _ = self.save_pending(key, &r);
                }
            }
        }
    }

    fn enqueue(&self, task: Task) {
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(task);
        self.wake.notify_one();
    }

    /// Answers one operation. `region` comes from the request's signature (or the default).
    pub fn handle(&self, op: &str, body: &[u8], region: &str) -> Result<Value, ApiError> {
        let body: Value = if body.is_empty() {
            json!({})
        } else {
            serde_json::from_slice(body).map_err(|e| {
                ApiError::new(
                    "SerializationException",
                    format!("request body is not JSON: {e}"),
                )
            })?
        };
        if !body.is_object() {
            return Err(ApiError::new(
                "SerializationException",
                "request body must be a JSON object",
            ));
        }
        let identity = Identity {
            region: region.to_string(),
            account: self.cfg.registry.identity.account.clone(),
        };
        match op {
            "StartDocumentClassificationJob" => self.start_job(&body, &identity),
            "DescribeDocumentClassificationJob" => self.describe_job(&body),
            "ListDocumentClassificationJobs" => self.list_jobs(&body),
            "CreateDocumentClassifier" => self.create_classifier(&body, &identity),
            "DescribeDocumentClassifier" => self.describe_classifier(&body),
            "ListDocumentClassifiers" => self.list_classifiers(&body),
            "DeleteDocumentClassifier" => self.delete_classifier(&body),
            "StopTrainingDocumentClassifier" => self.stop_training(&body),
            "ClassifyDocument" => self.classify_document(&body),
            other => Err(ApiError::new(
                "UnknownOperationException",
                format!(
                    "operation '{other}' is not supported by docclass; supported: {}",
                    OPERATIONS.join(", ")
                ),
            )),
        }
    }

    /// The URI the engine reads: mapped under `--s3-root` when the service has one, else the
    /// `s3://` URI itself, read from real S3 (AWS, or the endpoint in AWS_ENDPOINT_URL).
    fn local(&self, s3: &str) -> Result<String, ApiError> {
        if self.cfg.s3_root.is_none() {
            crate::s3::S3Uri::parse(s3).map_err(ApiError::from)?;
            return Ok(s3.to_string());
        }
        uri::resolve(s3, self.cfg.s3_root.as_deref()).map_err(ApiError::from)
    }

    fn classify_config(
        &self,
        record: &JobRecord,
        identity: &Identity,
    ) -> Result<ClassifyConfig, ApiError> {
        let split = record
            .input_data_config
            .input_format
            .parse::<SplitMode>()
            .map_err(ApiError::from)?;
        let mut cfg = ClassifyConfig::new(
            &record.input_data_config.s3_uri,
            split,
            &record.output_data_config.s3_uri,
            &record.job_id,
            identity.clone(),
        );
        cfg.job_name = record.job_name.clone();
        cfg.s3_root = self.cfg.s3_root.clone();
        Ok(cfg)
    }

    fn start_job(&self, body: &Value, identity: &Identity) -> Result<Value, ApiError> {
        let job_name = string(
            body,
            "JobName",
            false,
            256,
            job_name_ok,
            "satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-%@]*)$",
        )?;
        let classifier_arn = string(body, "DocumentClassifierArn", false, 256, any, "")?;
        let role = role_member(body)?;
        let token = token_member(body)?;
        let input = required(body, "InputDataConfig")?;
        let output = required(body, "OutputDataConfig")?;
        let in_uri = string(input, "S3Uri", true, 1024, s3_uri_ok, S3_PATTERN)?.unwrap_or_default();
        let format = enum_member(
            input,
            "InputFormat",
            &["ONE_DOC_PER_FILE", "ONE_DOC_PER_LINE"],
        )?
        .unwrap_or_else(|| "ONE_DOC_PER_LINE".into());
        if field(input, "DocumentReaderConfig").is_some() {
            return Err(ApiError::invalid(
                "DocumentReaderConfig (PDF, Word and image input) is not supported by docclass; send plain text",
            ));
        }
        let out_uri =
            string(output, "S3Uri", true, 1024, s3_uri_ok, S3_PATTERN)?.unwrap_or_default();
        if field(body, "FlywheelArn").is_some() {
            return Err(ApiError::invalid(
                "FlywheelArn is not supported by docclass; pass DocumentClassifierArn",
            ));
        }
        let classifier_arn = classifier_arn.ok_or_else(|| {
            ApiError::invalid("DocumentClassifierArn is required (docclass has no flywheels)")
        })?;
        let model_dir = self
            .cfg
            .registry
            .resolve(&classifier_arn)
            .map_err(|e| ApiError::new("ResourceNotFoundException", e.to_string()))?;
        self.local(&in_uri)?;
        self.local(&out_uri)?;
        // The caller's account, as Comprehend names output folders and job ARNs by it, is the
        // account of the role it passes.
        let role_account = role
            .as_deref()
            .and_then(|r| r.split(':').nth(4))
            .unwrap_or_default();
        let identity = &Identity {
            region: identity.region.clone(),
            account: role_account.to_string(),
        };

        let _guard = self.records.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = &token {
            if let Some(existing) = self
                .store
                .list()
                .map_err(ApiError::from)?
                .into_iter()
                .find(|r| r.docclass.client_request_token.as_deref() == Some(t))
            {
                return Ok(start_response(&existing));
            }
        }
        self.admit()?;
        let job_id = aws::new_job_id();
        let mut cfg = self.classify_config(
            &JobRecord {
                job_id: job_id.clone(),
                job_arn: String::new(),
                job_name: job_name.clone(),
                job_status: JobStatus::Submitted,
                message: None,
                submit_time: 0.0,
                end_time: None,
                document_classifier_arn: classifier_arn.clone(),
                input_data_config: crate::job::record::InputDataConfig {
                    s3_uri: in_uri.clone(),
                    input_format: format.clone(),
                },
                output_data_config: crate::job::record::OutputDataConfig {
                    s3_uri: out_uri.clone(),
                },
                data_access_role_arn: None,
                docclass: Default::default(),
            },
            identity,
        )?;
        cfg.job_name = job_name;
        let mut record = run::submit(&cfg, &model_dir, &self.store).map_err(ApiError::from)?;
        record.document_classifier_arn = classifier_arn;
        record.data_access_role_arn = role;
        record.docclass.client_request_token = token;
        self.store.save(&record).map_err(ApiError::from)?;
        self.enqueue(Task::Classify(record.job_id.clone()));
        Ok(start_response(&record))
    }

    fn run_classification(&self, job_id: &str) {
        let Ok(record) = self.store.load(job_id) else {
            return;
        };
        if record.job_status != JobStatus::Submitted {
            return;
        }
        let arn: Vec<&str> = record.job_arn.split(':').collect();
        let identity = Identity {
            region: arn.get(3).unwrap_or(&"").to_string(),
            account: arn.get(4).unwrap_or(&"").to_string(),
        };
        let result = self
            .classify_config(&record, &identity)
            .map_err(|e| e.message)
            .and_then(|cfg| {
                let model_dir = PathBuf::from(&record.docclass.model_path);
                run::execute(
                    &cfg,
                    &model_dir,
                    &self.store,
                    record.clone(),
                    &mut |_| {},
                    &AtomicBool::new(false),
                )
                .map_err(|e| e.to_string())
            });
        if let Err(message) = result {
            // `execute` records its own failures; this covers a record it never got to.
            if let Ok(mut r) = self.store.load(job_id) {
                if !r.job_status.is_terminal() {
                    r.job_status = JobStatus::Failed;
                    r.message = Some(message);
                    r.end_time = Some(aws::now_epoch());
                    let _ = self.store.save(&r);
                }
            }
        }
    }

    fn describe_job(&self, body: &Value) -> Result<Value, ApiError> {
        let id = string(
            body,
            "JobId",
            true,
            32,
            job_name_ok,
            "satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-%@]*)$",
        )?
        .unwrap_or_default();
        if !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ApiError::new(
                "JobNotFoundException",
                format!("Job {id} not found"),
            ));
        }
        match self.store.load(&id) {
            Ok(r) => Ok(json!({"DocumentClassificationJobProperties": record_json(&r)})),
            Err(crate::Error::JobNotFound(_)) => Err(ApiError::new(
                "JobNotFoundException",
                format!("Job {id} not found"),
            )),
            Err(e) => Err(e.into()),
        }
    }

    fn list_jobs(&self, body: &Value) -> Result<Value, ApiError> {
        let max = max_results(body)?;
        let start = next_token(body)?;
        let mut jobs = self.store.list().map_err(ApiError::from)?;
        if let Some(filter) = field(body, "Filter") {
            let set: Vec<&String> = filter
                .as_object()
                .map(|o| {
                    o.iter()
                        .filter(|(_, v)| !v.is_null())
                        .map(|(k, _)| k)
                        .collect()
                })
                .unwrap_or_default();
            if set.len() > 1 {
                return Err(ApiError::new(
                    "InvalidFilterException",
                    "The filter specified for the operation is invalid: give only one of JobName, JobStatus, SubmitTimeBefore, SubmitTimeAfter",
                ));
            }
            if let Some(name) = string(
                filter,
                "JobName",
                false,
                256,
                job_name_ok,
                "be a valid job name",
            )? {
                jobs.retain(|j| j.job_name.as_deref() == Some(name.as_str()));
            }
            let statuses = [
                "SUBMITTED",
                "IN_PROGRESS",
                "COMPLETED",
                "FAILED",
                "STOP_REQUESTED",
                "STOPPED",
            ];
            if let Some(status) = enum_member(filter, "JobStatus", &statuses)? {
                jobs.retain(|j| {
                    serde_json::to_value(j.job_status).ok() == Some(Value::String(status.clone()))
                });
            }
            if let Some(t) = epoch(filter, "SubmitTimeBefore")? {
                jobs.retain(|j| j.submit_time < t);
            }
            if let Some(t) = epoch(filter, "SubmitTimeAfter")? {
                jobs.retain(|j| j.submit_time > t);
                jobs.reverse();
            }
        }
        let (items, next) = page(jobs, start, max);
        let mut out = Map::new();
        out.insert(
            "DocumentClassificationJobPropertiesList".into(),
            Value::Array(items.iter().map(record_json).collect()),
        );
        if let Some(n) = next {
            out.insert("NextToken".into(), n.into());
        }
        Ok(Value::Object(out))
    }

    fn pending_dir(&self) -> PathBuf {
        self.cfg.state_dir.join("classifiers")
    }

    fn pending_key(name: &str, version: Option<&str>) -> String {
        match version {
            Some(v) => format!("{name}@{v}"),
            None => name.to_string(),
        }
    }

    fn save_pending(&self, key: &str, rec: &ClassifierRecord) -> crate::Result<()> {
        let mut bytes = serde_json::to_vec_pretty(rec)?;
        bytes.push(b'\n');
        write_atomic(&self.pending_dir().join(format!("{key}.json")), &bytes)
    }

    fn load_pending(&self, key: &str) -> Option<ClassifierRecord> {
        let bytes = fs::read(self.pending_dir().join(format!("{key}.json"))).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    fn pending_records(&self) -> crate::Result<Vec<(String, ClassifierRecord)>> {
        let mut out = Vec::new();
        let dir = self.pending_dir();
        let entries = fs::read_dir(&dir).map_err(|e| crate::Error::io(&dir, e))?;
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(key) = name.strip_suffix(".json") {
                if let Some(rec) = self.load_pending(key) {
                    out.push((key.to_string(), rec));
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn create_classifier(&self, body: &Value, identity: &Identity) -> Result<Value, ApiError> {
        let pattern = "satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9])*$";
        let name =
            string(body, "DocumentClassifierName", true, 63, name_ok, pattern)?.unwrap_or_default();
        let version = string(body, "VersionName", false, 63, name_ok, pattern)?;
        let role = role_member(body)?.unwrap_or_default();
        token_member(body)?;
        let identity = &Identity {
            region: identity.region.clone(),
            account: role.split(':').nth(4).unwrap_or_default().to_string(),
        };
        let language = string(
            body,
            "LanguageCode",
            true,
            8,
            |s| LANGUAGES.contains(&s),
            &format!("satisfy enum value set: [{}]", LANGUAGES.join(", ")),
        )?
        .unwrap_or_default();
        let mode: Mode = enum_member(body, "Mode", &["MULTI_CLASS", "MULTI_LABEL"])?
            .unwrap_or_else(|| "MULTI_CLASS".into())
            .parse()
            .map_err(ApiError::from)?;
        let input = required(body, "InputDataConfig")?;
        let format: DataFormat = enum_member(
            input,
            "DataFormat",
            &["COMPREHEND_CSV", "AUGMENTED_MANIFEST"],
        )?
        .unwrap_or_else(|| "COMPREHEND_CSV".into())
        .parse()
        .map_err(ApiError::from)?;
        if enum_member(
            input,
            "DocumentType",
            &["PLAIN_TEXT_DOCUMENT", "SEMI_STRUCTURED_DOCUMENT"],
        )?
        .as_deref()
            == Some("SEMI_STRUCTURED_DOCUMENT")
        {
            return Err(ApiError::invalid(
                "SEMI_STRUCTURED_DOCUMENT is not supported by docclass; train on plain text",
            ));
        }
        let train_uri = string(input, "S3Uri", false, 1024, s3_uri_ok, S3_PATTERN)?;
        let test_uri = string(input, "TestS3Uri", false, 1024, s3_uri_ok, S3_PATTERN)?;
        string(
            input,
            "LabelDelimiter",
            false,
            1,
            |s| " ~!@#$%^*-_+=|\\:;\t>?/".contains(s),
            "satisfy regular expression pattern: ^[ ~!@#$%^*\\-_+=|\\\\:;\\t>?/]$",
        )?;
        let manifests: Vec<ManifestSpec> = match field(input, "AugmentedManifests") {
            Some(v) => serde_json::from_value(v.clone())
                .map_err(|e| ApiError::invalid(format!("AugmentedManifests: {e}")))?,
            None => Vec::new(),
        };
        match format {
            DataFormat::AugmentedManifest if manifests.is_empty() => {
                return Err(ApiError::invalid(
                    "AUGMENTED_MANIFEST needs AugmentedManifests",
                ))
            }
            DataFormat::ComprehendCsv if train_uri.is_none() => {
                return Err(ApiError::invalid(
                    "InputDataConfig.S3Uri is required for COMPREHEND_CSV",
                ))
            }
            _ => {}
        }
        for uri in train_uri
            .iter()
            .chain(test_uri.iter())
            .chain(manifests.iter().map(|m| &m.s3_uri))
        {
            if !s3_uri_ok(uri) {
                return Err(constraint("S3Uri", uri, S3_PATTERN));
            }
            self.local(uri)?;
        }
        let _guard = self.records.lock().unwrap_or_else(|e| e.into_inner());
        let key = Self::pending_key(&name, version.as_deref());
        let in_registry = self
            .cfg
            .registry
            .folder_for(&name, version.as_deref())
            .exists();
        let pending = self.load_pending(&key);
        if in_registry
            || pending
                .as_ref()
                .is_some_and(|p| p.status != "IN_ERROR" && p.status != "STOPPED")
        {
            return Err(ApiError::new(
                "ResourceInUseException",
                format!(
                    "a classifier named {name}{} already exists",
                    version
                        .map(|v| format!(" with version {v}"))
                        .unwrap_or_default()
                ),
            ));
        }
        self.admit()?;
        let arn = identity.classifier_arn(&name, version.as_deref());
        let record = ClassifierRecord {
            document_classifier_arn: arn.clone(),
            language_code: language,
            status: "SUBMITTED".into(),
            message: None,
            submit_time: aws::now_epoch(),
            end_time: None,
            training_start_time: None,
            training_end_time: None,
            input_data_config: input.clone(),
            output_data_config: field(body, "OutputDataConfig").cloned(),
            classifier_metadata: None,
            mode,
            version_name: version,
        };
        self.save_pending(&key, &record).map_err(ApiError::from)?;
        self.enqueue(Task::Train(key));
        Ok(json!({"DocumentClassifierArn": arn}))
    }

    fn run_training(&self, key: &str) {
        let Some(mut rec) = self.load_pending(key) else {
            return;
        };
        if rec.status != "SUBMITTED" {
            return;
        }
        rec.status = "TRAINING".into();
        rec.training_start_time = Some(aws::now_epoch());
        let _ = self.save_pending(key, &rec);
        let result = self.train_from_record(&rec);
        let mut latest = self.load_pending(key).unwrap_or(rec);
        match result {
            Ok(dir) if latest.status == "STOP_REQUESTED" => {
                let _ = fs::remove_dir_all(dir);
                latest.status = "STOPPED".into();
                latest.end_time = Some(aws::now_epoch());
                let _ = self.save_pending(key, &latest);
            }
            Ok(_) => {
                let _ = fs::remove_file(self.pending_dir().join(format!("{key}.json")));
            }
            Err(message) => {
                latest.status = "IN_ERROR".into();
                latest.message = Some(message);
                latest.end_time = Some(aws::now_epoch());
                let _ = self.save_pending(key, &latest);
            }
        }
    }

    fn train_from_record(&self, rec: &ClassifierRecord) -> Result<PathBuf, String> {
        let arn =
            aws::ClassifierArn::parse(&rec.document_classifier_arn).map_err(|e| e.to_string())?;
        let input = &rec.input_data_config;
        let get = |k: &str| input.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let local = |u: Option<String>| -> Result<Option<String>, String> {
            u.map(|u| self.local(&u).map_err(|e| e.message)).transpose()
        };
        let mut manifests: Vec<ManifestSpec> = match input.get("AugmentedManifests") {
            Some(v) => serde_json::from_value(v.clone()).map_err(|e| e.to_string())?,
            None => Vec::new(),
        };
        for m in &mut manifests {
            m.s3_uri = self.local(&m.s3_uri).map_err(|e| e.message)?;
        }
        let format: DataFormat = get("DataFormat")
            .unwrap_or_else(|| "COMPREHEND_CSV".into())
            .parse()
            .map_err(|e: crate::Error| e.to_string())?;
        let config = TrainConfig {
            name: arn.name.clone(),
            version: arn.version.clone(),
            registry: Registry::new(
                self.cfg.registry.root.clone(),
                Identity {
                    region: arn.region.clone(),
                    account: arn.account.clone(),
                },
            ),
            train_uri: local(get("S3Uri"))?,
            test_uri: local(get("TestS3Uri"))?,
            manifests,
            read: ReadOptions {
                format,
                mode: rec.mode,
                label_delimiter: get("LabelDelimiter")
                    .and_then(|d| d.chars().next())
                    .unwrap_or('|'),
                utf8: Utf8Policy::Error,
            },
            language_code: rec.language_code.clone(),
            features: FeatureSpec::default(),
            params: TrainParams {
                mode: rec.mode,
                ..TrainParams::default()
            },
            min_examples_per_label: 10,
            holdout_fraction: 0.1,
            seed: 20261129,
            input_data_config: rec.input_data_config.clone(),
            output_data_config: rec.output_data_config.clone(),
            overwrite: false,
        };
        let out = train::train(&config, &mut |_| {}).map_err(|e| e.to_string())?;
        // Keep the submission time the client saw.
        let mut record = out.record;
        record.submit_time = rec.submit_time;
        record.save(&out.dir).map_err(|e| e.to_string())?;
        Ok(out.dir)
    }

    fn classifier_arn_member(body: &Value) -> Result<String, ApiError> {
        Ok(string(body, "DocumentClassifierArn", true, 256, any, "")?.unwrap_or_default())
    }

    /// A classifier's record: trained (in the registry) or pending (being trained, failed).
    fn find_classifier(&self, arn: &str) -> Result<(Option<PathBuf>, ClassifierRecord), ApiError> {
        let not_found = || {
            ApiError::new(
                "ResourceNotFoundException",
                format!("The specified resource ARN was not found: {arn}. Check the ARN and try your request again."),
            )
        };
        let parsed = aws::ClassifierArn::parse(arn).map_err(|_| not_found())?;
        if let Ok(dir) = self.cfg.registry.resolve(arn) {
            let rec = ClassifierRecord::load(&dir).map_err(ApiError::from)?;
            return Ok((Some(dir), rec));
        }
        let key = Self::pending_key(&parsed.name, parsed.version.as_deref());
        self.load_pending(&key)
            .map(|r| (None, r))
            .ok_or_else(not_found)
    }

    fn describe_classifier(&self, body: &Value) -> Result<Value, ApiError> {
        let arn = Self::classifier_arn_member(body)?;
        let (_, rec) = self.find_classifier(&arn)?;
        Ok(json!({"DocumentClassifierProperties": rec}))
    }

    fn list_classifiers(&self, body: &Value) -> Result<Value, ApiError> {
        let max = max_results(body)?;
        let start = next_token(body)?;
        let mut all: Vec<ClassifierRecord> = Vec::new();
        for dir in self.cfg.registry.list().map_err(ApiError::from)? {
            if let Ok(r) = ClassifierRecord::load(&dir) {
                all.push(r);
            }
        }
        all.extend(
            self.pending_records()
                .map_err(ApiError::from)?
                .into_iter()
                .map(|(_, r)| r),
        );
        if let Some(filter) = field(body, "Filter") {
            if let Some(status) = string(filter, "Status", false, 64, any, "")? {
                all.retain(|r| r.status == status);
            }
            if let Some(name) = string(filter, "DocumentClassifierName", false, 63, any, "")? {
                all.retain(|r| {
                    aws::ClassifierArn::parse(&r.document_classifier_arn)
                        .is_ok_and(|a| a.name == name)
                });
            }
            if let Some(t) = epoch(filter, "SubmitTimeBefore")? {
                all.retain(|r| r.submit_time < t);
            }
            if let Some(t) = epoch(filter, "SubmitTimeAfter")? {
                all.retain(|r| r.submit_time > t);
            }
        }
        all.sort_by(|a, b| a.submit_time.total_cmp(&b.submit_time));
        let (items, next) = page(all, start, max);
        let mut out = Map::new();
        out.insert(
            "DocumentClassifierPropertiesList".into(),
            serde_json::to_value(items).unwrap_or_default(),
        );
        if let Some(n) = next {
            out.insert("NextToken".into(), n.into());
        }
        Ok(Value::Object(out))
    }

    fn delete_classifier(&self, body: &Value) -> Result<Value, ApiError> {
        let arn = Self::classifier_arn_member(body)?;
        let _guard = self.records.lock().unwrap_or_else(|e| e.into_inner());
        let (dir, rec) = self.find_classifier(&arn)?;
        match dir {
            Some(dir) => {
                fs::remove_dir_all(&dir).map_err(|e| ApiError::from(crate::Error::io(&dir, e)))?;
                self.models
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&dir);
            }
            None if rec.status == "IN_ERROR" || rec.status == "STOPPED" => {
                let parsed = aws::ClassifierArn::parse(&arn).map_err(ApiError::from)?;
                let key = Self::pending_key(&parsed.name, parsed.version.as_deref());
                let _ = fs::remove_file(self.pending_dir().join(format!("{key}.json")));
            }
            None => {
                return Err(ApiError::new(
                    "ResourceInUseException",
                    format!(
                        "classifier {arn} is {}; stop its training first",
                        rec.status
                    ),
                ))
            }
        }
        Ok(json!({}))
    }

    fn stop_training(&self, body: &Value) -> Result<Value, ApiError> {
        let arn = Self::classifier_arn_member(body)?;
        let _guard = self.records.lock().unwrap_or_else(|e| e.into_inner());
        let (dir, mut rec) = self.find_classifier(&arn)?;
        if dir.is_none() {
            let parsed = aws::ClassifierArn::parse(&arn).map_err(ApiError::from)?;
            let key = Self::pending_key(&parsed.name, parsed.version.as_deref());
            match rec.status.as_str() {
                "SUBMITTED" => {
                    rec.status = "STOPPED".into();
                    rec.end_time = Some(aws::now_epoch());
                }
                "TRAINING" => rec.status = "STOP_REQUESTED".into(),
                _ => return Ok(json!({})),
            }
            self.save_pending(&key, &rec).map_err(ApiError::from)?;
        }
        Ok(json!({}))
    }

    fn model(&self, dir: &Path) -> Result<Arc<Classifier>, ApiError> {
        let modified = fs::metadata(dir.join("weights.bin"))
            .and_then(|m| m.modified())
            .map_err(|e| ApiError::from(crate::Error::io(dir, e)))?;
        let mut cache = self.models.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((when, m)) = cache.get(dir) {
            if *when == modified {
                return Ok(Arc::clone(m));
            }
        }
        let m = Arc::new(Classifier::load(dir).map_err(ApiError::from)?);
        cache.insert(dir.to_path_buf(), (modified, Arc::clone(&m)));
        Ok(m)
    }

    fn classify_document(&self, body: &Value) -> Result<Value, ApiError> {
        let endpoint = string(body, "EndpointArn", true, 256, any, "")?.unwrap_or_default();
        if field(body, "Bytes").is_some() || field(body, "DocumentReaderConfig").is_some() {
            return Err(ApiError::invalid(
                "Bytes (PDF, Word and image documents) is not supported by docclass; send Text",
            ));
        }
        let text = match field(body, "Text") {
            Some(Value::String(t)) if !t.is_empty() => t.clone(),
            _ => return Err(ApiError::invalid("Text is required (at least 1 character)")),
        };
        if text.len() > MAX_TEXT_BYTES {
            return Err(ApiError::new(
                "TextSizeLimitExceededException",
                format!("Input text size exceeds limit. Max length of request text allowed is {MAX_TEXT_BYTES} bytes while in this request the text size is {} bytes", text.len()),
            ));
        }
        let name = endpoint
            .split_once(":document-classifier-endpoint/")
            .map(|(_, n)| n)
            .filter(|n| name_ok(n) && endpoint.starts_with("arn:aws"))
            .ok_or_else(|| {
                constraint("EndpointArn", &endpoint, "satisfy regular expression pattern: arn:aws(-[^:]+)?:comprehend:[a-zA-Z0-9-]*:([0-9]{12}|aws):document-classifier-endpoint/[a-zA-Z0-9](-*[a-zA-Z0-9])*")
            })?;
        let dir = self.cfg.registry.resolve(name).map_err(|_| {
            ApiError::new(
                "ResourceUnavailableException",
                format!("endpoint {endpoint} is not available: no classifier named '{name}' in the model registry"),
            )
        })?;
        let c = self.model(&dir)?;
        let mut probs = Vec::new();
        c.probabilities_into(&text, &mut ScoreScratch::default(), &mut probs);
        let mut ranked = Vec::new();
        rank_into(c.model.mode(), &probs, &mut ranked);
        // Comprehend returns 4-decimal scores widened from 32-bit floats.
        let entries: Vec<Value> = ranked
            .iter()
            .map(|&l| {
                let score = ((probs[l as usize] * 1e4).round() / 1e4) as f32 as f64;
                json!({"Name": c.model.labels()[l as usize], "Score": score})
            })
            .collect();
        let key = match c.model.mode() {
            Mode::MultiClass => "Classes",
            Mode::MultiLabel => "Labels",
        };
        Ok(json!({ key: entries }))
    }
}

fn start_response(r: &JobRecord) -> Value {
    json!({
        "JobId": r.job_id,
        "JobArn": r.job_arn,
        "JobStatus": r.job_status,
        "DocumentClassifierArn": r.document_classifier_arn,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(s3_uri_ok("s3://bucket/in/"));
        assert!(s3_uri_ok("s3://my.bucket-1"));
        assert!(!s3_uri_ok("s3://B/x") && !s3_uri_ok("s3://ab") && !s3_uri_ok("http://bucket/x"));
        assert!(role_ok(
            "arn:aws:iam::111122223333:role/service-role/AmazonComprehendServiceRole-example-role"
        ));
        assert!(role_ok("arn:aws-cn:iam::111122223333:role/r"));
        assert!(
            !role_ok("arn:aws:iam::1111:role/r") && !role_ok("arn:aws:iam::111122223333:user/u")
        );
        // Regression (fuzz/seeds/service_request/crash-d159026a...): a multi-byte character
        // across byte 12 of the account.
        assert!(!role_ok("arn:aws:iam::11112222333\u{e9}:role/r"));
        assert!(job_name_ok("exampleclassificationjob") && job_name_ok("my job: 2/3 @home"));
        assert!(!job_name_ok("bad<name>"));
        assert!(token_ok("0f57d4c9-0848-4dbf-8a2c-2cdf33d94392") && !token_ok("a_b"));
    }

    #[test]
    fn pages_and_tokens() {
        let (p, next) = page((0..5).collect::<Vec<_>>(), 0, 2);
        assert_eq!((p, next.as_deref()), (vec![0, 1], Some("offset-2")));
        let (p, next) = page((0..5).collect::<Vec<_>>(), 4, 2);
        assert_eq!((p, next), (vec![4], None));
        assert_eq!(next_token(&json!({"NextToken": "offset-7"})).unwrap(), 7);
        assert!(next_token(&json!({"NextToken": "garbage"})).is_err());
        assert!(max_results(&json!({"MaxResults": 0})).is_err());
        assert!(max_results(&json!({"MaxResults": 501})).is_err());
    }
}
