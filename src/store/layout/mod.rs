//! An OCI image layout on disk (image-spec `image-layout.md`): `oci-layout`, `index.json`
//! and `blobs/sha256/<hex>`, plus hoist's own bookkeeping under `.hoist/` (partial downloads
//! and which repositories each blob is known to live in, for cross-repository mounts).
//!
//! This file has the directory and its blobs; `index.rs` the images `index.json` names,
//! `locations.rs` the record of where blobs live, `lock.rs` the lock and clean-up that let
//! several hoists share a layout, and `blob_writer.rs` with `partial.rs` the streaming of a
//! blob into it through a resumable partial file.
//!
//! A layout opened with [`Layout::open`] is read-only: nothing is created or modified, so it
//! works on a read-only filesystem. [`Layout::create_or_open`] gives a writable one.

pub mod blob_writer;
mod index;
mod locations;
mod lock;
mod partial;

pub use blob_writer::BlobWriter;
use index::empty_index;
pub(crate) use index::{ref_name_of, select_named};

use super::{io_err, synced_temp_beside, verified, Result, StoreError};
use crate::types::Digest;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncReadExt;

/// The annotation OCI tools name images in `index.json` with.
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";
/// containerd (and `docker save` since Docker 25) put the full reference here.
const CONTAINERD_NAME_ANNOTATION: &str = "io.containerd.image.name";
const LAYOUT_VERSION: &str = "1.0.0";
/// `read_blob_bytes` is for manifests and configs; refuse anything bigger than this.
const MAX_SMALL_BLOB: u64 = 64 * 1024 * 1024;

/// A handle on an image layout directory. Cheap to clone; clones share in-process locks.
#[derive(Clone, Debug)]
pub struct Layout {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    root: PathBuf,
    writable: bool,
    /// Serialises read-modify-write of index.json and locations.json within this process.
    meta: tokio::sync::Mutex<()>,
    /// Digests with a live `BlobWriter`, so two tasks never append to one partial file.
    writing: std::sync::Mutex<HashSet<String>>,
}

/// What a layout being created by hoist contains, temp files included.
fn is_layout_entry(name: &str) -> bool {
    matches!(name, "oci-layout" | "index.json" | "blobs" | ".hoist")
        || ((name.starts_with(".oci-layout.") || name.starts_with(".index.json."))
            && name.ends_with(".tmp"))
}

/// Creates `path` with `bytes` unless it exists, atomically: the complete file appears under
/// its name (a hard link of a synced temp file) or the existing one is left alone.
async fn write_if_absent(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = synced_temp_beside(path, bytes).await?;
    let result = match tokio::fs::hard_link(&tmp, path).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        // No hard links on this filesystem: a rename, racy only against another creator.
        Err(_) if tokio::fs::metadata(path).await.is_err() => {
            tokio::fs::rename(&tmp, path).await.map_err(io_err(path))
        }
        Err(_) => Ok(()),
    };
    let _ = tokio::fs::remove_file(&tmp).await;
    result
}

#[derive(serde::Deserialize)]
struct OciLayoutFile {
    #[serde(rename = "imageLayoutVersion")]
    image_layout_version: String,
}

