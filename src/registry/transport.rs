//! The HTTP side of one registry: reqwest clients with each host's own TLS settings (the
//! registry's, and a token realm's), one attempt within its deadlines, redirects followed by
//! hand, and the wait before a retry. It holds no credentials: it sends the `Authorization`
//! it is handed, and only to the registry's own origin (see [`trust::is_registry_origin`]).

use super::error::{self, RedactedUrl, RegistryError};
use super::timeouts::{self, backoff, host_of, Notice, Timeouts};
use super::trust::{self, HostPolicy};
use crate::reference::Registry;
use crate::types::Secret;
use futures_util::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, LOCATION};
use reqwest::{Method, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A request body that can be produced again: a retried upload re-opens its file rather than
/// replaying a consumed stream.
pub type BodySource =
    Arc<dyn Fn() -> BoxFuture<'static, std::io::Result<reqwest::Body>> + Send + Sync>;

/// What `--debug` shows of each request: never headers or bodies, so never a secret.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    pub method: Method,
    pub url: String,
    pub status: Option<u16>,
    /// The HTTP version the answer came over, when there was one.
    pub version: Option<reqwest::Version>,
    pub elapsed: Duration,
    /// Docker Hub's `ratelimit-remaining` (`76;w=21600`), as sent: pulls left in the window.
    pub ratelimit_remaining: Option<String>,
}

pub type RequestLog = Arc<dyn Fn(&RequestRecord) + Send + Sync>;

#[derive(Clone)]
pub struct ClientOptions {
    /// The user named this registry in `--insecure`: plain HTTP and unverified TLS allowed.
    pub insecure: bool,
    /// Extra CA certificates (PEM) trusted for this registry (`certs.d/HOST/*.crt`).
    pub ca_certs: Vec<Vec<u8>>,
    /// Client certificate and key, PEM concatenated (`certs.d/HOST/client.cert` + `client.key`).
    pub client_identity: Option<Vec<u8>>,
    pub retries: u32,
    pub log: Option<RequestLog>,
    /// TLS settings of every other host (a token realm elsewhere): never the registry's.
    pub hosts: Arc<dyn HostPolicy>,
    pub timeouts: Timeouts,
    /// Told what hoist waits for when a wait passes a few seconds.
    pub notice: Option<Notice>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            insecure: false,
            ca_certs: Vec::new(),
            client_identity: None,
            retries: 4,
            log: None,
            hosts: trust::system_trust_only(),
            timeouts: Timeouts::default(),
            notice: None,
        }
    }
}

const USER_AGENT: &str = concat!("hoist/", env!("CARGO_PKG_VERSION"));

pub(crate) struct Transport {
    registry: Registry,
    http: reqwest::Client,
    pub(crate) options: ClientOptions,
    /// Clients for token realms on other hosts, each with that host's own TLS settings, and
    /// whether that host allows plain HTTP.
    realm_clients: Mutex<HashMap<String, (reqwest::Client, bool)>>,
    /// Counts requests sent, for `--debug` summaries and tests of round trips.
    sent: Mutex<u64>,
}

impl Transport {
    pub(crate) fn new(registry: Registry, options: ClientOptions) -> Result<Self, RegistryError> {
        Ok(Transport {
            registry,
            http: build_http(&options)?,
            options,
            realm_clients: Mutex::new(HashMap::new()),
            sent: Mutex::new(0),
        })
    }

    pub(crate) fn requests_sent(&self) -> u64 {
        *self.sent.lock().unwrap()
    }

    /// Loopback registries and those named by `--insecure` may be spoken to over plain HTTP.
    pub(crate) fn plain_http_allowed(&self) -> bool {
        self.options.insecure || self.registry.is_loopback()
    }

    /// Whether `url` is the registry itself (see [`trust::is_registry_origin`]).
    pub(crate) fn is_registry_origin(&self, url: &url::Url, base: &url::Url) -> bool {
        trust::is_registry_origin(url, base, self.plain_http_allowed())
    }

    /// The client for a token realm, and whether plain HTTP may carry credentials to it: the
    /// registry's own for a realm on the registry's host and port, else one built with the
    /// realm host's own TLS settings (`--insecure` for the registry does not reach it).
    pub(crate) fn realm_client(
        &self,
        realm: &url::Url,
    ) -> Result<(reqwest::Client, bool), RegistryError> {
        let authority = error::authority(realm);
        if authority == self.registry.api_host() {
            return Ok((self.http.clone(), self.plain_http_allowed()));
        }
        let mut clients = self.realm_clients.lock().unwrap();
        if let Some(found) = clients.get(&authority) {
            return Ok(found.clone());
        }
        let tls = self
            .options
            .hosts
            .tls_for(&authority)
            .map_err(|e| RegistryError::RealmTls {
                authority: authority.clone(),
                detail: e.to_string(),
            })?;
        let options = ClientOptions {
            insecure: tls.insecure,
            ca_certs: tls.ca_certs,
            client_identity: tls.client_identity,
            ..self.options.clone()
        };
        let client = (build_http(&options)?, tls.insecure);
        clients.insert(authority, client.clone());
        Ok(client)
    }

