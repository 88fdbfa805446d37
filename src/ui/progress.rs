//! The engines' [`Reporter`] for people: a bar per blob and an overall line on a terminal,
//! one plain line per finished blob in CI logs, nothing under `--quiet`.
//!
//! While bars are on screen every other stderr line goes above them ([`live`], used by
//! `printer::to_stderr`), and [`clear`] wipes them before hoist's last words (an error, the
//! Ctrl-C summary), so no half-drawn bar is left behind.

use super::echo;
use super::meter::{self, Meter};
use super::{Printer, Tally};
use crate::engine::report::{BlobOutcome, Reporter};
use crate::types::Digest;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The bars on screen, if any. The terminal is one per process, so this is too.
static LIVE: Mutex<Option<MultiProgress>> = Mutex::new(None);

/// The bars on screen now, for printing a line above them.
pub fn live() -> Option<MultiProgress> {
    LIVE.lock().ok()?.clone()
}

/// Wipes whatever bars are on screen and keeps them from drawing again. `main` calls this
/// before its last message; harmless when there are none.
pub fn clear() {
    let taken = LIVE.lock().ok().and_then(|mut live| live.take());
    if let Some(multi) = taken {
        hide(&multi);
    }
}

pub struct Progress {
    printer: Printer,
    bars: Option<Bars>,
    tally: Arc<Tally>,
}

struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    totals: Arc<Totals>,
    /// Blobs on their way. Every change to `totals.done` happens under this lock.
    blobs: Mutex<HashMap<Digest, BlobBar>>,
    /// The engine said up front what the transfer covers; until then the totals grow.
    planned: AtomicBool,
}

struct BlobBar {
    bar: ProgressBar,
    /// How far along the blob is, resumed bytes included.
    position: u64,
    /// Bytes of this blob moved in this run, for its rate.
    moved: Arc<AtomicU64>,
}

/// What the overall line shows, read whenever it is drawn.
struct Totals {
    /// Bytes of every blob in the transfer.
    bytes: AtomicU64,
    /// Bytes in place: finished blobs, and how far the others are (resumed bytes included).
    done: AtomicU64,
    /// Bytes moved in this run: the rate and the time left come from this alone.
    moved: AtomicU64,
    meter: Mutex<Meter>,
}

impl Progress {
    /// Bars (or lines) for people; every event also goes to `tally`, for the Ctrl-C summary.
    pub fn new(printer: Printer, tally: Arc<Tally>) -> Progress {
        Progress::drawing_to(printer, tally, ProgressDrawTarget::stderr())
    }

    fn drawing_to(printer: Printer, tally: Arc<Tally>, target: ProgressDrawTarget) -> Progress {
        let bars = printer.interactive.then(|| {
            let multi = MultiProgress::with_draw_target(target);
            let totals = Arc::new(Totals {
                bytes: AtomicU64::new(0),
                done: AtomicU64::new(0),
                moved: AtomicU64::new(0),
                meter: Mutex::new(Meter::new(Instant::now())),
            });
            let overall = multi.add(ProgressBar::new(0));
            overall.set_style(overall_style(totals.clone()));
            // Redraws on its own: the spinner and the rate move even while every blob waits.
            overall.enable_steady_tick(Duration::from_millis(120));
            if !multi.is_hidden() {
                if let Ok(mut live) = LIVE.lock() {
                    *live = Some(multi.clone());
                }
                echo::hide_control_chars();
            }
            Bars {
                multi,
                overall,
                totals,
                blobs: Mutex::new(HashMap::new()),
                planned: AtomicBool::new(false),
            }
        });
        Progress {
            printer,
            bars,
            tally,
        }
    }

    /// Takes every bar off the screen; the transfer is over, whichever way it ended.
    pub fn finish(&self) {
        if let Some(bars) = &self.bars {
            // Wipe first, then stop drawing: a bar finished or dropped while still drawn
            // can be left on screen for good.
            hide(&bars.multi);
            if let Ok(mut live) = LIVE.lock() {
                live.take();
            }
            for (_, blob) in bars.blobs.lock().unwrap().drain() {
                blob.bar.finish_and_clear();
            }
            bars.overall.finish_and_clear();
        }
    }
}

fn hide(multi: &MultiProgress) {
    let _ = multi.clear();
    multi.set_draw_target(ProgressDrawTarget::hidden());
    echo::restore_control_chars();
}

impl Drop for Progress {
    /// Dropped mid-transfer (Ctrl-C drops the command): no bar stays on screen.
    fn drop(&mut self) {
        self.finish();
    }
}

fn overall_style(totals: Arc<Totals>) -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {overall}")
        .expect("static template")
        .with_key(
            "overall",
            move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let moved = totals.moved.load(Relaxed);
                let per_sec = per_sec(&totals.meter, moved);
                let line = meter::overall(
                    state.pos(),
                    state.len().unwrap_or(0),
                    totals.done.load(Relaxed),
                    totals.bytes.load(Relaxed),
                    per_sec,
                );
                let _ = w.write_str(&line);
            },
        )
}

