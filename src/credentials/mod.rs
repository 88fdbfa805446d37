//! Where credentials come from: Docker's config.json (`credHelpers`, `credsStore`, `auths`),
//! `docker-credential-*` helpers, and podman's auth.json as a fallback. No HTTP here.

use crate::reference::Registry;
use crate::types::Secret;
use futures_util::future::BoxFuture;
use std::sync::Arc;

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

/// What a lookup yields: owned and `'static`, so a session can await it from any task.
pub type CredentialFuture = BoxFuture<'static, anyhow::Result<Option<Credential>>>;

/// Asked lazily, only when a registry's challenge calls for credentials, so a broken helper
/// cannot break an anonymous pull of a public image. Async so the caller just awaits it: an
/// implementation that blocks (a helper is a process that may hang) does so inside its own
/// `spawn_blocking`, never on the runtime. Takes `Arc<Self>` so that blocking part can own it.
pub trait CredentialSource: Send + Sync + 'static {
    fn credential_for(self: Arc<Self>, registry: Registry) -> CredentialFuture;
}

/// A fixed credential (the one `login` is verifying) or none at all.
pub struct Fixed(pub Option<Credential>);

impl CredentialSource for Fixed {
    fn credential_for(self: Arc<Self>, _registry: Registry) -> CredentialFuture {
        Box::pin(std::future::ready(Ok(self.0.clone())))
    }
}

pub mod helper;
pub mod keychain;
