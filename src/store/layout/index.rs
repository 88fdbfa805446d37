//! `index.json`: the images a layout holds, each named by its
//! `org.opencontainers.image.ref.name` annotation, and finding one by a name as users and other
//! tools write it.

use super::{Layout, CONTAINERD_NAME_ANNOTATION, REF_NAME_ANNOTATION};
use crate::store::{io_err, write_atomic, Result, StoreError};
use oci_spec::image::{Descriptor, ImageIndex, MediaType};
use std::path::Path;

impl Layout {
    /// The layout's `index.json`; an absent file reads as an empty index.
    pub async fn index(&self) -> Result<ImageIndex> {
        let path = self.index_path();
        match tokio::fs::read(&path).await {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| StoreError::Json {
                path: path.clone(),
                source,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(empty_index()),
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    /// Replaces `index.json` atomically.
    pub async fn write_index(&self, index: &ImageIndex) -> Result<()> {
        self.require_writable("write index.json")?;
        let path = self.index_path();
        let bytes = serde_json::to_vec_pretty(index).map_err(|source| StoreError::Json {
            path: path.clone(),
            source,
        })?;
        write_atomic(&path, &bytes).await
    }

    /// Adds `descriptor` to `index.json` under `ref_name`, replacing any entry with that name.
    pub async fn set_image(&self, ref_name: &str, descriptor: Descriptor) -> Result<()> {
        self.require_writable("write index.json")?;
        let _guard = self.inner.meta.lock().await;
        let _lock = self.lock_metadata().await?;
        let mut index = self.index().await?;
        let mut descriptor = descriptor;
        let mut annotations = descriptor.annotations().clone().unwrap_or_default();
        annotations.insert(REF_NAME_ANNOTATION.to_string(), ref_name.to_string());
        descriptor.set_annotations(Some(annotations));
        let mut manifests = index.manifests().clone();
        manifests.retain(|d| ref_name_of(d) != Some(ref_name));
        manifests.push(descriptor);
        index.set_manifests(manifests);
        self.write_index(&index).await
    }

    /// Every entry in `index.json` with its `org.opencontainers.image.ref.name`, if any.
    pub async fn images(&self) -> Result<Vec<(Option<String>, Descriptor)>> {
        Ok(self
            .index()
            .await?
            .manifests()
            .iter()
            .map(|d| (ref_name_of(d).map(str::to_string), d.clone()))
            .collect())
    }

    /// Finds an image by name. An exact match on the ref-name (or containerd name)
    /// annotation wins; otherwise short and long forms are matched both ways — `latest` or
    /// `alpine:latest` as written by skopeo finds `docker.io/library/alpine:latest` and vice
    /// versa. Several loose matches and no exact one is an error, not a guess.
    pub async fn find_image(&self, name: &str) -> Result<Option<Descriptor>> {
        let images = self.images().await?;
        find_named(self.root(), name, images.into_iter().map(|(_, d)| d))
    }

    /// The image in a layout that holds exactly one.
    pub async fn only_image(&self) -> Result<Descriptor> {
        let images = self.images().await?;
        match images.len() {
            0 => Err(StoreError::NoImage(self.root().to_path_buf())),
            1 => Ok(images
                .into_iter()
                .next()
                .map(|(_, d)| d)
                .expect("one image")),
            _ => Err(StoreError::AmbiguousImage {
                path: self.root().to_path_buf(),
                available: images.iter().map(|(n, d)| display_name(n, d)).collect(),
            }),
        }
    }

    /// `find_image(name)` when a name is given (and it must exist), else `only_image()`.
    pub async fn select_image(&self, name: Option<&str>) -> Result<Descriptor> {
        match name {
            None => self.only_image().await,
            Some(name) => match self.find_image(name).await? {
                Some(d) => Ok(d),
                None => Err(StoreError::ImageNotFound {
                    path: self.root().to_path_buf(),
                    name: name.to_string(),
                    available: self
                        .images()
                        .await?
                        .iter()
                        .map(|(n, d)| display_name(n, d))
                        .collect(),
                }),
            },
        }
    }
}

pub(super) fn empty_index() -> ImageIndex {
    let mut index = ImageIndex::default();
    index.set_schema_version(2);
    index.set_media_type(Some(MediaType::ImageIndex));
    index.set_manifests(Vec::new());
    index
}

pub(crate) fn ref_name_of(d: &Descriptor) -> Option<&str> {
    d.annotations()
        .as_ref()
        .and_then(|a| a.get(REF_NAME_ANNOTATION))
        .map(String::as_str)
}

fn annotation<'a>(d: &'a Descriptor, key: &str) -> Option<&'a str> {
    d.annotations()
        .as_ref()
        .and_then(|a| a.get(key))
        .map(String::as_str)
}

fn display_name(name: &Option<String>, d: &Descriptor) -> String {
    match name {
        Some(n) => n.clone(),
        None => d.digest().to_string(),
    }
}

/// A name split into an optional canonical repository (`docker.io/library/alpine`) and a tag.
fn name_parts(name: &str) -> (Option<String>, Option<String>) {
    if name.contains('/') || name.contains(':') {
        if let Ok(r) = crate::reference::Reference::parse(name) {
            if r.digest().is_none() {
                return (Some(r.name()), r.tag().map(str::to_string));
            }
        }
        return (None, None);
    }
    // A bare word: skopeo's `oci:DIR:latest` writes only the tag.
    (None, Some(name.to_string()))
}

/// Shared by layouts and OCI archives: exact annotation match first, then loose matches.
pub(crate) fn find_named(
    root: &Path,
    name: &str,
    descriptors: impl IntoIterator<Item = Descriptor>,
) -> Result<Option<Descriptor>> {
    let all: Vec<Descriptor> = descriptors.into_iter().collect();
    if let Some(d) = all.iter().find(|d| {
        ref_name_of(d) == Some(name) || annotation(d, CONTAINERD_NAME_ANNOTATION) == Some(name)
    }) {
        return Ok(Some(d.clone()));
    }
    let (want_repo, want_tag) = name_parts(name);
    let mut found: Vec<&Descriptor> = Vec::new();
    for d in &all {
        let names = [ref_name_of(d), annotation(d, CONTAINERD_NAME_ANNOTATION)];
        let hit = names.into_iter().flatten().any(|have| {
            let (have_repo, have_tag) = name_parts(have);
            let tags_agree = have_tag.is_some() && have_tag == want_tag;
            let repos_agree = match (&have_repo, &want_repo) {
                (Some(a), Some(b)) => a == b,
                // One side is a bare tag: the tag alone decides.
                _ => true,
            };
            tags_agree && repos_agree
        });
        if hit && !found.iter().any(|f| f.digest() == d.digest()) {
            found.push(d);
        }
    }
    match found.len() {
        0 => Ok(None),
        1 => Ok(Some(found[0].clone())),
        _ => Err(StoreError::AmbiguousImage {
            path: root.to_path_buf(),
            available: found
                .iter()
                .map(|d| display_name(&ref_name_of(d).map(str::to_string), d))
                .collect(),
        }),
    }
}
