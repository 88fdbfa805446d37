//! `hoist logout`: erase a registry's credentials from the helper and the file, under its key
//! and the `http://`/`https://` spellings older clients wrote.

use crate::cli::LogoutArgs;
use crate::config::{self, Environment};
use crate::credentials::keychain::Keychain;
use crate::reference::Registry;
use crate::settings::Settings;

pub async fn run(settings: &Settings, args: &LogoutArgs) -> anyhow::Result<()> {
    let registry = Registry::parse_server_arg(args.server.as_deref())
        .map_err(|e| super::exit_code::UsageError(e.to_string()))?;
    let env = Environment::from_process();
    let dir = config::resolve_config_dir(settings.config_flag.as_deref(), &env)?;
    let mut keychain = Keychain::load(&dir, &env)?;
    let host = registry.config_key();
    if !keychain.erase(&registry)? {
        settings
            .printer
            .outcome(format!("Not logged in to {host}"))?;
        return Ok(());
    }
    settings
        .printer
        .outcome(format!("Removing login credentials for {host}"))?;
    Ok(())
}
