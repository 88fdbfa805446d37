//! `index.json`: the images a layout holds, each named by its
//! `org.opencontainers.image.ref.name` annotation, and finding one by a name as users and other
//! tools write it.

use super::{Layout, CONTAINERD_NAME_ANNOTATION, REF_NAME_ANNOTATION};
use crate::store::{io_err, write_atomic, Result, StoreError};
use oci_spec::image::{Descriptor, ImageIndex, MediaType};
use serde_json::{Map, Value};
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

    /// `index.json` as JSON, for rewriting it: an absent file reads as an empty index.
    async fn raw_index(&self) -> Result<serde_json::Map<String, Value>> {
        let path = self.index_path();
        let value = match tokio::fs::read(&path).await {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| StoreError::Json {
                path: path.clone(),
                source,
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => to_value(&path, empty_index())?,
            Err(e) => return Err(io_err(&path)(e)),
        };
        match value {
            Value::Object(map) => Ok(map),
            _ => Err(StoreError::Format(
                path,
                "index.json is not a JSON object".into(),
            )),
        }
    }

    /// Adds `descriptor` to `index.json` under `ref_name`, replacing any entry with that name.
    ///
    /// The file is edited as JSON rather than through oci-spec's types, which drop what they do
    /// not know: other tools' top-level keys and entry fields survive, and an entry replaced by
    /// the same manifest keeps its own extra fields and annotations.
    pub async fn set_image(&self, ref_name: &str, descriptor: Descriptor) -> Result<()> {
        self.require_writable("write index.json")?;
        let _guard = self.inner.meta.lock().await;
        let _lock = self.lock_metadata().await?;
        let path = self.index_path();
        let mut index = self.raw_index().await?;
        let Value::Object(mut entry) = to_value(&path, descriptor)? else {
            return Err(StoreError::Format(
                path,
                "descriptor is not an object".into(),
            ));
        };
        let manifests = match index
            .entry("manifests")
            .or_insert_with(|| Value::Array(vec![]))
        {
            Value::Array(list) => list,
            _ => {
                return Err(StoreError::Format(
                    path,
                    "index.json: \"manifests\" is not an array".into(),
                ))
            }
        };
        if let Some(old) = manifests.iter().filter_map(Value::as_object).find(|old| {
            entry_ref_name(old) == Some(ref_name) && old.get("digest") == entry.get("digest")
        }) {
            entry = merge_entry(old.clone(), entry);
        }
        let annotations = entry
            .entry("annotations")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Value::Object(a) = annotations {
            a.insert(REF_NAME_ANNOTATION.into(), Value::String(ref_name.into()));
        } else {
            *annotations = serde_json::json!({ REF_NAME_ANNOTATION: ref_name });
        }
        manifests.retain(|d| d.as_object().and_then(entry_ref_name) != Some(ref_name));
        manifests.push(Value::Object(entry));
        let bytes = serde_json::to_vec_pretty(&index).map_err(|source| StoreError::Json {
            path: path.clone(),
            source,
        })?;
        write_atomic(&path, &bytes).await
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

fn to_value(path: &Path, v: impl serde::Serialize) -> Result<Value> {
    serde_json::to_value(v).map_err(|source| StoreError::Json {
        path: path.to_path_buf(),
        source,
    })
}

fn entry_ref_name(entry: &Map<String, Value>) -> Option<&str> {
    entry.get("annotations")?.get(REF_NAME_ANNOTATION)?.as_str()
}

/// `new` over `old`: new fields win, annotations are merged key by key.
fn merge_entry(mut old: Map<String, Value>, new: Map<String, Value>) -> Map<String, Value> {
    for (key, value) in new {
        match (old.get_mut(&key), value) {
            (Some(Value::Object(have)), Value::Object(add)) if key == "annotations" => {
                have.extend(add);
            }
            (_, value) => {
                old.insert(key, value);
            }
        }
    }
    old
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
