//! `hoist pull REF`: into the store, an OCI layout, or a docker-archive tarball.

use super::transfer::TransferCredentials;
use crate::cli::plan::{Destination, PullPlan, Settings};
use crate::engine::destination::PullDestination;
use crate::engine::pull;
use crate::engine::report::Reporter;
use crate::registry::{RegistryClient, Scope};
use crate::ui::summary::blob_summaries;
use crate::ui::{Progress, Tally, TransferSummary};
use anyhow::Context;
use std::sync::Arc;

pub async fn run(settings: &Settings, args: PullPlan, tally: Arc<Tally>) -> anyhow::Result<()> {
    let (reference, platform) = (&args.reference, &args.platform);
    let printer = settings.printer;
    let credentials = TransferCredentials::load(args.config_dir.as_ref(), &settings.env, printer)?;
    let client = Arc::new(RegistryClient::new(
        reference.registry().clone(),
        settings.client_options(reference.registry())?,
        credentials,
        vec![Scope::pull(reference.repository())],
    )?);
    printer.status(format!("Pulling {}", reference));
    let plan = pull::resolve(&client, reference, platform).await?;
    let destination = match &args.destination {
        Destination::Store(dir) | Destination::Layout(dir) => PullDestination::layout(dir).await?,
        Destination::Archive(file) => PullDestination::docker_archive(file).await?,
    };
    let is_archive = matches!(args.destination, Destination::Archive(_));
    let layout = destination.working_layout();
    tally.set_resume_dir(&layout.partial_dir());
    let progress = Arc::new(Progress::new(printer, tally.clone()));
    let pulled = pull::fetch(
        client,
        reference,
        plan,
        layout,
        args.jobs,
        progress.clone() as Arc<dyn Reporter>,
    )
    .await;
    progress.finish();
    let pulled = pulled?;
    let name = reference.store_name();
    let place = destination.place().to_path_buf();
    let repo_tags = reference
        .tag()
        .map(|_| vec![name.clone()])
        .unwrap_or_default();
    destination.finish(&name, &pulled.stored, repo_tags).await?;
    let digest = pulled.top.digest.to_string();
    if let Some(file) = &args.digest_file {
        std::fs::write(file, format!("{digest}\n"))
            .with_context(|| format!("writing {}", file.display()))?;
    }
    printer.status(format!(
        "Pulled {} ({} blobs) into {}",
        reference,
        pulled.blobs.len(),
        place.display()
    ));
    if args.json {
        let summary = TransferSummary {
            reference: name,
            media_type: pulled.top.media_type.clone(),
            platform_digest: (pulled.stored.digest != pulled.top.digest)
                .then(|| pulled.stored.digest.to_string()),
            destination: Some(place.display().to_string()),
            format: Some(if is_archive { "docker-archive" } else { "oci" }),
            unchanged: None,
            blobs: blob_summaries(&pulled.blobs),
            digest,
        };
        printer.result(summary.to_json())?;
    } else {
        printer.result(digest)?;
    }
    Ok(())
}
