//! [`RawManifest`]: a manifest or index as bytes, media type and digest. The bytes are the
//! truth (a digest is of them, so they are never re-serialised); the parsed views are computed
//! from them. The one manifest parser in hoist.

use super::descriptor::Descriptor;
use super::media;
use crate::types::Digest;
use serde::Deserialize;
use std::collections::HashSet;

#[derive(Debug, Clone, PartialEq)]
pub struct RawManifest {
    pub bytes: Vec<u8>,
    pub media_type: String,
    pub digest: Digest,
}

/// An image manifest's view: its config and layers.
#[derive(Debug, Clone, Deserialize)]
pub struct ImageManifest {
    #[serde(rename = "mediaType", default)]
    pub media_type: Option<String>,
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
}

/// An index's view: the manifests it names.
#[derive(Debug, Clone, Deserialize)]
pub struct ImageIndex {
    #[serde(rename = "mediaType", default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("image manifest is not valid JSON")]
    Manifest(#[source] serde_json::Error),
    #[error("image index is not valid JSON")]
    Index(#[source] serde_json::Error),
}

impl RawManifest {
    /// The digest is computed from `bytes`, never taken on trust.
    pub fn new(bytes: Vec<u8>, media_type: impl Into<String>) -> RawManifest {
        RawManifest {
            digest: Digest::of(&bytes),
            bytes,
            media_type: media_type.into(),
        }
    }

    pub fn is_index(&self) -> bool {
        media::is_index(&self.media_type)
    }

    /// The descriptor another document (an index, index.json) would name this manifest by.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(
            self.media_type.clone(),
            self.digest.clone(),
            self.bytes.len() as u64,
        )
    }

    pub fn image(&self) -> Result<ImageManifest, ManifestError> {
        serde_json::from_slice(&self.bytes).map_err(ManifestError::Manifest)
    }

    pub fn index(&self) -> Result<ImageIndex, ManifestError> {
        serde_json::from_slice(&self.bytes).map_err(ManifestError::Index)
    }
}

impl ImageManifest {
    /// The config, then the layers a registry holds: foreign layers live at their `urls`
    /// (see [`Descriptor::is_foreign`]) and are not among them.
    pub fn blobs(self) -> impl Iterator<Item = Descriptor> {
        let layers = self.layers.into_iter().filter(|l| !l.is_foreign());
        std::iter::once(self.config).chain(layers)
    }

    /// The foreign layers, whose descriptors stay in the manifest but whose bytes live at
    /// their `urls`.
    pub fn foreign_layers(self) -> impl Iterator<Item = Descriptor> {
        self.layers.into_iter().filter(Descriptor::is_foreign)
    }
}

/// Every foreign layer of `images`, once each.
pub fn foreign_of<'a>(
    images: impl IntoIterator<Item = &'a RawManifest>,
) -> Result<Vec<Descriptor>, ManifestError> {
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    for image in images {
        found.extend(
            image
                .image()?
                .foreign_layers()
                .filter(|l| seen.insert(l.digest.clone())),
        );
    }
    Ok(found)
}

/// Every blob `images` need, config and layers, once each in first-seen order.
pub fn blobs_of<'a>(
    images: impl IntoIterator<Item = &'a RawManifest>,
) -> Result<Vec<Descriptor>, ManifestError> {
    let mut seen = HashSet::new();
    let mut blobs = Vec::new();
    for image in images {
        for blob in image.image()?.blobs() {
            if seen.insert(blob.digest.clone()) {
                blobs.push(blob);
            }
        }
    }
    Ok(blobs)
}

/// The media type a manifest names itself, for a registry that sends a generic Content-Type;
/// `None` for schema 1, which names none.
pub fn embedded_media_type(bytes: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
        #[serde(rename = "schemaVersion")]
        schema_version: Option<u32>,
    }
    let probe: Probe = serde_json::from_slice(bytes).ok()?;
    match (probe.media_type, probe.schema_version) {
        (Some(t), _) => Some(t),
        (None, Some(1)) => None,
        (None, _) if probe.manifests.is_some() => Some(media::OCI_INDEX.to_string()),
        (None, _) => Some(media::OCI_MANIFEST.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_type_from_body_when_header_is_generic() {
        assert_eq!(
            embedded_media_type(br#"{"schemaVersion":2,"mediaType":"x"}"#).as_deref(),
            Some("x")
        );
        assert_eq!(
            embedded_media_type(br#"{"schemaVersion":2,"manifests":[]}"#).as_deref(),
            Some(media::OCI_INDEX)
        );
        assert_eq!(
            embedded_media_type(br#"{"schemaVersion":2,"layers":[]}"#).as_deref(),
            Some(media::OCI_MANIFEST)
        );
        assert_eq!(embedded_media_type(br#"{"schemaVersion":1}"#), None);
    }

    #[test]
    fn blobs_are_config_then_layers_once_each() {
        let (c, a, b) = (Digest::of(b"c"), Digest::of(b"a"), Digest::of(b"b"));
        let image = |layers: &[&Digest]| {
            let layers: Vec<String> = layers
                .iter()
                .map(|d| format!(r#"{{"mediaType":"l","digest":"{d}","size":1}}"#))
                .collect();
            RawManifest::new(
                format!(
                    r#"{{"config":{{"mediaType":"c","digest":"{c}","size":1}},"layers":[{}]}}"#,
                    layers.join(",")
                )
                .into_bytes(),
                media::OCI_MANIFEST,
            )
        };
        let (one, two) = (image(&[&a, &b, &a]), image(&[&b]));
        let digests: Vec<Digest> = blobs_of([&one, &two])
            .unwrap()
            .into_iter()
            .map(|d| d.digest)
            .collect();
        assert_eq!(digests, [c, a, b]);
        assert!(one.image().unwrap().layers.len() == 3);
        assert!(RawManifest::new(b"{".to_vec(), media::OCI_MANIFEST)
            .image()
            .is_err());
    }
}
