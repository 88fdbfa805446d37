//! Foreign and non-distributable layers (Windows base images): the registry holds their
//! descriptors, not their bytes, and answers BLOB_UNKNOWN for them. Pull keeps the descriptor,
//! skips the blob and says so; the layout pushes again without the layer ever being sent.

use crate::support::images::{push_with_skopeo, Blob, Format, ImageSpec};
use crate::support::registry::{Mode, RegistryServer, TlsOptions};
use crate::support::scenario::{Scenario, Target};
use crate::support::tls::TestCa;
use crate::support::tools::{assert_exit, path_str, stderr, stdout};
use crate::support::{basic, block_on, http_get, sha256_digest};

/// `repo:1` on the registry: a seeded image plus one foreign layer, of the type its format
/// uses, whose bytes the registry never saw: `at` names its blob and URL, by default bytes
/// no server holds. Returns the manifest's and the layer's digest.
pub fn with_foreign_layer(
    sc: &Scenario,
    repo: &str,
    format: Format,
    at: Option<(&Blob, &str)>,
) -> (String, String) {
    let spec = ImageSpec::new(81).layers(&[1500]).format(format);
    sc.seed(&format!("{repo}:base"), spec);
    let auth = sc.target.creds.map(|(u, p)| basic(u, p));
    let mut headers = vec![("Accept", format.manifest_type())];
    headers.extend(auth.as_deref().map(|a| ("Authorization", a)));
    let url = format!("{}/v2/{repo}/manifests/base", sc.reg().url());
    let mut manifest = http_get(None, &url, &headers).unwrap().json();
    let layer_type = match format {
        Format::Docker => "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        Format::Oci => "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    };
    let bytes = b"a Windows base layer that lives elsewhere";
    let (digest, size, url) = match at {
        Some((blob, url)) => (blob.digest.clone(), blob.size, url.to_string()),
        None => (
            sha256_digest(bytes),
            bytes.len() as u64,
            "https://foreign.invalid/layer.tar.gz".to_string(),
        ),
    };
    let layer = serde_json::json!({
        "mediaType": layer_type, "digest": digest, "size": size, "urls": [url],
    });
    manifest["layers"].as_array_mut().unwrap().insert(0, layer);
    let body = serde_json::to_vec(&manifest).unwrap();
    let put = format!("{}/v2/{repo}/manifests/1", sc.reg().url());
    let status = block_on(async {
        let mut request = reqwest::Client::new()
            .put(put)
            .header("Content-Type", format.manifest_type());
        if let Some(auth) = &auth {
            request = request.header("Authorization", auth);
        }
        request.body(body.clone()).send().await.unwrap().status()
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
        let (manifest, layer) = with_foreign_layer(&sc, "quirks/win", format, None);
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

/// `--foreign-layers fetch` downloads the layer from its URL over HTTPS, verified; a URL that
/// is plain HTTP is never fetched.
#[test]
fn fetched_foreign_layers_come_over_https_without_credentials() {
    let ca = TestCa::new();
    let tls = TlsOptions {
        server: ca.server_cert(),
        client_cas: None,
    };
    // Where the layer's bytes live: any HTTPS server will do, here a registry's blob URL.
    let elsewhere = RegistryServer::start_tls(Mode::Open, &tls);
    let image = ImageSpec::new(82).layers(&[2500]).build("img");
    push_with_skopeo(&image, &format!("{}/files/layer:1", elsewhere.host()), None);
    let layer = image.manifests[0].layers[0].blob.clone();
    let https = format!("{}/v2/files/layer/blobs/{}", elsewhere.url(), layer.digest);
    let sc = Scenario::new(Target::basic()).env_var("SSL_CERT_FILE", path_str(&ca.ca_cert));
    let plain = https.replacen("https://", "http://", 1);
    let (manifest, _) =
        with_foreign_layer(&sc, "quirks/winfetch", Format::Oci, Some((&layer, &https)));
    let out_dir = sc.env.scratch("layout");
    let out = sc.pull_ok(&[
        &sc.reference("quirks/winfetch:1"),
        "--output",
        path_str(&out_dir),
        "--foreign-layers",
        "fetch",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["digest"], manifest.as_str());
    let fetched = json["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["digest"] == layer.digest.as_str())
        .unwrap()
        .clone();
    assert_eq!(fetched["outcome"], "pulled", "{json}");
    let hex = layer.digest.trim_start_matches("sha256:");
    let stored = std::fs::read(out_dir.join("blobs/sha256").join(hex)).unwrap();
    assert_eq!(sha256_digest(&stored), layer.digest);
    // A docker-archive with the fetched layer in it.
    let tar = sc.env.scratch("tar").join("win.tar");
    let out = sc.pull(&[
        &sc.reference("quirks/winfetch:1"),
        "--output",
        path_str(&tar),
        "--foreign-layers",
        "fetch",
    ]);
    assert_exit(&out, 0);
    assert!(tar.exists());
    // The same layer named by a plain-HTTP URL is not fetched.
    let (_, _) = with_foreign_layer(&sc, "quirks/winplain", Format::Oci, Some((&layer, &plain)));
    let out = sc.pull(&[
        &sc.reference("quirks/winplain:1"),
        "--output",
        path_str(&sc.env.scratch("plain")),
        "--foreign-layers",
        "fetch",
    ]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("only HTTPS URLs are fetched"),
        "{}",
        stderr(&out)
    );
}

/// A docker-archive holds every layer `docker load` needs: with a foreign layer skipped, the
/// pull says what to pass instead of writing a tarball that cannot load; with it fetched, the
/// tarball is written.
#[test]
fn a_docker_archive_needs_its_foreign_layers_fetched() {
    let sc = Scenario::open();
    with_foreign_layer(&sc, "quirks/wintar", Format::Docker, None);
    let tar = sc.env.scratch("out").join("win.tar");
    let out = sc.pull(&[&sc.reference("quirks/wintar:1"), "--output", path_str(&tar)]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("--foreign-layers fetch"), "{err}");
    assert!(!tar.exists());
}
