//! Which hosts hoist trusts, and with what. TLS settings (extra CAs, a client certificate,
//! `--insecure`) belong to one `host[:port]` each: a token realm on another host gets its own,
//! never the registry's. And the rules for where `Authorization` may go: to the registry's own
//! scheme, host and port, or down to plain HTTP on that host only where the user allowed it.

use crate::reference::Registry;
use std::sync::Arc;

/// How to reach one host: extra trust for its TLS certificate, and whether plain HTTP (and an
/// unverified certificate) is allowed to it.
#[derive(Clone, Default)]
pub struct HostTls {
    /// The user named this host in `--insecure`.
    pub insecure: bool,
    /// Extra CA certificates (PEM) trusted for this host (`certs.d/HOST[:PORT]/*.crt`).
    pub ca_certs: Vec<Vec<u8>>,
    /// Client certificate and key, PEM concatenated (`certs.d/HOST[:PORT]/client.cert` + `.key`).
    pub client_identity: Option<Vec<u8>>,
}

/// The TLS settings of any host, resolved from the command line and `certs.d` by the caller
/// (nothing in `registry/` reads a file). Asked for hosts other than the registry: a token
/// realm elsewhere.
pub trait HostPolicy: Send + Sync {
    /// `authority` is `host[:port]`, the port only when not the scheme's default.
    fn tls_for(&self, authority: &str) -> Result<HostTls, String>;
}

/// No `--insecure` and no `certs.d` for any host: system roots only.
pub struct SystemTrustOnly;

impl HostPolicy for SystemTrustOnly {
    fn tls_for(&self, _authority: &str) -> Result<HostTls, String> {
        Ok(HostTls::default())
    }
}

pub fn system_trust_only() -> Arc<dyn HostPolicy> {
    Arc::new(SystemTrustOnly)
}

/// Loopback hosts (`localhost`, `*.localhost`, 127.0.0.0/8, `::1`) never leave the machine:
/// plain HTTP to them is allowed, as Docker allows it.
pub fn is_loopback(authority: &str) -> bool {
    Registry::new(authority).is_loopback()
}

/// Whether `url` is the registry at `base` itself: same host and port, and the same scheme,
/// or HTTPS, or plain HTTP where `plain_http_allowed` (a loopback or `--insecure` registry).
/// Only then may `Authorization` be sent, and only then may a 401 start a token exchange.
pub fn is_registry_origin(url: &url::Url, base: &url::Url, plain_http_allowed: bool) -> bool {
    url.host_str() == base.host_str()
        && url.port_or_known_default() == base.port_or_known_default()
        && (url.scheme() == base.scheme() || url.scheme() == "https" || plain_http_allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn only_the_registry_itself_is_its_origin() {
        let base = url("https://registry.example:5000/");
        let same = |u: &str, plain_ok: bool| is_registry_origin(&url(u), &base, plain_ok);
        assert!(same("https://registry.example:5000/v2/a/blobs/x", false));
        // Another host, another port: blob storage, never the registry.
        assert!(!same("https://storage.example/b?sig=x", true));
        assert!(!same("https://registry.example:5001/v2/", true));
        assert!(!same("https://registry.example/v2/", true));
        // Down to plain HTTP on the same host and port: only when the user allowed it.
        assert!(!same("http://registry.example:5000/v2/a/blobs/x", false));
        assert!(same("http://registry.example:5000/v2/a/blobs/x", true));
        // Up from plain HTTP to HTTPS on the same host and port loses nothing.
        let plain = url("http://registry.example:5000/");
        assert!(is_registry_origin(
            &url("https://registry.example:5000/v2/"),
            &plain,
            false
        ));
    }

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:80",
            "[::1]:5000",
            "a.localhost",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "registry.example",
            "10.0.0.1:5000",
            "localhost.example",
            "auth.test:80",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
