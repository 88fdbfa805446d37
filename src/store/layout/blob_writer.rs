//! Streaming a blob into a layout: bytes go to a partial file under `.hoist/partial/`, are
//! hashed as they pass, and the file is renamed into `blobs/sha256/` only once its digest and
//! size check out. The partial file is named by the blob's digest and locked while written
//! (see `partial.rs`), so an unfinished download, even one of a killed process, is resumed by
//! the next pull; an in-process claim keeps two tasks from writing the same blob.
//!
//! Hashing and writing are CPU and disk work, so each blob gets a thread of its own that does
//! both with a plain `std::fs::File`; the async side only copies network chunks into buffers
//! of [`BATCH`] bytes and hands them over, and the thread hands the buffers back for reuse
//! (double buffering: one is filled while the other is written).
//! Handing over every chunk through tokio's blocking pool (one `spawn_blocking` per 16–400 KiB
//! chunk) cost a pull of 1 GiB more CPU in thread wake-ups than the hashing itself. Copying
//! rather than keeping the network's buffers until they are written lets the HTTP client
//! reuse its read buffer; otherwise every chunk lands in freshly faulted-in memory.

use super::partial::{self, Claimed};
use super::Layout;
use crate::store::{io_err, Result, StoreError};
use crate::types::{Digest, DigestHasher};
use std::io::{Read, Seek, Write};
use std::path::PathBuf;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::{mpsc, oneshot};

/// How many bytes the async side gathers before waking the disk thread.
const BATCH: usize = 512 * 1024;
/// How many buffers of [`BATCH`] bytes a blob has: one being filled while one is written.
const BUFFERS: usize = 2;
/// The disk thread hashes and writes a buffer in slices this big, so that the write finds
/// in the CPU cache what the hash just read.
const SLICE: usize = 256 * 1024;
/// The disk thread asks the kernel to start writing the file out every this many bytes, so
/// that the fsync at commit finds little left to do. Without it nothing reached the disk
/// before the fsync (a machine with lots of memory starts writeback late), and a 1 GiB pull
/// spent its last few hundred milliseconds waiting for the disk with the network idle.
const WRITEBACK: u64 = 8 << 20;

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

/// What the async side asks of the disk thread, in order.
enum Job {
    Write(Vec<u8>),
    /// Truncate to nothing: the server sent the whole blob instead of the range asked for.
    Restart,
    /// Verify, fsync and move into `blobs/`; the thread's outcome is the size.
    Commit,
    /// Delete the partial file.
    Discard,
}

