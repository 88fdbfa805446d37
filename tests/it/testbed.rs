//! Tests proving the test bed itself works: registries, token issuer,
//! TLS and images here; client tools and the proxy in `clients`.

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
            .user("admin", "root")
            .allow("admin", "*", &["*"])
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

use crate::support::images::{push_with_skopeo, remote_manifest_with_skopeo, Format, ImageSpec};
use crate::support::sha256_digest;
use crate::support::tools::{run_ok, TestEnv};

#[test]
fn skopeo_push_preserves_computed_digests() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("u", "p")]));
    for (i, spec) in [
        ImageSpec::new(1),
        ImageSpec::new(2).format(Format::Docker),
        ImageSpec::new(3).multi_platform(),
        ImageSpec::new(4).format(Format::Docker).multi_platform(),
    ]
    .into_iter()
    .enumerate()
    {
        let img = spec.build("v1");
        let dest = format!("{}/lib/img{i}:v1", reg.host());
        push_with_skopeo(&img, &dest, Some(("u", "p")));
        let raw = remote_manifest_with_skopeo(&dest, Some(("u", "p")));
        assert_eq!(sha256_digest(&raw), img.digest(), "image {i}");
        // skopeo inspect (non-raw) reports the same digest.
        let env = TestEnv::new();
        let out = run_ok(
            env.skopeo()
                .args(["inspect", "--tls-verify=false", "--creds", "u:p"])
                .arg(format!("docker://{dest}")),
            None,
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["Digest"], img.digest(), "image {i}");
    }
}

fn tags_list(reg: &RegistryServer, repo: &str, token: &str) -> crate::support::HttpResult {
    let url = format!("{}/v2/{repo}/tags/list", reg.url());
    http_get(None, &url, &[("authorization", &bearer(token))]).unwrap()
}

#[test]
fn token_flows_against_registry() {
    let (issuer, reg) = token_setup();
    let img = ImageSpec::new(7).build("t");
    for repo in ["team/app", "public/app", "secret/app"] {
        push_with_skopeo(
            &img,
            &format!("{}/{repo}:t", reg.host()),
            Some(("admin", "root")),
        );
    }
    // GET with Basic + scope.
    let t = token_for(
        &issuer,
        Some(("alice", "pw")),
        &["repository:team/app:pull"],
    );
    let resp = tags_list(&reg, "team/app", &t);
    assert_eq!(resp.status, 200, "log:\n{}", reg.log());
    assert_eq!(resp.json()["tags"], serde_json::json!(["t"]));
    // Anonymous token pulls a public repo but not a private one.
    let anon = token_for(&issuer, None, &["repository:public/app:pull"]);
    assert_eq!(tags_list(&reg, "public/app", &anon).status, 200);
    let anon = token_for(&issuer, None, &["repository:team/app:pull"]);
    assert_eq!(tags_list(&reg, "team/app", &anon).status, 401);
    // A forbidden repo: the token is issued, with empty actions.
    let t = token_for(
        &issuer,
        Some(("alice", "pw")),
        &["repository:secret/app:pull"],
    );
    assert_eq!(tags_list(&reg, "secret/app", &t).status, 401);
    let claims = jwt_claims(&t);
    assert_eq!(claims["access"][0]["actions"], serde_json::json!([]));
}

fn jwt_claims(t: &str) -> serde_json::Value {
    use base64::Engine;
    let part = t.split('.').nth(1).unwrap();
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&raw).unwrap()
}

fn post_form(url: &str, form: &[(&str, &str)]) -> crate::support::HttpResult {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    crate::support::block_on(async {
        let resp = reqwest::Client::new()
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        crate::support::HttpResult {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.bytes().await.unwrap().to_vec(),
        }
    })
}

#[test]
fn refresh_token_and_expiry() {
    let (issuer, reg) = token_setup();
    let img = ImageSpec::new(8).layers(&[100]).build("t");
    push_with_skopeo(
        &img,
        &format!("{}/team/app:t", reg.host()),
        Some(("admin", "root")),
    );
    let scope = "repository:team/app:pull";
    let url = format!(
        "{}?service={}&scope={scope}&offline_token=true&client_id=hoist",
        issuer.realm(),
        issuer.service()
    );
    let resp = http_get(None, &url, &[("authorization", &basic("alice", "pw"))]).unwrap();
    assert_eq!(resp.status, 200);
    let rt = resp.json()["refresh_token"].as_str().unwrap().to_string();
    let svc = issuer.service();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", rt.as_str()),
        ("service", svc.as_str()),
        ("scope", scope),
        ("client_id", "hoist"),
    ];
    let r = post_form(&issuer.realm(), &form);
    assert_eq!(r.status, 200);
    let at = r.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(tags_list(&reg, "team/app", &at).status, 200);
    let mut bad = form;
    bad[1].1 = "rt-bogus";
    let r = post_form(&issuer.realm(), &bad);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_grant");
    // Password grant.
    let r = post_form(
        &issuer.realm(),
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "pw"),
            ("service", svc.as_str()),
            ("scope", scope),
            ("client_id", "hoist"),
            ("access_type", "offline"),
        ],
    );
    assert_eq!(r.status, 200);
    assert!(r.json()["refresh_token"].is_string());
    let last = issuer.requests().pop().unwrap();
    assert_eq!(last.grant_type.as_deref(), Some("password"));
    assert_eq!(last.user.as_deref(), Some("alice"));
    // Expired token: exp beyond the registry's 60 s leeway.
    issuer.set_issue_expired(true);
    let t = token_for(&issuer, Some(("alice", "pw")), &[scope]);
    assert_eq!(tags_list(&reg, "team/app", &t).status, 401);
    issuer.set_issue_expired(false);
    let t = token_for(&issuer, Some(("alice", "pw")), &[scope]);
    assert_eq!(tags_list(&reg, "team/app", &t).status, 200);
}

#[test]
fn token_issuer_refusal_flags_and_scope_recording() {
    let issuer = TokenIssuer::start(IssuerConfig::default().user("alice", "pw").allow(
        "alice",
        "a",
        &["pull"],
    ));
    // Several scope params, and space-separated scopes in one param.
    let url = format!(
        "{}?service=s&scope=repository:a:pull&scope=repository:b:pull%20repository:a:push",
        issuer.realm()
    );
    let r = http_get(None, &url, &[("authorization", &basic("alice", "pw"))]).unwrap();
    assert_eq!(r.status, 200);
    let claims = jwt_claims(r.json()["token"].as_str().unwrap());
    assert_eq!(claims["access"].as_array().unwrap().len(), 3);
    assert_eq!(claims["access"][0]["actions"], serde_json::json!(["pull"]));
    assert_eq!(claims["access"][2]["actions"], serde_json::json!([]));
    assert_eq!(claims["aud"], issuer.service());
    assert_eq!(issuer.requests()[0].scopes.len(), 3);

    issuer.configure(|c| {
        c.refuse_post = true;
        c.refuse_get_basic = true;
    });
    let r = post_form(
        &issuer.realm(),
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "pw"),
        ],
    );
    assert_eq!(r.status, 404);
    let r = http_get(None, &url, &[("authorization", &basic("alice", "pw"))]).unwrap();
    assert_eq!(r.status, 401);
    // Anonymous GET is still served.
    assert_eq!(http_get(None, &url, &[]).unwrap().status, 200);
    assert_eq!(issuer.request_count(), 4);
}

mod clients;
