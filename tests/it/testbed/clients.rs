//! Test bed checks for the client tools (docker CLI, pass, skopeo, hoist
//! wrapper) and the fault-injecting proxy.

use super::token_setup;
use crate::support::http_get;
use crate::support::images::{push_with_skopeo, remote_manifest_with_skopeo, ImageSpec};
use crate::support::registry::{Mode, RegistryServer};
use crate::support::sha256_digest;
use crate::support::tls::TestCa;
use crate::support::tools::{run, run_ok, PassStore, TestEnv};

#[test]
fn docker_login_without_daemon_htpasswd() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let env = TestEnv::new().without_credential_helpers();
    let out = run_ok(
        env.docker()
            .args(["login", &reg.host(), "-u", "alice", "--password-stdin"]),
        Some(b"s3cret\n"),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Login Succeeded"));
    // Byte-for-byte: tab-indented, no trailing newline.
    let expected = format!(
        "{{\n\t\"auths\": {{\n\t\t\"{}\": {{\n\t\t\t\"auth\": \"YWxpY2U6czNjcmV0\"\n\t\t}}\n\t}}\n}}",
        reg.host()
    );
    assert_eq!(env.docker_config_json().unwrap(), expected);
    let bad = run(
        env.docker()
            .args(["login", &reg.host(), "-u", "alice", "--password-stdin"]),
        Some(b"wrong\n"),
    );
    assert!(!bad.status.success());
}

#[test]
fn docker_login_without_daemon_token() {
    let (issuer, reg) = token_setup();
    let env = TestEnv::new().without_credential_helpers();
    run_ok(
        env.docker()
            .args(["login", &reg.host(), "-u", "alice", "--password-stdin"]),
        Some(b"pw\n"),
    );
    // docker asks for an offline token (GET, client_id=docker, no scope)
    // and stores the refresh token as identitytoken with "alice:" as auth.
    let reqs = issuer.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    let r = &reqs[0];
    assert_eq!(
        (r.method.as_str(), r.offline, r.had_basic_auth),
        ("GET", true, true)
    );
    assert_eq!(r.client_id.as_deref(), Some("docker"));
    assert!(r.scopes.is_empty());
    let cfg = env.docker_config_json().expect("config.json written");
    let v: serde_json::Value = serde_json::from_str(&cfg).unwrap();
    let entry = &v["auths"][reg.host()];
    assert_eq!(entry["auth"], "YWxpY2U6");
    assert!(entry["identitytoken"].as_str().unwrap().starts_with("rt-"));
    let expected = format!(
        "{{\n\t\"auths\": {{\n\t\t\"{}\": {{\n\t\t\t\"auth\": \"YWxpY2U6\",\n\t\t\t\"identitytoken\": {}\n\t\t}}\n\t}}\n}}",
        reg.host(),
        entry["identitytoken"]
    );
    assert_eq!(cfg, expected);
}

