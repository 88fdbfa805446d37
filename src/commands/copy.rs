//! `hoist copy SRC DST` (alias `cp`): registry to registry through the engine's copy, each
//! side with its own registry's credentials; prints the digest at the destination.

use super::push::explain;
use super::transfer::TransferCredentials;
use crate::cli::plan::{CopyPlan, Settings};
use crate::engine::copy::{self, CopyRequest};
use crate::engine::referrers;
use crate::reference::Reference;
use crate::registry::{RegistryClient, RegistryError, Scope};
use crate::ui::promote::CopySummary;
use crate::ui::summary::blob_summaries;
use crate::ui::{Progress, Tally, TransferSummary};
use anyhow::Context;
use std::sync::Arc;

pub async fn run(settings: &Settings, plan: CopyPlan, tally: Arc<Tally>) -> anyhow::Result<()> {
    let (source, destination) = (&plan.source, &plan.destination);
    let printer = settings.printer;
    let credentials = TransferCredentials::load(plan.config_dir.as_ref(), &settings.env, printer)?;
    // One registry: one client, so one token covers pulling the source and pushing the
    // copy, and blobs are mounted instead of sent.
    let same_registry = source.registry() == destination.registry();
    let mut scopes = vec![Scope::push(destination.repository())];
    if same_registry {
        scopes.push(Scope::pull(source.repository()));
    }
    let to = Arc::new(RegistryClient::new(
        destination.registry().clone(),
        settings.client_options(destination.registry())?,
        credentials.clone(),
        scopes,
    )?);
    let from = match same_registry {
        true => to.clone(),
        false => Arc::new(RegistryClient::new(
            source.registry().clone(),
            settings.client_options(source.registry())?,
            credentials,
            vec![Scope::pull(source.repository())],
        )?),
    };
    printer.status(format!("Copying {source} to {destination}"));
    let request = CopyRequest {
        source,
        destination,
        tags: &plan.tags,
        platform: plan.platform.as_ref(),
        jobs: plan.jobs,
        chunk_size: plan.chunk_size,
    };
    let progress = Arc::new(Progress::new(printer, tally));
    let copied = copy::copy(from.clone(), to.clone(), &request, progress.clone()).await;
    progress.finish();
    let copied = copied.map_err(|e| explain_copy(e, source, destination))?;
    let mut referrers_copied = Vec::new();
    if plan.referrers {
        let subject = &copied.pushed.digest;
        referrers_copied = referrers::copy_referrers(&from, source, &to, destination, subject)
            .await
            .context("copying the image's referrers")?;
        for r in &referrers_copied {
            printer.status(format!(
                "Copied referrer {} ({})",
                r.digest,
                r.kind.as_str()
            ));
        }
    }
    let pushed = &copied.pushed;
    let digest = pushed.digest.to_string();
    if let Some(file) = &plan.digest_file {
        std::fs::write(file, format!("{digest}\n"))
            .with_context(|| format!("writing {}", file.display()))?;
    }
    if let (Some(index), Some(platform)) = (&copied.index_digest, &plan.platform) {
        printer.warn(format!(
            "copied the {platform} image alone: {digest} is that image's digest, not the index's ({index})"
        ));
    }
    match pushed.unchanged {
        true => printer.status(format!("{destination} is up to date")),
        false => printer.status(format!("Copied {source} to {destination}")),
    }
    for tag in &plan.tags {
        printer.status(format!("Tagged {}:{tag}", destination.name()));
    }
    if plan.json {
        let summary = CopySummary::new(
            TransferSummary {
                reference: destination.store_name(),
                media_type: pushed.media_type.clone(),
                platform_digest: None,
                destination: None,
                format: None,
                unchanged: Some(pushed.unchanged),
                blobs: blob_summaries(&pushed.blobs),
                digest,
                // The copy's own `source` (the whole reference) stands in its place.
                source: None,
            },
            source.to_string(),
            plan.tags.clone(),
            copied.index_digest.as_ref().map(|d| d.to_string()),
            referrers_copied
                .iter()
                .map(|r| (r.digest.to_string(), r.kind.as_str()))
                .collect(),
        );
        printer.result(summary.to_json())?;
    } else {
        printer.result(digest)?;
    }
    Ok(())
}

/// A refusal from the source says what to check there; one from the destination gets push's
/// hint. The request's URL tells the sides apart (host, then repository).
fn explain_copy(
    error: anyhow::Error,
    source: &Reference,
    destination: &Reference,
) -> anyhow::Error {
    let url = error
        .chain()
        .find_map(|c| match c.downcast_ref::<RegistryError>() {
            Some(RegistryError::Status { url, status, .. })
                if [401, 403].contains(&status.as_u16()) =>
            {
                Some(url.clone())
            }
            _ => None,
        });
    let names = |r: &Reference| {
        url.as_deref().is_some_and(|u| {
            u.contains(&format!("//{}/", r.registry().api_host()))
                && u.contains(&format!("/v2/{}/", r.repository()))
        })
    };
    if names(source) && !names(destination) {
        return error.context(format!(
            "you may not pull {}; check the name, or run: hoist login {}",
            source.name(),
            source.registry()
        ));
    }
    explain(error, destination)
}
