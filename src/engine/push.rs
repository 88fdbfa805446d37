//! Push: every blob the registry lacks goes up (or is mounted from a sibling repository),
//! in parallel and streamed from disk; manifests go last, children before their index.
//!
//! Per blob, the fewest round trips: HEAD (skip) → mount (when another repository on the same
//! registry is known to hold it) → POST + one streamed PUT, or PATCH chunks with `--chunk-size`
//! or once the registry refuses a body as too large.

use super::report::{BlobOutcome, BlobResult, Reporter};
use crate::image::{Descriptor, Source};
use crate::reference::Reference;
use crate::registry::blobs::MountOutcome;
use crate::registry::{BodySource, RegistryClient, RegistryError};
use crate::types::Digest;
use anyhow::Context;
use futures_util::{StreamExt, TryStreamExt};
use reqwest::StatusCode;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::AsyncReadExt;

/// Whole-blob attempts (each a fresh upload session) before the push gives up.
const BLOB_ATTEMPTS: u32 = 3;
/// The largest chunk tried once a registry (or a proxy in front of it, such as nginx with its
/// 1 MiB default `client_max_body_size`) refuses a request body as too large (413).
const FIRST_CHUNK_AFTER_413: u64 = 16 << 20;
/// Halving stops here: a registry that refuses this little wants something else.
const MIN_CHUNK: u64 = 64 << 10;

pub struct PushOptions {
    pub jobs: usize,
    pub chunk_size: Option<u64>,
}

/// What a push did.
pub struct Pushed {
    pub digest: Digest,
    pub media_type: String,
    /// Every blob in the images' order, with how it reached the registry.
    pub blobs: Vec<BlobResult>,
    /// The tag already pointed at this digest: nothing was uploaded.
    pub unchanged: bool,
}

/// The repositories on the destination's registry that a mount could come from; the client
/// needs `pull` on each, asked for up front so one token covers the whole push.
pub fn mount_sources(source: &dyn Source, destination: &Reference) -> anyhow::Result<Vec<String>> {
    let prefix = format!("{}/", destination.registry());
    let mut repos = HashSet::new();
    for blob in source.blobs()? {
        for location in source.known_locations(&blob.digest) {
            if let Some(repo) = location.strip_prefix(&prefix) {
                if repo != destination.repository() {
                    repos.insert(repo.to_string());
                }
            }
        }
    }
    let mut repos: Vec<String> = repos.into_iter().collect();
    repos.sort();
    Ok(repos)
}

pub async fn push(
    client: &RegistryClient,
    destination: &Reference,
    source: Arc<dyn Source>,
    options: &PushOptions,
    reporter: Arc<dyn Reporter>,
) -> anyhow::Result<Pushed> {
    let repository = destination.repository();
    let top = source.top();
    let tag = destination
        .tag()
        .map(str::to_string)
        .unwrap_or_else(|| top.digest.to_string());
    let blobs = source.blobs()?;
    reporter.planned(blobs.len(), blobs.iter().map(|b| b.size).sum());
    if client.head_manifest(repository, &tag).await? == Some(top.digest.clone()) {
        for blob in &blobs {
            reporter.blob_finished(&blob.digest, blob.size, &BlobOutcome::AlreadyExists);
        }
        let blobs = blobs
            .into_iter()
            .map(|descriptor| BlobResult {
                descriptor,
                outcome: BlobOutcome::AlreadyExists,
            })
            .collect();
        return Ok(Pushed {
            digest: top.digest.clone(),
            media_type: top.media_type.clone(),
            blobs,
            unchanged: true,
        });
    }
    let prefix = format!("{}/", destination.registry());
    let chunking = Chunking::new(options.chunk_size);
    let mut results: Vec<(usize, BlobResult)> =
        futures_util::stream::iter(blobs.iter().enumerate())
            .map(|(i, blob)| {
                let mounts: Vec<String> = source
                    .known_locations(&blob.digest)
                    .iter()
                    .filter_map(|l| l.strip_prefix(&prefix).map(str::to_string))
                    .filter(|r| r != repository)
                    .collect();
                let (source, reporter, chunking) = (&source, &reporter, &chunking);
                async move {
                    let outcome = push_blob(
                        client, repository, blob, &mounts, source, chunking, reporter,
                    )
                    .await
                    .with_context(|| {
                        format!("uploading {} to {}", blob.digest, destination.name())
                    })?;
                    reporter.blob_finished(&blob.digest, blob.size, &outcome);
                    let descriptor = blob.clone();
                    anyhow::Ok((
                        i,
                        BlobResult {
                            descriptor,
                            outcome,
                        },
                    ))
                }
            })
            .buffer_unordered(options.jobs.max(1))
            .try_collect()
            .await?;
    for child in source.children() {
        client
            .put_manifest(repository, &child.digest.to_string(), child)
            .await
            .with_context(|| {
                format!(
                    "uploading manifest {} to {}",
                    child.digest,
                    destination.name()
                )
            })?;
    }
    let digest = client
        .put_manifest(repository, &tag, top)
        .await
        .with_context(|| format!("uploading the manifest of {}", destination.original()))?;
    // Finished in any order; reported in the images' order.
    results.sort_by_key(|(i, _)| *i);
    Ok(Pushed {
        digest,
        media_type: top.media_type.clone(),
        blobs: results.into_iter().map(|(_, r)| r).collect(),
        unchanged: false,
    })
}

