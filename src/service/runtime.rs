//! The service's runtime, apart from its operations: the state every request shares (job store,
//! model registry, pending classifiers, model cache), a queue of accepted work and a bounded
//! pool of worker threads that runs it (classification jobs and trainings), recovery of work
//! left behind by a previous process, and admission control.

use std::collections::VecDeque;
use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use super::endpoints::{EndpointRecord, EndpointStore};
use super::error::ApiError;
use super::models::ModelCache;
use super::pending::PendingClassifiers;
use super::tags::TagStore;
use crate::aws::{self, ClassifierArn, Identity};
use crate::flywheel::FlywheelStore;
use crate::input::labeled::{DataFormat, ManifestSpec};
use crate::job::lifecycle::execute;
use crate::job::record::{JobRecord, JobStatus};
use crate::job::store::JobStore;
use crate::job::train::{self, TrainConfig};
use crate::job::ClassifyConfig;
use crate::location;
use crate::model::registry::Registry;
use crate::model::{ClassifierRecord, TrainParams};

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
    /// Take up the work a previous process left in the state folder (`docclass serve`); the
    /// AWS-style CLI commands run only the work they start.
    pub resume: bool,
}

/// Accepted work.
pub enum Task {
    /// A classification job, by id.
    Classify(String),
    /// A training, by pending-classifier key.
    Train(String),
    /// A flywheel's data lake filled from its active model, by flywheel key.
    CreateFlywheel(String),
    /// A dataset copied into its flywheel's data lake: flywheel key, dataset name.
    Dataset(String, String),
    /// A flywheel iteration: flywheel key, iteration id.
    Iteration(String, String),
}

/// Tasks waiting for a worker, and how many are running.
#[derive(Default)]
struct WorkQueue {
    tasks: Mutex<VecDeque<Task>>,
    running: AtomicUsize,
    wake: Condvar,
}

impl WorkQueue {
    fn push(&self, task: Task) {
        self.tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(task);
        self.wake.notify_one();
    }

    /// Waits for a task and counts it as running.
    fn take(&self) -> Task {
        let mut q = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(t) = q.pop_front() {
                self.running.fetch_add(1, Ordering::SeqCst);
                return t;
            }
            q = self.wake.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn done(&self) {
        self.running.fetch_sub(1, Ordering::SeqCst);
    }

    /// Tasks queued or running.
    fn busy(&self) -> usize {
        let queued = self.tasks.lock().unwrap_or_else(|e| e.into_inner()).len();
        queued + self.running.load(Ordering::SeqCst)
    }
}

/// The service state shared by all requests and workers.
pub struct Service {
    pub cfg: ServiceConfig,
    pub store: JobStore,
    pub pending: PendingClassifiers,
    pub endpoints: EndpointStore,
    pub flywheels: FlywheelStore,
    pub tags: TagStore,
    pub models: ModelCache,
    queue: WorkQueue,
    /// Serialises read-check-write sequences on records (idempotency, duplicate names).
    records: Mutex<()>,
    /// The service itself, for work it starts in the background.
    this: std::sync::Weak<Service>,
}

impl Service {
    /// Opens the state folders, recovers work left behind by a previous run and starts the
    /// workers.
    pub fn start(cfg: ServiceConfig) -> crate::Result<Arc<Service>> {
        let store = JobStore::new(cfg.state_dir.join("jobs"));
        fs::create_dir_all(store.dir()).map_err(|e| crate::Error::io(store.dir(), e))?;
        let pending = PendingClassifiers::open(cfg.state_dir.join("classifiers"))?;
        let endpoints = EndpointStore::open(cfg.state_dir.join("endpoints"))?;
        let flywheels = FlywheelStore::open(cfg.state_dir.join("flywheels"))?;
        let tags = TagStore::new(cfg.state_dir.join("tags.json"));
        let service = Arc::new_cyclic(|this| Service {
            cfg,
            store,
            pending,
            endpoints,
            flywheels,
            tags,
            models: ModelCache::default(),
            queue: WorkQueue::default(),
            records: Mutex::new(()),
            this: this.clone(),
        });
        if service.cfg.resume {
            service.recover()?;
            for e in service.endpoints.all() {
                if matches!(e.status.as_str(), "CREATING" | "UPDATING" | "DELETING") {
                    Arc::clone(&service).settle_endpoint(e);
                }
            }
        }
        for _ in 0..service.cfg.concurrency.max(1) {
            let s = Arc::clone(&service);
            std::thread::spawn(move || s.worker());
        }
        Ok(service)
    }

