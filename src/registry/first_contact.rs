//! A registry's first contact: the first request goes out bare, over HTTPS or over both
//! schemes at once, and its answer picks the scheme and gives the challenge, so no `/v2/` ping
//! costs a round trip before the real work. `/v2/` is still asked where an answer proves
//! nothing, for login, and before an upload.

use super::RegistryClient;
use crate::reference::Registry;
use crate::registry::auth::challenge::{parse_challenge, Challenge};
use crate::registry::auth::session::FirstContact;
use crate::registry::error::{self, RegistryError};
use crate::registry::timeouts::Notice;
use reqwest::header::HeaderMap;
use reqwest::{Method, Response, StatusCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A request's base URL, the token generation it was sent with, and its outcome.
pub(super) type Sent = (url::Url, u64, Result<Response, RegistryError>);

/// A bare request's outcome over either scheme, with HTTPS's error when plain HTTP answered in
/// its place: the error worth showing if that answer turns out not to be the registry's.
struct Raced {
    base: url::Url,
    result: Result<Response, RegistryError>,
    https_error: Option<RegistryError>,
}

impl Raced {
    fn over(base: url::Url, result: Result<Response, RegistryError>) -> Raced {
        Raced {
            base,
            result,
            https_error: None,
        }
    }
}

/// Whether a request may be a registry's first contact: one safe to send bare, and twice (once
/// per scheme). Docker Hub challenges every stranger, so a probe gains nothing there, and it
/// counts manifest GETs against the pull limit: its first contact stays `/v2/`.
pub(super) fn may_probe(
    registry: &Registry,
    method: &Method,
    target: &str,
    has_body: bool,
) -> bool {
    let counted =
        registry.is_docker_hub() && method == Method::GET && target.contains("/manifests/");
    !has_body && matches!(*method, Method::GET | Method::HEAD) && !counted
}

/// What a registry answers `/v2/` with: fine, or a challenge.
fn is_registry_answer(status: StatusCode) -> bool {
    status.is_success() || status == StatusCode::UNAUTHORIZED
}

impl RegistryClient {
    /// `GET /v2/`: the scheme (see [`Self::over_either_scheme`]) and the challenge, if any.
    /// Login pings, and so does a request that cannot be the first contact (an upload).
    pub(super) async fn ping(&self) -> Result<(url::Url, Option<Challenge>), RegistryError> {
        let raced = self
            .over_either_scheme(Method::GET, "/v2/", HeaderMap::new())
            .await?;
        let response = raced.result?;
        match raced.https_error {
            Some(e) if !is_registry_answer(response.status()) => Err(e),
            _ => self.challenge_of(raced.base, response).await,
        }
    }

    /// `GET /v2/` at `base` alone: the challenge, if any.
    async fn ping_at(&self, base: &url::Url) -> Result<Option<Challenge>, RegistryError> {
        let (base, response) = self
            .bare(base.scheme(), &Method::GET, "/v2/", &HeaderMap::new(), None)
            .await?;
        Ok(self.challenge_of(base, response?).await?.1)
    }

    /// Sends a bare request (no credentials, no body) over HTTPS or, where plain HTTP is
    /// allowed (loopback or `--insecure`, as Docker does), over HTTPS and plain HTTP at once,
    /// rather than paying a round trip for a failed HTTPS attempt first. HTTPS's outcome
    /// decides: plain HTTP's answer is taken only when HTTPS failed fast (refused, or a TLS
    /// handshake error). A server that does not answer in time would not answer plain HTTP
    /// either, so a silent registry costs one deadline, not two.
    async fn over_either_scheme(
        &self,
        method: Method,
        target: &str,
        headers: HeaderMap,
    ) -> Result<Raced, RegistryError> {
        let notice = self.transport.options.notice.clone();
        let https = self.bare("https", &method, target, &headers, notice.as_ref());
        if !self.transport.plain_http_allowed() {
            let (base, result) = https.await?;
            return Ok(Raced::over(base, result));
        }
        // The plain-HTTP attempt speaks of a long wait only once it is the one left.
        let https_failed = Arc::new(AtomicBool::new(false));
        let quiet = notice.clone().map(|notice| -> Notice {
            let https_failed = https_failed.clone();
            Arc::new(move |line: &str| {
                if https_failed.load(Ordering::Relaxed) {
                    notice(line)
                }
            })
        });
        let http = self.bare("http", &method, target, &headers, quiet.as_ref());
        tokio::pin!(https, http);
        let mut http_done = None;
        let (base, https_result) = loop {
            tokio::select! {
                result = &mut https => break result?,
                result = &mut http, if http_done.is_none() => http_done = Some(result),
            }
        };
        let https_error = match https_result {
            Err(e) if !e.is_timeout() => e,
            answered => return Ok(Raced::over(base, answered)),
        };
        https_failed.store(true, Ordering::Relaxed);
        let (http_base, http_result) = match http_done {
            Some(done) => done?,
            None => http.await?,
        };
        Ok(match http_result {
            Ok(response) => Raced {
                base: http_base,
                result: Ok(response),
                https_error: Some(https_error),
            },
            Err(e) if e.is_timeout() => Raced::over(http_base, Err(e)),
            Err(_) => Raced::over(base, Err(https_error)),
        })
    }

    /// One bare request over `scheme`, following redirects: the base URL, and the answer or
    /// why there was none.
    async fn bare(
        &self,
        scheme: &str,
        method: &Method,
        target: &str,
        headers: &HeaderMap,
        notice: Option<&Notice>,
    ) -> Result<(url::Url, Result<Response, RegistryError>), RegistryError> {
        let base =
            url::Url::parse(&format!("{scheme}://{}/", self.registry.api_host())).map_err(|e| {
                RegistryError::BadRegistryHost {
                    registry: self.registry.to_string(),
                    detail: e.to_string(),
                }
            })?;
        let url = self.url_of(&base, target)?;
        let (method, headers) = (method.clone(), headers.clone());
        let response = self
            .transport
            .follow_with(method, url, &base, headers, None, None, notice)
            .await;
        Ok((base, response))
    }

    pub(super) fn url_of(&self, base: &url::Url, target: &str) -> Result<url::Url, RegistryError> {
        // Not printed: an upload location carries its state, and one that is no URL cannot be
        // redacted like one.
        base.join(target).map_err(|e| RegistryError::BadUrl {
            registry: self.registry.to_string(),
            detail: e.to_string(),
        })
    }

    /// Sends the first request to this registry bare, over either scheme, and learns from its
    /// answer, so that no `/v2/` ping costs a round trip first. A 401 is the challenge: the
    /// caller answers it and sends again, as after a ping (`None`). Any other lasting answer
    /// means no credentials are needed, but two prove nothing, and then `/v2/` decides, as it
    /// did before every command: a 403 or 404 when there are credentials to offer, and a
    /// plain-HTTP 400 when HTTPS failed. So does a ping sent beside a first request still
    /// unanswered after a few seconds. No answer at all, to either, is final, as
    /// a failed ping was: an unreachable registry costs one deadline, not a round of retries.
    pub(super) async fn first_contact(
        &self,
        contact: FirstContact<'_>,
        method: &Method,
        target: &str,
        headers: &HeaderMap,
    ) -> Result<Option<Sent>, RegistryError> {
        let probe = self.over_either_scheme(method.clone(), target, headers.clone());
        tokio::pin!(probe);
        let patience = self.transport.options.timeouts.notice;
        let early = tokio::select! {
            raced = &mut probe => Some(raced?),
            _ = tokio::time::sleep(patience) => None,
        };
        let raced = match early {
            Some(raced) => raced,
            None => {
                // One slow request must not hold back every other one: `/v2/` decides beside it.
                let ping = self.ping();
                tokio::pin!(ping);
                let pinged = tokio::select! {
                    raced = &mut probe => Err(raced?),
                    pinged = &mut ping => Ok(pinged),
                };
                match pinged {
                    Err(raced) => raced,
                    Ok(Ok((base, challenge))) => {
                        let asked = challenge.is_some();
                        let generation = contact.learn(base, challenge);
                        let raced = probe.await?;
                        // A refusal of the bare request is no answer where credentials are
                        // asked for: it goes again with them.
                        let refused = raced
                            .result
                            .as_ref()
                            .is_ok_and(|r| !r.status().is_success());
                        if asked && refused {
                            return Ok(None);
                        }
                        return Ok(Some((raced.base, generation, raced.result)));
                    }
                    // No answer to `/v2/` either: the probe's own outcome decides.
                    Ok(Err(_)) => probe.await?,
                }
            }
        };
        let (base, response) = match raced.result {
            Ok(response) => (raced.base, response),
            Err(e) if e.is_unreachable() => return Err(e),
            // An answer begun and broken: retried like any other request, and probing again.
            Err(e) => return Ok(Some((raced.base, 0, Err(e)))),
        };
        let status = response.status();
        let from_registry = self.transport.is_registry_origin(response.url(), &base);
        if from_registry && status == StatusCode::UNAUTHORIZED {
            contact.learn(base, Some(parse_challenge(&self.registry, &response)?));
            return Ok(None);
        }
        // Blob storage a redirect led to says nothing of the registry's own authentication.
        let open = status.is_success() || !from_registry;
        // An HTTPS server answers plain HTTP with 400: is this plain-HTTP answer the registry's?
        let doubtful = status == StatusCode::BAD_REQUEST && raced.https_error.is_some();
        // A registry may hide a private repository from strangers with a 403 or 404. That
        // matters only with credentials to offer: a challenge would bring nothing otherwise.
        // (The lookup holds back no one: every other request waits on this first contact.)
        let hiding = matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND)
            && self.session.may_have_credential(&self.transport).await;
        if !doubtful && !hiding {
            // A temporary failure teaches nothing; it is retried, and the next request probes.
            if !open && error::is_temporary_status(status) {
                return Ok(Some((base, 0, Ok(response))));
            }
            let generation = contact.learn(base.clone(), None);
            return Ok(Some((base, generation, Ok(response))));
        }
        let challenge = match self.ping_at(&base).await {
            Ok(challenge) => challenge,
            Err(e) => return Err(raced.https_error.unwrap_or(e)),
        };
        let asked = challenge.is_some();
        let generation = contact.learn(base.clone(), challenge);
        Ok((!asked).then_some((base, generation, Ok(response))))
    }

    /// The registry's answer to a ping: fine, or a challenge to answer; any other status is an
    /// error.
    pub(super) async fn challenge_of(
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bare_safe_requests_probe_and_no_counted_pull_does() {
        let hub = Registry::new("docker.io");
        let other = Registry::new("registry.example");
        let manifest = "/v2/library/alpine/manifests/latest";
        assert!(may_probe(&other, &Method::GET, manifest, false));
        assert!(may_probe(&other, &Method::HEAD, manifest, false));
        assert!(!may_probe(
            &other,
            &Method::POST,
            "/v2/a/blobs/uploads/",
            false
        ));
        assert!(!may_probe(&other, &Method::GET, manifest, true));
        // Docker Hub counts manifest GETs, and would only challenge the bare one.
        assert!(!may_probe(&hub, &Method::GET, manifest, false));
        assert!(may_probe(&hub, &Method::HEAD, manifest, false));
        assert!(may_probe(
            &hub,
            &Method::GET,
            "/v2/library/alpine/tags/list",
            false
        ));
    }
}
