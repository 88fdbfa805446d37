//! All terminal output goes through here: status lines to stderr, results to stdout,
//! nothing at all but results under `--quiet`.

use std::io::{IsTerminal, Write};

#[derive(Clone, Copy, Debug)]
pub struct Printer {
    pub quiet: bool,
    pub debug: bool,
    /// stderr is a terminal: progress bars instead of plain lines.
    pub interactive: bool,
}

impl Printer {
    pub fn new(quiet: bool, debug: bool) -> Printer {
        Printer {
            quiet,
            debug,
            interactive: std::io::stderr().is_terminal() && !quiet,
        }
    }

    /// A progress or status line (stderr), suppressed by `--quiet`. Safe while progress bars
    /// are drawn: the line goes above them. This is what a "still waiting for X" notice uses.
    pub fn status(&self, message: impl std::fmt::Display) {
        if !self.quiet {
            to_stderr(format_args!("{message}"));
        }
    }

    /// A warning (stderr); shown even with `--quiet`, since it may explain a failure later.
    pub fn warn(&self, message: impl std::fmt::Display) {
        to_stderr(format_args!("WARNING! {message}"));
    }

    /// What the command produced (stdout): always printed. A script must not take a digest
    /// that never reached its file for success: a write that fails (ENOSPC, EIO) is an error.
    /// Only a closed pipe (`hoist pull … | head -c0`) is not: the reader wanted no more.
    pub fn result(&self, message: impl std::fmt::Display) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        match writeln!(out, "{message}").and_then(|_| out.flush()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(anyhow::Error::new(e).context("writing the result to standard output"))
            }
            _ => Ok(()),
        }
    }

    /// Human confirmation on stdout ("Login Succeeded"), suppressed by `--quiet`.
    pub fn outcome(&self, message: impl std::fmt::Display) -> anyhow::Result<()> {
        if self.quiet {
            return Ok(());
        }
        self.result(message)
    }
}

/// One line to stderr, above the progress bars while they are on screen (so a status, a
/// warning or a `--debug` line never lands inside a bar). A closed stderr (`2>&1 | grep -q …`
/// once grep has its match) must not stop a transfer: `eprintln!` would panic there.
pub fn to_stderr(line: std::fmt::Arguments) {
    let write = || {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    };
    match super::progress::live() {
        Some(bars) => bars.suspend(write),
        None => write(),
    }
}
