//! Writes what `docker save` writes (`manifest.json`, `repositories`, config and layer
//! blobs), for `docker load` and `skopeo copy docker-archive:`. It only reads the layout it
//! writes from, and the archive appears under its name complete or not at all.

use crate::image::Descriptor;
use crate::store::image_json::{format_err, parse_doc, COPY_BUF};
use crate::store::{io_err, Compression, Layout, Result, StoreError};
use crate::types::Digest;
use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Anything blobs can be read from synchronously (for the tar writer, which is blocking).
pub trait BlobFiles: Send + Sync {
    /// A reader over the whole blob and its size.
    fn open_blob_sync(&self, digest: &Digest) -> std::io::Result<(Box<dyn Read + Send>, u64)>;
}

impl BlobFiles for Layout {
    fn open_blob_sync(&self, digest: &Digest) -> std::io::Result<(Box<dyn Read + Send>, u64)> {
        let f = std::fs::File::open(self.blob_path(digest))?;
        let len = f.metadata()?.len();
        Ok((Box::new(f), len))
    }
}

/// How layers go into a docker-archive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LayerForm {
    /// Copy each layer blob byte for byte, compressed as it was pulled. Fastest and smallest;
    /// `docker load` and `skopeo copy docker-archive:` both decompress on reading.
    #[default]
    AsStored,
}

#[derive(Clone, Debug, Default)]
pub struct ArchiveOptions {
    /// Tags to record (`alpine:3.19`, `ghcr.io/o/app:v1`); `docker load` tags the image so.
    pub repo_tags: Vec<String>,
    pub layer_form: LayerForm,
    /// Where the tar is built before it is renamed to its name: a directory on the target's
    /// filesystem. `None` is the target's own directory.
    pub temp_dir: Option<PathBuf>,
}

/// Writes a docker-archive of the image `manifest` (OCI or Docker schema2, not an index) to
/// `out`, reading its config and layers from `blobs`. The tar is built in a file created
/// exclusively (a fresh random name, never through a planted symlink) beside the target, or
/// in [`ArchiveOptions::temp_dir`], and renamed into place when complete: two writers of one
/// target each build their own, and the last rename wins with a whole archive.
pub async fn write_docker_archive<B>(
    blobs: &B,
    manifest: &[u8],
    options: &ArchiveOptions,
    out: &Path,
) -> Result<()>
where
    B: BlobFiles + Clone + 'static,
{
    let blobs = blobs.clone();
    let manifest = manifest.to_vec();
    let options = options.clone();
    let out = out.to_path_buf();
    // Dropping this future (Ctrl-C) stops the writer at its next read, and it removes its
    // partial file, instead of writing on unseen until the process exits.
    let cancel = CancelOnDrop::default();
    let cancelled = cancel.0.clone();
    tokio::task::spawn_blocking(move || {
        write_docker_archive_blocking(&blobs, &manifest, &options, &out, &cancelled)
    })
    .await
    .map_err(|e| StoreError::Io {
        path: PathBuf::new(),
        source: std::io::Error::other(e),
    })?
}

