//! `copy --referrers`: what refers to an image (signatures, SBOMs, attestations) copied with
//! it, found in the three places tools keep them — the OCI 1.1 referrers API, the referrers
//! tag schema (`sha256-<hex>` holding an index), and cosign's `sha256-<hex>.sig/.att/.sbom`
//! tags — and written so the destination's readers find them the same ways. Bounded in count.

use super::copy::copy_image;
use super::push::PushOptions;
use super::remote_destination::RemoteDestination;
use super::report::Silent;
use crate::image::{media, Descriptor, RawManifest};
use crate::reference::Reference;
use crate::registry::{RegistryClient, RegistryError};
use crate::types::Digest;
use anyhow::Context;
use reqwest::StatusCode;
use std::sync::Arc;

/// Referrers copied for one image at most: real images have a handful.
pub const MAX_REFERRERS: usize = 1_000;
/// cosign's tags beside the image's digest.
const COSIGN_SUFFIXES: [&str; 3] = ["sig", "att", "sbom"];

/// Where a referrer was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Form {
    /// The registry's referrers API.
    Api,
    /// The `sha256-<hex>` tag's index.
    TagSchema,
    /// cosign's `sha256-<hex>.sig`, `.att` or `.sbom` tag.
    Cosign(&'static str),
}

impl Form {
    pub fn as_str(&self) -> &'static str {
        match self {
            Form::Api => "referrers-api",
            Form::TagSchema => "referrers-tag",
            Form::Cosign("sig") => "cosign-signature",
            Form::Cosign("att") => "cosign-attestation",
            Form::Cosign(_) => "cosign-sbom",
        }
    }
}

pub struct CopiedReferrer {
    pub digest: Digest,
    pub kind: Form,
}

/// The referrers tag schema's tag for `subject`: `sha256-<hex>`.
pub fn schema_tag(subject: &Digest) -> String {
    format!("{}-{}", subject.algorithm(), subject.hex())
}

/// Copies every referrer of `subject` from `source`'s repository to `destination`'s.
pub async fn copy_referrers(
    from: &Arc<RegistryClient>,
    source: &Reference,
    to: &Arc<RegistryClient>,
    destination: &Reference,
    subject: &Digest,
) -> anyhow::Result<Vec<CopiedReferrer>> {
    let tag = schema_tag(subject);
    let (found, form) = match from.referrers(source.repository(), subject).await? {
        Some(index) => (index.manifests, Form::Api),
        None => match optional(from.get_manifest(source.repository(), &tag).await)? {
            Some(index) if index.is_index() => (index.index()?.manifests, Form::TagSchema),
            _ => (Vec::new(), Form::TagSchema),
        },
    };
    if found.len() > MAX_REFERRERS {
        anyhow::bail!(
            "{} lists {} referrers of {subject}, more than hoist copies ({MAX_REFERRERS})",
            source.name(),
            found.len()
        );
    }
    let mut copied = Vec::new();
    let options = PushOptions {
        jobs: super::transfer::AUTO_JOBS,
    };
    for entry in &found {
        let pinned = source.with_digest(entry.digest.clone());
        let target = by_digest(destination, &entry.digest)?;
        let writer = RemoteDestination::new(to.clone(), target, None);
        copy_image(from.clone(), &pinned, &writer, &options, Arc::new(Silent))
            .await
            .with_context(|| format!("copying referrer {}", entry.digest))?;
        copied.push(CopiedReferrer {
            digest: entry.digest.clone(),
            kind: form.clone(),
        });
    }
    if !found.is_empty() {
        index_at_destination(to, destination, subject, &found).await?;
    }
    for suffix in COSIGN_SUFFIXES {
        let tag = format!("{tag}.{suffix}");
        let Some(head) = from.manifest_head(source.repository(), &tag).await? else {
            continue;
        };
        let pinned = source.with_digest(head.0.clone());
        let target = Reference::parse(&format!("{}:{tag}", destination.name()))?;
        let writer = RemoteDestination::new(to.clone(), target, None);
        copy_image(from.clone(), &pinned, &writer, &options, Arc::new(Silent))
            .await
            .with_context(|| format!("copying {}:{tag}", source.name()))?;
        copied.push(CopiedReferrer {
            digest: head.0,
            kind: Form::Cosign(suffix),
        });
    }
    Ok(copied)
}

/// Readers at the destination find the referrers through its API when it has one (it
/// indexed them as they were PUT); otherwise through the `sha256-<hex>` tag, whose index
/// gains the entries it lacks.
async fn index_at_destination(
    to: &RegistryClient,
    destination: &Reference,
    subject: &Digest,
    found: &[Descriptor],
) -> anyhow::Result<()> {
    if let Some(index) = to.referrers(destination.repository(), subject).await? {
        if found
            .iter()
            .all(|f| index.manifests.iter().any(|m| m.digest == f.digest))
        {
            return Ok(());
        }
    }
    let tag = schema_tag(subject);
    let existing = optional(to.get_manifest(destination.repository(), &tag).await)?;
    let mut entries = match &existing {
        Some(m) if m.is_index() => m.index()?.manifests,
        _ => Vec::new(),
    };
    let before = entries.len();
    for f in found {
        if !entries.iter().any(|e| e.digest == f.digest) {
            entries.push(f.clone());
        }
    }
    if existing.is_some() && entries.len() == before {
        return Ok(());
    }
    let index = referrers_index(&entries);
    to.put_manifest_checked(destination.repository(), &tag, &index)
        .await
        .with_context(|| format!("writing the referrers tag {}:{tag}", destination.name()))?;
    Ok(())
}

/// An OCI index of `entries`, as the referrers tag schema stores it.
fn referrers_index(entries: &[Descriptor]) -> RawManifest {
    let value = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_INDEX,
        "manifests": entries,
    });
    RawManifest::new(
        serde_json::to_vec(&value).expect("plain data serializes"),
        media::OCI_INDEX,
    )
}

/// `destination`'s repository at `digest`, with no tag: a referrer is stored by digest only.
fn by_digest(destination: &Reference, digest: &Digest) -> anyhow::Result<Reference> {
    Ok(Reference::parse(&format!(
        "{}@{digest}",
        destination.name()
    ))?)
}

/// A manifest that may not exist: 404 is `None`.
fn optional(result: Result<RawManifest, RegistryError>) -> anyhow::Result<Option<RawManifest>> {
    match result {
        Ok(m) => Ok(Some(m)),
        Err(e) if e.status() == Some(StatusCode::NOT_FOUND) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_tag_is_the_digest_with_a_dash() {
        let d = Digest::of(b"x");
        assert_eq!(schema_tag(&d), format!("sha256-{}", d.hex()));
        let index = referrers_index(&[Descriptor::new(media::OCI_MANIFEST, d.clone(), 3)]);
        assert!(index.is_index());
        assert_eq!(index.index().unwrap().manifests[0].digest, d);
    }
}
