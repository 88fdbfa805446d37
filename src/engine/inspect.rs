//! Inspecting an image without moving it: its manifest or index, one platform's image, and
//! the config's facts (created, platform, labels, entrypoint, cmd, layers). Reads from a
//! registry or from any local [`Source`]; returns an [`Inspection`] for the UI to present.
//! Every read is bounded and verified against its digest; nothing is written.

use super::pull::{self, MAX_INDEX_ENTRIES};
use super::remote;
use crate::image::{platform, Descriptor, ImageIndex, Platform, RawManifest, Source};
use crate::reference::Reference;
use crate::registry::RegistryClient;
use crate::types::Digest;
use anyhow::{bail, Context};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::io::AsyncReadExt;

/// Where an image is read from.
pub enum Origin {
    Remote {
        client: Arc<RegistryClient>,
        reference: Reference,
    },
    Local {
        source: Arc<dyn Source>,
        name: String,
    },
}

impl Origin {
    /// What the user named, for messages.
    pub fn name(&self) -> &str {
        match self {
            Origin::Remote { reference, .. } => reference.original(),
            Origin::Local { name, .. } => name,
        }
    }

    /// The manifest or index the origin names.
    pub async fn top(&self) -> anyhow::Result<RawManifest> {
        match self {
            Origin::Remote { client, reference } => client
                .get_manifest(reference.repository(), &reference.manifest_reference())
                .await
                .with_context(|| format!("fetching the manifest of {}", reference.original())),
            Origin::Local { source, .. } => Ok(source.top().clone()),
        }
    }

    /// An index's entry, which must be an image manifest.
    pub async fn child(&self, entry: &Descriptor) -> anyhow::Result<RawManifest> {
        let manifest = match self {
            Origin::Remote { client, reference } => {
                return pull::get_image_manifest(client, reference, entry).await
            }
            Origin::Local { source, name } => source
                .children()
                .iter()
                .find(|m| m.digest == entry.digest)
                .cloned()
                .with_context(|| format!("{name} lacks its manifest {}", entry.digest))?,
        };
        if manifest.is_index() {
            bail!("{}: nested image indexes are not supported", self.name());
        }
        Ok(manifest)
    }

    /// A small blob (a config) whole, verified against its digest.
    pub async fn small_blob(&self, blob: &Descriptor) -> anyhow::Result<Vec<u8>> {
        let what = format!("the blob {}", blob.digest);
        match self {
            Origin::Remote { client, reference } => {
                let repository = reference.repository();
                remote::read_small_blob(client, repository, blob, &what, self.name()).await
            }
            Origin::Local { source, name } => {
                if blob.size > remote::SMALL_BLOB_LIMIT {
                    bail!(
                        "{name}: {what} is {} bytes, too large to read whole",
                        blob.size
                    );
                }
                let reader = source
                    .open_blob(&blob.digest, 0)
                    .await
                    .with_context(|| format!("reading {what} of {name}"))?;
                let mut bytes = Vec::new();
                reader.take(blob.size + 1).read_to_end(&mut bytes).await?;
                remote::check_whole(&bytes, blob, &what, name)?;
                Ok(bytes)
            }
        }
    }
}

/// The index `top`, within [`MAX_INDEX_ENTRIES`].
pub fn index_of(name: &str, top: &RawManifest) -> anyhow::Result<ImageIndex> {
    let index = top.index()?;
    if index.manifests.len() > MAX_INDEX_ENTRIES {
        bail!(
            "{name}: the image index lists {} manifests, more than hoist accepts ({MAX_INDEX_ENTRIES})",
            index.manifests.len()
        );
    }
    Ok(index)
}

/// `wanted`'s image: the index entry for it, or a single-platform image that is for it
/// (its config says so), as `docker pull --platform` decides.
pub async fn platform_image(
    origin: &Origin,
    top: &RawManifest,
    wanted: &Platform,
) -> anyhow::Result<RawManifest> {
    if top.is_index() {
        let index = index_of(origin.name(), top)?;
        let Some(entry) = platform::select(&index, wanted) else {
            bail!(
                "{} has no image for {wanted}; it has: {}",
                origin.name(),
                platform::platforms(&index).join(", ")
            );
        };
        return origin.child(entry).await;
    }
    let config = origin.small_blob(&top.image()?.config).await?;
    let have = Platform::of_config(&config)?;
    if !have.matches(wanted) {
        bail!("{} is an image for {have}, not {wanted}", origin.name());
    }
    Ok(top.clone())
}

