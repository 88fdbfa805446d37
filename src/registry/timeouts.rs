//! How long hoist waits for a server: the bounds of one attempt (and reading its small answer
//! whole), the backoff between attempts, and the "waiting for …" notices after a few seconds.
//!
//! A server decides how fast it answers, so every wait is bounded: connecting, one attempt of a
//! small request (headers and body together), one request with all its retries, and the idle gap
//! allowed inside a streamed blob body. Blob bodies have no overall deadline: a multi-GB layer
//! over a slow link is legitimate as long as bytes keep arriving.

use super::error::{RedactedUrl, RegistryError};
use reqwest::{Method, Response};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Scales every bound below, so the test suite can exercise them in seconds (a factor in
/// `(0, 1]`; anything else is ignored). Read once, in `Settings::resolve`.
pub const SCALE_ENV: &str = "HOIST_TEST_TIMEOUT_SCALE";

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timeouts {
    /// TCP connect (per address) and TLS handshake.
    pub connect: Duration,
    /// One attempt of a request whose answer is small (ping, token, manifest, error envelope,
    /// upload steps): from sending until its whole body is read.
    pub attempt: Duration,
    /// One request with its retries: no retry starts unless a whole attempt fits in this.
    pub request: Duration,
    /// No byte for this long ends a streamed body (a blob download then resumes).
    pub idle: Duration,
    /// The first "waiting for …" notice; further ones come [`NOTICE_REPEAT`] times as far apart.
    pub notice: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            attempt: Duration::from_secs(30),
            request: Duration::from_secs(120),
            idle: Duration::from_secs(60),
            notice: Duration::from_secs(2),
        }
    }
}

impl Timeouts {
    /// The defaults times `factor`, when it is a usable factor (tests only).
    pub fn scaled(factor: &str) -> Timeouts {
        let base = Timeouts::default();
        match factor.trim().parse::<f64>() {
            Ok(f) if f > 0.0 && f <= 1.0 => Timeouts {
                connect: base.connect.mul_f64(f),
                attempt: base.attempt.mul_f64(f),
                request: base.request.mul_f64(f),
                idle: base.idle.mul_f64(f),
                notice: base.notice.mul_f64(f),
            },
            _ => base,
        }
    }
}

/// Told what hoist is waiting for once a wait passes [`Timeouts::notice`]; the UI decides how
/// to show it (library code never writes to the terminal).
pub type Notice = Arc<dyn Fn(&str) + Send + Sync>;

/// A wait is first announced after a couple of seconds, then less often: a long one should not
/// fill the screen.
pub const NOTICE_REPEAT: u32 = 5;

/// Runs `work`, calling `notice` with `what` and the time waited so far once `every` has passed,
/// then every [`NOTICE_REPEAT`] × `every`, until it ends.
pub async fn announce<F: Future>(
    notice: Option<&Notice>,
    every: Duration,
    what: impl Fn() -> String,
    work: F,
) -> F::Output {
    let Some(notice) = notice.filter(|_| !every.is_zero()) else {
        return work.await;
    };
    let started = tokio::time::Instant::now();
    let mut tick = tokio::time::interval_at(started + every, every * NOTICE_REPEAT);
    tokio::pin!(work);
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = tick.tick() => notice(&format!(
                "waiting for {} ({} s)…",
                what(),
                started.elapsed().as_secs_f64().round() as u64
            )),
        }
    }
}