    /// Work left by a previous process resumes from its records: jobs still SUBMITTED, and jobs
    /// whose process died while they ran (the store hands them back SUBMITTED, their unfinished
    /// archive removed: a job's output is deterministic, so running it again is safe);
    /// trainings SUBMITTED or TRAINING; flywheels CREATING; datasets CREATING; iterations
    /// TRAINING or EVALUATING (each started again from its beginning).
    fn recover(&self) -> crate::Result<()> {
        for r in self.store.list()? {
            if r.job_status == JobStatus::Submitted {
                self.queue.push(Task::Classify(r.job_id));
            }
        }
        for (key, mut rec) in self.pending.all()? {
            match rec.status.as_str() {
                "SUBMITTED" => self.queue.push(Task::Train(key)),
                "TRAINING" => {
                    rec.status = "SUBMITTED".into();
                    rec.training_start_time = None;
                    self.pending.save(&key, &rec)?;
                    self.queue.push(Task::Train(key));
                }
                "STOP_REQUESTED" => {
                    rec.status = "STOPPED".into();
                    rec.end_time = Some(aws::now_epoch());
                    self.pending.save(&key, &rec)?;
                }
                _ => {}
            }
        }
        self.cfg.registry.remove_unfinished();
        for (key, fw) in self.flywheels.all() {
            if fw.status == "CREATING" {
                self.queue.push(Task::CreateFlywheel(key.clone()));
            }
            for d in self.flywheels.datasets(&key) {
                if d.status == "CREATING" {
                    self.queue.push(Task::Dataset(key.clone(), d.dataset_name));
                }
            }
            for i in self.flywheels.iterations(&key) {
                if matches!(i.status.as_str(), "TRAINING" | "EVALUATING") {
                    self.queue
                        .push(Task::Iteration(key.clone(), i.flywheel_iteration_id));
                }
            }
        }
        Ok(())
    }

    /// Text for a client: host folders behind `s3://` URIs (the S3 root), the model registry
    /// and the service's state are never named in a response.
    pub fn public(&self, text: &str) -> String {
        let mut out = text.to_string();
        if let Some(root) = &self.cfg.s3_root {
            out = out.replace(&format!("{}/", root.display()), "s3://");
        }
        let registry = self.cfg.registry.root.display().to_string();
        let state = self.cfg.state_dir.display().to_string();
        for (path, what) in [(registry, "<model registry>"), (state, "<service state>")] {
            if !path.is_empty() && path != "." {
                out = out.replace(&path, what);
            }
        }
        out
    }

    /// Finishes an endpoint's change in the background: CREATING or UPDATING become IN_SERVICE
    /// once the model loads (FAILED if it cannot), DELETING goes away.
    pub fn settle_endpoint(self: Arc<Self>, rec: EndpointRecord) {
        std::thread::spawn(move || {
            let mut rec = rec;
            if rec.status == "DELETING" {
                self.endpoints.remove(&rec);
                self.tags.forget(&rec.endpoint_arn);
                return;
            }
            let target = rec
                .desired_model_arn
                .clone()
                .unwrap_or(rec.model_arn.clone());
            let loaded = ClassifierArn::parse(&target)
                .ok()
                .and_then(|arn| self.cfg.registry.resolve_arn(&arn))
                .ok_or_else(|| format!("The model {target} is not a trained classifier."))
                .and_then(|dir| {
                    self.models
                        .get(&dir)
                        .map_err(|e| self.public(&e.to_string()))
                });
            // A delete that arrived meanwhile wins.
            if let Some(now) = self.endpoint_now(&rec) {
                if now.status == "DELETING" {
                    return;
                }
            }
            match loaded {
                Ok(_) => {
                    rec.model_arn = target;
                    rec.desired_model_arn = None;
                    rec.current_inference_units = rec.desired_inference_units;
                    if let Some(role) = rec.desired_data_access_role_arn.take() {
                        rec.data_access_role_arn = Some(role);
                    }
                    rec.status = "IN_SERVICE".into();
                    rec.message = None;
                }
                Err(message) => {
                    rec.status = "FAILED".into();
                    rec.message = Some(message);
                }
            }
            rec.last_modified_time = aws::now_epoch();
            let _ = self.endpoints.save(&rec);
        });
    }

    /// Endpoints created from a flywheel follow its active model version (UpdateFlywheel):
    /// each is updated to the new version, as when UpdateEndpoint names it.
    pub fn follow_flywheel(&self, flywheel: &crate::flywheel::FlywheelRecord) {
        let Some(model) = &flywheel.active_model_arn else {
            return;
        };
        for mut e in self.endpoints.all() {
            if e.flywheel_arn.as_deref() == Some(flywheel.flywheel_arn.as_str())
                && e.model_arn != *model
                && e.status != "DELETING"
            {
                e.desired_model_arn = Some(model.clone());
                e.status = "UPDATING".into();
                e.last_modified_time = aws::now_epoch();
                if self.endpoints.save(&e).is_ok() {
                    self.this().settle_endpoint(e);
                }
            }
        }
    }