#[test]
fn pass_store_round_trips_credentials() {
    let pass = PassStore::new();
    let env = TestEnv::new().with_pass(&pass);
    let creds = br#"{"ServerURL":"127.0.0.1:5999","Username":"alice","Secret":"s3cret"}"#;
    run_ok(
        env.command("docker-credential-pass").arg("store"),
        Some(creds),
    );
    let out = run_ok(
        env.command("docker-credential-pass").arg("get"),
        Some(b"127.0.0.1:5999"),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Username"], "alice");
    assert_eq!(v["Secret"], "s3cret");
    // The stored entry lives under base64(server URL)/username.gpg.
    let entry = pass
        .store_dir
        .join("docker-credential-helpers/MTI3LjAuMC4xOjU5OTk=/alice.gpg");
    assert!(entry.exists());
    // helpers 0.6.4 answer an unknown server with exit 0 and empty fields.
    let out = run_ok(
        env.command("docker-credential-pass").arg("get"),
        Some(b"127.0.0.1:1"),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Username"], "");
}

#[test]
fn docker_login_with_pass_store() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let pass = PassStore::new();
    let env = TestEnv::new().with_pass(&pass);
    run_ok(
        env.docker()
            .args(["login", &reg.host(), "-u", "alice", "--password-stdin"]),
        Some(b"s3cret\n"),
    );
    // The CLI auto-selected pass and keeps only an empty entry in the file.
    let expected = format!(
        "{{\n\t\"auths\": {{\n\t\t\"{}\": {{}}\n\t}},\n\t\"credsStore\": \"pass\"\n}}",
        reg.host()
    );
    assert_eq!(env.docker_config_json().unwrap(), expected);
    let out = run_ok(
        env.command("docker-credential-pass").arg("get"),
        Some(reg.host().as_bytes()),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["Username"].as_str(), v["Secret"].as_str()),
        (Some("alice"), Some("s3cret"))
    );

    // With pass on PATH but no store, login fails and writes nothing.
    let bare = TestEnv::new();
    let out = run(
        bare.docker()
            .args(["login", &reg.host(), "-u", "alice", "--password-stdin"]),
        Some(b"s3cret\n"),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass not initialized"));
    assert_eq!(bare.docker_config_json(), None);
}

use crate::support::proxy::{Fault, Kind, Match, Proxy};

/// GET through a client; Err if the body could not be read completely.
fn get_full(url: &str) -> Result<(u16, Vec<u8>), String> {
    crate::support::block_on(async {
        let resp = reqwest::get(url).await.map_err(|e| format!("{e:?}"))?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|e| format!("{e:?}"))?;
        Ok((status, body.to_vec()))
    })
}

