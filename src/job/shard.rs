//! One job split across machines: each shard (`--shard-index I --shard-count N`) writes its part
//! under the job's output folder, and `merge` splices the parts into the `output.tar.gz` a single
//! process would have written, byte for byte, then removes them.
//!
//! ```text
//! <prefix>/<account>-CLN-<JobId>/output/parts/part-00002-of-00004.deflate   deflated chunks
//! <prefix>/<account>-CLN-<JobId>/output/parts/part-00002-of-00004.json      its record (last)
//! ```
//!
//! A part is complete when its record exists (the record is written after the part is in
//! place), so a failed shard leaves no record and can be rerun alone.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use serde::{Deserialize, Serialize};

use super::config::{archive_uri, ClassifyConfig, Shard};
use super::driver::{classify_part, JobProgress};
use super::lifecycle::{classifier_arn, model_and_input};
use super::record::{
    DocclassInfo, InputDataConfig, JobCounts, JobRecord, JobStatus, OutputDataConfig,
};
use super::store::JobStore;
use crate::aws::{self, Identity};
use crate::error::{Error, Param, Result};
use crate::input::Listing;
use crate::output::archive::{ArchiveWriter, PartInfo};
use crate::output::target::{Folder, Target};

const PART_FORMAT: &str = "docclass-part/1";

/// What a finished shard wrote, and everything `merge` checks before splicing parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PartRecord {
    pub format: String,
    pub job_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_name: Option<String>,
    pub shard_index: usize,
    pub shard_count: usize,
    pub input_data_config: InputDataConfig,
    pub output_prefix: String,
    pub document_classifier_arn: String,
    pub model_path: String,
    /// CRC-32 of the model's weights: every shard must score with the same model.
    pub model_crc32: u32,
    /// The settings that shape the output bytes, and the input as listed (files, bytes, and a
    /// digest of keys and sizes): parts of different jobs or inputs must not be spliced.
    pub settings: String,
    pub input_digest: String,
    pub compression_level: u32,
    pub crc32: u32,
    pub length: u64,
    pub deflated_bytes: u64,
    pub counts: JobCounts,
    pub submit_time: f64,
    pub end_time: f64,
}

impl PartRecord {
    /// The fields every part of one job shares.
    fn job_key(&self) -> impl PartialEq + std::fmt::Debug + '_ {
        (
            &self.job_id,
            self.shard_count,
            &self.input_data_config,
            &self.document_classifier_arn,
            self.model_crc32,
            &self.settings,
            &self.input_digest,
            self.compression_level,
        )
    }
}

/// The parts folder of a job whose archive is `archive_uri` (`.../output/output.tar.gz`).
fn parts_folder(archive_uri: &str, s3_root: Option<&Path>) -> Result<Folder> {
    let folder = archive_uri.rsplit_once('/').map_or("", |(f, _)| f);
    Folder::new(&format!("{folder}/parts/"), s3_root)
}

fn part_stem(shard: Shard) -> String {
    format!("part-{:05}-of-{:05}", shard.index, shard.count)
}

/// A digest of the listing: keys and sizes, in order.
fn listing_digest(listing: &Listing) -> String {
    let mut crc = crc32fast::Hasher::new();
    for f in &listing.files {
        crc.update(f.key.as_bytes());
        crc.update(&[0]);
        crc.update(&f.len.to_le_bytes());
    }
    format!(
        "{} files, {} bytes, crc32 {:08x}",
        listing.files.len(),
        listing.total_bytes(),
        crc.finalize()
    )
}

fn settings(cfg: &ClassifyConfig) -> String {
    format!(
        "utf8={:?} max_line_bytes={} max_file_bytes={} style={:?} file_line={:?} unit_bytes={} reader={:?} limits={:?}",
        cfg.utf8,
        cfg.max_line_bytes,
        cfg.max_file_bytes,
        cfg.style,
        cfg.file_line,
        cfg.unit_bytes,
        cfg.document_reader,
        cfg.document_limits
    )
}

