//! `hoist push` against real registries: every kind of source (the store, an OCI layout, an
//! OCI archive, a docker-archive, the last three written by skopeo) to open, Basic and token
//! registries, checked by reading the result back with skopeo and with `hoist pull`; mounts,
//! re-pushes and what the user sees. Faults, chunks and memory are in `push_faults.rs`.

use crate::support::images::{push_with_skopeo, remote_manifest_with_skopeo, Format, ImageSpec};
use crate::support::layout::{entry, read_json};
use crate::support::proxy::{Kind, Proxy, Recorded};
use crate::support::registry::{Mode, RegistryServer};
use crate::support::scenario::{
    docker_config_with, env, requests_of, seed, Scenario, Target, USER,
};
use crate::support::sha256_digest;
use crate::support::token_issuer::IssuerConfig;
use crate::support::tools::{
    assert_stderr_has, hoist_push, hoist_push_ok, path_str, run_ok, stderr, stdout, TestEnv,
};
use std::path::{Path, PathBuf};

/// What a registry serves for `reference` is `digest`, for skopeo and for `hoist pull`;
/// returns the OCI layout hoist pulled it into, for checking its blobs.
pub(crate) fn assert_served(
    env: &TestEnv,
    reference: &str,
    digest: &str,
    creds: Option<(&str, &str)>,
) -> PathBuf {
    let raw = remote_manifest_with_skopeo(reference, creds);
    assert_eq!(sha256_digest(&raw), digest, "skopeo inspect {reference}");
    let layout = env.scratch("pulled-back").join(digest.replace(':', "-"));
    let out = run_ok(
        env.hoist()
            .args(["pull", "--quiet", "--platform", "all", reference])
            .arg("--output")
            .arg(&layout),
        None,
    );
    assert_eq!(
        stdout(&out),
        format!("{digest}\n"),
        "hoist pull {reference}"
    );
    layout
}

/// The image in `layout` named `name` has these uncompressed layers, whatever their
/// compression and manifest format: proof the content survived the trip.
pub(crate) fn assert_diff_ids(layout: &Path, name: &str, want: &[&str]) {
    let blob = |digest: &str| layout.join("blobs/sha256").join(&digest[7..]);
    let manifest = read_json(&blob(entry(layout, name)["digest"].as_str().unwrap()));
    let config = read_json(&blob(manifest["config"]["digest"].as_str().unwrap()));
    assert_eq!(config["rootfs"]["diff_ids"], serde_json::json!(want));
    for layer in manifest["layers"].as_array().unwrap() {
        let digest = layer["digest"].as_str().unwrap();
        let bytes = std::fs::read(blob(digest)).unwrap();
        assert_eq!(sha256_digest(&bytes), digest);
    }
}

/// `hoist pull REFERENCE --store STORE`, which must succeed.
fn pull_into(env: &TestEnv, reference: &str, store: &Path) {
    run_ok(
        env.hoist()
            .args(["pull", "--quiet", reference, "--store", path_str(store)]),
        None,
    );
}

fn skopeo_copy(env: &TestEnv, from: &str, to: &str, preserve_digests: bool) {
    let mut c = env.skopeo();
    c.args(["copy", "--quiet", "--src-tls-verify=false"]);
    if preserve_digests {
        c.arg("--preserve-digests");
    }
    run_ok(c.arg(from).arg(to), None);
}

// ---------------------------------------------------------------- sources

/// The same image as every source `--from` takes; the layout and archives written by skopeo.
struct Sources {
    _seed_registry: RegistryServer,
    store: PathBuf,
    /// The image's name in the store (pulled from a registry other than the destination).
    stored: String,
    layout: PathBuf,
    oci_archive: PathBuf,
    docker_archive: PathBuf,
    digest: String,
    diff_ids: Vec<String>,
}

