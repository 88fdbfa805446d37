//! An OCI image layout on disk (image-spec `image-layout.md`): `oci-layout`, `index.json`
//! and `blobs/sha256/<hex>`, plus hoist's own bookkeeping under `.hoist/` (partial downloads
//! and which repositories each blob is known to live in, for cross-repository mounts).
//!
//! A layout opened with [`Layout::open`] is read-only: nothing is created or modified, so it
//! works on a read-only filesystem. [`Layout::create_or_open`] gives a writable one.

use super::{io_err, unique_suffix, write_atomic, Result, StoreError};
use crate::types::{Digest, DigestHasher};
use oci_spec::image::{Descriptor, ImageIndex, MediaType};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

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
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.{}.tmp", unique_suffix()));
    let result = async {
        let mut f = tokio::fs::File::create(&tmp).await.map_err(io_err(&tmp))?;
        f.write_all(bytes).await.map_err(io_err(&tmp))?;
        f.sync_all().await.map_err(io_err(&tmp))?;
        drop(f);
        match tokio::fs::hard_link(&tmp, path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            // No hard links on this filesystem: a rename, racy only against another creator.
            Err(_) if tokio::fs::metadata(path).await.is_err() => {
                tokio::fs::rename(&tmp, path).await.map_err(io_err(path))
            }
            Err(_) => Ok(()),
        }
    }
    .await;
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
        let index = layout.index_path();
        if tokio::fs::metadata(&index).await.is_err() {
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

    fn require_writable(&self, what: &'static str) -> Result<()> {
        if self.inner.writable {
            Ok(())
        } else {
            Err(StoreError::ReadOnly(self.inner.root.clone(), what))
        }
    }

    fn index_path(&self) -> PathBuf {
        self.inner.root.join("index.json")
    }

    /// Where unfinished downloads wait for the next pull to resume them.
    pub fn partial_dir(&self) -> PathBuf {
        self.inner.root.join(".hoist").join("partial")
    }

    /// Other hoist processes may update `index.json` or the locations file at the same time:
    /// a read-modify-write holds `.hoist/meta.lock`, created exclusively and removed on drop.
    /// A lock older than [`STALE_LOCK`] was left by a killed process and is broken.
    async fn lock_metadata(&self) -> Result<MetaLock> {
        let path = self.inner.root.join(".hoist").join("meta.lock");
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        loop {
            match tokio::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .await
            {
                Ok(_) => return Ok(MetaLock { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err(&path)(e)),
            }
            let age = tokio::fs::metadata(&path)
                .await
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.elapsed().ok());
            if age.is_some_and(|a| a > STALE_LOCK) {
                let _ = tokio::fs::remove_file(&path).await;
                continue;
            }
            if std::time::Instant::now() > deadline {
                return Err(io_err(&path)(std::io::Error::other(
                    "another hoist has held this lock for too long; remove the file if no hoist is running",
                )));
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
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
        let actual = Digest::of(&buf);
        if &actual != digest {
            return Err(StoreError::DigestMismatch {
                expected: digest.clone(),
                actual,
                size: buf.len() as u64,
            });
        }
        Ok(buf)
    }

    /// Stores a small blob atomically and returns its digest.
    pub async fn put_blob_bytes(&self, bytes: &[u8]) -> Result<Digest> {
        self.require_writable("write a blob")?;
        let digest = Digest::of(bytes);
        let path = self.blob_path(&digest);
        if self.has_blob(&digest).await == Some(bytes.len() as u64) {
            return Ok(digest);
        }
        let tmp = self
            .partial_dir()
            .join(format!("{}.{}.tmp", digest.hex(), unique_suffix()));
        let result = async {
            let mut f = tokio::fs::File::create(&tmp).await.map_err(io_err(&tmp))?;
            f.write_all(bytes).await.map_err(io_err(&tmp))?;
            f.sync_all().await.map_err(io_err(&tmp))?;
            drop(f);
            tokio::fs::rename(&tmp, &path).await.map_err(io_err(&path))
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result.map(|()| digest)
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
        self.require_writable("write a blob")?;
        {
            let mut writing = self.inner.writing.lock().unwrap_or_else(|p| p.into_inner());
            if !writing.insert(expected.hex().to_string()) {
                return Err(StoreError::BlobBusy(expected.clone()));
            }
        }
        // From here on the guard inside BlobWriter (or this one on error) releases the claim.
        let claim = Claim {
            layout: self.clone(),
            hex: expected.hex().to_string(),
        };
        let dir = self.partial_dir();
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(io_err(&dir))?;
        // Another process may be pulling the same blob into this layout, so each writer has a
        // file of its own. An interrupted download is parked under the plain `<hex>` name;
        // renaming it to ours adopts it atomically, so only one writer ever resumes it.
        let resumable = dir.join(expected.hex());
        let partial = dir.join(format!("{}.{}.part", expected.hex(), unique_suffix()));
        match tokio::fs::rename(&resumable, &partial).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&resumable)(e)),
        }
        let mut file = tokio::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&partial)
            .await
            .map_err(io_err(&partial))?;
        let mut hasher = DigestHasher::new();
        let existing = file.metadata().await.map_err(io_err(&partial))?.len();
        let too_long = expected_size.is_some_and(|s| existing > s);
        if existing > 0 && !too_long {
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = file.read(&mut buf).await.map_err(io_err(&partial))?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
            }
        }
        let mut writer = BlobWriter {
            expected: expected.clone(),
            expected_size,
            partial,
            resumable,
            park: true,
            final_path: self.blob_path(expected),
            blobs_dir: self.blob_path(expected).parent().map(Path::to_path_buf),
            file: Some(file),
            hasher,
            _claim: claim,
        };
        if too_long || writer.hasher.len() != existing {
            writer.restart().await?;
        } else {
            writer
                .file_mut()?
                .seek(std::io::SeekFrom::End(0))
                .await
                .map_err(io_err(&writer.partial))?;
        }
        Ok(writer)
    }

    // ----- index.json -----

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

    // ----- blob locations -----

    /// Remembers that `digest` exists in `location` (`registry/repository`), so a later
    /// push to another repository on that registry can mount it instead of uploading.
    /// On a read-only layout this does nothing and returns `false`.
    pub async fn record_location(&self, digest: &Digest, location: &str) -> Result<bool> {
        if !self.inner.writable {
            return Ok(false);
        }
        let _guard = self.inner.meta.lock().await;
        let _lock = self.lock_metadata().await?;
        let mut all = self.read_locations().await?;
        let entry = all.entry(digest.to_string()).or_default();
        if entry.iter().any(|l| l == location) {
            return Ok(true);
        }
        entry.push(location.to_string());
        let path = self.locations_path();
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io_err(dir))?;
        }
        let bytes = serde_json::to_vec_pretty(&all).map_err(|source| StoreError::Json {
            path: path.clone(),
            source,
        })?;
        write_atomic(&path, &bytes).await?;
        Ok(true)
    }

    /// Where `digest` is known to live, oldest record first; empty when nothing is known.
    pub async fn locations(&self, digest: &Digest) -> Result<Vec<String>> {
        Ok(self
            .read_locations()
            .await?
            .remove(&digest.to_string())
            .unwrap_or_default())
    }

    async fn read_locations(&self) -> Result<BTreeMap<String, Vec<String>>> {
        let path = self.locations_path();
        match tokio::fs::read(&path).await {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|source| StoreError::Json { path, source })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(io_err(&path)(e)),
        }
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

