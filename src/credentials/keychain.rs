//! Finding, storing and erasing a registry's credentials the way the Docker CLI does:
//! `credHelpers[host]`, then `credsStore`, then `auths`, with `DOCKER_AUTH_CONFIG` layered over
//! the file and podman's auth.json as a last resort.

use super::helper::{Helper, HelperError, TOKEN_USERNAME};
use super::{Credential, CredentialFuture, CredentialSource};
use crate::config::{AuthEntry, ConfigDir, DockerConfig, Environment};
use crate::reference::{hostname_of, Registry};
use crate::types::Secret;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What `login` keeps after the registry accepted it.
#[derive(Debug, Clone)]
pub enum StoredLogin {
    Basic {
        username: String,
        password: Secret,
    },
    /// The token service's refresh token, kept instead of the password.
    IdentityToken {
        username: String,
        token: Secret,
    },
}

/// Where a credential was found, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Helper { name: String, chosen_by: String },
    File(PathBuf),
    Environment,
    Podman(PathBuf),
}

#[derive(Debug)]
pub struct Found {
    pub credential: Credential,
    pub origin: Origin,
}

pub struct StoreOutcome {
    file: Option<PathBuf>,
}

impl StoreOutcome {
    /// The file the secret was written into in base64, when no helper took it.
    pub fn unencrypted_file(&self) -> Option<&Path> {
        self.file.as_deref()
    }
}

/// Docker's warning when credentials land in config.json.
pub fn unencrypted_warning(path: &Path) -> String {
    format!(
        "Your credentials are stored unencrypted in '{}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n",
        path.display()
    )
}

pub struct Keychain {
    /// The file login and logout write; `None` when there is no config directory at all.
    file: Option<DockerConfig>,
    env_layer: Option<DockerConfig>,
    podman: Option<(PathBuf, DockerConfig)>,
    helper_path: Option<std::ffi::OsString>,
}

impl Keychain {
    pub fn load(dir: &ConfigDir, env: &Environment) -> anyhow::Result<Keychain> {
        let file = DockerConfig::load(&dir.path, env.home.as_deref())?;
        let mut keychain = Keychain::without_config_dir(env)?;
        keychain.file = Some(file);
        Ok(keychain)
    }

    /// No config directory (no HOME, no DOCKER_CONFIG): only the environment and podman's file.
    pub fn without_config_dir(env: &Environment) -> anyhow::Result<Keychain> {
        let env_layer = env
            .docker_auth_config
            .as_deref()
            .map(|text| DockerConfig::parse(text, "DOCKER_AUTH_CONFIG"))
            .transpose()?;
        let podman = match env.podman_auth_file() {
            Some(path) => match std::fs::read_to_string(&path) {
                Ok(text) => Some((
                    path.clone(),
                    DockerConfig::parse(&text, &path.display().to_string())?,
                )),
                Err(_) => None,
            },
            None => None,
        };
        Ok(Keychain {
            file: None,
            env_layer,
            podman,
            helper_path: env.path.clone(),
        })
    }

    /// The config layers, the environment's first: it overrides the file.
    fn layers(&self) -> impl Iterator<Item = (&DockerConfig, Origin)> {
        let env = self.env_layer.iter().map(|c| (c, Origin::Environment));
        let file = self.file.iter().map(|c| {
            (
                c,
                Origin::File(c.read_from().unwrap_or(c.path()).to_path_buf()),
            )
        });
        env.chain(file)
    }

    /// The helper for this registry: `credHelpers` (by its config key or hostname), then `credsStore`.
    pub fn helper_for(&self, registry: &Registry) -> Option<Helper> {
        for (config, _) in self.layers() {
            for (key, name) in config.cred_helpers() {
                if key == registry.config_key() || Registry::from_server_arg(Some(key)) == *registry
                {
                    return Some(Helper::new(
                        name,
                        format!("credHelpers[{key:?}]"),
                        self.helper_path.clone(),
                    ));
                }
            }
        }
        self.layers().find_map(|(c, _)| {
            c.creds_store()
                .map(|s| Helper::new(s, "credsStore".into(), self.helper_path.clone()))
        })
    }

