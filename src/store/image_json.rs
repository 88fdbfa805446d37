//! The parts of manifest and index JSON the store reads: which blobs an image needs.
//! Parsing only: nothing here touches the disk.

use super::{Result, StoreError};
use crate::types::Digest;
use serde::Deserialize;
use std::path::Path;

pub(super) const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub(super) const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub(super) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub(super) const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// Manifests and configs are read into memory; nothing legitimate is bigger.
pub(super) const MAX_SMALL: u64 = 64 * 1024 * 1024;
pub(super) const COPY_BUF: usize = 1024 * 1024;

/// A blob the image needs, as its manifest describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobInfo {
    pub digest: Digest,
    pub size: u64,
    pub media_type: String,
}

/// The parts of a manifest or index that say which blobs it needs.
#[derive(Deserialize)]
pub(super) struct Doc {
    #[serde(rename = "mediaType", default)]
    pub(super) media_type: Option<String>,
    #[serde(default)]
    pub(super) config: Option<Desc>,
    #[serde(default)]
    pub(super) layers: Vec<Desc>,
    #[serde(default)]
    pub(super) manifests: Option<Vec<Desc>>,
}

#[derive(Deserialize, Clone)]
pub(super) struct Desc {
    #[serde(rename = "mediaType", default)]
    pub(super) media_type: String,
    pub(super) digest: Digest,
    pub(super) size: u64,
    #[serde(default)]
    pub(super) urls: Vec<String>,
}

pub(super) fn parse_doc(path: &Path, bytes: &[u8]) -> Result<Doc> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Json {
        path: path.to_path_buf(),
        source,
    })
}

pub(super) fn format_err(path: &Path, msg: impl Into<String>) -> StoreError {
    StoreError::Format(path.to_path_buf(), msg.into())
}
