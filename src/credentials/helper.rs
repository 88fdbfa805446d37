//! The `docker-credential-*` protocol: `get`/`erase` read the server URL on stdin, `store` reads
//! `{"ServerURL","Username","Secret"}`, `list` prints `{"url":"user"}`. A helper reports failure
//! on stdout with exit status 1. Secrets travel only over stdin/stdout, never in argv.

use crate::types::Secret;
use std::ffi::OsString;
use std::io::Write;
use std::process::{Command, Stdio};

/// Docker's sentinel for "no credentials here", which is not an error.
pub const NOT_FOUND: &str = "credentials not found in native keychain";
/// Identity tokens are stored with this username (docker-credential-helpers convention).
pub const TOKEN_USERNAME: &str = "<token>";

#[derive(Debug, Clone)]
pub struct Helper {
    pub name: String,
    /// The config setting that chose it, e.g. `credHelpers["gcr.io"]` or `credsStore`.
    pub chosen_by: String,
    path: Option<OsString>,
}

#[derive(Debug, thiserror::Error)]
pub enum HelperError {
    #[error("credential helper docker-credential-{name} (set by {chosen_by} in config.json) is not installed or not on PATH")]
    Missing { name: String, chosen_by: String },
    #[error("credential helper docker-credential-{name} (set by {chosen_by} in config.json) failed to {action}: {message}")]
    Failed {
        name: String,
        chosen_by: String,
        action: &'static str,
        message: String,
    },
}

#[derive(Debug)]
pub struct HelperCredential {
    pub username: String,
    pub secret: Secret,
}

#[derive(serde::Deserialize)]
struct GetReply {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

impl Helper {
    pub fn new(name: &str, chosen_by: String, path: Option<OsString>) -> Helper {
        Helper {
            name: name.to_string(),
            chosen_by,
            path,
        }
    }

    pub fn get(&self, server_url: &str) -> Result<Option<HelperCredential>, HelperError> {
        let Some(out) = self.call("get", server_url.as_bytes())? else {
            return Ok(None);
        };
        let reply: GetReply = serde_json::from_slice(&out)
            .map_err(|e| self.failed("get", format!("unreadable reply: {e}")))?;
        // docker-credential-pass 0.6 answers an unknown server with empty fields and exit 0.
        if reply.secret.is_empty() {
            return Ok(None);
        }
        Ok(Some(HelperCredential {
            username: reply.username,
            secret: Secret::new(reply.secret),
        }))
    }

    pub fn store(
        &self,
        server_url: &str,
        username: &str,
        secret: &Secret,
    ) -> Result<(), HelperError> {
        let body = serde_json::json!({"ServerURL": server_url, "Username": username, "Secret": secret.expose()});
        self.call("store", body.to_string().as_bytes()).map(|_| ())
    }

    /// `Ok(false)` when the helper had nothing for this server.
    pub fn erase(&self, server_url: &str) -> Result<bool, HelperError> {
        Ok(self.call("erase", server_url.as_bytes())?.is_some())
    }

    /// The server URLs the helper holds credentials for (`list` prints `{"url":"user"}`).
    pub fn list(&self) -> Result<Vec<String>, HelperError> {
        let Some(out) = self.call("list", b"")? else {
            return Ok(Vec::new());
        };
        let map: std::collections::BTreeMap<String, String> = serde_json::from_slice(&out)
            .map_err(|e| self.failed("list", format!("unreadable reply: {e}")))?;
        Ok(map.into_keys().collect())
    }