/// Runs `cfg.shard` of the job and writes its part and record. Rerunning a shard replaces its
/// part.
pub fn run_shard(
    cfg: &ClassifyConfig,
    model_dir: &Path,
    on_progress: &mut (dyn FnMut(&JobProgress) + Send),
    cancel: &AtomicBool,
) -> Result<PartRecord> {
    cfg.validate()?;
    let shard = cfg.shard.ok_or_else(|| {
        Error::missing(Param::ShardCount, "a shard count above 1 for a shard's run")
    })?;
    let submit_time = aws::now_epoch();
    let folder = parts_folder(&cfg.archive_uri(), cfg.s3_root.as_deref())?;
    let stem = part_stem(shard);
    let record_name = format!("{stem}.json");
    // A rerun first withdraws the old record, so a crash midway never pairs it with new bytes.
    folder.remove(&record_name)?;
    let (classifier, listing) = model_and_input(cfg, model_dir)?;
    let target = folder.target(
        &format!("{stem}.deflate"),
        &format!("{}-{stem}", cfg.job_id),
    );
    let (counts, info) = target
        .produce(|dest| classify_part(cfg, &classifier, &listing, dest, on_progress, cancel))?;
    let record = PartRecord {
        format: PART_FORMAT.into(),
        job_id: cfg.job_id.clone(),
        job_name: cfg.job_name.clone(),
        shard_index: shard.index,
        shard_count: shard.count,
        input_data_config: InputDataConfig {
            s3_uri: cfg.input_uri.clone(),
            input_format: cfg.split.as_str().into(),
            document_reader_config: cfg.document_reader.clone(),
        },
        output_prefix: cfg.output_uri.clone(),
        document_classifier_arn: classifier_arn(model_dir, &classifier, &cfg.identity),
        model_path: model_dir.display().to_string(),
        model_crc32: classifier.meta.weights.crc32,
        settings: settings(cfg),
        input_digest: listing_digest(&listing),
        compression_level: cfg.compression_level,
        crc32: info.crc32,
        length: info.len,
        deflated_bytes: info.deflated_bytes,
        counts,
        submit_time,
        end_time: aws::now_epoch(),
    };
    let mut bytes = serde_json::to_vec_pretty(&record)?;
    bytes.push(b'\n');
    folder.put(&record_name, bytes)?;
    Ok(record)
}

/// Where a sharded job's parts are, and what its merged archive is.
#[derive(Debug, Clone)]
pub struct MergeConfig {
    /// The output prefix the shards were given.
    pub output_uri: String,
    pub job_id: String,
    pub identity: Identity,
    pub s3_root: Option<PathBuf>,
    /// Tar header time (`SOURCE_DATE_EPOCH`); `None` is now.
    pub mtime: Option<u64>,
    /// Keep the parts after merging (they are removed by default).
    pub keep_parts: bool,
}

