//! `hoist logout`: erase a registry's credentials from the helper and the file, under its key
//! and the `http://`/`https://` spellings older clients wrote.

use crate::cli::plan::{LogoutPlan, Settings};
use crate::credentials::keychain::Keychain;

pub async fn run(settings: &Settings, plan: LogoutPlan) -> anyhow::Result<()> {
    let LogoutPlan {
        registry,
        config_dir,
    } = plan;
    let mut keychain = Keychain::load(&config_dir, &settings.env)?;
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
