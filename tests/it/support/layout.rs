//! Reading what hoist wrote into an OCI layout: index entries, blobs by digest, and checks
//! that a layout holds an image byte for byte. Read-only; it never writes a layout.

use super::images::ImageLayout;
use super::sha256_digest;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

pub fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

/// index.json entries as (ref name, descriptor).
pub fn index_entries(layout: &Path) -> Vec<(Option<String>, Value)> {
    read_json(&layout.join("index.json"))["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["annotations"][REF_NAME].as_str().map(String::from),
                d.clone(),
            )
        })
        .collect()
}

/// The one entry named `name`; panics if there are none or several.
pub fn entry(layout: &Path, name: &str) -> Value {
    let all = index_entries(layout);
    let found: Vec<_> = all
        .iter()
        .filter(|(n, _)| n.as_deref() == Some(name))
        .collect();
    assert_eq!(found.len(), 1, "entries named {name} in {all:#?}");
    found[0].1.clone()
}

pub fn blob_path(layout: &Path, digest: &str) -> PathBuf {
    layout
        .join("blobs/sha256")
        .join(digest.strip_prefix("sha256:").unwrap())
}

/// Every blob of every manifest of `image` is in `layout`, byte for byte.
pub fn assert_has_image(layout: &Path, image: &ImageLayout, archs: &[&str]) {
    for m in image
        .manifests
        .iter()
        .filter(|m| archs.contains(&m.platform.1.as_str()))
    {
        assert_eq!(
            std::fs::read(blob_path(layout, &m.blob.digest)).unwrap(),
            m.bytes,
            "manifest {}",
            m.blob.digest
        );
        assert_eq!(
            std::fs::read(blob_path(layout, &m.config.digest)).unwrap(),
            m.config_bytes
        );
        for l in &m.layers {
            let path = blob_path(layout, &l.blob.digest);
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(sha256_digest(&bytes), l.blob.digest);
        }
    }
}

/// Nothing under blobs/ whose content does not match its name.
pub fn assert_blobs_verified(layout: &Path) {
    let dir = layout.join("blobs/sha256");
    for e in std::fs::read_dir(&dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        let bytes = std::fs::read(e.path()).unwrap();
        assert_eq!(
            sha256_digest(&bytes),
            format!("sha256:{name}"),
            "corrupt blob {}",
            e.path().display()
        );
    }
}
