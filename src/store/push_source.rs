//! [`StoredImage`]: an image read from a layout or an archive, seen as an [`image::Source`]
//! for a transfer — blobs opened at an offset, and the store's record of where each blob
//! already lives (read once). It reads only; recording new locations is the caller's job.

use super::{ImageSource, Layout, Result};
use crate::image::{self, BlobReader, RawManifest};
use crate::types::Digest;
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::io::AsyncSeekExt;

pub struct StoredImage {
    image: Arc<ImageSource>,
    locations: HashMap<Digest, Vec<String>>,
}

impl StoredImage {
    /// `image`, with the locations `store` knows for its blobs (none without a store).
    pub async fn new(image: ImageSource, store: Option<&Layout>) -> Result<StoredImage> {
        let mut locations = HashMap::new();
        if let Some(store) = store {
            let mut all = store.all_locations().await?;
            for blob in image.blobs() {
                if let Some(known) = all.remove(&blob.digest.to_string()) {
                    locations.insert(blob.digest.clone(), known);
                }
            }
        }
        Ok(StoredImage {
            image: Arc::new(image),
            locations,
        })
    }
}

impl image::Source for StoredImage {
    fn top(&self) -> &RawManifest {
        self.image.top()
    }

    fn children(&self) -> &[RawManifest] {
        self.image.child_manifests()
    }

    fn open_blob(
        &self,
        digest: &Digest,
        offset: u64,
    ) -> BoxFuture<'static, std::io::Result<BlobReader>> {
        let (image, digest) = (self.image.clone(), digest.clone());
        Box::pin(async move {
            let mut reader = image
                .open_blob(&digest)
                .await
                .map_err(std::io::Error::other)?;
            if offset > 0 {
                let remaining = reader.limit().saturating_sub(offset);
                reader
                    .get_mut()
                    .seek(std::io::SeekFrom::Current(offset as i64))
                    .await?;
                reader.set_limit(remaining);
            }
            Ok(Box::new(reader) as BlobReader)
        })
    }

    fn known_locations(&self, digest: &Digest) -> Vec<String> {
        self.locations.get(digest).cloned().unwrap_or_default()
    }
}
