//! The job store: one JSON record per job (`<JobId>.json`) in a folder, default
//! `./.docclass/jobs`, shared by any number of processes. Records are created exclusively (one
//! winner per id) and rewritten through a temporary file and a rename, so readers never see a
//! half-written record. The process running a job holds an exclusive lock on `<JobId>.lock`;
//! a job left SUBMITTED or IN_PROGRESS whose lock is free (its process died, even by SIGKILL) is
//! marked FAILED by the first reader that takes the lock, so no job stays IN_PROGRESS forever.

use std::fs;
use std::path::{Path, PathBuf};

use super::record::{JobRecord, JobStatus};
use crate::atomic::{create_atomic, write_atomic};
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct JobStore {
    dir: PathBuf,
}

fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

/// Whether the process that ran a job is gone: its run lock can be taken (then it is held, so
/// two readers never both fail the same job). Records without a lock file (written before
/// locks existed) fall back to whether the process id still exists.
enum Owner {
    Alive,
    Gone(Option<fs::File>),
}

/// A job's run lock. Dropped after the job's final record is written: the lock file is removed,
/// then the lock released, so a reader that still finds it free re-reads a final record.
pub struct RunLock {
    _file: fs::File,
    path: PathBuf,
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

impl JobStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        JobStore { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, job_id: &str) -> PathBuf {
        self.dir.join(format!("{job_id}.json"))
    }

    fn lock_path(&self, job_id: &str) -> PathBuf {
        self.dir.join(format!("{job_id}.lock"))
    }

