//! `.hoist/locations.json`: which repositories each blob is known to live in, so a push to
//! another repository on the same registry can mount a blob instead of uploading it.

use super::Layout;
use crate::store::{io_err, write_atomic, Result, StoreError};
use crate::types::Digest;
use std::collections::BTreeMap;

impl Layout {
    /// Remembers that `digest` exists in `location` (`registry/repository`), so a later
    /// push to another repository on that registry can mount it instead of uploading.
    /// On a read-only layout this does nothing and returns `false`.
    pub async fn record_location(&self, digest: &Digest, location: &str) -> Result<bool> {
        self.record_locations([digest], location).await
    }

    /// [`record_location`](Self::record_location) for many blobs at once: one update of the
    /// locations file (a lock, a read, an fsynced write) rather than one per blob.
    pub async fn record_locations<'a>(
        &self,
        digests: impl IntoIterator<Item = &'a Digest>,
        location: &str,
    ) -> Result<bool> {
        if !self.inner.writable {
            return Ok(false);
        }
        let _guard = self.inner.meta.lock().await;
        let _lock = self.lock_metadata().await?;
        let mut all = self.read_locations().await?;
        let mut changed = false;
        for digest in digests {
            let entry = all.entry(digest.to_string()).or_default();
            if !entry.iter().any(|l| l == location) {
                entry.push(location.to_string());
                changed = true;
            }
        }
        if !changed {
            return Ok(true);
        }
        let path = self.locations_path();
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io_err(dir))?;
        }
        let bytes = serde_json::to_vec_pretty(&all).map_err(|source| StoreError::Json {
            path: path.clone(),
            source,
        })?;
        write_atomic(&path, &bytes).await?;
        Ok(true)
    }

    /// Where `digest` is known to live, oldest record first; empty when nothing is known.
    pub async fn locations(&self, digest: &Digest) -> Result<Vec<String>> {
        Ok(self
            .read_locations()
            .await?
            .remove(&digest.to_string())
            .unwrap_or_default())
    }

    /// Every blob's known locations, read once (a push asks for each of its blobs).
    pub async fn all_locations(&self) -> Result<BTreeMap<String, Vec<String>>> {
        self.read_locations().await
    }

    async fn read_locations(&self) -> Result<BTreeMap<String, Vec<String>>> {
        let path = self.locations_path();
        match tokio::fs::read(&path).await {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|source| StoreError::Json { path, source })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(io_err(&path)(e)),
        }
    }
}
