//! One error type for everything that goes wrong talking to a registry: which request, what
//! status, the registry's own `errors[]` envelope, and whether trying again could help.

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
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits but too long for a u64 is still "a long time".
        Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
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
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_a_date_and_is_clamped() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        let parse = |v: &str| parse_retry_after(v, now);
        assert_eq!(parse(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse("0"), Some(Duration::ZERO));
        assert_eq!(parse("9223372036854775807"), Some(MAX_RETRY_AFTER));
        assert_eq!(parse(&"9".repeat(400)), Some(MAX_RETRY_AFTER));
        assert_eq!(
            parse("Sun, 06 Nov 1994 08:49:47 GMT"),
            Some(Duration::from_secs(10))
        );
        assert_eq!(parse("Sun, 06 Nov 1994 08:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(
            parse("Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(MAX_RETRY_AFTER)
        );
        for bad in ["", "-1", "1.5", "soon", "1e9"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn redacts_userinfo_and_secret_query_values() {
        let url =
            url::Url::parse("https://u:p@h/token?service=s&refresh_token=abc&scope=x").unwrap();
        let shown = RedactedUrl(&url).to_string();
        assert!(!shown.contains("abc") && !shown.contains("u:p"), "{shown}");
        assert!(shown.contains("service=s"));
    }

    /// Presigned storage URLs and upload locations: every value but the allowlisted ones goes.
    #[test]
    fn redacts_every_query_value_but_the_harmless_ones() {
        let secrets = [
            "X-Amz-Signature=s3sig",
            "X-Amz-Credential=AKIAEXAMPLE",
            "X-Amz-Security-Token=s3session",
            "sig=azuresig",
            "X-Goog-Signature=gcssig",
            "X-Goog-Credential=gcscred",
            "access_token=oauthtok",
            "token=plaintok",
            "_state=uploadstate",
            "Unknown-Vendor-Key=vendorsecret",
        ];
        let raw = format!(
            "https://storage.example/b?{}&digest=sha256:ab&mount=sha256:cd&from=a/b&n=10&last=x&service=reg&scope=repository:a:pull#frag=fragsecret",
            secrets.join("&")
        );
        let shown = RedactedUrl(&url::Url::parse(&raw).unwrap()).to_string();
        for pair in secrets {
            let (key, value) = pair.split_once('=').unwrap();
            assert!(!shown.contains(value), "{value} in {shown}");
            assert!(shown.contains(&format!("{key}=****")), "{key} in {shown}");
        }
        assert!(!shown.contains("fragsecret"), "{shown}");
        for kept in [
            "digest=sha256%3Aab",
            "mount=sha256%3Acd",
            "from=a%2Fb",
            "n=10",
            "last=x",
            "service=reg",
            "scope=repository%3Aa%3Apull",
        ] {
            assert!(shown.contains(kept), "{kept} in {shown}");
        }
    }

    #[test]
    fn certificate_hint_names_the_host_the_request_went_to() {
        let url = url::Url::parse("https://auth.example:8443/token?x=1").unwrap();
        assert_eq!(authority(&url), "auth.example:8443");
        let url = url::Url::parse("https://auth.example/token").unwrap();
        assert_eq!(authority(&url), "auth.example");
        let url = url::Url::parse("http://[::1]:5000/v2/").unwrap();
        assert_eq!(authority(&url), "[::1]:5000");
    }

    #[tokio::test]
    async fn a_refusal_keeps_the_reason_its_challenge_gives() {
        let response = |body: &str| {
            let http = hyper::Response::builder()
                .status(401)
                .header(
                    "WWW-Authenticate",
                    r#"Bearer realm="https://auth/token",service="r",scope="repository:a/b:pull,push",error="insufficient_scope""#,
                )
                .body(body.to_string())
                .unwrap();
            reqwest::Response::from(http)
        };
        // A HEAD: no body, only the challenge.
        let e = from_response("HEAD", response("")).await;
        assert!(e.has_code("insufficient_scope"));
        assert!(
            e.to_string()
                .ends_with("(insufficient_scope: needs repository:a/b:pull,push)"),
            "{e}"
        );
        // The registry's own envelope comes first, the challenge's reason after it.
        let body = r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#;
        let e = from_response("POST", response(body)).await;
        assert!(e.has_code("UNAUTHORIZED") && e.has_code("insufficient_scope"));
        assert!(
            e.to_string().contains(
                "(UNAUTHORIZED: authentication required; insufficient_scope: needs repository:a/b:pull,push)"
            ),
            "{e}"
        );
    }

    #[tokio::test]
    async fn the_status_gate_passes_listed_statuses_and_reads_the_envelope_of_others() {
        let response = |status: u16| {
            let body = r#"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}"#;
            let http = hyper::Response::builder()
                .status(status)
                .body(body.to_string())
                .unwrap();
            reqwest::Response::from(http)
        };
        let ok = [StatusCode::CREATED, StatusCode::ACCEPTED];
        assert!(expect("PUT", response(202), &ok).await.is_ok());
        let e = expect("PUT", response(200), &ok).await.unwrap_err();
        assert!(e.has_code("BLOB_UNKNOWN"), "{e}");
        assert_eq!(e.status(), Some(StatusCode::OK));
        assert!(expect_success("GET", response(204), &[]).await.is_ok());
        let found = expect_success("HEAD", response(404), &[StatusCode::NOT_FOUND]).await;
        assert!(found.is_ok());
        let e = expect_success("GET", response(503), &[]).await.unwrap_err();
        assert!(e.is_temporary() && e.to_string().contains("(BLOB_UNKNOWN: blob unknown)"));
    }

    #[test]
    fn typed_errors_keep_their_messages_and_escape_the_wire() {
        let e = RegistryError::UnsupportedChallenge {
            registry: "r.example".into(),
            scheme: "Negotiate\x1b[2J".into(),
        };
        assert!(!e.to_string().contains('\x1b'), "{e}");
        let e = RegistryError::MissingLocation {
            url: "https://r.example/v2/a/blobs/uploads/".into(),
        };
        assert_eq!(
            e.to_string(),
            "https://r.example/v2/a/blobs/uploads/ answered without a Location header"
        );
        assert!(!e.is_temporary() && !e.is_cut());
        let cut = RegistryError::Cut {
            detail: "error decoding response body".into(),
        };
        assert!(cut.is_cut() && cut.is_temporary());
        assert_eq!(
            cut.to_string(),
            "connection lost mid-download: error decoding response body"
        );
    }

    #[test]
    fn status_errors_show_registry_message_and_classify() {
        let e = RegistryError::Status {
            method: "PUT".into(),
            url: "http://r/v2/a/manifests/t".into(),
            status: StatusCode::FORBIDDEN,
            errors: vec![RegistryErrorInfo {
                code: "DENIED".into(),
                message: "requested access to the resource is denied".into(),
            }],
            retry_after: None,
        };
        assert!(e.to_string().contains("DENIED: requested access"));
        assert!(e.has_code("DENIED"));
        assert!(!e.is_temporary());
    }
}