impl Layout {
    /// Opens the layout at `dir` for writing, creating the directory and the layout files if
    /// needed. An existing non-empty directory without an `oci-layout` file is refused.
    pub async fn create_or_open(dir: impl AsRef<Path>) -> Result<Layout> {
        let root = dir.as_ref().to_path_buf();
        let marker = root.join("oci-layout");
        match tokio::fs::metadata(&marker).await {
            Ok(_) => check_layout_version(&marker).await?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tokio::fs::create_dir_all(&root)
                    .await
                    .map_err(io_err(&root))?;
                // Another hoist may be creating the same layout right now: its files do not
                // make the directory foreign.
                let mut entries = tokio::fs::read_dir(&root).await.map_err(io_err(&root))?;
                while let Some(entry) = entries.next_entry().await.map_err(io_err(&root))? {
                    if !is_layout_entry(&entry.file_name().to_string_lossy()) {
                        return Err(StoreError::NotALayout(root));
                    }
                }
                let body = format!("{{\"imageLayoutVersion\":\"{LAYOUT_VERSION}\"}}");
                write_if_absent(&marker, body.as_bytes()).await?;
                check_layout_version(&marker).await?;
            }
            Err(e) => return Err(io_err(&marker)(e)),
        }
        for sub in ["blobs/sha256", ".hoist/partial"] {
            let p = root.join(sub);
            tokio::fs::create_dir_all(&p).await.map_err(io_err(&p))?;
        }
        let layout = Layout::new(root, true);
        layout.sweep_partials().await;
        let index = layout.index_path();
        if tokio::fs::metadata(&index).await.is_err() {
            // Under the lock, as every write of it is (see `lock_metadata`).
            let _lock = layout.lock_metadata().await?;
            // Never over an index another process has just written.
            let body =
                serde_json::to_vec_pretty(&empty_index()).map_err(|source| StoreError::Json {
                    path: index.clone(),
                    source,
                })?;
            write_if_absent(&index, &body).await?;
        }
        Ok(layout)
    }

    /// Opens an existing layout for reading only; never writes to `dir`.
    pub async fn open(dir: impl AsRef<Path>) -> Result<Layout> {
        let root = dir.as_ref().to_path_buf();
        let marker = root.join("oci-layout");
        match tokio::fs::metadata(&marker).await {
            Ok(_) => check_layout_version(&marker).await?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::Format(
                    root,
                    "not an OCI image layout: no oci-layout file".into(),
                ))
            }
            Err(e) => return Err(io_err(&marker)(e)),
        }
        Ok(Layout::new(root, false))
    }

    fn new(root: PathBuf, writable: bool) -> Layout {
        Layout {
            inner: Arc::new(Inner {
                root,
                writable,
                meta: tokio::sync::Mutex::new(()),
                writing: std::sync::Mutex::new(HashSet::new()),
            }),
        }
    }

    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// False for a layout from [`Layout::open`].
    pub fn is_writable(&self) -> bool {
        self.inner.writable
    }

    pub(super) fn require_writable(&self, what: &'static str) -> Result<()> {
        if self.inner.writable {
            Ok(())
        } else {
            Err(StoreError::ReadOnly(self.inner.root.clone(), what))
        }
    }

    /// Marks the blob `hex` as being written by a task of this process; false if one already is.
    pub(super) fn try_claim(&self, hex: &str) -> bool {
        self.writing().insert(hex.to_string())
    }

    pub(super) fn release_claim(&self, hex: &str) {
        self.writing().remove(hex);
    }

    fn writing(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.inner.writing.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn index_path(&self) -> PathBuf {
        self.inner.root.join("index.json")
    }

    /// Where unfinished downloads wait for the next pull to resume them.
    pub fn partial_dir(&self) -> PathBuf {
        self.inner.root.join(".hoist").join("partial")
    }

    fn locations_path(&self) -> PathBuf {
        self.inner.root.join(".hoist").join("locations.json")
    }

    // ----- blobs -----

    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.inner
            .root
            .join("blobs")
            .join(digest.algorithm())
            .join(digest.hex())
    }

    /// Makes the renames of committed blobs into `blobs/` durable: [`BlobWriter::commit`]
    /// fsyncs each blob's bytes and leaves the directory to one sync after all of a pull's
    /// blobs. Not every filesystem lets a directory be synced, so failing to is not an error.
    pub async fn sync_blobs(&self) {
        let dir = self.inner.root.join("blobs").join("sha256");
        if let Ok(d) = tokio::fs::File::open(&dir).await {
            let _ = d.sync_all().await;
        }
    }

    /// The blob's size if it is in the layout.
    pub async fn has_blob(&self, digest: &Digest) -> Option<u64> {
        match tokio::fs::metadata(self.blob_path(digest)).await {
            Ok(m) if m.is_file() => Some(m.len()),
            _ => None,
        }
    }

    pub async fn open_blob(&self, digest: &Digest) -> Result<tokio::fs::File> {
        let path = self.blob_path(digest);
        tokio::fs::File::open(&path).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                StoreError::BlobNotFound(digest.clone())
            } else {
                io_err(&path)(e)
            }
        })
    }

    /// Reads a small blob (manifest, config, index) into memory and checks its digest.
    pub async fn read_blob_bytes(&self, digest: &Digest) -> Result<Vec<u8>> {
        let path = self.blob_path(digest);
        let mut f = self.open_blob(digest).await?;
        let len = f.metadata().await.map_err(io_err(&path))?.len();
        if len > MAX_SMALL_BLOB {
            return Err(StoreError::BlobTooLarge(digest.clone(), len));
        }
        let mut buf = Vec::with_capacity(len as usize);
        f.read_to_end(&mut buf).await.map_err(io_err(&path))?;
        verified(buf, digest)
    }

    /// Stores a small blob atomically and returns its digest.
    pub async fn put_blob_bytes(&self, bytes: &[u8]) -> Result<Digest> {
        self.require_writable("write a blob")?;
        let digest = Digest::of(bytes);
        let path = self.blob_path(&digest);
        if self.has_blob(&digest).await == Some(bytes.len() as u64) {
            return Ok(digest);
        }
        let dir = self.partial_dir();
        let hex = digest.hex().to_string();
        let bytes = bytes.to_vec();
        let written = tokio::task::spawn_blocking(move || -> Result<()> {
            use std::io::Write;
            // Locked like a partial download, so that a sweep never takes it for a leftover.
            let mut tmp = partial::create_private(&dir, &hex, ".tmp").map_err(io_err(&dir))?;
            let result = (|| {
                tmp.file.write_all(&bytes)?;
                tmp.file.sync_all()?;
                std::fs::rename(&tmp.path, &path)
            })();
            if result.is_err() {
                let _ = std::fs::remove_file(&tmp.path);
            }
            result.map_err(io_err(&tmp.path))
        })
        .await
        .map_err(|e| io_err(self.root())(std::io::Error::other(e)))?;
        written.map(|()| digest)
    }

    /// Starts (or resumes) a verified streaming write of the blob `expected`.
    ///
    /// Bytes go to `.hoist/partial/<hex>` inside the layout. If a partial file is already
    /// there from an interrupted pull, its bytes are re-hashed (streamed, not loaded) and
    /// [`BlobWriter::offset`] says how many there are: ask the server for `Range: bytes=N-`
    /// and append, or call [`BlobWriter::restart`] if it answers with the whole blob.
    pub async fn begin_blob(
        &self,
        expected: &Digest,
        expected_size: Option<u64>,
    ) -> Result<BlobWriter> {
        BlobWriter::begin(self, expected, expected_size).await
    }
}

