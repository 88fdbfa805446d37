//! `WWW-Authenticate` parsing (RFC 7235): `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`.
//! Registries send one challenge; some proxies send several, comma-separated, so all are parsed.

use crate::reference::Registry;
use crate::registry::error::RegistryError;
use reqwest::header::WWW_AUTHENTICATE;
use reqwest::Response;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// Lowercased: `basic` or `bearer` (anything else is kept but unusable).
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    pub fn is_bearer(&self) -> bool {
        self.scheme == "bearer"
    }

    pub fn is_basic(&self) -> bool {
        self.scheme == "basic"
    }
}

/// Parses every challenge in a header value; malformed pieces are skipped rather than fatal,
/// since a registry that garbles one parameter should still be usable.
pub fn parse(header: &str) -> Vec<Challenge> {
    let mut challenges: Vec<Challenge> = Vec::new();
    let mut rest = header.trim_start();
    while !rest.is_empty() {
        // Either `scheme [params]` starts here, or another `name=value` of the current challenge.
        let token_len = rest.find([' ', ',', '=']).unwrap_or(rest.len());
        let token = &rest[..token_len];
        let after = &rest[token_len..];
        if after.trim_start().starts_with('=') && !challenges.is_empty() && !token.is_empty() {
            let value_start = after.trim_start()[1..].trim_start();
            let (value, remaining) = parse_value(value_start);
            if let Some(current) = challenges.last_mut() {
                current.params.insert(token.to_ascii_lowercase(), value);
            }
            rest = remaining;
        } else if !token.is_empty() {
            challenges.push(Challenge {
                scheme: token.to_ascii_lowercase(),
                params: BTreeMap::new(),
            });
            rest = after;
        } else {
            rest = &rest[1..];
        }
        rest = rest.trim_start_matches([' ', ',', '\t']);
    }
    challenges
}

/// A quoted-string (with `\` escapes) or a bare token; returns the value and what follows it.
fn parse_value(input: &str) -> (String, &str) {
    if let Some(quoted) = input.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                }
                '"' => return (value, &quoted[i + 1..]),
                _ => value.push(c),
            }
        }
        (value, "")
    } else {
        let end = input.find([',', ' ']).unwrap_or(input.len());
        (input[..end].to_string(), &input[end..])
    }
}

/// The challenge of a 401 from the registry: Bearer preferred, Basic otherwise.
pub(crate) fn parse_challenge(
    registry: &Registry,
    response: &Response,
) -> Result<Challenge, RegistryError> {
    let header = response
        .headers()
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ");
    let challenges = parse(&header);
    challenges
        .iter()
        .find(|c| c.is_bearer())
        .or_else(|| challenges.iter().find(|c| c.is_basic()))
        .cloned()
        .ok_or_else(|| RegistryError::BadChallenge {
            registry: registry.to_string(),
        })
}

pub(crate) fn unsupported_challenge(registry: &Registry, challenge: &Challenge) -> RegistryError {
    RegistryError::UnsupportedChallenge {
        registry: registry.to_string(),
        scheme: challenge.scheme.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_with_all_params() {
        let c = parse(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(c.len(), 1);
        assert!(c[0].is_bearer());
        assert_eq!(c[0].param("realm"), Some("https://auth.example.com/token"));
        assert_eq!(c[0].param("service"), Some("registry.example.com"));
        assert_eq!(c[0].param("scope"), Some("repository:a/b:pull,push"));
    }

    #[test]
    fn basic_and_case_and_spaces() {
        let c = parse(r#"BASIC Realm = "Registry Realm""#);
        assert!(c[0].is_basic());
        assert_eq!(c[0].param("realm"), Some("Registry Realm"));
    }

    #[test]
    fn error_param_and_escapes() {
        let c =
            parse(r#"Bearer realm="r",error="insufficient_scope",error_description="say \"hi\"""#);
        assert_eq!(c[0].param("error"), Some("insufficient_scope"));
        assert_eq!(c[0].param("error_description"), Some(r#"say "hi""#));
    }

    #[test]
    fn several_challenges_and_bare_tokens() {
        let c = parse(r#"Basic realm="x", Bearer realm=https://t/token,service=svc"#);
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].param("realm"), Some("https://t/token"));
        assert_eq!(c[1].param("service"), Some("svc"));
    }

    #[test]
    fn garbage_does_not_panic() {
        for s in [
            "",
            "=",
            "Bearer =",
            "Bearer realm=\"unterminated",
            ",,,",
            "a=b",
            "Bearer ,=,",
        ] {
            let _ = parse(s);
        }
        assert!(parse("").is_empty());
    }
}
