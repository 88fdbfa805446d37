//! What pull and push share: credentials that never stop a transfer, and how a transfer ends
//! (the digest file, the status line, the result on stdout). Orchestration only: no transfer.

use crate::config::{ConfigDir, Environment};
use crate::credentials::keychain::Keychain;
use crate::credentials::{CredentialFuture, CredentialSource};
use crate::reference::Registry;
use crate::ui::{Printer, TransferSummary};
use anyhow::Context;
use std::path::Path;
use std::sync::Arc;

/// Docker's credentials, looked up only when a registry asks. A broken helper or an unreadable
/// config becomes a warning and the transfer goes on anonymously: public images still move.
pub struct TransferCredentials {
    keychain: Option<Keychain>,
    printer: Printer,
}

impl TransferCredentials {
    pub fn load(
        config_dir: Option<&ConfigDir>,
        env: &Environment,
        printer: Printer,
    ) -> anyhow::Result<Arc<TransferCredentials>> {
        let keychain = match config_dir {
            // No config directory at all (no HOME, no DOCKER_CONFIG): anonymous, unless
            // DOCKER_AUTH_CONFIG or podman's auth.json say otherwise.
            None => Keychain::without_config_dir(env),
            Some(dir) => Keychain::load(dir, env),
        };
        // A malformed config.json (or DOCKER_AUTH_CONFIG) costs its credentials, not the
        // transfer: what else there is still counts, and a public image still moves.
        let keychain = keychain.or_else(|e| {
            printer.warn(format!("{e:#}; continuing without its credentials"));
            Keychain::without_config_dir(env)
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
    /// Helpers are processes: the lookup runs on a blocking thread.
    fn credential_for(self: Arc<Self>, registry: Registry) -> CredentialFuture {
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let Some(keychain) = &self.keychain else {
                    return Ok(None);
                };
                match keychain.lookup(&registry) {
                    Ok(found) => Ok(found.map(|f| f.credential)),
                    Err(e) => {
                        self.printer.warn(format!(
                            "{e:#}; continuing without credentials for {registry}"
                        ));
                        Ok(None)
                    }
                }
            })
            .await?
        })
    }
}

/// The end of a pull or a push: the digest into `--digest-file` first (a script waiting on it
/// sees it only once the image is in place), then the status line, then the result on stdout:
/// the JSON summary with `--json`, else the bare digest.
pub fn finish(
    printer: Printer,
    digest_file: Option<&Path>,
    status: String,
    json: bool,
    summary: TransferSummary,
) -> anyhow::Result<()> {
    if let Some(file) = digest_file {
        std::fs::write(file, format!("{}\n", summary.digest))
            .with_context(|| format!("writing {}", file.display()))?;
    }
    printer.status(status);
    if json {
        printer.result(summary.to_json())
    } else {
        printer.result(summary.digest)
    }
}
