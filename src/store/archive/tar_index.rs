//! Finds where each file's bytes sit inside a tar, so blobs can be read (and re-read for
//! every upload retry) straight from the archive without extracting it. It knows tar only,
//! not what an image archive lists.

use crate::store::image_json::{format_err, COPY_BUF};
use crate::store::{io_err, BlobReader, Compression, Result};
use crate::types::{Digest, DigestHasher};
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Where an entry's bytes are inside a tar file.
#[derive(Clone, Copy, Debug)]
pub(in crate::store) struct TarEntry {
    pub(in crate::store) offset: u64,
    pub(in crate::store) size: u64,
}

/// Lists a tar's regular files (following links) with where their data starts.
pub(in crate::store) fn scan_tar(path: &Path) -> Result<HashMap<String, TarEntry>> {
    let mut file = std::fs::File::open(path).map_err(io_err(path))?;
    let mut head = [0u8; 8];
    let n = file.read(&mut head).map_err(io_err(path))?;
    match Compression::detect(&head[..n]) {
        Compression::None => {}
        c => {
            return Err(format_err(
                path,
                format!("the archive itself is {c:?}-compressed; decompress it first (hoist reads tars in place)"),
            ))
        }
    }
    file.seek(SeekFrom::Start(0)).map_err(io_err(path))?;
    let mut archive = tar::Archive::new(file);
    let mut files = HashMap::new();
    let mut links: Vec<(String, String)> = Vec::new();
    let not_tar = |e: std::io::Error| format_err(path, format!("not a readable tar: {e}"));
    for entry in archive.entries_with_seek().map_err(not_tar)? {
        let entry = entry.map_err(not_tar)?;
        let name = normalize(&entry.path().map_err(not_tar)?.to_string_lossy());
        let kind = entry.header().entry_type();
        if kind.is_file() {
            files.insert(
                name,
                TarEntry {
                    offset: entry.raw_file_position(),
                    size: entry.size(),
                },
            );
        } else if kind.is_symlink() || kind.is_hard_link() {
            if let Some(target) = entry.link_name().map_err(not_tar)? {
                let target = target.to_string_lossy().into_owned();
                let resolved = if kind.is_symlink() && !target.starts_with('/') {
                    let dir = name.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
                    resolve_relative(dir, &target)
                } else {
                    normalize(&target)
                };
                links.push((name, resolved));
            }
        }
    }
    for _ in 0..8 {
        let mut progressed = false;
        for (name, target) in &links {
            if !files.contains_key(name) {
                if let Some(e) = files.get(target).copied() {
                    files.insert(name.clone(), e);
                    progressed = true;
                }
            }
        }
        if !progressed {
            break;
        }
    }
    Ok(files)
}

pub(in crate::store) fn normalize(p: &str) -> String {
    resolve_relative("", p)
}

pub(in crate::store) fn resolve_relative(dir: &str, target: &str) -> String {
    let mut parts: Vec<&str> = dir
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

pub(in crate::store) async fn open_range(file: &Path, e: TarEntry) -> Result<BlobReader> {
    let mut f = tokio::fs::File::open(file).await.map_err(io_err(file))?;
    f.seek(SeekFrom::Start(e.offset))
        .await
        .map_err(io_err(file))?;
    Ok(f.take(e.size))
}

pub(in crate::store) async fn read_range(file: &Path, e: TarEntry, limit: u64) -> Result<Vec<u8>> {
    if e.size > limit {
        return Err(format_err(
            file,
            format!("entry of {} bytes is too large to read into memory", e.size),
        ));
    }
    let mut buf = Vec::with_capacity(e.size as usize);
    open_range(file, e)
        .await?
        .read_to_end(&mut buf)
        .await
        .map_err(io_err(file))?;
    if buf.len() as u64 != e.size {
        return Err(format_err(file, "archive is truncated"));
    }
    Ok(buf)
}

pub(in crate::store) async fn hash_range(file: &Path, e: TarEntry) -> Result<Digest> {
    let mut r = open_range(file, e).await?;
    let mut hasher = DigestHasher::new();
    let mut buf = vec![0u8; COPY_BUF];
    loop {
        let n = r.read(&mut buf).await.map_err(io_err(file))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let (digest, len) = hasher.finish();
    if len != e.size {
        return Err(format_err(file, "archive is truncated"));
    }
    Ok(digest)
}
