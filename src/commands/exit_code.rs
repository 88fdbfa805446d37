//! Stable exit codes (documented in README): scripts branch on these.

/// A registry, credential or user error.
pub const FAILURE: u8 = 1;
/// The command line was wrong (clap uses 2 for its own errors too).
pub const USAGE: u8 = 2;
/// Interrupted by Ctrl-C / SIGINT, as shells report 128 + 2.
pub const INTERRUPTED: u8 = 130;

/// A mistake in how hoist was called, found after parsing (e.g. `--password-stdin` without `-u`).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

pub fn for_error(error: &anyhow::Error) -> u8 {
    if error.chain().any(|c| c.is::<UsageError>()) {
        USAGE
    } else {
        FAILURE
    }
}
