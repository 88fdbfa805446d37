//! `hoist inspect`: for a person, `--format digest`, `--raw`, `--format config`, `--json`,
//! `--platform`, on open, Basic and token registries and on local layouts and archives.

use super::{json_of, token_target};
use crate::support::images::{remote_manifest_with_skopeo, ImageLayout, ImageSpec};
use crate::support::issuer_config::IssuerConfig;
use crate::support::proxy::Kind;
use crate::support::scenario::{Scenario, Target};
use crate::support::tools::{assert_exit, path_str, run_ok, stderr, stdout};

fn arm(image: &ImageLayout) -> &crate::support::images::Manifest {
    image
        .manifests
        .iter()
        .find(|m| m.platform.1 == "arm64")
        .unwrap()
}

fn inspects_an_index(sc: Scenario, seed: u64) {
    let image = sc.seed("team/app:1", ImageSpec::new(seed).multi_platform());
    let reference = sc.reference("team/app:1");
    // For a person: the digest, the media type and each platform.
    let out = sc.hoist(&["inspect", &reference]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains(&format!("Digest:     {}", image.digest())),
        "{text}"
    );
    assert!(text.contains("Platforms:  2"), "{text}");
    for m in &image.manifests {
        assert!(text.contains(&m.blob.digest), "{text}");
    }
    assert!(text.contains("linux/arm64"), "{text}");
    // For scripts: the digest alone, in one request after authentication.
    sc.proxy.clear();
    let out = sc.hoist(&["inspect", &reference, "--format", "digest"]);
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_eq!(super::worked_requests(&sc).len(), 1);
    // As served, byte for byte.
    let out = sc.hoist(&["inspect", &reference, "--raw"]);
    assert_exit(&out, 0);
    assert_eq!(
        out.stdout,
        remote_manifest_with_skopeo(&reference, sc.target.creds)
    );
    // One platform, as JSON: its own digest, its config's facts and its layers.
    let out = sc.hoist(&["inspect", &reference, "--platform", "linux/arm64", "--json"]);
    assert_exit(&out, 0);
    let json = json_of(&out);
    let arm = arm(&image);
    assert_eq!(json["digest"], arm.blob.digest);
    assert_eq!(json["indexDigest"], image.digest());
    assert_eq!(json["architecture"], "arm64");
    assert_eq!(json["os"], "linux");
    assert_eq!(json["layers"].as_array().unwrap().len(), arm.layers.len());
    let total: u64 = arm.layers.iter().map(|l| l.blob.size).sum();
    assert_eq!(json["totalSize"], total);
    // Its config, byte for byte.
    let out = sc.hoist(&[
        "inspect",
        &reference,
        "--platform",
        "linux/arm64",
        "--format",
        "config",
    ]);
    assert_exit(&out, 0);
    assert_eq!(out.stdout, arm.config_bytes);
    // An index has no config: the image for this machine's platform is shown, with a note.
    let out = sc.hoist(&["inspect", &reference, "--format", "config"]);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("is an index; showing its linux/"),
        "{}",
        stderr(&out)
    );
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let host = match std::env::consts::ARCH {
        "aarch64" => "arm64",
        _ => "amd64",
    };
    assert_eq!(shown["architecture"], host);
}

#[test]
fn inspect_an_index_on_an_open_registry() {
    inspects_an_index(Scenario::open(), 80);
}

#[test]
fn inspect_an_index_on_a_basic_registry() {
    inspects_an_index(Scenario::new(Target::basic()), 81);
}

#[test]
fn inspect_an_index_on_a_token_registry() {
    inspects_an_index(Scenario::new(token_target(IssuerConfig::default())), 82);
}

#[test]
fn inspect_an_image_shows_its_config_and_layers() {
    let sc = Scenario::open();
    let image = sc.seed("team/one:1", ImageSpec::new(83).layers(&[1000, 5000]));
    let out = sc.hoist(&["inspect", &sc.reference("team/one:1")]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    let m = &image.manifests[0];
    assert!(
        text.contains(&format!("Config:     {}", m.config.digest)),
        "{text}"
    );
    assert!(text.contains("Layers:     2"), "{text}");
    assert!(text.contains("Platform:   linux/"), "{text}");
    assert!(text.contains("Total size:"), "{text}");
    for layer in &m.layers {
        assert!(text.contains(&layer.blob.digest), "{text}");
    }
    // A platform the image is not for is an error naming what it is.
    let out = sc.hoist(&[
        "inspect",
        &sc.reference("team/one:1"),
        "--platform",
        "windows/arm64",
    ]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("not windows/arm64"),
        "{}",
        stderr(&out)
    );
    assert_eq!(sc.proxy.count("PUT", Kind::Manifest), 0);
}

#[test]
fn inspect_reads_local_layouts_and_both_kinds_of_archive() {
    let sc = Scenario::open();
    let image = ImageSpec::new(84).build("app");
    let layout = format!("{}:app", image.root.display());
    let digest = |target: &str| {
        let out = sc.hoist(&["inspect", target, "--format", "digest"]);
        assert_exit(&out, 0);
        stdout(&out)
    };
    assert_eq!(digest(&layout), format!("{}\n", image.digest()));
    // An OCI archive: the same layout in a tarball.
    let oci_tar = sc.env.scratch("oci").join("image.tar");
    std::fs::create_dir_all(oci_tar.parent().unwrap()).unwrap();
    run_ok(
        sc.env
            .command("tar")
            .args(["-cf", path_str(&oci_tar), "-C", path_str(&image.root), "."]),
        None,
    );
    assert_eq!(digest(path_str(&oci_tar)), format!("{}\n", image.digest()));
    // A docker-archive, as hoist pull writes it: its manifest is Docker's, so its config says.
    sc.seed("team/app:1", ImageSpec::new(84));
    let docker_tar = sc.env.scratch("docker").join("app.tar");
    std::fs::create_dir_all(docker_tar.parent().unwrap()).unwrap();
    sc.pull_ok(&[
        &sc.reference("team/app:1"),
        "--output",
        path_str(&docker_tar),
        "--quiet",
    ]);
    let out = sc.hoist(&["inspect", path_str(&docker_tar), "--format", "config"]);
    assert_exit(&out, 0);
    assert_eq!(out.stdout, image.manifests[0].config_bytes);
    let out = sc.hoist(&["inspect", path_str(&docker_tar), "--json"]);
    assert_exit(&out, 0);
    assert_eq!(json_of(&out)["layers"].as_array().unwrap().len(), 2);
}
