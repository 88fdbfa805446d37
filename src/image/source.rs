//! [`Source`]: an image a transfer reads, whatever holds it (a layout, an archive, a registry).
//! It hands out manifests and blob readers; it does not know where the image is going. A
//! reader's errors say what happened in types a destination can act on: a [`cut`] body is
//! resumed, a source that starts over sends [`WholeBlobInstead`].

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
    /// The image is read from a registry: what a transfer writes from it is a copy.
    fn in_registry(&self) -> bool {
        false
    }
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

/// What [`Source::open_blob`] fails with when the source cannot start at the offset asked for
/// (a registry that ignores `Range`, or answers a range that starts elsewhere): it carries a
/// reader of the whole blob from byte 0, so the caller starts over without asking again.
pub struct WholeBlobInstead {
    asked: u64,
    whole: std::sync::Mutex<Option<BlobReader>>,
}

impl WholeBlobInstead {
    /// The error to return from `open_blob(_, asked)` with `whole` reading from byte 0.
    pub fn error(asked: u64, whole: BlobReader) -> std::io::Error {
        std::io::Error::other(WholeBlobInstead {
            asked,
            whole: std::sync::Mutex::new(Some(whole)),
        })
    }

    /// The whole-blob reader `error` carries, if it is this condition (taken: only once).
    pub fn take(error: &std::io::Error) -> Option<BlobReader> {
        let this = error.get_ref()?.downcast_ref::<WholeBlobInstead>()?;
        this.whole.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

impl std::fmt::Display for WholeBlobInstead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the blob comes from byte 0, not from byte {}",
            self.asked
        )
    }
}

impl std::fmt::Debug for WholeBlobInstead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WholeBlobInstead")
            .field("asked", &self.asked)
            .finish_non_exhaustive()
    }
}

impl std::error::Error for WholeBlobInstead {}

/// A blob reader's error for a connection lost mid-body: worth resuming from where the bytes
/// stopped, unlike a failed open (which the source has already retried).
pub fn cut(detail: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionAborted, detail)
}

/// Whether a blob reader's error is a [`cut`].
pub fn is_cut(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::ConnectionAborted
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn a_source_that_starts_over_hands_its_whole_reader_once() {
        let error = WholeBlobInstead::error(7, Box::new(&b"whole"[..]));
        assert_eq!(
            error.to_string(),
            "the blob comes from byte 0, not from byte 7"
        );
        let mut whole = WholeBlobInstead::take(&error).expect("carried");
        let mut bytes = Vec::new();
        whole.read_to_end(&mut bytes).await.unwrap();
        assert_eq!(bytes, b"whole");
        assert!(WholeBlobInstead::take(&error).is_none());
        assert!(WholeBlobInstead::take(&std::io::Error::other("other")).is_none());
        assert!(is_cut(&cut("reset")) && !is_cut(&error));
    }
}
