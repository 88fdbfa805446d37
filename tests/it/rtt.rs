//! Round trips a command pays before and beside its real work (issue 15): the scheme probe of
//! a loopback registry, the HTTP version spoken, and `--debug`'s count of requests and round
//! trips.

use crate::support::images::{push_with_skopeo, ImageSpec};
use crate::support::registry::{Mode, RegistryServer, TlsOptions};
use crate::support::scenario::{env, Scenario};
use crate::support::tls::TestCa;
use crate::support::tls_gate::TlsGate;
use crate::support::tools::{assert_exit, path_str, run, stderr, stdout};
use std::time::Duration;

/// On a loopback registry the plain-HTTP ping starts beside the HTTPS one, not after its
/// failure: the gate answers the TLS handshake (by closing it) only once a plain-HTTP request
/// has arrived, so a client that waited for HTTPS to fail first would wait for its deadline.
#[test]
fn a_loopback_ping_starts_plain_http_without_waiting_for_https_to_fail() {
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
    // The ping, the manifest and the blobs, one after another.
    assert!(number_after("so ≥") >= 3.0, "{summary}");
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
    assert!(answered.len() >= 4, "ping, manifest, two blobs: {err}");
    assert!(
        answered.iter().all(|l| l.contains(" ms, HTTP/1.1)")),
        "{err}"
    );
}