async fn check_layout_version(marker: &Path) -> Result<()> {
    let bytes = tokio::fs::read(marker).await.map_err(io_err(marker))?;
    let parsed: OciLayoutFile =
        serde_json::from_slice(&bytes).map_err(|source| StoreError::Json {
            path: marker.to_path_buf(),
            source,
        })?;
    if parsed.image_layout_version != LAYOUT_VERSION {
        let root = marker.parent().unwrap_or(marker).to_path_buf();
        return Err(StoreError::UnsupportedLayout(
            root,
            parsed.image_layout_version,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{media, Descriptor};

    fn desc(bytes: &[u8]) -> Descriptor {
        Descriptor::new(media::OCI_MANIFEST, Digest::of(bytes), bytes.len() as u64)
    }

    /// Every file under `dir`, relative, with its length and modification time.
    fn snapshot(dir: &Path) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let e = e.unwrap();
                let m = e.metadata().unwrap();
                if m.is_dir() {
                    stack.push(e.path());
                }
                out.push((
                    e.path().strip_prefix(dir).unwrap().to_path_buf(),
                    m.len(),
                    m.modified().unwrap(),
                ));
            }
        }
        out.sort();
        out
    }

    #[tokio::test]
    async fn creates_then_reopens() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        let l = Layout::create_or_open(&dir).await.unwrap();
        assert!(l.is_writable());
        assert!(dir.join("oci-layout").is_file());
        assert!(dir.join("blobs/sha256").is_dir());
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
        assert_eq!(index["schemaVersion"], 2);
        assert_eq!(index["manifests"], serde_json::json!([]));
        Layout::create_or_open(&dir).await.unwrap();
        let ro = Layout::open(&dir).await.unwrap();
        assert!(!ro.is_writable());
        assert!(matches!(
            ro.put_blob_bytes(b"x").await,
            Err(StoreError::ReadOnly(..))
        ));
    }

    #[tokio::test]
    async fn refuses_non_layout_directories() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("notes.txt"), b"hi").unwrap();
        let err = Layout::create_or_open(tmp.path()).await.unwrap_err();
        assert!(matches!(err, StoreError::NotALayout(_)), "{err}");
        assert!(err.to_string().contains("not an OCI image layout"));
        assert!(Layout::open(tmp.path()).await.is_err());
        assert!(!tmp.path().join("oci-layout").exists());
    }

    #[tokio::test]
    async fn small_blobs_round_trip() {
        let tmp = tempfile::tempdir().unwrap();
        let l = Layout::create_or_open(tmp.path()).await.unwrap();
        let d = l.put_blob_bytes(b"{}").await.unwrap();
        assert_eq!(d, Digest::of(b"{}"));
        assert_eq!(l.has_blob(&d).await, Some(2));
        assert_eq!(l.read_blob_bytes(&d).await.unwrap(), b"{}");
        assert_eq!(l.put_blob_bytes(b"{}").await.unwrap(), d);
        let missing = Digest::of(b"nope");
        assert_eq!(l.has_blob(&missing).await, None);
        assert!(matches!(
            l.open_blob(&missing).await,
            Err(StoreError::BlobNotFound(_))
        ));
        assert_eq!(
            std::fs::read_dir(tmp.path().join(".hoist/partial"))
                .unwrap()
                .count(),
            0
        );
    }

    #[tokio::test]
    async fn index_set_replace_find() {
        let tmp = tempfile::tempdir().unwrap();
        let l = Layout::create_or_open(tmp.path()).await.unwrap();
        let (a, b, c) = (desc(b"a"), desc(b"b"), desc(b"c"));
        l.set_image("docker.io/library/alpine:3.19", &a)
            .await
            .unwrap();
        l.set_image("ghcr.io/o/app:v1", &b).await.unwrap();
        assert_eq!(l.images().await.unwrap().len(), 2);
        let find = |n: &'static str| {
            let l = l.clone();
            async move { l.find_image(n).await.unwrap().map(|d| d.digest) }
        };
        assert_eq!(
            find("docker.io/library/alpine:3.19").await,
            Some(a.digest.clone())
        );
        assert_eq!(find("alpine:3.19").await, Some(a.digest.clone()));
        assert_eq!(find("3.19").await, Some(a.digest.clone()));
        assert_eq!(find("v1").await, Some(b.digest.clone()));
        assert_eq!(find("ghcr.io/o/app:v2").await, None);
        assert_eq!(find("alpine:3.20").await, None);
        // Replacing keeps one entry per name.
        l.set_image("ghcr.io/o/app:v1", &c).await.unwrap();
        assert_eq!(l.images().await.unwrap().len(), 2);
        assert_eq!(find("ghcr.io/o/app:v1").await, Some(c.digest.clone()));
        assert!(matches!(
            l.only_image().await,
            Err(StoreError::AmbiguousImage { .. })
        ));
        // Short names as skopeo writes them are found by full references too.
        l.set_image("latest", &a).await.unwrap();
        assert_eq!(find("quay.io/x/y:latest").await, Some(a.digest.clone()));
        assert_eq!(find("latest").await, Some(a.digest.clone()));
        let err = l.select_image(Some("nope")).await.unwrap_err().to_string();
        assert!(err.contains("ghcr.io/o/app:v1"), "{err}");
    }

    #[tokio::test]
    async fn only_image_of_one() {
        let tmp = tempfile::tempdir().unwrap();
        let l = Layout::create_or_open(tmp.path()).await.unwrap();
        assert!(matches!(l.only_image().await, Err(StoreError::NoImage(_))));
        l.set_image("x", &desc(b"x")).await.unwrap();
        assert_eq!(l.only_image().await.unwrap().digest, desc(b"x").digest);
        assert_eq!(l.select_image(None).await.unwrap().size, 1);
    }

    #[tokio::test]
    async fn locations_are_recorded_and_tolerant() {
        let tmp = tempfile::tempdir().unwrap();
        let l = Layout::create_or_open(tmp.path()).await.unwrap();
        let d = Digest::of(b"layer");
        assert!(l.locations(&d).await.unwrap().is_empty());
        assert!(l.record_location(&d, "ghcr.io/o/a").await.unwrap());
        l.record_location(&d, "ghcr.io/o/b").await.unwrap();
        l.record_location(&d, "ghcr.io/o/a").await.unwrap();
        assert_eq!(
            l.locations(&d).await.unwrap(),
            ["ghcr.io/o/a", "ghcr.io/o/b"]
        );
        let ro = Layout::open(tmp.path()).await.unwrap();
        assert_eq!(ro.locations(&d).await.unwrap().len(), 2);
        assert!(!ro.record_location(&d, "ghcr.io/o/c").await.unwrap());
        assert_eq!(l.locations(&d).await.unwrap().len(), 2);

        // Many blobs in one update, the ones already known left as they were.
        let e = Digest::of(b"other layer");
        assert!(l.record_locations([&d, &e], "ghcr.io/o/c").await.unwrap());
        assert_eq!(
            l.locations(&d).await.unwrap(),
            ["ghcr.io/o/a", "ghcr.io/o/b", "ghcr.io/o/c"]
        );
        assert_eq!(l.locations(&e).await.unwrap(), ["ghcr.io/o/c"]);
        let path = tmp.path().join(".hoist/locations.json");
        let before = std::fs::read(&path).unwrap();
        assert!(l.record_locations([&e, &d], "ghcr.io/o/c").await.unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    #[tokio::test]
    async fn read_only_open_writes_nothing() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("layout");
        let l = Layout::create_or_open(&dir).await.unwrap();
        let blob = l.put_blob_bytes(b"config").await.unwrap();
        l.set_image("v1", &desc(b"m")).await.unwrap();
        std::fs::remove_dir_all(dir.join(".hoist")).unwrap();
        let before = snapshot(&dir);
        let set_mode = |mode: fn(bool) -> u32| {
            for (p, _, _) in snapshot(&dir).iter().rev() {
                std::fs::set_permissions(
                    dir.join(p),
                    std::fs::Permissions::from_mode(mode(dir.join(p).is_dir())),
                )
                .unwrap();
            }
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode(true))).unwrap();
        };
        set_mode(|is_dir| if is_dir { 0o555 } else { 0o444 });
        let ro = Layout::open(&dir).await.unwrap();
        assert_eq!(ro.read_blob_bytes(&blob).await.unwrap(), b"config");
        assert!(ro.find_image("v1").await.unwrap().is_some());
        assert!(ro.locations(&blob).await.unwrap().is_empty());
        ro.record_location(&blob, "r/x").await.unwrap();
        assert!(ro.begin_blob(&blob, None).await.is_err());
        assert!(ro.set_image("v2", &desc(b"n")).await.is_err());
        set_mode(|is_dir| if is_dir { 0o755 } else { 0o644 });
        // As root the permissions stop nothing, so compare what is on disk instead.
        assert_eq!(snapshot(&dir), before);
    }

    #[tokio::test]
    async fn concurrent_updates_are_not_lost() {
        let tmp = tempfile::tempdir().unwrap();
        let l = Layout::create_or_open(tmp.path()).await.unwrap();
        let d = Digest::of(b"shared");
        let mut tasks = Vec::new();
        for i in 0..16 {
            let l = l.clone();
            let d = d.clone();
            tasks.push(tokio::spawn(async move {
                l.set_image(&format!("tag{i}"), &desc(format!("m{i}").as_bytes()))
                    .await
                    .unwrap();
                l.record_location(&d, &format!("reg/repo{i}"))
                    .await
                    .unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(l.images().await.unwrap().len(), 16);
        assert_eq!(l.locations(&d).await.unwrap().len(), 16);
    }
}