    pub fn lookup(&self, registry: &Registry) -> anyhow::Result<Option<Found>> {
        if let Some(helper) = self.helper_for(registry) {
            if let Some(c) = helper.get(registry.config_key())? {
                let credential = if c.username == TOKEN_USERNAME {
                    Credential::IdentityToken {
                        username: String::new(),
                        token: c.secret,
                    }
                } else {
                    Credential::Basic {
                        username: c.username,
                        password: c.secret,
                    }
                };
                return Ok(Some(Found {
                    credential,
                    origin: Origin::Helper {
                        name: helper.name,
                        chosen_by: helper.chosen_by,
                    },
                }));
            }
        }
        for (config, origin) in self.layers() {
            if let Some(entry) = matching_entry(config, registry)? {
                return Ok(Some(Found {
                    credential: to_credential(entry),
                    origin,
                }));
            }
        }
        if let Some((path, config)) = &self.podman {
            if let Some(entry) = matching_entry(config, registry)? {
                return Ok(Some(Found {
                    credential: to_credential(entry),
                    origin: Origin::Podman(path.clone()),
                }));
            }
        }
        Ok(None)
    }

    /// Stores through the configured helper (leaving Docker's empty `"host": {}` entry in the
    /// file), or in the file's `auths`; saves the file either way, as Docker does, unless the
    /// entry is already exactly that. The file is re-read and written under the config lock.
    /// `reverified`: these are the stored credentials, checked again (their entry keeps its
    /// `email`, as Docker's does); otherwise the entry starts afresh.
    pub fn store(
        &mut self,
        registry: &Registry,
        login: StoredLogin,
        reverified: bool,
    ) -> anyhow::Result<StoreOutcome> {
        let key = registry.config_key().to_string();
        let helper = self.helper_for(registry);
        let file = self.file_mut()?;
        let outcome = match helper {
            Some(helper) => {
                let (username, secret) = match &login {
                    StoredLogin::Basic { username, password } => (username.as_str(), password),
                    StoredLogin::IdentityToken { token, .. } => (TOKEN_USERNAME, token),
                };
                helper.store(&key, username, secret).map_err(|e| match e {
                    // Only a helper that cannot store at all gets the advice; any other
                    // failure is the helper's to explain, and its words come first.
                    HelperError::Failed { ref message, .. } if cannot_store(message) => {
                        anyhow::anyhow!(
                            "{e}; a helper that cannot store supplies credentials itself (as ecr-login does), so no login is needed"
                        )
                    }
                    other => other.into(),
                })?;
                file.update(|f| ((), f.set_auth(&key, &AuthEntry::default(), reverified)))?;
                StoreOutcome { file: None }
            }
            None => {
                let entry = match login {
                    StoredLogin::Basic { username, password } => AuthEntry {
                        username,
                        password: password.expose().to_string(),
                        ..Default::default()
                    },
                    StoredLogin::IdentityToken { username, token } => AuthEntry {
                        username,
                        identity_token: token.expose().to_string(),
                        ..Default::default()
                    },
                };
                file.update(|f| ((), f.set_auth(&key, &entry, reverified)))?;
                StoreOutcome {
                    file: Some(file.path().to_path_buf()),
                }
            }
        };
        Ok(outcome)
    }

    /// Removes the registry's entries (its key and the `http://`/`https://` and path spellings)
    /// from the helper and the file. `Ok(false)`: there was nothing to remove.
    pub fn erase(&mut self, registry: &Registry) -> anyhow::Result<bool> {
        let helper = self.helper_for(registry);
        let file = self.file_mut()?;
        let mut removed = false;
        if let Some(helper) = helper {
            removed = erase_from_helper(&helper, registry)?;
        }
        let removed_from_file = file.update(|file| {
            let keys: Vec<String> = file
                .auth_keys()
                .into_iter()
                .filter(|k| Registry::from_server_arg(Some(k)) == *registry)
                .collect();
            let mut removed = false;
            for key in &keys {
                removed |= file.remove_auth(key);
            }
            (removed, !keys.is_empty())
        })?;
        Ok(removed | removed_from_file)
    }