fn blob_style(moved: Arc<AtomicU64>) -> ProgressStyle {
    let meter = Arc::new(Mutex::new(Meter::new(Instant::now())));
    ProgressStyle::with_template("{prefix} [{bar:30}] {figures}")
        .expect("static template")
        .progress_chars("=> ")
        .with_key(
            "figures",
            move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let per_sec = per_sec(&meter, moved.load(Relaxed));
                let figures = meter::figures(state.pos(), state.len().unwrap_or(0), per_sec);
                let _ = w.write_str(&figures);
            },
        )
}

/// Samples `moved` now and gives the rate; drawing is what samples, a few times a second.
fn per_sec(meter: &Mutex<Meter>, moved: u64) -> Option<f64> {
    let mut meter = meter.lock().ok()?;
    meter.record(Instant::now(), moved);
    meter.per_sec()
}

pub fn short(digest: &Digest) -> &str {
    &digest.hex()[..12]
}

/// What happened to a blob, as a label: `Pulled`, `Mounted from team/base`.
pub fn describe(outcome: &BlobOutcome) -> String {
    match outcome {
        BlobOutcome::Downloaded => "Pulled".into(),
        BlobOutcome::Resumed { from } => format!("Pulled (resumed at {})", human_bytes(*from)),
        BlobOutcome::AlreadyPresent => "Already present".into(),
        BlobOutcome::Pushed => "Pushed".into(),
        BlobOutcome::Copied => "Copied".into(),
        BlobOutcome::Mounted { from } => format!("Mounted from {from}"),
        BlobOutcome::AlreadyExists => "Layer already exists".into(),
        BlobOutcome::SkippedForeign => {
            "Skipped foreign layer: it lives at its URLs (--foreign-layers fetch downloads it)"
                .into()
        }
    }
}