fn empty_index() -> ImageIndex {
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

/// Releases a digest's write claim when the writer goes away, however it goes.
#[derive(Debug)]
struct Claim {
    layout: Layout,
    hex: String,
}

/// How long to wait for another process's metadata update, and when its lock counts as
/// abandoned (an update takes milliseconds).
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(60);
const STALE_LOCK: std::time::Duration = std::time::Duration::from_secs(30);

struct MetaLock {
    path: PathBuf,
}

impl Drop for MetaLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut writing = self
            .layout
            .inner
            .writing
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        writing.remove(&self.hex);
    }
}

/// A blob being streamed into the layout; verified on [`commit`](BlobWriter::commit).
///
/// Dropping it without committing keeps the partial file so a later pull can resume.
pub struct BlobWriter {
    expected: Digest,
    expected_size: Option<u64>,
    /// This writer's own file, `.hoist/partial/<hex>.<unique>.part`.
    partial: PathBuf,
    /// Where an unfinished download is parked for the next `begin_blob`: `.hoist/partial/<hex>`.
    resumable: PathBuf,
    /// False once the partial file was committed or deleted.
    park: bool,
    final_path: PathBuf,
    blobs_dir: Option<PathBuf>,
    file: Option<tokio::fs::File>,
    hasher: DigestHasher,
    _claim: Claim,
}

