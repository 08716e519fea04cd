//! A job's life: `submit` checks the settings and the model and stores a SUBMITTED record;
//! `execute` holds the job's run lock, marks it IN_PROGRESS, runs the driver into a target that
//! appears only when complete, and records COMPLETED (with the archive's URI), FAILED (with the
//! reason) or STOPPED. `run_job` is both, for the CLI; the service queues between them.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use super::config::ClassifyConfig;
use super::driver::{classify_into, JobProgress};
use super::record::{JobRecord, JobStatus, Progress};
use super::store::JobStore;
use crate::aws::{self, Identity};
use crate::error::{Error, Result};
use crate::input::listing::{self, Listing};
use crate::model::{Classifier, ClassifierRecord};
use crate::output::archive::ArchiveWriter;
use crate::output::target::Target;

/// How often a running job's record is saved with its progress.
const RECORD_EVERY: Duration = Duration::from_secs(2);

/// Loads the job's model and lists its input; no input at all is an error.
pub fn model_and_input(cfg: &ClassifyConfig, model_dir: &Path) -> Result<(Classifier, Listing)> {
    let classifier = Classifier::load(model_dir)?;
    let listing = listing::list_under(&cfg.input_uri, cfg.s3_root.as_deref())?;
    if listing.files.is_empty() {
        return Err(Error::NoInput(cfg.input_uri.clone()));
    }
    Ok((classifier, listing))
}

/// The classifier ARN a model answers to: its recorded ARN, or one built from its name.
pub fn classifier_arn(model_dir: &Path, classifier: &Classifier, identity: &Identity) -> String {
    ClassifierRecord::load(model_dir)
        .map(|r| r.document_classifier_arn)
        .unwrap_or_else(|_| {
            identity.classifier_arn(
                &classifier.meta.name,
                classifier.meta.version_name.as_deref(),
            )
        })
}

/// A job's SUBMITTED record, after checking the config and the model; not stored yet, so a
/// caller can add what it knows (the service: role, token, the ARN the client used).
pub fn prepare(cfg: &ClassifyConfig, model_dir: &Path, store: &JobStore) -> Result<JobRecord> {
    cfg.validate()?;
    if store.exists(&cfg.job_id) {
        return Err(Error::JobExists(cfg.job_id.clone()));
    }
    let classifier = Classifier::load(model_dir)?;
    let arn = classifier_arn(model_dir, &classifier, &cfg.identity);
    Ok(JobRecord::submitted(cfg, arn, model_dir))
}

/// Creates and stores a job's SUBMITTED record (see `prepare`).
pub fn submit(cfg: &ClassifyConfig, model_dir: &Path, store: &JobStore) -> Result<JobRecord> {
    let record = prepare(cfg, model_dir, store)?;
    store.create(&record)?;
    Ok(record)
}

/// Runs a submitted job: IN_PROGRESS, then COMPLETED (OutputDataConfig.S3Uri rewritten to the
/// archive) or FAILED with the reason in `Message` (STOPPED when cancelled).
pub fn execute(
    cfg: &ClassifyConfig,
    model_dir: &Path,
    store: &JobStore,
    mut record: JobRecord,
    on_progress: &mut (dyn FnMut(&JobProgress) + Send),
    cancel: &AtomicBool,
) -> Result<JobRecord> {
    // Held until this function returns: other processes reading the store see the job as
    // running exactly while this lock is held (the OS drops it when the process dies).
    let _running = store.lock_running(&cfg.job_id)?;
    let target = Target::new(&cfg.archive_uri(), cfg.s3_root.as_deref(), &cfg.job_id);
    record.job_status = JobStatus::InProgress;
    record.docclass.pid = Some(std::process::id());
    record.docclass.temp_output = target.as_ref().ok().map(|t| {
        ArchiveWriter::temp_path_for(t.path(), &cfg.job_id)
            .display()
            .to_string()
    });
    store.save(&record)?;
    // The record shows the job's progress while it runs, saved every few seconds.
    let mut running = record.clone();
    let mut saved = Instant::now();
    let mut report = |p: &JobProgress| {
        on_progress(p);
        if !p.finished && saved.elapsed() >= RECORD_EVERY {
            saved = Instant::now();
            running.docclass.progress = Some(p.into());
            // Best effort: a record that cannot be saved now is saved at the job's end.
            let _ = store.save(&running);
        }
    };
    let mut last = None;
    let result = (|| {
        let target = target?;
        let (classifier, listing) = model_and_input(cfg, model_dir)?;
        let mut tracked = |p: &JobProgress| {
            if p.finished {
                last = Some(Progress::from(p));
            }
            report(p)
        };
        target.produce(|dest| classify_into(cfg, &classifier, &listing, dest, &mut tracked, cancel))
    })();
    record.end_time = Some(aws::now_epoch());
    record.docclass.pid = None;
    record.docclass.temp_output = None;
    record.docclass.progress = last;
    match result {
        Ok(counts) => {
            record.job_status = JobStatus::Completed;
            record.output_data_config.s3_uri = cfg.archive_uri();
            // Said once for the whole job (OCR not installed, say) beside the page errors.
            record.message = counts.warning.clone();
            record.docclass.counts = counts;
            store.save(&record)?;
            Ok(record)
        }
        Err(e) => {
            record.job_status = match e {
                Error::Cancelled => JobStatus::Stopped,
                _ => JobStatus::Failed,
            };
            record.message = Some(e.to_string());
            store.save(&record)?;
            Err(e)
        }
    }
}

/// Runs a whole job in the foreground: `submit`, then `execute`.
pub fn run_job(
    cfg: &ClassifyConfig,
    model_dir: &Path,
    store: &JobStore,
    on_progress: &mut (dyn FnMut(&JobProgress) + Send),
    cancel: &AtomicBool,
) -> Result<JobRecord> {
    let record = submit(cfg, model_dir, store)?;
    execute(cfg, model_dir, store, record, on_progress, cancel)
}
