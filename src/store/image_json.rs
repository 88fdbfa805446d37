//! The store's view of a manifest or index it must walk without knowing which it is (an index
//! entry may omit the media type): which descriptors it names. Parsing only, no disk.

use super::{Result, StoreError};
use crate::image::Descriptor;
use serde::Deserialize;
use std::path::Path;

pub(super) use crate::image::media::{DOCKER_CONFIG, DOCKER_MANIFEST, OCI_CONFIG, OCI_MANIFEST};
/// Manifests and configs are read into memory; nothing legitimate is bigger.
pub(super) const MAX_SMALL: u64 = 64 * 1024 * 1024;
pub(super) const COPY_BUF: usize = 1024 * 1024;

/// The parts of a manifest or index that say which blobs it needs.
#[derive(Deserialize)]
pub(super) struct Doc {
    #[serde(rename = "mediaType", default)]
    pub(super) media_type: Option<String>,
    #[serde(default)]
    pub(super) config: Option<Descriptor>,
    #[serde(default)]
    pub(super) layers: Vec<Descriptor>,
    #[serde(default)]
    pub(super) manifests: Option<Vec<Descriptor>>,
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
