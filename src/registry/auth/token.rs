//! The token service dance (distribution spec "token authentication"): GET the challenge's realm
//! with Basic credentials, or POST an OAuth2 `refresh_token` grant with an identity token.

use super::challenge::Challenge;
use super::scope::Scope;
use crate::registry::error::{self, RegistryError};
use crate::types::Secret;
use reqwest::StatusCode;
use std::time::Duration;

/// Sent as `client_id`: token services log it, and some require one.
pub const CLIENT_ID: &str = "hoist";

/// Tokens without `expires_in` last 60 s by the spec's default.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(60);

/// The longest lifetime believed. Services say "never expires" with huge numbers (Go's
/// MaxInt64, `1e19`); a day is longer than any pull or push, and a token the registry stops
/// accepting earlier is renewed on its 401 anyway.
pub const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug)]
pub struct Token {
    pub access: Secret,
    pub lifetime: Duration,
    /// Only when asked for with `offline_token=true`; `login` stores it as the identity token.
    pub refresh: Option<Secret>,
}

/// How to prove who we are to the token service.
#[derive(Debug, Clone, Copy)]
pub enum Grant<'a> {
    Anonymous,
    Password {
        username: &'a str,
        password: &'a Secret,
    },
    RefreshToken {
        token: &'a Secret,
    },
}

#[derive(serde::Deserialize)]
struct TokenBody {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    /// Read as any JSON number: a token service that answers with a fraction, or with zero or
    /// less (a clock gone wrong, an already expired token), must not make the whole answer
    /// unreadable; such values fall back to the default.
    #[serde(default)]
    expires_in: Option<f64>,
    #[serde(default)]
    refresh_token: Option<String>,
}

impl TokenBody {
    /// Clamped to 1 s ..= [`MAX_LIFETIME`], so adding it to an `Instant` cannot overflow.
    fn lifetime(&self) -> Duration {
        self.expires_in
            .filter(|s| *s >= 1.0)
            .map(|s| Duration::from_secs_f64(s.min(MAX_LIFETIME.as_secs_f64())).min(MAX_LIFETIME))
            .map(|d| Duration::from_secs(d.as_secs()))
            .unwrap_or(DEFAULT_LIFETIME)
    }
}

pub struct TokenRequest<'a> {
    pub http: &'a reqwest::Client,
    pub registry: &'a str,
    pub challenge: &'a Challenge,
    pub scopes: &'a [Scope],
    /// Ask for a refresh token too (login does, so the password need not be stored).
    pub offline: bool,
    /// The realm's host was named by `--insecure` (or is the registry's, which was): plain
    /// HTTP may carry credentials there. Loopback realms always may.
    pub allow_plain_http: bool,
    /// For the whole exchange, answer included: a token is small.
    pub timeout: Duration,
}

/// The token service a Bearer challenge names.
pub fn realm_of(challenge: &Challenge, registry: &str) -> Result<url::Url, RegistryError> {
    let realm = challenge
        .param("realm")
        .ok_or_else(|| RegistryError::NoRealm {
            registry: registry.to_string(),
        })?;
    url::Url::parse(realm).map_err(|e| RegistryError::BadRealm {
        registry: registry.to_string(),
        detail: e.to_string(),
    })
}

