//! `--debug`'s closing line: how many requests a command sent, and how many round trips its
//! time amounts to. It only counts what the transport's request log reports; it sends nothing
//! and never sees a header or a body.

use crate::registry::RequestRecord;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct RequestStats {
    inner: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    requests: u64,
    /// Attempts that got no answer (refused, a failed TLS handshake, a cut connection).
    unanswered: u64,
    first_sent: Option<Instant>,
    /// The quickest answer: one round trip plus the server's time, an upper bound on the RTT.
    fastest: Option<Duration>,
}

impl RequestStats {
    pub fn record(&self, request: &RequestRecord) {
        let sent = Instant::now().checked_sub(request.elapsed);
        let mut c = self.inner.lock().unwrap();
        c.requests += 1;
        if let Some(sent) = sent {
            c.first_sent = Some(c.first_sent.map_or(sent, |f| f.min(sent)));
        }
        match request.status {
            Some(_) => {
                c.fastest = Some(
                    c.fastest
                        .map_or(request.elapsed, |f| f.min(request.elapsed)),
                )
            }
            None => c.unanswered += 1,
        }
    }

    /// `debug: 36 requests (1 unanswered) in 352 ms; round trip ≤ 21 ms (the fastest answer),
    /// so ≥ 16.8 round trips`, timed from the first request to now; `None` before any request.
    pub fn summary(&self) -> Option<String> {
        let c = self.inner.lock().unwrap();
        let span = c.first_sent?.elapsed();
        let unanswered = match c.unanswered {
            0 => String::new(),
            n => format!(" ({n} unanswered)"),
        };
        let mut line = format!(
            "debug: {} requests{unanswered} in {} ms",
            c.requests,
            span.as_millis()
        );
        if let Some(rtt) = c.fastest.filter(|f| !f.is_zero()) {
            line += &format!(
                "; round trip ≤ {:.1} ms (the fastest answer), so ≥ {:.1} round trips",
                rtt.as_secs_f64() * 1000.0,
                span.as_secs_f64() / rtt.as_secs_f64()
            );
        }
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::Method;

    fn record(status: Option<u16>, ms: u64) -> RequestRecord {
        RequestRecord {
            method: Method::GET,
            url: "http://r/v2/".into(),
            status,
            version: None,
            elapsed: Duration::from_millis(ms),
            ratelimit_remaining: None,
        }
    }

    #[test]
    fn the_fastest_answer_sets_the_round_trip_and_failures_do_not() {
        let stats = RequestStats::default();
        assert_eq!(stats.summary(), None);
        stats.record(&record(None, 0));
        stats.record(&record(Some(200), 40));
        stats.record(&record(Some(404), 20));
        let line = stats.summary().unwrap();
        assert!(
            line.starts_with("debug: 3 requests (1 unanswered) in "),
            "{line}"
        );
        assert!(line.contains("round trip ≤ 20.0 ms"), "{line}");
        let trips: f64 = line
            .rsplit("≥ ")
            .next()
            .and_then(|t| t.split(' ').next())
            .and_then(|t| t.parse().ok())
            .unwrap();
        assert!(trips >= 2.0, "the 40 ms request spans two: {line}");
    }
}