fn sources(env: &TestEnv, seed_n: u64) -> Sources {
    let seed_registry = RegistryServer::start(Mode::Open);
    let image = seed(
        &seed_registry.host(),
        "app/src:1",
        ImageSpec::new(seed_n).layers(&[3000, 50_000]),
        None,
    );
    let stored = format!("{}/app/src:1", seed_registry.host());
    let store = env.scratch("store");
    pull_into(env, &stored, &store);
    let work = env.scratch("sources");
    let (layout, oci_archive, docker_archive) = (
        work.join("layout"),
        work.join("image.oci.tar"),
        work.join("image.docker.tar"),
    );
    let from = format!("docker://{stored}");
    skopeo_copy(env, &from, &format!("oci:{}:app", layout.display()), true);
    skopeo_copy(
        env,
        &from,
        &format!("oci-archive:{}", oci_archive.display()),
        true,
    );
    // A docker-archive holds uncompressed layers: skopeo rewrites the manifest.
    let docker_dest = format!("docker-archive:{}:app/src:1", docker_archive.display());
    skopeo_copy(env, &from, &docker_dest, false);
    Sources {
        _seed_registry: seed_registry,
        store,
        stored,
        layout,
        oci_archive,
        docker_archive,
        digest: image.digest().to_string(),
        diff_ids: image.manifests[0]
            .layers
            .iter()
            .map(|l| l.diff_id.clone())
            .collect(),
    }
}

fn push_every_source(target: Target) {
    let host = target.reg.host();
    let env = target.env_for(&host);
    let src = sources(&env, 1);
    let layout_from = format!("{}:app", src.layout.display());
    let cases: [(&str, &str, bool); 4] = [
        ("store", &src.stored, true),
        ("layout", &layout_from, true),
        ("oci-archive", path_str(&src.oci_archive), true),
        ("docker-archive", path_str(&src.docker_archive), false),
    ];
    let diff_ids: Vec<&str> = src.diff_ids.iter().map(String::as_str).collect();
    for (name, from, same_manifest) in cases {
        let reference = format!("{host}/team/{name}:1");
        if let Some(issuer) = &target.issuer {
            issuer.clear_requests();
        }
        let out = hoist_push_ok(
            &env,
            &[&reference, "--from", from, "--store", path_str(&src.store)],
        );
        if let Some(issuer) = &target.issuer {
            let tokens = issuer.requests();
            assert_eq!(tokens.len(), 1, "one token for the push: {tokens:#?}");
            let scope = format!("repository:team/{name}:pull,push");
            assert_eq!(tokens[0].scopes, [scope]);
            assert_eq!(tokens[0].user.as_deref(), Some(USER.0));
        }
        let digest = stdout(&out).trim_end().to_string();
        if same_manifest {
            assert_eq!(
                digest, src.digest,
                "{name}: the manifest goes up byte for byte"
            );
        }
        let layout = assert_served(&env, &reference, &digest, target.creds);
        assert_diff_ids(&layout, &reference, &diff_ids);
    }
}

#[test]
fn every_source_pushes_to_an_open_registry() {
    push_every_source(Target::open());
}

#[test]
fn every_source_pushes_to_a_basic_auth_registry() {
    push_every_source(Target::basic());
}

#[test]
fn every_source_pushes_to_a_token_registry_with_one_token() {
    push_every_source(Target::token(IssuerConfig::default()));
}

