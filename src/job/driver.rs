//! The driver: the only place where I/O meets scoring. Units come from the planner in waves;
//! for line chunks a cheap parallel pass counts lines (and finds undecodable lines, for
//! Comprehend's skip-the-rest-of-the-file rule) so every unit knows its first line number; then
//! every unit of the wave runs on a pooled worker in parallel, and the compressed pieces are
//! appended in input order. Output bytes therefore do not depend on the number of threads, and
//! memory is bounded by the wave size, not the input size.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;

use super::config::ClassifyConfig;
use super::plan::{Planner, Unit};
use super::record::JobCounts;
use super::worker::{Context, Live, Pooled, UnitOutput, Worker};
use crate::aws;
use crate::error::{Error, Result};
use crate::input::split::{count_lines, LineIter};
use crate::input::{Listing, SplitMode, Utf8Policy};
use crate::model::Classifier;
use crate::output::archive::{ArchiveWriter, PartInfo};
use crate::output::jsonl::{json_string, JsonlFormat};

/// Progress of a running job, reported every `PROGRESS_EVERY` while it runs and once at its end.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct JobProgress {
    /// Output lines so far: predictions and error records.
    pub documents: u64,
    /// Pages of documents (PDF, Word, images) so far.
    pub pages: u64,
    pub files_done: u64,
    pub files_total: u64,
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub elapsed: f64,
    /// Whether this is the job's last report.
    pub finished: bool,
}

/// How often a running job reports its progress.
pub const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Reports `live`'s counts to `on_progress` every `PROGRESS_EVERY` until `done` is set, from
/// its own thread, so a wave of slow pages (OCR) still shows it is moving.
fn report_progress(
    live: &Live,
    totals: (u64, u64),
    started: Instant,
    done: &AtomicBool,
    on_progress: &mut (dyn FnMut(&JobProgress) + Send),
) {
    while !done.load(Ordering::Relaxed) {
        std::thread::park_timeout(PROGRESS_EVERY);
        if done.load(Ordering::Relaxed) {
            break;
        }
        on_progress(&snapshot(live, totals, started, false));
    }
}

fn snapshot(
    live: &Live,
    (files, bytes): (u64, u64),
    started: Instant,
    finished: bool,
) -> JobProgress {
    JobProgress {
        documents: Live::get(&live.documents),
        pages: Live::get(&live.pages),
        files_done: Live::get(&live.files).min(files),
        files_total: files,
        bytes_done: Live::get(&live.bytes).min(bytes),
        bytes_total: bytes,
        elapsed: started.elapsed().as_secs_f64(),
        finished,
    }
}

/// Runs the hot path: classifies every document under the listing into the archive at `dest`.
pub fn classify_into(
    cfg: &ClassifyConfig,
    classifier: &Classifier,
    listing: &Listing,
    dest: &Path,
    on_progress: &mut (dyn FnMut(&JobProgress) + Send),
    cancel: &AtomicBool,
) -> Result<JobCounts> {
    let started = Instant::now();
    let mut archive = ArchiveWriter::create(dest, cfg.compression_level, &cfg.job_id)?;
    let mut counts = run_units(cfg, classifier, listing, &mut archive, on_progress, cancel)?;
    counts.output_bytes = archive.finish(cfg.mtime.unwrap_or_else(aws::now_secs))?;
    counts.seconds = started.elapsed().as_secs_f64();
    Ok(counts)
}

/// Runs this process's shard (`cfg.shard`) of a job into the part file `dest`.
pub fn classify_part(
    cfg: &ClassifyConfig,
    classifier: &Classifier,
    listing: &Listing,
    dest: &Path,
    on_progress: &mut (dyn FnMut(&JobProgress) + Send),
    cancel: &AtomicBool,
) -> Result<(JobCounts, PartInfo)> {
    let started = Instant::now();
    let mut part = ArchiveWriter::create_part(dest, cfg.compression_level, &cfg.job_id)?;
    let mut counts = run_units(cfg, classifier, listing, &mut part, on_progress, cancel)?;
    let info = part.finish_part()?;
    counts.output_bytes = info.deflated_bytes;
    counts.seconds = started.elapsed().as_secs_f64();
    Ok((counts, info))
}

