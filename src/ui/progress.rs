//! The engines' [`Reporter`] for people: a bar per blob and an overall bar on a terminal,
//! one plain line per finished blob in CI logs, nothing under `--quiet`.

use super::{Printer, Tally};
use crate::engine::report::{BlobOutcome, Reporter};
use crate::types::Digest;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Progress {
    printer: Printer,
    bars: Option<(MultiProgress, ProgressBar)>,
    blobs: Mutex<HashMap<Digest, ProgressBar>>,
    /// The engine said up front how many blobs there are; until then the total grows with them.
    planned: AtomicBool,
    tally: Arc<Tally>,
}

impl Progress {
    /// Bars (or lines) for people; every event also goes to `tally`, for the Ctrl-C summary.
    pub fn new(printer: Printer, tally: Arc<Tally>) -> Progress {
        let bars = printer.interactive.then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let overall = multi.add(ProgressBar::new(0));
            overall.set_style(
                ProgressStyle::with_template("{spinner} {pos}/{len} blobs{msg}  {elapsed}")
                    .expect("static template"),
            );
            // Redraws on its own: otherwise the spinner and the elapsed time stand still
            // between blobs, which looks like a hang during a long layer.
            overall.enable_steady_tick(Duration::from_millis(120));
            (multi, overall)
        });
        Progress {
            printer,
            bars,
            blobs: Mutex::new(HashMap::new()),
            planned: AtomicBool::new(false),
            tally,
        }
    }

    pub fn finish(&self) {
        if let Some((_, overall)) = &self.bars {
            overall.finish_and_clear();
        }
    }
}

pub fn short(digest: &Digest) -> &str {
    &digest.hex()[..12]
}

pub fn describe(outcome: &BlobOutcome) -> String {
    match outcome {
        BlobOutcome::Downloaded => "Pulled".into(),
        BlobOutcome::Resumed { from } => format!("Pulled (resumed at {})", human_bytes(*from)),
        BlobOutcome::AlreadyPresent => "Already present".into(),
        BlobOutcome::Pushed => "Pushed".into(),
        BlobOutcome::Mounted { from } => format!("Mounted from {from}"),
        BlobOutcome::AlreadyExists => "Layer already exists".into(),
    }
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

impl Progress {
    /// One more blob the engine did not announce in `planned`.
    fn count_unplanned(&self, overall: &ProgressBar) {
        if !self.planned.load(Ordering::Relaxed) {
            overall.inc_length(1);
        }
    }
}

impl Reporter for Progress {
    fn planned(&self, blobs: usize, bytes: u64) {
        if let Some((_, overall)) = &self.bars {
            self.planned.store(true, Ordering::Relaxed);
            overall.set_length(blobs as u64);
            overall.set_message(format!(", {}", human_bytes(bytes)));
        }
    }

    fn blob_started(&self, digest: &Digest, size: u64) {
        self.tally.started(digest);
        let Some((multi, overall)) = &self.bars else {
            return;
        };
        self.count_unplanned(overall);
        let bar = multi.insert_from_back(1, ProgressBar::new(size));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        bar.set_prefix(short(digest).to_string());
        self.blobs.lock().unwrap().insert(digest.clone(), bar);
    }

    fn blob_progress(&self, digest: &Digest, bytes: u64) {
        self.tally.progressed(digest, bytes);
        if let Some(bar) = self.blobs.lock().unwrap().get(digest) {
            bar.inc(bytes);
        }
    }

    fn blob_reset(&self, digest: &Digest) {
        self.tally.reset(digest);
        if let Some(bar) = self.blobs.lock().unwrap().get(digest) {
            bar.set_position(0);
        }
    }

    fn blob_finished(&self, digest: &Digest, size: u64, outcome: &BlobOutcome) {
        self.tally.finished(digest, size, outcome);
        let line = format!(
            "{}: {} ({})",
            short(digest),
            describe(outcome),
            human_bytes(size)
        );
        match &self.bars {
            Some((multi, overall)) => {
                match self.blobs.lock().unwrap().remove(digest) {
                    Some(bar) => {
                        bar.finish_and_clear();
                        multi.remove(&bar);
                    }
                    // Finished without starting (already there): count it now.
                    None => self.count_unplanned(overall),
                }
                let _ = multi.println(line);
                overall.inc(1);
            }
            None => self.printer.status(line),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terminal_progress() -> Progress {
        let printer = Printer {
            quiet: false,
            debug: false,
            interactive: true,
        };
        let p = Progress::new(printer, Arc::default());
        // Draw nowhere: the test only looks at the counts.
        p.bars
            .as_ref()
            .unwrap()
            .0
            .set_draw_target(ProgressDrawTarget::hidden());
        p
    }

    #[test]
    fn overall_bar_counts_every_blob() {
        let p = terminal_progress();
        let (a, b, c) = (Digest::of(b"a"), Digest::of(b"b"), Digest::of(b"c"));
        p.blob_started(&a, 10);
        p.blob_started(&b, 20);
        p.blob_finished(&c, 5, &BlobOutcome::AlreadyPresent);
        p.blob_progress(&a, 10);
        p.blob_finished(&a, 10, &BlobOutcome::Downloaded);
        let overall = &p.bars.as_ref().unwrap().1;
        assert_eq!((overall.position(), overall.length()), (2, Some(3)));
        p.blob_finished(&b, 20, &BlobOutcome::Downloaded);
        assert_eq!((overall.position(), overall.length()), (3, Some(3)));
    }

    #[test]
    fn planned_total_stays_put() {
        let p = terminal_progress();
        let (a, b) = (Digest::of(b"a"), Digest::of(b"b"));
        p.planned(3, 30);
        p.blob_started(&a, 10);
        p.blob_finished(&b, 5, &BlobOutcome::AlreadyPresent);
        p.blob_finished(&a, 10, &BlobOutcome::Downloaded);
        let overall = &p.bars.as_ref().unwrap().1;
        assert_eq!((overall.position(), overall.length()), (2, Some(3)));
        assert_eq!(overall.message(), ", 30 B");
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
