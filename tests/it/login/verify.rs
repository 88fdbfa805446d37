//! Login verifies credentials before storing them: password on stdin, wrong passwords,
//! stored credentials reused, and token registries that hand back an identity token.

use super::{
    alice_registry, assert_only_login, b64, hoist_login, json, relogin_with_refresh_token,
    relogin_with_stored_password, single_auth_config, token_setup,
};
use crate::support::registry::{Mode, RegistryServer};
use crate::support::tools::{assert_exit, assert_stderr_has, run, run_ok, stderr, stdout, TestEnv};

#[test]
fn password_stdin_succeeds_and_stores_base64_auth() {
    let reg = alice_registry();
    let env = TestEnv::new().without_credential_helpers();
    let out = hoist_login(&env, &reg.host(), "alice", b"s3cret\n");
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("Login Succeeded"), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("stored unencrypted"),
        "Docker's warning about unencrypted storage: {}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("s3cret") && !stdout(&out).contains("s3cret"));
    assert_only_login(&env, &reg.host(), "alice", "s3cret");
}

#[test]
fn password_stdin_trims_exactly_one_line_ending() {
    // htpasswd users whose passwords end in what a sloppy trim would remove.
    let reg = RegistryServer::start(Mode::Htpasswd(&[
        ("crlf", "pw"),
        ("space", "pw "),
        ("twolines", "pw\n"),
    ]));
    for (user, input, stored) in [
        ("crlf", &b"pw\r\n"[..], "pw"),
        ("crlf", b"pw\r", "pw"),
        ("crlf", b"pw", "pw"),
        ("space", b"pw \n", "pw "),
        ("twolines", b"pw\n\n", "pw\n"),
    ] {
        let env = TestEnv::new().without_credential_helpers();
        let out = hoist_login(&env, &reg.host(), user, input);
        assert_exit(&out, 0);
        assert_eq!(
            env.docker_config_json().unwrap(),
            single_auth_config(&reg.host(), user, stored),
            "input {input:?}"
        );
    }
    // Trimming more than one line ending would turn "pw\n\n" into the wrong "pw".
    let env = TestEnv::new().without_credential_helpers();
    let out = hoist_login(&env, &reg.host(), "crlf", b"pw\n\n");
    assert_exit(&out, 1);
}

#[test]
fn empty_password_on_stdin_is_refused() {
    let reg = alice_registry();
    let env = TestEnv::new().without_credential_helpers();
    for input in [&b""[..], b"\n", b"\r\n"] {
        let out = hoist_login(&env, &reg.host(), "alice", input);
        assert!(!out.status.success());
        assert_stderr_has(&out, "password is empty");
    }
    assert_eq!(env.docker_config_json(), None);
}

#[test]
fn password_stdin_without_username_is_a_usage_error() {
    let env = TestEnv::new().without_credential_helpers();
    // No registry needed: the command line is wrong before any network access.
    let out = run(
        env.hoist()
            .args(["login", "127.0.0.1:1", "--password-stdin"]),
        Some(b"pw\n"),
    );
    assert_exit(&out, 2);
    assert_stderr_has(&out, "--username");
    assert_eq!(env.docker_config_json(), None);
}

#[test]
fn password_flag_warns_it_is_insecure() {
    let reg = alice_registry();
    let env = TestEnv::new().without_credential_helpers();
    let out = run_ok(
        env.hoist()
            .args(["login", &reg.host(), "-u", "alice", "-p", "s3cret"]),
        None,
    );
    assert_stderr_has(&out, "Using --password via the CLI is insecure");
    assert!(stdout(&out).contains("Login Succeeded"));
}

#[test]
fn wrong_password_fails_and_writes_nothing() {
    let reg = alice_registry();
    // No config.json yet: none may be created.
    let env = TestEnv::new().without_credential_helpers();
    let out = hoist_login(&env, &reg.host(), "alice", b"wrong\n");
    assert_exit(&out, 1);
    assert_stderr_has(&out, "refused the credentials");
    assert!(!stderr(&out).contains("wrong"), "{}", stderr(&out));
    assert_eq!(env.docker_config_json(), None);
    assert!(std::fs::read_dir(&env.docker_config)
        .unwrap()
        .next()
        .is_none());

    // An existing config.json stays byte for byte as it was, good credentials included.
    let before = single_auth_config(&reg.host(), "alice", "s3cret");
    let env = TestEnv::new()
        .without_credential_helpers()
        .with_docker_config(&before);
    let out = hoist_login(&env, &reg.host(), "alice", b"wrong\n");
    assert_exit(&out, 1);
    assert_eq!(env.docker_config_json().unwrap(), before);
}

#[test]
fn wrong_password_on_token_registry_writes_nothing() {
    let (_issuer, reg) = token_setup();
    let env = TestEnv::new().without_credential_helpers();
    let out = hoist_login(&env, &reg.host(), "alice", b"nope\n");
    assert_exit(&out, 1);
    assert_stderr_has(&out, "refused the credentials");
    assert_eq!(env.docker_config_json(), None);
}

