//! One function per command: resolve, orchestrate, report. The work happens in the layers below.

pub mod completions;
pub mod exit_code;

use crate::cli::{Cli, Command};
use crate::settings::Settings;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::resolve(&cli.global);
    match &cli.command {
        Command::Completions(args) => completions::run(args),
        Command::Login(_) | Command::Logout(_) | Command::Pull(_) | Command::Push(_) => {
            let _ = &settings;
            anyhow::bail!("not implemented yet")
        }
    }
}
