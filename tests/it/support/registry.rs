//! Launches a real CNCF distribution registry (`docker-registry serve`).

use super::tls::CertFiles;
use super::token_issuer::TokenIssuer;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tempfile::TempDir;

const START_TIMEOUT: Duration = Duration::from_secs(20);

pub enum Mode<'a> {
    Open,
    /// Users and plain passwords, stored bcrypt-hashed.
    Htpasswd(&'a [(&'a str, &'a str)]),
    Token(&'a TokenIssuer),
    /// A pull-through cache (distribution's proxy mode) of the registry at `remote_url`,
    /// which it logs in to as `upstream_user`; the cache itself asks its own `users`, if any.
    PullThrough {
        remote_url: &'a str,
        upstream_user: Option<(&'a str, &'a str)>,
        users: &'a [(&'a str, &'a str)],
    },
}

/// TLS serving options; combinable with any [`Mode`].
#[derive(Clone, Debug)]
pub struct TlsOptions {
    pub server: CertFiles,
    /// CA bundle for verifying client certificates (mutual TLS).
    pub client_cas: Option<PathBuf>,
}

pub struct RegistryServer {
    child: Child,
    dir: TempDir,
    port: u16,
    tls: bool,
    log: Arc<Mutex<String>>,
}

fn htpasswd_line(user: &str, pw: &str) -> String {
    let out = Command::new("htpasswd")
        .args(["-Bbn", user, pw])
        .output()
        .expect("run htpasswd");
    assert!(out.status.success(), "htpasswd failed: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string() + "\n"
}

fn config_yaml(dir: &Path, port: u16, mode: &Mode, tls: Option<&TlsOptions>) -> String {
    let storage = dir.join("storage");
    let mut y = format!(
        "version: 0.1\n\
         log:\n  level: info\n  formatter: text\n\
         storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
         http:\n  addr: 127.0.0.1:{port}\n  secret: hoist-test-secret\n",
        storage.display()
    );
    if let Some(t) = tls {
        y += &format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            t.server.cert.display(),
            t.server.key.display()
        );
        if let Some(ca) = &t.client_cas {
            y += &format!("    clientcas:\n      - {}\n", ca.display());
        }
    }
    match mode {
        Mode::Open => {}
        Mode::Htpasswd(users) => y += &htpasswd_auth(dir, users),
        Mode::PullThrough {
            remote_url,
            upstream_user,
            users,
        } => {
            y += &format!("proxy:\n  remoteurl: {remote_url}\n");
            if let Some((user, password)) = upstream_user {
                y += &format!("  username: {user}\n  password: {password}\n");
            }
            if !users.is_empty() {
                y += &htpasswd_auth(dir, users);
            }
        }
        Mode::Token(issuer) => {
            y += &format!(
                "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                issuer.realm(),
                issuer.service(),
                issuer.issuer(),
                issuer.root_cert_path().display()
            );
        }
    }
    // Foreign layers name their URLs; distribution accepts only those this allows.
    y += "validation:\n  manifests:\n    urls:\n      allow:\n        - ^https?://\n";
    y
}

/// The `auth: htpasswd` section for `users`, their file written beside the config.
fn htpasswd_auth(dir: &Path, users: &[(&str, &str)]) -> String {
    let file = dir.join("htpasswd");
    for (user, password) in users.iter() {
        crate::support::secrets_log::record_secret(Some(user), password);
    }
    let body: String = users.iter().map(|(u, p)| htpasswd_line(u, p)).collect();
    std::fs::write(&file, body).unwrap();
    format!(
        "auth:\n  htpasswd:\n    realm: hoist-test-realm\n    path: {}\n",
        file.display()
    )
}

enum Outcome {
    Ready,
    AddrInUse,
}

impl RegistryServer {
    pub fn start(mode: Mode) -> RegistryServer {
        Self::launch(mode, None)
    }

    pub fn start_tls(mode: Mode, tls: &TlsOptions) -> RegistryServer {
        Self::launch(mode, Some(tls))
    }

    fn launch(mode: Mode, tls: Option<&TlsOptions>) -> RegistryServer {
        for _attempt in 0..2 {
            if let Some(r) = Self::try_launch(&mode, tls) {
                return r;
            }
        }
        panic!("registry: address in use twice in a row");
    }

    fn try_launch(mode: &Mode, tls: Option<&TlsOptions>) -> Option<RegistryServer> {
        let dir = TempDir::new().unwrap();
        let port = super::free_port();
        let cfg = dir.path().join("config.yml");
        std::fs::write(&cfg, config_yaml(dir.path(), port, mode, tls)).unwrap();
        let mut child = Command::new("docker-registry")
            .arg("serve")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn docker-registry");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel::<Outcome>();
        let stderr = child.stderr.take().unwrap();
        let log2 = log.clone();
        // Keeps draining stderr for the registry's whole life so it never
        // blocks on a full pipe; signals readiness from the log itself.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut l = log2.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
                drop(l);
                if line.contains("listening on") {
                    let _ = tx.send(Outcome::Ready);
                } else if line.contains("address already in use") {
                    let _ = tx.send(Outcome::AddrInUse);
                }
            }
        });
        let server = RegistryServer {
            child,
            dir,
            port,
            tls: tls.is_some(),
            log,
        };
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(Outcome::Ready) => Some(server),
            Ok(Outcome::AddrInUse) => None,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("registry not listening in time; log:\n{}", server.log())
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("registry exited before listening; log:\n{}", server.log())
            }
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.host())
    }

    /// Filesystem driver root (contains `docker/registry/v2/...`).
    pub fn storage_root(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.yml")
    }

    /// Everything the registry logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for RegistryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
