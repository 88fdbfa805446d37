//! [`LayoutDestination`]: an OCI layout (the store, `--output DIR`, or the working layout of a
//! tarball) as an [`image::Destination`], so a pull runs the same loop as a push. Each blob is
//! streamed into a resumable partial file: a cut body goes on from where it stopped, a source
//! that starts over is followed, and bad bytes kept from an earlier run are fetched once more.
//! Naming the image, syncing and recording locations are the pull's last steps, not this.

use crate::image::source::is_cut;
use crate::image::WholeBlobInstead;
use crate::image::{self, BlobProgress, BlobReader, Descriptor, OpenBlob, RawManifest};
use crate::registry::RegistryError;
use crate::store::layout::{BlobWriter, Layout};
use crate::store::StoreError;
use crate::types::Digest;
use futures_util::future::BoxFuture;

/// How often one blob's download may be cut and resumed before the pull gives up.
const BLOB_ATTEMPTS: u32 = 5;

pub struct LayoutDestination {
    layout: Layout,
}

/// Why one pass of streaming a blob stopped.
enum Stop {
    /// The body was cut: resume from what was written.
    Cut(std::io::Error),
    /// Anything else, opening included: the source has already retried what was worth it.
    Failed(anyhow::Error),
}

impl LayoutDestination {
    pub fn new(layout: Layout) -> LayoutDestination {
        LayoutDestination { layout }
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Writes the blob, resuming a partial file; trusts the partial's bytes once, and when they
    /// turn out bad (a crash can leave zeros behind) fetches the whole blob before blaming
    /// the source.
    async fn write(
        &self,
        blob: &Descriptor,
        open: &OpenBlob,
        progress: &dyn BlobProgress,
    ) -> anyhow::Result<()> {
        progress.started();
        let mut trust_partial = true;
        loop {
            let mut writer = self
                .layout
                .begin_blob(&blob.digest, Some(blob.size))
                .await?;
            if !trust_partial {
                writer.restart().await?;
            }
            let mut kept = writer.offset();
            progress.kept(kept);
            let mut attempt = 0;
            loop {
                attempt += 1;
                match stream_into(&mut writer, open, progress, &mut kept).await {
                    Ok(()) => break,
                    Err(Stop::Cut(_)) if attempt < BLOB_ATTEMPTS => continue,
                    Err(Stop::Cut(e)) => return Err(source_error(e)),
                    Err(Stop::Failed(e)) => return Err(e),
                }
            }
            match writer.commit().await {
                Ok(_) => return Ok(()),
                Err(StoreError::DigestMismatch { .. }) if kept > 0 && trust_partial => {
                    progress.restarted();
                    trust_partial = false;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// One pass: open the source where the file ends and append until the body ends. `kept` (the
/// bytes of an earlier run the file goes on from) drops to 0 if the source starts over.
async fn stream_into(
    writer: &mut BlobWriter,
    open: &OpenBlob,
    progress: &dyn BlobProgress,
    kept: &mut u64,
) -> Result<(), Stop> {
    let mut reader: BlobReader = match open(writer.offset()).await {
        Ok(reader) => reader,
        Err(e) => match WholeBlobInstead::take(&e) {
            // The registry ignored the Range request: start the file over with what it sent.
            Some(whole) => {
                writer.restart().await.map_err(|e| Stop::Failed(e.into()))?;
                *kept = 0;
                progress.kept(0);
                whole
            }
            None => return Err(Stop::Failed(source_error(e))),
        },
    };
    loop {
        match writer.write_from(reader.as_mut()).await {
            Ok(Ok(0)) => return Ok(()),
            Ok(Ok(_)) => {}
            Ok(Err(e)) if is_cut(&e) => return Err(Stop::Cut(e)),
            Ok(Err(e)) => return Err(Stop::Failed(source_error(e))),
            Err(e) => return Err(Stop::Failed(e.into())),
        }
    }
}

/// A source's I/O error, with the registry's error (when that is what it carries) kept as
/// itself, so the error chain can still say "cannot connect" or "not logged in" for it.
fn source_error(error: std::io::Error) -> anyhow::Error {
    let kind = error.kind();
    match error.into_inner() {
        Some(inner) => match inner.downcast::<RegistryError>() {
            Ok(registry) => anyhow::Error::from(*registry),
            Err(inner) => std::io::Error::new(kind, inner).into(),
        },
        None => std::io::Error::from(kind).into(),
    }
}

impl image::Destination for LayoutDestination {
    /// A layout is named by the pull once everything is in; until then it holds no image.
    fn has_image<'a>(&'a self, _top: &'a RawManifest) -> BoxFuture<'a, anyhow::Result<bool>> {
        Box::pin(async { Ok(false) })
    }

    /// Only a complete blob counts: one of another size is no use.
    fn has_blob<'a>(&'a self, blob: &'a Descriptor) -> BoxFuture<'a, anyhow::Result<Option<u64>>> {
        Box::pin(async move {
            let size = self.layout.has_blob(&blob.digest).await;
            Ok(size.filter(|&size| size == blob.size))
        })
    }

    fn put_blob<'a>(
        &'a self,
        blob: &'a Descriptor,
        open: OpenBlob,
        progress: &'a dyn BlobProgress,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move { self.write(blob, &open, progress).await })
    }

    /// Stores the manifest's bytes; the layout's index names the image later, in one step.
    fn put_manifest<'a>(
        &'a self,
        manifest: &'a RawManifest,
        _named: bool,
    ) -> BoxFuture<'a, anyhow::Result<Digest>> {
        Box::pin(async move { Ok(self.layout.put_blob_bytes(&manifest.bytes).await?) })
    }
}