#[test]
fn from_another_reference_pushes_a_stored_image_under_a_new_name() {
    let reg = RegistryServer::start(Mode::Open);
    let image = seed(&reg.host(), "app/orig:1", ImageSpec::new(3), None);
    let env = env();
    let store = env.scratch("store");
    let original = format!("{}/app/orig:1", reg.host());
    pull_into(&env, &original, &store);
    // A new tag in the same repository, then a new repository.
    for reference in ["app/orig:2", "app/renamed:1"].map(|r| format!("{}/{r}", reg.host())) {
        let out = hoist_push_ok(
            &env,
            &[&reference, "--from", &original, "--store", path_str(&store)],
        );
        assert_eq!(stdout(&out), format!("{}\n", image.digest()));
        assert_served(&env, &reference, image.digest(), None);
    }
    // A name that is neither a path nor in the store.
    let out = hoist_push(
        &env,
        &[
            &format!("{}/app/x:1", reg.host()),
            "--from",
            &format!("{}/app/never-pulled:1", reg.host()),
            "--store",
            path_str(&store),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_stderr_has(&out, "not in the store");
}

fn multi_platform_case(format: Format) {
    let sc = Scenario::open();
    let proxy = &sc.proxy;
    let image = ImageSpec::new(4)
        .format(format)
        .multi_platform()
        .build("multi");
    let env = &sc.env;
    let reference = sc.reference("app/multi:1");
    let from = format!("{}:multi", image.root.display());
    let out = sc.push_ok(&[&reference, "--from", &from]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    // Every child by digest first, the index under the tag last.
    let puts: Vec<String> = requests_of(proxy, "PUT", Kind::Manifest)
        .into_iter()
        .map(|r| r.path.rsplit('/').next().unwrap().to_string())
        .collect();
    let mut children: Vec<String> = puts[..puts.len() - 1].to_vec();
    children.sort();
    let mut want: Vec<String> = image
        .manifests
        .iter()
        .map(|m| m.blob.digest.clone())
        .collect();
    want.sort();
    assert_eq!(
        (children, puts.last().unwrap().as_str()),
        (want, "1"),
        "{puts:?}"
    );
    let remote = remote_manifest_with_skopeo(&reference, None);
    assert_eq!(&remote, image.index_bytes.as_ref().unwrap());
    for m in &image.manifests {
        let by_digest = format!("{}/app/multi@{}", proxy.host(), m.blob.digest);
        assert_eq!(remote_manifest_with_skopeo(&by_digest, None), m.bytes);
    }
    let layout = assert_served(env, &reference, image.digest(), None);
    for m in &image.manifests {
        for l in &m.layers {
            let bytes = std::fs::read(layout.join("blobs/sha256").join(&l.blob.digest[7..]));
            assert_eq!(sha256_digest(&bytes.unwrap()), l.blob.digest);
        }
    }
}

#[test]
fn oci_index_pushes_every_child_then_the_index() {
    multi_platform_case(Format::Oci);
}

#[test]
fn docker_manifest_list_pushes_every_child_then_the_list() {
    multi_platform_case(Format::Docker);
}

// ------------------------------------------------------------ permissions

/// Pushes as `reader`, who may only pull under `team/`, and checks the refusal.
fn refused_push(repository: &str) -> String {
    let target = Target::token(IssuerConfig::default().user("reader", "pw").allow(
        "reader",
        "team/*",
        &["pull"],
    ));
    let host = target.reg.host();
    let env = env();
    docker_config_with(&env, &host, "reader", "pw");
    let image = ImageSpec::new(5).build("img");
    let digest_file = env.scratch("out").join("digest");
    let out = hoist_push(
        &env,
        &[
            &format!("{host}/{repository}:1"),
            "--from",
            &format!("{}:img", image.root.display()),
            "--digest-file",
            path_str(&digest_file),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert!(!digest_file.exists());
    let err = stderr(&out);
    assert!(
        err.contains(&format!("run: hoist login {host}")),
        "what to do: {err}"
    );
    assert!(
        err.contains(&format!("may not push to {host}/{repository}")),
        "what is wrong: {err}"
    );
    err
}

#[test]
fn push_with_pull_access_only_says_what_the_registry_said_and_what_to_do() {
    let err = refused_push("team/app");
    assert!(
        err.contains("authentication required"),
        "registry's message: {err}"
    );
    assert!(
        err.contains("insufficient_scope"),
        "registry's reason: {err}"
    );
}

#[test]
fn push_to_a_repository_out_of_reach_names_the_missing_access() {
    // The first request is a HEAD, whose answer has no body: the reason is in the challenge.
    let err = refused_push("elsewhere/app");
    assert!(
        err.contains("insufficient_scope"),
        "registry's reason: {err}"
    );
}

// ----------------------------------------------------------------- mounts

/// `team/src:1` on a token registry behind a proxy, pulled into a store by `puller`.
fn pulled_into_store(target: &Target, proxy: &Proxy, repo: &str, puller: (&str, &str)) -> TestEnv {
    let image = ImageSpec::new(6).layers(&[2000, 30_000]).build("m");
    push_with_skopeo(
        &image,
        &format!("{}/{repo}:1", target.reg.host()),
        Some(puller),
    );
    let env = env();
    docker_config_with(&env, &proxy.host(), puller.0, puller.1);
    let store = env.scratch("store");
    let reference = format!("{}/{repo}:1", proxy.host());
    pull_into(&env, &reference, &store);
    env.env("HOIST_STORE", path_str(&store))
}

#[test]
fn stored_image_is_mounted_from_the_repository_it_came_from() {
    let target = Target::token(IssuerConfig::default());
    let proxy = Proxy::start(&target.reg.host());
    let env = pulled_into_store(&target, &proxy, "team/src", USER);
    let issuer = target.issuer.as_ref().unwrap();
    issuer.clear_requests();
    proxy.clear();
    let from = format!("{}/team/src:1", proxy.host());
    let reference = format!("{}/team/dst:1", proxy.host());
    let out = hoist_push_ok(&env, &[&reference, "--from", &from]);
    let digest = stdout(&out).trim_end().to_string();
    let mounts = requests_of(&proxy, "POST", Kind::Upload);
    assert_eq!(mounts.len(), 3, "config and two layers: {mounts:#?}");
    assert!(
        mounts
            .iter()
            .all(|r| r.path.contains("mount=") && r.status == 201),
        "{mounts:#?}"
    );
    assert_eq!(requests_of(&proxy, "PATCH", Kind::Upload).len(), 0);
    assert_eq!(requests_of(&proxy, "PUT", Kind::Upload).len(), 0);
    let err = stderr(&out);
    assert_eq!(err.matches("Mounted from team/src").count(), 3, "{err}");
    // One token, covering the push and the pull the mounts need.
    let tokens = issuer.requests();
    assert_eq!(tokens.len(), 1, "{tokens:#?}");
    let mut scopes = tokens[0].scopes.clone();
    scopes.sort();
    assert_eq!(
        scopes,
        ["repository:team/dst:pull,push", "repository:team/src:pull"]
    );
    assert_served(&env, &reference, &digest, target.creds);
}

#[test]
fn refused_mount_falls_back_to_an_upload() {
    // The image lives in other/src, which alice may not read: the registry refuses the
    // mount (she holds no pull on the source), and the blobs are uploaded instead.
    let target = Target::token(IssuerConfig::default().user("admin", "pw").allow(
        "admin",
        "*",
        &["*"],
    ));
    let proxy = Proxy::start(&target.reg.host());
    let env = pulled_into_store(&target, &proxy, "other/src", ("admin", "pw"));
    docker_config_with(&env, &proxy.host(), USER.0, USER.1);
    proxy.clear();
    let from = format!("{}/other/src:1", proxy.host());
    let reference = format!("{}/team/dst:1", proxy.host());
    let issuer = target.issuer.as_ref().unwrap();
    issuer.clear_requests();
    let out = hoist_push_ok(&env, &[&reference, "--from", &from]);
    let digest = stdout(&out).trim_end().to_string();
    let posts = requests_of(&proxy, "POST", Kind::Upload);
    let refused = posts.iter().filter(|r| r.path.contains("mount=")).count();
    assert!(refused >= 3, "a mount tried per blob: {posts:#?}");
    assert!(
        posts.iter().all(|r| r.status != 201),
        "nothing mounted: {posts:#?}"
    );
    let puts = requests_of(&proxy, "PUT", Kind::Upload);
    assert_eq!(puts.len(), 3, "{puts:#?}");
    assert!(puts.iter().all(|r| r.status == 201), "{puts:#?}");
    let err = stderr(&out);
    assert!(!err.contains("Mounted"), "{err}");
    assert!(!err.to_lowercase().contains("warning"), "{err}");
    // The refusal's challenge names both repositories in one `scope`; asking again must
    // name each once, not a garbled scope the token service reads as repeats.
    for token in issuer.requests() {
        let mut scopes = token.scopes.clone();
        scopes.sort();
        scopes.dedup();
        assert_eq!(scopes.len(), token.scopes.len(), "{:?}", token.scopes);
        assert_eq!(
            scopes,
            ["repository:other/src:pull", "repository:team/dst:pull,push"]
        );
    }
    assert_served(&env, &reference, &digest, target.creds);
}

// ------------------------------------------------------------- re-pushing

#[test]
fn pushing_an_unchanged_image_again_uploads_nothing() {
    let sc = Scenario::open();
    let proxy = &sc.proxy;
    let image = ImageSpec::new(7).build("img");
    let env = &sc.env;
    let from = format!("{}:img", image.root.display());
    let reference = sc.reference("app/same:1");
    sc.push_ok(&[&reference, "--from", &from]);
    let uploads = |p: &Proxy| -> Vec<Recorded> {
        p.requests()
            .into_iter()
            .filter(|r| r.kind == Kind::Upload || (r.kind == Kind::Manifest && r.method == "PUT"))
            .collect()
    };

    // The tag already points at this digest: one round trip, the manifest's HEAD beside the
    // blobs' (issue 15), and nothing uploaded.
    proxy.clear();
    let out = sc.push_ok(&[&reference, "--from", &from]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert!(uploads(proxy).is_empty(), "{:#?}", proxy.requests());
    assert_eq!(proxy.count("HEAD", Kind::Blob), 3);
    assert_eq!(proxy.count("HEAD", Kind::Manifest), 1);
    let err = stderr(&out);
    assert_eq!(err.matches("Layer already exists").count(), 3, "{err}");
    assert!(err.contains("up to date"), "{err}");

    // A new tag: each blob is found by HEAD, and only the manifest goes up.
    proxy.clear();
    let retag = sc.reference("app/same:2");
    let out = sc.push_ok(&[&retag, "--from", &from]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    let sent = uploads(proxy);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert!(sent[0].path.ends_with("/manifests/2"), "{sent:#?}");
    assert_eq!(proxy.count("HEAD", Kind::Blob), 3);
    assert_eq!(stderr(&out).matches("Layer already exists").count(), 3);

    // From the store under its own name (no --from): up to date as well.
    let store = &sc.store;
    pull_into(env, &reference, store);
    proxy.clear();
    let out = sc.push_ok(&[&reference, "--store", path_str(store)]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert!(uploads(proxy).is_empty(), "{:#?}", proxy.requests());
}

// ----------------------------------------------------------------- output

#[test]
fn plain_status_lines_quiet_and_digest_file() {
    let reg = RegistryServer::start(Mode::Open);
    let image = ImageSpec::new(8).build("img");
    let env = env();
    let from = format!("{}:img", image.root.display());
    let digest_file = env.scratch("out").join("digest");
    let reference = format!("{}/app/shown:1", reg.host());
    let out = hoist_push_ok(
        &env,
        &[
            &reference,
            "--from",
            &from,
            "--digest-file",
            path_str(&digest_file),
        ],
    );
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_eq!(
        std::fs::read_to_string(&digest_file).unwrap(),
        format!("{}\n", image.digest())
    );
    let err = stderr(&out);
    assert!(
        !err.contains('\x1b') && !err.contains('\r'),
        "plain lines: {err:?}"
    );
    let m = &image.manifests[0];
    for blob in std::iter::once(&m.config).chain(m.layers.iter().map(|l| &l.blob)) {
        let line = format!("{}: Pushed", &blob.digest[7..19]);
        assert!(err.lines().any(|l| l.starts_with(&line)), "{line} in {err}");
    }
    assert!(
        err.lines().any(|l| l == format!("Pushed {reference}")),
        "{err}"
    );

    let quiet = hoist_push_ok(
        &env,
        &[
            "--quiet",
            &format!("{}/app/shown:2", reg.host()),
            "--from",
            &from,
        ],
    );
    assert_eq!(stdout(&quiet), format!("{}\n", image.digest()));
    assert_eq!(stderr(&quiet), "");
}
