//! One registry, one scope set, one token: pings `/v2/`, answers its challenge, and sends
//! requests with retries, re-authentication on 401, and redirects that never carry
//! `Authorization` to another host. Only the registry itself may challenge us: a 401 from a
//! host a redirect led to is an error, never a reason to send credentials anywhere.

use super::challenge::{parse_challenge, unsupported_challenge, Challenge};
use super::error::{self, RedactedUrl, RegistryError};
use super::scope::{self, Scope};
use super::timeouts::{self, backoff, host_of, Notice, Timeouts};
use super::token::{self, Grant, Token, TokenRequest};
use super::trust::{self, HostPolicy};
use crate::credentials::{Credential, CredentialSource};
use crate::reference::Registry;
use crate::types::Secret;
use futures_util::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, LOCATION};
use reqwest::{Method, Response, StatusCode};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A request body that can be produced again: a retried upload re-opens its file rather than
/// replaying a consumed stream.
pub type BodySource =
    Arc<dyn Fn() -> BoxFuture<'static, std::io::Result<reqwest::Body>> + Send + Sync>;

/// What `--debug` shows of each request: never headers or bodies, so never a secret.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    pub method: Method,
    pub url: String,
    pub status: Option<u16>,
    pub elapsed: Duration,
}

pub type RequestLog = Arc<dyn Fn(&RequestRecord) + Send + Sync>;

#[derive(Clone)]
pub struct ClientOptions {
    /// The user named this registry in `--insecure`: plain HTTP and unverified TLS allowed.
    pub insecure: bool,
    /// Extra CA certificates (PEM) trusted for this registry (`certs.d/HOST/*.crt`).
    pub ca_certs: Vec<Vec<u8>>,
    /// Client certificate and key, PEM concatenated (`certs.d/HOST/client.cert` + `client.key`).
    pub client_identity: Option<Vec<u8>>,
    pub retries: u32,
    pub log: Option<RequestLog>,
    /// TLS settings of every other host (a token realm elsewhere): never the registry's.
    pub hosts: Arc<dyn HostPolicy>,
    pub timeouts: Timeouts,
    /// Told what hoist waits for when a wait passes a few seconds.
    pub notice: Option<Notice>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            insecure: false,
            ca_certs: Vec::new(),
            client_identity: None,
            retries: 4,
            log: None,
            hosts: trust::system_trust_only(),
            timeouts: Timeouts::default(),
            notice: None,
        }
    }
}

/// What `/v2/` asked for, and what we currently send in answer.
enum AuthState {
    /// `/v2/` answered 200: no credentials needed (until a 401 says otherwise).
    Open,
    /// `/v2/` asked for credentials; not answered yet.
    Challenged(Challenge),
    Basic(Secret),
    Bearer {
        token: Secret,
        expires: Instant,
        challenge: Challenge,
    },
}

struct State {
    base: Option<url::Url>,
    auth: Option<AuthState>,
    /// Bumped at each new token so concurrent 401s re-authenticate once, not once each.
    generation: u64,
    scopes: Vec<Scope>,
}

/// The credential lookup's outcome, shared by every request that needs it.
type LookedUp = Result<Option<Credential>, String>;

pub struct RegistryClient {
    registry: Registry,
    http: reqwest::Client,
    options: ClientOptions,
    credentials: Arc<dyn CredentialSource>,
    /// Looked up once, when the first challenge arrives, outside the state lock.
    credential: tokio::sync::OnceCell<LookedUp>,
    state: tokio::sync::Mutex<State>,
    /// Clients for token realms on other hosts, each with that host's own TLS settings, and
    /// whether that host allows plain HTTP.
    realm_clients: Mutex<HashMap<String, (reqwest::Client, bool)>>,
    /// Counts requests sent, for `--debug` summaries and tests of round trips.
    sent: Mutex<u64>,
}

const USER_AGENT: &str = concat!("hoist/", env!("CARGO_PKG_VERSION"));