/// Splices every part of the job into its `output.tar.gz`, records the job as COMPLETED in
/// `store`, and removes the parts. Refuses, naming what to do, when a part is missing or belongs
/// to another job or input.
pub fn merge(cfg: &MergeConfig, store: &JobStore) -> Result<JobRecord> {
    aws::check_job_id(&cfg.job_id)?;
    let archive_uri = archive_uri(&cfg.output_uri, &cfg.identity.account, &cfg.job_id);
    let folder = parts_folder(&archive_uri, cfg.s3_root.as_deref())?;
    let parts = read_parts(&folder, &cfg.job_id)?;
    let first = &parts[0];

    let target = Target::new(&archive_uri, cfg.s3_root.as_deref(), &cfg.job_id)?;
    let output_bytes = target.produce(|dest| {
        let mut archive = ArchiveWriter::create(dest, first.compression_level, &cfg.job_id)?;
        for p in &parts {
            let name = format!(
                "{}.deflate",
                part_stem(Shard::new(p.shard_index, p.shard_count)?)
            );
            let mut part = folder.reader(&name, p.deflated_bytes)?;
            let info = PartInfo {
                crc32: p.crc32,
                len: p.length,
                deflated_bytes: p.deflated_bytes,
            };
            archive.append_part(&mut part, &info)?;
        }
        archive.finish(cfg.mtime.unwrap_or_else(aws::now_secs))
    })?;

    let mut counts = JobCounts {
        files: first.counts.files,
        skipped_paths: first.counts.skipped_paths.clone(),
        output_bytes,
        ..JobCounts::default()
    };
    for p in &parts {
        counts.documents += p.counts.documents;
        counts.predictions += p.counts.predictions;
        counts.errors += p.counts.errors;
        counts.bytes += p.counts.bytes;
    }
    let submit_time = parts.iter().map(|p| p.submit_time).fold(f64::MAX, f64::min);
    let end_time = aws::now_epoch();
    // Wall time of the whole job: from the first shard's start to the end of the merge.
    counts.seconds = (end_time - submit_time).max(0.0);
    let record = JobRecord {
        job_id: cfg.job_id.clone(),
        job_arn: cfg.identity.job_arn(&cfg.job_id),
        job_name: first.job_name.clone(),
        job_status: JobStatus::Completed,
        message: None,
        submit_time,
        end_time: Some(end_time),
        document_classifier_arn: first.document_classifier_arn.clone(),
        input_data_config: first.input_data_config.clone(),
        output_data_config: OutputDataConfig {
            s3_uri: archive_uri,
            kms_key_id: None,
        },
        data_access_role_arn: None,
        volume_kms_key_id: None,
        vpc_config: None,
        flywheel_arn: None,
        docclass: DocclassInfo {
            model_path: first.model_path.clone(),
            counts,
            ..DocclassInfo::default()
        },
    };
    store.save(&record)?;
    if !cfg.keep_parts {
        folder.remove_all()?;
    }
    Ok(record)
}

/// Reads and checks the records of all parts, in shard order.
fn read_parts(folder: &Folder, job_id: &str) -> Result<Vec<PartRecord>> {
    let dir = folder.display();
    let mut parts: Vec<PartRecord> = Vec::new();
    for (name, _) in folder.list()? {
        if !(name.starts_with("part-") && name.ends_with(".json")) {
            continue;
        }
        let at = format!("{dir}{name}");
        let part: PartRecord = serde_json::from_slice(&folder.read(&name)?)
            .map_err(|e| Error::data(&at, format!("not a part record ({e}); rerun that shard")))?;
        if part.format != PART_FORMAT {
            return Err(Error::data(
                &at,
                format!("part format '{}', expected '{PART_FORMAT}'", part.format),
            ));
        }
        parts.push(part);
    }
    if parts.is_empty() {
        return Err(Error::data(
            &dir,
            "no finished parts here: run the shards first, every shard with the same output prefix and job id",
        ));
    }
    parts.sort_by_key(|p| p.shard_index);
    let first = &parts[0];
    for p in &parts {
        if p.job_id != job_id || p.job_key() != first.job_key() {
            return Err(Error::data(
                &dir,
                format!(
                    "part {} of {} does not match part {} of {} (job, input, model or settings differ: {:?} vs {:?}); rerun the shards with the same arguments",
                    p.shard_index, p.shard_count, first.shard_index, first.shard_count, p.job_key(), first.job_key()
                ),
            ));
        }
    }
    let missing: Vec<String> = (0..first.shard_count)
        .filter(|i| parts.binary_search_by_key(i, |p| p.shard_index).is_err())
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(Error::data(
            &dir,
            format!(
                "shard(s) {} of {} have no finished part; rerun them (with the same shard count, {}), then merge again",
                missing.join(", "),
                first.shard_count,
                first.shard_count
            ),
        ));
    }
    Ok(parts)
}
