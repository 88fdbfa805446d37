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
use crate::ui::Tally;
use std::sync::Arc;

/// `tally` records what pull and push finish, so `main` can say so after Ctrl-C.
pub async fn run(cli: Cli, tally: Arc<Tally>) -> anyhow::Result<()> {
    let settings = Settings::resolve(&cli.global);
    match &cli.command {
        Command::Login(args) => login::run(&settings, args).await,
        Command::Logout(args) => logout::run(&settings, args).await,
        Command::Pull(args) => pull::run(&settings, args, tally).await,
        Command::Push(args) => push::run(&settings, args, tally).await,
        Command::Completions(args) => completions::run(args),
        Command::CompleteServers => completions::servers(&settings),
    }
}
