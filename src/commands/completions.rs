//! `hoist completions SHELL`: the completion script, from the same clap definitions as the
//! help; and the hidden `hoist __complete-servers`, which the scripts call for SERVER.

use crate::cli::plan::Settings;
use crate::config::{ConfigDir, DockerConfig};
use crate::reference::Registry;
use std::io::Write;

pub fn run(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let script = crate::docs::completion_script(shell);
    let mut out = std::io::stdout().lock();
    // As for every result: a failed write is an error, a reader that closed the pipe is not.
    match out.write_all(&script).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("writing the completion script to standard output"))
        }
        _ => Ok(()),
    }
}

/// The registries config.json names, one a line. It runs while someone presses Tab: anything
/// unreadable gives nothing rather than an error in the middle of their command line.
pub fn servers(settings: &Settings, dir: Option<&ConfigDir>) -> anyhow::Result<()> {
    let Some(dir) = dir else {
        return Ok(());
    };
    let Ok(config) = DockerConfig::load(&dir.path, settings.env.home.as_deref()) else {
        return Ok(());
    };
    for server in server_names(&config) {
        settings.printer.result(server)?;
    }
    Ok(())
}

/// The hosts of `auths` and `credHelpers`, as a user would type them (`docker.io`, not
/// `https://index.docker.io/v1/`), sorted. Only hostname characters pass: bash expands the
/// words it is given to complete, so a key like `$(…)` must never reach it.
fn server_names(config: &DockerConfig) -> Vec<String> {
    let keys = config
        .auth_keys()
        .into_iter()
        .chain(config.cred_helpers().map(|(key, _)| key.to_string()));
    let mut names: Vec<String> = keys
        .map(|key| Registry::from_server_arg(Some(&key)).name().to_string())
        .filter(|name| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-_:[]".contains(c))
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_as_typed_deduplicated_and_only_hostname_characters() {
        let config = DockerConfig::parse(
            r#"{"auths": {"https://index.docker.io/v1/": {}, "reg.example.com:5000": {},
                          "http://old.example.com/v1/": {}, "$(touch pwned)": {}},
                "credHelpers": {"123.dkr.ecr.us-east-1.amazonaws.com": "ecr-login",
                                "reg.example.com:5000": "pass"}}"#,
            "test",
        )
        .unwrap();
        assert_eq!(
            server_names(&config),
            [
                "123.dkr.ecr.us-east-1.amazonaws.com",
                "docker.io",
                "old.example.com",
                "reg.example.com:5000"
            ]
        );
    }
}
