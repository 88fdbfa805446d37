//! Credentials go to the registry and the token realm it names, nowhere else (issue 12):
//! a redirect target's 401 is no challenge, `--insecure` and `certs.d` are per host, and no
//! secret carried in a URL reaches hoist's output.

use crate::runs::pull_fresh as pull;
use crate::support::forward_proxy::ForwardProxy;
use crate::support::images::ImageSpec;
use crate::support::proxy::{Fault, Kind, Match, Proxy};
use crate::support::registry::{Mode, RegistryServer};
use crate::support::scenario::{docker_config_with, env, seed};
use crate::support::secrets_log::record_secret;
use crate::support::tls::TestCa;
use crate::support::tls_relay::TlsRelay;
use crate::support::token_issuer::{IssuerConfig, TokenIssuer};
use crate::support::tools::{stderr, stdout, TestEnv};
use crate::tls::tls_options;
use std::process::Output;

const USER: &str = "trusting-user";
const PASSWORD: &str = "pw-Trust-9d2f-never-leaves";

/// The user's registry credentials in config.json, and in the suite-wide secrets check.
fn store_password(env: &TestEnv, host: &str) {
    record_secret(Some(USER), PASSWORD);
    docker_config_with(env, host, USER, PASSWORD);
}

/// Answers every request matching `m` with `status` and one header.
fn answer_all(proxy: &Proxy, m: Match, status: u16, header: (&str, String)) {
    let fault = Fault::Status {
        status,
        headers: vec![(header.0.to_string(), header.1)],
        body: String::new(),
    };
    proxy.inject_n(m, fault, 1_000);
}

/// A Bearer challenge naming `realm`, as a registry (or a storage host) sends it.
fn bearer(realm: &str) -> (&'static str, String) {
    (
        "WWW-Authenticate",
        format!(r#"Bearer realm="{realm}",service="trust-test""#),
    )
}

/// Blob storage answers 401 with a Bearer challenge naming a realm of its own (CVE-2020-15157):
/// the pull fails naming the storage host, and no request reaches that realm.
#[test]
fn a_401_from_a_redirect_target_is_an_error_never_a_challenge() {
    let registry = RegistryServer::start(Mode::Htpasswd(&[(USER, PASSWORD)]));
    seed(
        &registry.host(),
        "t/app:v1",
        ImageSpec::new(61).layers(&[3_000]),
        Some((USER, PASSWORD)),
    );
    let front = Proxy::start(&registry.host());
    // Two more hosts: the storage a blob GET is redirected to, and the realm it names.
    let storage = Proxy::start(&registry.host());
    let thief = Proxy::start(&registry.host());
    let steal = format!("http://{}/steal", thief.host());
    answer_all(&storage, Match::any(), 401, bearer(&steal));
    let blob_url = format!("http://{}/blob?X-Amz-Signature=abc", storage.host());
    answer_all(
        &front,
        Match::method("GET", Kind::Blob),
        307,
        ("Location", blob_url),
    );
    let env = env();
    store_password(&env, &front.host());

    let out = pull(&env, &[], &format!("{}/t/app:v1", front.host()));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        !storage.requests().is_empty(),
        "the redirect was not followed"
    );
    assert!(
        thief.requests().is_empty(),
        "credentials went to the realm a redirect target named: {:?}",
        thief.requests()
    );
    let err = stderr(&out);
    assert!(
        err.contains(&format!("401 Unauthorized from {}", storage.host())),
        "{err}"
    );
}

