//! `hoist tags REPO`: every tag of a repository, one a line, or one JSON object.

use super::transfer::TransferCredentials;
use crate::cli::plan::{Settings, TagsPlan};
use crate::registry::{RegistryClient, Scope};
use crate::ui::promote::tag_list;
use anyhow::Context;

pub async fn run(settings: &Settings, plan: TagsPlan) -> anyhow::Result<()> {
    let repository = &plan.repository;
    let printer = settings.printer;
    let credentials = TransferCredentials::load(plan.config_dir.as_ref(), &settings.env, printer)?;
    let client = RegistryClient::new(
        repository.registry().clone(),
        settings.client_options(repository.registry())?,
        credentials,
        vec![Scope::pull(repository.repository())],
    )?;
    let tags = client
        .list_tags(repository.repository(), plan.page_size)
        .await
        .with_context(|| format!("listing the tags of {}", repository.name()))?;
    // No tags, no line: `hoist tags REPO | wc -l` says 0.
    if tags.is_empty() && !plan.json {
        return Ok(());
    }
    printer.result(tag_list(&repository.name(), &tags, plan.json))
}
