//! A one-line progress bar on stderr (documents, MB, docs/s, ETA), redrawn at most 5 times a
//! second and only when stderr is a terminal. Lives in the binary: the engine only reports numbers.

use std::io::Write;
use std::time::Instant;

use docclass::job::run::JobProgress;

pub struct ProgressBar {
    enabled: bool,
    last: Option<Instant>,
    drawn: bool,
}

impl ProgressBar {
    pub fn new(enabled: bool) -> Self {
        ProgressBar {
            enabled,
            last: None,
            drawn: false,
        }
    }

    pub fn update(&mut self, p: &JobProgress) {
        if !self.enabled || self.last.is_some_and(|t| t.elapsed().as_millis() < 200) {
            return;
        }
        self.last = Some(Instant::now());
        let rate = if p.elapsed > 0.0 {
            p.documents as f64 / p.elapsed
        } else {
            0.0
        };
        let done = p.bytes_done as f64 / p.bytes_total.max(1) as f64;
        let eta = if done > 0.0 {
            p.elapsed * (1.0 - done) / done
        } else {
            0.0
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{:>5.1}%  {} docs  {:.1}/{:.1} MB  {:.0} docs/s  ETA {:.0} s   ",
            done * 100.0,
            p.documents,
            p.bytes_done as f64 / 1e6,
            p.bytes_total as f64 / 1e6,
            rate,
            eta
        );
        let _ = err.flush();
        self.drawn = true;
    }

    pub fn finish(&mut self) {
        if self.drawn {
            eprintln!();
        }
    }
}