/// A token realm on another port with a certificate from an untrusted CA: `--insecure` for the
/// registry does not reach it; its own `--insecure` entry or `certs.d` entry does.
#[test]
fn a_token_realm_on_another_host_gets_its_own_tls_settings() {
    let ca = TestCa::new();
    let realm_server = RegistryServer::start_tls(Mode::Open, &tls_options(&ca, false));
    let realm_host = realm_server.host();
    let registry = RegistryServer::start(Mode::Open);
    let front = Proxy::start(&registry.host());
    let realm = format!("https://{realm_host}/token");
    answer_all(&front, Match::kind(Kind::Ping), 401, bearer(&realm));
    let env = env();
    store_password(&env, &front.host());
    let reference = format!("{}/t/app:v1", front.host());

    let out = pull(&env, &["--insecure", &front.host()], &reference);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("certificate") && err.contains(&format!("--insecure {realm_host}")),
        "the realm's certificate was not checked, or the hint names no working flag:\n{err}"
    );

    // The realm's own entries make hoist trust it: its answer (404, it is no token service)
    // shows that hoist reached it.
    let out = pull(
        &env,
        &["--insecure", &front.host(), "--insecure", &realm_host],
        &reference,
    );
    let err = stderr(&out);
    assert!(err.contains("404") && !err.contains("certificate"), "{err}");
    ca.docker_certs_d(&env.docker_config, &realm_host, None);
    let out = pull(&env, &["--insecure", &front.host()], &reference);
    let err = stderr(&out);
    assert!(err.contains("404") && !err.contains("certificate"), "{err}");
}

/// The registry and its realm are hosts with names (not loopback), reached through a forward
/// proxy: plain HTTP to the realm needs the realm named by `--insecure`, not only the registry.
#[test]
fn plain_http_to_a_realm_on_another_host_needs_its_own_insecure_entry() {
    let issuer = TokenIssuer::start(IssuerConfig::default().user(USER, PASSWORD).allow(
        USER,
        "*",
        &["pull"],
    ));
    let issuer_port = issuer.url().rsplit(':').next().unwrap().to_string();
    let realm_host = format!("auth.test:{issuer_port}");
    let registry = RegistryServer::start(Mode::Open);
    let image = seed(
        &registry.host(),
        "t/app:v1",
        ImageSpec::new(62).layers(&[3_000]),
        None,
    );
    let front = Proxy::start(&registry.host());
    let realm = format!("http://{realm_host}/token");
    // A token registry: every request without a token is challenged.
    answer_all(&front, Match::any().bare(), 401, bearer(&realm));
    let forward = ForwardProxy::start();
    let host = format!("registry.test:{}", front.host().rsplit(':').next().unwrap());
    let env = env()
        .env("HTTP_PROXY", &forward.url())
        .env("HTTPS_PROXY", &forward.url());
    store_password(&env, &host);
    let reference = format!("{host}/t/app:v1");

    let out = pull(&env, &["--insecure", &host], &reference);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        issuer.request_count(),
        0,
        "the password went over plain HTTP"
    );
    assert!(err.contains(&format!("--insecure {realm_host}")), "{err}");

    let out = pull(
        &env,
        &["--insecure", &host, "--insecure", &realm_host],
        &reference,
    );
    assert_eq!(stdout(&out).trim(), image.digest(), "{}", stderr(&out));
    assert!(issuer.request_count() > 0);
}

/// An HTTPS registry on a named host redirects a blob GET to plain HTTP on the same host and
/// port: `Authorization` must not go down to plain HTTP, and that answer's 401 is no challenge.
#[test]
fn https_to_plain_http_on_the_same_host_drops_authorization() {
    let registry = RegistryServer::start(Mode::Htpasswd(&[(USER, PASSWORD)]));
    seed(
        &registry.host(),
        "t/app:v1",
        ImageSpec::new(64).layers(&[3_000]),
        Some((USER, PASSWORD)),
    );
    // https://registry.test:P is the TLS relay in front of `front`; http://registry.test:P
    // (through the forward proxy) reaches `plain`.
    let ca = TestCa::new();
    let front = Proxy::start(&registry.host());
    let relay = TlsRelay::start(&ca.server_cert(), &front.host());
    let plain = Proxy::start(&registry.host());
    let forward = ForwardProxy::start();
    let plain_port = plain.host().rsplit(':').next().unwrap().parse().unwrap();
    forward.route_plain(relay.port(), plain_port);
    let host = format!("registry.test:{}", relay.port());
    answer_all(
        &front,
        Match::method("GET", Kind::Blob),
        307,
        ("Location", format!("http://{host}/v2/")),
    );
    let env = env()
        .env("HTTP_PROXY", &forward.url())
        .env("HTTPS_PROXY", &forward.url());
    ca.docker_certs_d(&env.docker_config, &host, None);
    store_password(&env, &host);

    let out = pull(&env, &[], &format!("{host}/t/app:v1"));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        front.requests().iter().any(|r| r.authorized),
        "HTTPS to the registry never carried credentials: {:?}",
        front.requests()
    );
    let downgraded = plain.requests();
    assert!(!downgraded.is_empty(), "the redirect was not followed");
    assert!(
        downgraded.iter().all(|r| !r.authorized),
        "Authorization went over plain HTTP: {downgraded:?}"
    );
    assert!(
        err.contains(&format!("401 Unauthorized from {host}")),
        "{err}"
    );
}

