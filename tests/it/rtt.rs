//! Round trips a command pays before and beside its real work (issue 15): no `/v2/` ping
//! before the first request, the scheme probe of a loopback registry, the HTTP version spoken,
//! and `--debug`'s count of requests and round trips.

use crate::support::faults::{Fault, Kind, Match};
use crate::support::images::{push_with_skopeo, ImageSpec};
use crate::support::registry::{Mode, RegistryServer, TlsOptions};
use crate::support::scenario::{env, Scenario, Target};
use crate::support::tls::TestCa;
use crate::support::tls_gate::TlsGate;
use crate::support::token_issuer::IssuerConfig;
use crate::support::tools::{assert_exit, path_str, run, stderr, stdout};
use std::time::Duration;

/// An open registry is asked for the manifest straight away: no `/v2/` ping first, so a pull
/// is the manifest's round trip and then the blobs'.
#[test]
fn an_open_registry_is_asked_for_the_manifest_without_a_ping() {
    let sc = Scenario::open();
    let image = sc.seed("app/direct:1", ImageSpec::new(153).layers(&[3_000]));
    let out = sc.pull_to_store_ok(&sc.reference("app/direct:1"), &[]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    let requests = sc.proxy.requests();
    assert_eq!(sc.proxy.count("GET", Kind::Ping), 0, "{requests:#?}");
    assert_eq!(requests[0].kind, Kind::Manifest, "{requests:#?}");
    assert_eq!(requests.len(), 3, "manifest, config, layer: {requests:#?}");
}

/// A push's first request is a check that answers 404. With no credentials to offer, that
/// cannot hide a challenge, so no `/v2/` ping follows it either.
#[test]
fn a_push_without_credentials_sends_no_ping() {
    let sc = Scenario::open();
    let image = ImageSpec::new(156).layers(&[2_048]).build("img");
    let from = format!("{}:img", image.root.display());
    sc.push_ok(&[&sc.reference("app/direct:1"), "--from", &from]);
    let requests = sc.proxy.requests();
    assert_eq!(sc.proxy.count("GET", Kind::Ping), 0, "{requests:#?}");
    assert_eq!(requests[0].status, 404, "{requests:#?}");
}

/// A token registry's 401 to the bare manifest GET is its challenge: one token, then the
/// manifest again with it, and no ping.
#[test]
fn a_token_registry_challenges_the_first_request_itself() {
    let sc = Scenario::new(Target::token(IssuerConfig::default()));
    let image = sc.seed("team/direct:1", ImageSpec::new(154).layers(&[3_000]));
    sc.target.issuer().clear_requests();
    let out = sc.pull_to_store_ok(&sc.reference("team/direct:1"), &[]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    let requests = sc.proxy.requests();
    assert_eq!(sc.proxy.count("GET", Kind::Ping), 0, "{requests:#?}");
    assert_eq!(sc.target.issuer().request_count(), 1);
    let first_two: Vec<_> = requests[..2]
        .iter()
        .map(|r| (r.kind, r.authorized, r.status))
        .collect();
    assert_eq!(
        first_two,
        [(Kind::Manifest, false, 401), (Kind::Manifest, true, 200)],
        "{requests:#?}"
    );
}

/// A registry may answer a stranger's request for a private repository with 404 rather than
/// 401. That proves nothing, so `/v2/` decides, as it did before every command, and its
/// challenge brings the credentials.
#[test]
fn a_registry_hiding_a_repository_from_strangers_still_gets_the_credentials() {
    let sc = Scenario::new(Target::basic());
    let image = sc.seed("team/hidden:1", ImageSpec::new(155).layers(&[3_000]));
    sc.fault(
        Match::any().bare().path_ends_with("/manifests/1"),
        Fault::status(404),
    );
    let out = sc.pull_to_store_ok(&sc.reference("team/hidden:1"), &[]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    let requests = sc.proxy.requests();
    let seen: Vec<_> = requests[..3]
        .iter()
        .map(|r| (r.kind, r.authorized, r.status))
        .collect();
    assert_eq!(
        seen,
        [
            (Kind::Manifest, false, 404),
            (Kind::Ping, false, 401),
            (Kind::Manifest, true, 200)
        ],
        "{requests:#?}"
    );
}

/// The same registry, slow to refuse the stranger: `/v2/` is asked beside the first request
/// once it has waited, and when that refusal comes, the request goes again with credentials.
#[test]
fn a_slow_refusal_of_the_first_request_is_sent_again_with_the_credentials() {
    let sc = Scenario::new(Target::basic()).env_var("HOIST_TEST_TIMEOUT_SCALE", "0.1");
    let image = sc.seed("team/hidden:1", ImageSpec::new(157).layers(&[3_000]));
    // Well past the 0.2 s hoist waits before asking `/v2/` beside it.
    let refusal = Fault::StatusAfter(Duration::from_millis(1_000), 404);
    sc.fault(Match::any().bare().path_ends_with("/manifests/1"), refusal);
    let out = sc.pull_to_store_ok(&sc.reference("team/hidden:1"), &[]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    let requests = sc.proxy.requests();
    let manifests: Vec<_> = requests
        .iter()
        .filter(|r| r.kind == Kind::Manifest)
        .map(|r| (r.authorized, r.status))
        .collect();
    assert_eq!(manifests, [(false, 404), (true, 200)], "{requests:#?}");
    assert!(requests
        .iter()
        .any(|r| r.kind == Kind::Ping && r.status == 401));
}

/// On a loopback registry the plain-HTTP first request starts beside the HTTPS one, not after its
/// failure: the gate answers the TLS handshake (by closing it) only once a plain-HTTP request
/// has arrived, so a client that waited for HTTPS to fail first would wait for its deadline.
#[test]
fn a_loopback_registry_is_tried_over_plain_http_without_waiting_for_https_to_fail() {
    let sc = Scenario::open().env_var("HOIST_TEST_TIMEOUT_SCALE", "0.2");
    let image = sc.seed("app/race:1", ImageSpec::new(150));
    let gate = TlsGate::start(&sc.proxy.host());
    let reference = format!("{}/app/race:1", gate.host());
    let mut cmd = sc.env.hoist();
    cmd.args(["pull", &reference, "--store", path_str(&sc.store)]);
    let out = run(&mut cmd, None);
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_eq!(gate.tls_held(), 1, "HTTPS was tried first, and once");
    let err = stderr(&out);
    assert!(!err.contains("waiting for"), "{err}");
}

/// `--debug` ends with one line counting every request and estimating the round trips: the
/// proxy's latency (before forwarding, and again before answering) bounds the fastest answer.
#[test]
fn debug_ends_with_the_request_count_and_round_trips() {
    let sc = Scenario::open();
    sc.seed("app/trips:1", ImageSpec::new(151).layers(&[3_000, 5_000]));
    sc.proxy.set_latency(Duration::from_millis(10));
    let out = sc.pull_to_store_ok(&sc.reference("app/trips:1"), &["--debug"]);
    let err = stderr(&out);
    let logged = err
        .lines()
        .filter(|l| l.starts_with("debug: ") && l.contains(" -> "))
        .count();
    let summary = err.lines().last().unwrap_or_default();
    let number_after = |word: &str| -> f64 {
        let rest = summary
            .split(word)
            .nth(1)
            .unwrap_or_else(|| panic!("{err}"));
        rest.trim_start()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(
        summary.starts_with(&format!("debug: {logged} requests")),
        "{err}"
    );
    // The HTTPS attempt the proxy cannot answer is the one request without an answer.
    assert!(summary.contains("(1 unanswered)"), "{err}");
    assert!(number_after("round trip ≤") >= 20.0, "{summary}");
    // The manifest, then the blobs (no ping before them).
    assert!(number_after("so ≥") >= 2.0, "{summary}");
}

/// HTTP/1.1 even where the registry offers HTTP/2 (distribution does over TLS): measured, one
/// multiplexed connection was no faster for small blobs and slower for large pushes.
#[test]
fn an_https_registry_offering_http2_is_spoken_to_over_http_1_1() {
    let ca = TestCa::new();
    let options = TlsOptions {
        server: ca.server_cert(),
        client_cas: None,
    };
    let registry = RegistryServer::start_tls(Mode::Open, &options);
    let reference = format!("{}/app/h1:1", registry.host());
    let image = ImageSpec::new(152).layers(&[20_000]).build("v1");
    push_with_skopeo(&image, &reference, None);
    let env = env();
    ca.docker_certs_d(&env.docker_config, &registry.host(), None);
    let store = env.scratch("store");
    let mut cmd = env.hoist();
    cmd.args(["pull", &reference, "--store", path_str(&store), "--debug"]);
    let out = run(&mut cmd, None);
    assert_exit(&out, 0);
    let err = stderr(&out);
    let answered: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("debug: ") && l.contains(" https://") && l.contains(" -> 2"))
        .collect();
    assert_eq!(answered.len(), 3, "manifest, two blobs: {err}");
    assert!(
        answered.iter().all(|l| l.contains(" ms, HTTP/1.1)")),
        "{err}"
    );
}
