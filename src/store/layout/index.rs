//! `index.json`: the images a layout holds, each named by its
//! `org.opencontainers.image.ref.name` annotation, and finding one by a name as users and other
//! tools write it. The matching rules live in `store/select.rs`, shared with the archives;
//! this file only says which names an index entry carries.

use super::{Layout, CONTAINERD_NAME_ANNOTATION, REF_NAME_ANNOTATION};
use crate::image::{media, Descriptor, ImageIndex};
use crate::store::select::{self, Candidate, Loose};
use crate::store::{io_err, write_atomic, Result, StoreError};
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
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ImageIndex {
                media_type: Some(media::OCI_INDEX.into()),
                manifests: Vec::new(),
            }),
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
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => empty_index(),
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
    /// The file is edited as JSON rather than through typed views: other tools' top-level keys
    /// and entry fields survive, and an entry replaced by the same manifest keeps its own extra
    /// fields and annotations.
    pub async fn set_image(&self, ref_name: &str, descriptor: &Descriptor) -> Result<()> {
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
            .manifests
            .into_iter()
            .map(|d| (ref_name_of(&d).map(str::to_string), d))
            .collect())
    }

    /// Finds an image by name. An exact match on the ref-name (or containerd name)
    /// annotation wins; otherwise short and long forms are matched both ways — `latest` or
    /// `alpine:latest` as written by skopeo finds `docker.io/library/alpine:latest` and vice
    /// versa. Several loose matches and no exact one is an error, not a guess.
    pub async fn find_image(&self, name: &str) -> Result<Option<Descriptor>> {
        let all = self.index().await?.manifests;
        Ok(find_named(self.root(), name, &all)?.cloned())
    }

    /// The image in a layout that holds exactly one.
    pub async fn only_image(&self) -> Result<Descriptor> {
        self.select_image(None).await
    }

    /// `find_image(name)` when a name is given (and it must exist), else `only_image()`.
    pub async fn select_image(&self, name: Option<&str>) -> Result<Descriptor> {
        let all = self.index().await?.manifests;
        Ok(select_named(self.root(), name, &all)?.clone())
    }
}

/// What an image-less layout's `index.json` holds.
pub(super) fn empty_index() -> Value {
    serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_INDEX,
        "manifests": [],
    })
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
    d.annotation(REF_NAME_ANNOTATION)
}

fn annotation<'a>(d: &'a Descriptor, key: &str) -> Option<&'a str> {
    d.annotation(key)
}

/// An index entry as the name matcher sees it: named by its annotations, listed by its
/// ref-name or else its digest.
fn candidate(d: &Descriptor) -> Candidate {
    let ref_name = ref_name_of(d);
    let names = [ref_name, annotation(d, CONTAINERD_NAME_ANNOTATION)];
    Candidate {
        names: names.into_iter().flatten().map(str::to_string).collect(),
        listed: vec![ref_name.map_or_else(|| d.digest.to_string(), str::to_string)],
        key: d.digest.to_string(),
    }
}

/// The entry of `all` that `name` picks, or the only one; shared by layouts and OCI archives.
pub(crate) fn select_named<'a>(
    root: &Path,
    name: Option<&str>,
    all: &'a [Descriptor],
) -> Result<&'a Descriptor> {
    let candidates: Vec<Candidate> = all.iter().map(candidate).collect();
    Ok(&all[select::select(root, name, &candidates, Loose::RepoAndTag)?])
}

fn find_named<'a>(
    root: &Path,
    name: &str,
    all: &'a [Descriptor],
) -> Result<Option<&'a Descriptor>> {
    let candidates: Vec<Candidate> = all.iter().map(candidate).collect();
    Ok(select::find(root, name, &candidates, Loose::RepoAndTag)?.map(|i| &all[i]))
}
