//! The one blob loop every transfer runs (pull, push, copy): each blob the destination lacks
//! is mounted or written from the source, many at once, once per digest, and the results come
//! back in the images' order. It decides how many blobs move at once; how one is written
//! (requests, files, retries) is the destination's business, and drawing is the reporter's.

use super::report::{BlobOutcome, BlobResult, Reporter};
use crate::image::{
    BlobProgress, BlobReader, Descriptor, Destination, OpenBlob, Source, WholeBlobInstead,
};
use crate::types::Digest;
use anyhow::Context as _;
use futures_util::{Stream, StreamExt, TryStreamExt};
use std::collections::HashSet;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::Semaphore;

/// Blobs in flight at once unless `--jobs` says fewer: the layers of nearly every image go in
/// one round trip instead of waves, and a registry sees no more connections than a browser
/// opens to a busy site.
pub const AUTO_JOBS: usize = 32;
/// Bytes of blob writes in flight together. Small blobs all fit at once; large ones share it.
/// Each blob being written holds up to 1 MiB of buffers, so this also bounds their memory:
/// a hundred 1 MiB layers go sixteen at a time, not 32 MiB of buffers at once.
const BYTES_IN_FLIGHT: u64 = 16 << 20;
/// The most of [`BYTES_IN_FLIGHT`] one blob takes, so that at most four large blobs stream
/// at once (each with its own buffers and disk thread) and the disk does not thrash.
const LARGEST_SHARE: u64 = 4 << 20;
/// The budget's grain.
const UNIT: u64 = 64 << 10;

/// Which way blobs move, which words their outcomes take, and what an error names.
pub enum Direction {
    /// Into a local destination from the registry image `from` (its name, for messages).
    Pull { from: String },
    /// Into a registry, whose destination names what failed itself.
    Push,
    /// Into a registry from another registry image.
    Copy,
}

impl Direction {
    fn present(&self) -> BlobOutcome {
        match self {
            Direction::Pull { .. } => BlobOutcome::AlreadyPresent,
            Direction::Push | Direction::Copy => BlobOutcome::AlreadyExists,
        }
    }

    /// A written blob, `kept` bytes of which an earlier run had left.
    fn written(&self, kept: u64) -> BlobOutcome {
        match self {
            Direction::Pull { .. } if kept > 0 => BlobOutcome::Resumed { from: kept },
            Direction::Pull { .. } => BlobOutcome::Downloaded,
            Direction::Push => BlobOutcome::Pushed,
            Direction::Copy => BlobOutcome::Copied,
        }
    }
}

pub struct Transfer<'a> {
    pub destination: &'a dyn Destination,
    pub source: Arc<dyn Source>,
    pub reporter: Arc<dyn Reporter>,
    pub direction: Direction,
    /// The most blobs in flight at once: `--jobs`, or [`AUTO_JOBS`].
    pub jobs: usize,
}

