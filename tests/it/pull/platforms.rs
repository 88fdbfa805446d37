//! Multi-platform indexes, Docker manifest lists and single images, and the platform
//! and manifest checks that refuse a pull before it writes anything.

use super::host_arch;
use crate::support::files_under;
use crate::support::images::{Format, ImageSpec};
use crate::support::layout::{assert_blobs_verified, assert_has_image, blob_path, entry};
use crate::support::proxy::{Fault, Kind, Match};
use crate::support::registry::{Mode, RegistryServer};
use crate::support::scenario::{env, seed, Scenario};
use crate::support::tools::{
    assert_stderr_has, hoist_pull, hoist_pull_ok, path_str, run_ok, stderr, stdout,
};
use serde_json::Value;
use std::path::Path;

// ---------------------------------------------------------- platforms and formats

/// `REFERENCE --platform PLATFORM --store STORE`: each pull of the multi-platform cases.
fn platform_args<'a>(reference: &'a str, platform: &'a str, store: &'a Path) -> [&'a str; 5] {
    [
        reference,
        "--platform",
        platform,
        "--store",
        path_str(store),
    ]
}

fn multi_platform_case(format: Format) {
    let reg = RegistryServer::start(Mode::Open);
    let image = seed(
        &reg.host(),
        "app/multi:1",
        ImageSpec::new(10).format(format).multi_platform(),
        None,
    );
    let reference = format!("{}/app/multi:1", reg.host());
    let child = |arch: &str| {
        image
            .manifests
            .iter()
            .find(|m| m.platform.1 == arch)
            .unwrap()
            .clone()
    };

    // Default: the host's platform; stdout still names the index.
    let env = env();
    let store = env.scratch("store");
    let out = hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    let host = child(host_arch());
    let e = entry(&store, &reference);
    assert_eq!(e["digest"], host.blob.digest.as_str());
    assert_eq!(e["mediaType"], format.manifest_type());
    assert_eq!(e["size"], host.blob.size);
    assert_has_image(&store, &image, &[host_arch()]);
    let other = if host_arch() == "amd64" {
        "arm64"
    } else {
        "amd64"
    };
    for l in &child(other).layers {
        assert!(!blob_path(&store, &l.blob.digest).exists());
    }

    // An explicit platform.
    let store = env.scratch("store-arm");
    let out = hoist_pull_ok(&env, &platform_args(&reference, "linux/arm64", &store));
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_eq!(
        entry(&store, &reference)["digest"],
        child("arm64").blob.digest.as_str()
    );
    assert_has_image(&store, &image, &["arm64"]);

    // Everything: the index itself is stored.
    let store = env.scratch("store-all");
    let out = hoist_pull_ok(&env, &platform_args(&reference, "all", &store));
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    let e = entry(&store, &reference);
    assert_eq!(e["digest"], image.digest());
    assert_eq!(e["mediaType"], format.index_type());
    assert_eq!(
        std::fs::read(blob_path(&store, image.digest())).unwrap(),
        image.index_bytes.clone().unwrap()
    );
    assert_has_image(&store, &image, &["amd64", "arm64"]);
    assert_blobs_verified(&store);

    // A platform the image does not have.
    let store = env.scratch("store-none");
    let out = hoist_pull(&env, &platform_args(&reference, "linux/s390x", &store));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(err.contains("linux/s390x"), "{err}");
    assert!(
        err.contains("linux/amd64") && err.contains("linux/arm64"),
        "{err}"
    );
}

#[test]
fn multi_platform_oci_index() {
    multi_platform_case(Format::Oci);
}

#[test]
fn multi_platform_docker_manifest_list() {
    multi_platform_case(Format::Docker);
}

#[test]
fn docker_schema2_single_image() {
    let reg = RegistryServer::start(Mode::Open);
    let image = seed(
        &reg.host(),
        "app/docker:1",
        ImageSpec::new(11).format(Format::Docker),
        None,
    );
    let env = env();
    let store = env.scratch("store");
    let reference = format!("{}/app/docker:1", reg.host());
    let out = hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    let e = entry(&store, &reference);
    assert_eq!(e["mediaType"], Format::Docker.manifest_type());
    assert_has_image(&store, &image, &["amd64"]);
}

// ------------------------------------------------------ manifests and misuse

