//! Parse, run, print the error chain, map to an exit code: the only exit point.

use clap::Parser;
use hoist::cli::Cli;
use hoist::commands::{self, exit_code};
use hoist::types::escape_control;
use hoist::ui::printer::to_stderr;
use hoist::ui::Tally;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8)))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            to_stderr(format_args!("error: cannot start: {e}"));
            return ExitCode::from(exit_code::FAILURE);
        }
    };
    let tally = Arc::new(Tally::default());
    let outcome = runtime.block_on(async {
        if !cli.command.transfers_images() {
            // A password prompt blocks its thread: Ctrl-C must end the process as usual.
            return Some(commands::run(cli, tally.clone()).await);
        }
        tokio::select! {
            result = commands::run(cli, tally.clone()) => Some(result),
            // Dropping the command drops its downloads and uploads: unfinished downloads are
            // parked in the destination's own temp area for the next run to resume.
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    // Blocking work (a tarball being written) sees it was cancelled and removes its partial
    // file; give it that moment rather than exiting under it.
    runtime.shutdown_timeout(Duration::from_secs(5));
    match outcome {
        Some(Ok(())) => ExitCode::SUCCESS,
        // A closed stdout (`hoist pull … | head`) is no error: the printer ignores only that.
        // A broken pipe anywhere else (a registry hanging up mid-upload) is a failure.
        Some(Err(error)) => {
            // Causes may quote the wire or a file: never let them reach the terminal raw.
            to_stderr(format_args!(
                "error: {}",
                escape_control(&error.to_string())
            ));
            for cause in error.chain().skip(1) {
                to_stderr(format_args!(
                    "  Caused by: {}",
                    escape_control(&cause.to_string())
                ));
            }
            ExitCode::from(exit_code::for_error(&error))
        }
        None => {
            to_stderr(format_args!("{}", tally.interrupted_summary()));
            ExitCode::from(exit_code::INTERRUPTED)
        }
    }
}
