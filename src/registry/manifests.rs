//! Manifest requests: GET with every media type we understand, HEAD for existence (with a GET
//! in its place where a registry refuses HEAD), PUT with the exact bytes (a manifest's digest
//! is of its bytes, so they are never re-serialised).

use super::client::RegistryClient;
use super::error::{self, expect, expect_success, RegistryError};
use crate::image::manifest::embedded_media_type;
use crate::image::{media, RawManifest};
use crate::types::Digest;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Manifests are small; anything bigger is not a manifest (the spec suggests 4 MiB).
const MAX_MANIFEST: usize = 4 * 1024 * 1024;

fn accept_all() -> HeaderMap {
    let mut headers = HeaderMap::new();
    let accept = media::ACCEPTED_MANIFESTS.join(", ");
    headers.insert(ACCEPT, HeaderValue::from_str(&accept).expect("static"));
    headers
}

impl RegistryClient {
    /// Fetches a manifest by tag or digest; when asked by digest, the bytes must match it.
    pub async fn get_manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<RawManifest, RegistryError> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let response = self.send(Method::GET, &path, accept_all(), None).await?;
        let response = expect("GET", response, &[StatusCode::OK]).await?;
        let header_type = content_type(response.headers());
        let bytes = error::read_limited(response, MAX_MANIFEST + 1).await;
        if bytes.len() > MAX_MANIFEST {
            return Err(RegistryError::ManifestTooLarge {
                reference: format!("{repository}:{reference}"),
            });
        }
        let media_type = header_type
            .filter(|t| !t.is_empty() && t != "application/json" && t != "text/plain")
            .or_else(|| embedded_media_type(&bytes))
            .unwrap_or_else(|| media::DOCKER_SCHEMA1.to_string());
        if media::is_schema1(&media_type) {
            return Err(RegistryError::UnsupportedSchema1 {
                reference: format!("{repository}:{reference}"),
            });
        }
        let digest = Digest::of(&bytes);
        if let Ok(expected) = reference.parse::<Digest>() {
            if expected != digest {
                return Err(RegistryError::DigestMismatch {
                    repository: repository.to_string(),
                    expected: expected.to_string(),
                    actual: digest.to_string(),
                });
            }
        }
        Ok(RawManifest {
            bytes,
            media_type,
            digest,
        })
    }

    /// The digest a tag points at now, or `None` when it does not exist. Some registries
    /// (Nexus; distribution behind some proxies, distribution#1485) refuse HEAD on manifests
    /// with 405, 400 or 404 while GET works, or answer it without a digest: then the same
    /// question is asked with GET and the same Accept header, and for the rest of the run that
    /// registry is asked with GET straight away.
    pub async fn head_manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<Option<Digest>, RegistryError> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let registry = self.registry().name();
        let head = head_support(registry);
        if head != HeadSupport::Refused {
            let response = self.send(Method::HEAD, &path, accept_all(), None).await?;
            let status = response.status();
            let digest = digest_header(response.headers());
            match status {
                StatusCode::OK if digest.is_some() => {
                    remember_head(registry, HeadSupport::Works);
                    return Ok(digest);
                }
                // A registry whose HEAD has answered truly says "not there" truly too.
                StatusCode::NOT_FOUND if head == HeadSupport::Works => return Ok(None),
                StatusCode::OK
                | StatusCode::NOT_FOUND
                | StatusCode::METHOD_NOT_ALLOWED
                | StatusCode::BAD_REQUEST
                | StatusCode::NOT_IMPLEMENTED => {}
                _ => {
                    expect("HEAD", response, &[]).await?;
                }
            }
            let found = self.manifest_by_get(repository, reference).await?;
            // A 404 that GET confirms is the truth; any other disagreement means HEAD is not
            // to be asked again.
            let works = status == StatusCode::NOT_FOUND && found.is_none();
            remember_head(
                registry,
                if works {
                    HeadSupport::Works
                } else {
                    HeadSupport::Refused
                },
            );
            return Ok(found);
        }
        self.manifest_by_get(repository, reference).await
    }

    /// HEAD's question asked with GET: the digest from the header, else of the bytes.
    async fn manifest_by_get(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<Option<Digest>, RegistryError> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let response = self.send(Method::GET, &path, accept_all(), None).await?;
        let ok = [StatusCode::OK, StatusCode::NOT_FOUND];
        let response = expect("GET", response, &ok).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let header = digest_header(response.headers());
        let bytes = error::read_limited(response, MAX_MANIFEST + 1).await;
        if bytes.len() > MAX_MANIFEST {
            return Err(RegistryError::ManifestTooLarge {
                reference: format!("{repository}:{reference}"),
            });
        }
        Ok(header.or_else(|| Some(Digest::of(&bytes))))
    }

    pub async fn put_manifest(
        &self,
        repository: &str,
        reference: &str,
        manifest: &RawManifest,
    ) -> Result<Digest, RegistryError> {
        self.put_manifest_answer(repository, reference, manifest)
            .await?;
        Ok(manifest.digest.clone())
    }

    /// PUTs the manifest's exact bytes under `reference`; the registry's accepting answer, whose
    /// headers (its digest, `OCI-Subject`) some callers check.
    pub async fn put_manifest_answer(
        &self,
        repository: &str,
        reference: &str,
        manifest: &RawManifest,
    ) -> Result<reqwest::Response, RegistryError> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_str(&manifest.media_type)
                .map_err(|_| RegistryError::BadMediaType(manifest.media_type.clone()))?,
        );
        let bytes = Arc::new(manifest.bytes.clone());
        let body: super::BodySource = Arc::new(move || {
            let bytes = bytes.clone();
            Box::pin(async move { Ok(reqwest::Body::from(bytes.to_vec())) })
        });
        let response = self.send(Method::PUT, &path, headers, Some(body)).await?;
        expect_success("PUT", response, &[]).await
    }
}

fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_string())
}

fn digest_header(headers: &HeaderMap) -> Option<Digest> {
    headers
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// What a registry's HEAD on manifests has shown itself to be, in this run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HeadSupport {
    Unknown,
    Works,
    Refused,
}

/// Per registry for the whole run, whichever client asks: one process talks to a registry
/// through one client per operation, and each would otherwise learn it again.
static HEAD_SUPPORT: Mutex<Option<HashMap<String, HeadSupport>>> = Mutex::new(None);

fn head_support(registry: &str) -> HeadSupport {
    let known = HEAD_SUPPORT.lock().unwrap_or_else(|e| e.into_inner());
    known
        .as_ref()
        .and_then(|m| m.get(registry).copied())
        .unwrap_or(HeadSupport::Unknown)
}

/// Refused is final: a registry that refused HEAD once is not asked with it again.
fn remember_head(registry: &str, support: HeadSupport) {
    let mut known = HEAD_SUPPORT.lock().unwrap_or_else(|e| e.into_inner());
    let entry = known
        .get_or_insert_with(HashMap::new)
        .entry(registry.to_string())
        .or_insert(HeadSupport::Unknown);
    if *entry != HeadSupport::Refused {
        *entry = support;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Learnt once per registry for the run; a refusal is never unlearnt.
    #[test]
    fn a_refused_head_is_remembered_per_registry() {
        let (a, b) = ("head-a.example", "head-b.example");
        assert_eq!(head_support(a), HeadSupport::Unknown);
        remember_head(a, HeadSupport::Refused);
        remember_head(a, HeadSupport::Works);
        assert_eq!(head_support(a), HeadSupport::Refused);
        remember_head(b, HeadSupport::Works);
        assert_eq!(head_support(b), HeadSupport::Works);
    }
}
