//! `hoist login` / `hoist logout` against real registries (htpasswd, token, open), checking
//! what the user sees, what lands in config.json, and what the registry and token service saw.

use crate::support::registry::{Mode, RegistryServer};
use crate::support::token_issuer::{IssuerConfig, TokenIssuer};
use crate::support::tools::{assert_exit, run, run_ok, stderr, stdout, TestEnv};
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

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap()
}

fn mode_of(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn password_stdin_succeeds_and_stores_base64_auth() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
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
    assert_eq!(
        env.docker_config_json().unwrap(),
        single_auth_config(&reg.host(), "alice", "s3cret")
    );
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
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let env = TestEnv::new().without_credential_helpers();
    for input in [&b""[..], b"\n", b"\r\n"] {
        let out = hoist_login(&env, &reg.host(), "alice", input);
        assert!(!out.status.success());
        assert!(
            stderr(&out).contains("password is empty"),
            "{}",
            stderr(&out)
        );
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
    assert!(stderr(&out).contains("--username"), "{}", stderr(&out));
    assert_eq!(env.docker_config_json(), None);
}

#[test]
fn password_flag_warns_it_is_insecure() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let env = TestEnv::new().without_credential_helpers();
    let out = run_ok(
        env.hoist()
            .args(["login", &reg.host(), "-u", "alice", "-p", "s3cret"]),
        None,
    );
    assert!(
        stderr(&out).contains("Using --password via the CLI is insecure"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("Login Succeeded"));
}

#[test]
fn wrong_password_fails_and_writes_nothing() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    // No config.json yet: none may be created.
    let env = TestEnv::new().without_credential_helpers();
    let out = hoist_login(&env, &reg.host(), "alice", b"wrong\n");
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("refused the credentials"),
        "{}",
        stderr(&out)
    );
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
    assert!(
        stderr(&out).contains("refused the credentials"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.docker_config_json(), None);
}

#[test]
fn no_credentials_and_no_terminal_fails_at_once() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
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
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let stored = single_auth_config(&reg.host(), "alice", "s3cret");
    let env = TestEnv::new()
        .without_credential_helpers()
        .with_docker_config(&stored);
    let out = run(env.hoist().args(["login", &reg.host()]), None);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("Authenticating with existing credentials... [Username: alice]"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("Login Succeeded"));
    assert_eq!(env.docker_config_json().unwrap(), stored);
}

#[test]
fn reverifying_stored_credentials_keeps_their_email() {
    // As Docker's file store does when it re-saves what it read (docker itself needs a daemon
    // for this path, so it cannot be cross-checked here). A fresh login drops the email: see
    // docker_cli::same_bytes_as_docker_after_htpasswd_login.
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
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
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
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
    issuer.clear_requests();
    let out = run(env.hoist().args(["login", &reg.host()]), None);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("Authenticating with existing credentials... [Username: alice]"),
        "{}",
        stderr(&out)
    );
    let reqs = issuer.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(
        (
            reqs[0].method.as_str(),
            reqs[0].grant_type.as_deref(),
            reqs[0].had_basic_auth,
            reqs[0].status
        ),
        ("POST", Some("refresh_token"), false, 200),
        "{reqs:?}"
    );
    assert_eq!(reqs[0].user.as_deref(), Some("alice"));
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
    assert!(
        stderr(&out).contains("invalid or expired"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.docker_config_json().unwrap(), forged);
}

#[test]
fn open_registry_login_succeeds() {
    let reg = RegistryServer::start(Mode::Open);
    let env = TestEnv::new().without_credential_helpers();
    let out = hoist_login(&env, &reg.host(), "anyone", b"anything\n");
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("Login Succeeded"));
    // Docker stores what was given even though the registry asked for nothing.
    assert_eq!(
        env.docker_config_json().unwrap(),
        single_auth_config(&reg.host(), "anyone", "anything")
    );
}

#[test]
fn unknown_config_fields_survive_a_login() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let before = "{\n\t\"zcustom\": {\"nested\": [1, 2.50, \"x\"], \"b\": true},\n\t\"proxies\": {\"default\": {\"httpProxy\": \"http://proxy:3128\", \"noProxy\": \"*.local\"}},\n\t\"psFormat\": \"table {{.ID}}\\t{{.Names}}\",\n\t\"auths\": {\"other.example.com\": {\"auth\": \"dTpw\", \"email\": \"u@example.com\"}}\n}\n";
    let env = TestEnv::new()
        .without_credential_helpers()
        .with_docker_config(before);
    let out = hoist_login(&env, &reg.host(), "alice", b"s3cret\n");
    assert_exit(&out, 0);
    let after = json(&env.docker_config_json().unwrap());
    let mut expected = json(before);
    expected["auths"][reg.host()] = serde_json::json!({"auth": b64("alice:s3cret")});
    assert_eq!(after, expected);
}

