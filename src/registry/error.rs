//! One error type for everything that goes wrong talking to a registry: which request, what
//! status, the registry's own `errors[]` envelope, and whether trying again could help.

use super::rate_limit::RateLimit;
use crate::types::escape_control;
use reqwest::StatusCode;
use std::fmt;
use std::time::Duration;

/// One entry of the distribution spec's error envelope: `{"errors":[{"code","message","detail"}]}`.
#[derive(Clone, Debug, serde::Deserialize, PartialEq, Eq)]
pub struct RegistryErrorInfo {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The registry answered, but not with what we asked for.
    #[error("{method} {url}: {status}{}", describe(.errors))]
    Status {
        method: String,
        url: String,
        status: StatusCode,
        errors: Vec<RegistryErrorInfo>,
        retry_after: Option<std::time::Duration>,
    },
    /// 429 with a wait longer than hoist gives, or a spent quota: retrying would only spend
    /// more of it (Docker Hub's pull limit).
    #[error("{method} {url}: 429 Too Many Requests{}: {limit}", describe(.errors))]
    RateLimited {
        method: String,
        url: String,
        errors: Vec<RegistryErrorInfo>,
        limit: Box<RateLimit>,
    },
    /// No answer at all: DNS, connect, TLS, reset. The cause chain says which. Build it with
    /// [`RegistryError::transport`]: `source` must not carry the URL (reqwest prints it whole).
    #[error("{method} {url}{}", transport_hint(.source, .authority))]
    Transport {
        method: String,
        url: String,
        /// `host[:port]` of the request, as `--insecure` and `certs.d` name it.
        authority: String,
        #[source]
        source: reqwest::Error,
    },
    /// The registry or its token service refused the credentials we sent.
    #[error("{registry} refused the credentials{}", .detail.as_ref().map(|d| format!(": {}", escape_control(d))).unwrap_or_default())]
    CredentialsRefused {
        registry: String,
        detail: Option<String>,
    },
    /// The registry asked for credentials and hoist had none to send.
    #[error("not logged in to {registry}: run hoist login {registry}")]
    NotLoggedIn { registry: String },
    /// `login` with a token where the registry takes only Basic credentials.
    #[error("{registry} uses Basic authentication, which needs a username and password")]
    BasicNeedsPassword { registry: String },
    /// The credential source failed (a helper that crashed, a config that cannot be read).
    #[error("looking up credentials for {registry}: {}", escape_control(.detail))]
    CredentialLookup { registry: String, detail: String },
    /// Credentials would cross plain HTTP to a registry the user did not name in `--insecure`.
    #[error("refusing to send credentials to {registry} over plain HTTP; pass --insecure {registry} if you trust this network")]
    PlainHttpRefused { registry: String },
    /// The same, to a token service: the hint names the realm's own `host[:port]`.
    #[error("refusing to send credentials to token service {realm} over plain HTTP; use --insecure {authority} if you trust this network")]
    PlainHttpRealmRefused { realm: String, authority: String },
    /// A 401 from a host a redirect led to: only the registry may ask for credentials
    /// (the class of CVE-2020-15157).
    #[error("{method} {url}: 401 Unauthorized from {authority}, where {registry} redirected the request; hoist sends credentials only to {registry} and its token service")]
    ChallengeFromRedirect {
        method: String,
        url: String,
        authority: String,
        registry: String,
    },
    /// A 401 without a `WWW-Authenticate` hoist can answer.
    #[error("{registry} answered 401 without a usable WWW-Authenticate challenge")]
    BadChallenge { registry: String },
    #[error("{registry} asks for {} authentication, which hoist does not support", escape_control(.scheme))]
    UnsupportedChallenge { registry: String, scheme: String },
    #[error("{registry}: Bearer challenge without a realm")]
    NoRealm { registry: String },
    /// The realm is not printed: a string that is no URL cannot be redacted like one.
    #[error("{registry}: its token realm is not a URL: {detail}")]
    BadRealm { registry: String, detail: String },
    #[error("{method} {url}: token response is not valid JSON: {}", escape_control(.detail))]
    BadTokenResponse {
        method: String,
        url: String,
        detail: String,
    },
    #[error("{method} {url}: token response has no token")]
    NoToken { method: String, url: String },
    #[error("bad registry host {registry}: {detail}")]
    BadRegistryHost { registry: String, detail: String },
    /// A path or upload location that does not join onto the registry's URL (not printed: it
    /// may carry upload state).
    #[error("bad URL from {registry}: {detail}")]
    BadUrl { registry: String, detail: String },
    #[error("bad redirect from {from}: {detail}")]
    BadRedirect { from: String, detail: String },
    #[error("too many redirects from {registry}")]
    RedirectLoop { registry: String },
    /// An upload or mount answered without saying where to go on.
    #[error("{url} answered without a Location header")]
    MissingLocation { url: String },
    #[error("credentials contain characters not allowed in a header")]
    BadHeaderValue,
    #[error("{method} {url}: reading the upload body: {}", escape_control(.detail))]
    UploadBody {
        method: String,
        url: String,
        detail: String,
    },
    /// A CA file from `certs.d` that is not PEM certificates.
    #[error("bad CA certificate: {}", escape_control(.detail))]
    BadCaCertificate { detail: String },
    #[error("bad client certificate or key: {}", escape_control(.detail))]
    BadClientIdentity { detail: String },
    #[error("cannot set up HTTPS: {}", escape_control(.detail))]
    HttpsSetup { detail: String },
    /// The TLS settings of a token service on another host could not be loaded.
    #[error("TLS settings for token service {authority}: {}", escape_control(.detail))]
    RealmTls { authority: String, detail: String },
    #[error("manifest {reference} is larger than 4 MiB")]
    ManifestTooLarge { reference: String },
    #[error("{reference} is a Docker schema 1 manifest, which is deprecated and unsupported; push it again with a current client")]
    UnsupportedSchema1 { reference: String },
    #[error("manifest digest mismatch for {repository}: asked for {expected}, got {actual}")]
    DigestMismatch {
        repository: String,
        expected: String,
        actual: String,
    },
    #[error("bad media type {}", escape_control(&format!("{:?}", .0)))]
    BadMediaType(String),
    /// A blob body stopped before its end: worth resuming from where the file is.
    #[error("connection lost mid-download: {}", escape_control(.detail))]
    Cut { detail: String },
    /// The server accepted the request but did not answer within hoist's deadline.
    #[error("{method} {url}: timed out: no answer within {} s", .waited.as_secs_f64().ceil())]
    TimedOut {
        method: String,
        url: String,
        waited: Duration,
    },
}