fn write_docker_archive_blocking(
    blobs: &dyn BlobFiles,
    manifest: &[u8],
    options: &ArchiveOptions,
    out: &Path,
    cancelled: &AtomicBool,
) -> Result<()> {
    let doc = parse_doc(out, manifest)?;
    if doc.manifests.is_some() {
        return Err(format_err(
            out,
            "a docker-archive holds one image; choose a platform's manifest, not the index",
        ));
    }
    let config = doc
        .config
        .ok_or_else(|| format_err(out, "manifest has no config"))?;
    let dir = match &options.temp_dir {
        Some(dir) => dir.as_path(),
        None => match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        },
    };
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(out.file_name().unwrap_or_default());
    prefix.push(".");
    // O_EXCL with a random name; dropped on any error (or cancellation), it removes itself.
    let temp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .tempfile_in(dir)
        .map_err(io_err(dir))?;
    let partial = temp.path().to_path_buf();
    let partial = partial.as_path();
    (|| -> Result<()> {
        let file = temp.as_file().try_clone().map_err(io_err(partial))?;
        let mut tar = tar::Builder::new(std::io::BufWriter::with_capacity(COPY_BUF, file));
        tar.mode(tar::HeaderMode::Deterministic);

        let config_name = format!("{}.json", config.digest.hex());
        append_blob(&mut tar, blobs, &config, &config_name, partial, cancelled)?;

        let mut layer_names = Vec::new();
        let mut written = HashSet::new();
        for layer in &doc.layers {
            let head = read_head(blobs, &layer.digest).map_err(io_err(partial))?;
            let ext = match Compression::detect(&head) {
                Compression::None => "tar",
                Compression::Gzip => "tar.gz",
                Compression::Zstd => "tar.zst",
            };
            let name = format!("{}.{ext}", layer.digest.hex());
            if written.insert(name.clone()) {
                append_blob(&mut tar, blobs, layer, &name, partial, cancelled)?;
            }
            layer_names.push(name);
        }

        let manifest_json = serde_json::json!([{
            "Config": config_name,
            "RepoTags": options.repo_tags,
            "Layers": layer_names,
        }]);
        append_bytes(
            &mut tar,
            "manifest.json",
            &serde_json::to_vec(&manifest_json).unwrap_or_default(),
            partial,
        )?;

        // The legacy `repositories` file maps repo → tag → top layer id.
        let mut repos = serde_json::Map::new();
        if let Some(top) = doc.layers.last() {
            for tag in &options.repo_tags {
                let Some((repo, tag)) = split_repo_tag(tag) else {
                    continue;
                };
                let entry = repos
                    .entry(repo.to_string())
                    .or_insert_with(|| serde_json::json!({}));
                entry[tag] = serde_json::Value::String(top.digest.hex().to_string());
            }
        }
        append_bytes(
            &mut tar,
            "repositories",
            &serde_json::to_vec(&repos).unwrap_or_default(),
            partial,
        )?;

        let mut buffered = tar.into_inner().map_err(io_err(partial))?;
        buffered.flush().map_err(io_err(partial))?;
        let file = buffered
            .into_inner()
            .map_err(|e| io_err(partial)(e.into_error()))?;
        file.sync_all().map_err(io_err(partial))
    })()?;
    temp.persist(out).map_err(|e| io_err(out)(e.error))?;
    Ok(())
}

fn split_repo_tag(s: &str) -> Option<(&str, &str)> {
    let s = s.split('@').next().unwrap_or(s);
    let slash = s.rfind('/').map(|i| i + 1).unwrap_or(0);
    let colon = s[slash..].rfind(':')? + slash;
    Some((&s[..colon], &s[colon + 1..]))
}

fn read_head(blobs: &dyn BlobFiles, digest: &Digest) -> std::io::Result<Vec<u8>> {
    let (r, _) = blobs.open_blob_sync(digest)?;
    let mut head = Vec::with_capacity(8);
    r.take(8).read_to_end(&mut head)?;
    Ok(head)
}

fn tar_header(size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_size(size);
    h
}

fn append_bytes<W: Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    bytes: &[u8],
    partial: &Path,
) -> Result<()> {
    let mut h = tar_header(bytes.len() as u64);
    tar.append_data(&mut h, name, bytes)
        .map_err(io_err(partial))
}

/// Streams one blob into the tar, refusing a blob whose size on disk is not the manifest's.
fn append_blob<W: Write>(
    tar: &mut tar::Builder<W>,
    blobs: &dyn BlobFiles,
    desc: &Descriptor,
    name: &str,
    partial: &Path,
    cancelled: &AtomicBool,
) -> Result<()> {
    let (reader, len) = blobs.open_blob_sync(&desc.digest).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            StoreError::BlobNotFound(desc.digest.clone())
        } else {
            io_err(partial)(e)
        }
    })?;
    if len != desc.size {
        return Err(StoreError::SizeMismatch {
            digest: desc.digest.clone(),
            expected: desc.size,
            actual: len,
        });
    }
    let mut h = tar_header(len);
    let reader = Cancellable {
        inner: reader.take(len),
        cancelled,
    };
    let reader = std::io::BufReader::with_capacity(COPY_BUF, reader);
    tar.append_data(&mut h, name, reader)
        .map_err(io_err(partial))
}

