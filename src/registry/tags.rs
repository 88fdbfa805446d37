//! Tag requests beyond a pull's and a push's: listing a repository's tags page by page
//! (`n`, `last`, `Link`), a manifest's HEAD with its media type, and a manifest PUT that
//! checks the digest the registry says it stored. Bounded: pages, tags, bytes per page.
//! A `Link` to another host is refused: a listing never leaves the registry.

use super::client::RegistryClient;
use super::error::{self, expect, RegistryError};
use crate::image::{media, RawManifest};
use crate::types::{escape_control, Digest};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, LINK};
use reqwest::{Method, StatusCode};
use std::collections::HashSet;

/// A page of tags is JSON names; 4 MiB holds well over 100,000 of them.
const MAX_PAGE: usize = 4 << 20;
/// Pages followed before giving up: a registry paging forever is not listing tags.
pub const MAX_PAGES: usize = 10_000;
/// Tags kept in all: a million names is tens of MiB, and more than any real repository.
pub const MAX_TAGS: usize = 1_000_000;

#[derive(Debug, thiserror::Error)]
pub enum TagsError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("{registry} sent a next-page link to another host ({}); not followed", escape_control(.link))]
    ForeignLink { registry: String, link: String },
    #[error("{registry} sent a next-page link that is not a URL: {}", escape_control(.link))]
    BadLink { registry: String, link: String },
    #[error(
        "{registry} sent more than {MAX_PAGES} pages or {MAX_TAGS} tags of {repository}; stopped"
    )]
    TooMany {
        registry: String,
        repository: String,
    },
    #[error("{registry}: the tag list of {repository} is not valid JSON")]
    BadList {
        registry: String,
        repository: String,
    },
    #[error("{registry} stored the manifest as {actual}, but its bytes are {expected}")]
    DigestMismatch {
        registry: String,
        expected: Digest,
        actual: String,
    },
}

/// What a registry answered to a manifest PUT.
pub struct PutAnswer {
    /// The registry speaks the referrers API: it indexed the manifest's `subject` itself
    /// (`OCI-Subject`), so no referrers tag needs writing.
    pub indexed_subject: bool,
}

