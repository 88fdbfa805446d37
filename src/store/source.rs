//! [`ImageSource`]: an image to push, read from an OCI layout directory, an OCI archive (a
//! tar of a layout) or a docker-archive (`docker save`, kaniko `--tarPath`, skopeo).
//! This file walks the chosen image's manifests and serves its blobs; telling an archive's
//! format and reading each format's listing belong to `archive/`. It never writes.
//!
//! Tars are never extracted: each entry's data offset and size are found once, and blobs are
//! read straight from that byte range of the file, as often as an upload needs.

use super::archive::{
    self,
    tar_index::{open_range, read_range, TarEntry},
    Archive,
};
use super::image_json::{format_err, parse_doc, Doc, MAX_SMALL};
use super::layout::ref_name_of;
use super::{io_err, verified, BlobReader, Layout, Result, StoreError};
use crate::image::{Descriptor, RawManifest};
use crate::types::Digest;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use tokio::io::AsyncReadExt;

/// Which format an [`ImageSource`] was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// An OCI image layout directory.
    Layout,
    /// A tar of an OCI image layout (`oci-archive:`, and `docker save` since Docker 25).
    OciArchive,
    /// `docker save`'s classic format: `manifest.json` with configs and layer tars.
    DockerArchive,
}

/// Where a source's blobs are read from.
#[derive(Clone, Debug)]
enum Backing {
    Layout(Layout),
    Tar {
        file: PathBuf,
        blobs: HashMap<Digest, TarEntry>,
    },
}

/// An image to push, read from a layout directory or a tarball without extracting it.
#[derive(Clone, Debug)]
pub struct ImageSource {
    kind: SourceKind,
    path: PathBuf,
    /// The manifest or index exactly as it should be pushed.
    top: RawManifest,
    ref_name: Option<String>,
    /// Manifests under an index (depth first, children before their parents' siblings).
    children: Vec<RawManifest>,
    blobs: Vec<Descriptor>,
    backing: Backing,
}

impl ImageSource {
    /// Opens `path`, telling the format from its contents, and picks the image named
    /// `name` (full reference or the short forms tools write), or the only image.
    pub async fn open(path: impl AsRef<Path>, name: Option<&str>) -> Result<ImageSource> {
        let path = path.as_ref().to_path_buf();
        let meta = tokio::fs::metadata(&path).await.map_err(io_err(&path))?;
        if meta.is_dir() {
            return Self::from_layout(Layout::open(&path).await?, name).await;
        }
        match archive::open(&path, name).await? {
            Archive::Oci { top, blobs } => {
                let backing = Backing::Tar {
                    file: path.clone(),
                    blobs,
                };
                Self::from_index_entry(SourceKind::OciArchive, path, backing, *top).await
            }
            Archive::Docker(image) => Ok(ImageSource {
                kind: SourceKind::DockerArchive,
                ref_name: image.ref_name,
                backing: Backing::Tar {
                    file: path.clone(),
                    blobs: image.entries,
                },
                path,
                top: image.manifest,
                children: Vec::new(),
                blobs: image.blobs,
            }),
        }
    }

    /// Reads the image `name` (or the only one) from an already opened layout.
    pub async fn from_layout(layout: Layout, name: Option<&str>) -> Result<ImageSource> {
        let path = layout.root().to_path_buf();
        let top = layout.select_image(name).await?;
        let backing = Backing::Layout(layout);
        Self::from_index_entry(SourceKind::Layout, path, backing, top).await
    }

    /// Reads the image an index entry names, and every manifest and blob it needs.
    async fn from_index_entry(
        kind: SourceKind,
        path: PathBuf,
        backing: Backing,
        top: Descriptor,
    ) -> Result<ImageSource> {
        let top_digest = top.digest.clone();
        let manifest = backing.read_small(&top_digest).await?;
        let doc = parse_doc(&path, &manifest)?;
        let media_type = doc
            .media_type
            .clone()
            .unwrap_or_else(|| top.media_type.clone());
        let mut children = Vec::new();
        let mut blobs = Vec::new();
        let mut seen = HashSet::new();
        collect(
            &path,
            &backing,
            &doc,
            0,
            &mut children,
            &mut blobs,
            &mut seen,
        )
        .await?;
        Ok(ImageSource {
            kind,
            ref_name: ref_name_of(&top).map(str::to_string),
            path,
            top: RawManifest::new(manifest, media_type),
            children,
            blobs,
            backing,
        })
    }