    /// Runs one action; `Ok(None)` is the helper's "not found".
    fn call(&self, action: &'static str, input: &[u8]) -> Result<Option<Vec<u8>>, HelperError> {
        let program = format!("docker-credential-{}", self.name);
        let mut command = Command::new(&program);
        if let Some(path) = &self.path {
            command.env("PATH", path);
        }
        let mut child = command
            .arg(action)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => HelperError::Missing {
                    name: self.name.clone(),
                    chosen_by: self.chosen_by.clone(),
                },
                _ => self.failed(action, e.to_string()),
            })?;
        if let Some(mut stdin) = child.stdin.take() {
            // A helper that exits without reading its input is judged by its exit status.
            let _ = stdin.write_all(input);
        }
        let output = child
            .wait_with_output()
            .map_err(|e| self.failed(action, e.to_string()))?;
        if output.status.success() {
            return Ok(Some(output.stdout));
        }
        let message = String::from_utf8_lossy(&output.stdout).trim().to_string();
        if message == NOT_FOUND {
            return Ok(None);
        }
        let message = if message.is_empty() {
            String::from_utf8_lossy(&output.stderr).trim().to_string()
        } else {
            message
        };
        Err(self.failed(
            action,
            if message.is_empty() {
                output.status.to_string()
            } else {
                message
            },
        ))
    }

    fn failed(&self, action: &'static str, message: String) -> HelperError {
        HelperError::Failed {
            name: self.name.clone(),
            chosen_by: self.chosen_by.clone(),
            action,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A helper written as a shell script into a temp dir that becomes its only PATH entry.
    fn fake_helper(script: &str) -> (tempfile::TempDir, Helper) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docker-credential-fake");
        // Written by a child process: a write descriptor held here could be inherited by a
        // helper another test thread forks meanwhile, and exec would fail with ETXTBSY.
        let source = dir.path().join("script.txt");
        std::fs::write(&source, format!("#!/bin/sh\n{script}")).unwrap();
        let status = Command::new("install")
            .args(["-m", "0755"])
            .arg(&source)
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success());
        let search = std::env::join_paths([
            dir.path(),
            std::path::Path::new("/usr/bin"),
            std::path::Path::new("/bin"),
        ])
        .unwrap();
        let helper = Helper::new("fake", "credsStore".into(), Some(search));
        (dir, helper)
    }

    #[test]
    fn get_reads_url_on_stdin_and_parses_reply() {
        let (_d, h) = fake_helper(
            r#"read url; [ "$1" = get ] && [ "$url" = "reg.io" ] && echo '{"ServerURL":"reg.io","Username":"<token>","Secret":"tok"}'"#,
        );
        let c = h.get("reg.io").unwrap().unwrap();
        assert_eq!(
            (c.username.as_str(), c.secret.expose()),
            (TOKEN_USERNAME, "tok")
        );
    }

    #[test]
    fn not_found_is_none_and_failure_is_an_error_naming_the_helper() {
        let (_d, h) = fake_helper(&format!("echo '{NOT_FOUND}'; exit 1"));
        assert!(h.get("reg.io").unwrap().is_none());
        let (_d, h) = fake_helper("echo 'keychain locked'; exit 1");
        let err = h.get("reg.io").unwrap_err().to_string();
        assert!(
            err.contains("docker-credential-fake")
                && err.contains("credsStore")
                && err.contains("keychain locked"),
            "{err}"
        );
    }

    #[test]
    fn store_sends_json_on_stdin_never_argv() {
        let (d, h) =
            fake_helper(r#"echo "$@" > "$(dirname "$0")/argv"; cat > "$(dirname "$0")/stdin""#);
        h.store("reg.io", "u", &Secret::new("s3cret")).unwrap();
        let stdin = std::fs::read_to_string(d.path().join("stdin")).unwrap();
        assert_eq!(
            stdin,
            r#"{"ServerURL":"reg.io","Username":"u","Secret":"s3cret"}"#
        );
        assert_eq!(
            std::fs::read_to_string(d.path().join("argv"))
                .unwrap()
                .trim(),
            "store"
        );
    }

    #[test]
    fn list_parses_urls() {
        let (_d, h) =
            fake_helper(r#"[ "$1" = list ] && echo '{"https://reg.io":"u","reg.io":"<token>"}'"#);
        assert_eq!(h.list().unwrap(), vec!["https://reg.io", "reg.io"]);
    }

    #[test]
    fn missing_helper_is_named() {
        let h = Helper::new(
            "nonexistent-xyz",
            "credHelpers[\"reg.io\"]".into(),
            Some(OsString::from("/nonexistent")),
        );
        let err = h.get("reg.io").unwrap_err().to_string();
        assert!(
            err.contains("docker-credential-nonexistent-xyz") && err.contains("credHelpers"),
            "{err}"
        );
    }
}
