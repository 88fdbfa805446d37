//! Partial downloads under `.hoist/partial/`: one file per blob, named by its digest (`<hex>`),
//! claimed by a writer with a `flock` that it holds as long as the file is open. The kernel
//! drops the lock when its process dies however it dies (SIGKILL, the OOM killer), so:
//!
//! - a live writer's file is never taken: a second writer of the same blob (another hoist
//!   pulling the same layer into the same layout) gets a private `<hex>.<unique>.part`;
//! - a dead writer's file is adopted by the next writer of that blob, which re-hashes what is
//!   in it and resumes from there; a private leftover is adopted if it holds more, else removed;
//! - leftovers of blobs that are complete by now are removed when the layout is opened.
//!
//! A lock is only good while the name still points at the locked file (another writer may
//! have committed or removed it in between), so every claim checks that after locking.

use crate::fs::lock::{still_named, try_lock_exclusive};
use crate::store::unique_suffix;
use std::fs::File;
use std::io::Result;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// How often a claim starts over after losing a race, before taking a private file.
const ATTEMPTS: usize = 8;

/// A partial file this process holds the lock on.
#[derive(Debug)]
pub(crate) struct Claimed {
    pub file: File,
    pub path: PathBuf,
}

fn open(path: &Path, create_new: bool) -> Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options
        .read(true)
        .write(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    if create_new {
        options.create_new(true);
    } else {
        options.create(true).truncate(false);
    }
    options.open(path)
}

/// Claims the partial file of blob `hex` in `dir`: the shared `<hex>` (with whatever a dead
/// writer left in it, or in a leftover it adopts), or a fresh private file when a live writer
/// holds `<hex>`.
pub(crate) fn claim(dir: &Path, hex: &str) -> Result<Claimed> {
    let shared = dir.join(hex);
    for _ in 0..ATTEMPTS {
        let file = open(&shared, false)?;
        if !try_lock_exclusive(&file)? {
            break;
        }
        if !still_named(&file, &shared)? {
            continue;
        }
        let mut claimed = Claimed { file, path: shared };
        adopt_leftovers(dir, hex, &mut claimed)?;
        return Ok(claimed);
    }
    create_private(dir, hex, ".part")
}

/// A new, empty, locked file `<stem>.<unique><suffix>` in `dir`, created exclusively.
pub(crate) fn create_private(dir: &Path, stem: &str, suffix: &str) -> Result<Claimed> {
    loop {
        let path = dir.join(format!("{stem}.{}{suffix}", unique_suffix()));
        let file = open(&path, true)?;
        // Between creating and locking, a sweep may have taken it for a dead writer's.
        if try_lock_exclusive(&file)? && still_named(&file, &path)? {
            return Ok(Claimed { file, path });
        }
    }
}

/// A file in `dir` named `name` that no live process holds: locked by us now, or `None`
/// (held, gone, or not a plain file: a symlink is never followed).
fn take_abandoned(dir: &Path, name: &str) -> Option<Claimed> {
    let path = dir.join(name);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&path)
        .ok()?;
    let abandoned = try_lock_exclusive(&file).ok()? && still_named(&file, &path).ok()?;
    abandoned.then_some(Claimed { file, path })
}

/// Private files of blob `hex` left by writers that are gone (killed, or an older hoist that
/// named every partial file after its pid): the one holding the most bytes, if more than
/// `claimed`, replaces it; the others are removed.
fn adopt_leftovers(dir: &Path, hex: &str, claimed: &mut Claimed) -> Result<()> {
    let prefix = format!("{hex}.");
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(&prefix) && name.ends_with(".part")) {
            continue;
        }
        let Some(leftover) = take_abandoned(dir, &name) else {
            continue;
        };
        if leftover.file.metadata()?.len() > claimed.file.metadata()?.len() {
            std::fs::rename(&leftover.path, &claimed.path)?;
            // `<hex>` now names the leftover, which we hold locked.
            claimed.file = leftover.file;
        } else {
            std::fs::remove_file(&leftover.path)?;
        }
    }
    Ok(())
}

/// Removes what writers that are gone left in `dir` and no one will adopt: partial files of
/// blobs that `complete` says are stored by now, and temp files of small blobs.
pub(crate) fn sweep(dir: &Path, complete: impl Fn(&str) -> bool) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        let hex = name.split('.').next().unwrap_or_default();
        let removable = name.ends_with(".tmp") || complete(hex);
        if !removable {
            continue;
        }
        if let Some(abandoned) = take_abandoned(dir, &name) {
            // Best effort: what cannot be removed now is tried again next time.
            let _ = std::fs::remove_file(&abandoned.path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_claim_is_never_taken_and_a_dead_one_is_adopted() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let hex = "ab".repeat(32);
        let mut first = claim(dir, &hex).unwrap();
        assert_eq!(first.path, dir.join(&hex));
        std::io::Write::write_all(&mut first.file, b"12345").unwrap();
        // Held: the second writer gets a file of its own.
        let second = claim(dir, &hex).unwrap();
        assert_ne!(second.path, first.path);
        assert_eq!(second.file.metadata().unwrap().len(), 0);
        // Gone: its file is adopted, bytes and all; the empty private one is removed.
        drop(first);
        drop(second);
        let third = claim(dir, &hex).unwrap();
        assert_eq!(third.path, dir.join(&hex));
        assert_eq!(third.file.metadata().unwrap().len(), 5);
        assert_eq!(std::fs::read_dir(dir).unwrap().count(), 1);
    }

    #[test]
    fn a_longer_leftover_is_adopted_and_shorter_ones_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let hex = "cd".repeat(32);
        // What a killed older hoist left: partial files named after its pid.
        std::fs::write(dir.join(format!("{hex}.4242.0.123.part")), b"0123456789").unwrap();
        std::fs::write(dir.join(format!("{hex}.4243.0.456.part")), b"01").unwrap();
        std::fs::write(dir.join(&hex), b"0123").unwrap();
        let claimed = claim(dir, &hex).unwrap();
        assert_eq!(std::fs::read(&claimed.path).unwrap(), b"0123456789");
        assert_eq!(claimed.file.metadata().unwrap().len(), 10);
        assert_eq!(std::fs::read_dir(dir).unwrap().count(), 1);
    }

    #[test]
    fn sweep_removes_only_what_no_one_holds_or_will_adopt() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let (done, open) = ("11".repeat(32), "22".repeat(32));
        std::fs::write(dir.join(&done), b"x").unwrap();
        std::fs::write(dir.join(format!("{done}.1.2.3.part")), b"x").unwrap();
        std::fs::write(dir.join(&open), b"x").unwrap();
        std::fs::write(dir.join(format!("{open}.1.2.3.tmp")), b"x").unwrap();
        let live = create_private(dir, &open, ".tmp").unwrap();
        sweep(dir, |hex| hex == done).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let live_name = live
            .path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let mut want = vec![open.clone(), live_name];
        want.sort();
        assert_eq!(left, want);
    }
}
