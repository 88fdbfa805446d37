//! `hoist login` / `hoist logout` against real registries (htpasswd, token, open), checking
//! what the user sees, what lands in config.json, and what the registry and token service saw.

mod config;
mod logout;
mod remote;
mod verify;

use crate::support::registry::{Mode, RegistryServer};
use crate::support::token_issuer::{IssuerConfig, TokenIssuer, TokenRequest};
use crate::support::tools::{assert_exit, assert_stderr_has, run, stdout, TestEnv};
use base64::Engine;
use std::os::unix::fs::PermissionsExt;
use std::process::Output;

pub fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// `hoist login HOST -u USER --password-stdin` fed `stdin`.
pub fn hoist_login(env: &TestEnv, host: &str, user: &str, stdin: &[u8]) -> Output {
    run(
        env.hoist()
            .args(["login", host, "-u", user, "--password-stdin"]),
        Some(stdin),
    )
}

/// Docker's bytes for a config holding exactly one `auths` entry with `auth`.
pub fn single_auth_config(host: &str, user: &str, password: &str) -> String {
    format!(
        "{{\n\t\"auths\": {{\n\t\t\"{host}\": {{\n\t\t\t\"auth\": \"{}\"\n\t\t}}\n\t}}\n}}",
        b64(&format!("{user}:{password}"))
    )
}

/// A registry that lets alice in with `s3cret`, and nobody else.
pub fn alice_registry() -> RegistryServer {
    RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]))
}

/// config.json holds exactly one login, `user:password` for `host`, in Docker's own bytes.
#[track_caller]
pub fn assert_only_login(env: &TestEnv, host: &str, user: &str, password: &str) {
    assert_eq!(
        env.docker_config_json().unwrap(),
        single_auth_config(host, user, password)
    );
}

/// `hoist login HOST` with no flags, over a stored password login as `user`: verified,
/// accepted, and config.json left byte for byte as it was.
pub(crate) fn relogin_with_stored_password(env: &TestEnv, host: &str, user: &str) {
    let stored = env.docker_config_json().unwrap();
    let out = run(env.hoist().args(["login", host]), None);
    assert_exit(&out, 0);
    assert_stderr_has(
        &out,
        &format!("Authenticating with existing credentials... [Username: {user}]"),
    );
    assert!(stdout(&out).contains("Login Succeeded"));
    assert_eq!(env.docker_config_json().unwrap(), stored);
}

/// `hoist login HOST` with no flags, over stored token credentials: it must verify them with
/// exactly one OAuth2 refresh-token POST. The run and that request are returned for the
/// caller's own checks.
pub(crate) fn relogin_with_refresh_token(
    env: &TestEnv,
    host: &str,
    issuer: &TokenIssuer,
) -> (Output, TokenRequest) {
    issuer.clear_requests();
    let out = run(env.hoist().args(["login", host]), None);
    assert_exit(&out, 0);
    assert_stderr_has(&out, "Authenticating with existing credentials");
    let reqs = issuer.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    let req = reqs.into_iter().next().unwrap();
    assert_eq!(
        (req.method.as_str(), req.grant_type.as_deref(), req.status),
        ("POST", Some("refresh_token"), 200),
        "{req:?}"
    );
    (out, req)
}

pub fn token_setup() -> (TokenIssuer, RegistryServer) {
    let issuer = TokenIssuer::start(IssuerConfig::default().user("alice", "pw").allow(
        "alice",
        "team/*",
        &["pull", "push"],
    ));
    let reg = RegistryServer::start(Mode::Token(&issuer));
    (issuer, reg)
}

pub(crate) fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap()
}

pub(crate) fn mode_of(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}
