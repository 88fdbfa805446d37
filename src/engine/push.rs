//! Push: every blob the destination lacks goes there (or is mounted from a sibling
//! repository), in parallel and streamed from the source; manifests go last, children before
//! their index. The loop knows only [`Source`] and [`Destination`]: a registry-to-registry
//! copy is this loop over a [`super::remote::RemoteImage`].

use super::remote_destination::mount_candidates;
use super::report::{BlobOutcome, BlobResult, Reporter};
use crate::image::{BlobProgress, BlobReader, Descriptor, Destination, OpenBlob, Source};
use crate::reference::Reference;
use crate::types::Digest;
use futures_util::{StreamExt, TryStreamExt};
use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

pub struct PushOptions {
    pub jobs: usize,
}

/// What a push did.
pub struct Pushed {
    pub digest: Digest,
    pub media_type: String,
    /// Every blob in the images' order, with how it reached the destination.
    pub blobs: Vec<BlobResult>,
    /// The destination already held this image under its name: nothing was written.
    pub unchanged: bool,
}

/// The repositories on the destination's registry that a mount could come from; the client
/// needs `pull` on each, asked for up front so one token covers the whole push.
pub fn mount_sources(source: &dyn Source, destination: &Reference) -> anyhow::Result<Vec<String>> {
    let mut repos = HashSet::new();
    for blob in source.blobs()? {
        repos.extend(mount_candidates(
            destination,
            &source.known_locations(&blob.digest),
        ));
    }
    let mut repos: Vec<String> = repos.into_iter().collect();
    repos.sort();
    Ok(repos)
}

pub async fn push(
    destination: &dyn Destination,
    source: Arc<dyn Source>,
    options: &PushOptions,
    reporter: Arc<dyn Reporter>,
) -> anyhow::Result<Pushed> {
    let top = source.top();
    let blobs = source.blobs()?;
    reporter.planned(blobs.len(), blobs.iter().map(|b| b.size).sum());
    if destination.has_image(top).await? {
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
    let mut results: Vec<(usize, BlobResult)> =
        futures_util::stream::iter(blobs.iter().enumerate())
            .map(|(i, blob)| {
                let (source, reporter) = (&source, &reporter);
                async move {
                    let outcome = push_blob(destination, blob, source, reporter).await?;
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
        destination.put_manifest(child, false).await?;
    }
    let digest = destination.put_manifest(top, true).await?;
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
    destination: &dyn Destination,
    blob: &Descriptor,
    source: &Arc<dyn Source>,
    reporter: &Arc<dyn Reporter>,
) -> anyhow::Result<BlobOutcome> {
    if destination.has_blob(blob).await?.is_some() {
        return Ok(BlobOutcome::AlreadyExists);
    }
    let locations = source.known_locations(&blob.digest);
    if let Some(from) = destination.mount(blob, &locations).await? {
        return Ok(BlobOutcome::Mounted { from });
    }
    let progress = Progress {
        reporter: reporter.clone(),
        blob,
    };
    let open = opener(source, reporter, &blob.digest);
    destination.put_blob(blob, open, &progress).await?;
    Ok(BlobOutcome::Pushed)
}

/// One blob's turns, told to the reporter.
struct Progress<'a> {
    reporter: Arc<dyn Reporter>,
    blob: &'a Descriptor,
}

impl BlobProgress for Progress<'_> {
    fn started(&self) {
        self.reporter
            .blob_started(&self.blob.digest, self.blob.size);
    }
    fn restarted(&self) {
        self.reporter.blob_reset(&self.blob.digest);
    }
    fn resumed_at(&self, offset: u64) {
        self.reporter.blob_resumed_at(&self.blob.digest, offset);
    }
}

/// Opens the blob from the source at the offset the destination asks for, restarting this
/// blob's progress from there and counting every byte read.
fn opener(source: &Arc<dyn Source>, reporter: &Arc<dyn Reporter>, digest: &Digest) -> OpenBlob {
    let (source, reporter, digest) = (source.clone(), reporter.clone(), digest.clone());
    Arc::new(move |offset| {
        let open = source.open_blob(&digest, offset);
        let (reporter, digest) = (reporter.clone(), digest.clone());
        Box::pin(async move {
            let inner = open.await?;
            reporter.blob_resumed_at(&digest, offset);
            Ok(Box::new(Counted {
                inner,
                reporter,
                digest,
            }) as BlobReader)
        })
    })
}

/// A reader that reports each read as progress of its blob.
struct Counted {
    inner: BlobReader,
    reporter: Arc<dyn Reporter>,
    digest: Digest,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        let read = buf.filled().len() - before;
        if read > 0 {
            this.reporter.blob_progress(&this.digest, read as u64);
        }
        poll
    }
}
