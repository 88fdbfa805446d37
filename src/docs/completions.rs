//! Completion scripts: clap_complete's, generated from a copy of the command line that offers
//! the common platforms for `--platform` (the parser itself accepts any), with file paths for
//! the path options (their value hints). bash, zsh and fish also complete SERVER from the
//! registries in config.json, asked of `hoist __complete-servers` when Tab is pressed.

use crate::cli::Cli;
use clap::builder::PossibleValuesParser;
use clap::{Command, CommandFactory};
use clap_complete::Shell;
use std::path::PathBuf;

/// What `--platform` completes to: `all`, then the platforms images are commonly built for.
pub const PLATFORMS: &[&str] = &[
    "all",
    "linux/amd64",
    "linux/arm64",
    "linux/arm/v7",
    "linux/arm/v6",
    "linux/386",
    "linux/ppc64le",
    "linux/s390x",
    "linux/riscv64",
    "windows/amd64",
];

const SHELLS: [(Shell, &str); 5] = [
    (Shell::Bash, "hoist.bash"),
    (Shell::Zsh, "_hoist"),
    (Shell::Fish, "hoist.fish"),
    (Shell::Elvish, "hoist.elv"),
    (Shell::PowerShell, "_hoist.ps1"),
];

/// `completions/`, one script per shell.
pub fn files() -> Vec<(PathBuf, Vec<u8>)> {
    SHELLS
        .iter()
        .map(|(shell, name)| {
            (
                PathBuf::from("completions").join(name),
                completion_script(*shell),
            )
        })
        .collect()
}

/// The script `hoist completions SHELL` prints.
pub fn completion_script(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut completed_command(), "hoist", &mut out);
    let script = String::from_utf8(out).expect("clap_complete writes UTF-8");
    let script = match shell {
        Shell::Bash => script + include_str!("servers.bash"),
        Shell::Zsh => with_zsh_servers(&script),
        Shell::Fish => script + include_str!("servers.fish"),
        _ => script,
    };
    script.into_bytes()
}

/// The command line as completion sees it: clap_complete offers hidden commands too, so they
/// are left out of this copy, and `--platform` offers the common platforms.
fn completed_command() -> Command {
    let full = Cli::command();
    let mut command =
        Command::new("hoist").version(full.get_version().unwrap_or_default().to_string());
    for arg in full.get_arguments() {
        command = command.arg(arg.clone());
    }
    for sub in full.get_subcommands().filter(|s| !s.is_hide_set()) {
        command = command.subcommand(sub.clone());
    }
    let command = command.mut_subcommand("pull", |pull| {
        pull.mut_arg("platform", |arg| {
            arg.value_parser(PossibleValuesParser::new(PLATFORMS))
        })
    });
    // copy and inspect take one platform, never `all`.
    ["copy", "inspect"]
        .into_iter()
        .fold(command, |command, name| {
            command.mut_subcommand(name, |sub| {
                sub.mut_arg("platform", |arg| {
                    arg.value_parser(PossibleValuesParser::new(&PLATFORMS[1..]))
                })
            })
        })
}

/// zsh: SERVER's action becomes `_hoist_servers`, defined before the script runs `_hoist`.
fn with_zsh_servers(script: &str) -> String {
    let mut out = String::with_capacity(script.len() + 1024);
    let mut servers = 0;
    for line in script.lines() {
        if line.starts_with("if [ \"$funcstack[1]\" = \"_hoist\" ]; then") {
            out.push_str(include_str!("servers.zsh"));
            out.push('\n');
        }
        match line.strip_suffix(":_default' \\") {
            Some(spec) if line.starts_with("'::server -- ") => {
                out.push_str(spec);
                out.push_str(":_hoist_servers' \\");
                servers += 1;
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    // login and logout: if clap_complete's layout changes, fail here rather than ship less.
    assert_eq!(servers, 2, "SERVER arguments not found in the zsh script");
    assert!(
        out.contains("_hoist_servers() {"),
        "no place for _hoist_servers"
    );
    out
}
