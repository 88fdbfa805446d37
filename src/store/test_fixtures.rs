//! Small images built in memory for the store's unit tests, and a skopeo runner.

use super::image_json::{OCI_CONFIG, OCI_MANIFEST};
use super::{ImageSource, Layout};
use crate::types::Digest;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use tokio::io::AsyncReadExt;

/// An uncompressed layer tar holding one file.
pub(crate) fn layer_tar(name: &str, body: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_size(body.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, name, body).unwrap();
    b.into_inner().unwrap()
}

pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

pub(crate) fn config_for(diff_ids: &[Digest]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap()
}

pub(crate) struct TestImage {
    pub(crate) layout: Layout,
    pub(crate) manifest: Vec<u8>,
    pub(crate) config: Digest,
    pub(crate) layers: Vec<(Digest, Vec<u8>)>,
}

/// A two-layer gzip image stored in a new layout under the name `v1`.
pub(crate) async fn test_image(dir: &Path) -> TestImage {
    let layout = Layout::create_or_open(dir).await.unwrap();
    let plain = [
        layer_tar("hello.txt", b"hello\n"),
        layer_tar("big.bin", &vec![42u8; 200_000]),
    ];
    let diff_ids: Vec<Digest> = plain.iter().map(|t| Digest::of(t)).collect();
    let mut layers = Vec::new();
    for t in &plain {
        let gz = gzip(t);
        let d = layout.put_blob_bytes(&gz).await.unwrap();
        layers.push((d, gz));
    }
    let config_bytes = config_for(&diff_ids);
    let config = layout.put_blob_bytes(&config_bytes).await.unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config, "size": config_bytes.len()},
        "layers": layers.iter().map(|(d, b)| serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": d, "size": b.len(),
        })).collect::<Vec<_>>(),
    }))
    .unwrap();
    let md = layout.put_blob_bytes(&manifest).await.unwrap();
    let desc = crate::image::Descriptor::new(OCI_MANIFEST, md, manifest.len() as u64);
    layout.set_image("v1", &desc).await.unwrap();
    TestImage {
        layout,
        manifest,
        config,
        layers,
    }
}

pub(crate) fn skopeo(args: &[&str]) -> String {
    let out = Command::new("skopeo")
        .arg("--insecure-policy")
        .args(args)
        .output()
        .expect("skopeo is installed");
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(crate) async fn read_all(src: &ImageSource, d: &Digest) -> Vec<u8> {
    let mut buf = Vec::new();
    src.open_blob(d)
        .await
        .unwrap()
        .read_to_end(&mut buf)
        .await
        .unwrap();
    buf
}
