//! The on-disk image store: an OCI image layout that pulls stream into and pushes read from
//! (`layout/`), readers and writers for the tarball formats other tools exchange images in
//! (`archive/`), and [`ImageSource`], which reads an image to push from either (`source.rs`).
//!
//! Nothing here talks to the network or the terminal. Everything that writes is atomic
//! (temp file + rename) so an interrupted pull never leaves a half-written blob under
//! `blobs/`, and large blobs are only ever streamed, never held in memory.

pub mod archive;
mod image_json;
pub mod layout;
pub mod push_source;
mod select;
pub mod source;
#[cfg(test)]
mod test_fixtures;
pub mod work_dir;

pub use archive::docker::{write_docker_archive, ArchiveOptions, BlobFiles, LayerForm};
pub use layout::{BlobWriter, Layout, REF_NAME_ANNOTATION};
pub use push_source::StoredImage;
pub use source::{ImageSource, SourceKind};
pub use work_dir::WorkDir;

use crate::types::Digest;
use std::path::{Path, PathBuf};

/// What went wrong in the store. I/O errors carry the path they happened on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: invalid JSON: {source}", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{} is not an OCI image layout (no oci-layout file) and is not empty; refusing to write into it",
        .0.display()
    )]
    NotALayout(PathBuf),
    #[error("{}: unsupported image layout version {:?}", .0.display(), .1)]
    UnsupportedLayout(PathBuf, String),
    #[error("{}: opened read-only; cannot {}", .0.display(), .1)]
    ReadOnly(PathBuf, &'static str),
    #[error(
        "blob {expected} failed verification: received content has digest {actual} ({size} bytes)"
    )]
    DigestMismatch {
        expected: Digest,
        actual: Digest,
        size: u64,
    },
    #[error("blob {digest}: expected {expected} bytes, received {actual}")]
    SizeMismatch {
        digest: Digest,
        expected: u64,
        actual: u64,
    },
    #[error("blob {0} is not in the store")]
    BlobNotFound(Digest),
    #[error("blob {0} is already being written by another task")]
    BlobBusy(Digest),
    #[error("blob {0} is too large ({1} bytes) to read into memory")]
    BlobTooLarge(Digest, u64),
    #[error("no image named {name:?} in {}{}", path.display(), available_list(.available))]
    ImageNotFound {
        path: PathBuf,
        name: String,
        available: Vec<String>,
    },
    #[error("{}: no image in it", .0.display())]
    NoImage(PathBuf),
    #[error("{} holds several images; name one of: {}", path.display(), .available.join(", "))]
    AmbiguousImage {
        path: PathBuf,
        available: Vec<String>,
    },
    #[error("{}: {}", .0.display(), .1)]
    Format(PathBuf, String),
}

fn available_list(names: &[String]) -> String {
    if names.is_empty() {
        String::new()
    } else {
        format!(" (it has: {})", names.join(", "))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// `bytes`, if they hash to `expected`: a small blob read whole is checked before it is used.
pub(crate) fn verified(bytes: Vec<u8>, expected: &Digest) -> Result<Vec<u8>> {
    let actual = Digest::of(&bytes);
    if &actual != expected {
        return Err(StoreError::DigestMismatch {
            expected: expected.clone(),
            actual,
            size: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The body of one blob: exactly its bytes, read from disk.
pub type BlobReader = tokio::io::Take<tokio::fs::File>;

/// How a blob's bytes are compressed, as told by their first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// Sniffs gzip (`1f 8b`) and zstd (`28 b5 2f fd`); anything else is taken as uncompressed.
    pub fn detect(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// The OCI layer media type for a layer compressed this way.
    pub fn oci_layer_media_type(self) -> &'static str {
        match self {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }

    /// The Docker schema2 layer media type; Docker has none for zstd.
    pub fn docker_layer_media_type(self) -> Option<&'static str> {
        match self {
            Compression::None => Some("application/vnd.docker.image.rootfs.diff.tar"),
            Compression::Gzip => Some("application/vnd.docker.image.rootfs.diff.tar.gzip"),
            Compression::Zstd => None,
        }
    }
}

/// A name for a temp file that no other process or task picks at the same moment.
pub(crate) fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}.{}.{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// Writes `bytes` to `path` atomically: a temp file in the same directory, fsync, rename.
pub(crate) async fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = synced_temp_beside(path, bytes).await?;
    let result = tokio::fs::rename(&tmp, path).await.map_err(io_err(path));
    if result.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    result
}

/// A temp file beside `path` (`.NAME.<unique>.tmp`) holding `bytes`, fsynced; the caller
/// moves it into place or removes it.
pub(crate) async fn synced_temp_beside(path: &Path, bytes: &[u8]) -> Result<PathBuf> {
    use tokio::io::AsyncWriteExt;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.{}.tmp", unique_suffix()));
    let written = async {
        let mut f = tokio::fs::File::create(&tmp).await.map_err(io_err(&tmp))?;
        f.write_all(bytes).await.map_err(io_err(&tmp))?;
        f.sync_all().await.map_err(io_err(&tmp))
    }
    .await;
    match written {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = tokio::fs::remove_file(&tmp).await;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_compression_by_magic() {
        assert_eq!(Compression::detect(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(
            Compression::detect(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Compression::Zstd
        );
        assert_eq!(Compression::detect(b"etc/\0\0\0"), Compression::None);
        assert_eq!(Compression::detect(&[0x1f]), Compression::None);
    }
}
