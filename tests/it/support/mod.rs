//! Test bed: real registries, a token issuer, TLS material, a fault-injecting
//! proxy, image builders and wrappers for external tools.
#![allow(dead_code)]

pub mod faults;
pub mod forward_proxy;
pub mod images;
pub mod issuer_config;
pub mod layout;
pub mod mirror;
pub mod proxy;
pub mod registry;
pub mod scenario;
pub mod secrets_log;
pub mod tag_pages;
pub mod tls;
pub mod tls_gate;
pub mod tls_relay;
pub mod token_issuer;
pub mod tools;

use std::net::TcpListener;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Serves every connection to a fresh loopback listener with `handle`, on a thread of its own
/// that ends with the test process (tests never wait on it); returns the port.
pub fn serve_connections<F, Fut>(handle: F) -> u16
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(handle(client));
            }
        });
    });
    port
}

/// A loopback port that was free a moment ago. Callers must tolerate the
/// race with other processes grabbing it before they bind.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// RFC 3339 UTC timestamp (no chrono dependency needed for one format).
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The largest file directly in `dir`, by name and length.
pub fn largest_file(dir: &Path) -> Option<(String, u64)> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            Some((
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().ok()?.len(),
            ))
        })
        .max_by_key(|(_, len)| *len)
}

/// Waits (polling, up to a minute) until a partial download in `dir` holds `bytes` on disk:
/// proof that hoist received them, which a proxy's hold alone does not give.
pub fn wait_for_partial(dir: &Path, bytes: u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while largest_file(dir).map_or(true, |(_, len)| len < bytes) {
        assert!(
            std::time::Instant::now() < deadline,
            "no partial download of {bytes} bytes in {}",
            dir.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// sha256 digest string "sha256:<hex>".
pub fn sha256_digest(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// Runs a blocking future on a throwaway runtime; handy for reqwest in
/// sync tests.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Minimal blocking HTTP result for assertions.
#[derive(Debug)]
pub struct HttpResult {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl HttpResult {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// Blocking GET with optional extra headers via a given client (or a
/// default one). Returns Err on transport errors (TLS, refused...).
pub fn http_get(
    client: Option<&reqwest::Client>,
    url: &str,
    headers: &[(&str, &str)],
) -> Result<HttpResult, reqwest::Error> {
    let default = reqwest::Client::new();
    let client = client.unwrap_or(&default);
    block_on(async {
        let mut req = client.get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await?.to_vec();
        Ok(HttpResult {
            status,
            headers,
            body,
        })
    })
}

/// "Basic base64(user:pass)"
pub fn basic(user: &str, pass: &str) -> String {
    use base64::Engine;
    let b = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    format!("Basic {b}")
}

/// Files anywhere under `dir` (recursively), relative paths.
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(
                    e.path()
                        .strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    out
}
