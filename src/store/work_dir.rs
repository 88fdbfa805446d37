//! The working layout a pull to a tarball is built in (`FILE.tar.hoist-partial/`, beside the
//! tarball). Every hoist pulling to that tarball at once shares it, each holding a shared
//! `flock` on `.hoist/work.lock` inside it; the one that finishes last removes it. A pull that
//! is interrupted or killed leaves it (its lock dies with it) for the next run to resume from.

use super::{io_err, Result, StoreError};
use crate::fs::lock::{open_lock_file, still_named, try_lock_exclusive, try_lock_shared};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A working directory in use by this process; [`WorkDir::leave`] removes it if no other
/// hoist is using it.
#[derive(Debug)]
pub struct WorkDir {
    root: PathBuf,
    lock: std::fs::File,
}

impl WorkDir {
    /// Creates `root` if needed and joins whoever else is working in it. Waits (briefly) while
    /// another hoist that finished is removing it, then starts afresh.
    pub async fn enter(root: &Path) -> Result<WorkDir> {
        let dir = root.join(".hoist");
        let path = dir.join("work.lock");
        let mut pause = Duration::from_millis(1);
        loop {
            let (dir2, path2) = (dir.clone(), path.clone());
            let root2 = root.to_path_buf();
            let attempt = tokio::task::spawn_blocking(move || -> Result<Option<std::fs::File>> {
                if let Some(parent) = root2.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(io_err(parent))?;
                }
                match std::fs::create_dir(&root2) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(io_err(&root2)(e)),
                }
                // A symlink planted under the working layout's name would send the blobs,
                // and the tarball being built, wherever it points.
                let meta = std::fs::symlink_metadata(&root2).map_err(io_err(&root2))?;
                if !meta.is_dir() {
                    return Err(StoreError::Format(
                        root2,
                        "expected hoist's working directory here, found something else; remove it"
                            .into(),
                    ));
                }
                std::fs::create_dir_all(&dir2).map_err(io_err(&dir2))?;
                let file = open_lock_file(&path2, 0o644).map_err(io_err(&path2))?;
                if try_lock_shared(&file).map_err(io_err(&path2))?
                    && still_named(&file, &path2).map_err(io_err(&path2))?
                {
                    return Ok(Some(file));
                }
                Ok(None)
            })
            .await
            .map_err(|e| io_err(&path)(std::io::Error::other(e)))??;
            if let Some(lock) = attempt {
                return Ok(WorkDir {
                    root: root.to_path_buf(),
                    lock,
                });
            }
            // Removing a working layout takes moments; polling keeps Ctrl-C working.
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A directory inside the working layout (so on the tarball's filesystem) for the tarball
    /// to be built in: whatever a killed pull leaves there goes with the working layout.
    pub fn temp_dir(&self) -> PathBuf {
        self.root.join(".hoist")
    }

    /// Done with it: removes the working layout unless another hoist still works in it (that
    /// one removes it when it is done).
    pub async fn leave(self) -> Result<()> {
        let WorkDir { root, lock } = self;
        tokio::task::spawn_blocking(move || {
            if try_lock_exclusive(&lock).map_err(io_err(&root))? {
                std::fs::remove_dir_all(&root).map_err(io_err(&root))?;
            }
            drop(lock);
            Ok(())
        })
        .await
        .map_err(|e| StoreError::Io {
            path: PathBuf::new(),
            source: std::io::Error::other(e),
        })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_last_to_leave_removes_it() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("image.tar.hoist-partial");
        let a = WorkDir::enter(&root).await.unwrap();
        let b = WorkDir::enter(&root).await.unwrap();
        a.leave().await.unwrap();
        assert!(root.exists(), "still in use");
        b.leave().await.unwrap();
        assert!(!root.exists());
        // What a killed pull leaves: the directory and its lock file, unlocked.
        std::fs::create_dir_all(root.join(".hoist")).unwrap();
        std::fs::write(root.join(".hoist/work.lock"), b"").unwrap();
        let c = WorkDir::enter(&root).await.unwrap();
        c.leave().await.unwrap();
        assert!(!root.exists());
    }

    #[tokio::test]
    async fn a_symlink_in_its_place_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let elsewhere = tmp.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let root = tmp.path().join("image.tar.hoist-partial");
        std::os::unix::fs::symlink(&elsewhere, &root).unwrap();
        assert!(WorkDir::enter(&root).await.is_err());
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    }
}
