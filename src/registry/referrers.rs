//! The OCI 1.1 referrers API: `GET /v2/<name>/referrers/<digest>`, an index of the manifests
//! whose `subject` is that digest. A registry without the API (distribution 2.8 among them)
//! answers 404 or another refusal: that is `None`, not an error. The answer is bounded.

use super::client::RegistryClient;
use super::error::{self, expect, RegistryError};
use crate::image::{media, ImageIndex};
use crate::types::Digest;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT};
use reqwest::{Method, StatusCode};

/// A referrers index is a list of descriptors: 4 MiB, as for any manifest.
const MAX_REFERRERS_INDEX: usize = 4 << 20;

impl RegistryClient {
    /// The referrers of `subject`, or `None` when the registry has no referrers API.
    pub async fn referrers(
        &self,
        repository: &str,
        subject: &Digest,
    ) -> Result<Option<ImageIndex>, RegistryError> {
        let path = format!("/v2/{repository}/referrers/{subject}");
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(media::OCI_INDEX));
        let response = self.send(Method::GET, &path, headers, None).await?;
        // 404 (no such route, or distribution's NAME_UNKNOWN for it), 400 and 405: no API.
        let no_api = [
            StatusCode::NOT_FOUND,
            StatusCode::BAD_REQUEST,
            StatusCode::METHOD_NOT_ALLOWED,
        ];
        let ok = [StatusCode::OK, no_api[0], no_api[1], no_api[2]];
        let response = expect("GET", response, &ok).await?;
        if no_api.contains(&response.status()) {
            return Ok(None);
        }
        let body = error::read_limited(response, MAX_REFERRERS_INDEX + 1).await;
        if body.len() > MAX_REFERRERS_INDEX {
            return Err(RegistryError::ManifestTooLarge {
                reference: format!("{repository} referrers of {subject}"),
            });
        }
        // Not an index at all: treated as no API, the tag schema is looked at instead.
        Ok(serde_json::from_slice(&body).ok())
    }
}
