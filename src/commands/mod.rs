//! One function per command, taking its plan: orchestrate and report. Arguments were resolved
//! and checked before (`cli::plan`); the work happens in the layers below.

pub mod completions;
pub mod copy;
pub mod error_chain;
pub mod exit_code;
pub mod inspect;
pub mod login;
pub mod logout;
pub mod pull;
pub mod push;
pub mod tag;
pub mod tags;
mod transfer;

use crate::cli::plan::{CommandPlan, Plan};
use crate::cli::Cli;
use crate::config::Environment;
use crate::ui::Tally;
use std::sync::Arc;

/// `tally` records what pull and push finish, so `main` can say so after Ctrl-C.
pub async fn run(cli: Cli, tally: Arc<Tally>) -> anyhow::Result<()> {
    let Plan { settings, command } = Plan::resolve(cli, Environment::from_process())?;
    let result = match command {
        CommandPlan::Login(plan) => login::run(&settings, plan).await,
        CommandPlan::Logout(plan) => logout::run(&settings, plan).await,
        CommandPlan::Pull(plan) => pull::run(&settings, plan, tally).await,
        CommandPlan::Push(plan) => push::run(&settings, plan, tally).await,
        CommandPlan::Copy(plan) => copy::run(&settings, plan, tally).await,
        CommandPlan::Tag(plan) => tag::run(&settings, plan).await,
        CommandPlan::Inspect(plan) => inspect::run(&settings, plan).await,
        CommandPlan::Tags(plan) => tags::run(&settings, plan).await,
        CommandPlan::Completions(shell) => completions::run(shell),
        CommandPlan::CompleteServers(dir) => completions::servers(&settings, dir.as_ref()),
    };
    if let Some(line) = settings.network.debug_summary() {
        crate::ui::printer::to_stderr(format_args!("{line}"));
    }
    result
}