#[test]
fn malformed_config_is_an_error_and_left_alone() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let broken = "{\"auths\": {\"x\": {\"auth\": \"dTpw\"}},,\n";
    let env = TestEnv::new()
        .without_credential_helpers()
        .with_docker_config(broken);
    let out = hoist_login(&env, &reg.host(), "alice", b"s3cret\n");
    assert_exit(&out, 1);
    let path = env.config_json_path().display().to_string();
    assert!(stderr(&out).contains(&path), "{}", stderr(&out));
    assert_eq!(env.docker_config_json().unwrap(), broken);
    // logout must not overwrite it either.
    let out = run(env.hoist().args(["logout", &reg.host()]), None);
    assert_exit(&out, 1);
    assert!(stderr(&out).contains(&path), "{}", stderr(&out));
    assert_eq!(env.docker_config_json().unwrap(), broken);
}

#[test]
fn unwritable_config_dir_names_the_path_and_suggests_a_fix() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let env = TestEnv::new().without_credential_helpers();
    // A directory under a regular file can never be created, even by root.
    let file = env.scratch("x").join("plain-file");
    std::fs::write(&file, "").unwrap();
    let dir = file.join("docker");
    let out = run(
        env.hoist().env("DOCKER_CONFIG", &dir).args([
            "login",
            &reg.host(),
            "-u",
            "alice",
            "--password-stdin",
        ]),
        Some(b"s3cret\n"),
    );
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains(&dir.display().to_string()), "{err}");
    assert!(
        err.contains("DOCKER_CONFIG") && err.contains("--config"),
        "{err}"
    );
    assert!(!err.contains("Login Succeeded") && !stdout(&out).contains("Login Succeeded"));

    // A directory on a read-only filesystem: /proc refuses new entries even to root.
    let proc_dir = std::path::PathBuf::from("/proc/hoist-login-test/docker");
    let out = run(
        env.hoist().arg("--config").arg(&proc_dir).args([
            "login",
            &reg.host(),
            "-u",
            "alice",
            "--password-stdin",
        ]),
        Some(b"s3cret\n"),
    );
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains(&proc_dir.display().to_string()), "{err}");
    assert!(
        err.contains("DOCKER_CONFIG") && err.contains("--config"),
        "{err}"
    );

    // A read-only directory, where permissions apply (not as root).
    if unsafe { libc_geteuid() } != 0 {
        let ro = env.scratch("ro");
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o500)).unwrap();
        let out = run(
            env.hoist().env("DOCKER_CONFIG", &ro).args([
                "login",
                &reg.host(),
                "-u",
                "alice",
                "--password-stdin",
            ]),
            Some(b"s3cret\n"),
        );
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_exit(&out, 1);
        assert!(
            stderr(&out).contains(&ro.display().to_string()),
            "{}",
            stderr(&out)
        );
    }
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

#[test]
fn config_flag_beats_docker_config_and_home_is_optional() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let env = TestEnv::new().without_credential_helpers();
    let flag_dir = env.scratch("flag-dir");
    let out = run(
        env.hoist().arg("--config").arg(&flag_dir).args([
            "login",
            &reg.host(),
            "-u",
            "alice",
            "--password-stdin",
        ]),
        Some(b"s3cret\n"),
    );
    assert_exit(&out, 0);
    assert_eq!(
        std::fs::read_to_string(flag_dir.join("config.json")).unwrap(),
        single_auth_config(&reg.host(), "alice", "s3cret")
    );
    assert_eq!(env.docker_config_json(), None, "DOCKER_CONFIG untouched");

    // HOME unset, DOCKER_CONFIG set (to a directory that does not exist yet).
    let fresh = env.scratch("nohome").join("cfg");
    let out = run(
        env.hoist()
            .env_remove("HOME")
            .env("DOCKER_CONFIG", &fresh)
            .args(["login", &reg.host(), "-u", "alice", "--password-stdin"]),
        Some(b"s3cret\n"),
    );
    assert_exit(&out, 0);
    let cfg = fresh.join("config.json");
    assert_eq!(
        std::fs::read_to_string(&cfg).unwrap(),
        single_auth_config(&reg.host(), "alice", "s3cret")
    );
    assert_eq!(mode_of(&cfg), 0o600);
    assert_eq!(mode_of(&fresh), 0o700);
    // No home directory at all was invented.
    assert!(!env.home.join(".docker").exists());

    // Both unset, no --config: a clear error, not a panic.
    let out = run(
        env.hoist()
            .env_remove("HOME")
            .env_remove("DOCKER_CONFIG")
            .args(["login", &reg.host(), "-u", "alice", "--password-stdin"]),
        Some(b"s3cret\n"),
    );
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("DOCKER_CONFIG"), "{}", stderr(&out));
}

