//! Docker Hub's pull limit, and any registry's 429 that asks for a longer wait than hoist gives:
//! what the registry said about it, read from the headers of the 429 (`Retry-After`,
//! `ratelimit-limit`, `ratelimit-remaining`), for an error that says when to try again and how
//! to avoid the limit. It decides nothing about retrying short waits (see `transport`).

use super::error::{requested_wait, MAX_RETRY_AFTER};
use crate::types::escape_control;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use std::fmt;
use std::time::{Duration, SystemTime};

/// A limit hoist will not wait out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// When the registry says to try again, if it said.
    pub retry_at: Option<SystemTime>,
    /// How long that is from when the answer came.
    pub wait: Option<Duration>,
    /// `ratelimit-limit` and `ratelimit-remaining` as sent (e.g. `100;w=21600`), escaped.
    pub limit: Option<String>,
    pub remaining: Option<String>,
}

/// Header values are the server's: shown escaped, and never more than this.
const MAX_SHOWN: usize = 80;

impl RateLimit {
    /// The limit a 429 with these headers reports, or `None` when its wait is short enough to
    /// honour (at most [`MAX_RETRY_AFTER`]) and the quota is not said to be spent.
    pub fn exceeded(headers: &HeaderMap, now: SystemTime) -> Option<RateLimit> {
        let wait = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| requested_wait(v, now));
        let limit = header(headers, "ratelimit-limit");
        let remaining = header(headers, "ratelimit-remaining");
        // `0;w=21600`: none left in this window, so a retry could only fail again.
        let spent = remaining
            .as_deref()
            .is_some_and(|r| r.split(';').next().map(str::trim) == Some("0"));
        let long = wait.is_some_and(|w| w > MAX_RETRY_AFTER);
        if !(long || (spent && wait.is_none())) {
            return None;
        }
        Some(RateLimit {
            retry_at: wait.and_then(|w| now.checked_add(w)),
            wait,
            limit,
            remaining,
        })
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?.trim();
    let shown: String = value.chars().take(MAX_SHOWN).collect();
    Some(escape_control(&shown).into_owned())
}

/// `in 2 h 5 min`, `in 90 s`.
fn after(wait: Duration) -> String {
    let secs = wait.as_secs();
    match secs {
        0..=119 => format!("in {secs} s"),
        120..=7199 => format!("in {} min", secs.div_ceil(60)),
        _ => format!("in {} h {} min", secs / 3600, (secs % 3600).div_ceil(60)),
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.retry_at, self.wait) {
            (Some(at), Some(wait)) => write!(
                f,
                "the registry's limit is reached; try again after {} ({}), longer than hoist waits ({} s)",
                httpdate::fmt_http_date(at),
                after(wait),
                MAX_RETRY_AFTER.as_secs()
            )?,
            _ => write!(f, "the registry's limit is reached; try again later")?,
        }
        let counts: Vec<String> = [
            ("ratelimit-limit", &self.limit),
            ("ratelimit-remaining", &self.remaining),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name}: {v}")))
        .collect();
        if !counts.is_empty() {
            write!(f, " ({})", counts.join(", "))?;
        }
        write!(
            f,
            ". Authenticated pulls have higher limits (hoist login), or pull through a mirror (--mirror REGISTRY=MIRROR)"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn a_short_wait_is_honoured_a_long_one_or_a_spent_quota_is_not() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(
            RateLimit::exceeded(&headers(&[("retry-after", "20")]), now),
            None
        );
        assert_eq!(RateLimit::exceeded(&headers(&[]), now), None);
        let long = RateLimit::exceeded(
            &headers(&[
                ("retry-after", "3600"),
                ("ratelimit-limit", "100;w=21600"),
                ("ratelimit-remaining", "0;w=21600"),
            ]),
            now,
        )
        .unwrap();
        assert_eq!(long.wait, Some(Duration::from_secs(3600)));
        assert_eq!(
            long.to_string(),
            "the registry's limit is reached; try again after Fri, 15 Jan 2027 09:00:00 GMT \
             (in 60 min), longer than hoist waits (60 s) (ratelimit-limit: 100;w=21600, \
             ratelimit-remaining: 0;w=21600). Authenticated pulls have higher limits (hoist \
             login), or pull through a mirror (--mirror REGISTRY=MIRROR)"
        );
        let spent = RateLimit::exceeded(&headers(&[("ratelimit-remaining", "0")]), now).unwrap();
        assert!(spent.to_string().starts_with(
            "the registry's limit is reached; try again later (ratelimit-remaining: 0)"
        ));
    }

    #[test]
    fn header_values_are_escaped_and_bounded() {
        let now = SystemTime::now();
        let long = "9".repeat(500);
        let h = headers(&[
            ("retry-after", "99999999999999999999999"),
            ("ratelimit-limit", &long),
        ]);
        let limit = RateLimit::exceeded(&h, now).unwrap();
        assert_eq!(limit.limit.as_deref().map(str::len), Some(MAX_SHOWN));
        assert!(limit.to_string().contains("try again later") || limit.retry_at.is_some());
    }
}