#[test]
fn manifest_pulled_by_digest_is_verified() {
    let sc = Scenario::open();
    let image = sc.seed("app/mverify:1", ImageSpec::new(90));
    // Inside a JSON string of the pretty-printed manifest: still parses as
    // the same length, but the digest differs.
    sc.fault(
        Match::method("GET", Kind::Manifest),
        Fault::FlipResponseByte(40),
    );
    let (proxy, store) = (&sc.proxy, &sc.store);
    let out = sc.pull_to_store(
        &sc.reference(&format!("app/mverify@{}", image.digest())),
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(
        err.contains(image.digest()) && err.contains("mismatch"),
        "{err}"
    );
    assert_eq!(proxy.count("GET", Kind::Blob), 0);
    assert!(!store.join("index.json").exists(), "nothing stored");
}

#[test]
fn missing_tag_or_platform_writes_no_destination() {
    let reg = RegistryServer::start(Mode::Open);
    seed(
        &reg.host(),
        "app/here:1",
        ImageSpec::new(92).multi_platform(),
        None,
    );
    let env = env();
    let dir = env.scratch("out").join("layout");
    let tar = env.scratch("out").join("image.tar");
    let missing = format!("{}/app/here:2", reg.host());
    for dest in [&dir, &tar] {
        let out = hoist_pull(&env, &[&missing, "--output", path_str(dest)]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert_stderr_has(&out, "MANIFEST_UNKNOWN");
    }
    let present = format!("{}/app/here:1", reg.host());
    let out = hoist_pull(
        &env,
        &[
            &present,
            "--platform",
            "linux/s390x",
            "--output",
            path_str(&dir),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // Nothing was created: no layout, no tarball, no working directory beside it.
    let left = files_under(&env.scratch("out"));
    assert!(left.is_empty(), "{left:?}");
    assert!(!dir.exists() && !tar.exists());
}

#[test]
fn explicit_platform_must_match_a_single_platform_image() {
    let reg = RegistryServer::start(Mode::Open);
    let image = seed(&reg.host(), "app/amd64only:1", ImageSpec::new(93), None);
    let (os, arch) = &image.manifests[0].platform;
    assert_eq!((os.as_str(), arch.as_str()), ("linux", "amd64"));
    let reference = format!("{}/app/amd64only:1", reg.host());
    let env = env();
    let out_dir = env.scratch("out").join("layout");

    let out = hoist_pull(
        &env,
        &[
            &reference,
            "--platform",
            "linux/arm64",
            "--output",
            path_str(&out_dir),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("single-platform image for linux/amd64, not linux/arm64"),
        "{err}"
    );
    assert!(!out_dir.exists());

    // The platform it is for, or none asked for: pulled.
    for args in [&["--platform", "linux/amd64"][..], &[]] {
        let _ = std::fs::remove_dir_all(&out_dir);
        let out = hoist_pull_ok(
            &env,
            &[&[reference.as_str(), "--output", path_str(&out_dir)], args].concat(),
        );
        assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    }
}

#[test]
fn closed_stderr_neither_stops_a_pull_nor_hides_its_exit_code() {
    let reg = RegistryServer::start(Mode::Open);
    let image = seed(&reg.host(), "app/quietly:1", ImageSpec::new(94), None);
    let env = env();
    let store = env.scratch("store");
    let run_with_stderr_closed = |reference: &str| {
        let mut child = env
            .hoist()
            .args(["pull", reference, "--store", path_str(&store)])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // As `2>&1 | grep -q …` does once grep has its match: every write to stderr fails.
        drop(child.stderr.take());
        child.wait_with_output().unwrap()
    };
    let reference = format!("{}/app/quietly:1", reg.host());
    let out = run_with_stderr_closed(&reference);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_eq!(entry(&store, &reference)["digest"], image.digest());
    let missing = format!("{}/app/quietly:2", reg.host());
    assert_eq!(run_with_stderr_closed(&missing).status.code(), Some(1));
}

#[test]
fn schema1_manifest_is_refused_clearly() {
    let sc = Scenario::open();
    sc.seed("app/ancient:1", ImageSpec::new(91));
    sc.fault(
        Match::method("GET", Kind::Manifest),
        Fault::Status {
            status: 200,
            headers: vec![(
                "Content-Type".into(),
                "application/vnd.docker.distribution.manifest.v1+prettyjws".into(),
            )],
            body:
                r#"{"schemaVersion":1,"name":"app/ancient","tag":"1","fsLayers":[],"history":[]}"#
                    .into(),
        },
    );
    let out = sc.pull_to_store(&sc.reference("app/ancient:1"), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("schema 1") && err.contains("unsupported"),
        "{err}"
    );
}

#[test]
fn all_platforms_into_a_docker_archive_is_refused_before_downloading() {
    let sc = Scenario::open();
    sc.seed("app/manyarch:1", ImageSpec::new(92).multi_platform());
    let (env, proxy) = (&sc.env, &sc.proxy);
    let dest = env.scratch("dest");
    let reference = sc.reference("app/manyarch:1");
    let out = sc.pull(&[
        &reference,
        "--platform",
        "all",
        "--output",
        path_str(&dest.join("x.tar")),
    ]);
    assert_ne!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("one image") || err.contains("--platform"),
        "{err}"
    );
    assert_eq!(proxy.count("GET", Kind::Blob), 0, "refused up front");
    assert!(files_under(&dest).is_empty(), "{:?}", files_under(&dest));

    // One platform of the same image makes a fine tarball.
    let out = sc.pull_ok(&[
        &reference,
        "--platform",
        "linux/arm64",
        "--output",
        path_str(&dest.join("x.tar")),
    ]);
    assert!(!stdout(&out).is_empty());
    let mut c = env.skopeo();
    c.arg("inspect")
        .arg(format!("docker-archive:{}", dest.join("x.tar").display()));
    let info: Value = serde_json::from_slice(&run_ok(&mut c, None).stdout).unwrap();
    assert_eq!(info["Architecture"], "arm64");
}
