//! `hoist pull` against real registries: the CNCF distribution registry in
//! open, Basic and token modes, skopeo as the peer that pushes images and
//! reads what hoist wrote, and a fault-injecting proxy in between.

use crate::support::images::{
    big_layer_layout, push_with_skopeo, sha256_file, Format, ImageLayout, ImageSpec,
};
use crate::support::proxy::{Fault, Kind, Match, Proxy};
use crate::support::registry::{Mode, RegistryServer};
use crate::support::token_issuer::{IssuerConfig, TokenIssuer};
use crate::support::tools::{hoist_peak_rss, run, run_ok, TestEnv};
use crate::support::{basic, files_under, sha256_digest};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

const REF_NAME: &str = "org.opencontainers.image.ref.name";

pub(crate) fn env() -> TestEnv {
    TestEnv::new().without_credential_helpers()
}

/// Builds the image and pushes it with skopeo to `host/repo_tag`.
pub(crate) fn seed(
    host: &str,
    repo_tag: &str,
    spec: ImageSpec,
    creds: Option<(&str, &str)>,
) -> ImageLayout {
    let image = spec.build("seed");
    push_with_skopeo(&image, &format!("{host}/{repo_tag}"), creds);
    image
}

fn hoist_pull(env: &TestEnv, args: &[&str]) -> Output {
    let mut c = env.hoist();
    c.arg("pull").args(args);
    run(&mut c, None)
}

fn hoist_pull_ok(env: &TestEnv, args: &[&str]) -> Output {
    let mut c = env.hoist();
    c.arg("pull").args(args);
    run_ok(&mut c, None)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub(crate) fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

pub(crate) fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

/// index.json entries as (ref name, descriptor).
fn index_entries(layout: &Path) -> Vec<(Option<String>, Value)> {
    read_json(&layout.join("index.json"))["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["annotations"][REF_NAME].as_str().map(String::from),
                d.clone(),
            )
        })
        .collect()
}

/// The one entry named `name`; panics if there are none or several.
pub(crate) fn entry(layout: &Path, name: &str) -> Value {
    let all = index_entries(layout);
    let found: Vec<_> = all
        .iter()
        .filter(|(n, _)| n.as_deref() == Some(name))
        .collect();
    assert_eq!(found.len(), 1, "entries named {name} in {all:#?}");
    found[0].1.clone()
}

pub(crate) fn blob_path(layout: &Path, digest: &str) -> PathBuf {
    layout
        .join("blobs/sha256")
        .join(digest.strip_prefix("sha256:").unwrap())
}

/// Every blob of every manifest of `image` is in `layout`, byte for byte.
fn assert_has_image(layout: &Path, image: &ImageLayout, archs: &[&str]) {
    for m in image
        .manifests
        .iter()
        .filter(|m| archs.contains(&m.platform.1.as_str()))
    {
        assert_eq!(
            std::fs::read(blob_path(layout, &m.blob.digest)).unwrap(),
            m.bytes,
            "manifest {}",
            m.blob.digest
        );
        assert_eq!(
            std::fs::read(blob_path(layout, &m.config.digest)).unwrap(),
            m.config_bytes
        );
        for l in &m.layers {
            let path = blob_path(layout, &l.blob.digest);
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(sha256_digest(&bytes), l.blob.digest);
        }
    }
}

/// Nothing under blobs/ whose content does not match its name.
fn assert_blobs_verified(layout: &Path) {
    let dir = layout.join("blobs/sha256");
    for e in std::fs::read_dir(&dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        let bytes = std::fs::read(e.path()).unwrap();
        assert_eq!(
            sha256_digest(&bytes),
            format!("sha256:{name}"),
            "corrupt blob {}",
            e.path().display()
        );
    }
}

fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => panic!("test images only have amd64 and arm64, host is {other}"),
    }
}