fn describe(errors: &[RegistryErrorInfo]) -> String {
    let parts: Vec<String> = errors
        .iter()
        .map(|e| match (e.code.is_empty(), e.message.is_empty()) {
            (false, false) => format!("{}: {}", e.code, e.message),
            (false, true) => e.code.clone(),
            _ => e.message.clone(),
        })
        // The registry's words, never its control characters (see types::escape).
        .map(|s| escape_control(&s).into_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join("; "))
    }
}

impl RegistryError {
    /// A transport error with the URL redacted, and stripped from reqwest's own message.
    pub fn transport(method: &str, url: &url::Url, source: reqwest::Error) -> RegistryError {
        RegistryError::Transport {
            method: method.to_string(),
            url: RedactedUrl(url).to_string(),
            authority: authority(url),
            source: source.without_url(),
        }
    }

    pub fn status(&self) -> Option<StatusCode> {
        match self {
            RegistryError::Status { status, .. } => Some(*status),
            RegistryError::RateLimited { .. } => Some(StatusCode::TOO_MANY_REQUESTS),
            RegistryError::Transport { source, .. } => source.status(),
            _ => None,
        }
    }

    pub fn has_code(&self, code: &str) -> bool {
        matches!(self, RegistryError::Status { errors, .. } if errors.iter().any(|e| e.code == code))
    }

    /// Worth another try: connection failures, 408, 429 and 5xx (but not 501 Not Implemented).
    pub fn is_temporary(&self) -> bool {
        match self {
            RegistryError::Transport { source, .. } => {
                !source.is_builder() && !source.is_redirect() && !is_certificate_error(source)
            }
            RegistryError::Status { status, .. } => is_temporary_status(*status),
            RegistryError::TimedOut { .. } | RegistryError::Cut { .. } => true,
            _ => false,
        }
    }

