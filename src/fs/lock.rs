//! Kernel file locks (`flock`): they belong to an open file and die with the process that
//! holds them, so a lock left by a killed hoist (SIGKILL, the OOM killer) costs the next run
//! nothing, unlike a lock file whose mere existence means "taken". Opening and locking only:
//! what a lock protects is its caller's business.

use std::os::fd::AsRawFd;

/// Takes an exclusive lock on `file`, waiting for other holders to let go.
pub fn lock_exclusive(file: &impl AsRawFd) -> std::io::Result<()> {
    loop {
        // SAFETY: flock only reads its integer arguments; `file` keeps the descriptor open.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Takes an exclusive lock on `file` without waiting: false if another open file holds one.
pub fn try_lock_exclusive(file: &impl AsRawFd) -> std::io::Result<bool> {
    try_flock(file, libc::LOCK_EX)
}

/// Takes a shared lock on `file` without waiting: false if an exclusive one is held.
pub fn try_lock_shared(file: &impl AsRawFd) -> std::io::Result<bool> {
    try_flock(file, libc::LOCK_SH)
}

/// Opens (creating if needed, with `mode`) a lock file, never following a symlink planted
/// in its place.
pub fn open_lock_file(path: &std::path::Path, mode: u32) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

/// Opens an existing lock file read-only, never following a symlink: `flock` needs only an
/// open descriptor, so a lock file another user created will do.
pub fn open_lock_file_read_only(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

/// Whether `path` still names the file `file` has open: a lock taken on a file that was
/// removed or replaced in the meantime protects nothing.
pub fn still_named(file: &std::fs::File, path: &std::path::Path) -> std::io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let open = file.metadata()?;
    match std::fs::symlink_metadata(path) {
        Ok(named) => Ok(named.dev() == open.dev() && named.ino() == open.ino()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

fn try_flock(file: &impl AsRawFd, op: libc::c_int) -> std::io::Result<bool> {
    loop {
        // SAFETY: flock only reads its integer arguments; `file` keeps the descriptor open.
        if unsafe { libc::flock(file.as_raw_fd(), op | libc::LOCK_NB) } == 0 {
            return Ok(true);
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EWOULDBLOCK) => return Ok(false),
            Some(libc::EINTR) => continue,
            _ => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_excludes_other_open_files_until_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("lock");
        let a = std::fs::File::create(&path).unwrap();
        let b = std::fs::File::open(&path).unwrap();
        assert!(try_lock_exclusive(&a).unwrap());
        assert!(!try_lock_exclusive(&b).unwrap());
        drop(a);
        assert!(try_lock_exclusive(&b).unwrap());
        let c = open_lock_file(&path, 0o644).unwrap();
        assert!(!try_lock_shared(&c).unwrap());
        drop(b);
        assert!(try_lock_shared(&c).unwrap());
        assert!(try_lock_shared(&std::fs::File::open(&path).unwrap()).unwrap());
        assert!(still_named(&c, &path).unwrap());
        std::fs::remove_file(&path).unwrap();
        assert!(!still_named(&c, &path).unwrap());
    }

    #[test]
    fn a_waiting_lock_is_taken_once_free_and_read_only_files_lock_too() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("lock");
        let a = open_lock_file(&path, 0o600).unwrap();
        lock_exclusive(&a).unwrap();
        let b = open_lock_file_read_only(&path).unwrap();
        assert!(!try_lock_exclusive(&b).unwrap());
        drop(a);
        lock_exclusive(&b).unwrap();
        assert!(!try_lock_shared(&open_lock_file(&path, 0o600).unwrap()).unwrap());
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(open_lock_file_read_only(&link).is_err());
    }
}
