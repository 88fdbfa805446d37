//! Pull: resolve the reference to manifests, then stream every blob the destination lacks
//! straight to disk in parallel, verified as it arrives, resuming partial files.

use super::report::{BlobOutcome, BlobResult, Reporter};
use crate::image::platform::{self, Platform, PlatformChoice};
use crate::image::{manifest, Descriptor, ImageIndex, RawManifest};
use crate::reference::Reference;
use crate::registry::{RegistryClient, RegistryError};
use crate::store::layout::Layout;
use crate::store::StoreError;
use crate::types::Digest;
use anyhow::{bail, Context};
use futures_util::{StreamExt, TryStreamExt};
use std::collections::HashSet;

/// How often one blob's download may be cut and resumed before the pull gives up.
const BLOB_ATTEMPTS: u32 = 5;

/// The most entries an index may list. Real ones list a few dozen platforms (plus attestations);
/// a server sending more is not describing an image.
pub const MAX_INDEX_ENTRIES: usize = 10_000;

/// What a pull resolved and fetched.
pub struct PulledImage {
    /// The manifest (or index) the reference points at: its digest is what `pull` prints.
    pub top: RawManifest,
    /// What the destination's index entry points at: `top`, or the chosen platform's manifest.
    pub stored: Descriptor,
    /// Every blob in the images' order, with how it got into the layout.
    pub blobs: Vec<BlobResult>,
}

/// The manifests a reference resolved to and the blobs they need, before any blob moves and
/// before anything is written: a pull of a missing tag leaves no destination behind.
pub struct Plan {
    top: RawManifest,
    stored: Descriptor,
    manifests: Vec<RawManifest>,
    /// For `--platform all`: every image of the index, once per digest, fetched by [`fetch`]
    /// and written as each arrives rather than held together in memory.
    children: Vec<Descriptor>,
    blobs: Vec<Descriptor>,
}

