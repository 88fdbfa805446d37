//! One set of network settings for every command: per-host client options (`--insecure`,
//! `certs.d` CAs and client certificates, `--debug`, notices), resolved once from the flags and
//! the environment snapshot. Each host gets only its own: a token realm on another host never
//! inherits the registry's. It reads no environment variable itself.

use crate::reference::Registry;
use crate::registry::{ClientOptions, HostPolicy, HostTls, Notice, RequestLog, Timeouts};
use crate::types::escape_control;
use crate::ui::request_stats::RequestStats;
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Docker's system-wide per-registry certificate directory.
pub const SYSTEM_CERTS_DIR: &str = "/etc/docker/certs.d";

pub struct NetworkSettings {
    hosts: Arc<Hosts>,
    /// The defaults, unless the test suite shrank them (`HOIST_TEST_TIMEOUT_SCALE`).
    timeouts: Timeouts,
    /// Say on stderr where a redirect led (off with `--quiet`).
    notices: bool,
    /// `--debug`: log every request on stderr, and sum them up at the end.
    debug: bool,
    stats: Arc<RequestStats>,
}

/// `--insecure` and `certs.d`, looked up per `host[:port]`.
struct Hosts {
    insecure: Vec<Registry>,
    /// Searched in order: `--certs-dir`, `$DOCKER_CONFIG/certs.d`, `/etc/docker/certs.d`.
    certs_dirs: Vec<PathBuf>,
}

impl Hosts {
    fn tls_for(&self, host: &Registry) -> anyhow::Result<HostTls> {
        let mut tls = HostTls {
            insecure: self.insecure.contains(host),
            ..HostTls::default()
        };
        for dir in &self.certs_dirs {
            let host_dir = dir.join(host.api_host());
            read_certs_dir(&host_dir, &mut tls)
                .with_context(|| format!("reading certificates in {}", host_dir.display()))?;
        }
        Ok(tls)
    }
}

impl HostPolicy for Hosts {
    fn tls_for(&self, authority: &str) -> Result<HostTls, String> {
        Hosts::tls_for(self, &Registry::from_server_arg(Some(authority)))
            .map_err(|e| format!("{e:#}"))
    }
}

impl NetworkSettings {
    /// `certs_dirs` are searched in order: `--certs-dir`, the config directory's `certs.d`,
    /// then [`SYSTEM_CERTS_DIR`]; the caller decides which apply.
    pub fn new(
        insecure: &[String],
        certs_dirs: Vec<PathBuf>,
        timeout_scale: Option<&str>,
        quiet: bool,
        debug: bool,
    ) -> NetworkSettings {
        let hosts = Hosts {
            insecure: insecure
                .iter()
                .map(|h| Registry::from_server_arg(Some(h)))
                .collect(),
            certs_dirs,
        };
        NetworkSettings {
            hosts: Arc::new(hosts),
            timeouts: timeout_scale.map(Timeouts::scaled).unwrap_or_default(),
            notices: !quiet,
            debug,
            stats: Arc::default(),
        }
    }

    /// How to reach one registry: its CAs and client certificate from `certs.d/HOST[:PORT]/`,
    /// and the same lookup for any other host it sends us to (a token realm).
    pub fn client_options(&self, registry: &Registry) -> anyhow::Result<ClientOptions> {
        let tls = self.hosts.tls_for(registry)?;
        let mut options = ClientOptions {
            insecure: tls.insecure,
            ca_certs: tls.ca_certs,
            client_identity: tls.client_identity,
            hosts: self.hosts.clone(),
            timeouts: self.timeouts,
            ..ClientOptions::default()
        };
        if self.notices {
            // Host and path come from the server (a redirect): no control character passes.
            let notice: Notice = Arc::new(|line| {
                crate::ui::printer::to_stderr(format_args!("{}", escape_control(line)));
            });
            options.notice = Some(notice);
        }
        if self.debug {
            let stats = self.stats.clone();
            let log: RequestLog = Arc::new(move |r| {
                stats.record(r);
                let status = r.status.map_or("error".to_string(), |s| s.to_string());
                // The pulls Docker Hub has left: what a CI log needs before the limit bites.
                let remaining = r.ratelimit_remaining.as_deref().map_or(String::new(), |v| {
                    format!(" ratelimit-remaining: {}", escape_control(v))
                });
                let version = r.version.map(|v| format!(", {v:?}")).unwrap_or_default();
                crate::ui::printer::to_stderr(format_args!(
                    "debug: {} {} -> {status} ({} ms{version}){remaining}",
                    r.method,
                    r.url,
                    r.elapsed.as_millis()
                ));
            });
            options.log = Some(log);
        }
        Ok(options)
    }

    /// With `--debug`, the line that sums up every request the command sent.
    pub fn debug_summary(&self) -> Option<String> {
        self.debug.then(|| self.stats.summary()).flatten()
    }
}

/// Docker's layout: `*.crt` are CAs; `NAME.cert` with `NAME.key` is a client certificate.
fn read_certs_dir(dir: &Path, options: &mut HostTls) -> anyhow::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound
                    | std::io::ErrorKind::PermissionDenied
                    | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        match path.extension().and_then(|e| e.to_str()) {
            Some("crt") => options.ca_certs.push(std::fs::read(&path)?),
            Some("cert") => {
                let key = path.with_extension("key");
                let mut pem = std::fs::read(&path)?;
                pem.push(b'\n');
                pem.extend(std::fs::read(&key).with_context(|| {
                    format!(
                        "client certificate {} has no matching {}",
                        path.display(),
                        key.display()
                    )
                })?);
                options.client_identity = Some(pem);
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each host gets its own entries only: the registry's `--insecure` and `certs.d` never
    /// reach a token realm on another host, nor the same host on another port.
    #[test]
    fn trust_settings_are_per_host() {
        let dir = tempfile::tempdir().unwrap();
        let realm_dir = dir.path().join("auth.example:8443");
        std::fs::create_dir_all(&realm_dir).unwrap();
        std::fs::write(realm_dir.join("ca.crt"), "realm CA").unwrap();
        let hosts = Hosts {
            insecure: vec![Registry::from_server_arg(Some("registry.example:5000"))],
            certs_dirs: vec![dir.path().to_path_buf()],
        };
        let policy: &dyn HostPolicy = &hosts;
        let registry = policy.tls_for("registry.example:5000").unwrap();
        assert!(registry.insecure && registry.ca_certs.is_empty());
        let realm = policy.tls_for("auth.example:8443").unwrap();
        assert!(!realm.insecure);
        assert_eq!(realm.ca_certs, vec![b"realm CA".to_vec()]);
        assert!(!policy.tls_for("registry.example:5001").unwrap().insecure);
        assert!(!policy.tls_for("registry.example").unwrap().insecure);
    }
}
