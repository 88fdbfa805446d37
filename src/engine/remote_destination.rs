//! [`RemoteDestination`]: a repository in a registry as an [`image::Destination`], so push
//! (and a registry-to-registry copy) write through the same engine loop as any transfer.
//! Per blob, the fewest round trips: HEAD (skip) → mount (when another repository on the same
//! registry holds it) → POST + one streamed PUT, or PATCH chunks with `--chunk-size` or once
//! the registry refuses a body as too large. It owns requests and retries, not the plan.

use crate::image::{self, BlobProgress, Descriptor, OpenBlob, RawManifest};
use crate::reference::Reference;
use crate::registry::blobs::MountOutcome;
use crate::registry::{BodySource, RegistryClient, RegistryError};
use crate::types::Digest;
use anyhow::Context;
use futures_util::future::BoxFuture;
use reqwest::StatusCode;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::AsyncReadExt;

/// Whole-blob attempts (each a fresh upload session) before the push gives up.
const BLOB_ATTEMPTS: u32 = 3;
/// The largest chunk tried once a registry (or a proxy in front of it, such as nginx with its
/// 1 MiB default `client_max_body_size`) refuses a request body as too large (413).
const FIRST_CHUNK_AFTER_413: u64 = 16 << 20;
/// Halving stops here: a registry that refuses this little wants something else.
const MIN_CHUNK: u64 = 64 << 10;

pub struct RemoteDestination {
    client: Arc<RegistryClient>,
    reference: Reference,
    chunking: Chunking,
    /// Uploads a declined mount opened (spec: 202), kept for that blob's write so the
    /// declined mount costs no extra POST.
    started: Mutex<HashMap<Digest, String>>,
}

impl RemoteDestination {
    /// The repository `reference` names; blobs go up whole unless `chunk_size` is given.
    pub fn new(
        client: Arc<RegistryClient>,
        reference: Reference,
        chunk_size: Option<u64>,
    ) -> RemoteDestination {
        RemoteDestination {
            client,
            reference,
            chunking: Chunking::new(chunk_size),
            started: Mutex::new(HashMap::new()),
        }
    }

    fn repository(&self) -> &str {
        self.reference.repository()
    }

    /// The tag the image goes under, or its digest when the reference names none.
    fn tag_for(&self, top: &RawManifest) -> String {
        self.reference
            .tag()
            .map(str::to_string)
            .unwrap_or_else(|| top.digest.to_string())
    }

    fn blob_context(&self, blob: &Descriptor) -> String {
        format!("uploading {} to {}", blob.digest, self.reference.name())
    }

    async fn upload(
        &self,
        blob: &Descriptor,
        open: &OpenBlob,
        progress: &dyn BlobProgress,
    ) -> Result<(), RegistryError> {
        let client = &self.client;
        let mut started = self
            .started
            .lock()
            .expect("not poisoned")
            .remove(&blob.digest);
        progress.started();
        let mut attempt = 0;
        loop {
            let url = match started.take() {
                Some(url) => url,
                None => client.start_upload(self.repository()).await?,
            };
            let chunk = self.chunking.current();
            let result = match chunk {
                Some(chunk) => self.upload_chunked(&url, blob, chunk, open, progress).await,
                None => {
                    let body = body_of(open, 0, blob.size);
                    client.put_blob(&url, &blob.digest, blob.size, body).await
                }
            };
            match result {
                Ok(()) => return Ok(()),
                // Too large a body: the same bytes in smaller requests, in a fresh session.
                Err(e) if e.status() == Some(StatusCode::PAYLOAD_TOO_LARGE) => {
                    if !self.chunking.shrink(chunk.unwrap_or(blob.size)) {
                        return Err(e);
                    }
                    progress.restarted();
                }
                Err(e) if attempt + 1 < BLOB_ATTEMPTS && worth_retrying(&e) => {
                    attempt += 1;
                    progress.restarted()
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// PATCH chunk by chunk; after a failed chunk, ask the registry how much it kept and go
    /// on from there instead of starting over.
    async fn upload_chunked(
        &self,
        url: &str,
        blob: &Descriptor,
        chunk: u64,
        open: &OpenBlob,
        progress: &dyn BlobProgress,
    ) -> Result<(), RegistryError> {
        let client = &self.client;
        let mut url = url.to_string();
        let mut offset = 0;
        let mut failures = 0;
        while offset < blob.size {
            let len = chunk.min(blob.size - offset);
            let body = body_of(open, offset, len);
            match client.patch_chunk(&url, offset, len, body).await {
                Ok(next) => {
                    url = next;
                    offset += len;
                }
                Err(e) if failures < BLOB_ATTEMPTS && e.is_temporary() => {
                    failures += 1;
                    (offset, url) = match client.upload_offset(&url).await? {
                        (Some(kept), next) if kept <= blob.size => (kept, next),
                        // It cannot say (`0-0` is empty or one byte): start a fresh upload,
                        // which loses at most a byte. Guessing is worse: distribution 2.8
                        // appends what it is sent whatever its Content-Range, and the blob
                        // comes out corrupt.
                        _ => (0, client.start_upload(self.repository()).await?),
                    };
                    progress.resumed_at(offset);
                }
                Err(e) => return Err(e),
            }
        }
        client.finish_upload(&url, &blob.digest).await
    }
}

impl image::Destination for RemoteDestination {
    fn has_image<'a>(&'a self, top: &'a RawManifest) -> BoxFuture<'a, anyhow::Result<bool>> {
        Box::pin(async move {
            let tag = self.tag_for(top);
            let current = self.client.head_manifest(self.repository(), &tag).await?;
            Ok(current.as_ref() == Some(&top.digest))
        })
    }

    fn has_blob<'a>(&'a self, blob: &'a Descriptor) -> BoxFuture<'a, anyhow::Result<Option<u64>>> {
        Box::pin(async move {
            self.client
                .blob_exists(self.repository(), &blob.digest)
                .await
                .map_err(anyhow::Error::from)
                .with_context(|| self.blob_context(blob))
        })
    }

    /// Only repositories on this registry other than the destination's can serve a mount.
    fn mount<'a>(
        &'a self,
        blob: &'a Descriptor,
        locations: &'a [String],
    ) -> BoxFuture<'a, anyhow::Result<Option<String>>> {
        Box::pin(async move {
            for from in mount_candidates(&self.reference, locations) {
                match self
                    .client
                    .mount_blob(self.repository(), &blob.digest, &from)
                    .await
                {
                    Ok(MountOutcome::Mounted) => return Ok(Some(from)),
                    // Declined (202): the registry opened an ordinary upload for us; use it.
                    Ok(MountOutcome::UploadStarted(url)) => {
                        let mut started = self.started.lock().expect("not poisoned");
                        started.insert(blob.digest.clone(), url);
                        return Ok(None);
                    }
                    // Refused outright (e.g. no pull right on the source): just upload.
                    Err(_) => continue,
                }
            }
            Ok(None)
        })
    }

    fn put_blob<'a>(
        &'a self,
        blob: &'a Descriptor,
        open: OpenBlob,
        progress: &'a dyn BlobProgress,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            self.upload(blob, &open, progress)
                .await
                .map_err(anyhow::Error::from)
                .with_context(|| self.blob_context(blob))
        })
    }

    fn put_manifest<'a>(
        &'a self,
        manifest: &'a RawManifest,
        named: bool,
    ) -> BoxFuture<'a, anyhow::Result<Digest>> {
        Box::pin(async move {
            if !named {
                let digest = manifest.digest.to_string();
                return self
                    .client
                    .put_manifest(self.repository(), &digest, manifest)
                    .await
                    .with_context(|| {
                        format!(
                            "uploading manifest {} to {}",
                            manifest.digest,
                            self.reference.name()
                        )
                    });
            }
            let tag = self.tag_for(manifest);
            self.client
                .put_manifest(self.repository(), &tag, manifest)
                .await
                .with_context(|| format!("uploading the manifest of {}", self.reference))
        })
    }
}

