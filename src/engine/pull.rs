//! Pull: resolve the reference to manifests, then move every blob the layout lacks through the
//! one transfer loop (a [`RemoteImage`] into a [`LayoutDestination`]), verified as it arrives
//! and resuming partial files; manifests go last, children before their index.

use super::foreign::Foreign;
use super::layout_destination::LayoutDestination;
use super::mirrors::Endpoints;
use super::remote::{self, fetch_children, MANIFESTS_AT_ONCE};
use super::report::{BlobResult, Reporter};
use super::transfer::{Direction, Transfer};
use crate::image::platform::{self, Platform, PlatformChoice};
use crate::image::{manifest, Descriptor, Destination as _, ImageIndex, RawManifest};
use crate::reference::Reference;
use crate::registry::RegistryClient;
use crate::store::layout::Layout;
use anyhow::{bail, Context};
use futures_util::TryStreamExt;
use std::sync::Arc;

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

/// Moves every blob of `plan` that `layout` lacks through the one transfer loop, then writes
/// its manifests (children before the index), syncs the blobs and records where they live.
/// Naming the image is left to the caller, after all of this.
pub async fn fetch(
    from: &Endpoints,
    reference: &Reference,
    plan: Plan,
    layout: &Layout,
    jobs: usize,
    reporter: Arc<dyn Reporter>,
    fetch_foreign: bool,
) -> anyhow::Result<PulledImage> {
    let destination = LayoutDestination::new(layout.clone());
    let foreign = Foreign::new(reporter.clone(), fetch_foreign);
    let source = foreign.source(from.source(plan.top.clone(), plan.manifests.clone()))?;
    let transfer = Transfer {
        destination: &destination,
        source,
        reporter,
        direction: Direction::Pull {
            from: reference.name(),
        },
        jobs,
    };
    let mut blobs = if plan.children.is_empty() {
        let images = match plan.top.is_index() {
            true => plan.manifests.iter().collect(),
            false => vec![&plan.top],
        };
        let fetched = foreign.found(manifest::foreign_of(images)?);
        transfer.all(&[plan.blobs, fetched].concat()).await?
    } else {
        // `--platform all`: each image is written as it arrives and only its blob list kept,
        // so a huge index is never held whole; its blobs start as soon as it is known.
        let (destination, foreign) = (&destination, &foreign);
        let at_once = jobs.min(MANIFESTS_AT_ONCE);
        let serving = from.serving();
        let blobs = fetch_children(&serving.client, &serving.reference, plan.children, at_once)
            .and_then(|image| async move {
                let mut blobs: Vec<Descriptor> = image.image()?.blobs().collect();
                blobs.extend(foreign.found(image.image()?.foreign_layers()));
                destination.put_manifest(&image, false).await?;
                anyhow::Ok(futures_util::stream::iter(
                    blobs.into_iter().map(anyhow::Ok),
                ))
            })
            .try_flatten();
        transfer.stream(blobs).await?
    };
    blobs.extend(foreign.skipped());
    // Manifests last, so an index never points at something missing.
    for image in &plan.manifests {
        destination.put_manifest(image, false).await?;
    }
    destination.put_manifest(&plan.top, true).await?;
    // Before anything records the image: the blobs' renames must outlive a crash too.
    layout.sync_blobs().await;
    layout
        .record_locations(
            blobs.iter().map(|b| &b.descriptor.digest),
            &reference.name(),
        )
        .await?;
    Ok(PulledImage {
        top: plan.top,
        stored: plan.stored,
        blobs,
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
        .with_context(|| format!("fetching the manifest of {}", reference))?;
    let mut manifests = Vec::new();
    let stored;
    let mut children = Vec::new();
    let images: Vec<RawManifest> = if top.is_index() {
        let index = read_index(reference, &top)?;
        let wanted: Vec<&Descriptor> = match platform.wanted() {
            None => {
                children = index.manifests;
                vec![]
            }
            Some(wanted) => match platform::select(&index, wanted) {
                Some(d) => vec![d],
                None => bail!(
                    "{} has no image for {wanted}; it has: {} (choose one with --platform, or --platform all)",
                    reference,
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
            reference,
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
        .with_context(|| format!("fetching {} of {}", child.digest, reference))?;
    if m.is_index() {
        bail!("{}: nested image indexes are not supported", reference);
    }
    Ok(m)
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
    let name = reference.to_string();
    let bytes = remote::read_small_blob(
        client,
        reference.repository(),
        &config,
        "the image config",
        &name,
    )
    .await?;
    let actual = Platform::of_config(&bytes)?;
    if !actual.matches(wanted) {
        bail!(
            "{} is a single-platform image for {actual}, not {wanted} (pull it without --platform to take it anyway)",
            reference,
        );
    }
    Ok(())
}
