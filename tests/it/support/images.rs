//! Deterministic test images written as OCI image layout directories, and
//! pushing them with skopeo.
//!
//! skopeo 1.9 supports `--preserve-digests`: it refuses to convert or
//! recompress and pushes manifests byte for byte, so digests computed here
//! are the digests the registry serves.
//!
//! skopeo 1.9's `oci:` transport only accepts index.json entries with OCI
//! media types, so Docker-format images are also written in skopeo's
//! `dir:` layout (manifest.json, `<hex>.manifest.json` per instance, blobs
//! named by hex digest) and pushed from there.

use super::sha256_digest;
use super::tools::{run_ok, TestEnv};
use flate2::write::GzEncoder;
use rand::{RngCore, SeedableRng};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Oci,
    Docker,
}

impl Format {
    pub fn manifest_type(self) -> &'static str {
        match self {
            Format::Oci => "application/vnd.oci.image.manifest.v1+json",
            Format::Docker => "application/vnd.docker.distribution.manifest.v2+json",
        }
    }
    pub fn index_type(self) -> &'static str {
        match self {
            Format::Oci => "application/vnd.oci.image.index.v1+json",
            Format::Docker => "application/vnd.docker.distribution.manifest.list.v2+json",
        }
    }
    pub fn config_type(self) -> &'static str {
        match self {
            Format::Oci => "application/vnd.oci.image.config.v1+json",
            Format::Docker => "application/vnd.docker.container.image.v1+json",
        }
    }
    pub fn layer_type(self) -> &'static str {
        match self {
            Format::Oci => "application/vnd.oci.image.layer.v1.tar+gzip",
            Format::Docker => "application/vnd.docker.image.rootfs.diff.tar.gzip",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Blob {
    pub digest: String,
    pub size: u64,
    pub media_type: String,
}

#[derive(Clone, Debug)]
pub struct Layer {
    pub blob: Blob,
    /// sha256 of the uncompressed tar.
    pub diff_id: String,
    /// Uncompressed file content inside the tar (for pull comparisons).
    pub content: Vec<u8>,
}

#[derive(Clone, Debug)]
pub struct Manifest {
    pub blob: Blob,
    pub bytes: Vec<u8>,
    pub config: Blob,
    pub config_bytes: Vec<u8>,
    pub layers: Vec<Layer>,
    /// (os, architecture)
    pub platform: (String, String),
}

/// What to build. Layer sizes are uncompressed file sizes; content is
/// random (so gzip does not shrink it) but fixed by the seed.
#[derive(Clone, Debug)]
pub struct ImageSpec {
    pub seed: u64,
    pub layer_sizes: Vec<usize>,
    pub format: Format,
    pub multi_platform: bool,
}

impl ImageSpec {
    pub fn new(seed: u64) -> Self {
        ImageSpec {
            seed,
            layer_sizes: vec![1024, 4096],
            format: Format::Oci,
            multi_platform: false,
        }
    }
    pub fn layers(mut self, sizes: &[usize]) -> Self {
        self.layer_sizes = sizes.to_vec();
        self
    }
    pub fn format(mut self, f: Format) -> Self {
        self.format = f;
        self
    }
    /// linux/amd64 + linux/arm64 under an index / manifest list.
    pub fn multi_platform(mut self) -> Self {
        self.multi_platform = true;
        self
    }

    /// Writes the layout; `ref_name` goes in index.json's
    /// `org.opencontainers.image.ref.name`.
    pub fn build(&self, ref_name: &str) -> ImageLayout {
        let dir = TempDir::new().unwrap();
        let root = dir.path().join("layout");
        std::fs::create_dir_all(root.join("blobs/sha256")).unwrap();
        std::fs::write(root.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        let platforms: &[&str] = if self.multi_platform {
            &["amd64", "arm64"]
        } else {
            &["amd64"]
        };
        let manifests: Vec<Manifest> = platforms
            .iter()
            .enumerate()
            .map(|(i, arch)| {
                self.build_manifest(&root, self.seed.wrapping_add(i as u64 * 1000), arch)
            })
            .collect();
        let (top, index_bytes) = if self.multi_platform {
            let list = json!({
                "schemaVersion": 2,
                "mediaType": self.format.index_type(),
                "manifests": manifests.iter().map(|m| json!({
                    "mediaType": m.blob.media_type,
                    "digest": m.blob.digest,
                    "size": m.blob.size,
                    "platform": {"os": m.platform.0, "architecture": m.platform.1},
                })).collect::<Vec<_>>(),
            });
            let bytes = serde_json::to_vec_pretty(&list).unwrap();
            let blob = write_blob(&root, &bytes, self.format.index_type());
            (blob, Some(bytes))
        } else {
            (manifests[0].blob.clone(), None)
        };
        let index = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{
                "mediaType": top.media_type,
                "digest": top.digest,
                "size": top.size,
                "annotations": {"org.opencontainers.image.ref.name": ref_name},
            }],
        });
        std::fs::write(
            root.join("index.json"),
            serde_json::to_vec_pretty(&index).unwrap(),
        )
        .unwrap();
        let dir_layout = (self.format == Format::Docker).then(|| {
            let d = dir.path().join("dir");
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("version"), "Directory Transport Version: 1.1\n").unwrap();
            for e in std::fs::read_dir(root.join("blobs/sha256")).unwrap() {
                let e = e.unwrap();
                std::fs::copy(e.path(), d.join(e.file_name())).unwrap();
            }
            let top_bytes = index_bytes.as_ref().unwrap_or(&manifests[0].bytes);
            std::fs::write(d.join("manifest.json"), top_bytes).unwrap();
            if index_bytes.is_some() {
                for m in &manifests {
                    let hex = m.blob.digest.strip_prefix("sha256:").unwrap();
                    std::fs::write(d.join(format!("{hex}.manifest.json")), &m.bytes).unwrap();
                }
            }
            d
        });
        ImageLayout {
            _dir: dir,
            dir_layout,
            root,
            ref_name: ref_name.into(),
            top,
            index_bytes,
            manifests,
        }
    }

    fn build_manifest(&self, root: &Path, seed: u64, arch: &str) -> Manifest {
        let layers: Vec<Layer> = self
            .layer_sizes
            .iter()
            .enumerate()
            .map(|(i, &size)| {
                let mut rng = rand::rngs::StdRng::seed_from_u64(seed.wrapping_add(i as u64));
                let mut content = vec![0u8; size];
                rng.fill_bytes(&mut content);
                let tar = tar_with_file(&format!("layer{i}/data.bin"), &content);
                let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
                std::io::Write::write_all(&mut gz, &tar).unwrap();
                let gz = gz.finish().unwrap();
                Layer {
                    blob: write_blob(root, &gz, self.format.layer_type()),
                    diff_id: sha256_digest(&tar),
                    content,
                }
            })
            .collect();
        let config: Value = json!({
            "architecture": arch,
            "os": "linux",
            "created": "1970-01-01T00:00:00Z",
            "config": {"Env": [format!("HOIST_TEST_SEED={seed}")]},
            "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>()},
            "history": layers.iter().map(|_| json!({"created_by": "hoist test bed"})).collect::<Vec<_>>(),
        });
        let config_bytes = serde_json::to_vec(&config).unwrap();
        let config_blob = write_blob(root, &config_bytes, self.format.config_type());
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": self.format.manifest_type(),
            "config": {"mediaType": config_blob.media_type, "digest": config_blob.digest, "size": config_blob.size},
            "layers": layers.iter().map(|l| json!({
                "mediaType": l.blob.media_type, "digest": l.blob.digest, "size": l.blob.size,
            })).collect::<Vec<_>>(),
        });
        let bytes = serde_json::to_vec_pretty(&manifest).unwrap();
        Manifest {
            blob: write_blob(root, &bytes, self.format.manifest_type()),
            bytes,
            config: config_blob,
            config_bytes,
            layers,
            platform: ("linux".into(), arch.into()),
        }
    }
}