/// A wave of units and, for each, whether this shard owns it (units before the shard's range
/// are planned only to number lines).
struct Wave {
    units: Vec<Unit>,
    owned: Vec<bool>,
}

/// Per-file state carried from wave to wave.
struct FileState {
    /// Next line number of each file, and whether the rest of it is skipped.
    lines: Vec<(u64, bool)>,
    /// Whether a file's change has been reported (nothing more of it is written).
    change_reported: Vec<bool>,
}

/// Plans, scores and appends every unit of the job (or of its shard) to `archive`, in order.
fn run_units(
    cfg: &ClassifyConfig,
    classifier: &Classifier,
    listing: &Listing,
    archive: &mut ArchiveWriter,
    on_progress: &mut (dyn FnMut(&JobProgress) + Send),
    cancel: &AtomicBool,
) -> Result<JobCounts> {
    let started = Instant::now();
    let live = Live::default();
    let totals = (listing.files.len() as u64, listing.total_bytes());
    let done = AtomicBool::new(false);
    let result = std::thread::scope(|scope| {
        let reporter = scope.spawn(|| report_progress(&live, totals, started, &done, on_progress));
        let result = run_waves(cfg, classifier, listing, archive, &live, cancel);
        done.store(true, Ordering::Relaxed);
        reporter.thread().unpark();
        let _ = reporter.join();
        result
    });
    let mut counts = result?;
    let mut last = snapshot(&live, totals, started, true);
    last.files_done = last.files_total;
    on_progress(&last);
    counts.warning = live
        .ocr_unavailable
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    Ok(counts)
}

/// The waves of a job, each planned, run and appended in order.
fn run_waves(
    cfg: &ClassifyConfig,
    classifier: &Classifier,
    listing: &Listing,
    archive: &mut ArchiveWriter,
    live: &Live,
    cancel: &AtomicBool,
) -> Result<JobCounts> {
    let files = &listing.files;
    let ctx = Context {
        classifier,
        format: JsonlFormat::new(
            cfg.style,
            cfg.file_line,
            classifier.model().mode(),
            classifier.model().labels(),
        ),
        files,
        file_json: files.iter().map(|f| json_string(&f.key)).collect(),
        cfg,
        reader: cfg.reader_for(classifier),
        live,
    };
    let total = listing.total_bytes();
    // Units are owned by the shard whose byte range holds their first byte. Every shard plans
    // the same units (the cuts do not depend on the shard), so the parts splice into exactly
    // the archive one process writes.
    let (lo, hi) = cfg.shard.map_or((0, u64::MAX), |s| s.bounds(total));
    let mut planner = Planner::new(cfg, files, lo);
    // Each wave ends when its slowest unit does, with cores idle meanwhile: long waves leave
    // fewer such ends. Line units drop their pages from the mapping once counted and once
    // scored, so a long wave does not raise the peak (4 units per thread instead of 16 kept
    // the two cores busy 92% of the time instead of 96% on 1M SMS lines).
    let per_thread = 16;
    let wave_len = (rayon::current_num_threads() * per_thread).max(8);
    let mut state = FileState {
        lines: vec![(0, false); files.len()],
        change_reported: vec![false; files.len()],
    };
    let mut counts = JobCounts {
        files: files.len() as u64,
        skipped_paths: listing
            .skipped
            .iter()
            .map(|(p, why)| format!("{}: {why}", p.display()))
            .collect(),
        ..JobCounts::default()
    };
    let pool: Mutex<Vec<Worker>> = Mutex::new(Vec::new());
    let mut wave = Wave {
        units: Vec::with_capacity(wave_len),
        owned: Vec::with_capacity(wave_len),
    };
    let mut planning = true;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        if planning {
            planning = plan_wave(&mut planner, &mut wave, wave_len, (lo, hi));
        } else {
            wave.units.clear();
            wave.owned.clear();
        }
        if let Some(e) = planner.failure.take() {
            return Err(e);
        }
        if wave.units.is_empty() {
            break;
        }
        if cfg.split == SplitMode::OnePerLine {
            number_lines(cfg, &mut wave.units, &mut state.lines);
        }
        // Line units' pages were dropped from the mapping by `number_lines` and, once scored,
        // by the worker.
        let outputs = run_wave(&ctx, &wave, &pool);
        append_wave(&wave, outputs, &mut state, archive, &mut counts)?;
    }
    counts.documents = counts.predictions + counts.errors;
    Ok(counts)
}

