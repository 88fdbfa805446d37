//! Pulls across runs and processes: resuming partial blobs, concurrent pulls into one
//! store, bounded memory, and failed pulls that leave nothing behind.

use super::one_big_layer;
use crate::runs::{finished, gets_of, names_in};
use crate::support::files_under;
use crate::support::images::{big_layer_layout, sha256_file, ImageLayout, ImageSpec};
use crate::support::layout::{
    assert_blobs_verified, assert_has_image, blob_path, entry, index_entries, read_json,
};
use crate::support::proxy::{Fault, Kind, Match, Proxy};
use crate::support::registry::{Mode, RegistryServer};
use crate::support::scenario::{env, seed, Scenario};
use crate::support::tools::{
    hoist_peak_rss, hoist_pull_ok, path_str, run_ok, spawn_hoist, stderr, stdout,
};

// ----------------------------------------------------------------- memory

#[test]
fn half_gigabyte_layer_pulls_in_bounded_memory() {
    const LAYER: u64 = 512 * 1024 * 1024;
    const LIMIT_KIB: u64 = 64 * 1024;
    let reg = RegistryServer::start(Mode::Open);
    let env = env();
    let (layout, digest) = big_layer_layout(&env.scratch("src"), LAYER, "big");
    let mut c = env.skopeo();
    c.args([
        "copy",
        "--quiet",
        "--preserve-digests",
        "--dest-tls-verify=false",
    ])
    .arg(format!("oci:{}:big", layout.display()))
    .arg(format!("docker://{}/app/big:1", reg.host()));
    run_ok(&mut c, None);
    std::fs::remove_dir_all(&layout).unwrap();

    let store = env.scratch("store");
    let reference = format!("{}/app/big:1", reg.host());
    let (out, rss) = hoist_peak_rss(
        &env,
        &["pull", "--quiet", "--store", path_str(&store), &reference],
    );
    assert_eq!(stdout(&out), format!("{digest}\n"));
    assert!(
        rss < LIMIT_KIB,
        "peak RSS {rss} KiB for a {} MiB layer",
        LAYER >> 20
    );
    let entry = entry(&store, &reference);
    assert_eq!(entry["digest"], digest.as_str());
    let manifest = read_json(&blob_path(&store, &digest));
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    let path = blob_path(&store, layer);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), LAYER);
    assert_eq!(sha256_file(&path), layer);
}

// ------------------------------------------------------ resume across runs

