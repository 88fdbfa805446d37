//! Manifest requests: GET with every media type we understand, HEAD for existence, PUT with
//! the exact bytes (a manifest's digest is of its bytes, so they are never re-serialised).

use super::client::RegistryClient;
use super::error::{self, expect, expect_success, RegistryError};
use crate::image::manifest::embedded_media_type;
use crate::image::{media, RawManifest};
use crate::types::Digest;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use std::sync::Arc;

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

    /// The digest a tag points at now, or `None` when it does not exist.
    pub async fn head_manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<Option<Digest>, RegistryError> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let response = self.send(Method::HEAD, &path, accept_all(), None).await?;
        let ok = [StatusCode::OK, StatusCode::NOT_FOUND];
        let response = expect("HEAD", response, &ok).await?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(None),
            _ => Ok(response
                .headers()
                .get("docker-content-digest")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())),
        }
    }

    pub async fn put_manifest(
        &self,
        repository: &str,
        reference: &str,
        manifest: &RawManifest,
    ) -> Result<Digest, RegistryError> {
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
        expect_success("PUT", response, &[]).await?;
        Ok(manifest.digest.clone())
    }
}

fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_string())
}
