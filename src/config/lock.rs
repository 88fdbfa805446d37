//! The lock that serialises read-modify-write of config.json between hoist processes: an
//! exclusive `flock` on `config.json.lock` beside it. The kernel drops it when its holder
//! exits, however it exits, so a killed login never blocks the next one.

use crate::fs::lock::{lock_exclusive, open_lock_file, open_lock_file_read_only};
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Held until dropped (closing the descriptor releases the lock).
pub struct ConfigLock {
    _file: File,
}

impl ConfigLock {
    /// Locks `config`'s lock file, waiting for another holder to finish. `None` when no lock
    /// file can be opened (a read-only or missing config directory): nothing can be written there
    /// either, so there is nothing to serialise, and a login that changes nothing still works.
    pub fn acquire(config: &Path) -> Option<ConfigLock> {
        let dir = config.parent()?;
        let path = config.with_file_name("config.json.lock");
        let file = open_lock_file(&path, 0o600)
            .or_else(|_| open_lock_file_read_only(&path))
            .ok()?;
        // Root logging in for another user leaves the lock file theirs, as config.json is.
        if let (Ok(d), Ok(f)) = (std::fs::metadata(dir), file.metadata()) {
            if (d.uid(), d.gid()) != (f.uid(), f.gid()) {
                let _ = std::os::unix::fs::fchown(&file, Some(d.uid()), Some(d.gid()));
            }
        }
        lock_exclusive(&file).ok()?;
        Some(ConfigLock { _file: file })
    }
}