/// A blob being streamed into the layout; verified on [`commit`](BlobWriter::commit).
///
/// Dropping it without committing keeps the partial file so a later pull can resume: the drop
/// waits for the disk thread to write what it was given (at most [`BUFFERS`] buffers) and park
/// the file, so an interrupted process leaves a resumable file behind.
pub struct BlobWriter {
    expected: Digest,
    expected_size: Option<u64>,
    /// Bytes accepted so far, written or still queued: where a resumed download continues.
    offset: u64,
    /// This writer's file, `.hoist/partial/<hex>` or a private one (for messages).
    partial: PathBuf,
    /// Bytes not yet handed to the disk thread.
    batch: Vec<u8>,
    /// The disk thread's queue: unbounded, but it never holds more than the [`BUFFERS`] a
    /// blob has. `None` once the thread was told to finish.
    jobs: Option<mpsc::UnboundedSender<Job>>,
    /// Buffers the disk thread has written, back for reuse.
    spare: mpsc::UnboundedReceiver<Vec<u8>>,
    /// Buffers handed to the disk thread and not back yet.
    lent: usize,
    /// The disk thread's last word: the committed size, or why it stopped.
    outcome: Option<oneshot::Receiver<Result<u64>>>,
    thread: Option<std::thread::JoinHandle<()>>,
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
        // From here on the claim lives with the disk file and is released when it goes.
        let claim = Claim {
            layout: layout.clone(),
            hex: expected.hex().to_string(),
        };
        let dir = layout.partial_dir();
        let paths = Paths {
            hex: expected.hex().to_string(),
            final_path: layout.blob_path(expected),
            dir: dir.clone(),
        };
        let (jobs, queue) = mpsc::unbounded_channel();
        let (spare_tx, spare) = mpsc::unbounded_channel();
        let (ready_tx, ready) = oneshot::channel();
        let (outcome_tx, outcome) = oneshot::channel();
        let check = Check {
            expected: expected.clone(),
            expected_size,
        };
        let thread = std::thread::Builder::new()
            .name("hoist-blob".into())
            .spawn(move || match DiskFile::open(paths, check, claim) {
                Ok(disk) => {
                    let _ = ready_tx.send(Ok((disk.hasher.len(), disk.partial.path.clone())));
                    let _ = outcome_tx.send(disk.serve(queue, spare_tx));
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            })
            .map_err(io_err(&dir))?;
        let (offset, partial) = ready.await.map_err(|_| stopped(&dir))??;
        Ok(BlobWriter {
            expected: expected.clone(),
            expected_size,
            offset,
            partial,
            batch: Vec::new(),
            jobs: Some(jobs),
            spare,
            lent: 0,
            outcome: Some(outcome),
            thread: Some(thread),
        })
    }

    /// How many bytes are already written: where a resumed download must continue from.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    pub fn expected(&self) -> &Digest {
        &self.expected
    }

    pub fn expected_size(&self) -> Option<u64> {
        self.expected_size
    }

    /// Appends a chunk. Going past the expected size fails at once (and drops the partial).
    pub async fn write(&mut self, mut chunk: &[u8]) -> Result<()> {
        loop {
            // A slice never fails to read.
            let read = self.write_from(&mut chunk).await?;
            if read.map_err(io_err(&self.partial))? == 0 {
                return Ok(());
            }
        }
    }

    /// Appends what one read of `reader` gives, read straight into the buffer that goes to
    /// disk (no copy in between). `Ok(Ok(0))` at the end of the reader; the inner error is the
    /// reader's own, the outer one the layout's. Going past the expected size fails at once.
    pub async fn write_from(
        &mut self,
        reader: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<std::io::Result<usize>> {
        if self.batch.len() == BATCH {
            self.hand_over().await?;
            self.batch = self.next_buffer().await?;
        }
        if self.batch.capacity() < BATCH {
            self.batch.reserve_exact(BATCH - self.batch.len());
        }
        // Never more than the buffer has room for: a Vec read into grows otherwise.
        let room = (BATCH - self.batch.len()) as u64;
        let n = match (&mut *reader).take(room).read_buf(&mut self.batch).await {
            Ok(n) => n,
            Err(e) => return Ok(Err(e)),
        };
        let after = self.offset + n as u64;
        if let Some(size) = self.expected_size.filter(|&size| after > size) {
            let _ = self.discard().await;
            return Err(StoreError::SizeMismatch {
                digest: self.expected.clone(),
                expected: size,
                actual: after,
            });
        }
        self.offset = after;
        Ok(Ok(n))
    }

    /// Queues the bytes gathered so far for writing.
    async fn hand_over(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let full = std::mem::take(&mut self.batch);
        self.send(Job::Write(full)).await?;
        self.lent += 1;
        Ok(())
    }

    /// A buffer to fill: a new one while the blob has fewer than [`BUFFERS`], else the next
    /// one the disk thread is done with (which is what keeps the download from outrunning it).
    async fn next_buffer(&mut self) -> Result<Vec<u8>> {
        let back = match self.spare.try_recv() {
            Ok(buf) => Some(buf),
            Err(_) if self.lent < BUFFERS => return Ok(Vec::new()),
            Err(_) => self.spare.recv().await,
        };
        match back {
            Some(buf) => {
                self.lent -= 1;
                Ok(buf)
            }
            None => Err(self.early_stop().await),
        }
    }

    /// Throws away what was written so far, for a server that ignored `Range`.
    pub async fn restart(&mut self) -> Result<()> {
        self.batch.clear();
        self.offset = 0;
        self.send(Job::Restart).await
    }

    /// Verifies digest and size, fsyncs and moves the blob into `blobs/`. On a mismatch the
    /// partial file is deleted and the error names both digests. Returns the size.
    ///
    /// The rename is made durable by [`Layout::sync_blobs`], once for all blobs of a pull.
    pub async fn commit(mut self) -> Result<u64> {
        self.hand_over().await?;
        self.finish(Job::Commit).await
    }

    /// Deletes the partial file; the next `begin_blob` starts from zero.
    pub async fn abort(mut self) -> Result<()> {
        self.discard().await
    }

    async fn discard(&mut self) -> Result<()> {
        self.batch.clear();
        self.finish(Job::Discard).await.map(|_| ())
    }

    async fn send(&mut self, job: Job) -> Result<()> {
        match &self.jobs {
            Some(jobs) if jobs.send(job).is_ok() => Ok(()),
            _ => Err(self.early_stop().await),
        }
    }

    /// Why the disk thread stopped before it was told to: it only does on an error.
    async fn early_stop(&mut self) -> StoreError {
        self.jobs = None;
        self.outcome().await.err().unwrap_or(stopped(&self.partial))
    }

    /// Queues `job` as the last one and waits for the thread's outcome.
    async fn finish(&mut self, job: Job) -> Result<u64> {
        if let Some(jobs) = self.jobs.take() {
            // Dropping the sender closes the queue behind the job.
            let _ = jobs.send(job);
        }
        self.outcome().await
    }

    async fn outcome(&mut self) -> Result<u64> {
        let outcome = self.outcome.take().ok_or_else(|| stopped(&self.partial))?;
        outcome
            .await
            .unwrap_or_else(|_| Err(stopped(&self.partial)))
    }
}

