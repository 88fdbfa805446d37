//! [`Source`]: an image a transfer reads, whatever holds it (a layout, an archive, a registry).
//! It hands out manifests and blob readers; it does not know where the image is going.

use super::{manifest, Descriptor, RawManifest};
use crate::types::Digest;
use futures_util::future::BoxFuture;
use tokio::io::AsyncRead;

pub type BlobReader = Box<dyn AsyncRead + Send + Unpin>;

pub trait Source: Send + Sync {
    /// The manifest or index at the top, with its exact bytes.
    fn top(&self) -> &RawManifest;
    /// For an index: its child manifests.
    fn children(&self) -> &[RawManifest];
    /// A fresh reader of the blob's bytes from `offset` on; called again for every retry.
    fn open_blob(
        &self,
        digest: &Digest,
        offset: u64,
    ) -> BoxFuture<'static, std::io::Result<BlobReader>>;
    /// Repositories (`registry/repo`) known to hold this blob, for cross-repository mounts.
    fn known_locations(&self, _digest: &Digest) -> Vec<String> {
        Vec::new()
    }

    /// Every config and layer the images need, once each.
    fn blobs(&self) -> Result<Vec<Descriptor>, manifest::ManifestError> {
        let images: Vec<&RawManifest> = if self.top().is_index() {
            self.children().iter().collect()
        } else {
            vec![self.top()]
        };
        manifest::blobs_of(images)
    }
}
