//! Global flags and environment, resolved once into what the commands need: the printer, and
//! per-registry client options (`--insecure`, `certs.d` CAs and client certificates, `--debug`).

use crate::cli::GlobalArgs;
use crate::reference::Registry;
use crate::registry::{ClientOptions, Notice, RequestLog, Timeouts};
use crate::ui::Printer;
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Docker's system-wide per-registry certificate directory.
pub const SYSTEM_CERTS_DIR: &str = "/etc/docker/certs.d";

pub struct Settings {
    pub printer: Printer,
    pub config_flag: Option<PathBuf>,
    insecure: Vec<Registry>,
    /// Searched in order: `--certs-dir`, `$DOCKER_CONFIG/certs.d`, `/etc/docker/certs.d`.
    certs_dirs: Vec<PathBuf>,
    /// The defaults, unless the test suite shrank them (`HOIST_TEST_TIMEOUT_SCALE`).
    timeouts: Timeouts,
}

impl Settings {
    pub fn resolve(global: &GlobalArgs) -> Settings {
        let mut certs_dirs = Vec::new();
        certs_dirs.extend(global.certs_dir.clone());
        let docker_config = global
            .config
            .clone()
            .or_else(|| std::env::var_os("DOCKER_CONFIG").map(PathBuf::from));
        if let Some(dir) = docker_config {
            certs_dirs.push(dir.join("certs.d"));
        }
        certs_dirs.push(PathBuf::from(SYSTEM_CERTS_DIR));
        Settings {
            printer: Printer::new(global.quiet, global.debug),
            config_flag: global.config.clone(),
            insecure: global
                .insecure
                .iter()
                .map(|h| Registry::from_server_arg(Some(h)))
                .collect(),
            certs_dirs,
            timeouts: std::env::var(crate::registry::timeouts::SCALE_ENV)
                .map(|f| Timeouts::scaled(&f))
                .unwrap_or_default(),
        }
    }

    pub fn is_insecure(&self, registry: &Registry) -> bool {
        self.insecure.contains(registry)
    }

    /// How to reach one registry: its CAs and client certificate from `certs.d/HOST[:PORT]/`.
    pub fn client_options(&self, registry: &Registry) -> anyhow::Result<ClientOptions> {
        let mut options = ClientOptions {
            insecure: self.is_insecure(registry),
            timeouts: self.timeouts,
            ..ClientOptions::default()
        };
        if !self.printer.quiet {
            let notice: Notice = Arc::new(|line| {
                // Host and path come from the server (a redirect): no control character passes.
                let line: String = line
                    .chars()
                    .flat_map(|c| {
                        let escaped: Vec<char> = if c.is_control() {
                            c.escape_default().collect()
                        } else {
                            vec![c]
                        };
                        escaped
                    })
                    .collect();
                crate::ui::printer::to_stderr(format_args!("{line}"));
            });
            options.notice = Some(notice);
        }
        for dir in &self.certs_dirs {
            let host_dir = dir.join(registry.api_host());
            read_certs_dir(&host_dir, &mut options)
                .with_context(|| format!("reading certificates in {}", host_dir.display()))?;
        }
        if self.printer.debug {
            let log: RequestLog = Arc::new(|r| {
                let status = r.status.map_or("error".to_string(), |s| s.to_string());
                crate::ui::printer::to_stderr(format_args!(
                    "debug: {} {} -> {status} ({} ms)",
                    r.method,
                    r.url,
                    r.elapsed.as_millis()
                ));
            });
            options.log = Some(log);
        }
        Ok(options)
    }
}

/// Docker's layout: `*.crt` are CAs; `NAME.cert` with `NAME.key` is a client certificate.
fn read_certs_dir(dir: &Path, options: &mut ClientOptions) -> anyhow::Result<()> {
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
