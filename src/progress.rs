//! The progress bar on stderr (percent of input bytes, documents, MB, docs/s, ETA), drawn by
//! indicatif at most 5 times a second and only when stderr is a terminal. Lives in the binary:
//! the engine only reports numbers (`JobProgress`).

use indicatif::{ProgressBar as Bar, ProgressDrawTarget, ProgressStyle};

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
