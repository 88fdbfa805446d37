//! One function per command: resolve, orchestrate, report. The work happens in the layers below.

pub mod completions;
pub mod exit_code;
pub mod login;
pub mod logout;
pub mod pull;
pub mod push;
mod transfer;

use crate::cli::{Cli, Command};
use crate::settings::Settings;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::resolve(&cli.global);
    match &cli.command {
        Command::Login(args) => login::run(&settings, args).await,
        Command::Logout(args) => logout::run(&settings, args).await,
        Command::Pull(args) => pull::run(&settings, args).await,
        Command::Push(args) => push::run(&settings, args).await,
        Command::Completions(args) => completions::run(args),
    }
}
