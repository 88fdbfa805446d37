//! Where credentials come from: Docker's config.json (`credHelpers`, `credsStore`, `auths`),
//! `docker-credential-*` helpers, and podman's auth.json as a fallback. No HTTP here.

use crate::reference::Registry;
use crate::types::Secret;

/// What a registry can be asked to accept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// A username and password (or a personal access token used as one).
    Basic { username: String, password: Secret },
    /// A refresh token from an earlier login (`identitytoken`, or a helper's `<token>` user):
    /// exchanged for access tokens with the OAuth2 `refresh_token` grant.
    IdentityToken { username: String, token: Secret },
    /// A bearer token sent to the registry as it is (`registrytoken`).
    RegistryToken(Secret),
}

impl Credential {
    pub fn username(&self) -> Option<&str> {
        match self {
            Credential::Basic { username, .. } | Credential::IdentityToken { username, .. } => {
                Some(username)
            }
            Credential::RegistryToken(_) => None,
        }
    }
}

/// Asked lazily, only when a registry's challenge calls for credentials, so a broken helper
/// cannot break an anonymous pull of a public image.
pub trait CredentialSource: Send + Sync {
    fn credential_for(&self, registry: &Registry) -> anyhow::Result<Option<Credential>>;
}

/// A fixed credential (the one `login` is verifying) or none at all.
pub struct Fixed(pub Option<Credential>);

impl CredentialSource for Fixed {
    fn credential_for(&self, _registry: &Registry) -> anyhow::Result<Option<Credential>> {
        Ok(self.0.clone())
    }
}

pub mod helper;
pub mod keychain;
