//! How fast bytes are moving, and the words for it: the rate over the last few seconds of
//! bytes moved in this run (resumed and already-present bytes are not movement), the time
//! left at that rate, and the lines the bars show.

use super::progress::human_bytes;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The rate covers this much recent time, so a stall shows within seconds.
const WINDOW: Duration = Duration::from_secs(5);
/// Less time than this says nothing about a rate.
const MIN_SPAN: Duration = Duration::from_millis(500);
/// Samples come with redraws (a few a second); this only bounds a burst.
const MAX_SAMPLES: usize = 512;

/// Bytes moved so far, sampled over time.
#[derive(Debug)]
pub struct Meter {
    samples: VecDeque<(Instant, u64)>,
}

impl Meter {
    /// Nothing moved yet at `start`.
    pub fn new(start: Instant) -> Meter {
        Meter {
            samples: VecDeque::from([(start, 0)]),
        }
    }

    /// `moved` bytes in all by `now`. A smaller count than before starts the meter over.
    pub fn record(&mut self, now: Instant, moved: u64) {
        match self.samples.back() {
            Some(&(_, last)) if moved < last => self.samples.clear(),
            Some(&(at, _)) if now < at => return,
            _ => {}
        }
        self.samples.push_back((now, moved));
        // Keep one sample at or before the window's start, so the rate spans the window.
        while self.samples.len() > MAX_SAMPLES
            || (self.samples.len() > 2 && now.duration_since(self.samples[1].0) >= WINDOW)
        {
            self.samples.pop_front();
        }
    }

    /// Bytes per second over the window, once it spans long enough to say.
    pub fn per_sec(&self) -> Option<f64> {
        let (&(t0, b0), &(t1, b1)) = (self.samples.front()?, self.samples.back()?);
        let span = t1.duration_since(t0);
        (span >= MIN_SPAN).then(|| (b1 - b0) as f64 / span.as_secs_f64())
    }
}

/// `1.5 MiB/s`.
pub fn rate(per_sec: f64) -> String {
    format!("{}/s", human_bytes(per_sec.round() as u64))
}

/// Time left for `remaining` bytes at `per_sec`: `40s`, `3m05s`, `1h02m`; nothing when the
/// transfer is stalled or the answer would be days.
pub fn eta(remaining: u64, per_sec: f64) -> Option<String> {
    if per_sec < 1.0 {
        return None;
    }
    let secs = (remaining as f64 / per_sec).ceil();
    if secs >= 100.0 * 3600.0 {
        return None;
    }
    let secs = secs as u64;
    Some(match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
    })
}

/// `300.0 MiB / 800.2 MiB  12.3 MiB/s  ETA 40s`: bytes done out of the total, then the rate
/// and the time left once there is a rate.
pub fn figures(done: u64, total: u64, per_sec: Option<f64>) -> String {
    let mut line = format!("{} / {}", human_bytes(done), human_bytes(total));
    if let Some(per_sec) = per_sec {
        line.push_str("  ");
        line.push_str(&rate(per_sec));
        if let Some(eta) = eta(total.saturating_sub(done), per_sec) {
            line.push_str("  ETA ");
            line.push_str(&eta);
        }
    }
    line
}

/// The overall line: `2/5 blobs  300.0 MiB / 800.2 MiB  12.3 MiB/s  ETA 40s`.
pub fn overall(blobs_done: u64, blobs: u64, done: u64, total: u64, per_sec: Option<f64>) -> String {
    format!(
        "{blobs_done}/{blobs} blobs  {}",
        figures(done, total, per_sec)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn rate_counts_recent_movement_only() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut m = Meter::new(t0);
        m.record(at(200), MIB);
        assert_eq!(m.per_sec(), None, "too soon to say");
        m.record(at(1000), 4 * MIB);
        assert_eq!(m.per_sec(), Some(4.0 * MIB as f64));
        // Then nothing for longer than the window: the rate falls to zero, not to an average.
        m.record(at(7000), 4 * MIB);
        assert_eq!(m.per_sec(), Some(0.0));
        m.record(at(8000), 5 * MIB);
        // The window reaches back to the last sample before it: 1 MiB over 7 s.
        assert_eq!(m.per_sec(), Some(MIB as f64 / 7.0));
    }

    #[test]
    fn a_smaller_count_starts_over() {
        let t0 = Instant::now();
        let mut m = Meter::new(t0);
        m.record(t0 + Duration::from_secs(1), 10 * MIB);
        m.record(t0 + Duration::from_secs(2), 0);
        assert_eq!(m.per_sec(), None);
        m.record(t0 + Duration::from_secs(3), MIB);
        assert_eq!(m.per_sec(), Some(MIB as f64));
    }

    #[test]
    fn samples_stay_bounded() {
        let t0 = Instant::now();
        let mut m = Meter::new(t0);
        for i in 0..10_000u64 {
            m.record(t0 + Duration::from_micros(i), i);
        }
        assert!(m.samples.len() <= MAX_SAMPLES);
    }

    #[test]
    fn time_left() {
        assert_eq!(eta(100, 10.0).as_deref(), Some("10s"));
        assert_eq!(eta(185, 1.0).as_deref(), Some("3m05s"));
        assert_eq!(eta(3720 * MIB, MIB as f64).as_deref(), Some("1h02m"));
        assert_eq!(eta(100, 0.0), None, "stalled");
        assert_eq!(eta(u64::MAX, 2.0), None, "days");
    }

    #[test]
    fn overall_line_exactly() {
        assert_eq!(
            overall(
                2,
                5,
                300 * MIB,
                800 * MIB + 205 * 1024,
                Some(12.3 * MIB as f64)
            ),
            "2/5 blobs  300.0 MiB / 800.2 MiB  12.3 MiB/s  ETA 41s"
        );
        assert_eq!(
            overall(0, 5, 0, 800 * MIB, None),
            "0/5 blobs  0 B / 800.0 MiB"
        );
        assert_eq!(
            overall(1, 2, 10, 20, Some(0.0)),
            "1/2 blobs  10 B / 20 B  0 B/s"
        );
    }
}