impl RegistryClient {
    /// Every tag of `repository`, in the registry's order, following `Link` (or, for a
    /// registry that sends none, `last` after a full page of `page_size`).
    pub async fn list_tags(
        &self,
        repository: &str,
        page_size: Option<usize>,
    ) -> Result<Vec<String>, TagsError> {
        #[derive(serde::Deserialize)]
        struct Page {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let mut tags: Vec<String> = Vec::new();
        let first = match page_size {
            Some(n) => format!("/v2/{repository}/tags/list?n={n}"),
            None => format!("/v2/{repository}/tags/list"),
        };
        let mut next = Some(first);
        let mut seen = HashSet::new();
        let mut listed: HashSet<String> = HashSet::new();
        let too_many = || TagsError::TooMany {
            registry: self.registry().to_string(),
            repository: repository.to_string(),
        };
        while let Some(target) = next.take() {
            if !seen.insert(target.clone()) {
                break; // A link back to a page already read: the list is complete.
            }
            if seen.len() > MAX_PAGES {
                return Err(too_many());
            }
            let response = self
                .send(Method::GET, &target, HeaderMap::new(), None)
                .await?;
            let response = expect("GET", response, &[StatusCode::OK]).await?;
            let link = response
                .headers()
                .get(LINK)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = error::read_limited(response, MAX_PAGE + 1).await;
            let page: Page = match body.len() > MAX_PAGE {
                true => return Err(too_many()),
                false => serde_json::from_slice(&body).map_err(|_| TagsError::BadList {
                    registry: self.registry().to_string(),
                    repository: repository.to_string(),
                })?,
            };
            let page = page.tags.unwrap_or_default();
            // Exactly `n`: there may be more. More than `n`: the registry ignored `n` (as
            // distribution 2.8 does) and sent them all.
            let full = page_size.is_some_and(|n| page.len() == n);
            let last = page.last().cloned();
            if tags.len() + page.len() > MAX_TAGS {
                return Err(too_many());
            }
            // A registry repeating itself adds nothing.
            tags.extend(page.into_iter().filter(|t| listed.insert(t.clone())));
            next = match (link, page_size, last) {
                (Some(link), _, _) => next_page(self, &link)?,
                (None, Some(n), Some(last)) if full => Some(format!(
                    "/v2/{repository}/tags/list?n={n}&last={}",
                    url::form_urlencoded::byte_serialize(last.as_bytes()).collect::<String>()
                )),
                _ => None,
            };
        }
        Ok(tags)
    }

    /// HEAD: the digest and media type `reference` names now, `None` when it does not exist.
    pub async fn manifest_head(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<Option<(Digest, String)>, RegistryError> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let mut headers = HeaderMap::new();
        let accept = media::ACCEPTED_MANIFESTS.join(", ");
        headers.insert(ACCEPT, HeaderValue::from_str(&accept).expect("static"));
        let response = self.send(Method::HEAD, &path, headers, None).await?;
        let ok = [StatusCode::OK, StatusCode::NOT_FOUND];
        let response = expect("HEAD", response, &ok).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let digest = header("docker-content-digest").and_then(|d| d.parse().ok());
        let media_type = header("content-type")
            .map(|t| t.split(';').next().unwrap_or_default().trim().to_string())
            .unwrap_or_default();
        Ok(digest.map(|d| (d, media_type)))
    }

    /// PUTs `manifest`'s exact bytes under `reference` (a tag or its digest) and checks that
    /// the registry stored those bytes: its `Docker-Content-Digest`, when it sends one, must
    /// be the digest of what was sent.
    pub async fn put_manifest_checked(
        &self,
        repository: &str,
        reference: &str,
        manifest: &RawManifest,
    ) -> Result<PutAnswer, TagsError> {
        let response = self
            .put_manifest_answer(repository, reference, manifest)
            .await?;
        let stored = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok());
        if let Some(stored) = stored {
            if stored != manifest.digest.to_string() {
                return Err(TagsError::DigestMismatch {
                    registry: self.registry().to_string(),
                    expected: manifest.digest.clone(),
                    actual: stored.chars().take(100).collect(),
                });
            }
        }
        Ok(PutAnswer {
            indexed_subject: response.headers().contains_key("oci-subject"),
        })
    }
}

/// The `rel="next"` target of a `Link` header, as a path and query on the registry itself.
fn next_page(client: &RegistryClient, link: &str) -> Result<Option<String>, TagsError> {
    let Some(target) = parse_next_link(link) else {
        return Ok(None);
    };
    let bad = || TagsError::BadLink {
        registry: client.registry().to_string(),
        link: link.chars().take(200).collect(),
    };
    let own = format!("http://{}/", client.registry().api_host());
    let base = url::Url::parse(&own).map_err(|_| bad())?;
    let url = base.join(target).map_err(|_| bad())?;
    // A relative link stays on the registry; an absolute one must name it exactly.
    let same_host = url.host_str() == base.host_str() && url.port() == base.port();
    let absolute = target.contains("://") || target.starts_with("//");
    if absolute && !(same_host && matches!(url.scheme(), "http" | "https")) {
        return Err(TagsError::ForeignLink {
            registry: client.registry().to_string(),
            link: link.chars().take(200).collect(),
        });
    }
    if !url.path().starts_with("/v2/") {
        return Err(bad());
    }
    Ok(Some(match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }))
}

/// `<URL>; rel="next"` (among other links, in any order of parameters).
pub fn parse_next_link(header: &str) -> Option<&str> {
    header.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let next = params.split(';').any(|p| {
            let p = p.trim().replace(' ', "");
            p == "rel=\"next\"" || p == "rel=next"
        });
        next.then_some(target)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_is_found_among_others() {
        assert_eq!(
            parse_next_link(r#"</v2/a/tags/list?last=b&n=2>; rel="next""#),
            Some("/v2/a/tags/list?last=b&n=2")
        );
        assert_eq!(
            parse_next_link(r#"<https://x/prev>; rel="prev", <https://x/next>; rel=next"#),
            Some("https://x/next")
        );
        assert_eq!(parse_next_link(r#"</v2/a>; rel="prev""#), None);
        assert_eq!(parse_next_link("garbage"), None);
    }
}
