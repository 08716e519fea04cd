//! The progress bar on stderr (percent of input bytes, documents, MB, docs/s, ETA), drawn by
//! indicatif at most 5 times a second and only when stderr is a terminal, and training's status
//! line. Lives in the binary: the engine only reports (`JobProgress`, `TrainProgress`).

use indicatif::{ProgressBar as Bar, ProgressDrawTarget, ProgressStyle};

use std::io::IsTerminal;

use docclass::job::train::TrainProgress;
use docclass::job::JobProgress;

pub struct ProgressBar {
    bar: Option<Bar>,
}

impl ProgressBar {
    pub fn new(enabled: bool) -> Self {
        if !enabled {
            return ProgressBar { bar: None };
        }
        let bar = Bar::with_draw_target(Some(1), ProgressDrawTarget::stderr_with_hz(5));
        bar.set_style(
            ProgressStyle::with_template("{percent:>3}% [{bar:30}] {msg}  ETA {eta}")
                .expect("a valid progress template")
                .progress_chars("=> "),
        );
        ProgressBar { bar: Some(bar) }
    }

    pub fn update(&mut self, p: &JobProgress) {
        let Some(bar) = &self.bar else { return };
        bar.set_length(p.bytes_total.max(1));
        bar.set_position(p.bytes_done);
        let rate = if p.elapsed > 0.0 {
            p.documents as f64 / p.elapsed
        } else {
            0.0
        };
        bar.set_message(format!(
            "{} docs  {:.1}/{:.1} MB  {:.0} docs/s",
            p.documents,
            p.bytes_done as f64 / 1e6,
            p.bytes_total as f64 / 1e6,
            rate
        ));
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
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