/// What `inspect` found.
pub struct Inspection {
    pub top: RawManifest,
    /// For an index: its entries (platform, digest, size, media type).
    pub entries: Vec<Descriptor>,
    /// For an image (or the platform picked from an index): its details.
    pub image: Option<ImageDetails>,
}

pub struct ImageDetails {
    pub manifest: RawManifest,
    pub config_descriptor: Descriptor,
    pub layers: Vec<Descriptor>,
    /// The config's bytes, as stored.
    pub config_bytes: Vec<u8>,
    /// What the config says, when it is an image config.
    pub config: Option<ConfigFacts>,
}

impl ImageDetails {
    /// The layers' sizes together (as stored: compressed).
    pub fn total_size(&self) -> u64 {
        self.layers
            .iter()
            .fold(0u64, |t, l| t.saturating_add(l.size))
    }
}

/// The parts of an image config a person looks at.
#[derive(Debug, Default, Clone, Deserialize, PartialEq)]
pub struct ConfigFacts {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub config: RunConfig,
}

#[derive(Debug, Default, Clone, Deserialize, PartialEq)]
pub struct RunConfig {
    #[serde(rename = "Labels", default)]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(rename = "Entrypoint", default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(rename = "Cmd", default)]
    pub cmd: Option<Vec<String>>,
}

/// Reads what `inspect` shows: the top, and the image details of `wanted`'s image (or of the
/// image itself); an index without `wanted` is shown as its entries only. `details` false
/// stops after the top (for `--format digest` and `--raw`).
pub async fn inspect(
    origin: &Origin,
    wanted: Option<&Platform>,
    details: bool,
) -> anyhow::Result<Inspection> {
    let top = origin.top().await?;
    let entries = match top.is_index() {
        true => index_of(origin.name(), &top)?.manifests,
        false => Vec::new(),
    };
    let image = match (wanted, top.is_index(), details) {
        (Some(wanted), _, _) => Some(platform_image(origin, &top, wanted).await?),
        (None, false, true) => Some(top.clone()),
        _ => None,
    };
    let image = match image {
        Some(manifest) if details || manifest.digest != top.digest => {
            Some(image_details(origin, manifest, details).await?)
        }
        _ => None,
    };
    Ok(Inspection {
        top,
        entries,
        image,
    })
}

async fn image_details(
    origin: &Origin,
    manifest: RawManifest,
    read_config: bool,
) -> anyhow::Result<ImageDetails> {
    let parsed = manifest
        .image()
        .with_context(|| format!("reading the manifest of {}", origin.name()))?;
    let config_bytes = match read_config {
        true => origin.small_blob(&parsed.config).await?,
        false => Vec::new(),
    };
    Ok(ImageDetails {
        config: serde_json::from_slice(&config_bytes).ok(),
        config_descriptor: parsed.config,
        layers: parsed.layers,
        config_bytes,
        manifest,
    })
}

/// The digest an inspection is about: the picked platform's image, else the top's.
pub fn shown_digest(inspection: &Inspection) -> &Digest {
    match &inspection.image {
        Some(image) => &image.manifest.digest,
        None => &inspection.top.digest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_facts_read_what_a_person_looks_at() {
        let config = br#"{"created":"2024-01-02T03:04:05Z","os":"linux","architecture":"arm64",
            "config":{"Labels":{"a":"b"},"Entrypoint":["/bin/app"],"Cmd":null},"rootfs":{}}"#;
        let facts: ConfigFacts = serde_json::from_slice(config).unwrap();
        assert_eq!(facts.architecture.as_deref(), Some("arm64"));
        assert_eq!(facts.config.entrypoint, Some(vec!["/bin/app".to_string()]));
        assert_eq!(facts.config.cmd, None);
        assert_eq!(facts.config.labels.unwrap()["a"], "b");
    }
}