/// The line for a finished blob: `6e5df0a775f7: Pulled 200.1 MiB (resumed at 110.8 MiB)`.
/// Bytes that moved follow the verb; blobs that did not move give their size in brackets.
pub fn finished_line(digest: &Digest, size: u64, outcome: &BlobOutcome) -> String {
    let size = human_bytes(size);
    let what = match outcome {
        BlobOutcome::Downloaded => format!("Pulled {size}"),
        BlobOutcome::Resumed { from } => {
            format!("Pulled {size} (resumed at {})", human_bytes(*from))
        }
        BlobOutcome::Pushed => format!("Pushed {size}"),
        BlobOutcome::Copied => format!("Copied {size}"),
        other => format!("{} ({size})", describe(other)),
    };
    format!("{}: {what}", short(digest))
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

impl Bars {
    /// One more blob the engine did not announce in `planned`.
    fn count_unplanned(&self, size: u64) {
        if !self.planned.load(Relaxed) {
            self.overall.inc_length(1);
            self.totals.bytes.fetch_add(size, Relaxed);
        }
    }

    /// Moves a blob's position to `to`, keeping `done` in step (under the `blobs` lock).
    fn reposition(&self, blob: &mut BlobBar, to: u64) {
        self.totals.done.fetch_add(to, Relaxed);
        self.totals.done.fetch_sub(blob.position, Relaxed);
        blob.position = to;
        blob.bar.set_position(to);
    }
}

impl Reporter for Progress {
    fn planned(&self, blobs: usize, bytes: u64) {
        if let Some(bars) = &self.bars {
            bars.planned.store(true, Relaxed);
            bars.overall.set_length(blobs as u64);
            bars.totals.bytes.store(bytes, Relaxed);
        }
    }

    fn blob_started(&self, digest: &Digest, size: u64) {
        self.tally.started(digest);
        let Some(bars) = &self.bars else {
            return;
        };
        bars.count_unplanned(size);
        let moved = Arc::new(AtomicU64::new(0));
        let bar = bars.multi.insert_from_back(1, ProgressBar::new(size));
        bar.set_style(blob_style(moved.clone()));
        bar.set_prefix(short(digest).to_string());
        // A stalled blob's rate must fall to zero on screen too, not keep its last value.
        bar.enable_steady_tick(Duration::from_millis(500));
        let blob = BlobBar {
            bar,
            position: 0,
            moved,
        };
        bars.blobs.lock().unwrap().insert(digest.clone(), blob);
    }

    fn blob_progress(&self, digest: &Digest, bytes: u64) {
        self.tally.progressed(digest, bytes);
        let Some(bars) = &self.bars else {
            return;
        };
        if let Some(blob) = bars.blobs.lock().unwrap().get_mut(digest) {
            blob.position += bytes;
            blob.moved.fetch_add(bytes, Relaxed);
            bars.totals.done.fetch_add(bytes, Relaxed);
            bars.totals.moved.fetch_add(bytes, Relaxed);
            blob.bar.inc(bytes);
        }
    }

    fn blob_reset(&self, digest: &Digest) {
        self.blob_resumed_at(digest, 0);
    }

    fn blob_resumed_at(&self, digest: &Digest, offset: u64) {
        self.tally.reset(digest);
        self.tally.progressed(digest, offset);
        let Some(bars) = &self.bars else {
            return;
        };
        if let Some(blob) = bars.blobs.lock().unwrap().get_mut(digest) {
            bars.reposition(blob, offset);
        }
    }

    fn blob_finished(&self, digest: &Digest, size: u64, outcome: &BlobOutcome) {
        self.tally.finished(digest, size, outcome);
        let line = finished_line(digest, size, outcome);
        let Some(bars) = &self.bars else {
            self.printer.status(line);
            return;
        };
        let mut blobs = bars.blobs.lock().unwrap();
        match blobs.remove(digest) {
            Some(mut blob) => {
                bars.reposition(&mut blob, size);
                blob.bar.finish_and_clear();
                bars.multi.remove(&blob.bar);
            }
            // Finished without starting (already there): count it now.
            None => {
                bars.count_unplanned(size);
                bars.totals.done.fetch_add(size, Relaxed);
            }
        }
        drop(blobs);
        let _ = bars.multi.println(line);
        bars.overall.inc(1);
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
        // Draw nowhere: the tests look at the counts.
        Progress::drawing_to(printer, Arc::default(), ProgressDrawTarget::hidden())
    }

    fn bars(p: &Progress) -> &Bars {
        p.bars.as_ref().unwrap()
    }

    /// (blobs done, blobs, bytes done, bytes, bytes moved)
    fn counts(p: &Progress) -> (u64, Option<u64>, u64, u64, u64) {
        let b = bars(p);
        let t = &b.totals;
        (
            b.overall.position(),
            b.overall.length(),
            t.done.load(Relaxed),
            t.bytes.load(Relaxed),
            t.moved.load(Relaxed),
        )
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
        assert_eq!(counts(&p), (2, Some(3), 15, 35, 10));
        p.blob_finished(&b, 20, &BlobOutcome::Downloaded);
        assert_eq!(counts(&p), (3, Some(3), 35, 35, 10));
    }

    #[test]
    fn planned_total_stays_put() {
        let p = terminal_progress();
        let (a, b) = (Digest::of(b"a"), Digest::of(b"b"));
        p.planned(3, 30);
        p.blob_started(&a, 10);
        p.blob_finished(&b, 5, &BlobOutcome::AlreadyPresent);
        p.blob_finished(&a, 10, &BlobOutcome::Downloaded);
        assert_eq!(counts(&p), (2, Some(3), 15, 30, 0));
    }

    /// Resumed bytes are done but not moved: a resume once showed 126 MiB/s on an 8 MiB/s
    /// link, counting the kept bytes as arriving at once.
    #[test]
    fn resumed_bytes_are_done_but_not_moved() {
        let p = terminal_progress();
        let (a, b) = (Digest::of(b"a"), Digest::of(b"b"));
        p.planned(2, 300);
        p.blob_started(&a, 200);
        p.blob_resumed_at(&a, 110);
        p.blob_progress(&a, 40);
        assert_eq!(counts(&p), (0, Some(2), 150, 300, 40));
        // A retry sends again from 0: what moved before still moved, but is no longer done.
        p.blob_started(&b, 100);
        p.blob_progress(&b, 30);
        p.blob_reset(&b);
        assert_eq!(counts(&p), (0, Some(2), 150, 300, 70));
        p.blob_progress(&b, 100);
        p.blob_finished(&b, 100, &BlobOutcome::Pushed);
        p.blob_finished(&a, 200, &BlobOutcome::Resumed { from: 110 });
        assert_eq!(counts(&p), (2, Some(2), 300, 300, 170));
    }

    #[test]
    fn finished_lines_read_cleanly() {
        const MIB: u64 = 1024 * 1024;
        let d = Digest::of(b"a");
        let at = |outcome| finished_line(&d, 200 * MIB + 100 * 1024, &outcome);
        let id = short(&d);
        assert_eq!(
            at(BlobOutcome::Resumed {
                from: 110 * MIB + 800 * 1024
            }),
            format!("{id}: Pulled 200.1 MiB (resumed at 110.8 MiB)")
        );
        assert_eq!(
            at(BlobOutcome::Downloaded),
            format!("{id}: Pulled 200.1 MiB")
        );
        assert_eq!(at(BlobOutcome::Pushed), format!("{id}: Pushed 200.1 MiB"));
        assert_eq!(
            at(BlobOutcome::AlreadyPresent),
            format!("{id}: Already present (200.1 MiB)")
        );
        assert_eq!(
            at(BlobOutcome::Mounted {
                from: "team/base".into()
            }),
            format!("{id}: Mounted from team/base (200.1 MiB)")
        );
        assert_eq!(
            at(BlobOutcome::AlreadyExists),
            format!("{id}: Layer already exists (200.1 MiB)")
        );
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