/// One attempt of a request, within its bounds. A small answer (no request body, not
/// streamed) is sent and read whole under one deadline, so a server trickling bytes cannot hold
/// hoist; an upload's answer gets that deadline once its body is sent; a streamed download gets
/// it for its headers, and then only the idle timeout for its body.
pub(super) async fn attempt(
    mut request: reqwest::RequestBuilder,
    has_body: bool,
    limits: Timeouts,
    method: &Method,
    url: &url::Url,
) -> Result<Response, RegistryError> {
    let streamed = is_streamed();
    if !streamed && !has_body {
        request = request.timeout(limits.attempt);
    }
    let transport = |source| RegistryError::transport(method.as_str(), url, source);
    let timed_out = || RegistryError::TimedOut {
        method: method.to_string(),
        url: RedactedUrl(url).to_string(),
        waited: limits.attempt,
    };
    if streamed {
        return match tokio::time::timeout(limits.attempt, request.send()).await {
            Ok(sent) => sent.map_err(transport),
            Err(_) => Err(timed_out()),
        };
    }
    let response = request.send().await.map_err(transport)?;
    let read = buffered(response);
    if has_body {
        return match tokio::time::timeout(limits.attempt, read).await {
            Ok(read) => read.map_err(transport),
            Err(_) => Err(timed_out()),
        };
    }
    read.await.map_err(transport)
}

/// The largest small answer kept whole: a manifest's limit and one byte, so that its reader
/// can tell a manifest over the limit. Anything longer is cut here.
const SMALL_BODY_LIMIT: usize = 4 * 1024 * 1024 + 1;

/// Reads a small answer into memory (bounded) and hands it back as a response, so that reading
/// its body is part of the attempt, and its deadline, and its retries.
async fn buffered(mut response: Response) -> Result<Response, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = SMALL_BODY_LIMIT.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= SMALL_BODY_LIMIT {
            break;
        }
    }
    use reqwest::ResponseBuilderExt;
    let mut rebuilt = http::Response::builder()
        .status(response.status())
        .version(response.version())
        .url(response.url().clone())
        .body(body)
        .expect("parts from a valid response");
    *rebuilt.headers_mut() = std::mem::take(response.headers_mut());
    Ok(Response::from(rebuilt))
}

/// `host:port` of a URL, for notices (never its path or query, which may hold secrets).
pub(super) fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            let host = u.host_str()?.to_string();
            Some(match u.port_or_known_default() {
                Some(port) => format!("{host}:{port}"),
                None => host,
            })
        })
        .unwrap_or_else(|| "the server".into())
}

/// Exponential backoff from 200 ms, capped at 10 s; the registry's `Retry-After` wins (up to 60 s).
pub(super) fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(wait) = retry_after {
        return wait.min(Duration::from_secs(60));
    }
    Duration::from_millis(200u64.saturating_mul(1 << attempt.min(6))).min(Duration::from_secs(10))
}

tokio::task_local! {
    /// Set around a request whose body is streamed (a blob download): it gets no overall
    /// deadline, only the idle one.
    static STREAMED: ();
}

/// Runs `work` with its requests marked as streamed (see [`is_streamed`]).
pub async fn streamed<F: Future>(work: F) -> F::Output {
    STREAMED.scope((), work).await
}

pub fn is_streamed() -> bool {
    STREAMED.try_with(|_| ()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_honours_retry_after() {
        assert!(backoff(1, None) < backoff(2, None));
        assert_eq!(backoff(30, None), Duration::from_secs(10));
        assert_eq!(
            backoff(1, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
    }

    #[test]
    fn scale_applies_only_to_sane_factors() {
        assert_eq!(Timeouts::scaled("0.1").attempt, Duration::from_secs(3));
        for bad in ["0", "-1", "2", "NaN", "inf", "x", ""] {
            assert_eq!(Timeouts::scaled(bad), Timeouts::default(), "{bad}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn long_waits_are_announced() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        let notice: Notice = Arc::new(move |s| log.lock().unwrap().push(s.to_string()));
        let work = tokio::time::sleep(Duration::from_secs(23));
        announce(Some(&notice), Duration::from_secs(2), || "x".into(), work).await;
        assert_eq!(
            *seen.lock().unwrap(),
            [
                "waiting for x (2 s)…",
                "waiting for x (12 s)…",
                "waiting for x (22 s)…"
            ]
        );
        assert!(!is_streamed());
        assert!(streamed(async { is_streamed() }).await);
    }
}
