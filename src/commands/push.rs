//! `hoist push REF [--from SOURCE]`: from the store, an OCI layout, or an image tarball.

use super::transfer::{self, TransferCredentials};
use crate::cli::plan::{PushFrom, PushPlan, Settings};
use crate::engine::copy::tag_manifest;
use crate::engine::push::{self, PushOptions};
use crate::engine::remote_destination::RemoteDestination;
use crate::image::Source;
use crate::reference::Reference;
use crate::registry::{RegistryClient, Scope};
use crate::store::layout::Layout;
use crate::store::{ImageSource, StoredImage};
use crate::ui::summary::blob_summaries;
use crate::ui::{Progress, Tally, TransferSummary};
use anyhow::Context;
use std::sync::Arc;

pub async fn run(settings: &Settings, args: PushPlan, tally: Arc<Tally>) -> anyhow::Result<()> {
    let destination = &args.destination;
    let printer = settings.printer;
    let (source, store) = open_source(&args.from).await?;
    let source: Arc<StoredImage> = Arc::new(source);
    let mounts = push::mount_sources(source.as_ref(), destination)?;
    let scopes = std::iter::once(Scope::push(destination.repository()))
        .chain(mounts.iter().map(|r| Scope::pull(r)))
        .collect();
    let credentials = TransferCredentials::load(args.config_dir.as_ref(), &settings.env, printer)?;
    let client = Arc::new(RegistryClient::new(
        destination.registry().clone(),
        settings.client_options(destination.registry())?,
        credentials,
        scopes,
    )?);
    printer.status(format!("Pushing {}", destination));
    let progress = Arc::new(Progress::new(printer, tally.clone()));
    let remote = RemoteDestination::new(client.clone(), destination.clone(), args.chunk_size);
    let options = PushOptions { jobs: args.jobs };
    let pushed = push::push(&remote, source.clone(), &options, progress.clone()).await;
    progress.finish();
    let pushed = pushed.map_err(|e| explain(e, destination))?;
    // `--tag`: the image is in; each extra tag is one manifest PUT.
    for tag in &args.tags {
        tag_manifest(&client, destination, tag, source.top())
            .await
            .map_err(|e| explain(e, destination))?;
        printer.status(format!("Tagged {}:{tag}", destination.name()));
    }
    // The store remembers where its blobs now live, so a later push can mount them: one
    // update of the locations file for the whole push, as in pull.
    if let Some(store) = store {
        store
            .record_locations(
                pushed.blobs.iter().map(|b| &b.descriptor.digest),
                &destination.name(),
            )
            .await?;
    }
    let status = if pushed.unchanged {
        format!("{} is up to date", destination)
    } else {
        format!("Pushed {}", destination)
    };
    let summary = TransferSummary {
        reference: destination.store_name(),
        digest: pushed.digest.to_string(),
        media_type: pushed.media_type.clone(),
        unchanged: Some(pushed.unchanged),
        blobs: blob_summaries(&pushed.blobs),
        // What only a pull has: where it wrote, in which format, from which sources.
        ..TransferSummary::default()
    };
    transfer::finish(
        printer,
        args.digest_file.as_deref(),
        status,
        args.json,
        summary,
    )
}

/// A path is read as it is; an image in the store also brings the registries its blobs are
/// known to live in, and the store to record the new ones in.
async fn open_source(from: &PushFrom) -> anyhow::Result<(StoredImage, Option<Layout>)> {
    let (name, dir) = match from {
        PushFrom::Path { path, name } => {
            let source = ImageSource::open(path, name.as_deref()).await?;
            return Ok((StoredImage::new(source, None).await?, None));
        }
        PushFrom::Stored { reference, store } => (reference, store),
    };
    let layout = Layout::open(&dir)
        .await
        .with_context(|| format!("opening hoist's store at {}", dir.display()))?;
    let source = ImageSource::from_layout(layout.clone(), Some(&name.store_name()))
        .await
        .with_context(|| {
            format!(
                "{} is not in the store; pull it first or pass --from PATH",
                name.original()
            )
        })?;
    let writable = layout.is_writable().then(|| layout.clone());
    Ok((StoredImage::new(source, Some(&layout)).await?, writable))
}

/// Adds what a registry's terse refusal needs: what the user can do about it.
pub(super) fn explain(error: anyhow::Error, destination: &Reference) -> anyhow::Error {
    let registry_error = error
        .chain()
        .find_map(|c| c.downcast_ref::<crate::registry::RegistryError>());
    let hint = match registry_error {
        // Logged in (or anonymous) but without push here: logging in again as the same
        // user cannot help, so say what is wrong first.
        Some(e)
            if e.has_code("DENIED")
                || e.has_code("insufficient_scope")
                || e.status().is_some_and(|s| s == 403) =>
        {
            Some(format!(
                "you may not push to {}; check the repository name, or run: hoist login {}",
                destination.name(),
                destination.registry()
            ))
        }
        Some(e) if e.has_code("UNAUTHORIZED") || e.status().is_some_and(|s| s == 401) => {
            Some(format!("run: hoist login {}", destination.registry()))
        }
        Some(e) if e.has_code("NAME_UNKNOWN") => Some(format!(
            "the repository {} does not exist on the registry",
            destination.repository()
        )),
        _ => None,
    };
    match hint {
        Some(hint) => error.context(hint),
        None => error,
    }
}
