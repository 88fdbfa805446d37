//! Reading an OCI archive: a tar of an OCI image layout (`oci-archive:`, and `docker save`
//! since Docker 25). Its `index.json` is read in place and the image picked from it as from a
//! layout; blobs stay in the tar. It never writes.

use super::tar_index::{read_range, TarEntry};
use crate::image::{Descriptor, ImageIndex};
use crate::store::image_json::MAX_SMALL;
use crate::store::layout::select_named;
use crate::store::{Result, StoreError};
use crate::types::Digest;
use std::collections::HashMap;
use std::path::Path;

/// The index entry of the image `name` (or the only one) in the OCI archive at `path`, whose
/// tar `entries` are already indexed, and where each blob's bytes are in the tar.
pub(super) async fn read(
    path: &Path,
    entries: HashMap<String, TarEntry>,
    name: Option<&str>,
) -> Result<(Descriptor, HashMap<Digest, TarEntry>)> {
    let mut blobs = HashMap::new();
    for (p, e) in &entries {
        if let Some(hex) = p.strip_prefix("blobs/sha256/") {
            if let Ok(d) = format!("sha256:{hex}").parse::<Digest>() {
                blobs.insert(d, *e);
            }
        }
    }
    let index_bytes = read_range(path, entries["index.json"], MAX_SMALL).await?;
    let index: ImageIndex =
        serde_json::from_slice(&index_bytes).map_err(|source| StoreError::Json {
            path: path.join("index.json"),
            source,
        })?;
    let all = index.manifests;
    let top = select_named(path, name, &all)?.clone();
    Ok((top, blobs))
}
