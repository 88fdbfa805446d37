//! One registry, one scope set: pings `/v2/` to pick the scheme and learn its challenge, then
//! sends requests through the [`Transport`] with the [`Session`]'s authorization, retrying
//! temporary failures and re-authenticating once on a 401. Only the registry itself may
//! challenge us: a 401 from a host a redirect led to is an error, never a reason to send
//! credentials anywhere.

use super::auth::challenge::{parse_challenge, unsupported_challenge, Challenge};
use super::auth::scope::Scope;
use super::auth::session::{basic_header, Authorization, Session};
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

    /// `GET /v2/`: picks the scheme (HTTPS, then HTTP for loopback or `--insecure` registries,
    /// as Docker does) and returns the challenge, if any. Where plain HTTP is allowed, both
    /// attempts start together rather than paying a round trip for a failed HTTPS probe first;
    /// HTTPS's outcome still decides. Plain HTTP is used only when HTTPS failed fast (refused,
    /// or a TLS handshake error): a server that does not answer in time would not answer plain
    /// HTTP either, so a silent registry costs one deadline, not two. A ping carries no
    /// credentials, so starting the plain-HTTP one early sends nothing secret.
    async fn ping(&self) -> Result<(url::Url, Option<Challenge>), RegistryError> {
        let https = self.ping_once("https", true);
        if !self.transport.plain_http_allowed() {
            let (base, response) = https.await?;
            return self.challenge_of(base, response?).await;
        }
        // The plain-HTTP attempt stays quiet: a wait is announced once, by the HTTPS one.
        let http = self.ping_once("http", false);
        tokio::pin!(https, http);
        let mut http_done = None;
        let (base, https_result) = loop {
            tokio::select! {
                result = &mut https => break result?,
                result = &mut http, if http_done.is_none() => http_done = Some(result),
            }
        };
        let https_error = match https_result {
            Ok(response) => return self.challenge_of(base, response).await,
            Err(e) if e.is_timeout() => return Err(e),
            Err(e) => e,
        };
        let (base, http_result) = match http_done {
            Some(done) => done?,
            None => http.await?,
        };
        match http_result {
            Ok(response) => {
                let unauthorized = [StatusCode::UNAUTHORIZED];
                match error::expect_success("GET", response, &unauthorized).await {
                    Ok(response) => self.challenge_of(base, response).await,
                    // An HTTPS registry answers plain HTTP with 400; the HTTPS failure (an
                    // unknown CA, say) is the error worth showing.
                    Err(_) => Err(https_error),
                }
            }
            Err(e) if e.is_timeout() => Err(e),
            Err(_) => Err(https_error),
        }
    }

    /// One `GET /v2/` over `scheme`: the base URL, and the answer or why there was none.
    async fn ping_once(
        &self,
        scheme: &str,
        announced: bool,
    ) -> Result<(url::Url, Result<Response, RegistryError>), RegistryError> {
        let base =
            url::Url::parse(&format!("{scheme}://{}/", self.registry.api_host())).map_err(|e| {
                RegistryError::BadRegistryHost {
                    registry: self.registry.to_string(),
                    detail: e.to_string(),
                }
            })?;
        let url = base.join("/v2/").expect("static path");
        let response = self
            .transport
            .execute_with(Method::GET, &url, HeaderMap::new(), None, None, announced)
            .await;
        Ok((base, response))
    }

    /// The registry's answer to a ping: fine, or a challenge to answer; any other status is an
    /// error.
    async fn challenge_of(
        &self,
        base: url::Url,
        response: Response,
    ) -> Result<(url::Url, Option<Challenge>), RegistryError> {
        let unauthorized = [StatusCode::UNAUTHORIZED];
        let response = error::expect_success("GET", response, &unauthorized).await?;
        let challenge = match response.status() {
            StatusCode::UNAUTHORIZED => Some(parse_challenge(&self.registry, &response)?),
            _ => None,
        };
        Ok((base, challenge))
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
        loop {
            let Authorization {
                base,
                header: auth,
                generation,
            } = self
                .session
                .authorization(&self.transport, || self.ping())
                .await?;
            // Not printed: an upload location carries its state, and one that is no URL
            // cannot be redacted like one.
            let url = base.join(target).map_err(|e| RegistryError::BadUrl {
                registry: self.registry.to_string(),
                detail: e.to_string(),
            })?;
            let result = self
                .transport
                .follow(
                    method.clone(),
                    url,
                    &base,
                    headers.clone(),
                    body.clone(),
                    auth.as_ref(),
                )
                .await;
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