impl RegistryClient {
    pub fn new(
        registry: Registry,
        options: ClientOptions,
        credentials: Arc<dyn CredentialSource>,
        scopes: Vec<Scope>,
    ) -> Result<RegistryClient, RegistryError> {
        let http = build_http(&options)?;
        Ok(RegistryClient {
            registry,
            http,
            options,
            credentials,
            credential: tokio::sync::OnceCell::new(),
            state: tokio::sync::Mutex::new(State {
                base: None,
                auth: None,
                generation: 0,
                scopes: scope::merge(scopes),
            }),
            realm_clients: Mutex::new(HashMap::new()),
            sent: Mutex::new(0),
        })
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// How long this client waits, for callers that read a small blob's body themselves.
    pub fn timeouts(&self) -> Timeouts {
        self.options.timeouts
    }

    pub fn requests_sent(&self) -> u64 {
        *self.sent.lock().unwrap()
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
            .fetch_token(&challenge, &[], Some(credential), true)
            .await?;
        Ok(token.refresh)
    }

    /// `GET /v2/`: picks the scheme (HTTPS, then HTTP for loopback or `--insecure` registries,
    /// as Docker does) and returns the challenge, if any. Plain HTTP is tried only when HTTPS
    /// failed fast (refused, or a TLS handshake error): a server that does not answer in time
    /// would not answer plain HTTP either, and waiting twice doubles the silence.
    async fn ping(&self) -> Result<(url::Url, Option<Challenge>), RegistryError> {
        let schemes: &[&str] = if self.options.insecure || self.registry.is_loopback() {
            &["https", "http"]
        } else {
            &["https"]
        };
        let mut https_error = None;
        for scheme in schemes {
            let base = url::Url::parse(&format!("{scheme}://{}/", self.registry.api_host()))
                .map_err(|e| RegistryError::BadRegistryHost {
                    registry: self.registry.to_string(),
                    detail: e.to_string(),
                })?;
            let url = base.join("/v2/").expect("static path");
            match self
                .execute(Method::GET, &url, HeaderMap::new(), None, None)
                .await
            {
                Ok(response) => {
                    let unauthorized = [StatusCode::UNAUTHORIZED];
                    let response = match error::expect_success("GET", response, &unauthorized).await
                    {
                        Ok(response) => response,
                        // An HTTPS registry answers our plain-HTTP fallback with 400; the
                        // HTTPS failure (an unknown CA, say) is the error worth showing.
                        Err(_) if https_error.is_some() => break,
                        Err(e) => return Err(e),
                    };
                    let challenge = match response.status() {
                        StatusCode::UNAUTHORIZED => {
                            Some(parse_challenge(&self.registry, &response)?)
                        }
                        _ => None,
                    };
                    return Ok((base, challenge));
                }
                Err(e) if e.is_timeout() => return Err(e),
                Err(e) if https_error.is_none() => https_error = Some(e),
                Err(_) => break,
            }
        }
        Err(https_error.expect("at least one scheme tried"))
    }

    /// The base URL and the Authorization header to use now, authenticating first if needed.
    async fn authorization(&self) -> Result<(url::Url, Option<Secret>, u64), RegistryError> {
        loop {
            let mut state = self.state.lock().await;
            if state.base.is_none() {
                let (base, challenge) = self.ping().await?;
                state.base = Some(base);
                state.auth = Some(match challenge {
                    None => AuthState::Open,
                    Some(c) => AuthState::Challenged(c),
                });
            }
            let due = match &state.auth {
                Some(AuthState::Challenged(challenge)) => Some(challenge.clone()),
                Some(AuthState::Bearer {
                    expires, challenge, ..
                }) if Instant::now() >= *expires => Some(challenge.clone()),
                _ => None,
            };
            if let Some(challenge) = due {
                // A credential helper may take its time: never run it with the state locked.
                let Some(credential) = self.credential.get() else {
                    drop(state);
                    self.credential().await?;
                    continue;
                };
                let credential =
                    credential
                        .clone()
                        .map_err(|detail| RegistryError::CredentialLookup {
                            registry: self.registry.to_string(),
                            detail,
                        })?;
                self.answer(&mut state, challenge, credential).await?;
            }
            let header = match &state.auth {
                Some(AuthState::Basic(h)) => Some(h.clone()),
                Some(AuthState::Bearer { token, .. }) => {
                    Some(Secret::new(format!("Bearer {}", token.expose())))
                }
                _ => None,
            };
            return Ok((
                state.base.clone().expect("set above"),
                header,
                state.generation,
            ));
        }
    }

    /// The registry's credential, looked up once: concurrent requests share the one lookup,
    /// which runs on a blocking thread since a credential helper is a process that may hang.
    async fn credential(&self) -> Result<Option<Credential>, RegistryError> {
        let found = self
            .credential
            .get_or_init(|| async {
                let source = self.credentials.clone();
                let registry = self.registry.clone();
                let outcome =
                    tokio::task::spawn_blocking(move || source.credential_for(&registry)).await;
                match outcome {
                    Ok(Ok(found)) => Ok(found),
                    Ok(Err(e)) => Err(format!("{e:#}")),
                    Err(e) => Err(e.to_string()),
                }
            })
            .await;
        found
            .clone()
            .map_err(|detail| RegistryError::CredentialLookup {
                registry: self.registry.to_string(),
                detail,
            })
    }

    /// Answers a challenge: Basic credentials, or a bearer token for every scope we need.
    async fn answer(
        &self,
        state: &mut State,
        challenge: Challenge,
        credential: Option<Credential>,
    ) -> Result<(), RegistryError> {
        if let Some(extra) = challenge.param("scope") {
            state.scopes = scope::merge(state.scopes.drain(..).chain(scope::parse_list(extra)));
        }
        state.generation += 1;
        if challenge.is_basic() {
            let Some(Credential::Basic { username, password }) = &credential else {
                return Err(RegistryError::CredentialsRefused {
                    registry: self.registry.to_string(),
                    detail: Some("the registry requires a username and password".into()),
                });
            };
            self.check_plain_http(state.base.as_ref())?;
            state.auth = Some(AuthState::Basic(basic_header(username, password)));
            return Ok(());
        }
        if !challenge.is_bearer() {
            return Err(unsupported_challenge(&self.registry, &challenge));
        }
        let token = self
            .fetch_token(&challenge, &state.scopes, credential.as_ref(), false)
            .await?;
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
        });
        Ok(())
    }

    async fn fetch_token(
        &self,
        challenge: &Challenge,
        scopes: &[Scope],
        credential: Option<&Credential>,
        offline: bool,
    ) -> Result<Token, RegistryError> {
        let realm = token::realm_of(challenge, self.registry.name())?;
        let (http, allow_plain_http) = self.realm_client(&realm)?;
        let request = TokenRequest {
            http: &http,
            registry: self.registry.name(),
            challenge,
            scopes,
            offline,
            allow_plain_http,
            timeout: self.options.timeouts.attempt,
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
            self.options.notice.as_ref(),
            self.options.timeouts.notice,
            || format!("the token service {} to answer", host_of(realm)),
            request.fetch(grant),
        )
        .await;
        self.record(
            &Method::GET,
            "token service",
            result.as_ref().ok().map(|_| 200),
            started,
        );
        result
    }

    /// The client for a token realm, and whether plain HTTP may carry credentials to it: the
    /// registry's own for a realm on the registry's host and port, else one built with the
    /// realm host's own TLS settings (`--insecure` for the registry does not reach it).
    fn realm_client(&self, realm: &url::Url) -> Result<(reqwest::Client, bool), RegistryError> {
        let authority = error::authority(realm);
        if authority == self.registry.api_host() {
            return Ok((self.http.clone(), self.plain_http_allowed()));
        }
        let mut clients = self.realm_clients.lock().unwrap();
        if let Some(found) = clients.get(&authority) {
            return Ok(found.clone());
        }
        let tls = self
            .options
            .hosts
            .tls_for(&authority)
            .map_err(|e| RegistryError::RealmTls {
                authority: authority.clone(),
                detail: e.to_string(),
            })?;
        let options = ClientOptions {
            insecure: tls.insecure,
            ca_certs: tls.ca_certs,
            client_identity: tls.client_identity,
            ..self.options.clone()
        };
        let client = (build_http(&options)?, tls.insecure);
        clients.insert(authority, client.clone());
        Ok(client)
    }

    /// Loopback registries and those named by `--insecure` may be spoken to over plain HTTP.
    fn plain_http_allowed(&self) -> bool {
        self.options.insecure || self.registry.is_loopback()
    }

    fn check_plain_http(&self, base: Option<&url::Url>) -> Result<(), RegistryError> {
        let plain = base.map(|b| b.scheme() == "http").unwrap_or(false);
        if plain && !self.plain_http_allowed() {
            return Err(RegistryError::PlainHttpRefused {
                registry: self.registry.to_string(),
            });
        }
        Ok(())
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
            let (base, auth, generation) = self.authorization().await?;
            // Not printed: an upload location carries its state, and one that is no URL
            // cannot be redacted like one.
            let url = base.join(target).map_err(|e| RegistryError::BadUrl {
                registry: self.registry.to_string(),
                detail: e.to_string(),
            })?;
            let result = self
                .execute_following(
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
                        && !self.is_registry_origin(response.url(), &base) =>
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
                    let credential = self.credential().await?;
                    let mut state = self.state.lock().await;
                    if state.generation == generation {
                        self.answer(&mut state, challenge, credential).await?;
                    }
                    continue;
                }
                Ok(response)
                    if error::is_temporary_status(response.status())
                        && attempt < self.options.retries =>
                {
                    error::from_response(method.as_str(), response).await
                }
                Ok(response) => return Ok(response),
                Err(e) if e.is_temporary() && attempt < self.options.retries => e,
                Err(e) => return Err(e),
            };
            attempt += 1;
            let wait = backoff(attempt, error.retry_after());
            // A small request with its retries stays within `timeouts.request`: retry only
            // when a whole attempt still fits. An upload's time is its body's, not the server's.
            let limits = &self.options.timeouts;
            if body.is_none()
                && !timeouts::is_streamed()
                && started.elapsed() + wait + limits.attempt > limits.request
            {
                return Err(error);
            }
            timeouts::announce(
                self.options.notice.as_ref(),
                limits.notice,
                || {
                    let path = target.split('?').next().unwrap_or_default();
                    format!("a retry of {method} {path}")
                },
                tokio::time::sleep(wait),
            )
            .await;
        }
    }

    /// Whether `url` is the registry itself (see [`trust::is_registry_origin`]).
    fn is_registry_origin(&self, url: &url::Url, base: &url::Url) -> bool {
        trust::is_registry_origin(url, base, self.plain_http_allowed())
    }

    /// Follows redirects by hand: `Authorization` goes only to the registry's own scheme, host
    /// and port, never to the object store a blob download is sent to, nor down to plain HTTP
    /// unless the registry allows it.
    async fn execute_following(
        &self,
        method: Method,
        mut url: url::Url,
        base: &url::Url,
        headers: HeaderMap,
        body: Option<BodySource>,
        auth: Option<&Secret>,
    ) -> Result<Response, RegistryError> {
        for _ in 0..10 {
            let same_host = self.is_registry_origin(&url, base);
            let response = self
                .execute(
                    method.clone(),
                    &url,
                    headers.clone(),
                    body.clone(),
                    auth.filter(|_| same_host),
                )
                .await?;
            if !response.status().is_redirection() || !matches!(method, Method::GET | Method::HEAD)
            {
                return Ok(response);
            }
            let Some(location) = response
                .headers()
                .get(LOCATION)
                .and_then(|l| l.to_str().ok())
            else {
                return Ok(response);
            };
            url = url.join(location).map_err(|e| RegistryError::BadRedirect {
                from: RedactedUrl(&url).to_string(),
                detail: e.to_string(),
            })?;
        }
        Err(RegistryError::RedirectLoop {
            registry: self.registry.to_string(),
        })
    }

    async fn execute(
        &self,
        method: Method,
        url: &url::Url,
        headers: HeaderMap,
        body: Option<BodySource>,
        auth: Option<&Secret>,
    ) -> Result<Response, RegistryError> {
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .headers(headers);
        if let Some(auth) = auth {
            let mut value =
                HeaderValue::from_str(auth.expose()).map_err(|_| RegistryError::BadHeaderValue)?;
            value.set_sensitive(true);
            request = request.header(AUTHORIZATION, value);
        }
        let has_body = body.is_some();
        if let Some(body) = body {
            let body = body().await.map_err(|e| RegistryError::UploadBody {
                method: method.to_string(),
                url: RedactedUrl(url).to_string(),
                detail: e.to_string(),
            })?;
            request = request.body(body);
        }
        let limits = self.options.timeouts;
        let started = Instant::now();
        *self.sent.lock().unwrap() += 1;
        let work = timeouts::attempt(request, has_body, limits, &method, url);
        let result = timeouts::announce(
            self.options.notice.as_ref(),
            limits.notice,
            || {
                format!(
                    "{} to answer {method} {}",
                    host_of(url.as_str()),
                    url.path()
                )
            },
            work,
        )
        .await;
        self.record(
            &method,
            &RedactedUrl(url).to_string(),
            result.as_ref().ok().map(|r| r.status().as_u16()),
            started,
        );
        result
    }

    fn record(&self, method: &Method, url: &str, status: Option<u16>, started: Instant) {
        if let Some(log) = &self.options.log {
            log(&RequestRecord {
                method: method.clone(),
                url: url.to_string(),
                status,
                elapsed: started.elapsed(),
            });
        }
    }
}

fn build_http(options: &ClientOptions) -> Result<reqwest::Client, RegistryError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(options.timeouts.connect)
        .read_timeout(options.timeouts.idle)
        .pool_max_idle_per_host(16)
        .danger_accept_invalid_certs(options.insecure);
    for pem in &options.ca_certs {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
            RegistryError::BadCaCertificate {
                detail: e.to_string(),
            }
        })?;
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    if let Some(pem) = &options.client_identity {
        let identity =
            reqwest::Identity::from_pem(pem).map_err(|e| RegistryError::BadClientIdentity {
                detail: e.to_string(),
            })?;
        builder = builder.identity(identity);
    }
    builder.build().map_err(|e| RegistryError::HttpsSetup {
        detail: e.to_string(),
    })
}

fn basic_header(username: &str, password: &Secret) -> Secret {
    use base64::Engine;
    let raw = format!("{username}:{}", password.expose());
    Secret::new(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    ))
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