#[test]
fn no_credentials_and_no_terminal_fails_at_once() {
    let reg = alice_registry();
    let env = TestEnv::new().without_credential_helpers();
    // stdin is /dev/null (TestEnv's default): not a terminal, and reading it gives EOF, so
    // even a wrong implementation that reads would not hang; assert on the message instead.
    let out = run(env.hoist().args(["login", &reg.host()]), None);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("non TTY") || stderr(&out).contains("not a terminal"),
        "{}",
        stderr(&out)
    );
    // Username given, password missing: same.
    let out = run(
        env.hoist().args(["login", &reg.host(), "-u", "alice"]),
        None,
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("non TTY") || stderr(&out).contains("not a terminal"),
        "{}",
        stderr(&out)
    );
    // And a pipe that stays open must not be waited on either.
    let mut child = env
        .hoist()
        .args(["login", &reg.host(), "-u", "alice"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let _keep_open = child.stdin.take();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            panic!("hoist login waited on a non-terminal stdin");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(!status.success());
    assert_eq!(env.docker_config_json(), None);
}

#[test]
fn stored_credentials_are_reused_without_flags() {
    let reg = alice_registry();
    let stored = single_auth_config(&reg.host(), "alice", "s3cret");
    let env = TestEnv::new()
        .without_credential_helpers()
        .with_docker_config(&stored);
    relogin_with_stored_password(&env, &reg.host(), "alice");
}

#[test]
fn reverifying_stored_credentials_keeps_their_email() {
    // As Docker's file store does when it re-saves what it read (docker itself needs a daemon
    // for this path, so it cannot be cross-checked here). A fresh login drops the email: see
    // docker_cli::same_bytes_as_docker_after_htpasswd_login.
    let reg = alice_registry();
    let stored = format!(
        "{{\n\t\"auths\": {{\n\t\t\"{}\": {{\n\t\t\t\"auth\": \"{}\",\n\t\t\t\"email\": \"a@example.com\"\n\t\t}}\n\t}}\n}}",
        reg.host(),
        b64("alice:s3cret")
    );
    let env = TestEnv::new()
        .without_credential_helpers()
        .with_docker_config(&stored);
    run_ok(env.hoist().args(["login", &reg.host()]), None);
    assert_eq!(env.docker_config_json().unwrap(), stored);
}

#[test]
fn invalid_stored_credentials_without_terminal_fail() {
    let reg = alice_registry();
    let stored = single_auth_config(&reg.host(), "alice", "old-password");
    let env = TestEnv::new()
        .without_credential_helpers()
        .with_docker_config(&stored);
    let out = run(env.hoist().args(["login", &reg.host()]), None);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("Authenticating with existing credentials... [Username: alice]"),
        "{err}"
    );
    assert!(err.contains("invalid or expired"), "{err}");
    assert!(!err.contains("old-password"), "{err}");
    assert_eq!(env.docker_config_json().unwrap(), stored);
}

#[test]
fn token_login_stores_identity_token_not_password() {
    let (issuer, reg) = token_setup();
    let env = TestEnv::new().without_credential_helpers();
    let out = hoist_login(&env, &reg.host(), "alice", b"pw\n");
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("Login Succeeded"));
    let reqs = issuer.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    let r = &reqs[0];
    assert_eq!(
        (r.method.as_str(), r.had_basic_auth, r.offline),
        ("GET", true, true),
        "{r:?}"
    );
    assert_eq!(r.user.as_deref(), Some("alice"));
    assert_eq!(r.account.as_deref(), Some("alice"));
    assert_eq!(r.service.as_deref(), Some(issuer.service().as_str()));
    assert!(r.client_id.is_some(), "{r:?}");
    let cfg = env.docker_config_json().unwrap();
    let v = json(&cfg);
    let entry = &v["auths"][reg.host()];
    assert_eq!(entry["auth"], b64("alice:"), "{cfg}");
    let token = entry["identitytoken"].as_str().expect("identitytoken");
    assert!(token.starts_with("rt-"), "{cfg}");
    assert_eq!(entry.as_object().unwrap().len(), 2, "{cfg}");
    // Docker's exact bytes.
    assert_eq!(
        cfg,
        format!(
            "{{\n\t\"auths\": {{\n\t\t\"{}\": {{\n\t\t\t\"auth\": \"{}\",\n\t\t\t\"identitytoken\": \"{token}\"\n\t\t}}\n\t}}\n}}",
            reg.host(),
            b64("alice:")
        )
    );

    // A later login without flags verifies with the refresh token: an OAuth2 POST.
    let (out, req) = relogin_with_refresh_token(&env, &reg.host(), &issuer);
    assert_stderr_has(
        &out,
        "Authenticating with existing credentials... [Username: alice]",
    );
    assert!(!req.had_basic_auth, "{req:?}");
    assert_eq!(req.user.as_deref(), Some("alice"));
    let v2 = json(&env.docker_config_json().unwrap());
    assert_eq!(v2["auths"][reg.host()]["auth"], b64("alice:"));
    assert!(v2["auths"][reg.host()]["identitytoken"].is_string());

    // An identity token the service no longer knows: invalid or expired, nothing changed.
    let forged = format!(
        "{{\n\t\"auths\": {{\n\t\t\"{}\": {{\n\t\t\t\"auth\": \"{}\",\n\t\t\t\"identitytoken\": \"rt-unknown\"\n\t\t}}\n\t}}\n}}",
        reg.host(),
        b64("alice:")
    );
    let env = TestEnv::new()
        .without_credential_helpers()
        .with_docker_config(&forged);
    let out = run(env.hoist().args(["login", &reg.host()]), None);
    assert_exit(&out, 1);
    assert_stderr_has(&out, "invalid or expired");
    assert_eq!(env.docker_config_json().unwrap(), forged);
}