    fn endpoint_now(&self, rec: &EndpointRecord) -> Option<EndpointRecord> {
        let p: Vec<&str> = rec.endpoint_arn.splitn(6, ':').collect();
        let name = p.get(5)?.strip_prefix("document-classifier-endpoint/")?;
        self.endpoints.load(p.get(4)?, p.get(3)?, name)
    }

    /// Answers one operation (see `operations::handle`).
    pub fn handle(
        &self,
        op: &str,
        body: &[u8],
        region: &str,
    ) -> Result<serde_json::Value, ApiError> {
        super::operations::handle(self, op, body, region)
    }

    /// The service, shared, for work started in the background.
    pub fn this(&self) -> Arc<Service> {
        self.this
            .upgrade()
            .expect("the service lives while it answers")
    }

    /// Holds the records lock: read-check-write sequences on records run one at a time.
    pub fn lock_records(&self) -> std::sync::MutexGuard<'_, ()> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Refuses new work when `max_queued_jobs` tasks are already queued or running, as
    /// Comprehend refuses jobs over its concurrency quota; SDKs retry it with backoff.
    pub fn admit(&self) -> Result<(), ApiError> {
        let busy = self.queue.busy();
        if busy >= self.cfg.max_queued_jobs {
            return Err(ApiError::new(
                "TooManyRequestsException",
                format!(
                    "{busy} jobs are queued or running, the most this service accepts; retry later"
                ),
            ));
        }
        Ok(())
    }

    pub fn enqueue(&self, task: Task) {
        self.queue.push(task);
    }

    /// Work queued or running.
    pub fn busy(&self) -> usize {
        self.queue.busy()
    }

    /// The URI the engine reads: mapped under the S3 root when the service has one, else the
    /// `s3://` URI itself, read from real S3 (AWS, or the endpoint in AWS_ENDPOINT_URL).
    pub fn local(&self, s3: &str) -> Result<String, ApiError> {
        if self.cfg.s3_root.is_none() {
            crate::s3::S3Uri::parse(s3).map_err(ApiError::from)?;
            return Ok(s3.to_string());
        }
        location::resolve(s3, self.cfg.s3_root.as_deref()).map_err(ApiError::from)
    }

    /// The classification job a stored record describes.
    pub fn classify_config(&self, record: &JobRecord) -> Result<ClassifyConfig, ApiError> {
        let split = record
            .input_data_config
            .input_format
            .parse()
            .map_err(ApiError::from)?;
        let arn: Vec<&str> = record.job_arn.split(':').collect();
        let identity = Identity {
            region: arn.get(3).unwrap_or(&"").to_string(),
            account: arn.get(4).unwrap_or(&"").to_string(),
        };
        let mut cfg = ClassifyConfig::new(
            &record.input_data_config.s3_uri,
            split,
            &record.output_data_config.s3_uri,
            &record.job_id,
            identity,
        );
        cfg.job_name = record.job_name.clone();
        cfg.s3_root = self.cfg.s3_root.clone();
        cfg.document_reader = record.input_data_config.document_reader_config.clone();
        Ok(cfg)
    }

