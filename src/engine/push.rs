//! Push: every blob the destination lacks goes there (or is mounted from a sibling
//! repository), in parallel and streamed from the source; manifests go last, children before
//! their index. The blobs go through the one loop ([`super::transfer`]), which knows only
//! [`Source`] and [`Destination`]: a registry-to-registry copy is this over a
//! [`super::remote::RemoteImage`].

use super::remote_destination::mount_candidates;
use super::report::{BlobResult, Reporter};
use super::transfer::{Direction, Transfer};
use crate::image::{Destination, Source};
use crate::reference::Reference;
use crate::types::Digest;
use std::collections::HashSet;
use std::sync::Arc;

pub struct PushOptions {
    /// The most blobs in flight at once (`--jobs`, or [`super::transfer::AUTO_JOBS`]).
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
    let transfer = Transfer {
        destination,
        source: source.clone(),
        reporter,
        direction: match source.in_registry() {
            true => Direction::Copy,
            false => Direction::Push,
        },
        jobs: options.jobs,
    };
    // The manifest HEAD goes out with the blob checks rather than a round trip before them.
    // When the image is there already, so are its blobs: their HEADs find them, nothing is
    // uploaded, and only the manifest is left alone.
    let (unchanged, blobs) =
        futures_util::future::try_join(destination.has_image(top), transfer.all(&blobs)).await?;
    let digest = if unchanged {
        top.digest.clone()
    } else {
        for child in source.children() {
            destination.put_manifest(child, false).await?;
        }
        destination.put_manifest(top, true).await?
    };
    Ok(Pushed {
        digest,
        media_type: top.media_type.clone(),
        blobs,
        unchanged,
    })
}