    fn file_mut(&mut self) -> anyhow::Result<&mut DockerConfig> {
        self.file.as_mut().ok_or_else(|| {
            anyhow::anyhow!("no config directory: set DOCKER_CONFIG or HOME, or pass --config DIR")
        })
    }
}

/// What helpers without a `store` (ecr-login, gcloud) answer when asked to store.
fn cannot_store(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    ["not implemented", "not supported", "unsupported"]
        .iter()
        .any(|m| message.contains(m))
}

/// Erases every URL the helper holds for this registry. Helpers such as pass fail (rather
/// than say "not found") when asked to erase a URL they never stored, so ask `list` first and
/// erase only what is there; a helper without a working `list` gets the registry's key and
/// its `https://`/`http://` spellings, where only a failure on the key itself counts.
fn erase_from_helper(helper: &Helper, registry: &Registry) -> anyhow::Result<bool> {
    let key = registry.config_key();
    let mut removed = false;
    match helper.list() {
        Ok(urls) => {
            for url in urls
                .iter()
                .filter(|u| Registry::from_server_arg(Some(u)) == *registry)
            {
                removed |= helper.erase(url)?;
            }
        }
        // A helper that is missing, or that hoist had to stop, would fail every erase too.
        Err(e @ (HelperError::Missing { .. } | HelperError::Stopped { .. })) => {
            return Err(e.into())
        }
        Err(HelperError::Failed { .. }) => {
            removed |= helper.erase(key)?;
            if !key.contains("://") {
                for url in [format!("https://{key}"), format!("http://{key}")] {
                    removed |= helper.erase(&url).unwrap_or(false);
                }
            }
        }
    }
    Ok(removed)
}

/// The entry under the registry's key, or under any key naming the same host (old clients
/// wrote `https://host/v1/`); empty entries never count.
fn matching_entry(config: &DockerConfig, registry: &Registry) -> anyhow::Result<Option<AuthEntry>> {
    let mut keys = config.auth_keys();
    // The exact key first, then the other spellings in a stable order.
    keys.sort_by_key(|k| (k != registry.config_key(), k.clone()));
    for key in keys {
        if key == registry.config_key()
            || Registry::new(&hostname_of(&key).to_ascii_lowercase()) == *registry
        {
            if let Some(entry) = config.auth(&key)?.filter(AuthEntry::is_credential) {
                return Ok(Some(entry));
            }
        }
    }
    Ok(None)
}

fn to_credential(entry: AuthEntry) -> Credential {
    if !entry.identity_token.is_empty() {
        Credential::IdentityToken {
            username: entry.username,
            token: Secret::new(entry.identity_token),
        }
    } else if !entry.registry_token.is_empty() {
        Credential::RegistryToken(Secret::new(entry.registry_token))
    } else {
        Credential::Basic {
            username: entry.username,
            password: Secret::new(entry.password),
        }
    }
}

impl CredentialSource for Keychain {
    /// Helpers are processes: the lookup runs on a blocking thread.
    fn credential_for(self: Arc<Self>, registry: Registry) -> CredentialFuture {
        Box::pin(async move {
            let found = tokio::task::spawn_blocking(move || self.lookup(&registry)).await??;
            Ok(found.map(|f| f.credential))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigDirSource;

    fn keychain(json: &str) -> (tempfile::TempDir, Keychain) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), json).unwrap();
        let env = Environment {
            path: Some("/nonexistent".into()),
            ..Default::default()
        };
        let cd = ConfigDir {
            path: dir.path().to_path_buf(),
            source: ConfigDirSource::Flag,
        };
        let k = Keychain::load(&cd, &env).unwrap();
        (dir, k)
    }

