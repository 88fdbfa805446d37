//! What the fault proxy can do to a request, and to which requests: endpoint kinds,
//! matchers and faults. Plain data; the proxy in proxy.rs applies them.

use std::time::Duration;

/// Registry API endpoint classes, from the request path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Ping,
    Manifest,
    Blob,
    Upload,
    Tags,
    Catalog,
    Other,
}

pub fn classify(path: &str) -> Kind {
    let p = path.split('?').next().unwrap_or("");
    if p == "/v2/" || p == "/v2" {
        Kind::Ping
    } else if p == "/v2/_catalog" {
        Kind::Catalog
    } else if p.contains("/blobs/uploads") {
        Kind::Upload
    } else if p.contains("/blobs/") {
        Kind::Blob
    } else if p.contains("/manifests/") {
        Kind::Manifest
    } else if p.ends_with("/tags/list") {
        Kind::Tags
    } else {
        Kind::Other
    }
}

/// Which requests a fault applies to; `None` fields match anything.
#[derive(Clone, Debug, Default)]
pub struct Match {
    pub method: Option<String>,
    pub kind: Option<Kind>,
    /// The path (before any query) ends with this, e.g. a blob's digest.
    pub path_suffix: Option<String>,
    /// Matching requests to let through untouched before the fault applies.
    pub skip: usize,
    /// Only requests without an `Authorization` header: a registry's answer to a stranger.
    pub bare: bool,
}

impl Match {
    pub fn any() -> Match {
        Match::default()
    }
    pub fn kind(kind: Kind) -> Match {
        Match {
            kind: Some(kind),
            ..Match::default()
        }
    }
    pub fn method(method: &str, kind: Kind) -> Match {
        Match {
            method: Some(method.to_uppercase()),
            kind: Some(kind),
            ..Match::default()
        }
    }
    pub fn path_ends_with(mut self, suffix: &str) -> Match {
        self.path_suffix = Some(suffix.to_string());
        self
    }
    /// Only requests that carry no credentials.
    pub fn bare(mut self) -> Match {
        self.bare = true;
        self
    }
    /// The fault starts at the (n+1)th matching request, e.g. a later chunk of an upload.
    pub fn skip(mut self, n: usize) -> Match {
        self.skip = n;
        self
    }
    pub(crate) fn matches(&self, method: &str, kind: Kind, path: &str, authorized: bool) -> bool {
        let path = path.split('?').next().unwrap_or("");
        !(self.bare && authorized)
            && self.method.as_deref().map_or(true, |m| m == method)
            && self.kind.map_or(true, |k| k == kind)
            && self
                .path_suffix
                .as_deref()
                .map_or(true, |s| path.ends_with(s))
    }
}

#[derive(Clone, Debug)]
pub enum Fault {
    /// Forward, then drop the connection after N bytes of response body.
    CutResponseAfter(u64),
    /// Drop the connection after receiving N bytes of request body; the
    /// request never reaches the registry.
    CutRequestAfter(u64),
    /// Forward, inverting the response body byte at this offset.
    FlipResponseByte(u64),
    /// Forward, but answer only after this long (one slow request).
    Delay(Duration),
    /// Answer this status without forwarding, after this long (a slow refusal).
    StatusAfter(Duration, u16),
    /// Forward, then drop the connection instead of answering: the
    /// registry acted on the request, the client never hears of it.
    DropResponse,
    /// Forward, send N bytes of the response body, then stall the connection until
    /// [`Proxy::release_holds`], if ever (the client sees a transfer in progress);
    /// [`Proxy::wait_for_hold`] returns then.
    HoldResponseAfter(u64),
    /// Stall without forwarding or answering; [`Proxy::wait_for_hold`] returns then.
    HoldRequest,
    /// Forward, then send the response body one byte per interval: never idle for long,
    /// never done soon.
    Trickle(Duration),
    /// Forward a `Range: bytes=N-` request as `bytes=N/2-`: the registry answers 206 with a
    /// body (and `Content-Range`) starting before where the client asked.
    WrongRangeStart,
    /// Forward, then remove the response headers named in `drop` and set those in `set`: a
    /// registry that sends no digest, Docker Hub's ratelimit headers, a challenge that names
    /// another repository's scope.
    Headers {
        drop: Vec<String>,
        set: Vec<(String, String)>,
    },
    /// Answer without forwarding.
    Status {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
}

impl Fault {
    pub fn status(status: u16) -> Fault {
        Fault::Status {
            status,
            headers: vec![],
            body: String::new(),
        }
    }
    /// Forward without the response header `name`.
    pub fn drop_header(name: &str) -> Fault {
        Fault::Headers {
            drop: vec![name.to_string()],
            set: vec![],
        }
    }
    /// Forward with the response headers `set` replacing any of the same names.
    pub fn set_headers(set: &[(&str, &str)]) -> Fault {
        Fault::Headers {
            drop: vec![],
            set: set
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }
    /// 429 with `Retry-After: secs`.
    pub fn too_many(retry_after_secs: u64) -> Fault {
        Fault::Status {
            status: 429,
            headers: vec![("Retry-After".into(), retry_after_secs.to_string())],
            body: r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}"#.into(),
        }
    }
}
