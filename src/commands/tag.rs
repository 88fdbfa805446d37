//! `hoist tag REF NEWTAG...`: the image's manifest bytes PUT again under each new tag; no
//! blob moves. Prints the digest every tag now names.

use super::push::explain;
use super::transfer::TransferCredentials;
use crate::cli::plan::{Settings, TagPlan};
use crate::engine::copy::tag_manifest;
use crate::registry::{RegistryClient, Scope};
use anyhow::Context;

pub async fn run(settings: &Settings, plan: TagPlan) -> anyhow::Result<()> {
    let reference = &plan.reference;
    let printer = settings.printer;
    let credentials = TransferCredentials::load(plan.config_dir.as_ref(), &settings.env, printer)?;
    let client = RegistryClient::new(
        reference.registry().clone(),
        settings.client_options(reference.registry())?,
        credentials,
        vec![Scope::push(reference.repository())],
    )?;
    // Asked by digest, the bytes are checked against it; every PUT is checked against the
    // digest the registry says it stored.
    let manifest = client
        .get_manifest(reference.repository(), &reference.manifest_reference())
        .await
        .with_context(|| format!("fetching the manifest of {}", reference.original()))?;
    for tag in &plan.tags {
        tag_manifest(&client, reference, tag, &manifest)
            .await
            .map_err(|e| explain(e, reference))?;
        printer.status(format!("Tagged {}:{tag}", reference.name()));
    }
    printer.result(&manifest.digest)
}