    #[test]
    fn matches_keys_written_with_scheme_and_path() {
        let (_d, k) = keychain(r#"{"auths":{"https://reg.example.com/v1/":{"auth":"dTpw"}}}"#);
        let found = k
            .lookup(&Registry::new("reg.example.com"))
            .unwrap()
            .unwrap();
        assert_eq!(found.credential.username(), Some("u"));
        assert!(k
            .lookup(&Registry::new("other.example.com"))
            .unwrap()
            .is_none());
    }

    #[test]
    fn docker_hub_key() {
        let (_d, k) = keychain(r#"{"auths":{"https://index.docker.io/v1/":{"auth":"dTpw"}}}"#);
        assert!(k
            .lookup(&Registry::from_server_arg(Some("docker.io")))
            .unwrap()
            .is_some());
    }

    #[test]
    fn empty_entry_never_shadows_a_helper() {
        // The helper is missing here, so reaching it is an error that names it: proof that
        // the empty `auths` entry was not taken as "no credentials".
        let (_d, k) = keychain(r#"{"auths":{"reg.io":{}},"credsStore":"nonexistent-xyz"}"#);
        let err = k.lookup(&Registry::new("reg.io")).unwrap_err().to_string();
        assert!(err.contains("docker-credential-nonexistent-xyz"), "{err}");
        let (_d, k) = keychain(r#"{"auths":{"reg.io":{}}}"#);
        assert!(k.lookup(&Registry::new("reg.io")).unwrap().is_none());
    }

    #[test]
    fn cred_helpers_win_over_creds_store() {
        let (_d, k) = keychain(r#"{"credsStore":"a","credHelpers":{"reg.io":"b"}}"#);
        assert_eq!(k.helper_for(&Registry::new("reg.io")).unwrap().name, "b");
        assert_eq!(k.helper_for(&Registry::new("other.io")).unwrap().name, "a");
    }

    #[test]
    fn identity_and_registry_tokens() {
        let (_d, k) = keychain(
            r#"{"auths":{"a.io":{"auth":"dTo=","identitytoken":"rt"},"b.io":{"registrytoken":"bt"}}}"#,
        );
        assert!(
            matches!(k.lookup(&Registry::new("a.io")).unwrap().unwrap().credential, Credential::IdentityToken { ref username, .. } if username == "u")
        );
        assert!(matches!(
            k.lookup(&Registry::new("b.io"))
                .unwrap()
                .unwrap()
                .credential,
            Credential::RegistryToken(_)
        ));
    }

    #[test]
    fn environment_layer_overrides_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"auths":{"r.io":{"auth":"ZmlsZTpw"}}}"#,
        )
        .unwrap();
        let env = Environment {
            docker_auth_config: Some(r#"{"auths":{"r.io":{"auth":"ZW52OnA="}}}"#.into()),
            ..Default::default()
        };
        let cd = ConfigDir {
            path: dir.path().to_path_buf(),
            source: ConfigDirSource::Flag,
        };
        let k = Keychain::load(&cd, &env).unwrap();
        let found = k.lookup(&Registry::new("r.io")).unwrap().unwrap();
        assert_eq!(
            (found.credential.username(), found.origin),
            (Some("env"), Origin::Environment)
        );
    }

    #[test]
    fn erase_removes_every_spelling() {
        let (d, mut k) = keychain(
            r#"{"auths":{"r.io":{"auth":"dTpw"},"https://r.io/v1/":{"auth":"dTpw"},"o.io":{"auth":"dTpw"}}}"#,
        );
        assert!(k.erase(&Registry::new("r.io")).unwrap());
        let text = std::fs::read_to_string(d.path().join("config.json")).unwrap();
        assert!(!text.contains("r.io\"") && text.contains("o.io"), "{text}");
        assert!(!k.erase(&Registry::new("r.io")).unwrap());
    }
}