    /// Follows redirects by hand: `Authorization` goes only to the registry's own scheme, host
    /// and port, never to the object store a blob download is sent to, nor down to plain HTTP
    /// unless the registry allows it.
    pub(crate) async fn follow(
        &self,
        method: Method,
        url: url::Url,
        base: &url::Url,
        headers: HeaderMap,
        body: Option<BodySource>,
        auth: Option<&Secret>,
    ) -> Result<Response, RegistryError> {
        let notice = self.options.notice.clone();
        self.follow_with(method, url, base, headers, body, auth, notice.as_ref())
            .await
    }

    /// [`Self::follow`], telling `notice` (rather than the user) what a long wait is for.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn follow_with(
        &self,
        method: Method,
        mut url: url::Url,
        base: &url::Url,
        headers: HeaderMap,
        body: Option<BodySource>,
        auth: Option<&Secret>,
        notice: Option<&Notice>,
    ) -> Result<Response, RegistryError> {
        for _ in 0..10 {
            let same_host = self.is_registry_origin(&url, base);
            let response = self
                .execute_with(
                    method.clone(),
                    &url,
                    headers.clone(),
                    body.clone(),
                    auth.filter(|_| same_host),
                    notice,
                )
                .await?;
            if !response.status().is_redirection() || !matches!(method, Method::GET | Method::HEAD)
            {
                return Ok(response);
            }
            let Some(location) = response
                .headers()
                .get(LOCATION)
                .and_then(|l| l.to_str().ok())
            else {
                return Ok(response);
            };
            url = url.join(location).map_err(|e| RegistryError::BadRedirect {
                from: RedactedUrl(&url).to_string(),
                detail: e.to_string(),
            })?;
        }
        Err(RegistryError::RedirectLoop {
            registry: self.registry.to_string(),
        })
    }

    /// One attempt of one request, within its deadlines, logged for `--debug`.
    pub(crate) async fn execute(
        &self,
        method: Method,
        url: &url::Url,
        headers: HeaderMap,
        body: Option<BodySource>,
        auth: Option<&Secret>,
    ) -> Result<Response, RegistryError> {
        let notice = self.options.notice.clone();
        self.execute_with(method, url, headers, body, auth, notice.as_ref())
            .await
    }

    /// [`Self::execute`], telling `notice` (rather than the user) what a long wait is for.
    pub(crate) async fn execute_with(
        &self,
        method: Method,
        url: &url::Url,
        headers: HeaderMap,
        body: Option<BodySource>,
        auth: Option<&Secret>,
        notice: Option<&Notice>,
    ) -> Result<Response, RegistryError> {
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .headers(headers);
        if let Some(auth) = auth {
            let mut value =
                HeaderValue::from_str(auth.expose()).map_err(|_| RegistryError::BadHeaderValue)?;
            value.set_sensitive(true);
            request = request.header(AUTHORIZATION, value);
        }
        let has_body = body.is_some();
        if let Some(body) = body {
            let body = body().await.map_err(|e| RegistryError::UploadBody {
                method: method.to_string(),
                url: RedactedUrl(url).to_string(),
                detail: e.to_string(),
            })?;
            request = request.body(body);
        }
        let limits = self.options.timeouts;
        let started = Instant::now();
        *self.sent.lock().unwrap() += 1;
        let work = timeouts::attempt(request, has_body, limits, &method, url);
        let result = timeouts::announce(
            notice,
            limits.notice,
            || {
                format!(
                    "{} to answer {method} {}",
                    host_of(url.as_str()),
                    url.path()
                )
            },
            work,
        )
        .await;
        if let Some(log) = &self.options.log {
            let response = result.as_ref().ok();
            log(&RequestRecord {
                method: method.clone(),
                url: RedactedUrl(url).to_string(),
                status: response.map(|r| r.status().as_u16()),
                version: response.map(|r| r.version()),
                elapsed: started.elapsed(),
                ratelimit_remaining: response
                    .and_then(|r| r.headers().get("ratelimit-remaining"))
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.chars().take(80).collect()),
            });
        }
        result
    }

    /// The pause before retry number `attempt` of a request begun at `started`, or `None` when
    /// it should not be retried. A small request with its retries stays within
    /// `timeouts.request`: retry only when a whole attempt still fits. An upload's time is its
    /// body's, not the server's.
    pub(crate) fn retry_wait(
        &self,
        attempt: u32,
        started: Instant,
        error: &RegistryError,
        has_body: bool,
    ) -> Option<Duration> {
        let wait = backoff(attempt, error.retry_after());
        let limits = &self.options.timeouts;
        let bounded = !has_body && !timeouts::is_streamed();
        if bounded && started.elapsed() + wait + limits.attempt > limits.request {
            return None;
        }
        Some(wait)
    }

    /// Says at once why hoist pauses, when the pause is long enough to be noticed.
    pub(crate) fn announce_retry(
        &self,
        wait: Duration,
        error: &RegistryError,
        method: &Method,
        path: &str,
    ) {
        let Some(notice) = self.options.notice.as_ref() else {
            return;
        };
        if let Some(line) = retry_notice(wait, error, method, path) {
            notice(&line);
        }
    }

    /// Sleeps `wait`, telling the user what hoist waits for if that takes a while.
    pub(crate) async fn pause(&self, wait: Duration, what: impl Fn() -> String) {
        let limits = &self.options.timeouts;
        timeouts::announce(
            self.options.notice.as_ref(),
            limits.notice,
            what,
            tokio::time::sleep(wait),
        )
        .await;
    }

    pub(crate) fn record(&self, method: &Method, url: &str, status: Option<u16>, started: Instant) {
        if let Some(log) = &self.options.log {
            log(&RequestRecord {
                method: method.clone(),
                url: url.to_string(),
                status,
                version: None,
                elapsed: started.elapsed(),
                ratelimit_remaining: None,
            });
        }
    }
}