impl BlobWriter {
    fn file_mut(&mut self) -> Result<&mut tokio::fs::File> {
        match self.file.as_mut() {
            Some(f) => Ok(f),
            None => Err(StoreError::Io {
                path: self.partial.clone(),
                source: std::io::Error::other("blob write was abandoned after an error"),
            }),
        }
    }

    /// How many bytes are already written: where a resumed download must continue from.
    pub fn offset(&self) -> u64 {
        self.hasher.len()
    }

    pub fn expected(&self) -> &Digest {
        &self.expected
    }

    pub fn expected_size(&self) -> Option<u64> {
        self.expected_size
    }

    /// Appends a chunk. Going past the expected size fails at once (and drops the partial).
    pub async fn write_chunk(&mut self, chunk: &[u8]) -> Result<()> {
        if let Some(size) = self.expected_size {
            let after = self.hasher.len() + chunk.len() as u64;
            if after > size {
                self.discard().await;
                return Err(StoreError::SizeMismatch {
                    digest: self.expected.clone(),
                    expected: size,
                    actual: after,
                });
            }
        }
        let partial = self.partial.clone();
        self.file_mut()?
            .write_all(chunk)
            .await
            .map_err(io_err(&partial))?;
        self.hasher.update(chunk);
        Ok(())
    }

    /// Appends everything `reader` yields (e.g. a `StreamReader` over a response body);
    /// returns how many bytes it added.
    pub async fn write_from<R>(&mut self, reader: &mut R) -> Result<u64>
    where
        R: tokio::io::AsyncRead + Unpin + ?Sized,
    {
        let mut buf = vec![0u8; 256 * 1024];
        let mut total = 0u64;
        loop {
            let n = reader.read(&mut buf).await.map_err(io_err(&self.partial))?;
            if n == 0 {
                return Ok(total);
            }
            self.write_chunk(&buf[..n]).await?;
            total += n as u64;
        }
    }

    /// Throws away what was written so far, for a server that ignored `Range`.
    pub async fn restart(&mut self) -> Result<()> {
        let partial = self.partial.clone();
        let f = self.file_mut()?;
        f.set_len(0).await.map_err(io_err(&partial))?;
        f.seek(std::io::SeekFrom::Start(0))
            .await
            .map_err(io_err(&partial))?;
        self.hasher = DigestHasher::new();
        Ok(())
    }

    /// Verifies digest and size, fsyncs and moves the blob into `blobs/`. On a mismatch the
    /// partial file is deleted and the error names both digests. Returns the size.
    pub async fn commit(mut self) -> Result<u64> {
        let partial = self.partial.clone();
        self.file_mut()?;
        let mut file = self.file.take().expect("checked just above");
        file.flush().await.map_err(io_err(&partial))?;
        let (actual, size) = std::mem::take(&mut self.hasher).finish();
        if let Some(expected_size) = self.expected_size {
            if size != expected_size {
                drop(file);
                self.discard().await;
                return Err(StoreError::SizeMismatch {
                    digest: self.expected.clone(),
                    expected: expected_size,
                    actual: size,
                });
            }
        }
        if actual != self.expected {
            drop(file);
            self.discard().await;
            return Err(StoreError::DigestMismatch {
                expected: self.expected.clone(),
                actual,
                size,
            });
        }
        file.sync_all().await.map_err(io_err(&partial))?;
        drop(file);
        tokio::fs::rename(&partial, &self.final_path)
            .await
            .map_err(io_err(&self.final_path))?;
        self.park = false;
        if let Some(dir) = &self.blobs_dir {
            // Make the rename itself durable; not every filesystem lets a directory be synced.
            if let Ok(d) = tokio::fs::File::open(dir).await {
                let _ = d.sync_all().await;
            }
        }
        Ok(size)
    }

