//! One registry's authentication state: what its first answer asked for, the credential
//! (looked up once, when a challenge first arrives), and the token for the scopes this
//! operation needs, kept with the scopes it was issued for, renewed before it expires and once
//! on a 401. A token request names only the operation's scopes: never one a challenge lifted
//! from elsewhere.
//! It sends nothing itself but token requests, through the [`Transport`]; it reads no files.

use super::challenge::{unsupported_challenge, Challenge};
use super::scope::{self, Scope};
use super::token::{self, Grant, Token, TokenRequest};
use crate::credentials::{Credential, CredentialSource};
use crate::reference::Registry;
use crate::registry::error::RegistryError;
use crate::registry::timeouts::{self, host_of, Notice};
use crate::registry::transport::Transport;
use crate::types::Secret;
use reqwest::Method;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the registry's first answer asked for, and what we currently send in answer.
enum AuthState {
    /// It answered without a challenge: no credentials needed (until a 401 says otherwise).
    Open,
    /// It asked for credentials; not answered yet.
    Challenged(Challenge),
    Basic(Secret),
    Bearer {
        token: Secret,
        expires: Instant,
        challenge: Challenge,
        /// What the token was issued for: a request needing other scopes gets a new one.
        scopes: Vec<Scope>,
    },
}

pub(crate) struct State {
    base: Option<url::Url>,
    auth: Option<AuthState>,
    /// Bumped at each new token so concurrent 401s re-authenticate once, not once each.
    generation: u64,
    scopes: Vec<Scope>,
}

impl State {
    /// What the registry's first answer said: where it is, and whether it asked for credentials.
    fn learn(&mut self, base: url::Url, challenge: Option<Challenge>) {
        self.base = Some(base);
        self.auth = Some(match challenge {
            None => AuthState::Open,
            Some(c) => AuthState::Challenged(c),
        });
    }
}

/// How a request goes out: with what the session knows, or as the registry's first contact.
pub(crate) enum Access<'a> {
    Known(Authorization),
    FirstContact(FirstContact<'a>),
}

/// The right to send the first request to a registry bare, holding back every other request
/// until its answer is learned (or the attempt is dropped, and the next request probes again).
pub(crate) struct FirstContact<'a> {
    state: tokio::sync::MutexGuard<'a, State>,
}

impl FirstContact<'_> {
    /// Records where the registry answered and its challenge, if it sent one; returns the token
    /// generation the bare request belongs to.
    pub(crate) fn learn(mut self, base: url::Url, challenge: Option<Challenge>) -> u64 {
        self.state.learn(base, challenge);
        self.state.generation
    }
}

/// The credential lookup's outcome, shared by every request that needs it.
type LookedUp = Result<Option<Credential>, String>;

/// Where to send a request now: the registry's base URL, the `Authorization` to send with it,
/// and the token generation it belongs to (see [`Session::reauthenticate`]).
pub(crate) struct Authorization {
    pub base: url::Url,
    pub header: Option<Secret>,
    pub generation: u64,
}

pub(crate) struct Session {
    registry: Registry,
    credentials: Arc<dyn CredentialSource>,
    /// Looked up once, when the first challenge arrives, outside the state lock.
    credential: tokio::sync::OnceCell<LookedUp>,
    pub(crate) state: tokio::sync::Mutex<State>,
}

impl Session {
    pub(crate) fn new(
        registry: Registry,
        credentials: Arc<dyn CredentialSource>,
        scopes: Vec<Scope>,
    ) -> Session {
        Session {
            registry,
            credentials,
            credential: tokio::sync::OnceCell::new(),
            state: tokio::sync::Mutex::new(State {
                base: None,
                auth: None,
                generation: 0,
                scopes: scope::merge(scopes),
            }),
        }
    }

