//! Keeping a layout right while several hoists (and killed ones) share it: the `flock` that
//! serialises rewrites of `index.json` and the locations file, and the removal of what
//! writers that are gone left behind.

use super::Layout;
use crate::store::{io_err, Result};
use std::path::Path;

impl Layout {
    /// Removes partial files that hoists which are gone left behind and no pull will adopt:
    /// those of blobs that are stored by now, and temp files. Best effort: a failure here
    /// costs only disk space, and the next run tries again.
    pub(super) async fn sweep_partials(&self) {
        let (dir, blobs) = (
            self.partial_dir(),
            self.inner.root.join("blobs").join("sha256"),
        );
        let _ = tokio::task::spawn_blocking(move || {
            super::partial::sweep(&dir, |hex| {
                hex.len() == 64
                    && hex.bytes().all(|b| b.is_ascii_hexdigit())
                    && blobs.join(hex).is_file()
            })
        })
        .await;
    }

    /// Other hoist processes may update `index.json` or the locations file at the same time:
    /// a read-modify-write holds a `flock` on `.hoist/meta.lock`. The kernel drops it when its
    /// holder dies, so a killed hoist leaves nothing that delays the next run. The file stays:
    /// removing it would let a waiter lock a file no one else can see.
    pub(super) async fn lock_metadata(&self) -> Result<MetaLock> {
        let path = self.inner.root.join(".hoist").join("meta.lock");
        let file = open_lock_file(&path).await?;
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        let mut pause = std::time::Duration::from_millis(1);
        loop {
            if crate::fs::lock::try_lock_exclusive(&file).map_err(io_err(&path))? {
                self.remove_dead_meta_temps().await;
                return Ok(MetaLock { _file: file });
            }
            if std::time::Instant::now() > deadline {
                return Err(io_err(&path)(std::io::Error::other(
                    "another hoist has held this lock for over a minute",
                )));
            }
            // An update takes milliseconds; polling keeps the wait cancellable by Ctrl-C.
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(std::time::Duration::from_millis(50));
        }
    }

    /// Temp files of `index.json` and the locations file are only written under the metadata
    /// lock: any there while we hold it were left by a hoist that was killed. Best effort.
    async fn remove_dead_meta_temps(&self) {
        let hoist = self.inner.root.join(".hoist");
        for (dir, prefix) in [(self.root(), ".index.json."), (&*hoist, ".locations.json.")] {
            let Ok(mut entries) = tokio::fs::read_dir(dir).await else {
                continue;
            };
            while let Ok(Some(entry)) = entries.next_entry().await {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.starts_with(prefix) && name.ends_with(".tmp") {
                    let _ = tokio::fs::remove_file(entry.path()).await;
                }
            }
        }
    }
}

/// How long to wait for another process's metadata update (which takes milliseconds).
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

async fn open_lock_file(path: &Path) -> Result<std::fs::File> {
    let owned = path.to_path_buf();
    tokio::task::spawn_blocking(move || crate::fs::lock::open_lock_file(&owned, 0o644))
        .await
        .map_err(|e| io_err(path)(std::io::Error::other(e)))?
        .map_err(io_err(path))
}

/// Held while `index.json` or the locations file is rewritten; closing the file unlocks it.
pub(super) struct MetaLock {
    _file: std::fs::File,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Digest;

    #[tokio::test]
    async fn temp_files_of_a_killed_writer_go_with_the_next_update() {
        let tmp = tempfile::tempdir().unwrap();
        let l = Layout::create_or_open(tmp.path()).await.unwrap();
        let index_tmp = tmp.path().join(".index.json.4242.0.1.tmp");
        let locations_tmp = tmp.path().join(".hoist/.locations.json.4242.1.2.tmp");
        std::fs::write(&index_tmp, b"{").unwrap();
        std::fs::write(&locations_tmp, b"{").unwrap();
        l.record_location(&Digest::of(b"x"), "r/x").await.unwrap();
        assert!(!index_tmp.exists());
        assert!(!locations_tmp.exists());
        // The lock file stays: removing it would let a waiter lock a file no one else sees.
        assert!(tmp.path().join(".hoist/meta.lock").exists());
    }
}
