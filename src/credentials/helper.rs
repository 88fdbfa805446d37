//! The `docker-credential-*` protocol: `get`/`erase` read the server URL on stdin, `store` reads
//! `{"ServerURL","Username","Secret"}`, `list` prints `{"url":"user"}`. A helper reports failure
//! on stdout with exit status 1. Secrets travel only over stdin/stdout, never in argv.
//!
//! A helper is a program hoist does not control: each call is bounded. It gets
//! [`HELPER_TIMEOUT`] to answer and [`MAX_OUTPUT`] bytes to say it in; past either, it is
//! killed (with everything it started, as a process group) and the call fails naming it.
//! `HOIST_HELPER_TIMEOUT_MS` (read once; for tests) replaces the timeout.

use crate::types::{escape_control, Secret};
use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long a helper may take to answer. Keychain unlock prompts and cloud helpers
/// (ecr-login, gcloud) answer within seconds; a helper that hangs must not hang a CI job.
pub const HELPER_TIMEOUT: Duration = Duration::from_secs(60);
/// The most a helper may print on stdout: a credential is a few KiB at most.
pub const MAX_OUTPUT: usize = 1024 * 1024;
/// How much of a helper's stderr is kept for its error message; the rest is read and dropped.
const MAX_STDERR: usize = 4096;

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
    /// The helper's own words lead: they usually say what to do (`Try "pass init"`).
    #[error("docker-credential-{name}: {message} (the credential helper set by {chosen_by} in config.json, asked to {action})")]
    Failed {
        name: String,
        chosen_by: String,
        action: &'static str,
        message: String,
    },
    /// Killed by hoist: it took too long or printed too much. Asking it again would too.
    #[error("credential helper docker-credential-{name} (set by {chosen_by} in config.json) was stopped during {action}: it {why}")]
    Stopped {
        name: String,
        chosen_by: String,
        action: &'static str,
        why: String,
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
            // Its own process group, so that a kill reaches whatever it started too (a
            // shell script's `sleep`), which would otherwise keep the pipes open.
            .process_group(0)
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
        let output = match bounded_output(child, helper_timeout()) {
            Ok(output) => output,
            Err(why) => {
                return Err(HelperError::Stopped {
                    name: self.name.clone(),
                    chosen_by: self.chosen_by.clone(),
                    action,
                    why,
                })
            }
        };
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
        // The helper's own words, shortened and never with its control characters.
        let mut message = escape_control(&message).into_owned();
        if message.len() > 1000 {
            let cut = (0..=1000)
                .rev()
                .find(|&i| message.is_char_boundary(i))
                .unwrap_or(0);
            message.truncate(cut);
            message.push('…');
        }
        HelperError::Failed {
            name: self.name.clone(),
            chosen_by: self.chosen_by.clone(),
            action,
            message,
        }
    }
}

/// `HELPER_TIMEOUT`, or `HOIST_HELPER_TIMEOUT_MS` when set (read once).
fn helper_timeout() -> Duration {
    static TIMEOUT: OnceLock<Duration> = OnceLock::new();
    *TIMEOUT.get_or_init(|| {
        std::env::var("HOIST_HELPER_TIMEOUT_MS")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(HELPER_TIMEOUT, Duration::from_millis)
    })
}

struct HelperOutput {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

enum Event {
    Stdout(std::io::Result<Vec<u8>>),
    Stderr(Vec<u8>),
    Exited(std::io::Result<ExitStatus>),
}

/// Waits for the helper's exit and output, at most `timeout` and [`MAX_OUTPUT`] bytes; past
/// either its process group is killed. `Err` says why, for the message.
fn bounded_output(
    mut child: std::process::Child,
    timeout: Duration,
) -> Result<HelperOutput, String> {
    let group = child.id() as libc::pid_t;
    let (tx, rx) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let read = out.take(MAX_OUTPUT as u64 + 1).read_to_end(&mut bytes);
            let _ = tx.send(Event::Stdout(read.map(|_| bytes)));
        });
    }
    if let Some(mut err) = child.stderr.take() {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = (&mut err).take(MAX_STDERR as u64).read_to_end(&mut bytes);
            let _ = tx.send(Event::Stderr(bytes));
            // Drained, not kept: a helper blocked on a full stderr pipe would never exit.
            let _ = std::io::copy(&mut err, &mut std::io::sink());
        });
    }
    std::thread::spawn(move || {
        let _ = tx.send(Event::Exited(child.wait()));
    });
    let deadline = Instant::now() + timeout;
    let mut stdout: Option<Vec<u8>> = None;
    let mut stderr: Option<Vec<u8>> = None;
    let mut status: Option<ExitStatus> = None;
    let failure = loop {
        if stdout.is_some() && stderr.is_some() && status.is_some() {
            return Ok(HelperOutput {
                status: status.unwrap_or_default(),
                stdout: stdout.unwrap_or_default(),
                stderr: stderr.unwrap_or_default(),
            });
        }
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(Event::Stdout(Ok(bytes))) if bytes.len() > MAX_OUTPUT => {
                break format!("printed more than {} KiB", MAX_OUTPUT / 1024)
            }
            Ok(Event::Stdout(Ok(bytes))) => stdout = Some(bytes),
            Ok(Event::Stdout(Err(e))) => break format!("could not be read: {e}"),
            Ok(Event::Stderr(bytes)) => stderr = Some(bytes),
            Ok(Event::Exited(Ok(s))) => status = Some(s),
            Ok(Event::Exited(Err(e))) => break format!("could not be waited for: {e}"),
            Err(_) => break format!("did not answer within {}", describe(timeout)),
        }
    };
    // SAFETY: signals the helper's own process group, created for it at spawn; the waiter
    // thread has not reaped the leader (no exit was reported), so the group is still its.
    if status.is_none() {
        unsafe { libc::kill(-group, libc::SIGKILL) };
    }
    Err(failure)
}

fn describe(d: Duration) -> String {
    if d.as_millis() % 1000 == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
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

    /// Whether `pid` has ended (gone, or a zombie waiting for its reaper).
    fn ended(pid: &str) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => stat
                .rsplit(')')
                .next()
                .is_some_and(|s| s.trim_start().starts_with('Z')),
        }
    }

    #[test]
    fn a_helper_past_its_time_is_killed_with_what_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "sleep 1000 & echo $! > {}; wait",
                pid_file.display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap();
        let started = Instant::now();
        let why = bounded_output(child, Duration::from_millis(300))
            .err()
            .unwrap();
        assert_eq!(why, "did not answer within 300 ms");
        assert!(started.elapsed() < Duration::from_secs(10));
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ended(pid.trim()) {
            assert!(Instant::now() < deadline, "sleep {pid} outlived its helper");
            std::thread::yield_now();
        }
    }

    #[test]
    fn endless_output_is_cut_off() {
        let child = Command::new("yes")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap();
        let why = bounded_output(child, Duration::from_secs(30))
            .err()
            .unwrap();
        assert_eq!(why, "printed more than 1024 KiB");
    }

    #[test]
    fn a_failing_helpers_words_are_escaped() {
        let (_d, h) = fake_helper(r"printf 'locked\033[2J\nLogin Succeeded'; exit 1");
        let err = h.get("reg.io").unwrap_err().to_string();
        // Escaped, and first: the helper's words lead its error.
        let words = r"docker-credential-fake: locked\x1b[2J\nLogin Succeeded (";
        assert!(err.starts_with(words), "{err}");
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