fn tar_with_file(path: &str, content: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(content.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, path, content).unwrap();
    b.into_inner().unwrap()
}

fn write_blob(root: &Path, data: &[u8], media_type: &str) -> Blob {
    let digest = sha256_digest(data);
    let hex = digest.strip_prefix("sha256:").unwrap();
    std::fs::write(root.join("blobs/sha256").join(hex), data).unwrap();
    Blob {
        digest,
        size: data.len() as u64,
        media_type: media_type.into(),
    }
}

/// A built image on disk (removed on drop).
pub struct ImageLayout {
    _dir: TempDir,
    pub root: PathBuf,
    /// skopeo `dir:` copy, for Docker-format images only.
    pub dir_layout: Option<PathBuf>,
    pub ref_name: String,
    /// What index.json points at: the manifest, or the index/list.
    pub top: Blob,
    pub index_bytes: Option<Vec<u8>>,
    pub manifests: Vec<Manifest>,
}

impl ImageLayout {
    /// `oci:DIR:NAME` for skopeo (`dir:DIR` for Docker-format images).
    pub fn skopeo_ref(&self) -> String {
        match &self.dir_layout {
            Some(d) => format!("dir:{}", d.display()),
            None => format!("oci:{}:{}", self.root.display(), self.ref_name),
        }
    }