    pub fn kind(&self) -> SourceKind {
        self.kind
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The top manifest (or index) exactly as it should be pushed.
    pub fn top(&self) -> &RawManifest {
        &self.top
    }

    pub fn manifest(&self) -> &[u8] {
        &self.top.bytes
    }

    pub fn media_type(&self) -> &str {
        &self.top.media_type
    }

    pub fn manifest_digest(&self) -> Digest {
        self.top.digest.clone()
    }

    /// The name the image carried in the source (ref-name annotation or first RepoTag).
    pub fn ref_name(&self) -> Option<&str> {
        self.ref_name.as_deref()
    }

    /// Manifests under an index (depth first, children before their parents' siblings).
    pub fn child_manifests(&self) -> &[RawManifest] {
        &self.children
    }

    /// Every config and layer blob to upload, once each. Foreign layers (with `urls`) that
    /// are not present are left out.
    pub fn blobs(&self) -> &[Descriptor] {
        &self.blobs
    }

    /// A fresh reader over one blob's bytes; call again to retry an upload.
    pub async fn open_blob(&self, digest: &Digest) -> Result<BlobReader> {
        match &self.backing {
            Backing::Layout(l) => {
                let f = l.open_blob(digest).await?;
                let len = f
                    .metadata()
                    .await
                    .map_err(io_err(&l.blob_path(digest)))?
                    .len();
                Ok(f.take(len))
            }
            Backing::Tar { file, blobs } => {
                let e = blobs
                    .get(digest)
                    .ok_or_else(|| StoreError::BlobNotFound(digest.clone()))?;
                open_range(file, *e).await
            }
        }
    }

    /// A small blob (config) read into memory and verified.
    pub async fn read_blob_bytes(&self, digest: &Digest) -> Result<Vec<u8>> {
        self.backing.read_small(digest).await
    }
}

impl Backing {
    async fn size_of(&self, digest: &Digest) -> Option<u64> {
        match self {
            Backing::Layout(l) => l.has_blob(digest).await,
            Backing::Tar { blobs, .. } => blobs.get(digest).map(|e| e.size),
        }
    }

