//! Cross-checks with the real Docker CLI (28, logging in client-side without a daemon): both
//! write the same bytes after the same login, and each uses or removes what the other stored.
//! Every test sets up its own config deliberately and hides credential helpers.

use crate::login::{
    b64, hoist_login, relogin_with_refresh_token, relogin_with_stored_password, token_setup,
};
use crate::support::images::{push_with_skopeo, ImageSpec};
use crate::support::registry::{Mode, RegistryServer};
use crate::support::tools::{assert_exit, assert_stderr_has, stderr, stdout};
use crate::support::tools::{run, run_ok, TestEnv};
use std::process::Output;

fn docker_login(env: &TestEnv, host: &str, user: &str, stdin: &[u8]) -> Output {
    run(
        env.docker()
            .args(["login", host, "-u", user, "--password-stdin"]),
        Some(stdin),
    )
}

fn env_with(initial: Option<&str>) -> TestEnv {
    let env = TestEnv::new().without_credential_helpers();
    match initial {
        Some(json) => env.with_docker_config(json),
        None => env,
    }
}

/// Runs the same login with hoist and with docker, each from `initial`, and returns
/// (hoist's config.json, docker's config.json).
fn both_login(initial: Option<&str>, host: &str, user: &str, stdin: &[u8]) -> (String, String) {
    let h = env_with(initial);
    let out = hoist_login(&h, host, user, stdin);
    assert_exit(&out, 0);
    let d = env_with(initial);
    let out = docker_login(&d, host, user, stdin);
    assert_exit(&out, 0);
    (
        h.docker_config_json().expect("hoist wrote config.json"),
        d.docker_config_json().expect("docker wrote config.json"),
    )
}

/// Replaces every `identitytoken` value (different for each login) with a fixed string,
/// touching nothing else in the bytes.
fn mask_identity_tokens(text: &str) -> String {
    let marker = "\"identitytoken\": \"";
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(marker) {
        let start = i + marker.len();
        out.push_str(&rest[..start]);
        let end = rest[start..].find('"').expect("closing quote") + start;
        out.push_str("MASKED");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Every field Docker 28's ConfigFile knows, with values that need Go's escaping and
/// sorting, plus another registry's entry with an email.
const FULL_CONFIG: &str = r#"{
  "features": {"z": "1", "a": "2"},
  "aliases": {"builder": "buildx"},
  "plugins": {"zeta": {"b": "1", "a": "<&>"}, "alpha": {"x": "y"}},
  "cliPluginsExtraDirs": ["/opt/b", "/opt/a"],
  "currentContext": "default",
  "experimental": "enabled",
  "proxies": {"default": {"noProxy": "*.local", "httpProxy": "http://p:3128", "allProxy": "socks5://s", "ftpProxy": "ftp://f", "httpsProxy": "http://q"}},
  "pruneFilters": ["label=a", "until=24h"],
  "nodesFormat": "n", "configFormat": "c", "secretFormat": "s", "tasksFormat": "t",
  "servicesFormat": "sv", "serviceInspectFormat": "pretty",
  "credHelpers": {"z.example.com": "pass", "a.example.com": "ecr-login"},
  "detachKeys": "ctrl-p,ctrl-q",
  "statsFormat": "st", "volumesFormat": "v", "pluginsFormat": "p", "networksFormat": "nw",
  "imagesFormat": "i",
  "psFormat": "table {{.ID}}\t<{{.Names}}> & \u2028 \u00e9 \"q\" \\ / \u0007",
  "HttpHeaders": {"X-Z": "1", "X-A": "<2>"},
  "auths": {"b.example.com": {"auth": "dTpw", "email": "x@y"}, "a.example.com": {"auth": "dTpw"}}
}"#;

#[test]
fn same_bytes_as_docker_after_htpasswd_login() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret"), ("bob", "p w:x")]));
    // From nothing.
    let (h, d) = both_login(None, &reg.host(), "alice", b"s3cret\n");
    assert_eq!(h, d);
    // A password with a space and a colon.
    let (h, d) = both_login(None, &reg.host(), "bob", b"p w:x\n");
    assert_eq!(h, d);
    // Over an existing entry for the same host that has an email.
    let existing = format!(
        "{{\"auths\": {{\"{}\": {{\"auth\": \"{}\", \"email\": \"a@example.com\"}}}}}}",
        reg.host(),
        b64("old:old")
    );
    let (h, d) = both_login(Some(&existing), &reg.host(), "alice", b"s3cret\n");
    assert_eq!(h, d);
    // Over a config holding every field Docker knows.
    let (h, d) = both_login(Some(FULL_CONFIG), &reg.host(), "alice", b"s3cret\n");
    assert_eq!(h, d);
}

