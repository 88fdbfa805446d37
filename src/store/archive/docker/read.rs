//! Reading a docker-archive (`docker save`'s classic format, kaniko `--tarPath`, skopeo):
//! `manifest.json` lists each image's config and layer tars. The image is picked by RepoTag,
//! its layers sniffed for compression, and a manifest is made up for it to push; blobs stay
//! in the tar. It never writes.

use crate::image::{Descriptor, RawManifest};
use crate::store::archive::tar_index::{hash_range, read_range, TarEntry};
use crate::store::image_json::{
    format_err, DOCKER_CONFIG, DOCKER_MANIFEST, MAX_SMALL, OCI_CONFIG, OCI_MANIFEST,
};
use crate::store::select::{select, Candidate, Loose};
use crate::store::{Compression, Result, StoreError};
use crate::types::Digest;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;

/// One image of a docker-archive, described as a registry would see it.
pub(in crate::store) struct Image {
    /// A manifest made up for the image, to push.
    pub manifest: RawManifest,
    /// Its first RepoTag.
    pub ref_name: Option<String>,
    /// The config, then each distinct layer.
    pub blobs: Vec<Descriptor>,
    /// Where each blob's bytes are in the tar.
    pub entries: HashMap<Digest, TarEntry>,
}

/// The image `name` (or the only one) in the docker-archive at `path`, whose tar `entries`
/// are already indexed.
pub(in crate::store::archive) async fn read(
    path: &Path,
    entries: HashMap<String, TarEntry>,
    name: Option<&str>,
) -> Result<Image> {
    #[derive(Deserialize)]
    struct Item {
        #[serde(rename = "Config")]
        config: String,
        #[serde(rename = "RepoTags", default)]
        repo_tags: Option<Vec<String>>,
        #[serde(rename = "Layers", default)]
        layers: Vec<String>,
    }
    #[derive(Deserialize)]
    struct RootFs {
        #[serde(default)]
        diff_ids: Vec<Digest>,
    }
    #[derive(Deserialize)]
    struct Config {
        rootfs: Option<RootFs>,
    }
    let entry = |p: &str| -> Result<TarEntry> {
        entries
            .get(p.trim_start_matches("./"))
            .copied()
            .ok_or_else(|| {
                format_err(
                    path,
                    format!("manifest.json names {p:?}, which is not in the archive"),
                )
            })
    };
    let listing = read_range(path, entry("manifest.json")?, MAX_SMALL).await?;
    let items: Vec<Item> = serde_json::from_slice(&listing).map_err(|source| StoreError::Json {
        path: path.join("manifest.json"),
        source,
    })?;
    // RepoTags name the image and list it in errors; an item without tags has no name.
    let candidates: Vec<Candidate> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let tags = item.repo_tags.clone().unwrap_or_default();
            Candidate {
                names: tags.clone(),
                listed: tags,
                key: i.to_string(),
            }
        })
        .collect();
    let item = &items[select(path, name, &candidates, Loose::SameReference)?];
    let config_entry = entry(&item.config)?;
    let config_bytes = read_range(path, config_entry, MAX_SMALL).await?;
    let config_digest = Digest::of(&config_bytes);
    let config: Config =
        serde_json::from_slice(&config_bytes).map_err(|source| StoreError::Json {
            path: path.join(&item.config),
            source,
        })?;
    let diff_ids = config.rootfs.map(|r| r.diff_ids).unwrap_or_default();
    if diff_ids.len() != item.layers.len() {
        return Err(format_err(
            path,
            format!(
                "config lists {} layers but manifest.json lists {}",
                diff_ids.len(),
                item.layers.len()
            ),
        ));
    }

    let mut blob_map = HashMap::new();
    blob_map.insert(config_digest.clone(), config_entry);
    let mut layers = Vec::new();
    let mut any_zstd = false;
    for (layer_path, diff_id) in item.layers.iter().zip(&diff_ids) {
        let e = entry(layer_path)?;
        let head = read_range(
            path,
            TarEntry {
                offset: e.offset,
                size: e.size.min(8),
            },
            8,
        )
        .await?;
        let compression = Compression::detect(&head);
        // An uncompressed layer's digest is its diff_id; docker save guarantees that, and
        // the registry checks it on upload anyway. Compressed ones are hashed once.
        let digest = match compression {
            Compression::None => diff_id.clone(),
            _ => hash_range(path, e).await?,
        };
        any_zstd |= compression == Compression::Zstd;
        blob_map.insert(digest.clone(), e);
        layers.push((digest, e.size, compression));
    }
    // Docker schema2 has no zstd layer type, so an image with one is described as OCI.
    let (media_type, config_type) = if any_zstd {
        (OCI_MANIFEST, OCI_CONFIG)
    } else {
        (DOCKER_MANIFEST, DOCKER_CONFIG)
    };
    let layer_infos: Vec<Descriptor> = layers
        .iter()
        .map(|(d, size, c)| {
            let media_type = if any_zstd {
                c.oci_layer_media_type()
            } else {
                c.docker_layer_media_type().unwrap_or_default()
            };
            Descriptor::new(media_type, d.clone(), *size)
        })
        .collect();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {
            "mediaType": config_type,
            "size": config_bytes.len(),
            "digest": config_digest,
        },
        "layers": layer_infos.iter().map(|b| serde_json::json!({
            "mediaType": b.media_type,
            "size": b.size,
            "digest": b.digest,
        })).collect::<Vec<_>>(),
    });
    let manifest = serde_json::to_vec(&manifest).unwrap_or_default();
    let mut blobs = vec![Descriptor::new(
        config_type,
        config_digest,
        config_bytes.len() as u64,
    )];
    for b in layer_infos {
        if !blobs.iter().any(|x| x.digest == b.digest) {
            blobs.push(b);
        }
    }
    Ok(Image {
        manifest: RawManifest::new(manifest, media_type),
        ref_name: item.repo_tags.as_ref().and_then(|t| t.first().cloned()),
        blobs,
        entries: blob_map,
    })
}
