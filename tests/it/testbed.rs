//! Tests proving the test bed itself works.

use crate::support::registry::{Mode, RegistryServer, TlsOptions};
use crate::support::tls::TestCa;
use crate::support::token_issuer::{IssuerConfig, TokenIssuer};
use crate::support::{basic, http_get};

#[test]
fn open_registry_answers_ping() {
    let r = RegistryServer::start(Mode::Open);
    let resp = http_get(None, &format!("{}/v2/", r.url()), &[]).unwrap();
    assert_eq!(resp.status, 200, "log:\n{}", r.log());
    assert!(r.log().contains("listening on"));
    assert!(r.storage_root().parent().unwrap().exists());
}

#[test]
fn htpasswd_registry_challenges_and_accepts_basic() {
    let r = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let url = format!("{}/v2/", r.url());
    let resp = http_get(None, &url, &[]).unwrap();
    assert_eq!(resp.status, 401);
    let www = resp.header("www-authenticate").unwrap();
    assert!(www.starts_with("Basic realm="), "{www}");
    let bad = http_get(None, &url, &[("authorization", &basic("alice", "nope"))]).unwrap();
    assert_eq!(bad.status, 401);
    let ok = http_get(None, &url, &[("authorization", &basic("alice", "s3cret"))]).unwrap();
    assert_eq!(ok.status, 200);
}

fn token_for(issuer: &TokenIssuer, auth: Option<(&str, &str)>, scopes: &[&str]) -> String {
    let mut url = format!("{}?service={}", issuer.realm(), issuer.service());
    for s in scopes {
        url += &format!("&scope={s}");
    }
    let h = auth.map(|(u, p)| basic(u, p));
    let headers: Vec<(&str, &str)> = h.iter().map(|h| ("authorization", h.as_str())).collect();
    let resp = http_get(None, &url, &headers).unwrap();
    assert_eq!(
        resp.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&resp.body)
    );
    resp.json()["token"].as_str().unwrap().to_string()
}

fn bearer(t: &str) -> String {
    format!("Bearer {t}")
}

fn token_setup() -> (TokenIssuer, RegistryServer) {
    let issuer = TokenIssuer::start(
        IssuerConfig::default()
            .user("alice", "pw")
            .allow("alice", "team/*", &["pull", "push"])
            .public("public/app"),
    );
    let reg = RegistryServer::start(Mode::Token(&issuer));
    (issuer, reg)
}

#[test]
fn token_registry_challenges_with_bearer() {
    let (issuer, reg) = token_setup();
    let resp = http_get(None, &format!("{}/v2/", reg.url()), &[]).unwrap();
    assert_eq!(resp.status, 401);
    let www = resp.header("www-authenticate").unwrap();
    assert!(www.starts_with("Bearer realm="), "{www}");
    assert!(
        www.contains(&format!("realm=\"{}\"", issuer.realm())),
        "{www}"
    );
    assert!(www.contains(&format!("service=\"{}\"", issuer.service())));
    // A signed token with no access still passes the /v2/ check, which
    // proves the registry trusts our key ID and signature.
    let t = token_for(&issuer, Some(("alice", "pw")), &[]);
    let ok = http_get(
        None,
        &format!("{}/v2/", reg.url()),
        &[("authorization", &bearer(&t))],
    )
    .unwrap();
    assert_eq!(ok.status, 200, "log:\n{}", reg.log());
}

#[test]
fn token_issuer_rejects_wrong_password_and_records_requests() {
    let (issuer, _reg) = token_setup();
    let url = format!("{}?service=x&scope=repository:team/a:pull", issuer.realm());
    let resp = http_get(None, &url, &[("authorization", &basic("alice", "bad"))]).unwrap();
    assert_eq!(resp.status, 401);
    token_for(&issuer, None, &["repository:public/app:pull"]);
    let reqs = issuer.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[0].had_basic_auth && reqs[0].status == 401);
    assert!(!reqs[1].had_basic_auth && reqs[1].user.is_none());
    assert_eq!(reqs[1].scopes, vec!["repository:public/app:pull"]);
}

#[test]
fn kid_matches_libtrust_format() {
    let issuer = TokenIssuer::start(IssuerConfig::default());
    let kid = issuer.kid();
    assert_eq!(kid.len(), 48 + 11);
    let groups: Vec<&str> = kid.split(':').collect();
    assert_eq!(groups.len(), 12);
    assert!(groups.iter().all(|g| g.len() == 4
        && g.chars()
            .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c))));
}

#[test]
fn tls_registry_needs_the_ca() {
    let ca = TestCa::new();
    let tls = TlsOptions {
        server: ca.server_cert(),
        client_cas: None,
    };
    let reg = RegistryServer::start_tls(Mode::Open, &tls);
    assert!(reg.url().starts_with("https://"));
    let url = format!("{}/v2/", reg.url());
    assert!(http_get(None, &url, &[]).is_err(), "untrusted CA must fail");
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    assert_eq!(http_get(Some(&client), &url, &[]).unwrap().status, 200);
}

#[test]
fn mtls_registry_refuses_client_without_cert() {
    let ca = TestCa::new();
    let tls = TlsOptions {
        server: ca.server_cert(),
        client_cas: Some(ca.ca_cert.clone()),
    };
    let reg = RegistryServer::start_tls(Mode::Open, &tls);
    let url = format!("{}/v2/", reg.url());
    let root = reqwest::Certificate::from_pem(ca.ca_pem.as_bytes()).unwrap();
    let no_cert = reqwest::Client::builder()
        .add_root_certificate(root.clone())
        .build()
        .unwrap();
    assert!(http_get(Some(&no_cert), &url, &[]).is_err());
    let c = ca.client_cert("tester");
    let pem = format!("{}{}", c.cert_pem, c.key_pem);
    let with_cert = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(root)
        .identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    assert_eq!(http_get(Some(&with_cert), &url, &[]).unwrap().status, 200);
}
