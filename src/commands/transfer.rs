//! What pull and push share: where the store is, and credentials that never stop a transfer.

use crate::config::{self, Environment};
use crate::credentials::keychain::Keychain;
use crate::credentials::{Credential, CredentialSource};
use crate::reference::Registry;
use crate::ui::Printer;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The local store: `--store` > `HOIST_STORE` > `$XDG_DATA_HOME/hoist` > `$HOME/.local/share/hoist`.
pub fn store_dir(flag: Option<&PathBuf>) -> anyhow::Result<PathBuf> {
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    flag.cloned()
        .or_else(|| var("HOIST_STORE"))
        .or_else(|| var("XDG_DATA_HOME").map(|d| d.join("hoist")))
        .or_else(|| var("HOME").map(|h| h.join(".local/share/hoist")))
        .ok_or_else(|| {
            super::exit_code::UsageError(
                "no place for hoist's image store: HOME is not set; pass --store DIR (or --output PATH for pull), or set HOIST_STORE".into(),
            )
            .into()
        })
}

/// Docker's credentials, looked up only when a registry asks. A broken helper or an unreadable
/// config becomes a warning and the transfer goes on anonymously: public images still move.
pub struct TransferCredentials {
    keychain: Option<Keychain>,
    printer: Printer,
}

impl TransferCredentials {
    pub fn load(
        config_flag: Option<&std::path::Path>,
        printer: Printer,
    ) -> anyhow::Result<Arc<TransferCredentials>> {
        let env = Environment::from_process();
        let keychain = match config::resolve_config_dir(config_flag, &env) {
            // No config directory at all (no HOME, no DOCKER_CONFIG): anonymous, unless
            // DOCKER_AUTH_CONFIG or podman's auth.json say otherwise.
            Err(_) => Keychain::without_config_dir(&env),
            Ok(dir) => Keychain::load(&dir, &env),
        };
        // A malformed config.json (or DOCKER_AUTH_CONFIG) costs its credentials, not the
        // transfer: what else there is still counts, and a public image still moves.
        let keychain = keychain.or_else(|e| {
            printer.warn(format!("{e:#}; continuing without its credentials"));
            Keychain::without_config_dir(&env)
        });
        let keychain = match keychain {
            Ok(k) => Some(k),
            Err(e) => {
                printer.warn(format!("{e:#}; continuing without credentials"));
                None
            }
        };
        Ok(Arc::new(TransferCredentials { keychain, printer }))
    }
}

impl CredentialSource for TransferCredentials {
    fn credential_for(&self, registry: &Registry) -> anyhow::Result<Option<Credential>> {
        let Some(keychain) = &self.keychain else {
            return Ok(None);
        };
        match keychain.lookup(registry) {
            Ok(found) => Ok(found.map(|f| f.credential)),
            Err(e) => {
                self.printer.warn(format!(
                    "{e:#}; continuing without credentials for {registry}"
                ));
                Ok(None)
            }
        }
    }
}

/// Refuses, before any request, a `--digest-file` that cannot be written: finding out after
/// an 800 MiB download is too late. Nothing is created to find out.
pub fn check_digest_file(path: &Path) -> anyhow::Result<()> {
    let parent = parent_of(path);
    let result = match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Err("it is a directory".to_string()),
        Ok(_) => writable(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match std::fs::metadata(parent) {
            Ok(m) if m.is_dir() => writable(parent),
            Ok(_) => Err(format!("{} is not a directory", parent.display())),
            Err(e) => Err(format!("{}: {e}", parent.display())),
        },
        Err(e) => Err(e.to_string()),
    };
    result.map_err(|why| {
        super::exit_code::UsageError(format!(
            "cannot write --digest-file {}: {why}",
            path.display()
        ))
        .into()
    })
}

/// Refuses, before any request, an `--output` whose directory cannot be written: the nearest
/// part of the path that exists must be a writable directory (the rest is created).
pub fn check_output(path: &Path) -> anyhow::Result<()> {
    let mut dir = match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => path.to_path_buf(),
        _ => parent_of(path).to_path_buf(),
    };
    let result = loop {
        match std::fs::metadata(&dir) {
            Ok(m) if m.is_dir() => break writable(&dir),
            Ok(_) => break Err(format!("{} is not a directory", dir.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && dir != Path::new(".") => {
                dir = parent_of(&dir).to_path_buf();
            }
            Err(e) => break Err(format!("{}: {e}", dir.display())),
        }
    };
    result.map_err(|why| {
        super::exit_code::UsageError(format!("cannot write --output {}: {why}", path.display()))
            .into()
    })
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// `access(W_OK)`: permissions and a read-only mount both count, for whoever runs hoist.
fn writable(path: &Path) -> Result<(), String> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(|e| e.to_string())?;
    // SAFETY: a NUL-terminated path that outlives the call.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error().to_string())
    }
}