    /// Deletes the partial file; the next `begin_blob` starts from zero.
    pub async fn abort(mut self) -> Result<()> {
        self.file.take();
        self.park = false;
        match tokio::fs::remove_file(&self.partial).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&self.partial)(e)),
        }
    }

    async fn discard(&mut self) {
        self.file.take();
        self.park = false;
        let _ = tokio::fs::remove_file(&self.partial).await;
        self.hasher = DigestHasher::new();
    }
}

impl Drop for BlobWriter {
    /// Parks an unfinished download where the next pull finds it (a rename: no I/O to wait on).
    fn drop(&mut self) {
        self.file.take();
        if self.park {
            let _ = std::fs::rename(&self.partial, &self.resumable);
        }
    }
}

impl std::fmt::Debug for BlobWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobWriter")
            .field("expected", &self.expected)
            .field("expected_size", &self.expected_size)
            .field("offset", &self.hasher.len())
            .field("partial", &self.partial)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::image::DescriptorBuilder;

    fn desc(bytes: &[u8]) -> Descriptor {
        DescriptorBuilder::default()
            .media_type(MediaType::ImageManifest)
            .digest(
                Digest::of(bytes)
                    .to_string()
                    .parse::<oci_spec::image::Digest>()
                    .unwrap(),
            )
            .size(bytes.len() as u64)
            .build()
            .unwrap()
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
    async fn verified_write_commits() {
        let tmp = tempfile::tempdir().unwrap();
        let l = Layout::create_or_open(tmp.path()).await.unwrap();
        let data = vec![7u8; 300_000];
        let d = Digest::of(&data);
        let mut w = l.begin_blob(&d, Some(data.len() as u64)).await.unwrap();
        assert_eq!(w.offset(), 0);
        assert!(matches!(
            l.begin_blob(&d, None).await,
            Err(StoreError::BlobBusy(_))
        ));
        for chunk in data.chunks(65536) {
            w.write_chunk(chunk).await.unwrap();
        }
        assert_eq!(w.commit().await.unwrap(), data.len() as u64);
        assert_eq!(l.has_blob(&d).await, Some(data.len() as u64));
        assert!(!tmp.path().join(".hoist/partial").join(d.hex()).exists());
        // The claim is released once the writer is gone.
        l.begin_blob(&d, None).await.unwrap().abort().await.unwrap();
    }

    #[tokio::test]
    async fn mismatch_leaves_nothing_behind() {
        let tmp = tempfile::tempdir().unwrap();
        let l = Layout::create_or_open(tmp.path()).await.unwrap();
        let expected = Digest::of(b"right");
        let mut w = l.begin_blob(&expected, None).await.unwrap();
        w.write_chunk(b"wrong").await.unwrap();
        let err = w.commit().await.unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(&expected.to_string()), "{msg}");
        assert!(msg.contains(&Digest::of(b"wrong").to_string()), "{msg}");
        assert!(matches!(err, StoreError::DigestMismatch { .. }));
        assert_eq!(
            std::fs::read_dir(tmp.path().join("blobs/sha256"))
                .unwrap()
                .count(),
            0
        );
        assert_eq!(
            std::fs::read_dir(tmp.path().join(".hoist/partial"))
                .unwrap()
                .count(),
            0
        );

        // Too many bytes for the announced size fails on the write itself.
        let mut w = l.begin_blob(&expected, Some(5)).await.unwrap();
        w.write_chunk(b"righ").await.unwrap();
        assert!(matches!(
            w.write_chunk(b"tt").await,
            Err(StoreError::SizeMismatch { .. })
        ));
        drop(w);
        assert_eq!(
            std::fs::read_dir(tmp.path().join(".hoist/partial"))
                .unwrap()
                .count(),
            0
        );
    }

    #[tokio::test]
    async fn resumes_by_rehashing_then_appending() {
        let tmp = tempfile::tempdir().unwrap();
        let l = Layout::create_or_open(tmp.path()).await.unwrap();
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let d = Digest::of(&data);
        let mut w = l.begin_blob(&d, Some(data.len() as u64)).await.unwrap();
        w.write_chunk(&data[..400_000]).await.unwrap();
        drop(w); // interrupted: partial stays
        let mut w = l.begin_blob(&d, Some(data.len() as u64)).await.unwrap();
        assert_eq!(w.offset(), 400_000);
        w.write_chunk(&data[400_000..]).await.unwrap();
        w.commit().await.unwrap();
        assert_eq!(std::fs::read(l.blob_path(&d)).unwrap(), data);

        // A server that ignores Range: restart and take the whole body.
        let d2 = Digest::of(b"hello world");
        let mut w = l.begin_blob(&d2, None).await.unwrap();
        w.write_chunk(b"hello").await.unwrap();
        drop(w);
        let mut w = l.begin_blob(&d2, None).await.unwrap();
        assert_eq!(w.offset(), 5);
        w.restart().await.unwrap();
        assert_eq!(w.offset(), 0);
        w.write_chunk(b"hello world").await.unwrap();
        w.commit().await.unwrap();
        assert_eq!(std::fs::read(l.blob_path(&d2)).unwrap(), b"hello world");

        // A partial longer than the blob can be is thrown away.
        std::fs::write(tmp.path().join(".hoist/partial").join(d2.hex()), [0u8; 20]).unwrap();
        let w = l.begin_blob(&d2, Some(11)).await.unwrap();
        assert_eq!(w.offset(), 0);
    }

    #[tokio::test]
    async fn index_set_replace_find() {
        let tmp = tempfile::tempdir().unwrap();
        let l = Layout::create_or_open(tmp.path()).await.unwrap();
        let (a, b, c) = (desc(b"a"), desc(b"b"), desc(b"c"));
        l.set_image("docker.io/library/alpine:3.19", a.clone())
            .await
            .unwrap();
        l.set_image("ghcr.io/o/app:v1", b.clone()).await.unwrap();
        assert_eq!(l.images().await.unwrap().len(), 2);
        let find = |n: &'static str| {
            let l = l.clone();
            async move { l.find_image(n).await.unwrap().map(|d| d.digest().clone()) }
        };
        assert_eq!(
            find("docker.io/library/alpine:3.19").await,
            Some(a.digest().clone())
        );
        assert_eq!(find("alpine:3.19").await, Some(a.digest().clone()));
        assert_eq!(find("3.19").await, Some(a.digest().clone()));
        assert_eq!(find("v1").await, Some(b.digest().clone()));
        assert_eq!(find("ghcr.io/o/app:v2").await, None);
        assert_eq!(find("alpine:3.20").await, None);
        // Replacing keeps one entry per name.
        l.set_image("ghcr.io/o/app:v1", c.clone()).await.unwrap();
        assert_eq!(l.images().await.unwrap().len(), 2);
        assert_eq!(find("ghcr.io/o/app:v1").await, Some(c.digest().clone()));
        assert!(matches!(
            l.only_image().await,
            Err(StoreError::AmbiguousImage { .. })
        ));
        // Short names as skopeo writes them are found by full references too.
        l.set_image("latest", a.clone()).await.unwrap();
        assert_eq!(find("quay.io/x/y:latest").await, Some(a.digest().clone()));
        assert_eq!(find("latest").await, Some(a.digest().clone()));
        let err = l.select_image(Some("nope")).await.unwrap_err().to_string();
        assert!(err.contains("ghcr.io/o/app:v1"), "{err}");
    }

    #[tokio::test]
    async fn only_image_of_one() {
        let tmp = tempfile::tempdir().unwrap();
        let l = Layout::create_or_open(tmp.path()).await.unwrap();
        assert!(matches!(l.only_image().await, Err(StoreError::NoImage(_))));
        l.set_image("x", desc(b"x")).await.unwrap();
        assert_eq!(l.only_image().await.unwrap().digest(), desc(b"x").digest());
        assert_eq!(l.select_image(None).await.unwrap().size(), 1);
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
    }

    #[tokio::test]
    async fn read_only_open_writes_nothing() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("layout");
        let l = Layout::create_or_open(&dir).await.unwrap();
        let blob = l.put_blob_bytes(b"config").await.unwrap();
        l.set_image("v1", desc(b"m")).await.unwrap();
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
        assert!(ro.set_image("v2", desc(b"n")).await.is_err());
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
                l.set_image(&format!("tag{i}"), desc(format!("m{i}").as_bytes()))
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
