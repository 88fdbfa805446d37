//! `hoist logout`: every spelling of a registry removed, quiet when not logged in.

use super::{alice_registry, b64, single_auth_config};
use crate::support::tools::{assert_exit, run, run_ok, stdout, TestEnv};

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
    let reg = alice_registry();
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