#[test]
fn same_bytes_as_docker_after_token_login() {
    let (_issuer, reg) = token_setup();
    let (h, d) = both_login(None, &reg.host(), "alice", b"pw\n");
    assert!(h.contains("\"identitytoken\": \"rt-"), "{h}");
    assert_ne!(h, d, "each login gets its own refresh token");
    assert_eq!(mask_identity_tokens(&h), mask_identity_tokens(&d));
    let (h, d) = both_login(Some(FULL_CONFIG), &reg.host(), "alice", b"pw\n");
    assert_eq!(mask_identity_tokens(&h), mask_identity_tokens(&d));
}

#[test]
fn hoist_reuses_credentials_docker_stored() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let env = env_with(None);
    assert_exit(&docker_login(&env, &reg.host(), "alice", b"s3cret\n"), 0);
    relogin_with_stored_password(&env, &reg.host(), "alice");
}

#[test]
fn hoist_reuses_identity_token_docker_stored() {
    let (issuer, reg) = token_setup();
    let env = env_with(None);
    assert_exit(&docker_login(&env, &reg.host(), "alice", b"pw\n"), 0);
    let stored = env.docker_config_json().unwrap();
    assert!(stored.contains("identitytoken"), "{stored}");
    let (out, _) = relogin_with_refresh_token(&env, &reg.host(), &issuer);
    assert_stderr_has(
        &out,
        "Authenticating with existing credentials... [Username: alice]",
    );
    // Docker's token is still the one stored (the issuer hands the same one back).
    assert_eq!(env.docker_config_json().unwrap(), stored);
}

#[test]
fn pull_and_push_exchange_the_identity_token_docker_stored() {
    let (issuer, reg) = token_setup();
    let image = ImageSpec::new(40).build("v1");
    push_with_skopeo(
        &image,
        &format!("{}/team/app:1", reg.host()),
        Some(("alice", "pw")),
    );
    let env = env_with(None);
    assert_exit(&docker_login(&env, &reg.host(), "alice", b"pw\n"), 0);
    let store = env.scratch("store");
    let store = store.to_str().unwrap();
    for args in [
        vec!["pull", "--store", store],
        vec!["push", "--store", store, "--from"],
    ] {
        issuer.clear_requests();
        let reference = format!("{}/team/app:1", reg.host());
        let mut cmd = env.hoist();
        cmd.args(&args[..1]).arg(&reference).args(&args[1..]);
        if args[0] == "push" {
            cmd.arg(&reference);
        }
        let out = run_ok(&mut cmd, None);
        assert_eq!(stdout(&out), format!("{}\n", image.digest()));
        // One refresh-token grant, never the password (which hoist does not have).
        let grants: Vec<_> = issuer
            .requests()
            .iter()
            .map(|r| (r.method.clone(), r.grant_type.clone(), r.status))
            .collect();
        assert_eq!(
            grants,
            [("POST".to_string(), Some("refresh_token".to_string()), 200)],
            "{}",
            args[0]
        );
    }
}

#[test]
fn docker_logout_removes_what_hoist_stored() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let env = env_with(Some("{\"psFormat\": \"p\"}"));
    assert_exit(&hoist_login(&env, &reg.host(), "alice", b"s3cret\n"), 0);
    let out = run_ok(env.docker().args(["logout", &reg.host()]), None);
    assert!(
        stdout(&out).contains(&format!("Removing login credentials for {}", reg.host())),
        "{}",
        stdout(&out)
    );
    let after = env.docker_config_json().unwrap();
    assert!(!after.contains(&reg.host()), "{after}");
    // And hoist now finds nothing to reuse.
    let out = run(env.hoist().args(["login", &reg.host()]), None);
    assert!(!out.status.success());
    assert!(!stderr(&out).contains("existing credentials"));
}