    fn worker(self: Arc<Self>) {
        loop {
            let task = self.queue.take();
            // A bug in one job must not take a worker away from the others.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match &task {
                Task::Classify(id) => self.run_classification(id),
                Task::Train(key) => self.run_training(key),
                Task::CreateFlywheel(key) => self.run_flywheel_creation(key),
                Task::Dataset(key, name) => self.run_dataset(key, name),
                Task::Iteration(key, id) => self.run_iteration(key, id),
            }));
            if outcome.is_err() {
                self.fail_after_panic(&task);
            }
            self.queue.done();
        }
    }

    fn fail_after_panic(&self, task: &Task) {
        let message = "docclass failed internally while running this job; please report it";
        match task {
            Task::Classify(id) => self.fail_job(id, message),
            Task::Train(key) => self.fail_training(key, message),
            Task::CreateFlywheel(key) => {
                if let Some(mut r) = self.flywheels.load(key) {
                    r.status = "FAILED".into();
                    r.message = Some(message.into());
                    let _ = self.flywheels.save(key, &r);
                }
            }
            Task::Dataset(key, name) => {
                if let Some(mut r) = self.flywheels.load_dataset(key, name) {
                    r.status = "FAILED".into();
                    r.message = Some(message.into());
                    let _ = self.flywheels.save_dataset(key, &r);
                }
            }
            Task::Iteration(key, id) => {
                if let Some(mut r) = self.flywheels.load_iteration(key, id) {
                    r.status = "FAILED".into();
                    r.message = Some(message.into());
                    r.end_time = Some(aws::now_epoch());
                    let _ = self.flywheels.save_iteration(key, &r);
                }
            }
        }
    }

    /// Marks a job FAILED unless it already ended (`execute` records its own failures).
    fn fail_job(&self, job_id: &str, message: &str) {
        if let Ok(mut r) = self.store.load(job_id) {
            if !r.job_status.is_terminal() {
                r.job_status = JobStatus::Failed;
                r.message = Some(message.to_string());
                r.end_time = Some(aws::now_epoch());
                r.docclass.pid = None;
                let _ = self.store.save(&r);
            }
        }
    }

    /// Marks a pending classifier IN_ERROR with the reason.
    fn fail_training(&self, key: &str, message: &str) {
        if let Some(mut r) = self.pending.load(key) {
            r.status = "IN_ERROR".into();
            r.message = Some(message.to_string());
            r.end_time = Some(aws::now_epoch());
            let _ = self.pending.save(key, &r);
        }
    }

    fn run_classification(&self, job_id: &str) {
        let Ok(record) = self.store.load(job_id) else {
            return;
        };
        if record.job_status != JobStatus::Submitted {
            return;
        }
        let result = self
            .classify_config(&record)
            .map_err(|e| e.message)
            .and_then(|cfg| {
                let model_dir = PathBuf::from(&record.docclass.model_path);
                let never = AtomicBool::new(false);
                execute(
                    &cfg,
                    &model_dir,
                    &self.store,
                    record.clone(),
                    &mut |_| {},
                    &never,
                )
                .map_err(|e| e.to_string())
            });
        if let Err(message) = result {
            self.fail_job(job_id, &message);
        }
    }

    fn run_training(&self, key: &str) {
        let Some(mut rec) = self.pending.load(key) else {
            return;
        };
        if rec.status != "SUBMITTED" {
            return;
        }
        // A training whose model reached the registry before its process died is done.
        let trained = ClassifierArn::parse(&rec.document_classifier_arn)
            .ok()
            .and_then(|arn| self.cfg.registry.resolve_arn(&arn));
        if trained.is_some() {
            self.pending.remove(key);
            return;
        }
        rec.status = "TRAINING".into();
        rec.training_start_time = Some(aws::now_epoch());
        let _ = self.pending.save(key, &rec);
        let result = self.train_from_record(&rec);
        let mut latest = self.pending.load(key).unwrap_or(rec);
        match result {
            Ok(dir) if latest.status == "STOP_REQUESTED" => {
                let _ = fs::remove_dir_all(dir);
                latest.status = "STOPPED".into();
                latest.end_time = Some(aws::now_epoch());
                let _ = self.pending.save(key, &latest);
            }
            Ok(_) => self.pending.remove(key),
            Err(message) => self.fail_training(key, &message),
        }
    }

    /// The training a pending record asks for, run to a model in the registry.
    fn train_from_record(&self, rec: &ClassifierRecord) -> Result<PathBuf, String> {
        let arn = ClassifierArn::parse(&rec.document_classifier_arn)
            .map_err(|e| self.public(&e.to_string()))?;
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
        let registry = Registry::new(
            self.cfg.registry.root.clone(),
            Identity {
                region: arn.region.clone(),
                account: arn.account.clone(),
            },
        )
        .scoped();
        let mut config = TrainConfig::new(&arn.name, registry);
        config.version = arn.version.clone();
        config.train_uri = local(get("S3Uri"))?;
        config.test_uri = local(get("TestS3Uri"))?;
        config.manifests = manifests;
        config.format = get("DataFormat")
            .map(|f| f.parse::<DataFormat>())
            .transpose()
            .map_err(|e| e.to_string())?
            .unwrap_or(DataFormat::ComprehendCsv);
        if let Some(d) = get("LabelDelimiter").and_then(|d| d.chars().next()) {
            config.label_delimiter = d;
        }
        config.language_code = rec.language_code.clone();
        config.params = TrainParams {
            mode: rec.mode,
            ..TrainParams::default()
        };
        config.input_data_config = rec.input_data_config.clone();
        config.output_data_config = rec.output_data_config.clone();
        config.s3_root = self.cfg.s3_root.clone();
        let out = train::train(&config, &mut |_| {}).map_err(|e| self.public(&e.to_string()))?;
        // Keep what the client saw and gave: submission time, role, keys, network.
        let mut record = out.record;
        record.submit_time = rec.submit_time;
        record.data_access_role_arn = rec.data_access_role_arn.clone();
        record.volume_kms_key_id = rec.volume_kms_key_id.clone();
        record.vpc_config = rec.vpc_config.clone();
        record.model_kms_key_id = rec.model_kms_key_id.clone();
        record.save(&out.dir).map_err(|e| e.to_string())?;
        Ok(out.dir)
    }
}
