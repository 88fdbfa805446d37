//! Pulling from each kind of registry, into the store, and the store and layouts
//! skopeo reads back.

use crate::support::files_under;
use crate::support::images::{Format, ImageSpec};
use crate::support::layout::{
    assert_blobs_verified, assert_has_image, entry, index_entries, read_json,
};
use crate::support::proxy::Kind;
use crate::support::registry::{Mode, RegistryServer};
use crate::support::scenario::{docker_config_with, env, seed, Scenario};
use crate::support::token_issuer::{IssuerConfig, TokenIssuer};
use crate::support::tools::{hoist_pull, hoist_pull_ok, path_str, run_ok, stderr, stdout};
use serde_json::Value;

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

// ------------------------------------------------------------------ store

#[test]
fn pulling_again_replaces_the_entry_and_downloads_nothing() {
    let sc = Scenario::open();
    let proxy = &sc.proxy;
    let first = sc.seed("app/again:1", ImageSpec::new(20));
    let store = &sc.store;
    let reference = sc.reference("app/again:1");
    sc.pull_ok(&[&reference, "--store", path_str(store)]);
    assert_eq!(proxy.count("GET", Kind::Blob), 3);

    proxy.clear();
    let out = sc.pull_ok(&[&reference, "--store", path_str(store)]);
    assert_eq!(stdout(&out), format!("{}\n", first.digest()));
    assert_eq!(proxy.count("GET", Kind::Blob), 0, "{:#?}", proxy.requests());
    assert_eq!(index_entries(store).len(), 1);
    assert_eq!(entry(store, &reference)["digest"], first.digest());

    // The tag moves: the entry follows, still only one of that name.
    let second = sc.seed("app/again:1", ImageSpec::new(21));
    let out = sc.pull_ok(&[&reference, "--store", path_str(store)]);
    assert_eq!(stdout(&out), format!("{}\n", second.digest()));
    assert_eq!(index_entries(store).len(), 1, "{:#?}", index_entries(store));
    assert_eq!(entry(store, &reference)["digest"], second.digest());
    assert_has_image(store, &second, &["amd64"]);
}

#[test]
fn images_share_blobs_in_the_store() {
    let sc = Scenario::open();
    let proxy = &sc.proxy;
    // Same seed: the first layer is identical, configs differ.
    let a = sc.seed("app/a:1", ImageSpec::new(30).layers(&[5000]));
    let b = sc.seed("app/b:1", ImageSpec::new(30).layers(&[5000, 6000]));
    let shared = &a.manifests[0].layers[0].blob.digest;
    assert_eq!(shared, &b.manifests[0].layers[0].blob.digest);

    let store = &sc.store;
    let ra = sc.reference("app/a:1");
    let rb = sc.reference("app/b:1");
    sc.pull_ok(&[&ra, "--store", path_str(store)]);
    proxy.clear();
    sc.pull_ok(&[&rb, "--store", path_str(store)]);
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
    assert_eq!(index_entries(store).len(), 2);
    assert_eq!(entry(store, &ra)["digest"], a.digest());
    assert_eq!(entry(store, &rb)["digest"], b.digest());
    assert_has_image(store, &a, &["amd64"]);
    assert_has_image(store, &b, &["amd64"]);
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
