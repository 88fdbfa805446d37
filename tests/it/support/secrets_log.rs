//! The suite-wide secrets check: every hoist run's output, and every secret the test bed
//! hands out (passwords, `user:password` in base64, access and refresh tokens), are appended
//! to files under `target/tmp/secrets-check/`. Once every test has run, `scripts/test` searches
//! all of that output for all of those secrets, so a leak in any test fails the suite, not only
//! in the tests written to look for one.

use base64::Engine;
use std::io::Write;
use std::path::PathBuf;
use std::process::Output;
use std::sync::Mutex;

/// Shorter passwords ("pw") could turn up by chance in a random temp path; their base64
/// `user:password` form, which is what an `Authorization` header would leak, is still checked.
const SHORTEST_PLAIN: usize = 8;

static LOCK: Mutex<()> = Mutex::new(());

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("secrets-check")
}

fn append(kind: &str, text: &[u8]) {
    let _guard = LOCK.lock().unwrap();
    let dir = dir();
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{kind}-{}.txt", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    file.write_all(text).unwrap();
}

/// Everything a hoist run printed.
pub fn record_output(out: &Output) {
    let mut text = out.stdout.clone();
    text.push(b'\n');
    text.extend_from_slice(&out.stderr);
    text.push(b'\n');
    append("output", &text);
}

/// A secret to look for; `user` adds the Basic `user:secret` encoding.
pub fn record_secret(user: Option<&str>, secret: &str) {
    let mut lines = Vec::new();
    if secret.len() >= SHORTEST_PLAIN {
        lines.push(secret.to_string());
    }
    if let Some(user) = user {
        lines.push(base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}")));
    }
    let text: String = lines
        .into_iter()
        .filter(|l| !l.is_empty() && !l.contains('\n'))
        .map(|l| l + "\n")
        .collect();
    append("secrets", text.as_bytes());
}