#[test]
fn hoist_logout_removes_what_docker_stored() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let initial = "{\"psFormat\": \"p\"}";
    let h = env_with(Some(initial));
    let d = env_with(Some(initial));
    for env in [&h, &d] {
        assert_exit(&docker_login(env, &reg.host(), "alice", b"s3cret\n"), 0);
    }
    let out = run_ok(h.hoist().args(["logout", &reg.host()]), None);
    assert!(
        stdout(&out).contains(&format!("Removing login credentials for {}", reg.host())),
        "{}",
        stdout(&out)
    );
    run_ok(d.docker().args(["logout", &reg.host()]), None);
    assert_eq!(h.docker_config_json(), d.docker_config_json());
    assert!(!h.docker_config_json().unwrap().contains(&reg.host()));
}

#[test]
fn logout_bytes_match_docker_on_a_full_config() {
    let host = "reg.example.com:5000";
    let initial = FULL_CONFIG.replace(
        "\"a.example.com\": {\"auth\": \"dTpw\"}",
        &format!("\"a.example.com\": {{\"auth\": \"dTpw\"}}, \"{host}\": {{\"auth\": \"dTpw\"}}"),
    );
    let h = env_with(Some(&initial));
    let d = env_with(Some(&initial));
    run_ok(h.hoist().args(["logout", host]), None);
    run_ok(d.docker().args(["logout", host]), None);
    assert_eq!(h.docker_config_json(), d.docker_config_json());
}

#[test]
fn server_spellings_give_the_same_key_as_docker() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let host = reg.host();
    for server in [
        format!("http://{host}"),
        format!("https://{host}/"),
        format!("{host}/v2/"),
    ] {
        let (h, d) = both_login(None, &server, "alice", b"s3cret\n");
        assert_eq!(h, d, "{server}");
        assert!(h.contains(&format!("\"{host}\"")), "{server}: {h}");
        // And hoist logs out of it under that spelling.
        let env = env_with(Some(&h));
        let out = run_ok(env.hoist().args(["logout", &server]), None);
        assert!(
            stdout(&out).contains(&format!("Removing login credentials for {host}")),
            "{server}: {}",
            stdout(&out)
        );
        assert!(!env.docker_config_json().unwrap().contains(&host));
    }
}

#[test]
fn odd_but_valid_starting_configs_match_docker() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    for initial in [
        "",
        "\n",
        "{}",
        "{\"auths\": {}}",
        "{\"auths\": null}",
        "{\"credsStore\": \"\"}",
        "{\"credHelpers\": {}}",
        // (Not "User-Agent": docker drops that header from the file as a side effect of
        // building its HTTP client; hoist keeps what the user wrote.)
        "{\"HttpHeaders\": {\"X-Meta\": \"x\", \"X-Empty\": \"\"}, \"psFormat\": \"\"}",
        "{\"auths\": {\"https://index.docker.io/v1/\": {\"auth\": \"dTpw\"}, \"legacy.example.com\": {\"username\": \"u\", \"password\": \"p\"}}}",
    ] {
        let (h, d) = both_login(Some(initial), &reg.host(), "alice", b"s3cret\n");
        assert_eq!(h, d, "starting from {initial:?}");
    }
}

#[test]
fn password_flag_and_stdin_together_is_a_usage_error() {
    let env = env_with(None);
    let out = run(
        env.hoist().args([
            "login",
            "127.0.0.1:1",
            "-u",
            "alice",
            "-p",
            "x",
            "--password-stdin",
        ]),
        Some(b"x\n"),
    );
    assert_exit(&out, 2);
    assert_stderr_has(&out, "mutually exclusive");
    assert_eq!(env.docker_config_json(), None);
}