/// Values a presigned storage URL carries, each a credential.
const URL_SECRETS: [(&str, &str); 9] = [
    ("X-Amz-Signature", "amzsig-5c1e-never-print"),
    ("X-Amz-Credential", "AKIA-amzcred-7b3d-never-print"),
    ("X-Amz-Security-Token", "amztok-9e2a-never-print"),
    ("sig", "azuresig-4f6b-never-print"),
    ("X-Goog-Signature", "googsig-1d8c-never-print"),
    ("X-Goog-Credential", "googcred-6a0f-never-print"),
    ("access_token", "oauthtok-2b7e-never-print"),
    ("token", "plaintok-8c3a-never-print"),
    ("_state", "uploadstate-3f9d-never-print"),
];

/// A blob redirected to a presigned URL on storage that fails, first with 500s, then by
/// cutting the connection: `--debug` lines and both error chains print the URL, and none of
/// its secret values.
#[test]
fn secrets_in_a_presigned_url_never_reach_output() {
    for (_, value) in URL_SECRETS {
        record_secret(None, value);
    }
    let registry = RegistryServer::start(Mode::Open);
    seed(
        &registry.host(),
        "t/app:v1",
        ImageSpec::new(63).layers(&[3_000]),
        None,
    );
    let env = env();
    let failed = pull_via_presigned_url(&env, &registry, Fault::status(500));
    let cut = pull_via_presigned_url(&env, &registry, Fault::CutRequestAfter(0));
    for (out, storage) in [&failed, &cut] {
        let printed = format!("{}{}", stdout(out), stderr(out));
        assert_eq!(out.status.code(), Some(1), "{printed}");
        // The URL is printed (so the check means something), with its values redacted.
        assert!(
            printed.contains(&format!("GET http://{storage}/bucket/blob?")),
            "{printed}"
        );
        assert!(printed.contains("X-Amz-Signature=****"), "{printed}");
        for (key, value) in URL_SECRETS {
            assert!(!printed.contains(value), "{key}'s value leaked:\n{printed}");
        }
    }
    let (failed, cut) = (stderr(&failed.0), stderr(&cut.0));
    assert!(
        failed.contains("Caused by: GET") && failed.contains("500"),
        "{failed}"
    );
    assert!(
        cut.contains("Caused by: GET") && !cut.contains("500"),
        "{cut}"
    );
}

/// Pulls through a proxy that redirects every blob GET to a presigned URL on a storage host
/// whose every answer is `fault`; returns the output and the storage host.
fn pull_via_presigned_url(
    env: &TestEnv,
    registry: &RegistryServer,
    fault: Fault,
) -> (Output, String) {
    let front = Proxy::start(&registry.host());
    let storage = Proxy::start(&registry.host());
    storage.inject_n(Match::any(), fault, 1_000);
    let query: Vec<String> = URL_SECRETS
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let presigned = format!(
        "http://{}/bucket/blob?{}&digest=sha256:00",
        storage.host(),
        query.join("&")
    );
    answer_all(
        &front,
        Match::method("GET", Kind::Blob),
        307,
        ("Location", presigned),
    );
    let out = pull(env, &["--debug"], &format!("{}/t/app:v1", front.host()));
    (out, storage.host())
}
