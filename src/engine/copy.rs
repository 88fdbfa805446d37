//! Copy: a registry image into another repository (on the same registry or another) through
//! the push loop, blobs streamed from one to the other and never through the disk. Adds what
//! a promotion needs around the loop: an unchanged copy settled by two HEADs, the index kept
//! byte for byte (or one platform's image), mounts within one registry, and extra tags.

use super::inspect::{platform_image, Origin};
use super::push::{self, PushOptions, Pushed};
use super::remote::RemoteImage;
use super::remote_destination::RemoteDestination;
use super::report::Reporter;
use crate::image::{self, BlobReader, Platform, RawManifest};
use crate::reference::Reference;
use crate::registry::RegistryClient;
use crate::types::Digest;
use futures_util::future::BoxFuture;
use std::sync::Arc;

pub struct CopyRequest<'a> {
    pub source: &'a Reference,
    pub destination: &'a Reference,
    /// Tags besides the destination's own, in its repository.
    pub tags: &'a [String],
    pub platform: Option<&'a Platform>,
    pub jobs: usize,
    pub chunk_size: Option<u64>,
}

/// What a copy did.
pub struct Copied {
    /// The transfer: the digest at the destination (the source's, or its platform's image's),
    /// every blob's outcome. An unchanged copy lists no blobs: nothing was read to list them.
    pub pushed: Pushed,
    /// With `--platform` from an index: the index's digest, which the copy does not keep.
    pub index_digest: Option<Digest>,
    /// The top manifest as copied, for tagging and referrers.
    pub manifest: Option<RawManifest>,
}

/// Copies `request.source` to `request.destination`. `from` reads the source registry, `to`
/// writes the destination (the same client when both are on one registry, so one token
/// covers both scopes and blobs can be mounted).
pub async fn copy(
    from: Arc<RegistryClient>,
    to: Arc<RegistryClient>,
    request: &CopyRequest<'_>,
    reporter: Arc<dyn Reporter>,
) -> anyhow::Result<Copied> {
    let (source, destination) = (request.source, request.destination);
    // The digest the source's tag names now: the copy is of that image, even if the tag
    // moves while it runs (and its bytes are checked against it).
    let mut source = source.clone();
    if request.platform.is_none() {
        match unchanged(&from, &to, request).await? {
            Settled::Unchanged(copied) => return Ok(copied),
            Settled::Copy(Some(digest)) => source = source.with_digest(digest),
            Settled::Copy(None) => {}
        }
    }
    let source = &source;
    let origin = Origin::Remote {
        client: from.clone(),
        reference: source.clone(),
    };
    let (pinned, index_digest) = match request.platform {
        None => (source.clone(), None),
        Some(wanted) => {
            let top = origin.top().await?;
            let image = platform_image(&origin, &top, wanted).await?;
            let index = (image.digest != top.digest).then(|| top.digest.clone());
            (source.with_digest(image.digest), index)
        }
    };
    let options = PushOptions { jobs: request.jobs };
    let writer = RemoteDestination::new(to.clone(), destination.clone(), request.chunk_size);
    let (pushed, manifest) = copy_image(from, &pinned, &writer, &options, reporter).await?;
    for tag in request.tags {
        tag_manifest(&to, destination, tag, &manifest).await?;
    }
    Ok(Copied {
        pushed,
        index_digest,
        manifest: Some(manifest),
    })
}

/// The image `source` names (pinned to a digest) written through `writer`, blobs streamed
/// and verified, mounted where the writer's registry already holds them in the source's
/// repository; returns what the push did and the top manifest copied.
pub async fn copy_image(
    from: Arc<RegistryClient>,
    source: &Reference,
    writer: &RemoteDestination,
    options: &PushOptions,
    reporter: Arc<dyn Reporter>,
) -> anyhow::Result<(Pushed, RawManifest)> {
    let image = RemoteImage::fetch(from, source).await?;
    let manifest = image::Source::top(&image).clone();
    let source_image = Arc::new(CopySource {
        image,
        location: source.name(),
    });
    let pushed = push::push(writer, source_image, options, reporter).await?;
    Ok((pushed, manifest))
}

enum Settled {
    Unchanged(Copied),
    /// There is copying to do, of the image with this digest when the source's HEAD said.
    Copy(Option<Digest>),
}

/// Two HEADs settle a copy that has nothing to do: the source's digest (known already when
/// asked for by digest) and the destination's under each of its tags.
async fn unchanged(
    from: &RegistryClient,
    to: &RegistryClient,
    request: &CopyRequest<'_>,
) -> anyhow::Result<Settled> {
    let (source, destination) = (request.source, request.destination);
    let wanted = match source.digest() {
        Some(d) => d.clone(),
        None => match from
            .manifest_head(source.repository(), &source.manifest_reference())
            .await?
        {
            Some((d, _)) => d,
            // No digest header (or no such tag): the GET says which, with the full error.
            None => return Ok(Settled::Copy(None)),
        },
    };
    let mut media_type = String::new();
    let tags = destination
        .tag()
        .into_iter()
        .chain(request.tags.iter().map(String::as_str));
    for tag in tags {
        match to.manifest_head(destination.repository(), tag).await? {
            Some((d, t)) if d == wanted => media_type = t,
            _ => return Ok(Settled::Copy(Some(wanted))),
        }
    }
    Ok(Settled::Unchanged(Copied {
        pushed: Pushed {
            digest: wanted,
            media_type,
            blobs: Vec::new(),
            unchanged: true,
        },
        index_digest: None,
        manifest: None,
    }))
}

/// PUTs `manifest` under `tag` in `reference`'s repository, checking what the registry stored.
pub async fn tag_manifest(
    client: &RegistryClient,
    reference: &Reference,
    tag: &str,
    manifest: &RawManifest,
) -> anyhow::Result<()> {
    use anyhow::Context;
    client
        .put_manifest_checked(reference.repository(), tag, manifest)
        .await
        .with_context(|| format!("tagging {} as {}:{tag}", manifest.digest, reference.name()))?;
    Ok(())
}

/// The source image as the push loop reads it: every blob it hands out is checked against
/// its digest as it streams, and its own repository is where a mount can take it from.
struct CopySource {
    image: RemoteImage,
    /// `registry/repository` of the source.
    location: String,
}

impl image::Source for CopySource {
    fn top(&self) -> &RawManifest {
        self.image.top()
    }

    fn in_registry(&self) -> bool {
        true
    }

    fn children(&self) -> &[RawManifest] {
        self.image.children()
    }

    fn open_blob(
        &self,
        digest: &Digest,
        offset: u64,
    ) -> BoxFuture<'static, std::io::Result<BlobReader>> {
        let open = self.image.open_blob(digest, offset);
        let digest = digest.clone();
        Box::pin(async move {
            let reader = open.await?;
            // From an offset the bytes before it are not seen here: the destination, which
            // verifies every blob it commits, is the check then.
            Ok(match offset {
                0 => Box::new(image::Verified::new(reader, digest)) as BlobReader,
                _ => reader,
            })
        })
    }

    fn known_locations(&self, _digest: &Digest) -> Vec<String> {
        vec![self.location.clone()]
    }
}