#[derive(Default)]
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A reader that fails once the archive's writer has been cancelled.
struct Cancellable<'a, R> {
    inner: R,
    cancelled: &'a AtomicBool,
}

impl<R: Read> Read for Cancellable<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancelled.load(Ordering::Relaxed) {
            return Err(std::io::Error::other("cancelled"));
        }
        self.inner.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::image_json::DOCKER_MANIFEST;
    use crate::store::test_fixtures::*;
    use crate::store::{ImageSource, SourceKind};

    #[tokio::test]
    async fn docker_archive_round_trips_through_skopeo() {
        let tmp = tempfile::tempdir().unwrap();
        let img = test_image(&tmp.path().join("layout")).await;
        let out = tmp.path().join("image.tar");
        let options = ArchiveOptions {
            repo_tags: vec!["example.com/team/app:v1".into()],
            ..Default::default()
        };
        write_docker_archive(&img.layout, &img.manifest, &options, &out)
            .await
            .unwrap();
        let names: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "only the layout and the archive: {names:?}");

        let file = out.to_str().unwrap();
        let inspect: serde_json::Value =
            serde_json::from_str(&skopeo(&["inspect", &format!("docker-archive:{file}")])).unwrap();
        assert_eq!(inspect["Layers"].as_array().unwrap().len(), 2);
        let dir2 = tmp.path().join("copied");
        skopeo(&[
            "copy",
            &format!("docker-archive:{file}"),
            &format!("oci:{}:x", dir2.display()),
        ]);
        let copied = Layout::open(&dir2).await.unwrap();
        let m = copied.find_image("x").await.unwrap().unwrap();
        assert!(copied.has_blob(&m.digest).await.is_some());

        // hoist reads back what it wrote: the layers as they were, gzip and all.
        let src = ImageSource::open(&out, None).await.unwrap();
        assert_eq!(src.kind(), SourceKind::DockerArchive);
        assert_eq!(src.media_type(), DOCKER_MANIFEST);
        assert_eq!(src.ref_name(), Some("example.com/team/app:v1"));
        let digests: Vec<&Digest> = src.blobs().iter().map(|b| &b.digest).collect();
        assert_eq!(digests, [&img.config, &img.layers[0].0, &img.layers[1].0]);
        assert_eq!(
            src.blobs()[1].media_type,
            "application/vnd.docker.image.rootfs.diff.tar.gzip"
        );
        for (d, bytes) in &img.layers {
            assert_eq!(&read_all(&src, d).await, bytes);
            assert_eq!(&read_all(&src, d).await, bytes);
        }
        assert!(ImageSource::open(&out, Some("example.com/team/app:v1"))
            .await
            .is_ok());
        assert!(ImageSource::open(&out, Some("example.com/team/app:v2"))
            .await
            .is_err());
    }

    #[tokio::test]
    async fn a_cancelled_writer_stops_and_removes_its_partial_file() {
        let tmp = tempfile::tempdir().unwrap();
        let img = test_image(&tmp.path().join("layout")).await;
        let out = tmp.path().join("image.tar");
        let cancelled = AtomicBool::new(true);
        let result = write_docker_archive_blocking(
            &img.layout,
            &img.manifest,
            &ArchiveOptions::default(),
            &out,
            &cancelled,
        );
        assert!(format!("{:#}", result.unwrap_err()).contains("cancelled"));
        assert!(!out.exists());
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            1,
            "the layout"
        );
    }

    /// The partial archive once had a fixed name opened following symlinks, so a symlink
    /// planted there had its target overwritten.
    #[tokio::test]
    async fn a_symlink_planted_beside_the_target_is_not_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let img = test_image(&tmp.path().join("layout")).await;
        let victim = tmp.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        std::os::unix::fs::symlink(&victim, tmp.path().join("image.tar.partial")).unwrap();
        let out = tmp.path().join("image.tar");
        write_docker_archive(&img.layout, &img.manifest, &ArchiveOptions::default(), &out)
            .await
            .unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert!(ImageSource::open(&out, None).await.is_ok());
    }
}
