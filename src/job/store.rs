//! The job store: one JSON record per job (`<JobId>.json`) in a folder, default
//! `./.docclass/jobs`. Writes go through a temporary file and a rename, so readers never see a
//! half-written record. A job left SUBMITTED or IN_PROGRESS by a process that no longer exists is
//! marked FAILED when read, so no job stays IN_PROGRESS forever.

use std::fs;
use std::path::{Path, PathBuf};

use super::record::{JobRecord, JobStatus};
use crate::error::{Error, Result};
use crate::model::io::{create_atomic, write_atomic};

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
                Err(self.taken(&record.job_id))
            }
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// The error for a job id already in the store.
    pub fn taken(&self, job_id: &str) -> Error {
        Error::param(
            "--job-id",
            format!(
                "job '{job_id}' already exists in {}; choose another id",
                self.dir.display()
            ),
        )
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
                if pid != std::process::id() && !process_alive(pid) {
                    record.job_status = JobStatus::Failed;
                    record.message = Some(format!(
                        "the process running this job (pid {pid}) ended before the job finished; no output was published, run the job again"
                    ));
                    record.end_time = Some(crate::aws::now_epoch());
                    record.docclass.pid = None;
                    // The dead process may have left its unfinished archive behind.
                    if let Some(tmp) = record.docclass.temp_output.take() {
                        let _ = fs::remove_file(tmp);
                    }
                    self.save(&record)?;
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
