//! Image tarballs: the OCI archive (`oci.rs`) and docker-archive (`docker/`) formats, and the
//! tar index both read through (`tar_index.rs`). [`open`] is the one place that tells the
//! format from an archive's contents; nothing here extracts a tar or writes beside it except
//! the docker-archive writer, which creates its output atomically.

pub mod docker;
mod oci;
pub(super) mod tar_index;

use crate::image::Descriptor;
use crate::store::image_json::format_err;
use crate::store::{io_err, Result};
use crate::types::Digest;
use std::collections::HashMap;
use std::path::Path;
use tar_index::{scan_tar, TarEntry};

/// The image picked from an archive, as its format describes it.
pub(super) enum Archive {
    /// An OCI archive's index entry, to be read like a layout's, and where its blobs are.
    Oci {
        top: Box<Descriptor>,
        blobs: HashMap<Digest, TarEntry>,
    },
    /// A docker-archive's image, with the manifest made up for it.
    Docker(docker::Image),
}

/// Reads the image `name` (or the only one) from the archive at `path`, whichever format it is.
pub(super) async fn open(path: &Path, name: Option<&str>) -> Result<Archive> {
    let p = path.to_path_buf();
    let entries = tokio::task::spawn_blocking(move || scan_tar(&p))
        .await
        .map_err(|e| io_err(path)(std::io::Error::other(e)))??;
    if entries.contains_key("oci-layout") && entries.contains_key("index.json") {
        let (top, blobs) = oci::read(path, entries, name).await?;
        Ok(Archive::Oci {
            top: Box::new(top),
            blobs,
        })
    } else if entries.contains_key("manifest.json") {
        Ok(Archive::Docker(docker::read(path, entries, name).await?))
    } else {
        Err(format_err(
            path,
            "not an image archive: no manifest.json (docker-archive) or oci-layout (OCI archive) in it",
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::store::test_fixtures::*;
    use crate::store::{ImageSource, SourceKind};
    use crate::types::Digest;

    fn append(b: &mut tar::Builder<std::fs::File>, name: &str, body: &[u8]) {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, body).unwrap();
    }

    #[tokio::test]
    async fn detects_hand_built_archives() {
        let tmp = tempfile::tempdir().unwrap();
        // Classic docker save: <id>/layer.tar (uncompressed), a symlinked duplicate, and
        // kaniko-style gzip layers, all in one image.
        let plain = layer_tar("a.txt", b"a");
        let gz = gzip(&layer_tar("b.txt", b"b"));
        let diff_ids = [Digest::of(&plain), Digest::of(&layer_tar("b.txt", b"b"))];
        let config = config_for(&diff_ids);
        let path = tmp.path().join("save.tar");
        let mut b = tar::Builder::new(std::fs::File::create(&path).unwrap());
        append(&mut b, "./aaaa/layer.tar", &plain);
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "bbbb/layer.tar", "../aaaa/layer.tar")
            .unwrap();
        append(&mut b, "cccc.tar.gz", &gz);
        append(&mut b, "cfg.json", &config);
        let listing = serde_json::json!([{
            "Config": "cfg.json",
            "RepoTags": ["alpine:3.19"],
            "Layers": ["aaaa/layer.tar", "cccc.tar.gz"],
        }]);
        append(&mut b, "manifest.json", listing.to_string().as_bytes());
        b.into_inner().unwrap();

        let src = ImageSource::open(&path, Some("docker.io/library/alpine:3.19"))
            .await
            .unwrap();
        assert_eq!(src.kind(), SourceKind::DockerArchive);
        let b = src.blobs();
        assert_eq!(b[0].digest, Digest::of(&config));
        assert_eq!(b[1].digest, diff_ids[0]);
        assert_eq!(
            b[1].media_type,
            "application/vnd.docker.image.rootfs.diff.tar"
        );
        assert_eq!(b[2].digest, Digest::of(&gz));
        assert_eq!(b[2].size, gz.len() as u64);
        assert_eq!(read_all(&src, &b[1].digest).await, plain);
        assert_eq!(read_all(&src, &b[2].digest).await, gz);
        assert_eq!(read_all(&src, &b[2].digest).await, gz);
        let m: serde_json::Value = serde_json::from_slice(src.manifest()).unwrap();
        assert_eq!(m["config"]["digest"], Digest::of(&config).to_string());
        assert_eq!(m["layers"][1]["size"], gz.len());

        // An OCI archive built by taring a layout ourselves.
        let dir = tmp.path().join("layout");
        let img = test_image(&dir).await;
        let path = tmp.path().join("oci.tar");
        let mut b = tar::Builder::new(std::fs::File::create(&path).unwrap());
        b.append_dir_all(".", &dir).unwrap();
        b.into_inner().unwrap();
        let src = ImageSource::open(&path, None).await.unwrap();
        assert_eq!(src.kind(), SourceKind::OciArchive);
        assert_eq!(src.manifest_digest(), Digest::of(&img.manifest));
        assert_eq!(
            read_all(&src, &img.config).await.len() as u64,
            src.blobs()[0].size
        );

        // Neither format; a compressed tarball.
        let junk = tmp.path().join("junk.tar");
        let mut b = tar::Builder::new(std::fs::File::create(&junk).unwrap());
        append(&mut b, "readme", b"x");
        b.into_inner().unwrap();
        assert!(ImageSource::open(&junk, None).await.is_err());
        let tgz = tmp.path().join("save.tar.gz");
        std::fs::write(&tgz, gzip(&std::fs::read(&path).unwrap())).unwrap();
        let err = ImageSource::open(&tgz, None).await.unwrap_err().to_string();
        assert!(err.contains("decompress"), "{err}");
    }
}