    /// Digest a registry serves for the pushed tag.
    pub fn digest(&self) -> &str {
        &self.top.digest
    }
}

/// Pushes with `skopeo copy --all --preserve-digests`; `dest` is
/// `127.0.0.1:PORT/repo:tag`. Plain HTTP (or unverified TLS) only.
pub fn push_with_skopeo(layout: &ImageLayout, dest: &str, creds: Option<(&str, &str)>) {
    let env = TestEnv::new();
    let mut c = env.skopeo();
    c.args([
        "copy",
        "--quiet",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
    ]);
    if let Some((u, p)) = creds {
        c.arg("--dest-creds").arg(format!("{u}:{p}"));
    }
    c.arg(layout.skopeo_ref()).arg(format!("docker://{dest}"));
    run_ok(&mut c, None);
}

/// `skopeo inspect --raw` digest of a remote tag, as computed from the
/// served manifest bytes.
pub fn remote_manifest_with_skopeo(reference: &str, creds: Option<(&str, &str)>) -> Vec<u8> {
    let env = TestEnv::new();
    let mut c = env.skopeo();
    c.args(["inspect", "--raw", "--tls-verify=false"]);
    if let Some((u, p)) = creds {
        c.arg("--creds").arg(format!("{u}:{p}"));
    }
    c.arg(format!("docker://{reference}"));
    run_ok(&mut c, None).stdout
}

/// sha256 of a file via coreutils (much faster than hashing in a debug build).
pub fn sha256_file(path: &Path) -> String {
    let out = run_ok(Command::new("sha256sum").arg(path), None);
    let hex = String::from_utf8(out.stdout).unwrap();
    format!("sha256:{}", hex.split_whitespace().next().unwrap())
}

/// An OCI layout with one layer of `size` bytes, written without ever
/// holding the layer in memory (a sparse file of zeros: the transfer and
/// the hashing do not care what the bytes are). Returns the layout dir and
/// the manifest digest.
pub fn big_layer_layout(dir: &Path, size: u64, ref_name: &str) -> (PathBuf, String) {
    let root = dir.join("big-layout");
    let blobs = root.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::write(root.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let tmp = root.join("layer.tmp");
    std::fs::File::create(&tmp).unwrap().set_len(size).unwrap();
    let layer = sha256_file(&tmp);
    std::fs::rename(&tmp, blobs.join(layer.strip_prefix("sha256:").unwrap())).unwrap();
    let put = |bytes: &[u8]| {
        let d = sha256_digest(bytes);
        std::fs::write(blobs.join(d.strip_prefix("sha256:").unwrap()), bytes).unwrap();
        d
    };
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [layer]},
    }))
    .unwrap();
    let config_digest = put(&config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": Format::Oci.manifest_type(),
        "config": {"mediaType": Format::Oci.config_type(), "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": size}],
    }))
    .unwrap();
    let manifest_digest = put(&manifest);
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": Format::Oci.manifest_type(), "digest": manifest_digest,
            "size": manifest.len(), "annotations": {"org.opencontainers.image.ref.name": ref_name},
        }],
    });
    std::fs::write(root.join("index.json"), index.to_string()).unwrap();
    (root, manifest_digest)
}