#[test]
fn interrupted_pull_resumes_the_partial_blob_next_time() {
    let sc = Scenario::open();
    let proxy = &sc.proxy;
    let reg = sc.reg();
    let image = sc.seed("app/again-later:1", one_big_layer(70));
    let layer = image.manifests[0].layers[0].blob.digest.clone();
    // Cut every blob GET after 10 000 bytes, more often than one run
    // resumes: the first pull gives up with part of the layer on disk.
    proxy.inject_n(
        Match::method("GET", Kind::Blob),
        Fault::CutResponseAfter(10_000),
        50,
    );
    let store = &sc.store;
    let reference = sc.reference("app/again-later:1");
    let out = sc.pull(&[&reference, "--store", path_str(store)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains(&layer), "{}", stderr(&out));
    assert!(!blob_path(store, &layer).exists());
    let partial = files_under(&store.join(".hoist/partial"));
    assert!(!partial.is_empty(), "partial download kept for resuming");

    // The network is fine again (a fresh proxy without faults): the layer
    // continues where it stopped.
    let proxy2 = Proxy::start(&reg.host());
    let reference2 = format!("{}/app/again-later:1", proxy2.host());
    let out = sc.pull_ok(&[&reference2, "--store", path_str(store)]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    let layer_gets = gets_of(&proxy2, &layer);
    assert_eq!(layer_gets.len(), 1, "{layer_gets:#?}");
    assert_eq!(layer_gets[0].status, 206, "resumed with Range");
    assert_has_image(store, &image, &["amd64"]);
    assert!(files_under(&store.join(".hoist/partial")).is_empty());
}

#[test]
fn writes_nothing_outside_the_destination() {
    let reg = RegistryServer::start(Mode::Open);
    let image = seed(&reg.host(), "app/tidy:1", ImageSpec::new(80), None);
    let env = env();
    let cwd = env.scratch("cwd");
    let tmp = env.scratch("tmp");
    let env = env.env("TMPDIR", path_str(&tmp));
    let dest = env.scratch("dest");
    let reference = format!("{}/app/tidy:1", reg.host());
    for output in [dest.join("layout"), dest.join("image.tar")] {
        let mut c = env.hoist();
        c.current_dir(&cwd)
            .args(["pull", &reference, "--output", path_str(&output)]);
        let out = run_ok(&mut c, None);
        assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    }
    for dir in [&cwd, &tmp, &env.home, &env.docker_config] {
        let files = files_under(dir);
        assert!(files.is_empty(), "{}: {files:?}", dir.display());
    }
    assert_eq!(names_in(&dest), ["image.tar", "layout"]);
}

#[test]
fn concurrent_pulls_into_one_store_both_succeed() {
    let reg = RegistryServer::start(Mode::Open);
    let image = seed(
        &reg.host(),
        "app/race:1",
        ImageSpec::new(93).layers(&[300_000, 200_000, 100_000]),
        None,
    );
    let env = env();
    let store = env.scratch("store");
    let reference = format!("{}/app/race:1", reg.host());
    let children: Vec<_> = (0..4)
        .map(|_| spawn_hoist(&env, &["pull", &reference, "--store", path_str(&store)]))
        .collect();
    for child in children {
        let out = finished(child);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    }
    assert_eq!(index_entries(&store).len(), 1);
    assert_has_image(&store, &image, &["amd64"]);
    assert_blobs_verified(&store);
    assert!(files_under(&store.join(".hoist/partial")).is_empty());
}

#[test]
fn concurrent_pulls_of_different_images_keep_every_entry() {
    let reg = RegistryServer::start(Mode::Open);
    let images: Vec<(String, ImageLayout)> = (0..6)
        .map(|i| {
            let repo_tag = format!("app/many{i}:1");
            let image = seed(&reg.host(), &repo_tag, ImageSpec::new(100 + i), None);
            (format!("{}/{repo_tag}", reg.host()), image)
        })
        .collect();
    let env = env();
    let store = env.scratch("store");
    let children: Vec<_> = images
        .iter()
        .map(|(reference, _)| {
            spawn_hoist(
                &env,
                &["pull", "--quiet", reference, "--store", path_str(&store)],
            )
        })
        .collect();
    for child in children {
        let out = finished(child);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    for (reference, image) in &images {
        assert_eq!(entry(&store, reference)["digest"], image.digest());
    }
    assert_eq!(index_entries(&store).len(), images.len());
}

#[test]
fn a_damaged_partial_file_is_downloaded_again() {
    let sc = Scenario::open();
    let proxy = &sc.proxy;
    let image = sc.seed("app/damaged:1", one_big_layer(110));
    let layer = image.manifests[0].layers[0].blob.digest.clone();
    let store = &sc.store;
    // As a crash can leave it: the right length, the wrong bytes.
    std::fs::create_dir_all(store.join(".hoist/partial")).unwrap();
    std::fs::write(
        store.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    std::fs::write(
        store
            .join(".hoist/partial")
            .join(layer.strip_prefix("sha256:").unwrap()),
        vec![0u8; 50_000],
    )
    .unwrap();
    let reference = sc.reference("app/damaged:1");
    let out = sc.pull_ok(&[&reference, "--store", path_str(store)]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    let statuses: Vec<u16> = proxy
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(&layer))
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [206, 200], "resumed, then fetched whole");
    assert_has_image(store, &image, &["amd64"]);
    assert_blobs_verified(store);
}

#[test]
fn failed_pull_to_a_tarball_leaves_no_tarball_and_retries_cleanly() {
    let sc = Scenario::open();
    let proxy = &sc.proxy;
    let image = sc.seed("app/tarfail:1", one_big_layer(111));
    let layer = &image.manifests[0].layers[0].blob.digest;
    // The layer's first download is damaged; the next run's is not.
    proxy.inject_n(
        Match::method("GET", Kind::Blob).path_ends_with(layer),
        Fault::FlipResponseByte(50_000),
        1,
    );
    let env = &sc.env;
    let dest = env.scratch("dest");
    let tar = dest.join("image.tar");
    let reference = sc.reference("app/tarfail:1");
    let out = sc.pull(&[&reference, "--output", path_str(&tar)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!tar.exists());
    let out = sc.pull_ok(&[&reference, "--output", path_str(&tar)]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_eq!(names_in(&dest), ["image.tar"]);
}

#[test]
fn pull_adds_to_an_oci_layout_skopeo_wrote() {
    let reg = RegistryServer::start(Mode::Open);
    let first = seed(&reg.host(), "app/first:1", ImageSpec::new(120), None);
    let second = seed(&reg.host(), "app/second:1", ImageSpec::new(121), None);
    let env = env();
    let dir = env.scratch("work").join("layout");
    let mut c = env.skopeo();
    c.args(["copy", "--quiet", "--src-tls-verify=false"])
        .arg(format!("docker://{}/app/first:1", reg.host()))
        .arg(format!("oci:{}:first", dir.display()));
    run_ok(&mut c, None);
    let reference = format!("{}/app/second:1", reg.host());
    hoist_pull_ok(&env, &[&reference, "--output", path_str(&dir)]);
    assert_eq!(entry(&dir, "first")["digest"], first.digest());
    assert_eq!(entry(&dir, &reference)["digest"], second.digest());
    for name in ["first", reference.as_str()] {
        let mut c = env.skopeo();
        c.arg("inspect")
            .arg(format!("oci:{}:{name}", dir.display()));
        run_ok(&mut c, None);
    }
}
