//! [`RemoteImage`]: an image in a registry seen as an [`image::Source`], so a transfer can read
//! from a registry as it reads from a layout or an archive (registry → registry copy).
//! It only reads: manifests once, blobs as streams opened at an offset.

use super::pull::{get_image_manifest, read_index};
use crate::image::source::cut;
use crate::image::{self, BlobReader, Descriptor, RawManifest, WholeBlobInstead};
use crate::reference::Reference;
use crate::registry::blobs::BlobDownload;
use crate::registry::{RegistryClient, RegistryError};
use crate::types::Digest;
use anyhow::{bail, Context};
use futures_util::future::BoxFuture;
use futures_util::{Stream, StreamExt, TryStreamExt};
use std::collections::HashSet;
use std::sync::Arc;

/// Child manifests of an index fetched at once: one round trip for the platforms of most
/// images, and at most this many manifests (each up to 4 MiB) in memory together.
pub const MANIFESTS_AT_ONCE: usize = 8;

pub struct RemoteImage {
    client: Arc<RegistryClient>,
    repository: String,
    top: RawManifest,
    children: Vec<RawManifest>,
}

impl RemoteImage {
    /// The manifest `reference` names and, for an index, every child manifest once.
    pub async fn fetch(
        client: Arc<RegistryClient>,
        reference: &Reference,
    ) -> anyhow::Result<RemoteImage> {
        let repository = reference.repository().to_string();
        let top = client
            .get_manifest(&repository, &reference.manifest_reference())
            .await
            .with_context(|| format!("fetching the manifest of {}", reference))?;
        let mut children = Vec::new();
        if top.is_index() {
            let index = read_index(reference, &top)?;
            children = fetch_children(&client, reference, index.manifests, MANIFESTS_AT_ONCE)
                .try_collect()
                .await?;
        }
        Ok(RemoteImage {
            client,
            repository,
            top,
            children,
        })
    }

    /// The image `reference` names, its manifests already fetched: `top`, and for an index
    /// the `children` a transfer covers (a pull's chosen platform, or none when the caller
    /// streams them itself).
    pub fn resolved(
        client: Arc<RegistryClient>,
        reference: &Reference,
        top: RawManifest,
        children: Vec<RawManifest>,
    ) -> RemoteImage {
        RemoteImage {
            client,
            repository: reference.repository().to_string(),
            top,
            children,
        }
    }
}

/// The images an index lists, each digest once, `at_once` fetched together, in the index's
/// order; a nested index is refused.
pub fn fetch_children<'a>(
    client: &'a RegistryClient,
    reference: &'a Reference,
    entries: Vec<Descriptor>,
    at_once: usize,
) -> impl Stream<Item = anyhow::Result<RawManifest>> + 'a {
    let mut seen = HashSet::new();
    let entries: Vec<Descriptor> = entries
        .into_iter()
        .filter(|d| seen.insert(d.digest.clone()))
        .collect();
    futures_util::stream::iter(entries)
        .map(move |entry| async move { get_image_manifest(client, reference, &entry).await })
        .buffered(at_once.max(1))
}

impl image::Source for RemoteImage {
    fn top(&self) -> &RawManifest {
        &self.top
    }

    fn in_registry(&self) -> bool {
        true
    }

    fn children(&self) -> &[RawManifest] {
        &self.children
    }

    fn open_blob(
        &self,
        digest: &Digest,
        offset: u64,
    ) -> BoxFuture<'static, std::io::Result<BlobReader>> {
        let (client, repository, digest) =
            (self.client.clone(), self.repository.clone(), digest.clone());
        Box::pin(async move {
            let download = client
                .get_blob(&repository, &digest, offset)
                .await
                .map_err(std::io::Error::other)?;
            let served_from = download.offset;
            let reader = body_reader(download);
            if served_from != offset {
                // The registry ignored the Range request: its bytes start at 0.
                return Err(WholeBlobInstead::error(offset, reader));
            }
            Ok(reader)
        })
    }
}

/// A blob answer's body as a reader. Whatever stops the body (a reset, the idle timeout) is a
/// cut, which the destination resumes from.
pub(super) fn body_reader(download: BlobDownload) -> BlobReader {
    let body = download
        .response
        .bytes_stream()
        .map_err(|e| cut(RegistryError::cut(e)));
    Box::new(tokio_util::io::StreamReader::new(body))
}

/// Image configs are a few KiB; a blob larger than this is not read into memory whole.
pub const SMALL_BLOB_LIMIT: u64 = 8 << 20;

/// A small blob (a config) read whole, within one request deadline as for a manifest, and
/// verified against its digest and size. Errors name it as `what` of `image`.
pub async fn read_small_blob(
    client: &RegistryClient,
    repository: &str,
    blob: &Descriptor,
    what: &str,
    image: &str,
) -> anyhow::Result<Vec<u8>> {
    if blob.size > SMALL_BLOB_LIMIT {
        bail!(
            "{image}: {what} is {} bytes, more than hoist reads whole ({SMALL_BLOB_LIMIT})",
            blob.size
        );
    }
    let download = client
        .get_blob(repository, &blob.digest, 0)
        .await
        .with_context(|| format!("fetching {what} of {image}"))?;
    let mut body = download.response.bytes_stream();
    let mut bytes = Vec::new();
    let deadline = client.timeouts().attempt;
    let read = async {
        while let Some(chunk) = body.next().await {
            bytes.extend_from_slice(&chunk?);
            if bytes.len() as u64 > blob.size {
                break;
            }
        }
        anyhow::Ok(())
    };
    tokio::time::timeout(deadline, read).await.map_err(|_| {
        anyhow::anyhow!(
            "{image}: {what} did not arrive within {} s",
            deadline.as_secs()
        )
    })??;
    check_whole(&bytes, blob, what, image)?;
    Ok(bytes)
}

/// `bytes` are exactly the blob `blob` names.
pub fn check_whole(bytes: &[u8], blob: &Descriptor, what: &str, image: &str) -> anyhow::Result<()> {
    if bytes.len() as u64 != blob.size || Digest::of(bytes) != blob.digest {
        bail!("{image}: {what} does not match its digest {}", blob.digest);
    }
    Ok(())
}