pub(crate) fn docker_config_with(env: &TestEnv, host: &str, user: &str, pass: &str) {
    let auth = basic(user, pass);
    let auth = auth.strip_prefix("Basic ").unwrap();
    std::fs::write(
        env.config_json_path(),
        format!(r#"{{"auths":{{"{host}":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
}

// ---------------------------------------------------------------- sources

#[test]
fn pull_from_open_registry_by_tag_prints_only_the_digest() {
    let reg = RegistryServer::start(Mode::Open);
    let image = seed(&reg.host(), "app/one:1.0", ImageSpec::new(1), None);
    let env = env();
    let store = env.scratch("store");
    let digest_file = env.scratch("out").join("digest");
    let reference = format!("{}/app/one:1.0", reg.host());
    let out = hoist_pull_ok(
        &env,
        &[
            &reference,
            "--store",
            path_str(&store),
            "--digest-file",
            path_str(&digest_file),
        ],
    );
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_eq!(
        std::fs::read_to_string(&digest_file).unwrap().trim_end(),
        image.digest()
    );
    // Status lines go to stderr, plain (stderr is not a terminal here).
    let err = stderr(&out);
    assert!(err.contains("Pulled"), "{err}");
    assert!(!err.contains('\x1b'), "control characters in {err:?}");

    let e = entry(&store, &reference);
    assert_eq!(e["digest"], image.digest());
    assert_eq!(e["mediaType"], Format::Oci.manifest_type());
    assert_eq!(e["size"], image.top.size);
    assert_has_image(&store, &image, &["amd64"]);
    assert_blobs_verified(&store);
    assert_eq!(
        read_json(&store.join("oci-layout"))["imageLayoutVersion"],
        "1.0.0"
    );
    // Partial downloads live in the destination and are gone when done.
    let leftovers = files_under(&store.join(".hoist/partial"));
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn quiet_prints_the_digest_and_nothing_else() {
    let reg = RegistryServer::start(Mode::Open);
    let image = seed(&reg.host(), "app/quiet:1", ImageSpec::new(2), None);
    let env = env();
    let store = env.scratch("store");
    let out = hoist_pull_ok(
        &env,
        &[
            "--quiet",
            &format!("{}/app/quiet:1", reg.host()),
            "--store",
            path_str(&store),
        ],
    );
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_eq!(stderr(&out), "");
}

#[test]
fn store_location_comes_from_hoist_store_then_xdg_then_home() {
    let reg = RegistryServer::start(Mode::Open);
    let image = seed(&reg.host(), "app/where:1", ImageSpec::new(3), None);
    let reference = format!("{}/app/where:1", reg.host());

    let env1 = env();
    let store = env1.scratch("hoist-store");
    let env1 = env1.env("HOIST_STORE", path_str(&store));
    hoist_pull_ok(&env1, &[&reference]);
    assert_eq!(entry(&store, &reference)["digest"], image.digest());

    let env2 = env();
    let xdg = env2.scratch("xdg");
    let env2 = env2.env("XDG_DATA_HOME", path_str(&xdg));
    hoist_pull_ok(&env2, &[&reference]);
    assert_eq!(
        entry(&xdg.join("hoist"), &reference)["digest"],
        image.digest()
    );

    let env3 = env();
    hoist_pull_ok(&env3, &[&reference]);
    let home_store = env3.home.join(".local/share/hoist");
    assert_eq!(entry(&home_store, &reference)["digest"], image.digest());
}

#[test]
fn pull_by_digest() {
    let reg = RegistryServer::start(Mode::Open);
    let image = seed(&reg.host(), "app/pinned:1", ImageSpec::new(4), None);
    let env = env();
    let store = env.scratch("store");
    let reference = format!("{}/app/pinned@{}", reg.host(), image.digest());
    let out = hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_eq!(entry(&store, &reference)["digest"], image.digest());
    assert_has_image(&store, &image, &["amd64"]);

    // Tag plus digest: the digest wins, and the stored name keeps the tag.
    let reference = format!("{}/app/pinned:1@{}", reg.host(), image.digest());
    let out = hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_eq!(
        entry(&store, &format!("{}/app/pinned:1", reg.host()))["digest"],
        image.digest()
    );

    // A digest the repository does not have fails cleanly.
    let missing = format!("{}/app/pinned@sha256:{}", reg.host(), "0".repeat(64));
    let out = hoist_pull(&env, &[&missing, "--store", path_str(&store)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
}

#[test]
fn pull_from_basic_auth_registry_with_stored_credentials() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let image = seed(
        &reg.host(),
        "team/basic:1",
        ImageSpec::new(5),
        Some(("alice", "s3cret")),
    );
    let reference = format!("{}/team/basic:1", reg.host());

    // Without credentials the registry says no, and hoist says so.
    let anon = env();
    let store = anon.scratch("store");
    let out = hoist_pull(&anon, &[&reference, "--store", path_str(&store)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!store.join("index.json").exists(), "nothing stored");

    let env = env();
    docker_config_with(&env, &reg.host(), "alice", "s3cret");
    let store = env.scratch("store");
    let out = hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_eq!(entry(&store, &reference)["digest"], image.digest());
    assert_has_image(&store, &image, &["amd64"]);
}

#[test]
fn pull_from_token_registry_uses_one_token() {
    let issuer = TokenIssuer::start(IssuerConfig::default().user("bob", "pw").allow(
        "bob",
        "team/*",
        &["pull", "push"],
    ));
    let reg = RegistryServer::start(Mode::Token(&issuer));
    let image = seed(
        &reg.host(),
        "team/tok:1",
        ImageSpec::new(6).layers(&[1000, 2000, 3000, 4000]),
        Some(("bob", "pw")),
    );
    issuer.clear_requests();
    let env = env();
    docker_config_with(&env, &reg.host(), "bob", "pw");
    let store = env.scratch("store");
    let reference = format!("{}/team/tok:1", reg.host());
    let out = hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_has_image(&store, &image, &["amd64"]);
    let reqs = issuer.requests();
    assert_eq!(reqs.len(), 1, "one token for the whole pull: {reqs:#?}");
    assert_eq!(reqs[0].user.as_deref(), Some("bob"));
    assert_eq!(reqs[0].scopes, vec!["repository:team/tok:pull".to_string()]);
}

#[test]
fn anonymous_pull_of_public_repo_on_token_registry() {
    let issuer = TokenIssuer::start(
        IssuerConfig::default()
            .user("bob", "pw")
            .allow("bob", "*", &["*"])
            .public("pub/open"),
    );
    let reg = RegistryServer::start(Mode::Token(&issuer));
    let image = seed(
        &reg.host(),
        "pub/open:1",
        ImageSpec::new(7),
        Some(("bob", "pw")),
    );
    issuer.clear_requests();
    // No config.json, no DOCKER_CONFIG directory content, no helpers.
    let env = env();
    assert!(env.docker_config_json().is_none());
    let store = env.scratch("store");
    let reference = format!("{}/pub/open:1", reg.host());
    let out = hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_has_image(&store, &image, &["amd64"]);
    let reqs = issuer.requests();
    assert!(!reqs.is_empty());
    assert!(
        reqs.iter().all(|r| !r.had_basic_auth && r.user.is_none()),
        "{reqs:#?}"
    );
}

// ---------------------------------------------------------- platforms and formats

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
    let out = hoist_pull_ok(
        &env,
        &[
            &reference,
            "--platform",
            "linux/arm64",
            "--store",
            path_str(&store),
        ],
    );
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_eq!(
        entry(&store, &reference)["digest"],
        child("arm64").blob.digest.as_str()
    );
    assert_has_image(&store, &image, &["arm64"]);

    // Everything: the index itself is stored.
    let store = env.scratch("store-all");
    let out = hoist_pull_ok(
        &env,
        &[&reference, "--platform", "all", "--store", path_str(&store)],
    );
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
    let out = hoist_pull(
        &env,
        &[
            &reference,
            "--platform",
            "linux/s390x",
            "--store",
            path_str(&store),
        ],
    );
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

// ------------------------------------------------------------------ store

#[test]
fn pulling_again_replaces_the_entry_and_downloads_nothing() {
    let reg = RegistryServer::start(Mode::Open);
    let proxy = Proxy::start(&reg.host());
    let first = seed(&reg.host(), "app/again:1", ImageSpec::new(20), None);
    let env = env();
    let store = env.scratch("store");
    let reference = format!("{}/app/again:1", proxy.host());
    hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(proxy.count("GET", Kind::Blob), 3);

    proxy.clear();
    let out = hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(stdout(&out), format!("{}\n", first.digest()));
    assert_eq!(proxy.count("GET", Kind::Blob), 0, "{:#?}", proxy.requests());
    assert_eq!(index_entries(&store).len(), 1);
    assert_eq!(entry(&store, &reference)["digest"], first.digest());

    // The tag moves: the entry follows, still only one of that name.
    let second = seed(&reg.host(), "app/again:1", ImageSpec::new(21), None);
    let out = hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(stdout(&out), format!("{}\n", second.digest()));
    assert_eq!(
        index_entries(&store).len(),
        1,
        "{:#?}",
        index_entries(&store)
    );
    assert_eq!(entry(&store, &reference)["digest"], second.digest());
    assert_has_image(&store, &second, &["amd64"]);
}

#[test]
fn images_share_blobs_in_the_store() {
    let reg = RegistryServer::start(Mode::Open);
    let proxy = Proxy::start(&reg.host());
    // Same seed: the first layer is identical, configs differ.
    let a = seed(
        &reg.host(),
        "app/a:1",
        ImageSpec::new(30).layers(&[5000]),
        None,
    );
    let b = seed(
        &reg.host(),
        "app/b:1",
        ImageSpec::new(30).layers(&[5000, 6000]),
        None,
    );
    let shared = &a.manifests[0].layers[0].blob.digest;
    assert_eq!(shared, &b.manifests[0].layers[0].blob.digest);

    let env = env();
    let store = env.scratch("store");
    let ra = format!("{}/app/a:1", proxy.host());
    let rb = format!("{}/app/b:1", proxy.host());
    hoist_pull_ok(&env, &[&ra, "--store", path_str(&store)]);
    proxy.clear();
    hoist_pull_ok(&env, &[&rb, "--store", path_str(&store)]);
    let got: Vec<String> = proxy
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.kind == Kind::Blob)
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(got.len(), 2, "config and new layer only: {got:#?}");
    assert!(
        got.iter().all(|p| !p.ends_with(shared.as_str())),
        "{got:#?}"
    );
    assert_eq!(index_entries(&store).len(), 2);
    assert_eq!(entry(&store, &ra)["digest"], a.digest());
    assert_eq!(entry(&store, &rb)["digest"], b.digest());
    assert_has_image(&store, &a, &["amd64"]);
    assert_has_image(&store, &b, &["amd64"]);
}

// ---------------------------------------------------------------- interop

#[test]
fn skopeo_reads_the_oci_layout_hoist_wrote() {
    let reg = RegistryServer::start(Mode::Open);
    let image = seed(&reg.host(), "app/interop:2.0", ImageSpec::new(40), None);
    let env = env();
    let out_dir = env.scratch("work").join("layout");
    let reference = format!("{}/app/interop:2.0", reg.host());
    hoist_pull_ok(&env, &[&reference, "--output", path_str(&out_dir)]);
    assert_eq!(entry(&out_dir, &reference)["digest"], image.digest());

    let mut c = env.skopeo();
    c.arg("inspect")
        .arg(format!("oci:{}:{reference}", out_dir.display()));
    let info: Value = serde_json::from_slice(&run_ok(&mut c, None).stdout).unwrap();
    assert_eq!(info["Digest"], image.digest());
    let layers: Vec<&str> = info["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let want: Vec<&str> = image.manifests[0]
        .layers
        .iter()
        .map(|l| l.blob.digest.as_str())
        .collect();
    assert_eq!(layers, want);

    // And skopeo can copy it whole, verifying every blob.
    let copy = env.scratch("work").join("copy");
    let mut c = env.skopeo();
    c.args(["copy", "--quiet"])
        .arg(format!("oci:{}:{reference}", out_dir.display()))
        .arg(format!("oci:{}:x", copy.display()));
    run_ok(&mut c, None);
}

#[test]
fn skopeo_reads_the_docker_archive_hoist_wrote() {
    let reg = RegistryServer::start(Mode::Open);
    let image = seed(
        &reg.host(),
        "app/tarball:3",
        ImageSpec::new(41).layers(&[3000, 7000]),
        None,
    );
    let env = env();
    let work = env.scratch("work");
    let tar = work.join("image.tar");
    let reference = format!("{}/app/tarball:3", reg.host());
    let out = hoist_pull_ok(&env, &[&reference, "--output", path_str(&tar)]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    let mut names = files_under(&work);
    names.sort();
    assert_eq!(names, vec!["image.tar".to_string()], "only the tarball");

    let mut c = env.skopeo();
    c.arg("inspect")
        .arg(format!("docker-archive:{}", tar.display()));
    let info: Value = serde_json::from_slice(&run_ok(&mut c, None).stdout).unwrap();
    assert_eq!(info["Architecture"], "amd64");
    assert_eq!(info["Env"][0], "HOIST_TEST_SEED=41");

    let copy = env.scratch("copy");
    let mut c = env.skopeo();
    c.args(["copy", "--quiet"])
        .arg(format!("docker-archive:{}", tar.display()))
        .arg(format!("oci:{}:x", copy.display()));
    run_ok(&mut c, None);
    // skopeo recompresses for OCI, but the uncompressed layers are the same.
    let mut c = env.skopeo();
    c.args(["inspect", "--config"])
        .arg(format!("oci:{}:x", copy.display()));
    let config: Value = serde_json::from_slice(&run_ok(&mut c, None).stdout).unwrap();
    let want: Vec<&str> = image.manifests[0]
        .layers
        .iter()
        .map(|l| l.diff_id.as_str())
        .collect();
    assert_eq!(config["rootfs"]["diff_ids"], serde_json::json!(want));
}

// ----------------------------------------------------------------- faults

/// A one-layer image big enough for a cut in the middle of the layer.
pub(crate) fn one_big_layer(seed_n: u64) -> ImageSpec {
    ImageSpec::new(seed_n).layers(&[256 * 1024])
}

#[test]
fn cut_connection_mid_layer_resumes_with_range() {
    let reg = RegistryServer::start(Mode::Open);
    let proxy = Proxy::start(&reg.host());
    let image = seed(&reg.host(), "app/cut:1", one_big_layer(50), None);
    let layer = image.manifests[0].layers[0].blob.clone();
    // The first two blob GETs (config and layer, in either order) are cut
    // after 100 000 bytes: only the layer is that long.
    proxy.inject_n(
        Match::method("GET", Kind::Blob),
        Fault::CutResponseAfter(100_000),
        2,
    );
    let env = env();
    let store = env.scratch("store");
    let reference = format!("{}/app/cut:1", proxy.host());
    let out = hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    let layer_gets: Vec<_> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.ends_with(&layer.digest))
        .collect();
    assert_eq!(layer_gets.len(), 2, "{layer_gets:#?}");
    assert!(layer_gets[0].fault.is_some());
    // 206: the registry answered a Range request, so the download resumed
    // rather than starting over.
    assert_eq!(layer_gets[1].status, 206, "{layer_gets:#?}");
    assert_has_image(&store, &image, &["amd64"]);
    assert_blobs_verified(&store);
    assert!(files_under(&store.join(".hoist/partial")).is_empty());
}

#[test]
fn corrupted_blob_is_rejected_and_nothing_corrupt_is_kept() {
    let reg = RegistryServer::start(Mode::Open);
    let proxy = Proxy::start(&reg.host());
    let image = seed(&reg.host(), "app/bad:1", one_big_layer(51), None);
    let layer = image.manifests[0].layers[0].blob.clone();
    // Past the end of the config, so only the layer is hit.
    proxy.inject_n(
        Match::method("GET", Kind::Blob),
        Fault::FlipResponseByte(50_000),
        2,
    );
    let env = env();
    let store = env.scratch("store");
    let reference = format!("{}/app/bad:1", proxy.host());
    let out = hoist_pull(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(err.contains(&layer.digest), "expected digest named: {err}");
    let hexes: Vec<&str> = err
        .split(|c: char| !c.is_ascii_hexdigit())
        .filter(|w| w.len() == 64)
        .collect();
    assert!(
        hexes.iter().any(|h| !layer.digest.ends_with(h)),
        "the actual digest is named too: {err}"
    );
    assert!(!blob_path(&store, &layer.digest).exists());
    assert_blobs_verified(&store);
    let partial = files_under(&store.join(".hoist/partial"));
    assert!(
        partial
            .iter()
            .all(|p| !p.contains(layer.digest.strip_prefix("sha256:").unwrap())),
        "{partial:?}"
    );
    // No image entry for a failed pull.
    assert!(index_entries(&store)
        .iter()
        .all(|(n, _)| n.as_deref() != Some(reference.as_str())));

    // Nothing left behind poisons the next try.
    let out = hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_has_image(&store, &image, &["amd64"]);
}

#[test]
fn server_error_once_is_retried() {
    let reg = RegistryServer::start(Mode::Open);
    let proxy = Proxy::start(&reg.host());
    let image = seed(&reg.host(), "app/flaky:1", ImageSpec::new(52), None);
    proxy.inject(Match::method("GET", Kind::Blob), Fault::status(503));
    proxy.inject(Match::method("GET", Kind::Manifest), Fault::status(503));
    let env = env();
    let store = env.scratch("store");
    let reference = format!("{}/app/flaky:1", proxy.host());
    let out = hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_eq!(proxy.pending_faults(), 0);
    let statuses: Vec<u16> = proxy.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 503).count(), 2);
    assert_has_image(&store, &image, &["amd64"]);
}

#[test]
fn server_errors_forever_fail_with_what_and_where() {
    let reg = RegistryServer::start(Mode::Open);
    let proxy = Proxy::start(&reg.host());
    let image = seed(&reg.host(), "app/down:1", ImageSpec::new(53), None);
    let config = image.manifests[0].config.digest.clone();
    proxy.inject_n(Match::method("GET", Kind::Blob), Fault::status(503), 1000);
    let env = env();
    let store = env.scratch("store");
    let reference = format!("{}/app/down:1", proxy.host());
    let out = hoist_pull(
        &env,
        &[&reference, "--store", path_str(&store), "--jobs", "1"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("503"), "{err}");
    assert!(err.contains(&config), "{err}");
    let tries = proxy.count("GET", Kind::Blob);
    assert!((2..=10).contains(&tries), "bounded retries: {tries}");
}

#[test]
fn too_many_requests_waits_for_retry_after() {
    let reg = RegistryServer::start(Mode::Open);
    let proxy = Proxy::start(&reg.host());
    let image = seed(&reg.host(), "app/busy:1", ImageSpec::new(54), None);
    proxy.inject(Match::method("GET", Kind::Blob), Fault::too_many(1));
    let env = env();
    let store = env.scratch("store");
    let reference = format!("{}/app/busy:1", proxy.host());
    let started = std::time::Instant::now();
    let out = hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_eq!(proxy.pending_faults(), 0);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(950),
        "Retry-After honoured: {:?}",
        started.elapsed()
    );
    assert_has_image(&store, &image, &["amd64"]);
}

#[test]
fn token_rejected_mid_pull_gets_a_new_token() {
    let issuer = TokenIssuer::start(IssuerConfig::default().user("bob", "pw").allow(
        "bob",
        "*",
        &["*"],
    ));
    let reg = RegistryServer::start(Mode::Token(&issuer));
    let proxy = Proxy::start(&reg.host());
    let image = seed(
        &reg.host(),
        "team/expiring:1",
        ImageSpec::new(55),
        Some(("bob", "pw")),
    );
    issuer.clear_requests();
    let challenge = format!(
        r#"Bearer realm="{}",service="{}",scope="repository:team/expiring:pull",error="invalid_token""#,
        issuer.realm(),
        issuer.service()
    );
    proxy.inject(
        Match::method("GET", Kind::Blob),
        Fault::Status {
            status: 401,
            headers: vec![("WWW-Authenticate".into(), challenge)],
            body: r#"{"errors":[{"code":"UNAUTHORIZED","message":"token expired"}]}"#.into(),
        },
    );
    let env = env();
    docker_config_with(&env, &proxy.host(), "bob", "pw");
    let store = env.scratch("store");
    let reference = format!("{}/team/expiring:1", proxy.host());
    let out = hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_eq!(proxy.pending_faults(), 0);
    assert_eq!(issuer.request_count(), 2, "{:#?}", issuer.requests());
    // The pull went on; it did not start over.
    assert_eq!(proxy.count("GET", Kind::Manifest), 1);
    assert_eq!(proxy.count("GET", Kind::Blob), 4);
    assert_has_image(&store, &image, &["amd64"]);
}

#[test]
fn expired_token_from_the_issuer_is_replaced() {
    // The issuer hands out a token already expired: the registry rejects
    // it on first use, hoist asks again once (getting a good one) and
    // finishes the pull.
    let issuer = TokenIssuer::start(IssuerConfig::default().user("bob", "pw").allow(
        "bob",
        "*",
        &["*"],
    ));
    let reg = RegistryServer::start(Mode::Token(&issuer));
    let image = seed(
        &reg.host(),
        "team/old:1",
        ImageSpec::new(56),
        Some(("bob", "pw")),
    );
    let env = env();
    docker_config_with(&env, &reg.host(), "bob", "pw");
    let store = env.scratch("store");
    let reference = format!("{}/team/old:1", reg.host());
    issuer.set_issue_expired(true);
    let out = hoist_pull(&env, &[&reference, "--store", path_str(&store)]);
    // Every token is expired: must fail, not loop.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(issuer.request_count() <= 3, "{:#?}", issuer.requests());
    issuer.set_issue_expired(false);
    let out = hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
}

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

// --------------------------------------------------------------- redirect

/// What the stand-in object store saw for one request.
#[derive(Clone, Debug)]
struct ObjectRequest {
    path: String,
    authorization: Option<String>,
}

/// A minimal HTTP/1.1 server standing in for the object storage registries
/// send blob downloads to: serves `/objects/<hex>` from a blob directory and
/// records each request's Authorization header.
struct ObjectStore {
    port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<ObjectRequest>>>,
}

impl ObjectStore {
    fn start(blobs: PathBuf) -> ObjectStore {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        // Detached: ends with the test process; each connection is one request.
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                let mut authorization = None;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':') {
                        if k.eq_ignore_ascii_case("authorization") {
                            authorization = Some(v.trim().to_string());
                        }
                    }
                }
                seen2.lock().unwrap().push(ObjectRequest {
                    path: path.clone(),
                    authorization,
                });
                let body = path
                    .strip_prefix("/objects/")
                    .and_then(|hex| std::fs::read(blobs.join(hex)).ok());
                let _ = match body {
                    Some(b) => stream
                        .write_all(
                            format!(
                                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                b.len()
                            )
                            .as_bytes(),
                        )
                        .and_then(|_| stream.write_all(&b)),
                    None => stream.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    ),
                };
            }
        });
        ObjectStore { port, seen }
    }

    fn requests(&self) -> Vec<ObjectRequest> {
        self.seen.lock().unwrap().clone()
    }
}

