//! Errors that say what to do: the exact stderr of the common mistakes, so that a wording
//! which sends the user the wrong way (to the store, to lowercase, to ecr-login) comes back
//! only by a failing test.

use crate::login::hoist_login;
use crate::support::images::{push_with_skopeo, ImageSpec};
use crate::support::registry::{Mode, RegistryServer};
use crate::support::scenario::Target;
use crate::support::token_issuer::IssuerConfig;
use crate::support::tools::{assert_exit, run, stderr, TestEnv};

fn hoist(env: &TestEnv, args: &[&str]) -> std::process::Output {
    run(env.hoist().args(args), None)
}

/// A `--from` that can only be a path names the missing file, not the store.
#[test]
fn push_from_a_missing_path_says_no_such_file() {
    let env = TestEnv::new().without_credential_helpers();
    for from in [
        "./missing",
        "missing.tar",
        "../gone/image.tgz",
        "/nonexistent/layout",
    ] {
        let out = hoist(&env, &["push", "127.0.0.1:1/team/app:v1", "--from", from]);
        assert_exit(&out, 2);
        assert_eq!(
            stderr(&out),
            format!("error: {from}: no such file or directory\n")
        );
    }
}

/// `a//b` and `http://` were both reported as "repository names must be lowercase".
#[test]
fn reference_errors_name_the_real_problem() {
    let env = TestEnv::new().without_credential_helpers();
    let output = env.scratch("out").display().to_string();
    let cases = [
        (
            "reg:5000/a//b",
            "empty path component (\"//\", or \"/\" at an end)",
        ),
        (
            "http://host/app",
            "drop the scheme: hoist picks HTTP or HTTPS itself (see --insecure)",
        ),
        (
            "https://host/app:v1",
            "drop the scheme: hoist picks HTTP or HTTPS itself (see --insecure)",
        ),
    ];
    for (reference, why) in cases {
        let out = hoist(&env, &["pull", reference, "--output", &output]);
        assert_exit(&out, 2);
        assert_eq!(
            stderr(&out),
            format!("error: invalid reference {reference:?}: {why}\n")
        );
    }
}

/// What `docker-credential-pass ACTION` itself answers in `env` (pass not initialised).
fn pass_says(env: &TestEnv, action: &str, stdin: &[u8]) -> String {
    let out = run(
        env.command("docker-credential-pass").arg(action),
        Some(stdin),
    );
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// With pass not initialised, pass's own advice (`Try "pass init"`) leads the error of a login,
/// with no advice about ecr-login above it.
#[test]
fn a_credential_helpers_own_message_comes_first() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let env = TestEnv::new().with_docker_config("{\"credsStore\": \"pass\"}");
    let store_words = pass_says(
        &env,
        "store",
        br#"{"ServerURL":"x","Username":"u","Secret":"s"}"#,
    );
    assert!(store_words.contains("pass init"), "{store_words}");
    let out = hoist_login(&env, &reg.host(), "alice", b"s3cret\n");
    assert_exit(&out, 1);
    assert_eq!(
        stderr(&out),
        format!("error: docker-credential-pass: {store_words} (the credential helper set by credsStore in config.json, asked to store)\n")
    );
}

/// A `config.json` that is a directory is named as such by every command: an error for login
/// and logout, which need the file, and a warning for pull and push, which go on without it.
#[test]
fn a_config_json_that_is_a_directory_says_so() {
    let reg = RegistryServer::start(Mode::Open);
    let image = ImageSpec::new(17).layers(&[3_000]).build("v1");
    let reference = format!("{}/team/app:v1", reg.host());
    push_with_skopeo(&image, &reference, None);
    let env = TestEnv::new().without_credential_helpers();
    let config = env.config_json_path();
    std::fs::create_dir(&config).unwrap();
    let said = format!(
        "{} is a directory, not a file: remove it, or point DOCKER_CONFIG (or --config) elsewhere",
        config.display()
    );
    let out = hoist_login(&env, &reg.host(), "alice", b"pw\n");
    assert_exit(&out, 1);
    assert_eq!(stderr(&out), format!("error: {said}\n"));
    let out = hoist(&env, &["logout", &reg.host()]);
    assert_exit(&out, 1);
    assert_eq!(stderr(&out), format!("error: {said}\n"));

    let warning = format!("WARNING! {said}; continuing without its credentials\n");
    let output = env.scratch("out").display().to_string();
    let out = hoist(&env, &["pull", &reference, "--output", &output]);
    assert_exit(&out, 0);
    assert!(stderr(&out).starts_with(&warning), "{}", stderr(&out));
    let copy = format!("{}/team/copy:v1", reg.host());
    let out = hoist(&env, &["push", &copy, "--from", &output]);
    assert_exit(&out, 0);
    assert!(stderr(&out).starts_with(&warning), "{}", stderr(&out));
}

/// A registry that demands credentials when hoist has none: not "refused", which is kept for
/// credentials that were sent and turned down.
#[test]
fn no_credentials_says_not_logged_in_and_wrong_ones_say_refused() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let reference = format!("{}/team/app:v1", reg.host());
    let env = TestEnv::new().without_credential_helpers();
    let output = env.scratch("out").display().to_string();
    let out = hoist(&env, &["pull", &reference, "--output", &output]);
    assert_exit(&out, 1);
    let host = reg.host();
    let line = format!("  Caused by: not logged in to {host}: run hoist login {host}\n");
    assert!(stderr(&out).ends_with(&line), "{}", stderr(&out));
    assert!(!stderr(&out).contains("refused"), "{}", stderr(&out));

    let out = hoist_login(&env, &host, "alice", b"wrong\n");
    assert_exit(&out, 1);
    assert!(stderr(&out).contains(&format!("{host} refused the credentials")));
}

/// The same with a token registry: the anonymous token hoist gets reaches no private
/// repository, and that is "not logged in", not a bare 401.
#[test]
fn an_anonymous_token_refused_says_not_logged_in() {
    let target = Target::token(IssuerConfig::default());
    let host = target.reg.host();
    let env = TestEnv::new().without_credential_helpers();
    let output = env.scratch("out").display().to_string();
    let reference = format!("{host}/team/app:v1");
    let out = hoist(&env, &["pull", &reference, "--output", &output]);
    assert_exit(&out, 1);
    let line = format!("  Caused by: not logged in to {host}: run hoist login {host}\n");
    assert!(stderr(&out).ends_with(&line), "{}", stderr(&out));
    assert!(!stderr(&out).contains("401"), "{}", stderr(&out));
}

/// A registry that is not there is one cause line, not five; `--debug` keeps the whole chain.
#[test]
fn an_unreachable_registry_is_one_line_unless_debug() {
    // A loopback port with no listener: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = TestEnv::new().without_credential_helpers();
    let output = env.scratch("out").display().to_string();
    let reference = format!("127.0.0.1:{port}/team/app:v1");
    let out = hoist(&env, &["pull", &reference, "--output", &output]);
    assert_exit(&out, 1);
    let said = stderr(&out);
    let errors: Vec<&str> = said.lines().filter(|l| !l.starts_with("Pulling")).collect();
    let line = format!("  Caused by: cannot connect to 127.0.0.1:{port}: connection refused");
    assert_eq!(
        errors,
        [
            format!("error: fetching the manifest of {reference}").as_str(),
            line.as_str()
        ]
    );
    let out = hoist(&env, &["--debug", "pull", &reference, "--output", &output]);
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("Caused by: "), "{}", stderr(&out));
    assert!(stderr(&out).contains("os error 111"), "{}", stderr(&out));
}
