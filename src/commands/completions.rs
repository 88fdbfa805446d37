//! `hoist completions SHELL`: the completion script, from the same clap definitions as the help.

use crate::cli::{Cli, CompletionsArgs};
use clap::CommandFactory;

pub fn run(args: &CompletionsArgs) -> anyhow::Result<()> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "hoist", &mut std::io::stdout());
    Ok(())
}