    async fn read_small(&self, digest: &Digest) -> Result<Vec<u8>> {
        match self {
            Backing::Layout(l) => l.read_blob_bytes(digest).await,
            Backing::Tar { file, blobs } => {
                let e = blobs
                    .get(digest)
                    .ok_or_else(|| StoreError::BlobNotFound(digest.clone()))?;
                verified(read_range(file, *e, MAX_SMALL).await?, digest)
            }
        }
    }
}

/// Walks an index or manifest, gathering child manifests and the blobs to upload.
fn collect<'a>(
    path: &'a Path,
    backing: &'a Backing,
    doc: &'a Doc,
    depth: usize,
    children: &'a mut Vec<RawManifest>,
    blobs: &'a mut Vec<Descriptor>,
    seen: &'a mut HashSet<Digest>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'a>> {
    Box::pin(async move {
        if depth > 4 {
            return Err(format_err(path, "indexes nested too deeply"));
        }
        if let Some(manifests) = &doc.manifests {
            for m in manifests {
                if children.iter().any(|c| c.digest == m.digest) {
                    continue;
                }
                let bytes = match backing.read_small(&m.digest).await {
                    Ok(b) => b,
                    Err(StoreError::BlobNotFound(_)) => {
                        return Err(format_err(
                            path,
                            format!(
                                "the index lists manifest {} but it is not stored; \
                                 pull all platforms, or push a single platform's manifest",
                                m.digest
                            ),
                        ))
                    }
                    Err(e) => return Err(e),
                };
                let child = parse_doc(path, &bytes)?;
                collect(path, backing, &child, depth + 1, children, blobs, seen).await?;
                children.push(RawManifest {
                    digest: m.digest.clone(),
                    media_type: child
                        .media_type
                        .clone()
                        .unwrap_or_else(|| m.media_type.clone()),
                    bytes,
                });
            }
            return Ok(());
        }
        let config = doc.config.iter();
        for d in config.chain(doc.layers.iter()) {
            if seen.contains(&d.digest) {
                continue;
            }
            match backing.size_of(&d.digest).await {
                Some(size) if size == d.size => {}
                Some(size) => {
                    return Err(StoreError::SizeMismatch {
                        digest: d.digest.clone(),
                        expected: d.size,
                        actual: size,
                    })
                }
                None if !d.urls.is_empty() => continue, // foreign layer, lives elsewhere
                None => return Err(StoreError::BlobNotFound(d.digest.clone())),
            }
            seen.insert(d.digest.clone());
            blobs.push(d.clone());
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::image_json::{DOCKER_MANIFEST, OCI_MANIFEST};
    use crate::store::test_fixtures::*;
    use crate::store::{write_docker_archive, ArchiveOptions};

    #[tokio::test]
    async fn reads_layouts_and_what_skopeo_writes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("layout");
        let img = test_image(&dir).await;

        let src = ImageSource::open(&dir, Some("v1")).await.unwrap();
        assert_eq!(src.kind(), SourceKind::Layout);
        assert_eq!(src.manifest(), &img.manifest[..]);
        assert_eq!(src.media_type(), OCI_MANIFEST);
        assert_eq!(src.blobs().len(), 3);
        assert_eq!(read_all(&src, &img.layers[1].0).await, img.layers[1].1);

        let oci_archive = tmp.path().join("oci.tar");
        skopeo(&[
            "copy",
            &format!("oci:{}:v1", dir.display()),
            &format!("oci-archive:{}:v1", oci_archive.display()),
        ]);
        let src = ImageSource::open(&oci_archive, None).await.unwrap();
        assert_eq!(src.kind(), SourceKind::OciArchive);
        assert_eq!(src.manifest(), &img.manifest[..]);
        assert_eq!(src.ref_name(), Some("v1"));
        for (d, bytes) in &img.layers {
            assert_eq!(&read_all(&src, d).await, bytes);
            assert_eq!(&read_all(&src, d).await, bytes);
        }
        assert!(ImageSource::open(&oci_archive, Some("example.com/x:v1"))
            .await
            .is_ok());

        // skopeo writes docker-archive layers uncompressed: their digests are the diff_ids.
        let docker_archive = tmp.path().join("docker.tar");
        skopeo(&[
            "copy",
            &format!("oci:{}:v1", dir.display()),
            &format!(
                "docker-archive:{}:example.com/app:v1",
                docker_archive.display()
            ),
        ]);
        let src = ImageSource::open(&docker_archive, Some("example.com/app:v1"))
            .await
            .unwrap();
        assert_eq!(src.kind(), SourceKind::DockerArchive);
        let config = src.read_blob_bytes(&src.blobs()[0].digest).await.unwrap();
        let config: serde_json::Value = serde_json::from_slice(&config).unwrap();
        for (i, layer) in src.blobs()[1..].iter().enumerate() {
            assert_eq!(
                layer.media_type,
                "application/vnd.docker.image.rootfs.diff.tar"
            );
            assert_eq!(config["rootfs"]["diff_ids"][i], layer.digest.to_string());
            let bytes = read_all(&src, &layer.digest).await;
            assert_eq!(Digest::of(&bytes), layer.digest);
            assert_eq!(bytes.len() as u64, layer.size);
        }
        let manifest: serde_json::Value = serde_json::from_slice(src.manifest()).unwrap();
        assert_eq!(manifest["mediaType"], DOCKER_MANIFEST);
        assert_eq!(manifest["layers"].as_array().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn index_children_are_enumerated() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("layout");
        let img = test_image(&dir).await;
        let index = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{
                "mediaType": OCI_MANIFEST,
                "digest": Digest::of(&img.manifest),
                "size": img.manifest.len(),
                "platform": {"architecture": "amd64", "os": "linux"},
            }],
        }))
        .unwrap();
        let d = img.layout.put_blob_bytes(&index).await.unwrap();
        let desc =
            crate::image::Descriptor::new(crate::image::media::OCI_INDEX, d, index.len() as u64);
        img.layout.set_image("multi", &desc).await.unwrap();
        let src = ImageSource::open(&dir, Some("multi")).await.unwrap();
        assert_eq!(src.media_type(), "application/vnd.oci.image.index.v1+json");
        assert_eq!(src.child_manifests().len(), 1);
        assert_eq!(src.child_manifests()[0].bytes, img.manifest);
        assert_eq!(src.blobs().len(), 3);
        // A docker-archive holds one platform's image, never an index.
        let out = tmp.path().join("x.tar");
        assert!(
            write_docker_archive(&img.layout, &index, &ArchiveOptions::default(), &out)
                .await
                .is_err()
        );
        assert!(!out.exists());
    }

    #[tokio::test]
    async fn reading_a_layout_source_writes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("layout");
        let img = test_image(&dir).await;
        std::fs::remove_dir_all(dir.join(".hoist")).unwrap();
        let listing = |d: &Path| {
            let mut v: Vec<_> = walk(d);
            v.sort();
            v
        };
        fn walk(d: &Path) -> Vec<(PathBuf, u64)> {
            let mut out = Vec::new();
            for e in std::fs::read_dir(d).unwrap() {
                let e = e.unwrap();
                let m = e.metadata().unwrap();
                if m.is_dir() {
                    out.extend(walk(&e.path()));
                }
                out.push((e.path(), m.len()));
            }
            out
        }
        let before = listing(&dir);
        let src = ImageSource::open(&dir, None).await.unwrap();
        for b in src.blobs() {
            read_all(&src, &b.digest).await;
        }
        drop(img);
        assert_eq!(listing(&dir), before);
    }
}
