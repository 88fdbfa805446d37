//! `hoist copy` when things go wrong mid-way: interrupted and run again, a token that
//! expires during the copy, a destination whose proxy refuses whole-blob bodies (413).

use super::{json_of, outcomes, Pair};
use crate::support::images::{remote_manifest_with_skopeo, ImageSpec};
use crate::support::issuer_config::IssuerConfig;
use crate::support::proxy::{Fault, Kind, Match, Recorded};
use crate::support::sha256_digest;
use crate::support::tools::{assert_exit, spawn_hoist, stderr};
use std::time::Duration;

#[test]
fn an_interrupted_copy_is_resumed_by_running_it_again() {
    let pair = Pair::new(IssuerConfig::default());
    let image = pair
        .src
        .seed("team/app:1", ImageSpec::new(50).layers(&[2000, 60_000]));
    let (from, to) = (
        pair.src.reference("team/app:1"),
        pair.dst.reference("team/app:1"),
    );
    // One blob at a time: the config and the first layer go up, the second layer's upload
    // stalls, and Ctrl-C lands there.
    pair.dst.proxy.inject(
        Match::method("PUT", Kind::Upload).skip(2),
        Fault::HoldRequest,
    );
    let child = spawn_hoist(&pair.env, &["copy", &from, &to, "--jobs", "1"]);
    assert!(
        pair.dst.proxy.wait_for_hold(),
        "the copy reached the stalled upload"
    );
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    crate::support::secrets_log::record_output(&out);
    assert_exit(&out, 130);
    assert!(
        stderr(&out).contains("interrupted: 2 blobs finished"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        pair.dst.proxy.count("PUT", Kind::Manifest),
        0,
        "no manifest yet"
    );

    let out = pair.hoist(&["copy", &from, &to, "--jobs", "1", "--json"]);
    assert_exit(&out, 0);
    let json = json_of(&out);
    assert_eq!(json["digest"], image.digest());
    assert_eq!(
        outcomes(&json),
        ["already-exists", "already-exists", "copied"]
    );
    let raw = remote_manifest_with_skopeo(&to, pair.dst.target.creds);
    assert_eq!(sha256_digest(&raw), image.digest());
}

#[test]
fn a_token_expiring_mid_copy_is_replaced() {
    // The destination's tokens live 10 s; the layer's POST answers only after that, so the
    // token is renewed before its PUT, and the renewed one comes already expired: the
    // registry refuses it and hoist must get another and carry on.
    let config = IssuerConfig::default().lifetime(10).expire_token(2);
    let pair = Pair::new(config);
    let image = pair
        .src
        .seed("team/app:2", ImageSpec::new(51).layers(&[4_000_000]));
    pair.dst.proxy.inject(
        Match::method("POST", Kind::Upload).skip(1),
        Fault::Delay(Duration::from_millis(10_500)),
    );
    let (from, to) = (
        pair.src.reference("team/app:2"),
        pair.dst.reference("team/app:2"),
    );
    let out = pair.hoist(&["copy", &from, &to, "--jobs", "1"]);
    assert_exit(&out, 0);
    assert_eq!(
        pair.dst.target.issuer().request_count(),
        3,
        "renewed, refused, again"
    );
    let refused: Vec<Recorded> = pair.dst.proxy.requests()[1..]
        .iter()
        .filter(|r| r.status == 401)
        .cloned()
        .collect();
    assert!(
        !refused.is_empty() && refused.iter().all(|r| r.kind == Kind::Upload),
        "{refused:#?}"
    );
    let raw = remote_manifest_with_skopeo(&to, pair.dst.target.creds);
    assert_eq!(sha256_digest(&raw), image.digest());
}

#[test]
fn a_destination_refusing_whole_blobs_gets_them_in_chunks() {
    const LIMIT: u64 = 1 << 20;
    let pair = Pair::new(IssuerConfig::default());
    let image = pair
        .src
        .seed("team/app:3", ImageSpec::new(52).layers(&[3_000_000]));
    pair.dst.proxy.set_body_limit(LIMIT);
    let (from, to) = (
        pair.src.reference("team/app:3"),
        pair.dst.reference("team/app:3"),
    );
    let out = pair.hoist(&["copy", &from, &to, "--jobs", "1"]);
    assert_exit(&out, 0);
    let refused: Vec<Recorded> = pair
        .dst
        .proxy
        .requests()
        .into_iter()
        .filter(|r| r.status == 413)
        .collect();
    assert_eq!(
        refused.len(),
        2,
        "the whole layer, then half of it: {refused:#?}"
    );
    assert!(pair.dst.proxy.count("PATCH", Kind::Upload) >= 4);
    let raw = remote_manifest_with_skopeo(&to, pair.dst.target.creds);
    assert_eq!(sha256_digest(&raw), image.digest());
    // skopeo copies it back out whole: every blob is intact.
    let env = &pair.env;
    let dir = env.scratch("copied-back");
    let (user, pass) = pair.dst.target.creds.unwrap();
    let mut skopeo = env.skopeo();
    skopeo.args(["copy", "--quiet", "--src-tls-verify=false", "--src-creds"]);
    skopeo.arg(format!("{user}:{pass}"));
    skopeo
        .arg(format!("docker://{to}"))
        .arg(format!("oci:{}:x", dir.display()));
    crate::support::tools::run_ok(&mut skopeo, None);
}