    /// A host that could not be reached at all, in one line (`cannot connect to A: connection
    /// refused`, `cannot resolve HOST: no such host`) instead of reqwest's five-level chain.
    /// None for anything else: TLS, timeouts and HTTP errors keep their own words.
    pub fn unreachable(&self) -> Option<String> {
        let RegistryError::Transport {
            authority, source, ..
        } = self
        else {
            return None;
        };
        if is_certificate_error(source) || source.is_timeout() {
            return None;
        }
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(source);
        let mut io_kind = None;
        while let Some(e) = cause {
            if e.to_string().starts_with("dns error") {
                let host = match authority.rsplit_once(':') {
                    Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
                    _ => authority.as_str(),
                };
                return Some(format!("cannot resolve {host}: no such host"));
            }
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                io_kind = Some(io.kind());
            }
            cause = e.source();
        }
        use std::io::ErrorKind::*;
        let why = match io_kind? {
            ConnectionRefused => "connection refused",
            ConnectionReset => "connection reset",
            HostUnreachable => "host unreachable",
            NetworkUnreachable => "network unreachable",
            AddrNotAvailable => "address not available",
            _ => return None,
        };
        source
            .is_connect()
            .then(|| format!("cannot connect to {authority}: {why}"))
    }

    /// A blob body cut short: the engine resumes the download where its file ends.
    pub fn cut(source: reqwest::Error) -> RegistryError {
        RegistryError::Cut {
            detail: source.to_string(),
        }
    }

    pub fn is_cut(&self) -> bool {
        matches!(self, RegistryError::Cut { .. })
    }

    /// A deadline or idle timeout ran out: the server accepted but did not answer in time.
    /// Nothing came back: no connection, or no answer before the deadline. A body cut or
    /// stalled after the registry began to answer is not this.
    pub fn is_unreachable(&self) -> bool {
        match self {
            RegistryError::Transport { source, .. } => {
                source.is_connect()
                    || (source.is_timeout() && !source.is_body() && !source.is_decode())
            }
            RegistryError::TimedOut { .. } => true,
            _ => false,
        }
    }

    pub fn is_timeout(&self) -> bool {
        match self {
            RegistryError::Transport { source, .. } => source.is_timeout(),
            RegistryError::TimedOut { .. } => true,
            _ => false,
        }
    }

    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            RegistryError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// The one retry rule for statuses: 408, 429 and 5xx but 501 Not Implemented.
pub fn is_temporary_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429)
        || (status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED)
}

/// The status gate every endpoint passes its response through (as go-containerregistry's
/// `CheckError`): a status in `ok` hands the response back, any other becomes a
/// [`RegistryError::Status`] carrying the registry's error envelope.
pub async fn expect(
    method: &str,
    response: reqwest::Response,
    ok: &[StatusCode],
) -> Result<reqwest::Response, RegistryError> {
    gate(method, response, |s| ok.contains(&s)).await
}

/// [`expect`] for endpoints the spec lets answer with any 2xx, plus the statuses in `also`.
pub async fn expect_success(
    method: &str,
    response: reqwest::Response,
    also: &[StatusCode],
) -> Result<reqwest::Response, RegistryError> {
    gate(method, response, |s| s.is_success() || also.contains(&s)).await
}

async fn gate(
    method: &str,
    response: reqwest::Response,
    ok: impl Fn(StatusCode) -> bool,
) -> Result<reqwest::Response, RegistryError> {
    if ok(response.status()) {
        Ok(response)
    } else {
        Err(from_response(method, response).await)
    }
}

fn transport_hint(source: &reqwest::Error, authority: &str) -> String {
    if is_certificate_error(source) {
        format!(
            ": the TLS certificate of {authority} is not trusted (put its CA in certs.d/{authority}/ca.crt, or pass --insecure {authority})"
        )
    } else if source.is_timeout() {
        ": timed out".into()
    } else {
        ": no answer".into()
    }
}