fn stopped(partial: &std::path::Path) -> StoreError {
    StoreError::Io {
        path: partial.to_path_buf(),
        source: std::io::Error::other("blob write was abandoned after an error"),
    }
}

impl Drop for BlobWriter {
    /// Hands over the last batch, closes the queue and waits for the disk thread to park the
    /// file where the next pull finds it.
    fn drop(&mut self) {
        if let Some(jobs) = self.jobs.take() {
            let batch = std::mem::take(&mut self.batch);
            if !batch.is_empty() {
                let _ = jobs.send(Job::Write(batch));
            }
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for BlobWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobWriter")
            .field("expected", &self.expected)
            .field("expected_size", &self.expected_size)
            .field("offset", &self.offset)
            .field("partial", &self.partial)
            .finish()
    }
}

struct Paths {
    /// `.hoist/partial/`
    dir: PathBuf,
    hex: String,
    final_path: PathBuf,
}

/// What the blob must turn out to be.
struct Check {
    expected: Digest,
    expected_size: Option<u64>,
}

/// The disk thread's side: the open partial file and the hash of everything in it.
struct DiskFile {
    paths: Paths,
    check: Check,
    /// The locked partial file; closing it (however the process ends) leaves it for the next
    /// writer of this blob.
    partial: Claimed,
    hasher: DigestHasher,
    /// Where the bytes not yet handed to `start_writeback` begin.
    unflushed: u64,
    _claim: Claim,
}

impl DiskFile {
    /// Claims the blob's partial file, with what an earlier writer that is gone left in it,
    /// and re-hashes those bytes (streamed, not loaded); they are where the download resumes.
    fn open(paths: Paths, check: Check, claim: Claim) -> Result<DiskFile> {
        std::fs::create_dir_all(&paths.dir).map_err(io_err(&paths.dir))?;
        let partial = partial::claim(&paths.dir, &paths.hex).map_err(io_err(&paths.dir))?;
        let mut disk = DiskFile {
            partial,
            hasher: DigestHasher::new(),
            unflushed: 0,
            _claim: claim,
            paths,
            check,
        };
        let existing = disk.io(|f| f.metadata())?.len();
        let too_long = disk.check.expected_size.is_some_and(|s| existing > s);
        if existing > 0 && !too_long {
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = disk.io(|f| f.read(&mut buf))?;
                if n == 0 {
                    break;
                }
                disk.hasher.update(&buf[..n]);
            }
        }
        if too_long || disk.hasher.len() != existing {
            disk.restart()?;
        } else {
            disk.io(|f| f.seek(std::io::SeekFrom::End(0)))?;
            disk.unflushed = existing;
        }
        Ok(disk)
    }

