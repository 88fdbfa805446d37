//! `hoist copy`: between a Basic and a token registry (different accounts), within one
//! registry (mounts), one platform, re-copying an unchanged image, and `push --tag`.

use super::{json_of, outcomes, token_target, worked_requests, Pair};
use crate::support::images::{remote_manifest_with_skopeo, ImageSpec};
use crate::support::issuer_config::IssuerConfig;
use crate::support::proxy::Kind;
use crate::support::scenario::Scenario;
use crate::support::sha256_digest;
use crate::support::tools::{assert_exit, path_str, stderr, stdout};

#[test]
fn copy_between_a_basic_and_a_token_registry_keeps_the_index_digest_and_tags() {
    let pair = Pair::new(IssuerConfig::default());
    let image = pair
        .src
        .seed("team/app:1.4.2", ImageSpec::new(40).multi_platform());
    let (from, to) = (
        pair.src.reference("team/app:1.4.2"),
        pair.dst.reference("team/app:1.4.2"),
    );
    let out = pair.hoist(&[
        "copy", &from, &to, "--tag", "stable", "-t", "prod", "--json",
    ]);
    assert_exit(&out, 0);
    let json = json_of(&out);
    assert_eq!(json["digest"], image.digest(), "the index's digest is kept");
    assert_eq!(json["unchanged"], false);
    assert_eq!(json["tags"], serde_json::json!(["stable", "prod"]));
    let blobs = outcomes(&json);
    let expected: usize = image.manifests.iter().map(|m| 1 + m.layers.len()).sum();
    assert_eq!(
        blobs.len(),
        expected,
        "a config each and their layers: {json}"
    );
    assert!(blobs.iter().all(|o| o == "copied"), "{json}");
    // skopeo reads the copy, under every tag, with the destination's account.
    let creds = pair.dst.target.creds;
    for tag in ["1.4.2", "stable", "prod"] {
        let raw =
            remote_manifest_with_skopeo(&pair.dst.reference(&format!("team/app:{tag}")), creds);
        assert_eq!(sha256_digest(&raw), image.digest(), "{tag}");
    }
    // Each side got its own account: the token service saw only bob, and the Basic
    // registry's proxy saw no request that a token would answer.
    let tokens = pair.dst.target.issuer().requests();
    assert!(!tokens.is_empty());
    assert!(
        tokens.iter().all(|t| t.user.as_deref() == Some("bob")),
        "{tokens:#?}"
    );
    // Blobs never went through a disk: the source served each exactly once.
    assert_eq!(pair.src.proxy.count("GET", Kind::Blob), expected);
}

#[test]
fn re_copying_an_unchanged_image_makes_two_requests() {
    let pair = Pair::new(IssuerConfig::default());
    let image = pair
        .src
        .seed("team/app:1", ImageSpec::new(41).multi_platform());
    let (from, to) = (
        pair.src.reference("team/app:1"),
        pair.dst.reference("team/app:1"),
    );
    assert_exit(&pair.hoist(&["copy", &from, &to, "--quiet"]), 0);
    pair.src.proxy.clear();
    pair.dst.proxy.clear();
    let file = pair.env.scratch("out").join("digest.txt");
    let out = pair.hoist(&[
        "copy",
        &from,
        &to,
        "--json",
        "--digest-file",
        path_str(&file),
    ]);
    assert_exit(&out, 0);
    let json = json_of(&out);
    assert_eq!(json["digest"], image.digest());
    assert_eq!(json["unchanged"], true);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        format!("{}\n", image.digest())
    );
    let worked: Vec<_> = worked_requests(&pair.src)
        .into_iter()
        .chain(worked_requests(&pair.dst))
        .collect();
    assert_eq!(worked.len(), 2, "a HEAD on each side: {worked:#?}");
    assert!(worked
        .iter()
        .all(|r| r.method == "HEAD" && r.kind == Kind::Manifest));
    assert!(stderr(&out).contains("is up to date"), "{}", stderr(&out));
}

#[test]
fn copy_within_one_registry_mounts_every_blob_with_one_token() {
    let sc = Scenario::new(token_target(IssuerConfig::default()));
    let image = sc.seed("team/staging:1", ImageSpec::new(42).layers(&[3000, 70_000]));
    sc.target.issuer().clear_requests();
    let out = sc.hoist(&[
        "cp",
        &sc.reference("team/staging:1"),
        &sc.reference("team/prod:1"),
        "--json",
    ]);
    assert_exit(&out, 0);
    let json = json_of(&out);
    assert_eq!(json["digest"], image.digest());
    let blobs = outcomes(&json);
    assert_eq!(blobs, ["mounted"; 3], "{json}");
    assert_eq!(json["blobs"][0]["mountedFrom"], "team/staging");
    assert_eq!(sc.proxy.count("GET", Kind::Blob), 0, "no byte moved");
    assert_eq!(sc.proxy.count("PUT", Kind::Upload), 0);
    let tokens = sc.target.issuer().requests();
    assert_eq!(
        tokens.len(),
        1,
        "one token for both repositories: {tokens:#?}"
    );
    let mut scopes = tokens[0].scopes.clone();
    scopes.sort();
    assert_eq!(
        scopes,
        [
            "repository:team/prod:pull,push",
            "repository:team/staging:pull"
        ]
    );
    let raw = remote_manifest_with_skopeo(&sc.reference("team/prod:1"), sc.target.creds);
    assert_eq!(sha256_digest(&raw), image.digest());
}