impl TokenRequest<'_> {
    pub async fn fetch(&self, grant: Grant<'_>) -> Result<Token, RegistryError> {
        let realm = realm_of(self.challenge, self.registry)?;
        if !matches!(grant, Grant::Anonymous)
            && realm.scheme() != "https"
            && !self.may_send_secrets(&realm)
        {
            // `--insecure` names host[:port]: the hint must be a value that works.
            return Err(RegistryError::PlainHttpRealmRefused {
                realm: error::RedactedUrl(&realm).to_string(),
                authority: error::authority(&realm),
            });
        }
        let (method, response) = match grant {
            Grant::RefreshToken { token } => ("POST", self.post_refresh(&realm, token).await?),
            _ => ("GET", self.get(&realm, grant).await?),
        };
        // With credentials, 401 and 403 refuse them; a refresh token the service no longer
        // knows is refused like a bad password, with a 400.
        let refused: &[StatusCode] = match grant {
            Grant::Anonymous => &[],
            Grant::Password { .. } => &[StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN],
            Grant::RefreshToken { .. } => &[
                StatusCode::UNAUTHORIZED,
                StatusCode::FORBIDDEN,
                StatusCode::BAD_REQUEST,
            ],
        };
        let ok: Vec<StatusCode> = [StatusCode::OK].iter().chain(refused).copied().collect();
        let response = error::expect(method, response, &ok).await?;
        if response.status() != StatusCode::OK {
            let body = error::read_limited(response, 4096).await;
            return Err(RegistryError::CredentialsRefused {
                registry: self.registry.to_string(),
                detail: token_error_detail(&body),
            });
        }
        let url = error::RedactedUrl(response.url()).to_string();
        let body = error::read_limited(response, 1024 * 1024).await;
        let body: TokenBody =
            serde_json::from_slice(&body).map_err(|e| RegistryError::BadTokenResponse {
                method: method.to_string(),
                url: url.clone(),
                detail: e.to_string(),
            })?;
        let lifetime = body.lifetime();
        let access = body
            .token
            .filter(|t| !t.is_empty())
            .or(body.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| RegistryError::NoToken {
                method: method.to_string(),
                url,
            })?;
        Ok(Token {
            access: Secret::new(access),
            lifetime,
            refresh: body
                .refresh_token
                .filter(|t| !t.is_empty())
                .map(Secret::new),
        })
    }

    fn may_send_secrets(&self, realm: &url::Url) -> bool {
        self.allow_plain_http || crate::registry::trust::is_loopback(&error::authority(realm))
    }

    async fn get(
        &self,
        realm: &url::Url,
        grant: Grant<'_>,
    ) -> Result<reqwest::Response, RegistryError> {
        let mut url = realm.clone();
        {
            let mut q = url.query_pairs_mut();
            if let Some(service) = self.challenge.param("service") {
                q.append_pair("service", service);
            }
            for scope in self.scopes {
                q.append_pair("scope", &scope.to_string());
            }
            q.append_pair("client_id", CLIENT_ID);
            if let Grant::Password { username, .. } = grant {
                q.append_pair("account", username);
                if self.offline {
                    q.append_pair("offline_token", "true");
                }
            }
        }
        let mut request = self.http.get(url.clone()).timeout(self.timeout);
        if let Grant::Password { username, password } = grant {
            request = request.basic_auth(username, Some(password.expose()));
        }
        request
            .send()
            .await
            .map_err(|source| RegistryError::transport("GET", &url, source))
    }

    async fn post_refresh(
        &self,
        realm: &url::Url,
        token: &Secret,
    ) -> Result<reqwest::Response, RegistryError> {
        let scope = self
            .scopes
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(" ");
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", token.expose()),
            ("client_id", CLIENT_ID),
            ("access_type", "offline"),
            ("scope", scope.as_str()),
        ];
        if let Some(service) = self.challenge.param("service") {
            form.push(("service", service));
        }
        self.http
            .post(realm.clone())
            .timeout(self.timeout)
            .form(&form)
            .send()
            .await
            .map_err(|source| RegistryError::transport("POST", realm, source))
    }
}

/// Token services explain refusals as `{"details": …}`, `{"error_description": …}` or the
/// registry envelope; show whichever is there.
fn token_error_detail(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    for key in ["details", "error_description", "error", "message"] {
        if let Some(s) = value.get(key).and_then(|v| v.as_str()) {
            return Some(s.to_string());
        }
    }
    value
        .get("errors")?
        .get(0)?
        .get("message")?
        .as_str()
        .map(str::to_string)
}

/// What a token answer's body yields, parsed as [`TokenRequest::fetch`] does: for the fuzz
/// target, which checks that no body gives a lifetime out of bounds.
#[doc(hidden)]
pub fn parse_lifetime(body: &[u8]) -> Option<Duration> {
    serde_json::from_slice::<TokenBody>(body)
        .ok()
        .map(|b| b.lifetime())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_expires_in_is_readable() {
        let lifetime = |json: &str| serde_json::from_str::<TokenBody>(json).unwrap().lifetime();
        assert_eq!(
            lifetime(r#"{"token":"t","expires_in":300}"#),
            Duration::from_secs(300)
        );
        assert_eq!(
            lifetime(r#"{"token":"t","expires_in":90.5}"#),
            Duration::from_secs(90)
        );
        assert_eq!(
            lifetime(r#"{"token":"t","expires_in":-120}"#),
            DEFAULT_LIFETIME
        );
        assert_eq!(
            lifetime(r#"{"token":"t","expires_in":0}"#),
            DEFAULT_LIFETIME
        );
        assert_eq!(lifetime(r#"{"token":"t"}"#), DEFAULT_LIFETIME);
        // "Never expires", as Go's MaxInt64 or a float beyond u64: a day, not a panic.
        for huge in ["9223372036854775807", "1e19", "1.7976931348623157e308"] {
            let json = format!(r#"{{"token":"t","expires_in":{huge}}}"#);
            assert_eq!(lifetime(&json), MAX_LIFETIME, "{huge}");
        }
    }

    #[test]
    fn token_error_details() {
        assert_eq!(
            token_error_detail(br#"{"details":"incorrect username or password"}"#).as_deref(),
            Some("incorrect username or password")
        );
        assert_eq!(
            token_error_detail(br#"{"error":"invalid_grant"}"#).as_deref(),
            Some("invalid_grant")
        );
        assert_eq!(
            token_error_detail(br#"{"errors":[{"code":"UNAUTHORIZED","message":"bad"}]}"#)
                .as_deref(),
            Some("bad")
        );
        assert_eq!(token_error_detail(b"<html>"), None);
    }
}
