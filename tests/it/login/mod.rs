//! `hoist login` / `hoist logout` against real registries (htpasswd, token, open), checking
//! what the user sees, what lands in config.json, and what the registry and token service saw.

mod config;
mod logout;
mod remote;
mod verify;

use crate::support::registry::{Mode, RegistryServer};
use crate::support::token_issuer::{IssuerConfig, TokenIssuer};
use crate::support::tools::{run, TestEnv};
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