#[test]
fn platform_copies_one_image_and_says_its_digest_is_not_the_index() {
    let pair = Pair::new(IssuerConfig::default());
    let image = pair
        .src
        .seed("team/multi:1", ImageSpec::new(43).multi_platform());
    let arm = image
        .manifests
        .iter()
        .find(|m| m.platform.1 == "arm64")
        .unwrap();
    let out = pair.hoist(&[
        "copy",
        &pair.src.reference("team/multi:1"),
        &pair.dst.reference("team/arm:1"),
        "--platform",
        "linux/arm64",
    ]);
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), format!("{}\n", arm.blob.digest));
    let err = stderr(&out);
    assert!(err.contains("linux/arm64 image alone"), "{err}");
    assert!(err.contains(image.digest()), "names the index: {err}");
    // Each blob's line says what happened to it: copied across, not pushed from here.
    let config = &arm.config.digest["sha256:".len()..][..12];
    assert!(err.contains(&format!("{config}: Copied ")), "{err}");
    assert!(!err.contains("Pushed"), "{err}");
    let raw = remote_manifest_with_skopeo(&pair.dst.reference("team/arm:1"), pair.dst.target.creds);
    assert_eq!(raw, arm.bytes);
    // Only that platform's blobs moved.
    assert_eq!(
        pair.src.proxy.count("GET", Kind::Blob),
        1 + arm.layers.len()
    );
}

#[test]
fn push_with_tags_uploads_once_and_puts_the_manifest_per_tag() {
    let sc = Scenario::open();
    let image = ImageSpec::new(44).build("img");
    let from = format!("{}:img", image.root.display());
    let out = sc.push_ok(&[
        &sc.reference("app/multi:1"),
        "--from",
        &from,
        "--tag",
        "2",
        "-t",
        "latest",
    ]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_eq!(sc.proxy.count("PUT", Kind::Upload), 3);
    let puts: Vec<String> = sc
        .requests_of("PUT", Kind::Manifest)
        .into_iter()
        .map(|r| r.path.rsplit('/').next().unwrap().to_string())
        .collect();
    assert_eq!(puts, ["1", "2", "latest"]);
    for tag in ["1", "2", "latest"] {
        let raw = remote_manifest_with_skopeo(&sc.reference(&format!("app/multi:{tag}")), None);
        assert_eq!(sha256_digest(&raw), image.digest());
    }
}

#[test]
fn bad_tags_and_destinations_are_usage_errors_before_any_request() {
    let sc = Scenario::open();
    let (from, to) = (sc.reference("app/a:1"), sc.reference("app/b:1"));
    for args in [
        vec!["copy", &from, &to, "--tag", "no/slash"],
        vec!["copy", &from, &to, "--platform", "all"],
        vec!["copy", &from, &from],
        vec!["copy", &from, "127.0.0.1:1/app/b@sha256:0000000000000000000000000000000000000000000000000000000000000000"],
        vec!["tag", &from, "bad:tag"],
    ] {
        let out = sc.hoist(&args);
        assert_exit(&out, 2);
    }
    assert!(sc.proxy.requests().is_empty());
}

#[test]
fn a_source_that_refuses_the_pull_is_named_as_the_side_to_check() {
    // bob may use team/* on the token registry, not secret/*: admin put the image there.
    const ADMIN: (&str, &str) = ("admin", "adm1n-pw");
    let config =
        IssuerConfig::default()
            .user(ADMIN.0, ADMIN.1)
            .allow(ADMIN.0, "*", &["pull", "push"]);
    let src = Scenario::new(token_target(config));
    crate::support::scenario::seed(
        &src.reg().host(),
        "secret/app:1",
        ImageSpec::new(45),
        Some(ADMIN),
    );
    let pair = Pair::of(
        src,
        Scenario::new(crate::support::scenario::Target::basic()),
    );
    let out = pair.hoist(&[
        "copy",
        &pair.src.reference("secret/app:1"),
        &pair.dst.reference("team/app:1"),
    ]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("you may not pull"), "{err}");
    assert!(!err.contains("you may not push"), "{err}");
    assert_eq!(pair.dst.proxy.count("PUT", Kind::Manifest), 0);
}