/// Streams every blob of `plan` that `layout` lacks, then its manifests.
pub async fn fetch(
    client: &RegistryClient,
    reference: &Reference,
    plan: Plan,
    layout: &Layout,
    jobs: usize,
    reporter: &dyn Reporter,
) -> anyhow::Result<PulledImage> {
    let mut plan = plan;
    let repository = reference.repository();
    let mut seen: HashSet<Digest> = plan.blobs.iter().map(|b| b.digest.clone()).collect();
    // Ordered, so the blob list does not depend on which answer came first.
    let mut children = futures_util::stream::iter(&plan.children)
        .map(|child| fetch_child(client, reference, child, layout))
        .buffered(jobs.max(1));
    while let Some(blobs) = children.next().await {
        for blob in blobs? {
            if seen.insert(blob.digest.clone()) {
                plan.blobs.push(blob);
            }
        }
    }
    drop(children);
    // Sizes are the server's word: a total past u64 must not overflow.
    let total = plan
        .blobs
        .iter()
        .fold(0u64, |t, b| t.saturating_add(b.size));
    reporter.planned(plan.blobs.len(), total);
    let mut results: Vec<(usize, BlobResult)> =
        futures_util::stream::iter(plan.blobs.iter().enumerate())
            .map(|(i, blob)| async move {
                let outcome = fetch_blob(client, repository, blob, layout, reporter)
                    .await
                    .with_context(|| {
                        format!("downloading {} from {}", blob.digest, reference.name())
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
            })
            .buffer_unordered(jobs.max(1))
            .try_collect()
            .await?;
    // Finished in any order; reported in the images' order.
    results.sort_by_key(|(i, _)| *i);
    // Manifests last, so an index never points at something missing.
    for m in plan.manifests.iter().chain([&plan.top]) {
        layout.put_blob_bytes(&m.bytes).await?;
    }
    // Before anything records the image: the blobs' renames must outlive a crash too.
    layout.sync_blobs().await;
    layout
        .record_locations(plan.blobs.iter().map(|b| &b.digest), &reference.name())
        .await?;
    Ok(PulledImage {
        top: plan.top,
        stored: plan.stored,
        blobs: results.into_iter().map(|(_, r)| r).collect(),
    })
}

/// Fetches the manifest (and for an index, the chosen platforms' manifests) and lists the blobs.
pub async fn resolve(
    client: &RegistryClient,
    reference: &Reference,
    platform: &PlatformChoice,
) -> anyhow::Result<Plan> {
    let repository = reference.repository();
    let top = client
        .get_manifest(repository, &reference.manifest_reference())
        .await
        .with_context(|| format!("fetching the manifest of {}", reference.original()))?;
    let mut manifests = Vec::new();
    let stored;
    let mut children = Vec::new();
    let images: Vec<RawManifest> = if top.is_index() {
        let index = read_index(reference, &top)?;
        let wanted: Vec<&Descriptor> = match platform.wanted() {
            None => {
                let mut seen = HashSet::new();
                children = index
                    .manifests
                    .into_iter()
                    .filter(|d| seen.insert(d.digest.clone()))
                    .collect();
                vec![]
            }
            Some(wanted) => match platform::select(&index, wanted) {
                Some(d) => vec![d],
                None => bail!(
                    "{} has no image for {wanted}; it has: {} (choose one with --platform, or --platform all)",
                    reference.original(),
                    platform::platforms(&index).join(", ")
                ),
            },
        };
        let mut images = Vec::new();
        for child in wanted {
            images.push(get_image_manifest(client, reference, child).await?);
        }
        stored = match images.first() {
            Some(image) => image.descriptor(),
            None => top.descriptor(),
        };
        manifests.extend(images.iter().cloned());
        images
    } else {
        if let PlatformChoice::One(wanted) = platform {
            check_platform(client, reference, &top, wanted).await?;
        }
        stored = top.descriptor();
        vec![top.clone()]
    };
    let blobs = manifest::blobs_of(&images)?;
    Ok(Plan {
        top,
        stored,
        manifests,
        children,
        blobs,
    })
}

/// The index `top`, within [`MAX_INDEX_ENTRIES`].
pub(super) fn read_index(reference: &Reference, top: &RawManifest) -> anyhow::Result<ImageIndex> {
    let index = top.index()?;
    if index.manifests.len() > MAX_INDEX_ENTRIES {
        bail!(
            "{}: the image index lists {} manifests, more than hoist accepts ({MAX_INDEX_ENTRIES})",
            reference.original(),
            index.manifests.len()
        );
    }
    Ok(index)
}

/// An index's entry, which must be an image manifest (nested indexes are not supported).
pub(super) async fn get_image_manifest(
    client: &RegistryClient,
    reference: &Reference,
    child: &Descriptor,
) -> anyhow::Result<RawManifest> {
    let m = client
        .get_manifest(reference.repository(), &child.digest.to_string())
        .await
        .with_context(|| format!("fetching {} of {}", child.digest, reference.original()))?;
    if m.is_index() {
        bail!(
            "{}: nested image indexes are not supported",
            reference.original()
        );
    }
    Ok(m)
}

/// One image of `--platform all`: fetched, written to the destination at once, and only its
/// blob list kept.
async fn fetch_child(
    client: &RegistryClient,
    reference: &Reference,
    child: &Descriptor,
    layout: &Layout,
) -> anyhow::Result<Vec<Descriptor>> {
    let m = get_image_manifest(client, reference, child).await?;
    let blobs = m.image()?.blobs().collect();
    layout.put_blob_bytes(&m.bytes).await?;
    Ok(blobs)
}

/// A single-platform image asked for with `--platform` must be for that platform, as with
/// `docker pull --platform`: its config says which it is.
async fn check_platform(
    client: &RegistryClient,
    reference: &Reference,
    image: &RawManifest,
    wanted: &Platform,
) -> anyhow::Result<()> {
    let config = image.image()?.config;
    if config.size > CONFIG_LIMIT {
        bail!(
            "{}: the image config is {} bytes, too large to check its platform",
            reference.original(),
            config.size
        );
    }
    let download = client
        .get_blob(reference.repository(), &config.digest, 0)
        .await
        .with_context(|| format!("fetching the config of {}", reference.original()))?;
    let mut body = download.response.bytes_stream();
    let mut bytes = Vec::new();
    // A config is small: one deadline for all of it, as for a manifest.
    let deadline = client.timeouts().attempt;
    let read = async {
        while let Some(chunk) = body.next().await {
            bytes.extend_from_slice(&chunk?);
            if bytes.len() as u64 > config.size {
                break;
            }
        }
        anyhow::Ok(())
    };
    tokio::time::timeout(deadline, read).await.map_err(|_| {
        anyhow::anyhow!(
            "{}: the image config did not arrive within {} s",
            reference.original(),
            deadline.as_secs()
        )
    })??;
    if Digest::of(&bytes) != config.digest {
        bail!(
            "{}: the image config does not match its digest {}",
            reference.original(),
            config.digest
        );
    }
    let actual = Platform::of_config(&bytes)?;
    if !actual.matches(wanted) {
        bail!(
            "{} is a single-platform image for {actual}, not {wanted} (pull it without --platform to take it anyway)",
            reference.original(),
        );
    }
    Ok(())
}

/// Image configs are a few KiB; one larger than this is not read into memory to check it.
const CONFIG_LIMIT: u64 = 8 << 20;

/// One blob, resumed across cut connections: each attempt continues where the file ends.
async fn fetch_blob(
    client: &RegistryClient,
    repository: &str,
    blob: &Descriptor,
    layout: &Layout,
    reporter: &dyn Reporter,
) -> anyhow::Result<BlobOutcome> {
    if layout.has_blob(&blob.digest).await == Some(blob.size) {
        return Ok(BlobOutcome::AlreadyPresent);
    }
    reporter.blob_started(&blob.digest, blob.size);
    let mut trust_partial = true;
    loop {
        let mut writer = layout.begin_blob(&blob.digest, Some(blob.size)).await?;
        if !trust_partial {
            writer.restart().await?;
        }
        let resumed_from = writer.offset();
        reporter.blob_resumed_at(&blob.digest, resumed_from);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match stream_into(client, repository, &blob.digest, &mut writer, reporter).await {
                Ok(()) => break,
                Err(e) if attempt < BLOB_ATTEMPTS && is_cut(&e) => continue,
                Err(e) => return Err(e),
            }
        }
        match writer.commit().await {
            Ok(_) if resumed_from > 0 => return Ok(BlobOutcome::Resumed { from: resumed_from }),
            Ok(_) => return Ok(BlobOutcome::Downloaded),
            // The bytes kept from an earlier run were bad (a crash can leave zeros behind):
            // fetch the whole blob once more before blaming the registry.
            Err(StoreError::DigestMismatch { .. }) if resumed_from > 0 && trust_partial => {
                reporter.blob_reset(&blob.digest);
                trust_partial = false;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

async fn stream_into(
    client: &RegistryClient,
    repository: &str,
    digest: &Digest,
    writer: &mut crate::store::BlobWriter,
    reporter: &dyn Reporter,
) -> anyhow::Result<()> {
    let download = client.get_blob(repository, digest, writer.offset()).await?;
    if download.offset != writer.offset() {
        // The registry ignored our Range request: start the file over.
        writer.restart().await?;
        reporter.blob_reset(digest);
    }
    let mut body = download.response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(RegistryError::cut)?;
        writer.write(&chunk).await?;
        reporter.blob_progress(digest, chunk.len() as u64);
    }
    Ok(())
}

/// Only a cut body is resumed here: the client has already retried temporary request failures
/// with backoff, and retrying those again would multiply the bound.
fn is_cut(error: &anyhow::Error) -> bool {
    error.chain().any(|c| {
        c.downcast_ref::<RegistryError>()
            .is_some_and(RegistryError::is_cut)
    })
}
