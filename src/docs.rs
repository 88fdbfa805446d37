//! Man pages and shell completions, generated from the clap definitions so they cannot drift
//! from `--help`. `cargo run --example gen-docs` writes them; a test fails when they are stale.

use crate::cli::Cli;
use clap::CommandFactory;
use clap_complete::Shell;
use std::path::PathBuf;

/// Every generated file, as (path relative to the repository root, contents).
pub fn render() -> std::io::Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut files = Vec::new();
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::Elvish,
        Shell::PowerShell,
    ] {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "hoist", &mut out);
        let name = match shell {
            Shell::Bash => "hoist.bash",
            Shell::Zsh => "_hoist",
            Shell::Fish => "hoist.fish",
            Shell::Elvish => "hoist.elv",
            _ => "_hoist.ps1",
        };
        files.push((PathBuf::from("completions").join(name), out));
    }
    let command = Cli::command();
    let mut out = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut out)?;
    files.push((PathBuf::from("man/hoist.1"), out));
    for sub in command.get_subcommands() {
        let name = format!("hoist-{}", sub.get_name());
        let sub = sub.clone().name(name.clone()).display_name(name.clone());
        let mut out = Vec::new();
        clap_mangen::Man::new(sub).render(&mut out)?;
        files.push((PathBuf::from("man").join(format!("{name}.1")), out));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    /// The committed completions and man pages must match the CLI; regenerate with
    /// `cargo run --example gen-docs` after changing a flag or its help.
    #[test]
    fn committed_docs_are_current() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for (path, contents) in super::render().unwrap() {
            let committed = std::fs::read(root.join(&path)).unwrap_or_default();
            assert!(
                committed == contents,
                "{} is stale: run `cargo run --example gen-docs`",
                path.display()
            );
        }
    }
}