    /// Runs the jobs until a commit or discard, or until the queue closes (the writer was
    /// dropped: the file is parked). Stops at the first error.
    fn serve(
        mut self,
        mut queue: mpsc::UnboundedReceiver<Job>,
        spare: mpsc::UnboundedSender<Vec<u8>>,
    ) -> Result<u64> {
        while let Some(job) = queue.blocking_recv() {
            match job {
                Job::Write(mut buf) => {
                    for slice in buf.chunks(SLICE) {
                        self.hasher.update(slice);
                        self.io(|f| f.write_all(slice))?;
                    }
                    let end = self.hasher.len();
                    if end - self.unflushed >= WRITEBACK {
                        start_writeback(&self.partial.file, self.unflushed, end - self.unflushed);
                        self.unflushed = end;
                    }
                    buf.clear();
                    let _ = spare.send(buf);
                }
                Job::Restart => self.restart()?,
                Job::Commit => return self.commit(),
                Job::Discard => return self.discard().map(|()| 0),
            }
        }
        Ok(self.hasher.len())
    }

    fn io<T>(&mut self, op: impl FnOnce(&mut std::fs::File) -> std::io::Result<T>) -> Result<T> {
        op(&mut self.partial.file).map_err(io_err(&self.partial.path))
    }

    fn restart(&mut self) -> Result<()> {
        self.io(|f| f.set_len(0))?;
        self.io(|f| f.seek(std::io::SeekFrom::Start(0)))?;
        self.hasher = DigestHasher::new();
        self.unflushed = 0;
        Ok(())
    }

    fn commit(mut self) -> Result<u64> {
        let (actual, size) = std::mem::take(&mut self.hasher).finish();
        let expected = self.check.expected.clone();
        if let Some(expected_size) = self.check.expected_size {
            if size != expected_size {
                self.discard()?;
                return Err(StoreError::SizeMismatch {
                    digest: expected,
                    expected: expected_size,
                    actual: size,
                });
            }
        }
        if actual != expected {
            self.discard()?;
            return Err(StoreError::DigestMismatch {
                expected,
                actual,
                size,
            });
        }
        self.io(|f| f.sync_all())?;
        let final_path = &self.paths.final_path;
        // Still holding the lock, so no other writer has this file open to append to.
        std::fs::rename(&self.partial.path, final_path).map_err(io_err(final_path))?;
        Ok(size)
    }

    fn discard(&mut self) -> Result<()> {
        match std::fs::remove_file(&self.partial.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&self.partial.path)(e)),
        }
    }
}

/// Starts writing `len` bytes at `offset` out to disk without waiting for them: only a head
/// start for the fsync that makes them durable, so a failure is of no consequence.
#[cfg(target_os = "linux")]
fn start_writeback(file: &std::fs::File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: sync_file_range only reads its integer arguments; `file` keeps the descriptor
    // open for the duration of the call.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_: &std::fs::File, _: u64, _: u64) {}

#[cfg(test)]
#[path = "blob_writer_tests.rs"]
mod tests;
