//! `hoist pull REF`: into the store, an OCI layout, or a docker-archive tarball.

use super::transfer::{self, TransferCredentials};
use crate::cli::plan::{Destination, PullPlan, Settings};
use crate::credentials::CredentialSource;
use crate::engine::destination::PullDestination;
use crate::engine::mirrors::{Endpoint, Endpoints};
use crate::engine::pull;
use crate::engine::report::BlobOutcome;
use crate::engine::report::Reporter;
use crate::reference::Reference;
use crate::registry::{RegistryClient, Scope};
use crate::ui::summary::blob_summaries;
use crate::ui::{Progress, Tally, TransferSummary};
use std::sync::Arc;

pub async fn run(settings: &Settings, args: PullPlan, tally: Arc<Tally>) -> anyhow::Result<()> {
    let (reference, platform) = (&args.reference, &args.platform);
    let printer = settings.printer;
    let credentials = TransferCredentials::load(args.config_dir.as_ref(), &settings.env, printer)?;
    let mut from = endpoints(settings, &args, credentials)?;
    printer.status(format!("Pulling {}", reference));
    let plan = from.resolve(platform).await?;
    if printer.debug && from.has_mirrors() {
        printer.status(format!(
            "debug: manifest of {reference} from {}",
            from.serving().label()
        ));
    }
    let destination = match &args.destination {
        Destination::Store(dir) | Destination::Layout(dir) => PullDestination::layout(dir).await?,
        Destination::Archive(file) => PullDestination::docker_archive(file).await?,
    };
    let is_archive = matches!(args.destination, Destination::Archive(_));
    let layout = destination.working_layout();
    tally.set_resume_dir(&layout.partial_dir());
    let progress = Arc::new(Progress::new(printer, tally.clone()));
    let pulled = pull::fetch(
        &from,
        reference,
        plan,
        layout,
        args.jobs,
        progress.clone() as Arc<dyn Reporter>,
        args.fetch_foreign,
    )
    .await;
    progress.finish();
    let pulled = pulled?;
    // Which source served what: only worth saying when there was a choice.
    let sources = from.has_mirrors().then(|| {
        let blobs = pulled.blobs.iter();
        let served = blobs
            .map(|b| from.served(&b.descriptor.digest))
            .collect::<Vec<_>>();
        if printer.debug {
            for (blob, source) in pulled.blobs.iter().zip(&served) {
                if let Some(source) = source {
                    printer.status(format!("debug: {} from {source}", blob.descriptor.digest));
                }
            }
        }
        (from.serving().label(), served)
    });
    let skipped = pulled
        .blobs
        .iter()
        .filter(|b| b.outcome == BlobOutcome::SkippedForeign);
    if is_archive && skipped.count() > 0 {
        anyhow::bail!(
            "{reference} has foreign layers, which a docker-archive must hold for docker load: pass --foreign-layers fetch (HTTPS, from their URLs), or write an OCI layout (--output DIR)"
        );
    }
    let name = reference.store_name();
    let place = destination.place().to_path_buf();
    let repo_tags = reference
        .tag()
        .map(|_| vec![name.clone()])
        .unwrap_or_default();
    destination.finish(&name, &pulled.stored, repo_tags).await?;
    let status = format!(
        "Pulled {} ({} blobs) into {}",
        reference,
        pulled.blobs.len(),
        place.display()
    );
    let summary = TransferSummary {
        reference: name,
        media_type: pulled.top.media_type.clone(),
        platform_digest: (pulled.stored.digest != pulled.top.digest)
            .then(|| pulled.stored.digest.to_string()),
        destination: Some(place.display().to_string()),
        format: Some(if is_archive { "docker-archive" } else { "oci" }),
        blobs: blob_summaries(&pulled.blobs),
        digest: pulled.top.digest.to_string(),
        // `unchanged` is a push's; `source` is named below when mirrors had a say.
        ..TransferSummary::default()
    };
    let summary = match sources {
        Some((manifest, blobs)) => summary.with_sources(manifest, blobs),
        None => summary,
    };
    transfer::finish(
        printer,
        args.digest_file.as_deref(),
        status,
        args.json,
        summary,
    )
}

/// Each mirror in order, then the registry: a client each, with credentials looked up under
/// its own host. A mirror gets one retry: the next source is its retry.
fn endpoints(
    settings: &Settings,
    args: &PullPlan,
    credentials: Arc<dyn CredentialSource>,
) -> anyhow::Result<Endpoints> {
    let endpoint = |reference: &Reference, is_mirror: bool| -> anyhow::Result<Endpoint> {
        let registry = reference.registry();
        let mut options = settings.client_options(registry)?;
        if is_mirror {
            options.retries = options.retries.min(1);
        }
        let scopes = vec![Scope::pull(reference.repository())];
        let client = RegistryClient::new(registry.clone(), options, credentials.clone(), scopes)?;
        Ok(Endpoint {
            client: Arc::new(client),
            reference: reference.clone(),
            is_mirror,
        })
    };
    let mut list = Vec::new();
    for mirror in &args.mirrors {
        list.push(endpoint(&mirror.reference, true)?);
    }
    list.push(endpoint(&args.reference, false)?);
    let printer = settings.printer;
    Ok(Endpoints::new(
        list,
        Arc::new(move |line| printer.status(line)),
    ))
}