/// Fills the wave with up to `len` units that start before this shard's end; false once
/// planning is over (no more units, or the next starts past this shard's end).
fn plan_wave(planner: &mut Planner, wave: &mut Wave, len: usize, (lo, hi): (u64, u64)) -> bool {
    wave.units.clear();
    wave.owned.clear();
    while wave.units.len() < len {
        match planner.next_unit() {
            Some((at, u)) if at < hi => {
                wave.owned.push(at >= lo);
                wave.units.push(u);
            }
            _ => return false,
        }
    }
    true
}

/// Gives every line unit its first line number and whether Comprehend's encoding rule skips
/// it, from a parallel count of each unit's lines, carried in order from unit to unit.
fn number_lines(cfg: &ClassifyConfig, units: &mut [Unit], lines: &mut [(u64, bool)]) {
    let skip_rest = cfg.utf8 == Utf8Policy::SkipRest;
    let scans: Vec<(u64, bool)> = units
        .par_iter()
        .map(|u| match u {
            Unit::Lines { data, range, .. } => {
                let chunk = &data[range.clone()];
                let scan = (
                    count_lines(chunk),
                    skip_rest && has_undecodable_line(chunk, cfg.max_line_bytes),
                );
                // The pages stay in the page cache; dropping them from the mapping keeps the
                // wave's input out of the peak (the worker maps them back as it reads).
                data.release(range.clone());
                scan
            }
            Unit::LongLine { .. } => (1, false),
            _ => (0, false),
        })
        .collect();
    for (u, (n, bad)) in units.iter_mut().zip(scans) {
        let (file, first_line, skip) = match u {
            Unit::Lines {
                file,
                first_line,
                skip,
                ..
            } => (file, first_line, skip),
            Unit::LongLine {
                file, line, skip, ..
            }
            | Unit::Changed { file, line, skip } => (file, line, skip),
            _ => continue,
        };
        let state = &mut lines[*file];
        *first_line = state.0;
        *skip = state.1;
        state.0 += n;
        state.1 |= bad;
    }
}

/// True when the chunk holds a line that Comprehend's rule would stop the file at.
fn has_undecodable_line(chunk: &[u8], max_line: u64) -> bool {
    if std::str::from_utf8(chunk).is_ok() {
        return false;
    }
    LineIter::new(chunk).any(|s| {
        let l = &chunk[s.start..s.end];
        !l.is_empty() && l.len() as u64 <= max_line && std::str::from_utf8(l).is_err()
    })
}

/// Runs the owned units of the wave in parallel on pooled workers, keeping their order.
fn run_wave(ctx: &Context, wave: &Wave, pool: &Mutex<Vec<Worker>>) -> Vec<Option<UnitOutput>> {
    wave.units
        .par_iter()
        .zip(wave.owned.par_iter())
        .map_init(
            || Pooled::take(pool),
            |w, (u, &mine)| mine.then(|| w.worker().run(ctx, u)),
        )
        .collect()
}

