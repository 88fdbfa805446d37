//! The lock that serialises read-modify-write of config.json between hoist processes: an
//! exclusive `flock` on `config.json.lock` beside it. The kernel drops it when its holder
//! exits, however it exits, so a killed login never blocks the next one.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
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
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(&path)
            // flock needs only an open descriptor: a lock file another user created will do read-only.
            .or_else(|_| {
                OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
                    .open(&path)
            })
            .ok()?;
        // Root logging in for another user leaves the lock file theirs, as config.json is.
        if let (Ok(d), Ok(f)) = (std::fs::metadata(dir), file.metadata()) {
            if (d.uid(), d.gid()) != (f.uid(), f.gid()) {
                let _ = std::os::unix::fs::fchown(&file, Some(d.uid()), Some(d.gid()));
            }
        }
        loop {
            // SAFETY: flock on a descriptor this function owns.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Some(ConfigLock { _file: file });
            }
            if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                return None;
            }
        }
    }
}