#[test]
fn blob_redirect_is_followed_without_the_registry_authorization() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let proxy = Proxy::start(&reg.host());
    let image = seed(
        &reg.host(),
        "team/redir:1",
        ImageSpec::new(60).layers(&[20_000]),
        Some(("alice", "s3cret")),
    );
    let layer = image.manifests[0].layers[0].blob.digest.clone();
    let hex = layer.strip_prefix("sha256:").unwrap();
    let objects = ObjectStore::start(image.root.join("blobs/sha256"));
    let env = env();
    docker_config_with(&env, &proxy.host(), "alice", "s3cret");
    let store = env.scratch("store");
    let reference = format!("{}/team/redir:1", proxy.host());
    // Everything but the layer is already there, so the one blob GET is
    // the layer's, and the registry answers it with a redirect.
    hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    std::fs::remove_file(blob_path(&store, &layer)).unwrap();
    proxy.inject(
        Match::method("GET", Kind::Blob),
        Fault::Status {
            status: 307,
            headers: vec![(
                "Location".into(),
                format!("http://localhost:{}/objects/{hex}", objects.port),
            )],
            body: String::new(),
        },
    );
    let out = hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_eq!(proxy.pending_faults(), 0);
    let seen = objects.requests();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    assert_eq!(seen[0].path, format!("/objects/{hex}"));
    assert_eq!(seen[0].authorization, None, "registry credentials leaked");
    assert_has_image(&store, &image, &["amd64"]);
    assert_blobs_verified(&store);
}