/// The repositories in `locations` (`registry/repo`) that are on `destination`'s registry
/// and are not the destination itself.
pub fn mount_candidates(destination: &Reference, locations: &[String]) -> Vec<String> {
    let prefix = format!("{}/", destination.registry());
    locations
        .iter()
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter(|r| *r != destination.repository())
        .map(str::to_string)
        .collect()
}

/// How blobs go up: whole (one PUT each) unless `--chunk-size` says otherwise, in chunks once
/// the registry refuses a body as too large, halved at each refusal. Shared by every blob of
/// a push, so one refusal teaches them all.
struct Chunking(AtomicU64);

/// [`Chunking`]'s value for "whole blobs".
const WHOLE: u64 = u64::MAX;

impl Chunking {
    fn new(chunk_size: Option<u64>) -> Chunking {
        Chunking(AtomicU64::new(chunk_size.map_or(WHOLE, |c| c.max(1))))
    }

    fn current(&self) -> Option<u64> {
        Some(self.0.load(Ordering::Relaxed)).filter(|&c| c != WHOLE)
    }

    /// A body of `refused` bytes was too large: from now on at most half of it. False when
    /// that would go below [`MIN_CHUNK`].
    fn shrink(&self, refused: u64) -> bool {
        let next = (refused / 2).min(FIRST_CHUNK_AFTER_413);
        if next < MIN_CHUNK {
            return false;
        }
        self.0.fetch_min(next, Ordering::Relaxed);
        true
    }
}

fn worth_retrying(error: &RegistryError) -> bool {
    error.is_temporary()
        || error.has_code("BLOB_UPLOAD_INVALID")
        || error.has_code("BLOB_UPLOAD_UNKNOWN")
}

/// A request body of `len` bytes from `offset`, re-opened each time the client asks
/// (retries, re-auth).
fn body_of(open: &OpenBlob, offset: u64, len: u64) -> BodySource {
    let open = open.clone();
    Arc::new(move || {
        let open = open(offset);
        Box::pin(async move {
            let reader = open.await?;
            let stream = tokio_util::io::ReaderStream::with_capacity(reader.take(len), 256 * 1024);
            Ok(reqwest::Body::wrap_stream(stream))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_shrink_from_the_refused_size_and_stop_at_the_floor() {
        let chunking = Chunking::new(None);
        assert_eq!(chunking.current(), None);
        // A 3 MiB whole blob refused: 1.5 MiB chunks, then 768 KiB.
        assert!(chunking.shrink(3 << 20));
        assert_eq!(chunking.current(), Some(1536 << 10));
        assert!(chunking.shrink(1536 << 10));
        assert_eq!(chunking.current(), Some(768 << 10));
        // A large blob refused later never raises what a smaller refusal taught.
        assert!(chunking.shrink(1 << 30));
        assert_eq!(chunking.current(), Some(768 << 10));
        // Halving below the floor gives up.
        assert!(!chunking.shrink(MIN_CHUNK));

        let flag = Chunking::new(Some(0));
        assert_eq!(flag.current(), Some(1));
    }

    #[test]
    fn mounts_come_only_from_other_repositories_on_the_same_registry() {
        let destination = Reference::parse("reg.example:5000/team/app:1").unwrap();
        let locations = [
            "reg.example:5000/team/base".to_string(),
            "reg.example:5000/team/app".to_string(),
            "other.example/team/base".to_string(),
        ];
        assert_eq!(
            mount_candidates(&destination, &locations),
            vec!["team/base".to_string()]
        );
    }
}
