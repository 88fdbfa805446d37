//! Manifest requests: GET with every media type we understand, HEAD for existence, PUT with
//! the exact bytes (a manifest's digest is of its bytes, so they are never re-serialised).

use super::client::RegistryClient;
use super::error::{self, RegistryError};
use crate::types::Digest;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use std::sync::Arc;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
pub const DOCKER_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";

/// Manifests are small; anything bigger is not a manifest (the spec suggests 4 MiB).
const MAX_MANIFEST: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Manifest {
    pub bytes: Vec<u8>,
    pub media_type: String,
    pub digest: Digest,
}

impl Manifest {
    pub fn is_index(&self) -> bool {
        self.media_type == OCI_INDEX || self.media_type == DOCKER_MANIFEST_LIST
    }
}

fn accept_all() -> HeaderMap {
    let mut headers = HeaderMap::new();
    let accept = [
        OCI_INDEX,
        OCI_MANIFEST,
        DOCKER_MANIFEST_LIST,
        DOCKER_MANIFEST,
    ]
    .join(", ");
    headers.insert(ACCEPT, HeaderValue::from_str(&accept).expect("static"));
    headers
}

impl RegistryClient {
    /// Fetches a manifest by tag or digest; when asked by digest, the bytes must match it.
    pub async fn get_manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<Manifest, RegistryError> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let response = self.send(Method::GET, &path, accept_all(), None).await?;
        if response.status() != StatusCode::OK {
            return Err(error::from_response("GET", response).await);
        }
        let header_type = content_type(response.headers());
        let bytes = error::read_limited(response, MAX_MANIFEST + 1).await;
        if bytes.len() > MAX_MANIFEST {
            return Err(RegistryError::Protocol(format!(
                "manifest {repository}:{reference} is larger than 4 MiB"
            )));
        }
        let media_type = header_type
            .filter(|t| !t.is_empty() && t != "application/json" && t != "text/plain")
            .or_else(|| embedded_media_type(&bytes))
            .unwrap_or_else(|| DOCKER_SCHEMA1.to_string());
        if media_type == DOCKER_SCHEMA1 || media_type == DOCKER_SCHEMA1_SIGNED {
            return Err(RegistryError::Protocol(format!(
                "{repository}:{reference} is a Docker schema 1 manifest, which is deprecated and unsupported; push it again with a current client"
            )));
        }
        let digest = Digest::of(&bytes);
        if let Ok(expected) = reference.parse::<Digest>() {
            if expected != digest {
                return Err(RegistryError::Protocol(format!(
                    "manifest digest mismatch for {repository}: asked for {expected}, got {digest}"
                )));
            }
        }
        Ok(Manifest {
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
        match response.status() {
            StatusCode::OK => Ok(response
                .headers()
                .get("docker-content-digest")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(error::from_response("HEAD", response).await),
        }
    }

    pub async fn put_manifest(
        &self,
        repository: &str,
        reference: &str,
        manifest: &Manifest,
    ) -> Result<Digest, RegistryError> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_str(&manifest.media_type).map_err(|_| {
                RegistryError::Protocol(format!("bad media type {:?}", manifest.media_type))
            })?,
        );
        let bytes = Arc::new(manifest.bytes.clone());
        let body: super::BodySource = Arc::new(move || {
            let bytes = bytes.clone();
            Box::pin(async move { Ok(reqwest::Body::from(bytes.to_vec())) })
        });
        let response = self.send(Method::PUT, &path, headers, Some(body)).await?;
        if response.status() != StatusCode::CREATED && !response.status().is_success() {
            return Err(error::from_response("PUT", response).await);
        }
        Ok(manifest.digest.clone())
    }
}

fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_string())
}

/// Falls back to the manifest's own `mediaType` when a registry sends a generic Content-Type.
fn embedded_media_type(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
        #[serde(rename = "schemaVersion")]
        schema_version: Option<u32>,
    }
    let probe: Probe = serde_json::from_slice(bytes).ok()?;
    match (probe.media_type, probe.schema_version) {
        (Some(t), _) => Some(t),
        (None, Some(1)) => None,
        (None, _) if probe.manifests.is_some() => Some(OCI_INDEX.to_string()),
        (None, _) => Some(OCI_MANIFEST.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_type_from_body_when_header_is_generic() {
        assert_eq!(
            embedded_media_type(br#"{"schemaVersion":2,"mediaType":"x"}"#).as_deref(),
            Some("x")
        );
        assert_eq!(
            embedded_media_type(br#"{"schemaVersion":2,"manifests":[]}"#).as_deref(),
            Some(OCI_INDEX)
        );
        assert_eq!(
            embedded_media_type(br#"{"schemaVersion":2,"layers":[]}"#).as_deref(),
            Some(OCI_MANIFEST)
        );
        assert_eq!(embedded_media_type(br#"{"schemaVersion":1}"#), None);
    }
}