#[test]
fn existing_file_mode_is_kept_and_symlink_is_written_through() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let env = TestEnv::new().without_credential_helpers();
    let real_dir = env.scratch("dotfiles");
    let real = real_dir.join("docker-config.json");
    std::fs::write(&real, "{\"psFormat\": \"x\"}").unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::symlink(&real, env.config_json_path()).unwrap();
    let out = hoist_login(&env, &reg.host(), "alice", b"s3cret\n");
    assert_exit(&out, 0);
    let link = std::fs::symlink_metadata(env.config_json_path()).unwrap();
    assert!(link.file_type().is_symlink(), "the symlink was replaced");
    let text = std::fs::read_to_string(&real).unwrap();
    assert_eq!(
        json(&text)["auths"][reg.host()]["auth"],
        b64("alice:s3cret")
    );
    assert_eq!(mode_of(&real), 0o640);
    // No temp files left beside the target or the link.
    for dir in [&real_dir, &env.docker_config] {
        let names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    }
}

#[test]
fn docker_hub_key_for_logout() {
    let hub = "https://index.docker.io/v1/";
    for args in [
        &["logout"][..],
        &["logout", "docker.io"],
        &["logout", "index.docker.io"],
    ] {
        let env = TestEnv::new()
            .without_credential_helpers()
            .with_docker_config(&format!(
                "{{\"auths\": {{\"{hub}\": {{\"auth\": \"{}\"}}, \"keep.example.com\": {{\"auth\": \"{}\"}}}}}}",
                b64("u:p"),
                b64("k:p")
            ));
        let out = run_ok(env.hoist().args(args), None);
        assert!(
            stdout(&out).contains(&format!("Removing login credentials for {hub}")),
            "{args:?}: {}",
            stdout(&out)
        );
        assert_eq!(
            env.docker_config_json().unwrap(),
            single_auth_config("keep.example.com", "k", "p"),
            "{args:?}"
        );
    }
}

#[test]
fn logout_removes_every_spelling_and_is_quiet_when_not_logged_in() {
    let host = "reg.example.com:5000";
    let env = TestEnv::new()
        .without_credential_helpers()
        .with_docker_config(&format!(
            "{{\"auths\": {{\"{host}\": {{\"auth\": \"{a}\"}}, \"https://{host}\": {{\"auth\": \"{a}\"}}, \"http://{host}\": {{\"auth\": \"{a}\"}}, \"https://{host}/v1/\": {{\"auth\": \"{a}\"}}, \"other.example.com:5000\": {{\"auth\": \"{a}\"}}}}, \"psFormat\": \"p\"}}",
            a = b64("u:p")
        ));
    let out = run_ok(env.hoist().args(["logout", host]), None);
    assert!(
        stdout(&out).contains(&format!("Removing login credentials for {host}")),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        env.docker_config_json().unwrap(),
        format!(
            "{{\n\t\"auths\": {{\n\t\t\"other.example.com:5000\": {{\n\t\t\t\"auth\": \"{}\"\n\t\t}}\n\t}},\n\t\"psFormat\": \"p\"\n}}",
            b64("u:p")
        )
    );
    // Not logged in (any more): exit 0 with a message, file untouched.
    let before = env.docker_config_json().unwrap();
    let out = run(env.hoist().args(["logout", host]), None);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).to_lowercase().contains("not logged in"),
        "{}",
        stdout(&out)
    );
    assert_eq!(env.docker_config_json().unwrap(), before);
    // No config at all: same, and nothing created.
    let empty = TestEnv::new().without_credential_helpers();
    let out = run(empty.hoist().args(["logout", host]), None);
    assert_exit(&out, 0);
    assert_eq!(empty.docker_config_json(), None);
}

#[test]
fn login_then_logout_round_trip() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let env = TestEnv::new()
        .without_credential_helpers()
        .with_docker_config("{\"psFormat\": \"p\"}");
    run_ok(
        env.hoist()
            .args(["login", &reg.host(), "-u", "alice", "--password-stdin"]),
        Some(b"s3cret\n"),
    );
    let out = run_ok(env.hoist().args(["logout", &reg.host()]), None);
    assert!(stdout(&out).contains(&format!("Removing login credentials for {}", reg.host())));
    assert_eq!(
        env.docker_config_json().unwrap(),
        "{\n\t\"auths\": {},\n\t\"psFormat\": \"p\"\n}"
    );
}

