//! Pulls through the fault proxy: cut, corrupted, failing and throttled downloads, and
//! tokens that expire mid-pull.

use super::one_big_layer;
use crate::runs::gets_of;
use crate::support::files_under;
use crate::support::images::ImageSpec;
use crate::support::layout::{assert_blobs_verified, assert_has_image, blob_path, index_entries};
use crate::support::proxy::{Fault, Kind, Match};
use crate::support::registry::{Mode, RegistryServer};
use crate::support::scenario::{docker_config_with, env, seed, Scenario, Target};
use crate::support::token_issuer::{IssuerConfig, TokenIssuer};
use crate::support::tools::{
    assert_stderr_has, hoist_pull, hoist_pull_ok, path_str, stderr, stdout,
};

// ----------------------------------------------------------------- faults

#[test]
fn cut_connection_mid_layer_resumes_with_range() {
    let sc = Scenario::open();
    let image = sc.seed("app/cut:1", one_big_layer(50));
    let layer = image.manifests[0].layers[0].blob.clone();
    // The layer's first GET is cut after 100 000 bytes. Matched by path: with blobs fetched
    // at once, the resumed GET can come before the config's, so "the first two blob GETs"
    // could both be the layer's.
    sc.fault(
        Match::method("GET", Kind::Blob).path_ends_with(&layer.digest),
        Fault::CutResponseAfter(100_000),
    );
    let (store, reference) = (&sc.store, sc.reference("app/cut:1"));
    let out = sc.pull_to_store_ok(&reference, &[]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    let layer_gets = gets_of(&sc.proxy, &layer.digest);
    assert_eq!(layer_gets.len(), 2, "{layer_gets:#?}");
    assert!(layer_gets[0].fault.is_some());
    // 206: the registry answered a Range request, so the download resumed
    // rather than starting over.
    assert_eq!(layer_gets[1].status, 206, "{layer_gets:#?}");
    assert_has_image(store, &image, &["amd64"]);
    assert_blobs_verified(store);
    assert!(files_under(&store.join(".hoist/partial")).is_empty());
}

#[test]
fn corrupted_blob_is_rejected_and_nothing_corrupt_is_kept() {
    let sc = Scenario::open();
    let image = sc.seed("app/bad:1", one_big_layer(51));
    let layer = image.manifests[0].layers[0].blob.clone();
    // The layer's first download is damaged, matched by path: the config's GET may reach the
    // proxy before or after it.
    sc.faults(
        Match::method("GET", Kind::Blob).path_ends_with(&layer.digest),
        Fault::FlipResponseByte(50_000),
        1,
    );
    let (store, reference) = (&sc.store, sc.reference("app/bad:1"));
    let out = sc.pull_to_store(&reference, &[]);
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
    assert!(!blob_path(store, &layer.digest).exists());
    assert_blobs_verified(store);
    let partial = files_under(&store.join(".hoist/partial"));
    assert!(
        partial
            .iter()
            .all(|p| !p.contains(layer.digest.strip_prefix("sha256:").unwrap())),
        "{partial:?}"
    );
    // No image entry for a failed pull.
    assert!(index_entries(store)
        .iter()
        .all(|(n, _)| n.as_deref() != Some(reference.as_str())));

    // Nothing left behind poisons the next try.
    let out = sc.pull_to_store_ok(&reference, &[]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_has_image(store, &image, &["amd64"]);
}

#[test]
fn server_error_once_is_retried() {
    let sc = Scenario::open();
    let image = sc.seed("app/flaky:1", ImageSpec::new(52));
    sc.fault(Match::method("GET", Kind::Blob), Fault::status(503))
        .fault(Match::method("GET", Kind::Manifest), Fault::status(503));
    let out = sc.pull_to_store_ok(&sc.reference("app/flaky:1"), &[]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_eq!(sc.proxy.pending_faults(), 0);
    let statuses: Vec<u16> = sc.proxy.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 503).count(), 2);
    assert_has_image(&sc.store, &image, &["amd64"]);
}

#[test]
fn server_errors_forever_fail_with_what_and_where() {
    let sc = Scenario::open();
    let image = sc.seed("app/down:1", ImageSpec::new(53));
    let config = image.manifests[0].config.digest.clone();
    sc.faults(Match::method("GET", Kind::Blob), Fault::status(503), 1000);
    let out = sc.pull_to_store(&sc.reference("app/down:1"), &["--jobs", "1"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("503"), "{err}");
    assert!(err.contains(&config), "{err}");
    let tries = sc.proxy.count("GET", Kind::Blob);
    assert!((2..=10).contains(&tries), "bounded retries: {tries}");
}

#[test]
fn too_many_requests_waits_for_retry_after() {
    let sc = Scenario::open();
    let image = sc.seed("app/busy:1", ImageSpec::new(54));
    sc.fault(Match::method("GET", Kind::Blob), Fault::too_many(1));
    let started = std::time::Instant::now();
    let out = sc.pull_to_store_ok(&sc.reference("app/busy:1"), &[]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_eq!(sc.proxy.pending_faults(), 0);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(950),
        "Retry-After honoured: {:?}",
        started.elapsed()
    );
    assert_has_image(&sc.store, &image, &["amd64"]);
}

/// A pause the user would notice is said before it starts, in the registry's own terms; a
/// short one is not worth a line.
#[test]
fn a_long_retry_after_is_announced_before_the_wait() {
    let sc = Scenario::open();
    let image = sc.seed("app/busy-long:1", ImageSpec::new(55));
    sc.fault(Match::method("GET", Kind::Blob), Fault::too_many(3));
    let out = sc.pull_to_store_ok(&sc.reference("app/busy-long:1"), &["--jobs", "1"]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_stderr_has(
        &out,
        "registry asked to retry in 3 s (429 Too Many Requests)",
    );

    let image = sc.seed("app/busy-short:1", ImageSpec::new(56));
    sc.fault(Match::method("GET", Kind::Blob), Fault::too_many(1));
    let out = sc.pull_to_store_ok(&sc.reference("app/busy-short:1"), &["--jobs", "1"]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert!(!stderr(&out).contains("retry in"), "{}", stderr(&out));
}

#[test]
fn token_rejected_mid_pull_gets_a_new_token() {
    let issuer = TokenIssuer::start(IssuerConfig::default().user("bob", "pw").allow(
        "bob",
        "*",
        &["*"],
    ));
    let sc = Scenario::new(Target::with_issuer(issuer, ("bob", "pw")));
    let issuer = sc.target.issuer();
    let image = sc.seed("team/expiring:1", ImageSpec::new(55));
    issuer.clear_requests();
    let challenge = format!(
        r#"Bearer realm="{}",service="{}",scope="repository:team/expiring:pull",error="invalid_token""#,
        issuer.realm(),
        issuer.service()
    );
    sc.fault(
        Match::method("GET", Kind::Blob),
        Fault::Status {
            status: 401,
            headers: vec![("WWW-Authenticate".into(), challenge)],
            body: r#"{"errors":[{"code":"UNAUTHORIZED","message":"token expired"}]}"#.into(),
        },
    );
    let out = sc.pull_to_store_ok(&sc.reference("team/expiring:1"), &[]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_eq!(sc.proxy.pending_faults(), 0);
    assert_eq!(issuer.request_count(), 2, "{:#?}", issuer.requests());
    // The pull went on; it did not start over: one bare manifest GET (its 401 the challenge),
    // one with the token.
    let manifests = sc.proxy.requests();
    let manifests: Vec<_> = manifests
        .iter()
        .filter(|r| r.kind == Kind::Manifest)
        .collect();
    assert_eq!(manifests.len(), 2, "{manifests:#?}");
    assert!(!manifests[0].authorized && manifests[1].authorized);
    assert_eq!(sc.proxy.count("GET", Kind::Blob), 4);
    assert_has_image(&sc.store, &image, &["amd64"]);
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
