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
use tokio::signal::unix::{signal, Signal, SignalKind};

fn main() -> ExitCode {
    exit_on_panic();
    let cli = Cli::parse();
    let debug = cli.global.debug;
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
            // A password prompt blocks its thread: a signal must end the process as usual.
            return Outcome::Done(commands::run(cli, tally.clone()).await);
        }
        let mut stop = match Stop::listen() {
            Ok(stop) => stop,
            Err(e) => return Outcome::Done(Err(anyhow::anyhow!("cannot handle signals: {e}"))),
        };
        tokio::select! {
            result = commands::run(cli, tally.clone()) => Outcome::Done(result),
            // Dropping the command drops its downloads and uploads: unfinished downloads are
            // parked in the destination's own temp area for the next run to resume.
            code = stop.received() => Outcome::Stopped(code),
        }
    });
    // Blocking work (a tarball being written) sees it was cancelled and removes its partial
    // file; give it that moment rather than exiting under it.
    runtime.shutdown_timeout(Duration::from_secs(5));
    hoist::ui::progress::clear();
    match outcome {
        Outcome::Done(Ok(())) => ExitCode::SUCCESS,
        // A closed stdout (`hoist pull … | head`) is no error: the printer ignores only that.
        // A broken pipe anywhere else (a registry hanging up mid-upload) is a failure.
        Outcome::Done(Err(error)) => {
            for line in commands::error_chain::lines(&error, debug) {
                to_stderr(format_args!("{line}"));
            }
            ExitCode::from(exit_code::for_error(&error))
        }
        Outcome::Stopped(code) => {
            print_interrupted(&tally);
            ExitCode::from(code)
        }
    }
}

enum Outcome {
    Done(anyhow::Result<()>),
    /// A signal stopped the transfer; the exit code it calls for.
    Stopped(u8),
}

/// The one place an interrupted transfer reports what it finished and what waits for the
/// next run (anything that must happen on screen before it belongs here).
fn print_interrupted(tally: &Tally) {
    to_stderr(format_args!("{}", tally.interrupted_summary()));
}

/// The signals that cancel a transfer: Ctrl-C, and SIGTERM and SIGHUP, which CI runners,
/// Kubernetes and `timeout` send to cancel a job or a closed terminal sends.
struct Stop {
    int: Signal,
    term: Signal,
    hup: Signal,
}

impl Stop {
    fn listen() -> std::io::Result<Stop> {
        Ok(Stop {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// Waits for the first of them; returns the exit code it calls for.
    async fn received(&mut self) -> u8 {
        tokio::select! {
            _ = self.int.recv() => exit_code::INTERRUPTED,
            _ = self.term.recv() => exit_code::TERMINATED,
            _ = self.hup.recv() => exit_code::HUNG_UP,
        }
    }
}

/// A panic is a bug in hoist, never a state a server may put it in: report it as an error and
/// exit 1 at once, so that scripts never see Rust's 101. What the process leaves on disk is
/// what a SIGKILL leaves, which the next run adopts or removes.
fn exit_on_panic() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        to_stderr(format_args!(
            "error: internal error{place}: {}; please report it",
            escape_control(&message)
        ));
        std::process::exit(i32::from(exit_code::FAILURE));
    }));
}