// ------------------------------------------------------ resume across runs

#[test]
fn interrupted_pull_resumes_the_partial_blob_next_time() {
    let reg = RegistryServer::start(Mode::Open);
    let proxy = Proxy::start(&reg.host());
    let image = seed(&reg.host(), "app/again-later:1", one_big_layer(70), None);
    let layer = image.manifests[0].layers[0].blob.digest.clone();
    // Cut every blob GET after 10 000 bytes, more often than one run
    // resumes: the first pull gives up with part of the layer on disk.
    proxy.inject_n(
        Match::method("GET", Kind::Blob),
        Fault::CutResponseAfter(10_000),
        50,
    );
    let env = env();
    let store = env.scratch("store");
    let reference = format!("{}/app/again-later:1", proxy.host());
    let out = hoist_pull(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains(&layer), "{}", stderr(&out));
    assert!(!blob_path(&store, &layer).exists());
    let partial = files_under(&store.join(".hoist/partial"));
    assert!(!partial.is_empty(), "partial download kept for resuming");

    // The network is fine again (a fresh proxy without faults): the layer
    // continues where it stopped.
    let proxy2 = Proxy::start(&reg.host());
    let reference2 = format!("{}/app/again-later:1", proxy2.host());
    let out = hoist_pull_ok(&env, &[&reference2, "--store", path_str(&store)]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    let layer_gets: Vec<_> = proxy2
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.ends_with(&layer))
        .collect();
    assert_eq!(layer_gets.len(), 1, "{layer_gets:#?}");
    assert_eq!(layer_gets[0].status, 206, "resumed with Range");
    assert_has_image(&store, &image, &["amd64"]);
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
    let mut top: Vec<String> = std::fs::read_dir(&dest)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(top, ["image.tar", "layout"]);
}