    /// Takes the job's run lock for as long as the returned guard is kept.
    pub fn lock_running(&self, job_id: &str) -> Result<RunLock> {
        let path = self.lock_path(job_id);
        let file = fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(RunLock { _file: file, path }),
            Err(fs::TryLockError::WouldBlock) => Err(Error::JobRunning(job_id.into())),
            Err(fs::TryLockError::Error(e)) => Err(Error::io(&path, e)),
        }
    }

    fn owner(&self, job_id: &str, pid: u32) -> Owner {
        if pid == std::process::id() {
            return Owner::Alive;
        }
        match fs::File::options().write(true).open(self.lock_path(job_id)) {
            Ok(file) => match file.try_lock() {
                Ok(()) => Owner::Gone(Some(file)),
                Err(_) => Owner::Alive,
            },
            Err(_) if process_alive(pid) => Owner::Alive,
            Err(_) => Owner::Gone(None),
        }
    }

    pub fn exists(&self, job_id: &str) -> bool {
        self.path(job_id).exists()
    }

    pub fn save(&self, record: &JobRecord) -> Result<()> {
        fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        write_atomic(&self.path(&record.job_id), &Self::bytes(record)?)
    }

    /// Stores a new record; fails if a record with its id exists, even when several processes
    /// create the same id at the same moment (exactly one of them succeeds).
    pub fn create(&self, record: &JobRecord) -> Result<()> {
        fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let path = self.path(&record.job_id);
        match create_atomic(&path, &Self::bytes(record)?) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(Error::JobExists(record.job_id.clone()))
            }
            Err(e) => Err(Error::io(path, e)),
        }
    }

    fn bytes(record: &JobRecord) -> Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec_pretty(record)?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// Loads a record, failing jobs whose process has died.
    pub fn load(&self, job_id: &str) -> Result<JobRecord> {
        let p = self.path(job_id);
        let bytes = match fs::read(&p) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::JobNotFound(job_id.into()))
            }
            Err(e) => return Err(Error::io(&p, e)),
        };
        let mut record: JobRecord = serde_json::from_slice(&bytes)?;
        if !record.job_status.is_terminal() {
            if let Some(pid) = record.docclass.pid {
                if let Owner::Gone(_lock) = self.owner(job_id, pid) {
                    // Read again under the lock: the job may have finished just before.
                    let bytes = fs::read(&p).map_err(|e| Error::io(&p, e))?;
                    record = serde_json::from_slice(&bytes)?;
                    if record.job_status.is_terminal() {
                        return Ok(record);
                    }
                    if record.docclass.resumable {
                        // The service runs it again when it starts: back in the queue.
                        record.job_status = JobStatus::Submitted;
                        record.message = None;
                        record.docclass.progress = None;
                    } else {
                        record.job_status = JobStatus::Failed;
                        record.message = Some(format!(
                            "the process running this job (pid {pid}) ended before the job finished; no output was published, run the job again"
                        ));
                        record.end_time = Some(crate::aws::now_epoch());
                    }
                    record.docclass.pid = None;
                    // The dead process may have left its unfinished archive behind.
                    if let Some(tmp) = record.docclass.temp_output.take() {
                        let _ = fs::remove_file(tmp);
                    }
                    self.save(&record)?;
                    let _ = fs::remove_file(self.lock_path(job_id));
                }
            }
        }
        Ok(record)
    }

    /// Every record, oldest submission first.
    pub fn list(&self) -> Result<Vec<JobRecord>> {
        let mut out = Vec::new();
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(Error::io(&self.dir, e)),
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(id) = name.strip_suffix(".json") {
                if !name.starts_with('.') {
                    out.push(self.load(id)?);
                }
            }
        }
        out.sort_by(|a, b| {
            a.submit_time
                .total_cmp(&b.submit_time)
                .then(a.job_id.cmp(&b.job_id))
        });
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::record::{DocclassInfo, InputDataConfig, OutputDataConfig};

    fn running(id: &str, pid: u32) -> JobRecord {
        JobRecord {
            job_id: id.into(),
            job_arn: "arn".into(),
            job_name: None,
            job_status: JobStatus::InProgress,
            message: None,
            submit_time: 1.0,
            end_time: None,
            document_classifier_arn: "c".into(),
            input_data_config: InputDataConfig {
                s3_uri: "in/".into(),
                input_format: "ONE_DOC_PER_LINE".into(),
                document_reader_config: None,
            },
            output_data_config: OutputDataConfig {
                s3_uri: "out/".into(),
                kms_key_id: None,
            },
            data_access_role_arn: None,
            volume_kms_key_id: None,
            vpc_config: None,
            flywheel_arn: None,
            docclass: DocclassInfo {
                pid: Some(pid),
                ..DocclassInfo::default()
            },
        }
    }

    #[test]
    fn a_job_runs_exactly_while_its_lock_is_held() {
        let dir = tempfile::tempdir().unwrap();
        let store = JobStore::new(dir.path());
        // Another live process's pid, so only the lock can tell whether the job still runs.
        let mut other = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = other.id();

        store.create(&running("a1", pid)).unwrap();
        assert!(
            store.create(&running("a1", pid)).is_err(),
            "ids are created once"
        );
        let lock = store.lock_running("a1").unwrap();
        assert!(store.lock_running("a1").is_err(), "one runner per job");
        assert_eq!(store.load("a1").unwrap().job_status, JobStatus::InProgress);
        drop(lock);
        assert!(
            !store.lock_path("a1").exists(),
            "the lock file goes with the lock"
        );

        // A lock file left free (its process was killed, and the pid was reused): failed.
        store.create(&running("b2", pid)).unwrap();
        std::fs::write(store.lock_path("b2"), b"").unwrap();
        let r = store.load("b2").unwrap();
        assert_eq!(r.job_status, JobStatus::Failed);
        assert!(r.message.unwrap().contains("ended before the job finished"));
        assert!(!store.lock_path("b2").exists());

        // No lock file (records from before locks): the pid decides.
        store.create(&running("c3", pid)).unwrap();
        assert_eq!(store.load("c3").unwrap().job_status, JobStatus::InProgress);
        other.kill().unwrap();
        other.wait().unwrap();
        assert_eq!(store.load("c3").unwrap().job_status, JobStatus::Failed);
    }
}
