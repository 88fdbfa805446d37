//! Checks, before any request, that the files a transfer will write can be written: finding
//! out after an 800 MiB download is too late. Nothing is created to find out.

use super::UsageError;
use std::path::Path;

/// Refuses, before any request, a `--digest-file` that cannot be written: finding out after
/// an 800 MiB download is too late. Nothing is created to find out.
pub fn check_digest_file(path: &Path) -> anyhow::Result<()> {
    let parent = parent_of(path);
    let result = match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Err("it is a directory".to_string()),
        Ok(_) => writable(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match std::fs::metadata(parent) {
            Ok(m) if m.is_dir() => writable(parent),
            Ok(_) => Err(format!("{} is not a directory", parent.display())),
            Err(e) => Err(format!("{}: {e}", parent.display())),
        },
        Err(e) => Err(e.to_string()),
    };
    result.map_err(|why| {
        UsageError(format!(
            "cannot write --digest-file {}: {why}",
            path.display()
        ))
        .into()
    })
}

/// Refuses, before any request, an `--output` whose directory cannot be written: the nearest
/// part of the path that exists must be a writable directory (the rest is created).
pub fn check_output(path: &Path) -> anyhow::Result<()> {
    let mut dir = match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => path.to_path_buf(),
        _ => parent_of(path).to_path_buf(),
    };
    let result = loop {
        match std::fs::metadata(&dir) {
            Ok(m) if m.is_dir() => break writable(&dir),
            Ok(_) => break Err(format!("{} is not a directory", dir.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && dir != Path::new(".") => {
                dir = parent_of(&dir).to_path_buf();
            }
            Err(e) => break Err(format!("{}: {e}", dir.display())),
        }
    };
    result.map_err(|why| {
        UsageError(format!("cannot write --output {}: {why}", path.display())).into()
    })
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// `access(W_OK)`: permissions and a read-only mount both count, for whoever runs hoist.
fn writable(path: &Path) -> Result<(), String> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(|e| e.to_string())?;
    // SAFETY: a NUL-terminated path that outlives the call.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error().to_string())
    }
}