// ------------------------------------------------------ manifests and misuse

#[test]
fn manifest_pulled_by_digest_is_verified() {
    let reg = RegistryServer::start(Mode::Open);
    let proxy = Proxy::start(&reg.host());
    let image = seed(&reg.host(), "app/mverify:1", ImageSpec::new(90), None);
    // Inside a JSON string of the pretty-printed manifest: still parses as
    // the same length, but the digest differs.
    proxy.inject(
        Match::method("GET", Kind::Manifest),
        Fault::FlipResponseByte(40),
    );
    let env = env();
    let store = env.scratch("store");
    let reference = format!("{}/app/mverify@{}", proxy.host(), image.digest());
    let out = hoist_pull(&env, &[&reference, "--store", path_str(&store)]);
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
        assert!(
            stderr(&out).contains("MANIFEST_UNKNOWN"),
            "{}",
            stderr(&out)
        );
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
    let reg = RegistryServer::start(Mode::Open);
    let proxy = Proxy::start(&reg.host());
    seed(&reg.host(), "app/ancient:1", ImageSpec::new(91), None);
    proxy.inject(
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
    let env = env();
    let store = env.scratch("store");
    let reference = format!("{}/app/ancient:1", proxy.host());
    let out = hoist_pull(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("schema 1") && err.contains("unsupported"),
        "{err}"
    );
}

#[test]
fn all_platforms_into_a_docker_archive_is_refused_before_downloading() {
    let reg = RegistryServer::start(Mode::Open);
    let proxy = Proxy::start(&reg.host());
    seed(
        &reg.host(),
        "app/manyarch:1",
        ImageSpec::new(92).multi_platform(),
        None,
    );
    let env = env();
    let dest = env.scratch("dest");
    let reference = format!("{}/app/manyarch:1", proxy.host());
    let out = hoist_pull(
        &env,
        &[
            &reference,
            "--platform",
            "all",
            "--output",
            path_str(&dest.join("x.tar")),
        ],
    );
    assert_ne!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("one image") || err.contains("--platform"),
        "{err}"
    );
    assert_eq!(proxy.count("GET", Kind::Blob), 0, "refused up front");
    assert!(files_under(&dest).is_empty(), "{:?}", files_under(&dest));

    // One platform of the same image makes a fine tarball.
    let out = hoist_pull_ok(
        &env,
        &[
            &reference,
            "--platform",
            "linux/arm64",
            "--output",
            path_str(&dest.join("x.tar")),
        ],
    );
    assert!(!stdout(&out).is_empty());
    let mut c = env.skopeo();
    c.arg("inspect")
        .arg(format!("docker-archive:{}", dest.join("x.tar").display()));
    let info: Value = serde_json::from_slice(&run_ok(&mut c, None).stdout).unwrap();
    assert_eq!(info["Architecture"], "arm64");
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
        .map(|_| {
            let mut c = env.hoist();
            c.args(["pull", &reference, "--store", path_str(&store)])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        crate::support::secrets_log::record_output(&out);
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
            let mut c = env.hoist();
            c.args(["pull", "--quiet", reference, "--store", path_str(&store)])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        crate::support::secrets_log::record_output(&out);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    for (reference, image) in &images {
        assert_eq!(entry(&store, reference)["digest"], image.digest());
    }
    assert_eq!(index_entries(&store).len(), images.len());
}

#[test]
fn a_damaged_partial_file_is_downloaded_again() {
    let reg = RegistryServer::start(Mode::Open);
    let proxy = Proxy::start(&reg.host());
    let image = seed(&reg.host(), "app/damaged:1", one_big_layer(110), None);
    let layer = image.manifests[0].layers[0].blob.digest.clone();
    let env = env();
    let store = env.scratch("store");
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
    let reference = format!("{}/app/damaged:1", proxy.host());
    let out = hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    let statuses: Vec<u16> = proxy
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(&layer))
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [206, 200], "resumed, then fetched whole");
    assert_has_image(&store, &image, &["amd64"]);
    assert_blobs_verified(&store);
}

#[test]
fn failed_pull_to_a_tarball_leaves_no_tarball_and_retries_cleanly() {
    let reg = RegistryServer::start(Mode::Open);
    let proxy = Proxy::start(&reg.host());
    let image = seed(&reg.host(), "app/tarfail:1", one_big_layer(111), None);
    proxy.inject_n(
        Match::method("GET", Kind::Blob),
        Fault::FlipResponseByte(50_000),
        2,
    );
    let env = env();
    let dest = env.scratch("dest");
    let tar = dest.join("image.tar");
    let reference = format!("{}/app/tarfail:1", proxy.host());
    let out = hoist_pull(&env, &[&reference, "--output", path_str(&tar)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!tar.exists());
    let out = hoist_pull_ok(&env, &[&reference, "--output", path_str(&tar)]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    let mut names: Vec<String> = std::fs::read_dir(&dest)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["image.tar"]);
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