/// This machine's first non-loopback IPv4 address, if it has one.
fn non_loopback_ipv4() -> Option<std::net::Ipv4Addr> {
    let out = std::process::Command::new("hostname")
        .arg("-I")
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|w| w.parse::<std::net::Ipv4Addr>().ok())
        .find(|ip| !ip.is_loopback())
}

/// A TCP forwarder on `ip` to `upstream` that records every byte clients sent.
struct Forwarder {
    addr: std::net::SocketAddr,
    seen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Forwarder {
    fn start(ip: std::net::Ipv4Addr, upstream: String) -> Forwarder {
        use std::io::{Read, Write};
        use std::net::{TcpListener, TcpStream};
        let listener = TcpListener::bind((ip, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { break };
                let Ok(mut server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let mut client2 = client.try_clone().unwrap();
                let mut server2 = server.try_clone().unwrap();
                let seen = seen2.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = client.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        seen.lock().unwrap().extend_from_slice(&buf[..n]);
                        if server.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = server.shutdown(std::net::Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut server2, &mut client2);
                    let _ = client2.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        Forwarder { addr, seen }
    }

    fn saw_authorization(&self) -> bool {
        String::from_utf8_lossy(&self.seen.lock().unwrap())
            .to_ascii_lowercase()
            .contains("authorization:")
    }
}

#[test]
fn no_credentials_over_plain_http_to_a_remote_host_without_insecure() {
    let Some(ip) = non_loopback_ipv4() else {
        eprintln!("skipped: this machine has no non-loopback IPv4 address");
        return;
    };
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let fwd = Forwarder::start(ip, reg.host());
    let host = fwd.addr.to_string();
    let env = TestEnv::new().without_credential_helpers();
    let out = hoist_login(&env, &host, "alice", b"s3cret\n");
    assert_exit(&out, 1);
    assert!(!fwd.saw_authorization(), "credentials went over plain HTTP");
    assert_eq!(env.docker_config_json(), None);

    // Naming the host in --insecure allows plain HTTP.
    let out = run(
        env.hoist().args([
            "--insecure",
            &host,
            "login",
            &host,
            "-u",
            "alice",
            "--password-stdin",
        ]),
        Some(b"s3cret\n"),
    );
    assert_exit(&out, 0);
    assert!(fwd.saw_authorization());
    assert_eq!(
        env.docker_config_json().unwrap(),
        single_auth_config(&host, "alice", "s3cret")
    );
}

/// Runs hoist with `args` inside a pseudo-terminal (util-linux `script`), typing `input`.
fn hoist_in_terminal(env: &TestEnv, args: &[&str], input: &[u8]) -> Output {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut line = quote(env!("CARGO_BIN_EXE_hoist"));
    for a in args {
        line.push(' ');
        line.push_str(&quote(a));
    }
    run(
        env.command("script")
            .args(["-q", "-e", "-c", &line, "/dev/null"]),
        Some(input),
    )
}

#[test]
fn terminal_prompts_for_what_is_missing() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let env = TestEnv::new().without_credential_helpers();
    let out = hoist_in_terminal(&env, &["login", &reg.host()], b"alice\ns3cret\n");
    assert_exit(&out, 0);
    let screen = stdout(&out);
    assert!(
        screen.contains("Username: ") && screen.contains("Password: "),
        "{screen}"
    );
    assert!(screen.contains("Login Succeeded"), "{screen}");
    assert_eq!(
        env.docker_config_json().unwrap(),
        single_auth_config(&reg.host(), "alice", "s3cret")
    );
}

#[test]
fn terminal_prompts_again_when_stored_credentials_are_refused() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let env = TestEnv::new()
        .without_credential_helpers()
        .with_docker_config(&single_auth_config(&reg.host(), "alice", "old"));
    // An empty username line takes the stored name offered as default.
    let out = hoist_in_terminal(&env, &["login", &reg.host()], b"\ns3cret\n");
    assert_exit(&out, 0);
    let screen = stdout(&out);
    assert!(screen.contains("[Username: alice]"), "{screen}");
    assert!(screen.contains("invalid or expired"), "{screen}");
    assert!(screen.contains("Username (alice): "), "{screen}");
    assert_eq!(
        env.docker_config_json().unwrap(),
        single_auth_config(&reg.host(), "alice", "s3cret")
    );
}

#[test]
fn docker_auth_config_is_verified_but_never_copied_to_disk() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let layer = |pw: &str| {
        format!(
            "{{\"auths\": {{\"{}\": {{\"auth\": \"{}\"}}}}}}",
            reg.host(),
            b64(&format!("alice:{pw}"))
        )
    };
    let env = TestEnv::new()
        .without_credential_helpers()
        .env("DOCKER_AUTH_CONFIG", &layer("s3cret"));
    let out = run(env.hoist().args(["login", &reg.host()]), None);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("Authenticating with existing credentials... [Username: alice]"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.docker_config_json(), None, "the secret stays off disk");
    assert!(!stderr(&out).contains("unencrypted"), "{}", stderr(&out));

    // The variable overrides the file.
    let env = TestEnv::new()
        .without_credential_helpers()
        .with_docker_config(&single_auth_config(&reg.host(), "alice", "s3cret"))
        .env("DOCKER_AUTH_CONFIG", &layer("stale"));
    let out = run(env.hoist().args(["login", &reg.host()]), None);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("invalid or expired"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn legacy_dockercfg_is_read_when_there_is_no_config_json() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let env = TestEnv::new().without_credential_helpers();
    let legacy = format!(
        "{{\"{}\": {{\"auth\": \"{}\", \"email\": \"a@example.com\"}}}}",
        reg.host(),
        b64("alice:s3cret")
    );
    std::fs::write(env.home.join(".dockercfg"), &legacy).unwrap();
    let out = run(env.hoist().args(["login", &reg.host()]), None);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("[Username: alice]"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(env.home.join(".dockercfg")).unwrap(),
        legacy
    );
}

#[test]
fn debug_output_never_shows_secrets() {
    let (_issuer, reg) = token_setup();
    let env = TestEnv::new().without_credential_helpers();
    let out = run(
        env.hoist().args([
            "--debug",
            "login",
            &reg.host(),
            "-u",
            "alice",
            "--password-stdin",
        ]),
        Some(b"pw\n"),
    );
    assert_exit(&out, 0);
    let cfg = json(&env.docker_config_json().unwrap());
    let token = cfg["auths"][reg.host()]["identitytoken"]
        .as_str()
        .unwrap()
        .to_string();
    let all = stdout(&out) + &stderr(&out);
    assert!(all.contains("debug:"), "--debug logged nothing: {all}");
    for secret in [token.as_str(), &b64("alice:pw"), "Bearer ", "Basic "] {
        assert!(!all.contains(secret), "{secret:?} in output:\n{all}");
    }
    // Again with the refresh token.
    let out = run(env.hoist().args(["--debug", "login", &reg.host()]), None);
    assert_exit(&out, 0);
    let all = stdout(&out) + &stderr(&out);
    assert!(!all.contains(&token), "{all}");
}

#[test]
fn tls_registry_with_ca_from_certs_d() {
    use crate::support::registry::TlsOptions;
    use crate::support::tls::TestCa;
    let ca = TestCa::new();
    let tls = TlsOptions {
        server: ca.server_cert(),
        client_cas: None,
    };
    let reg = RegistryServer::start_tls(Mode::Htpasswd(&[("alice", "s3cret")]), &tls);
    // Without the CA: the certificate is the problem, and nothing is stored.
    let env = TestEnv::new().without_credential_helpers();
    let out = hoist_login(&env, &reg.host(), "alice", b"s3cret\n");
    assert_exit(&out, 1);
    assert!(
        stderr(&out).to_lowercase().contains("certificate"),
        "the error should say the certificate is not trusted: {}",
        stderr(&out)
    );
    assert_eq!(env.docker_config_json(), None);
    // With the CA in $DOCKER_CONFIG/certs.d/HOST/.
    ca.docker_certs_d(&env.docker_config, &reg.host(), None);
    let out = hoist_login(&env, &reg.host(), "alice", b"s3cret\n");
    assert_exit(&out, 0);
    let cfg = json(&env.docker_config_json().unwrap());
    assert_eq!(cfg["auths"][reg.host()]["auth"], b64("alice:s3cret"));
}

#[test]
fn unreachable_registry_fails_and_stores_nothing() {
    // A port nothing listens on (bound, then released).
    let port = crate::support::free_port();
    let env = TestEnv::new().without_credential_helpers();
    let out = hoist_login(&env, &format!("127.0.0.1:{port}"), "alice", b"s3cret\n");
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("nothing was stored"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("s3cret"));
    assert_eq!(env.docker_config_json(), None);
}