#[test]
fn proxy_counts_and_injects_faults() {
    let reg = RegistryServer::start(Mode::Open);
    let img = ImageSpec::new(9).layers(&[200_000]).build("v");
    push_with_skopeo(&img, &format!("{}/lib/big:v", reg.host()), None);
    let proxy = Proxy::start(&reg.host());
    let layer = &img.manifests[0].layers[0].blob;
    let blob_url = format!("{}/v2/lib/big/blobs/{}", proxy.url(), layer.digest);

    // Plain pass-through, counted.
    let (s, body) = get_full(&format!("{}/v2/", proxy.url())).unwrap();
    assert_eq!((s, body.len()), (200, 2));
    let (s, body) = get_full(&blob_url).unwrap();
    assert_eq!(s, 200);
    assert_eq!(crate::support::sha256_digest(&body), layer.digest);
    assert_eq!(proxy.count("GET", Kind::Ping), 1);
    assert_eq!(proxy.count("GET", Kind::Blob), 1);

    // Status faults for the next two pings only.
    proxy.inject_n(Match::kind(Kind::Ping), Fault::too_many(3), 2);
    let ping = format!("{}/v2/", proxy.url());
    let r = http_get(None, &ping, &[]).unwrap();
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after").as_deref(), Some("3"));
    assert_eq!(http_get(None, &ping, &[]).unwrap().status, 429);
    assert_eq!(http_get(None, &ping, &[]).unwrap().status, 200);
    assert_eq!(proxy.pending_faults(), 0);

    // Flipped byte: full body, wrong digest.
    proxy.inject(
        Match::method("GET", Kind::Blob),
        Fault::FlipResponseByte(1000),
    );
    let (_, body) = get_full(&blob_url).unwrap();
    assert_eq!(body.len() as u64, layer.size);
    assert_ne!(crate::support::sha256_digest(&body), layer.digest);

    // Cut connection: the client sees a body error.
    proxy.inject(
        Match::method("GET", Kind::Blob),
        Fault::CutResponseAfter(50_000),
    );
    let err = get_full(&blob_url).unwrap_err();
    assert!(!err.is_empty());
    let (_, body) = get_full(&blob_url).unwrap();
    assert_eq!(crate::support::sha256_digest(&body), layer.digest);

    // Cut upload: the client's PATCH fails, the registry never sees it.
    let r = crate::support::block_on(async {
        let c = reqwest::Client::new();
        let start = c
            .post(format!("{}/v2/lib/up/blobs/uploads/", proxy.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(start.status().as_u16(), 202);
        let loc = start.headers()["location"].to_str().unwrap().to_string();
        // Host is forwarded, so the registry already names the proxy.
        assert!(loc.starts_with(&proxy.url()), "{loc}");
        proxy.inject(
            Match::method("PATCH", Kind::Upload),
            Fault::CutRequestAfter(1000),
        );
        c.patch(loc).body(vec![7u8; 100_000]).send().await
    });
    assert!(r.is_err(), "{r:?}");
    let last = proxy.requests().pop().unwrap();
    assert_eq!((last.kind, last.status), (Kind::Upload, 0));
    assert_eq!(last.fault.as_deref(), Some("cut-request@1000"));
}

#[test]
fn proxy_latency_and_skopeo_through_proxy() {
    let reg = RegistryServer::start(Mode::Open);
    let proxy = Proxy::start(&reg.host());
    proxy.set_latency(std::time::Duration::from_millis(10));
    let img = ImageSpec::new(10).layers(&[1000, 2000]).build("v");
    let t0 = std::time::Instant::now();
    push_with_skopeo(&img, &format!("{}/lib/p:v", proxy.host()), None);
    let n = proxy.requests().len();
    assert!(n >= 5, "{:?}", proxy.requests());
    // Ping, blob uploads and the manifest PUT run in sequence, each
    // delayed twice (request and response).
    assert!(t0.elapsed() >= std::time::Duration::from_millis(60));
    assert!(proxy.count("PUT", Kind::Manifest) >= 1);
    let raw = remote_manifest_with_skopeo(&format!("{}/lib/p:v", reg.host()), None);
    assert_eq!(sha256_digest(&raw), img.digest());
}

#[test]
fn tool_env_is_scrubbed_and_hoist_runs() {
    let env = TestEnv::new().env("EXTRA", "1");
    let out = run_ok(&mut env.command("env"), None);
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('=').next().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["DOCKER_CONFIG", "EXTRA", "HOME", "PATH"]);
    let docker = env.docker();
    let envs: Vec<_> = docker.get_envs().collect();
    assert!(envs
        .iter()
        .any(|(k, v)| *k == "DOCKER_HOST" && v.unwrap() == "unix:///nonexistent.sock"));
    let hoist = env.hoist();
    assert_eq!(hoist.get_program(), env!("CARGO_BIN_EXE_hoist"));
    // Whatever the CLI does with --help, it must start and exit normally.
    let out = run(env.hoist().arg("--help"), None);
    assert!(out.status.code().is_some());
}

#[test]
fn certs_d_layout_and_skopeo_authfile() {
    let ca = TestCa::new();
    let client = ca.client_cert("c");
    let env = TestEnv::new();
    let d = ca.docker_certs_d(&env.docker_config, "127.0.0.1:5000", Some(&client));
    assert_eq!(d, env.docker_config.join("certs.d/127.0.0.1:5000"));
    for f in ["ca.crt", "client.cert", "client.key"] {
        assert!(d.join(f).is_file(), "{f}");
    }

    // skopeo login writes an auth file that later commands reuse.
    let reg = RegistryServer::start(Mode::Htpasswd(&[("u", "p")]));
    let img = ImageSpec::new(11).layers(&[10]).build("v");
    push_with_skopeo(&img, &format!("{}/lib/a:v", reg.host()), Some(("u", "p")));
    let authfile = env.scratch("auth").join("auth.json");
    let af = authfile.to_str().unwrap();
    run_ok(
        env.skopeo()
            .args([
                "login",
                "--tls-verify=false",
                "--authfile",
                af,
                "-u",
                "u",
                "--password-stdin",
            ])
            .arg(reg.host()),
        Some(b"p\n"),
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&authfile).unwrap()).unwrap();
    assert_eq!(v["auths"][reg.host()]["auth"], "dTpw");
    let dest = format!("docker://{}/lib/a:v", reg.host());
    run_ok(
        env.skopeo()
            .args(["inspect", "--tls-verify=false", "--authfile", af])
            .arg(&dest),
        None,
    );
    let anon = run(
        env.skopeo()
            .args(["inspect", "--tls-verify=false", "--no-creds"])
            .arg(&dest),
        None,
    );
    assert!(!anon.status.success());
}