async fn push_blob(
    client: &RegistryClient,
    repository: &str,
    blob: &Descriptor,
    mounts: &[String],
    source: &Arc<dyn Source>,
    chunking: &Chunking,
    reporter: &Arc<dyn Reporter>,
) -> anyhow::Result<BlobOutcome> {
    if client
        .blob_exists(repository, &blob.digest)
        .await?
        .is_some()
    {
        return Ok(BlobOutcome::AlreadyExists);
    }
    let mut started_upload = None;
    for from in mounts {
        match client.mount_blob(repository, &blob.digest, from).await {
            Ok(MountOutcome::Mounted) => return Ok(BlobOutcome::Mounted { from: from.clone() }),
            // Declined (202): the registry opened an ordinary upload for us; use it.
            Ok(MountOutcome::UploadStarted(url)) => {
                started_upload = Some(url);
                break;
            }
            // Refused outright (e.g. no pull right on the source): just upload.
            Err(_) => continue,
        }
    }
    reporter.blob_started(&blob.digest, blob.size);
    let mut attempt = 0;
    loop {
        let url = match started_upload.take() {
            Some(url) => url,
            None => client.start_upload(repository).await?,
        };
        let chunk = chunking.current();
        let result = match chunk {
            Some(chunk) => {
                upload_chunked(client, repository, &url, blob, chunk, source, reporter).await
            }
            None => upload_whole(client, &url, blob, source, reporter).await,
        };
        match result {
            Ok(()) => return Ok(BlobOutcome::Pushed),
            // Too large a body: the same bytes in smaller requests, in a fresh session.
            Err(e) if e.status() == Some(StatusCode::PAYLOAD_TOO_LARGE) => {
                if !chunking.shrink(chunk.unwrap_or(blob.size)) {
                    return Err(e.into());
                }
                reporter.blob_reset(&blob.digest);
            }
            Err(e) if attempt + 1 < BLOB_ATTEMPTS && worth_retrying(&e) => {
                attempt += 1;
                reporter.blob_reset(&blob.digest)
            }
            Err(e) => return Err(e.into()),
        }
    }
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

async fn upload_whole(
    client: &RegistryClient,
    url: &str,
    blob: &Descriptor,
    source: &Arc<dyn Source>,
    reporter: &Arc<dyn Reporter>,
) -> Result<(), RegistryError> {
    let body = body_of(source, reporter, &blob.digest, 0, blob.size);
    client.put_blob(url, &blob.digest, blob.size, body).await
}

/// PATCH chunk by chunk; after a failed chunk, ask the registry how much it kept and go on
/// from there instead of starting over.
async fn upload_chunked(
    client: &RegistryClient,
    repository: &str,
    url: &str,
    blob: &Descriptor,
    chunk: u64,
    source: &Arc<dyn Source>,
    reporter: &Arc<dyn Reporter>,
) -> Result<(), RegistryError> {
    let mut url = url.to_string();
    let mut offset = 0;
    let mut failures = 0;
    while offset < blob.size {
        let len = chunk.min(blob.size - offset);
        let body = body_of(source, reporter, &blob.digest, offset, len);
        match client.patch_chunk(&url, offset, len, body).await {
            Ok(next) => {
                url = next;
                offset += len;
            }
            Err(e) if failures < BLOB_ATTEMPTS && e.is_temporary() => {
                failures += 1;
                (offset, url) = match client.upload_offset(&url).await? {
                    (Some(kept), next) if kept <= blob.size => (kept, next),
                    // It cannot say (`0-0` is empty or one byte): start a fresh upload, which
                    // loses at most a byte. Guessing is worse: distribution 2.8 appends what
                    // it is sent whatever its Content-Range, and the blob comes out corrupt.
                    _ => (0, client.start_upload(repository).await?),
                };
                reporter.blob_resumed_at(&blob.digest, offset);
            }
            Err(e) => return Err(e),
        }
    }
    client.finish_upload(&url, &blob.digest).await
}

/// A body that re-opens the blob from disk each time the client asks (retries, re-auth),
/// restarting this blob's progress from where the body starts.
fn body_of(
    source: &Arc<dyn Source>,
    reporter: &Arc<dyn Reporter>,
    digest: &Digest,
    offset: u64,
    len: u64,
) -> BodySource {
    let (source, reporter, digest) = (source.clone(), reporter.clone(), digest.clone());
    Arc::new(move || {
        let open = source.open_blob(&digest, offset);
        let (reporter, digest) = (reporter.clone(), digest.clone());
        Box::pin(async move {
            let reader = open.await?;
            reporter.blob_resumed_at(&digest, offset);
            let stream = tokio_util::io::ReaderStream::with_capacity(reader.take(len), 256 * 1024)
                .inspect(move |chunk| {
                    if let Ok(bytes) = chunk {
                        reporter.blob_progress(&digest, bytes.len() as u64);
                    }
                });
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
}
