//! Progress on stderr: a classification job's status line (files, pages, documents, MB, docs/s,
//! ETA), drawn by indicatif at most 5 times a second on a terminal and written as a line every
//! few seconds to a log, and training's status line. Lives in the binary: the engine only
//! reports (`JobProgress`, `TrainProgress`).

use indicatif::{ProgressBar as Bar, ProgressDrawTarget, ProgressStyle};

use std::io::IsTerminal;

use docclass::job::train::TrainProgress;
use docclass::job::JobProgress;

/// A classification job's progress on stderr: on a terminal a status line kept in place (files
/// and pages done of the total, documents/s, ETA), in a log one line every `LOG_EVERY`; nothing
/// with `-q`.
pub struct ProgressBar {
    bar: Option<Bar>,
    log: bool,
    last_log: Option<std::time::Instant>,
}

/// How often a log gets a progress line.
const LOG_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

impl ProgressBar {
    pub fn new(quiet: bool) -> Self {
        if quiet {
            return ProgressBar {
                bar: None,
                log: false,
                last_log: None,
            };
        }
        if !std::io::stderr().is_terminal() {
            return ProgressBar {
                bar: None,
                log: true,
                last_log: Some(std::time::Instant::now()),
            };
        }
        let bar = Bar::with_draw_target(Some(1), ProgressDrawTarget::stderr_with_hz(5));
        bar.set_style(
            ProgressStyle::with_template("{percent:>3}% [{bar:30}] {msg}  ETA {eta}")
                .expect("a valid progress template")
                .progress_chars("=> "),
        );
        ProgressBar {
            bar: Some(bar),
            log: false,
            last_log: None,
        }
    }

    pub fn update(&mut self, p: &JobProgress) {
        if let Some(bar) = &self.bar {
            bar.set_length(p.bytes_total.max(1));
            bar.set_position(p.bytes_done);
            bar.set_message(status(p));
            return;
        }
        let due = self.last_log.is_some_and(|t| t.elapsed() >= LOG_EVERY);
        if self.log && due && !p.finished {
            self.last_log = Some(std::time::Instant::now());
            let eta = eta(p)
                .map(|s| format!(", ETA {s:.0} s"))
                .unwrap_or_default();
            eprintln!(
                "docclass: {} ({:.0}% of the input){eta}",
                status(p),
                100.0 * p.bytes_done as f64 / p.bytes_total.max(1) as f64
            );
        }
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}

/// `3 of 12 files, 40 pages, 1,234 documents, 2.1 docs/s`.
fn status(p: &JobProgress) -> String {
    let rate = if p.elapsed > 0.0 {
        p.documents as f64 / p.elapsed
    } else {
        0.0
    };
    let pages = if p.pages > 0 {
        format!(", {} pages", p.pages)
    } else {
        String::new()
    };
    format!(
        "{} of {} files{pages}, {} documents, {:.1}/{:.1} MB, {rate:.1} docs/s",
        p.files_done,
        p.files_total,
        p.documents,
        p.bytes_done as f64 / 1e6,
        p.bytes_total as f64 / 1e6,
    )
}

/// Seconds left at the rate so far, by input bytes (unknown before any are done).
fn eta(p: &JobProgress) -> Option<f64> {
    (p.bytes_done > 0 && p.elapsed > 0.0).then(|| {
        let left = p.bytes_total.saturating_sub(p.bytes_done) as f64;
        left * p.elapsed / p.bytes_done as f64
    })
}

/// Training's reports on stderr: lasting lines always (unless quiet); on a terminal, the passing
/// status (candidate, fold, optimiser iteration) on one line below them, redrawn in place.
pub struct TrainStatus {
    quiet: bool,
    spinner: Option<Bar>,
}

impl TrainStatus {
    pub fn new(quiet: bool) -> Self {
        let spinner = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = Bar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10));
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed:>4} {wide_msg}")
                    .expect("a valid progress template"),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        TrainStatus { quiet, spinner }
    }

    pub fn report(&mut self, event: TrainProgress) {
        match (event, &self.spinner) {
            (TrainProgress::Line(line), Some(bar)) => bar.println(line),
            (TrainProgress::Line(line), None) if !self.quiet => eprintln!("{line}"),
            (TrainProgress::Status(status), Some(bar)) => bar.set_message(status),
            _ => {}
        }
    }
}

impl Drop for TrainStatus {
    fn drop(&mut self) {
        if let Some(bar) = self.spinner.take() {
            bar.finish_and_clear();
        }
    }
}