impl Transfer<'_> {
    /// Moves `blobs`, all known up front (so progress knows the total from the start).
    pub async fn all(&self, blobs: &[Descriptor]) -> anyhow::Result<Vec<BlobResult>> {
        let bytes = total(blobs.iter().map(|b| b.size));
        self.reporter.planned(blobs.len(), bytes);
        let blobs = futures_util::stream::iter(blobs.iter().cloned().map(anyhow::Ok));
        Ok(self.run(blobs).await?.0)
    }

    /// Moves blobs as they become known (an index's images, each as it arrives), each once;
    /// progress learns the total when the last is known.
    pub async fn stream(
        &self,
        blobs: impl Stream<Item = anyhow::Result<Descriptor>>,
    ) -> anyhow::Result<Vec<BlobResult>> {
        let (results, count, bytes) = self.run(blobs).await?;
        self.reporter.planned(count, bytes);
        Ok(results)
    }

    /// The loop: every distinct blob once, up to `jobs` at a time within the byte budget;
    /// the results in the order the blobs came, with how many there were and their bytes.
    async fn run(
        &self,
        blobs: impl Stream<Item = anyhow::Result<Descriptor>>,
    ) -> anyhow::Result<(Vec<BlobResult>, usize, u64)> {
        let budget = Semaphore::new(units(BYTES_IN_FLIGHT) as usize);
        let (mut seen, mut bytes) = (HashSet::new(), 0u64);
        let mut results: Vec<(usize, BlobResult)> = blobs
            .try_filter(|blob| {
                let new = seen.insert(blob.digest.clone());
                if new {
                    bytes = bytes.saturating_add(blob.size);
                }
                std::future::ready(new)
            })
            .enumerate()
            .map(|(i, blob)| {
                let budget = &budget;
                async move {
                    let blob = blob?;
                    let outcome = self.move_blob(&blob, budget).await?;
                    self.reporter
                        .blob_finished(&blob.digest, blob.size, &outcome);
                    let result = BlobResult {
                        descriptor: blob,
                        outcome,
                    };
                    anyhow::Ok((i, result))
                }
            })
            .buffer_unordered(self.jobs.max(1))
            .try_collect()
            .await?;
        // Finished in any order; reported in the images' order.
        results.sort_by_key(|(i, _)| *i);
        let count = results.len();
        Ok((results.into_iter().map(|(_, r)| r).collect(), count, bytes))
    }

    /// One blob: already there, mounted, or written from the source.
    async fn move_blob(
        &self,
        blob: &Descriptor,
        budget: &Semaphore,
    ) -> anyhow::Result<BlobOutcome> {
        let moved = async {
            if self.destination.has_blob(blob).await?.is_some() {
                return Ok(self.direction.present());
            }
            let locations = self.source.known_locations(&blob.digest);
            if let Some(from) = self.destination.mount(blob, &locations).await? {
                return Ok(BlobOutcome::Mounted { from });
            }
            // Only bytes that move count against the budget, not the checks before them.
            let share = units(blob.size.min(LARGEST_SHARE)).max(1);
            let _share = budget.acquire_many(share).await?;
            let progress = Progress {
                reporter: self.reporter.clone(),
                blob,
                kept: AtomicU64::new(0),
            };
            let open = opener(&self.source, &self.reporter, &blob.digest);
            self.destination.put_blob(blob, open, &progress).await?;
            Ok(self
                .direction
                .written(progress.kept.load(Ordering::Relaxed)))
        };
        match &self.direction {
            Direction::Pull { from } => moved
                .await
                .with_context(|| format!("downloading {} from {from}", blob.digest)),
            Direction::Push | Direction::Copy => moved.await,
        }
    }
}

/// Sizes are the server's word: a total past u64 must not overflow.
fn total(sizes: impl Iterator<Item = u64>) -> u64 {
    sizes.fold(0, u64::saturating_add)
}

fn units(bytes: u64) -> u32 {
    u32::try_from(bytes.div_ceil(UNIT)).unwrap_or(u32::MAX)
}

/// One blob's turns, told to the reporter.
struct Progress<'a> {
    reporter: Arc<dyn Reporter>,
    blob: &'a Descriptor,
    /// Bytes of an earlier run the write went on from.
    kept: AtomicU64,
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
    fn kept(&self, offset: u64) {
        self.kept.store(offset, Ordering::Relaxed);
    }
}

/// Opens the blob from the source at the offset the destination asks for, restarting this
/// blob's progress from there (or from 0 when the source sends the whole blob instead) and
/// counting every byte read.
fn opener(source: &Arc<dyn Source>, reporter: &Arc<dyn Reporter>, digest: &Digest) -> OpenBlob {
    let (source, reporter, digest) = (source.clone(), reporter.clone(), digest.clone());
    Arc::new(move |offset| {
        let open = source.open_blob(&digest, offset);
        let (reporter, digest) = (reporter.clone(), digest.clone());
        Box::pin(async move {
            let counted = |inner: BlobReader, from: u64| {
                reporter.blob_resumed_at(&digest, from);
                Box::new(Counted {
                    inner,
                    reporter: reporter.clone(),
                    digest: digest.clone(),
                }) as BlobReader
            };
            match open.await {
                Ok(inner) => Ok(counted(inner, offset)),
                Err(e) => match WholeBlobInstead::take(&e) {
                    Some(whole) => Err(WholeBlobInstead::error(offset, counted(whole, 0))),
                    None => Err(e),
                },
            }
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

#[cfg(test)]
#[path = "transfer_tests.rs"]
mod tests;