    /// How a request may go out now. The first request to a registry not yet heard from, when
    /// `may_probe` (it is safe to send bare and twice: GET or HEAD, no body), goes out as the
    /// probe ([`Access::FirstContact`]) and its answer teaches the session the scheme and the
    /// challenge; the requests beside it wait for that, as they would for a ping. Otherwise
    /// the registry is pinged (`ping`) first, and a challenge is answered before the request.
    pub(crate) async fn access<F, P>(
        &self,
        transport: &Transport,
        may_probe: bool,
        ping: P,
    ) -> Result<Access<'_>, RegistryError>
    where
        P: Fn() -> F,
        F: Future<Output = Result<(url::Url, Option<Challenge>), RegistryError>>,
    {
        loop {
            let mut state = self.state.lock().await;
            if state.base.is_none() {
                if may_probe {
                    return Ok(Access::FirstContact(FirstContact { state }));
                }
                let (base, challenge) = ping().await?;
                state.learn(base, challenge);
            }
            let due = match &state.auth {
                Some(AuthState::Challenged(challenge)) => Some(challenge.clone()),
                Some(AuthState::Bearer {
                    expires,
                    challenge,
                    scopes,
                    ..
                }) if Instant::now() >= *expires || *scopes != state.scopes => {
                    Some(challenge.clone())
                }
                _ => None,
            };
            if let Some(challenge) = due {
                // A credential helper may take its time: never run it with the state locked.
                if self.credential.get().is_none() {
                    drop(state);
                    self.credential(
                        transport.options.notice.as_ref(),
                        transport.options.timeouts.notice,
                    )
                    .await?;
                    continue;
                }
                let credential = self
                    .credential(
                        transport.options.notice.as_ref(),
                        transport.options.timeouts.notice,
                    )
                    .await?;
                self.answer(transport, &mut state, challenge, credential)
                    .await?;
            }
            let header = match &state.auth {
                Some(AuthState::Basic(h)) => Some(h.clone()),
                Some(AuthState::Bearer { token, .. }) => {
                    Some(Secret::new(format!("Bearer {}", token.expose())))
                }
                _ => None,
            };
            return Ok(Access::Known(Authorization {
                base: state.base.clone().expect("set above"),
                header,
                generation: state.generation,
            }));
        }
    }

    /// Answers the registry's 401 to a request sent with token `generation`: once for all
    /// the requests that met it concurrently. The challenge's scopes are added only when it
    /// says the token lacked them (`insufficient_scope`): it was the answer to this very
    /// request. Any other challenge's `scope` (GHCR's `/v2/` names a placeholder repository)
    /// is not this operation's and is never asked for.
    pub(crate) async fn reauthenticate(
        &self,
        transport: &Transport,
        challenge: Challenge,
        generation: u64,
    ) -> Result<(), RegistryError> {
        let credential = self
            .credential(
                transport.options.notice.as_ref(),
                transport.options.timeouts.notice,
            )
            .await?;
        let mut state = self.state.lock().await;
        if state.generation == generation {
            if challenge.param("error") == Some("insufficient_scope") {
                let needed = challenge.param("scope").map(scope::parse_list);
                let merged = state.scopes.drain(..).chain(needed.unwrap_or_default());
                state.scopes = scope::merge(merged);
            }
            self.answer(transport, &mut state, challenge, credential)
                .await?;
        }
        Ok(())
    }

    /// The registry's credential, looked up once: concurrent requests share the one lookup.
    /// The source runs anything that blocks (a helper process) off the runtime itself.
    /// A slow helper (a locked keychain, a network call) is announced like any other wait.
    pub(crate) async fn credential(
        &self,
        notice: Option<&Notice>,
        every: Duration,
    ) -> Result<Option<Credential>, RegistryError> {
        let found = self
            .credential
            .get_or_init(|| async {
                let source = self.credentials.clone();
                let lookup = source.credential_for(self.registry.clone());
                let what = || format!("the credential helper for {}", self.registry);
                let outcome = timeouts::announce(notice, every, what, lookup).await;
                outcome.map_err(|e| format!("{e:#}"))
            })
            .await;
        found
            .clone()
            .map_err(|detail| RegistryError::CredentialLookup {
                registry: self.registry.to_string(),
                detail,
            })
    }

    /// Whether there may be a credential to offer: one was found, or the lookup failed (its
    /// error is worth showing if a challenge comes).
    pub(crate) async fn may_have_credential(&self, transport: &Transport) -> bool {
        let notice = transport.options.notice.as_ref();
        let found = self.credential(notice, transport.options.timeouts.notice);
        !matches!(found.await, Ok(None))
    }