/// `host[:port]` as the user names a host to `--insecure` and in `certs.d`: the port only when
/// it is not the scheme's default.
pub fn authority(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// A TLS verification failure will not fix itself; retrying only delays the real message.
fn is_certificate_error(error: &reqwest::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = source {
        let text = e.to_string();
        if text.contains("certificate") || text.contains("UnknownIssuer") {
            return true;
        }
        source = e.source();
    }
    false
}

/// Query keys whose values are never secret and help to read a URL: blob digests, mount
/// sources, pagination, and the token service's `service` and `scope`. Every other value is
/// redacted: presigned storage URLs (S3 `X-Amz-*`, Azure `sig`, GCS `X-Goog-*`) and upload
/// locations (`_state`) carry credentials under names no list could keep up with.
const HARMLESS_QUERY_KEYS: &[&str] = &["digest", "mount", "from", "n", "last", "service", "scope"];

/// A URL safe to print: no userinfo, no fragment, and every query value blanked except those
/// of [`HARMLESS_QUERY_KEYS`].
pub struct RedactedUrl<'a>(pub &'a url::Url);

impl fmt::Display for RedactedUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut url = self.0.clone();
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.set_fragment(None);
        if url.query().is_some() {
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(k, v)| {
                    let harmless = HARMLESS_QUERY_KEYS.contains(&k.as_ref());
                    let v = if harmless || v.is_empty() {
                        v.into_owned()
                    } else {
                        "****".to_string()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
        write!(f, "{url}")
    }
}

/// Builds a `Status` error from a response, reading its error envelope (bounded). Endpoints
/// go through [`expect`]; this is for callers that first decide a status is an error.
pub async fn from_response(method: &str, response: reqwest::Response) -> RegistryError {
    let status = response.status();
    let url = RedactedUrl(response.url()).to_string();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()));
    let limited = (status == StatusCode::TOO_MANY_REQUESTS)
        .then(|| RateLimit::exceeded(response.headers(), std::time::SystemTime::now()))
        .flatten();
    let from_challenge = challenge_error(response.headers());
    let body = read_limited(response, 64 * 1024).await;
    #[derive(serde::Deserialize)]
    struct Envelope {
        #[serde(default)]
        errors: Vec<RegistryErrorInfo>,
    }
    let mut errors = serde_json::from_slice::<Envelope>(&body)
        .map(|e| e.errors)
        .unwrap_or_default();
    errors.extend(from_challenge);
    if let Some(limit) = limited {
        return RegistryError::RateLimited {
            method: method.to_string(),
            url,
            errors,
            limit: Box::new(limit),
        };
    }
    RegistryError::Status {
        method: method.to_string(),
        url,
        status,
        errors,
        retry_after,
    }
}

/// The longest `Retry-After` honoured: a server may ask for a pause, not for hoist's whole day.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// `Retry-After` (RFC 9110 §10.2.3): delta-seconds or an HTTP-date, clamped to
/// [`MAX_RETRY_AFTER`]; a date in the past means now. Anything else is ignored.
pub fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    Some(requested_wait(value, now)?.min(MAX_RETRY_AFTER))
}

/// The wait `Retry-After` asks for, unclamped (saturating): a long one is not waited for but
/// reported (see [`super::rate_limit`]).
pub fn requested_wait(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits but too long for a u64 is still "a long time".
        Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait)
}

/// Why a 401's challenge says the request was refused (RFC 6750 §3.1: `error=` with
/// `insufficient_scope` or `invalid_token`). Distribution's body only says "authentication
/// required" even to a logged-in user who lacks the access, and a HEAD has no body at all:
/// the challenge is the one place the real reason is given.
fn challenge_error(headers: &reqwest::header::HeaderMap) -> Option<RegistryErrorInfo> {
    let header = headers
        .get_all(reqwest::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ");
    let challenge = super::challenge::parse(&header)
        .into_iter()
        .find(|c| c.param("error").is_some())?;
    let message = challenge
        .param("error_description")
        .map(str::to_string)
        .or_else(|| challenge.param("scope").map(|s| format!("needs {s}")))
        .unwrap_or_default();
    Some(RegistryErrorInfo {
        code: challenge.param("error")?.to_string(),
        message,
    })
}

/// Reads at most `limit` bytes of a body: error pages can be large and are never needed whole.
pub async fn read_limited(mut response: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = limit.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= limit {
            break;
        }
    }
    body
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
