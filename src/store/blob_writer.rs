//! Streaming a blob into a layout: bytes go to a partial file under `.hoist/partial/`, are
//! hashed as they pass, and the file is renamed into `blobs/sha256/` only once its digest and
//! size check out. An unfinished download is parked where the next pull resumes it, and a
//! claim keeps two tasks of one process from appending to the same blob.

use super::layout::Layout;
use super::{io_err, unique_suffix, Result, StoreError};
use crate::types::{Digest, DigestHasher};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// Releases a digest's write claim when the writer goes away, however it goes.
#[derive(Debug)]
struct Claim {
    layout: Layout,
    hex: String,
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.layout.release_claim(&self.hex);
    }
}

impl BlobWriter {
    /// See [`Layout::begin_blob`].
    pub(super) async fn begin(
        layout: &Layout,
        expected: &Digest,
        expected_size: Option<u64>,
    ) -> Result<BlobWriter> {
        layout.require_writable("write a blob")?;
        if !layout.try_claim(expected.hex()) {
            return Err(StoreError::BlobBusy(expected.clone()));
        }
        // From here on the guard inside BlobWriter (or this one on error) releases the claim.
        let claim = Claim {
            layout: layout.clone(),
            hex: expected.hex().to_string(),
        };
        let dir = layout.partial_dir();
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
            final_path: layout.blob_path(expected),
            blobs_dir: layout.blob_path(expected).parent().map(Path::to_path_buf),
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
}
