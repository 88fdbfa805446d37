//! Stable exit codes (documented in README): scripts branch on these.

/// A registry, credential or user error.
pub const FAILURE: u8 = 1;
/// The command line was wrong (clap uses 2 for its own errors too).
pub const USAGE: u8 = 2;
/// Interrupted by Ctrl-C / SIGINT, as shells report 128 + 2.
pub const INTERRUPTED: u8 = 130;
/// Stopped by SIGTERM (a cancelled CI job, `timeout`, Kubernetes), 128 + 15.
pub const TERMINATED: u8 = 143;
/// Stopped by SIGHUP (the terminal went away), 128 + 1.
pub const HUNG_UP: u8 = 129;

pub use crate::cli::UsageError;

pub fn for_error(error: &anyhow::Error) -> u8 {
    if error.chain().any(|c| c.is::<UsageError>()) {
        USAGE
    } else {
        FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A broken pipe deep in an error chain once counted as success (meant for a closed
    /// stdout), so a registry that hung up during a TLS handshake gave exit 0 and no message.
    #[test]
    fn a_broken_connection_is_a_failure() {
        let cause = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        let error = anyhow::Error::new(cause).context("GET https://127.0.0.1:5000/v2/: no answer");
        assert_eq!(for_error(&error), FAILURE);
        let usage = anyhow::Error::new(UsageError("bad".into())).context("parsing");
        assert_eq!(for_error(&usage), USAGE);
    }
}
