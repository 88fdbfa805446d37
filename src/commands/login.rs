//! `hoist login`: get a username and secret (flags, stdin, stored, or prompt), verify them
//! against the registry, and only then store them where the Docker CLI would.

use super::exit_code::UsageError;
use crate::cli::plan::{LoginPlan, PasswordFrom, Settings};
use crate::credentials::keychain::{Keychain, Origin, StoredLogin};
use crate::credentials::{Credential, Fixed};
use crate::reference::Registry;
use crate::registry::{RegistryClient, RegistryError};
use crate::types::Secret;
use anyhow::Context;
use std::io::{IsTerminal, Read};
use std::sync::Arc;

pub async fn run(settings: &Settings, plan: LoginPlan) -> anyhow::Result<()> {
    let printer = settings.printer;
    let LoginPlan {
        registry,
        config_dir,
        username,
        password,
    } = plan;
    let password = match password {
        PasswordFrom::Flag(p) => {
            printer.warn("Using --password via the CLI is insecure. Use --password-stdin.");
            Some(p)
        }
        PasswordFrom::Stdin => Some(read_password_stdin()?),
        PasswordFrom::Ask => None,
    };
    let mut keychain = Keychain::load(&config_dir, &settings.env)?;
    let client = RegistryClient::new(
        registry.clone(),
        settings.client_options(&registry)?,
        Arc::new(Fixed(None)),
        Vec::new(),
    )?;
    let terminal = std::io::stdin().is_terminal();

    // Nothing given: try what is stored first, as `docker login` does.
    let mut stored_username = None;
    if username.is_none() && password.is_none() {
        if let Some(stored) = keychain.lookup(&registry)? {
            let credential = stored.credential;
            stored_username = credential.username().map(str::to_string);
            printer.status(format!(
                "Authenticating with existing credentials... [Username: {}]",
                stored_username.as_deref().unwrap_or("")
            ));
            match client.login(&credential).await {
                Ok(refresh) => {
                    // Credentials from DOCKER_AUTH_CONFIG or podman's auth.json are only
                    // verified: copying them into config.json would put a secret the user
                    // kept off disk (CI) into a file, unencrypted.
                    let writable = matches!(stored.origin, Origin::File(_) | Origin::Helper { .. });
                    if let Some(login) = stored_login(&credential, refresh).filter(|_| writable) {
                        save(settings, &mut keychain, &registry, login, true)?;
                    }
                    printer.outcome("Login Succeeded")?;
                    return Ok(());
                }
                Err(RegistryError::CredentialsRefused { .. }) if terminal => {
                    printer.status("Stored credentials are invalid or expired; enter new ones.");
                }
                Err(e @ RegistryError::CredentialsRefused { .. }) => {
                    return Err(anyhow::Error::new(e).context(format!(
                        "the stored credentials for {registry} are invalid or expired; log in again with --username and --password-stdin"
                    )));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    let username = match username {
        Some(u) => u,
        None if terminal => prompt_username(stored_username.as_deref())?,
        None => return Err(no_tty()),
    };
    let password = match password {
        Some(p) => p,
        None if terminal => {
            Secret::new(rpassword::prompt_password("Password: ").context("reading the password")?)
        }
        None => return Err(no_tty()),
    };
    if password.is_empty() {
        return Err(UsageError("password is empty".into()).into());
    }
    let credential = Credential::Basic { username, password };
    let refresh = client
        .login(&credential)
        .await
        .with_context(|| format!("login to {registry} failed; nothing was stored"))?;
    let login = stored_login(&credential, refresh).expect("basic credentials are storable");
    save(settings, &mut keychain, &registry, login, false)?;
    printer.outcome("Login Succeeded")?;
    Ok(())
}

/// What to keep: the refresh token when the token service gave one (never the password,
/// as Docker does), otherwise the username and password.
fn stored_login(credential: &Credential, refresh: Option<Secret>) -> Option<StoredLogin> {
    match (credential, refresh) {
        (
            Credential::Basic { username, .. } | Credential::IdentityToken { username, .. },
            Some(token),
        ) => Some(StoredLogin::IdentityToken {
            username: username.clone(),
            token,
        }),
        (Credential::Basic { username, password }, None) => Some(StoredLogin::Basic {
            username: username.clone(),
            password: password.clone(),
        }),
        (Credential::IdentityToken { username, token }, None) => Some(StoredLogin::IdentityToken {
            username: username.clone(),
            token: token.clone(),
        }),
        (Credential::RegistryToken(_), _) => None,
    }
}

fn save(
    settings: &Settings,
    keychain: &mut Keychain,
    registry: &Registry,
    login: StoredLogin,
    reverified: bool,
) -> anyhow::Result<()> {
    let outcome = keychain.store(registry, login, reverified)?;
    if let Some(path) = outcome.unencrypted_file() {
        settings
            .printer
            .warn(crate::credentials::keychain::unencrypted_warning(path));
    }
    Ok(())
}

/// Reads the whole of stdin and trims exactly one trailing line ending (CRLF, LF or CR):
/// a token piped with `echo` must work, a password ending in spaces must too.
fn read_password_stdin() -> anyhow::Result<Secret> {
    let mut raw = String::new();
    std::io::stdin()
        .read_to_string(&mut raw)
        .context("reading the password from standard input")?;
    let trimmed = trim_one_line_ending(&raw);
    if trimmed.is_empty() {
        return Err(UsageError("password is empty".into()).into());
    }
    Ok(Secret::new(trimmed))
}

fn trim_one_line_ending(s: &str) -> &str {
    s.strip_suffix("\r\n")
        .or_else(|| s.strip_suffix('\n'))
        .or_else(|| s.strip_suffix('\r'))
        .unwrap_or(s)
}

fn prompt_username(default: Option<&str>) -> anyhow::Result<String> {
    use std::io::Write;
    match default {
        Some(d) => eprint!("Username ({d}): "),
        None => eprint!("Username: "),
    }
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the username")?;
    let name = line.trim().to_string();
    match (name.is_empty(), default) {
        (false, _) => Ok(name),
        (true, Some(d)) => Ok(d.to_string()),
        (true, None) => Err(UsageError("Username is required".into()).into()),
    }
}

fn no_tty() -> anyhow::Error {
    UsageError(
        "Cannot perform an interactive login from a non TTY device: pass --username and --password-stdin".into(),
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_exactly_one_line_ending() {
        assert_eq!(trim_one_line_ending("pw\n"), "pw");
        assert_eq!(trim_one_line_ending("pw\r\n"), "pw");
        assert_eq!(trim_one_line_ending("pw\r"), "pw");
        assert_eq!(trim_one_line_ending("pw\n\n"), "pw\n");
        assert_eq!(trim_one_line_ending("pw "), "pw ");
    }
}
