//! One registry, one scope set: the first request goes out bare and its answer picks the
//! scheme and gives the challenge (see first_contact.rs), then requests go through the
//! [`Transport`] with the [`Session`]'s authorization, retrying temporary failures and
//! re-authenticating once on a 401. Only the registry itself may challenge us: a 401 from a
//! host a redirect led to is an error, never a reason to send credentials anywhere.

use super::auth::challenge::{parse_challenge, unsupported_challenge};
use super::auth::scope::Scope;
use super::auth::session::{basic_header, Access, Authorization, Session};
use super::error::{self, RedactedUrl, RegistryError};
use super::timeouts::Timeouts;
use super::transport::Transport;
pub use super::transport::{BodySource, ClientOptions};
use crate::credentials::{Credential, CredentialSource};
use crate::reference::Registry;
use crate::types::Secret;
use reqwest::header::HeaderMap;
use reqwest::{Method, Response, StatusCode};
use std::sync::Arc;
use std::time::Instant;

#[path = "first_contact.rs"]
mod first_contact;

pub struct RegistryClient {
    registry: Registry,
    transport: Transport,
    session: Session,
}

impl RegistryClient {
    pub fn new(
        registry: Registry,
        options: ClientOptions,
        credentials: Arc<dyn CredentialSource>,
        scopes: Vec<Scope>,
    ) -> Result<RegistryClient, RegistryError> {
        Ok(RegistryClient {
            transport: Transport::new(registry.clone(), options)?,
            session: Session::new(registry.clone(), credentials, scopes),
            registry,
        })
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// How long this client waits, for callers that read a small blob's body themselves.
    pub fn timeouts(&self) -> Timeouts {
        self.transport.options.timeouts
    }

    pub fn requests_sent(&self) -> u64 {
        self.transport.requests_sent()
    }

    /// Verifies a credential the way `docker login` does and returns the refresh token the
    /// token service handed out, if any (stored instead of the password).
    pub async fn login(&self, credential: &Credential) -> Result<Option<Secret>, RegistryError> {
        let (base, challenge) = self.ping().await?;
        let Some(challenge) = challenge else {
            return Ok(None); // The registry needs no credentials; Docker reports success too.
        };
        if challenge.is_basic() {
            let Credential::Basic { username, password } = credential else {
                return Err(RegistryError::BasicNeedsPassword {
                    registry: self.registry.to_string(),
                });
            };
            let header = basic_header(username, password);
            let url = base.join("/v2/").expect("static path");
            let response = self
                .transport
                .execute(Method::GET, &url, HeaderMap::new(), None, Some(&header))
                .await?;
            let ok = [StatusCode::OK, StatusCode::UNAUTHORIZED];
            return match error::expect("GET", response, &ok).await?.status() {
                StatusCode::OK => Ok(None),
                _ => Err(RegistryError::CredentialsRefused {
                    registry: self.registry.to_string(),
                    detail: None,
                }),
            };
        }
        if !challenge.is_bearer() {
            return Err(unsupported_challenge(&self.registry, &challenge));
        }
        let token = self
            .session
            .fetch_token(&self.transport, &challenge, &[], Some(credential), true)
            .await?;
        Ok(token.refresh)
    }

    /// Sends a request to a path under the registry (`/v2/…`) or to an absolute URL it gave us
    /// (an upload `Location`), with retries for temporary failures and one re-authentication.
    pub async fn send(
        &self,
        method: Method,
        target: &str,
        headers: HeaderMap,
        body: Option<BodySource>,
    ) -> Result<Response, RegistryError> {
        let mut attempt = 0;
        let mut reauthenticated = false;
        let started = Instant::now();
        let may_probe = first_contact::may_probe(&self.registry, &method, target, body.is_some());
        loop {
            let access = self
                .session
                .access(&self.transport, may_probe, || self.ping())
                .await?;
            let (base, generation, result) = match access {
                Access::Known(Authorization {
                    base,
                    header,
                    generation,
                }) => {
                    let url = self.url_of(&base, target)?;
                    let result = self
                        .transport
                        .follow(
                            method.clone(),
                            url,
                            &base,
                            headers.clone(),
                            body.clone(),
                            header.as_ref(),
                        )
                        .await;
                    (base, generation, result)
                }
                Access::FirstContact(contact) => {
                    match self
                        .first_contact(contact, &method, target, &headers)
                        .await?
                    {
                        Some(sent) => sent,
                        None => continue,
                    }
                }
            };
            let error = match result {
                // A redirect target (blob storage) asking for credentials gets none: only the
                // registry may start a token exchange (the class of CVE-2020-15157).
                Ok(response)
                    if response.status() == StatusCode::UNAUTHORIZED
                        && !self.transport.is_registry_origin(response.url(), &base) =>
                {
                    return Err(RegistryError::ChallengeFromRedirect {
                        method: method.to_string(),
                        url: RedactedUrl(response.url()).to_string(),
                        authority: error::authority(response.url()),
                        registry: self.registry.to_string(),
                    });
                }
                Ok(response)
                    if response.status() == StatusCode::UNAUTHORIZED && !reauthenticated =>
                {
                    reauthenticated = true;
                    let challenge = parse_challenge(&self.registry, &response)?;
                    self.session
                        .reauthenticate(&self.transport, challenge, generation)
                        .await?;
                    continue;
                }
                // Refused again after answering the challenge with nothing: the user has not
                // logged in (an anonymous token does not reach a private repository).
                Ok(response)
                    if response.status() == StatusCode::UNAUTHORIZED
                        && self.session.has_no_credential() =>
                {
                    return Err(RegistryError::NotLoggedIn {
                        registry: self.registry.to_string(),
                    });
                }
                Ok(response)
                    if error::is_temporary_status(response.status())
                        && attempt < self.transport.options.retries =>
                {
                    // A limit that asks for a longer wait than hoist gives is not retried.
                    let e = error::from_response(method.as_str(), response).await;
                    if !e.is_temporary() {
                        return Err(e);
                    }
                    e
                }
                Ok(response) => return Ok(response),
                Err(e) if e.is_temporary() && attempt < self.transport.options.retries => e,
                Err(e) => return Err(e),
            };
            attempt += 1;
            let Some(wait) = self
                .transport
                .retry_wait(attempt, started, &error, body.is_some())
            else {
                return Err(error);
            };
            let path = target.split('?').next().unwrap_or_default();
            self.transport.announce_retry(wait, &error, &method, path);
            self.transport
                .pause(wait, || format!("a retry of {method} {path}"))
                .await;
        }
    }
}