    /// Whether the lookup ran and found nothing: every request so far went without credentials.
    pub(crate) fn has_no_credential(&self) -> bool {
        matches!(self.credential.get(), Some(Ok(None)))
    }

    /// Answers a challenge: Basic credentials, or a bearer token for every scope we need.
    async fn answer(
        &self,
        transport: &Transport,
        state: &mut State,
        challenge: Challenge,
        credential: Option<Credential>,
    ) -> Result<(), RegistryError> {
        state.generation += 1;
        if challenge.is_basic() {
            let Some(Credential::Basic { username, password }) = &credential else {
                // Nothing was sent, so nothing was refused: say how to get credentials.
                return Err(match credential {
                    None => RegistryError::NotLoggedIn {
                        registry: self.registry.to_string(),
                    },
                    Some(_) => RegistryError::CredentialsRefused {
                        registry: self.registry.to_string(),
                        detail: Some("the registry requires a username and password".into()),
                    },
                });
            };
            let plain = state.base.as_ref().is_some_and(|b| b.scheme() == "http");
            if plain && !transport.plain_http_allowed() {
                return Err(RegistryError::PlainHttpRefused {
                    registry: self.registry.to_string(),
                });
            }
            state.auth = Some(AuthState::Basic(basic_header(username, password)));
            return Ok(());
        }
        if !challenge.is_bearer() {
            return Err(unsupported_challenge(&self.registry, &challenge));
        }
        let token = self
            .fetch_token(
                transport,
                &challenge,
                &state.scopes,
                credential.as_ref(),
                false,
            )
            .await
            .map_err(|e| match (&e, &credential) {
                // An anonymous token refused: nothing of the user's was refused.
                (RegistryError::CredentialsRefused { .. }, None) => RegistryError::NotLoggedIn {
                    registry: self.registry.to_string(),
                },
                _ => e,
            })?;
        // Renew a little early so a token never expires between our check and the registry's.
        let margin = (token.lifetime / 10).min(Duration::from_secs(10));
        let now = Instant::now();
        state.auth = Some(AuthState::Bearer {
            token: token.access,
            // Lifetimes are clamped when parsed; checked all the same, since an Instant
            // overflow panics.
            expires: now
                .checked_add(token.lifetime.saturating_sub(margin))
                .unwrap_or(now),
            challenge,
            scopes: state.scopes.clone(),
        });
        Ok(())
    }

    /// A token from the challenge's realm for `scopes`; `offline` asks for a refresh token
    /// too (`login` stores it instead of the password).
    pub(crate) async fn fetch_token(
        &self,
        transport: &Transport,
        challenge: &Challenge,
        scopes: &[Scope],
        credential: Option<&Credential>,
        offline: bool,
    ) -> Result<Token, RegistryError> {
        let realm = token::realm_of(challenge, self.registry.name())?;
        let (http, allow_plain_http) = transport.realm_client(&realm)?;
        let limits = transport.options.timeouts;
        let request = TokenRequest {
            http: &http,
            registry: self.registry.name(),
            challenge,
            scopes,
            offline,
            allow_plain_http,
            timeout: limits.attempt,
        };
        let started = Instant::now();
        let grant = match credential {
            None => Grant::Anonymous,
            Some(Credential::Basic { username, password }) => {
                Grant::Password { username, password }
            }
            Some(Credential::IdentityToken { token, .. }) => Grant::RefreshToken { token },
            Some(Credential::RegistryToken(token)) => {
                return Ok(Token {
                    access: token.clone(),
                    lifetime: Duration::from_secs(3600),
                    refresh: None,
                })
            }
        };
        let realm = challenge.param("realm").unwrap_or_default();
        let result = timeouts::announce(
            transport.options.notice.as_ref(),
            limits.notice,
            || format!("the token service {} to answer", host_of(realm)),
            request.fetch(grant),
        )
        .await;
        transport.record(
            &Method::GET,
            "token service",
            result.as_ref().ok().map(|_| 200),
            started,
        );
        result
    }
}

/// `Authorization: Basic …`, itself a secret.
pub(crate) fn basic_header(username: &str, password: &Secret) -> Secret {
    use base64::Engine;
    let raw = format!("{username}:{}", password.expose());
    Secret::new(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    ))
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
