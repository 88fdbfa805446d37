//! No password or token ever reaches hoist's output: every command, failures and `--debug`
//! included, is run and all it prints is searched for each secret and its encodings.

use crate::support::images::{push_with_skopeo, ImageSpec};
use crate::support::registry::{Mode, RegistryServer};
use crate::support::token_issuer::{IssuerConfig, TokenIssuer};
use crate::support::tools::{run, TestEnv};
use base64::Engine;

const USER: &str = "secret-keeper";
const PASSWORD: &str = "pw-Zq81-never-print-me";
const WRONG: &str = "pw-Wx55-wrong-never-print-me";

/// Runs hoist and returns everything it printed.
fn output(env: &TestEnv, args: &[&str], stdin: Option<&str>) -> String {
    let mut cmd = env.hoist();
    cmd.arg("--debug").args(args);
    let out = run(&mut cmd, stdin.map(str::as_bytes));
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `login -u USER --password-stdin HOST` with `password` on stdin.
fn login_stdin(env: &TestEnv, host: &str, password: &str) -> String {
    output(
        env,
        &["login", "-u", USER, "--password-stdin", host],
        Some(&format!("{password}\n")),
    )
}

/// What every auth mode's transcript holds once a login is stored: a login from it, a pull
/// into `layout`, and a push of that layout under another name.
fn with_stored_login(env: &TestEnv, host: &str, reference: &str, layout: &str) -> String {
    let mut transcript = output(env, &["login", host], None);
    transcript += &output(env, &["pull", reference, "--output", layout], None);
    transcript += &output(
        env,
        &["push", &format!("{host}/s/copy:v1"), "--from", layout],
        None,
    );
    transcript
}

fn forbidden(extra: &[String]) -> Vec<String> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut secrets = vec![
        PASSWORD.to_string(),
        WRONG.to_string(),
        b64(&format!("{USER}:{PASSWORD}")),
        b64(&format!("{USER}:{WRONG}")),
    ];
    secrets.extend(extra.iter().cloned());
    secrets
}

fn assert_clean(transcript: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(
            !transcript.contains(secret.as_str()),
            "a secret leaked into hoist's output:\n{transcript}"
        );
    }
}

#[test]
fn no_secret_in_any_output_with_basic_auth() {
    let registry = RegistryServer::start(Mode::Htpasswd(&[(USER, PASSWORD)]));
    let host = registry.host();
    let reference = format!("{host}/s/app:v1");
    push_with_skopeo(
        &ImageSpec::new(3).layers(&[5_000]).build("v1"),
        &reference,
        Some((USER, PASSWORD)),
    );
    let env = TestEnv::new().without_credential_helpers();
    let layout = env.scratch("layout").display().to_string();
    let mut transcript = String::new();
    transcript += &login_stdin(&env, &host, WRONG);
    transcript += &output(&env, &["login", "-u", USER, "-p", WRONG, &host], None);
    transcript += &login_stdin(&env, &host, PASSWORD);
    transcript += &with_stored_login(&env, &host, &reference, &layout);
    transcript += &output(
        &env,
        &["pull", &format!("{host}/s/missing:v1"), "--output", &layout],
        None,
    );
    transcript += &output(&env, &["logout", &host], None);
    assert!(
        transcript.contains("debug: GET"),
        "--debug logged no requests:\n{transcript}"
    );
    assert!(transcript.contains("Login Succeeded"));
    assert_clean(&transcript, &forbidden(&[]));
}

#[test]
fn no_token_in_any_output_with_token_auth() {
    let issuer = TokenIssuer::start(IssuerConfig::default().user(USER, PASSWORD).allow(
        USER,
        "*",
        &["pull", "push"],
    ));
    let registry = RegistryServer::start(Mode::Token(&issuer));
    let host = registry.host();
    let reference = format!("{host}/s/app:v1");
    push_with_skopeo(
        &ImageSpec::new(4).layers(&[5_000]).build("v1"),
        &reference,
        Some((USER, PASSWORD)),
    );
    let env = TestEnv::new().without_credential_helpers();
    let layout = env.scratch("layout").display().to_string();
    let mut transcript = login_stdin(&env, &host, PASSWORD);
    let config: serde_json::Value =
        serde_json::from_str(&env.docker_config_json().unwrap()).unwrap();
    let refresh = config["auths"][&host]["identitytoken"]
        .as_str()
        .expect("identity token stored")
        .to_string();
    transcript += &with_stored_login(&env, &host, &reference, &layout);
    transcript += &login_stdin(&env, &host, WRONG);
    assert!(transcript.contains("debug: GET"));
    // The access tokens are JWTs: none of their signed form may show either.
    assert!(!transcript.contains("eyJ"), "a JWT leaked:\n{transcript}");
    assert_clean(&transcript, &forbidden(&[refresh]));
}