/// Appends the wave's pieces to the archive in input order and counts them.
fn append_wave(
    wave: &Wave,
    outputs: Vec<Option<UnitOutput>>,
    state: &mut FileState,
    archive: &mut ArchiveWriter,
    counts: &mut JobCounts,
) -> Result<()> {
    for (u, o) in wave.units.iter().zip(outputs) {
        // Units before this shard's range were planned only to number lines.
        let Some(o) = o else { continue };
        if let Some(e) = o.fatal {
            return Err(e);
        }
        // After the first unit that reports a file's change, nothing more of that file.
        if let Unit::Lines { file, .. } | Unit::LongLine { file, .. } | Unit::Changed { file, .. } =
            u
        {
            if state.change_reported[*file] {
                continue;
            }
            state.change_reported[*file] = o.changed_file == Some(*file);
        }
        archive.append(&o.chunk)?;
        counts.predictions += o.predictions;
        counts.errors += o.errors;
        counts.bytes += o.bytes;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::Identity;
    use crate::input::listing;
    use crate::input::MmapChoice;
    use crate::job::config::Shard;
    use crate::job::worker::{DOCUMENT_SIZE_EXCEEDED, UNREADABLE_FILE, UNSUPPORTED_ENCODING};
    use crate::output::archive::MEMBER_NAME;
    use proptest::prelude::*;
    use std::io::Read;

    fn shipped() -> Classifier {
        Classifier::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("models/spam-ham")).unwrap()
    }

    /// (line number, outcome) of every output line, read back from the archive.
    fn outcomes(archive: &Path) -> Vec<(u64, String)> {
        let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(
            std::fs::File::open(archive).unwrap(),
        ));
        let mut e = ar.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(e.path().unwrap().to_str(), Some(MEMBER_NAME));
        let mut text = String::new();
        e.read_to_string(&mut text).unwrap();
        text.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let line = v["Line"].as_str().unwrap().parse().unwrap();
                let kind = v
                    .get("ErrorCode")
                    .and_then(|c| c.as_str())
                    .unwrap_or("ok")
                    .to_string();
                (line, kind)
            })
            .collect()
    }

    /// What the contract says the output must be, computed line by line.
    fn expected(data: &[u8], utf8: Utf8Policy, max_line: u64) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        for (i, span) in LineIter::new(data).enumerate() {
            let doc = &data[span.start..span.end];
            if doc.is_empty() {
                continue;
            }
            if doc.len() as u64 > max_line {
                out.push((i as u64, DOCUMENT_SIZE_EXCEEDED.to_string()));
            } else if std::str::from_utf8(doc).is_err() && utf8 != Utf8Policy::Lossy {
                out.push((i as u64, UNSUPPORTED_ENCODING.to_string()));
                if utf8 == Utf8Policy::SkipRest {
                    break;
                }
            } else {
                out.push((i as u64, "ok".to_string()));
            }
        }
        out
    }

    #[test]
    fn vanished_empty_and_nul_files_each_get_their_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        std::fs::write(p("a-nul.txt"), b"win\0a prize\n\0\n").unwrap();
        std::fs::write(p("b-empty.txt"), b"").unwrap();
        std::fs::write(p("c-gone.txt"), b"listed, then deleted\n").unwrap();
        std::fs::write(p("d-last.txt"), b"see you at lunch\n").unwrap();
        for split in [SplitMode::OnePerLine, SplitMode::OnePerFile] {
            std::fs::write(p("c-gone.txt"), b"listed, then deleted\n").unwrap();
            let prefix = format!("{}/", dir.path().display());
            let listing = listing::list(&prefix).unwrap();
            assert_eq!(listing.files.len(), 4);
            std::fs::remove_file(p("c-gone.txt")).unwrap();
            let cfg = ClassifyConfig::new(&prefix, split, "out/", "f00d", Identity::default());
            let out = tempfile::tempdir().unwrap();
            let dest = out.path().join("out.tar.gz");
            let counts = classify_into(
                &cfg,
                &shipped(),
                &listing,
                &dest,
                &mut |_| {},
                &AtomicBool::new(false),
            )
            .unwrap();
            let mut text = String::new();
            tar::Archive::new(flate2::read::GzDecoder::new(
                std::fs::File::open(&dest).unwrap(),
            ))
            .entries()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
            let lines: Vec<serde_json::Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            let files: Vec<&str> = lines.iter().map(|l| l["File"].as_str().unwrap()).collect();
            let gone: Vec<&serde_json::Value> =
                lines.iter().filter(|l| l["File"] == "c-gone.txt").collect();
            assert_eq!(gone.len(), 1, "{split:?}: {text}");
            assert_eq!(gone[0]["ErrorCode"], UNREADABLE_FILE);
            assert!(gone[0]["ErrorMessage"]
                .as_str()
                .unwrap()
                .contains("could not be read"));
            assert_eq!(
                files.last(),
                Some(&"d-last.txt"),
                "the job goes on after it"
            );
            assert!(
                !files.contains(&"b-empty.txt"),
                "an empty file holds no document"
            );
            // NUL is a valid UTF-8 character: classified, and escaped as Python's json does.
            assert!(text.contains(r#""File": "a-nul.txt""#));
            assert!(lines
                .iter()
                .filter(|l| l["File"] == "a-nul.txt")
                .all(|l| l.get("Classes").is_some()));
            assert_eq!(counts.errors, 1);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        // Shards of a job, spliced in order, are byte for byte the archive of one process, for
        // any bytes, unit size, line limit and shard count: no document lost, none twice.
        #[test]
        fn spliced_shards_equal_one_process(
            files in proptest::collection::vec(proptest::collection::vec(
                prop_oneof![Just(b'a'), Just(b' '), Just(b'\n'), Just(b'\r'), Just(0xffu8), Just(b'7')],
                0..400), 1..4),
            unit in 1usize..120,
            max_line in 1u64..40,
            shards in 1usize..6,
            split_per_file in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir(dir.path().join("in")).unwrap();
            for (i, data) in files.iter().enumerate() {
                std::fs::write(dir.path().join(format!("in/{i}.txt")), data).unwrap();
            }
            let prefix = format!("{}/in/", dir.path().display());
            let split = if split_per_file { SplitMode::OnePerFile } else { SplitMode::OnePerLine };
            let mut cfg = ClassifyConfig::new(&prefix, split, "out/", "f00d", Identity::default());
            cfg.unit_bytes = unit;
            cfg.max_line_bytes = max_line;
            cfg.max_file_bytes = max_line * 4;
            cfg.mtime = Some(1);
            let listing = listing::list(&prefix).unwrap();
            let whole = dir.path().join("whole.tar.gz");
            let never = AtomicBool::new(false);
            classify_into(&cfg, &shipped(), &listing, &whole, &mut |_| {}, &never).unwrap();
            let spliced = dir.path().join("spliced.tar.gz");
            let mut archive = ArchiveWriter::create(&spliced, cfg.compression_level, "t").unwrap();
            for index in 0..shards {
                cfg.shard = Some(Shard::new(index, shards).unwrap());
                let part = dir.path().join(format!("part{index}"));
                let (_, info) = classify_part(&cfg, &shipped(), &listing, &part, &mut |_| {}, &never).unwrap();
                archive.append_part(&mut std::fs::File::open(&part).unwrap(), &info).unwrap();
            }
            archive.finish(1).unwrap();
            prop_assert!(std::fs::read(&whole).unwrap() == std::fs::read(&spliced).unwrap());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        // Whatever the bytes, every document comes out exactly once, in order, as a prediction or
        // an error record, under every encoding policy, unit size, I/O path and thread count.
        #[test]
        fn every_document_comes_out_exactly_once(
            data in proptest::collection::vec(
                prop_oneof![Just(b'a'), Just(b' '), Just(b'\n'), Just(b'\r'), Just(0xffu8), Just(0xc3u8), Just(0xa9u8), Just(b'7')],
                0..1500),
            unit in 1usize..200,
            max_line in 1u64..40,
            policy in 0usize..3,
            threads in 1usize..3,
            mmap_never in any::<bool>(),
        ) {
            let utf8 = [Utf8Policy::SkipRest, Utf8Policy::SkipDocument, Utf8Policy::Lossy][policy];
            let dir = tempfile::tempdir().unwrap();
            let input = dir.path().join("in.txt");
            std::fs::write(&input, &data).unwrap();
            let mut cfg = ClassifyConfig::new(input.to_str().unwrap(), SplitMode::OnePerLine, "out/", "f00d", Identity::default());
            cfg.utf8 = utf8;
            cfg.max_line_bytes = max_line;
            cfg.unit_bytes = unit;
            cfg.mmap = if mmap_never { MmapChoice::Never } else { MmapChoice::Auto };
            let listing = listing::list(input.to_str().unwrap()).unwrap();
            let dest = dir.path().join("out.tar.gz");
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let counts = pool
                .install(|| classify_into(&cfg, &shipped(), &listing, &dest, &mut |_| {}, &AtomicBool::new(false)))
                .unwrap();
            let got = outcomes(&dest);
            prop_assert_eq!(counts.documents as usize, got.len());
            prop_assert_eq!(got, expected(&data, utf8, max_line));
        }
    }
}
