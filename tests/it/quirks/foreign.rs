//! Foreign and non-distributable layers (Windows base images): the registry holds their
//! descriptors, not their bytes, and answers BLOB_UNKNOWN for them. Pull keeps the descriptor,
//! skips the blob and says so; the layout pushes again without the layer ever being sent.

use crate::support::images::{Format, ImageSpec};
use crate::support::scenario::Scenario;
use crate::support::tools::{path_str, stderr, stdout};
use crate::support::{block_on, http_get, sha256_digest};

/// `repo:1` on the registry: a seeded image plus one foreign layer, of the type its format
/// uses, whose bytes the registry never saw. Returns the manifest's and the layer's digest.
pub fn with_foreign_layer(sc: &Scenario, repo: &str, format: Format) -> (String, String) {
    sc.seed(
        &format!("{repo}:base"),
        ImageSpec::new(81).layers(&[1500]).format(format),
    );
    let url = format!("{}/v2/{repo}/manifests/base", sc.reg().url());
    let base = http_get(None, &url, &[("Accept", format.manifest_type())]).unwrap();
    let mut manifest = base.json();
    let bytes = b"a Windows base layer that lives elsewhere";
    let layer_type = match format {
        Format::Docker => "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        Format::Oci => "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    };
    let digest = sha256_digest(bytes);
    manifest["layers"].as_array_mut().unwrap().insert(
        0,
        serde_json::json!({
            "mediaType": layer_type,
            "digest": digest,
            "size": bytes.len(),
            "urls": ["https://foreign.invalid/layer.tar.gz"],
        }),
    );
    let body = serde_json::to_vec(&manifest).unwrap();
    let put = format!("{}/v2/{repo}/manifests/1", sc.reg().url());
    let status = block_on(async {
        reqwest::Client::new()
            .put(put)
            .header("Content-Type", format.manifest_type())
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .status()
    });
    assert!(
        status.is_success(),
        "the registry took the manifest: {status}"
    );
    (sha256_digest(&body), digest)
}

#[test]
fn a_foreign_layer_is_skipped_kept_in_the_manifest_and_never_pushed() {
    for format in [Format::Docker, Format::Oci] {
        let sc = Scenario::open();
        let (manifest, layer) = with_foreign_layer(&sc, "quirks/win", format);
        let out_dir = sc.env.scratch("layout");
        let out = sc.pull_ok(&[
            &sc.reference("quirks/win:1"),
            "--output",
            path_str(&out_dir),
            "--json",
        ]);
        let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(json["digest"], manifest.as_str());
        let skipped: Vec<&serde_json::Value> = json["blobs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["outcome"] == "skipped-foreign")
            .collect();
        assert_eq!(skipped.len(), 1, "{json}");
        assert_eq!(skipped[0]["digest"], layer.as_str());
        let err = stderr(&out);
        assert_eq!(err.matches("Skipped foreign layer").count(), 1, "{err}");
        let hex = layer.trim_start_matches("sha256:");
        assert!(!out_dir.join("blobs/sha256").join(hex).exists());
        assert!(
            sc.proxy.requests().iter().all(|r| !r.path.contains(hex)),
            "the registry was never asked for the layer"
        );
        // The layout is valid for a push: the manifest goes up byte for byte, the layer not.
        sc.proxy.clear();
        let from = path_str(&out_dir);
        let pushed = sc.push_ok(&[&sc.reference("quirks/win-again:1"), "--from", from]);
        assert_eq!(stdout(&pushed).trim(), manifest);
        assert!(
            sc.proxy.requests().iter().all(|r| !r.path.contains(hex)),
            "push never sends or checks the foreign layer"
        );
    }
}
