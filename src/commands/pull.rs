//! `hoist pull REF`: into the store, an OCI layout, or a docker-archive tarball.

use super::transfer::TransferCredentials;
use crate::cli::plan::{Destination, PullPlan, Settings};
use crate::engine::pull;
use crate::engine::report::Reporter;
use crate::registry::{RegistryClient, Scope};
use crate::store::layout::Layout;
use crate::store::{ArchiveOptions, LayerForm, WorkDir};
use crate::ui::summary::blob_summaries;
use crate::ui::{Progress, Tally, TransferSummary};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub async fn run(settings: &Settings, args: PullPlan, tally: Arc<Tally>) -> anyhow::Result<()> {
    let (reference, platform) = (&args.reference, &args.platform);
    // A tarball is built from a working layout beside it, removed afterwards.
    let (layout_dir, archive) = match &args.destination {
        Destination::Store(dir) | Destination::Layout(dir) => (dir.clone(), None),
        Destination::Archive(file) => (work_dir_for(file), Some(file.clone())),
    };
    let printer = settings.printer;
    let credentials = TransferCredentials::load(args.config_dir.as_ref(), &settings.env, printer)?;
    let client = RegistryClient::new(
        reference.registry().clone(),
        settings.client_options(reference.registry())?,
        credentials,
        vec![Scope::pull(reference.repository())],
    )?;
    printer.status(format!("Pulling {}", reference));
    let plan = pull::resolve(&client, reference, platform).await?;
    // Other pulls to the same tarball share its working layout; the last one out removes it.
    let work = match archive {
        Some(_) => Some(
            WorkDir::enter(&layout_dir)
                .await
                .with_context(|| format!("preparing {}", layout_dir.display()))?,
        ),
        None => None,
    };
    let layout = Layout::create_or_open(&layout_dir)
        .await
        .with_context(|| format!("preparing {}", layout_dir.display()))?;
    tally.set_resume_dir(&layout.partial_dir());
    let progress = Arc::new(Progress::new(printer, tally.clone()));
    let pulled = pull::fetch(
        &client,
        reference,
        plan,
        &layout,
        args.jobs,
        progress.as_ref() as &dyn Reporter,
    )
    .await;
    progress.finish();
    let pulled = pulled?;
    let name = reference.store_name();
    layout
        .set_image(&name, to_oci_descriptor(&pulled.stored)?)
        .await?;
    if let Some(archive) = &archive {
        let manifest = layout.read_blob_bytes(&pulled.stored.digest).await?;
        let options = ArchiveOptions {
            repo_tags: reference
                .tag()
                .map(|_| vec![name.clone()])
                .unwrap_or_default(),
            layer_form: LayerForm::AsStored,
            temp_dir: work.as_ref().map(WorkDir::temp_dir),
        };
        crate::store::write_docker_archive(&layout, &manifest, &options, archive)
            .await
            .with_context(|| format!("writing {}", archive.display()))?;
    }
    if let Some(work) = work {
        work.leave()
            .await
            .with_context(|| format!("removing {}", layout_dir.display()))?;
    }
    let digest = pulled.top.digest.to_string();
    if let Some(file) = &args.digest_file {
        std::fs::write(file, format!("{digest}\n"))
            .with_context(|| format!("writing {}", file.display()))?;
    }
    let place = archive.as_deref().unwrap_or(&layout_dir);
    printer.status(format!(
        "Pulled {} ({} blobs) into {}",
        reference,
        pulled.blobs.len(),
        place.display()
    ));
    if args.json {
        let summary = TransferSummary {
            reference: reference.store_name(),
            media_type: pulled.top.media_type.clone(),
            platform_digest: (pulled.stored.digest != pulled.top.digest)
                .then(|| pulled.stored.digest.to_string()),
            destination: Some(place.display().to_string()),
            format: Some(if archive.is_some() {
                "docker-archive"
            } else {
                "oci"
            }),
            unchanged: None,
            blobs: blob_summaries(&pulled.blobs, &tally),
            digest,
        };
        printer.result(summary.to_json())?;
    } else {
        printer.result(digest)?;
    }
    Ok(())
}

fn work_dir_for(archive: &Path) -> PathBuf {
    let mut name = archive.file_name().unwrap_or_default().to_os_string();
    name.push(".hoist-partial");
    archive.with_file_name(name)
}

pub fn to_oci_descriptor(
    d: &crate::image::Descriptor,
) -> anyhow::Result<oci_spec::image::Descriptor> {
    use std::str::FromStr;
    let digest = oci_spec::image::Digest::from_str(&d.digest.to_string())?;
    Ok(oci_spec::image::DescriptorBuilder::default()
        .media_type(oci_spec::image::MediaType::from(d.media_type.as_str()))
        .digest(digest)
        .size(d.size)
        .build()?)
}