fn build_http(options: &ClientOptions) -> Result<reqwest::Client, RegistryError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(options.timeouts.connect)
        .read_timeout(options.timeouts.idle)
        // A wave of small blobs runs up to 32 requests at once; keeping as many connections
        // idle spares the next step (HEAD, then POST, then PUT) a new handshake.
        .pool_max_idle_per_host(32)
        // HTTP/1.1 even where a registry offers HTTP/2: measured over TLS at 0, 20 and 50 ms
        // RTT, one multiplexed connection was no faster for many small blobs, up to 1.25x
        // slower for 1 GiB pushes (one TCP stream, one TLS session, the server's flow-control
        // window), and took 10 MiB more memory with 100 blobs in flight.
        .http1_only()
        .danger_accept_invalid_certs(options.insecure);
    for pem in &options.ca_certs {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
            RegistryError::BadCaCertificate {
                detail: e.to_string(),
            }
        })?;
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    if let Some(pem) = &options.client_identity {
        let identity =
            reqwest::Identity::from_pem(pem).map_err(|e| RegistryError::BadClientIdentity {
                detail: e.to_string(),
            })?;
        builder = builder.identity(identity);
    }
    builder.build().map_err(|e| RegistryError::HttpsSetup {
        detail: e.to_string(),
    })
}

/// Waits this long or longer are said out loud before they start.
const NOTICEABLE_PAUSE: Duration = Duration::from_secs(2);

/// `registry asked to retry in 20 s (429 Too Many Requests)`, or for hoist's own backoff
/// `retrying GET /v2/… in 4 s (503 Service Unavailable)`; `None` for a short pause.
fn retry_notice(
    wait: Duration,
    error: &RegistryError,
    method: &Method,
    path: &str,
) -> Option<String> {
    if wait <= NOTICEABLE_PAUSE {
        return None;
    }
    let secs = wait.as_secs_f64().round();
    let why = error
        .status()
        .map(|s| s.to_string())
        .unwrap_or_else(|| "no answer".to_string());
    Some(if error.retry_after().is_some() {
        format!("registry asked to retry in {secs} s ({why})")
    } else {
        format!("retrying {method} {path} in {secs} s ({why})")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_pauses_say_why_short_ones_say_nothing() {
        let status = |code: u16, retry_after: Option<u64>| RegistryError::Status {
            method: "GET".into(),
            url: "https://r/v2/".into(),
            status: reqwest::StatusCode::from_u16(code).unwrap(),
            errors: Vec::new(),
            retry_after: retry_after.map(Duration::from_secs),
        };
        let line = |wait: u64, e: &RegistryError| {
            retry_notice(Duration::from_secs(wait), e, &Method::GET, "/v2/a/blobs/x")
        };
        assert_eq!(
            line(20, &status(429, Some(20))).as_deref(),
            Some("registry asked to retry in 20 s (429 Too Many Requests)")
        );
        assert_eq!(
            line(4, &status(503, None)).as_deref(),
            Some("retrying GET /v2/a/blobs/x in 4 s (503 Service Unavailable)")
        );
        assert_eq!(line(2, &status(503, None)), None);
    }
}
