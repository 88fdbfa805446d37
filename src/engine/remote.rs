//! [`RemoteImage`]: an image in a registry seen as an [`image::Source`], so a transfer can read
//! from a registry as it reads from a layout or an archive (registry → registry copy).
//! It only reads: manifests once, blobs as streams opened at an offset.

use super::pull::{get_image_manifest, read_index};
use crate::image::{self, BlobReader, RawManifest};
use crate::reference::Reference;
use crate::registry::RegistryClient;
use crate::types::Digest;
use anyhow::Context;
use futures_util::future::BoxFuture;
use futures_util::TryStreamExt;
use std::collections::HashSet;
use std::sync::Arc;

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
            .with_context(|| format!("fetching the manifest of {}", reference.original()))?;
        let mut children = Vec::new();
        if top.is_index() {
            let index = read_index(reference, &top)?;
            let mut seen = HashSet::new();
            for entry in index.manifests.iter().filter(|d| seen.insert(&d.digest)) {
                children.push(get_image_manifest(&client, reference, entry).await?);
            }
        }
        Ok(RemoteImage {
            client,
            repository,
            top,
            children,
        })
    }
}

impl image::Source for RemoteImage {
    fn top(&self) -> &RawManifest {
        &self.top
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
            if download.offset != offset {
                // The registry ignored the Range request: these bytes start elsewhere.
                return Err(std::io::Error::other(format!(
                    "the registry sent {digest} from byte {} when asked from {offset}",
                    download.offset
                )));
            }
            let body = download
                .response
                .bytes_stream()
                .map_err(std::io::Error::other);
            Ok(Box::new(tokio_util::io::StreamReader::new(body)) as BlobReader)
        })
    }
}
