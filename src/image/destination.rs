//! [`Destination`]: where a transfer writes an image (a registry, or an OCI layout).
//! It answers what it already holds, takes blobs from a re-openable opener and manifests
//! last; it decides how to write (requests, chunks, retries), never what to write.

use super::{BlobReader, Descriptor, RawManifest};
use crate::types::Digest;
use futures_util::future::BoxFuture;
use std::sync::Arc;

/// A blob's bytes from any offset, opened afresh for every attempt: destinations retry,
/// resume after a cut and re-send after re-authentication, so a one-shot stream will not do.
pub type OpenBlob =
    Arc<dyn Fn(u64) -> BoxFuture<'static, std::io::Result<BlobReader>> + Send + Sync>;

/// What a destination says about one blob while writing it; bytes moved are counted by the
/// opener's readers, so this only marks the turns a write takes.
pub trait BlobProgress: Send + Sync {
    /// Bytes are about to move (nothing was already there and no mount served).
    fn started(&self);
    /// The write starts over from nothing (a fresh attempt or smaller requests).
    fn restarted(&self);
    /// The write goes on from `offset`: what the destination kept of an interrupted attempt.
    fn resumed_at(&self, offset: u64);
    /// The write goes on from `offset` bytes an earlier run left behind (a resumed download),
    /// or from 0 again; the transfer reports a blob kept this way as resumed.
    fn kept(&self, _offset: u64) {}
}

pub trait Destination: Send + Sync {
    /// Whether the destination's name already points at `top`: then nothing needs writing.
    fn has_image<'a>(&'a self, top: &'a RawManifest) -> BoxFuture<'a, anyhow::Result<bool>>;
    /// The size of the blob if the destination already holds it.
    fn has_blob<'a>(&'a self, blob: &'a Descriptor) -> BoxFuture<'a, anyhow::Result<Option<u64>>>;
    /// Makes the blob appear without sending it, from one of `locations` (`registry/repo`
    /// known to hold it); the location it came from, or `None` when it must be written.
    fn mount<'a>(
        &'a self,
        _blob: &'a Descriptor,
        _locations: &'a [String],
    ) -> BoxFuture<'a, anyhow::Result<Option<String>>> {
        Box::pin(async { Ok(None) })
    }
    /// Writes the blob's bytes, verified against `blob`, from `open`.
    fn put_blob<'a>(
        &'a self,
        blob: &'a Descriptor,
        open: OpenBlob,
        progress: &'a dyn BlobProgress,
    ) -> BoxFuture<'a, anyhow::Result<()>>;
    /// Writes a manifest once its blobs are in; `named` puts it under the destination's name
    /// (the top of the image), otherwise it is stored by digest only (an index's child).
    fn put_manifest<'a>(
        &'a self,
        manifest: &'a RawManifest,
        named: bool,
    ) -> BoxFuture<'a, anyhow::Result<Digest>>;
}
