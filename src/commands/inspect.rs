//! `hoist inspect REF`: an image in a registry or a local layout or archive, for a person
//! (text), a script (`--format digest`, `--json`) or as stored (`--raw`, `--format config`).

use super::transfer::TransferCredentials;
use crate::cli::plan::{InspectPlan, InspectTarget, Settings};
use crate::cli::InspectFormat;
use crate::engine::inspect::{self, Origin};
use crate::image::platform::host_platform;
use crate::registry::{RegistryClient, Scope};
use crate::store::{ImageSource, StoredImage};
use crate::types::escape_control;
use crate::ui::promote::{inspection_json, inspection_text};
use std::sync::Arc;

pub async fn run(settings: &Settings, plan: InspectPlan) -> anyhow::Result<()> {
    let printer = settings.printer;
    let origin = match &plan.target {
        InspectTarget::Registry(reference) => {
            let credentials =
                TransferCredentials::load(plan.config_dir.as_ref(), &settings.env, printer)?;
            let client = RegistryClient::new(
                reference.registry().clone(),
                settings.client_options(reference.registry())?,
                credentials,
                vec![Scope::pull(reference.repository())],
            )?;
            Origin::Remote {
                client: Arc::new(client),
                reference: reference.clone(),
            }
        }
        InspectTarget::Path { path, name } => {
            let image = ImageSource::open(path, name.as_deref()).await?;
            let shown = match name {
                Some(name) => format!("{}:{name}", path.display()),
                None => path.display().to_string(),
            };
            Origin::Local {
                source: Arc::new(StoredImage::new(image, None).await?),
                name: shown,
            }
        }
    };
    let format = plan.format;
    let mut platform = plan.platform.clone();
    let details = matches!(
        format,
        InspectFormat::Text | InspectFormat::Json | InspectFormat::Config
    );
    if format == InspectFormat::Config && platform.is_none() {
        // An index has no config: show the one of the image this machine would run, as
        // `docker` and `skopeo` do, and say so.
        let top = origin.top().await?;
        if top.is_index() {
            let host = host_platform();
            printer.status(format!(
                "note: {} is an index; showing its {host} image",
                origin.name()
            ));
            platform = Some(host);
        }
    }
    let inspection = inspect::inspect(&origin, platform.as_ref(), details).await?;
    match format {
        InspectFormat::Digest => printer.result(inspect::shown_digest(&inspection)),
        InspectFormat::Raw => {
            let manifest = match &inspection.image {
                Some(image) => &image.manifest,
                None => &inspection.top,
            };
            raw(&manifest.bytes)
        }
        InspectFormat::Config => {
            let image = inspection
                .image
                .as_ref()
                .expect("config asked for an image");
            raw(&image.config_bytes)
        }
        InspectFormat::Json => printer.result(inspection_json(origin.name(), &inspection)),
        InspectFormat::Text => printer.result(inspection_text(origin.name(), &inspection)),
    }
}

/// Bytes exactly as stored, with no newline added, for a pipe or a file (what `--raw` is
/// for); on a terminal, a line at a time with control characters escaped, since the bytes are
/// the registry's and could drive the terminal.
fn raw(bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::{IsTerminal, Write};
    let mut out = std::io::stdout().lock();
    let written = match out.is_terminal() {
        false => out.write_all(bytes),
        true => String::from_utf8_lossy(bytes)
            .split('\n')
            .try_for_each(|line| writeln!(out, "{}", escape_control(line))),
    };
    match written.and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("writing the result to standard output"))
        }
        _ => Ok(()),
    }
}
