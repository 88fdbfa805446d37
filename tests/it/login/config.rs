//! What login does to config.json: unknown fields kept, malformed files left alone,
//! unwritable directories, --config, file modes and symlinks.

use super::{
    alice_registry, assert_only_login, b64, hoist_login, json, mode_of, single_auth_config,
};
use crate::support::registry::{Mode, RegistryServer};
use crate::support::tools::{assert_exit, assert_stderr_has, run, stderr, stdout, TestEnv};
use std::os::unix::fs::PermissionsExt;

#[test]
fn open_registry_login_succeeds() {
    let reg = RegistryServer::start(Mode::Open);
    let env = TestEnv::new().without_credential_helpers();
    let out = hoist_login(&env, &reg.host(), "anyone", b"anything\n");
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("Login Succeeded"));
    // Docker stores what was given even though the registry asked for nothing.
    assert_only_login(&env, &reg.host(), "anyone", "anything");
}

#[test]
fn unknown_config_fields_survive_a_login() {
    let reg = alice_registry();
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
    let reg = alice_registry();
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
    let reg = alice_registry();
    let env = TestEnv::new().without_credential_helpers();
    // A directory under a regular file can never be created, even by root.
    let file = env.scratch("x").join("plain-file");
    std::fs::write(&file, "").unwrap();
    let dir = file.join("docker");
    let out = login_as_alice(env.hoist().env("DOCKER_CONFIG", &dir), &reg.host());
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
    let out = login_as_alice(env.hoist().arg("--config").arg(&proc_dir), &reg.host());
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
        let out = login_as_alice(env.hoist().env("DOCKER_CONFIG", &ro), &reg.host());
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_exit(&out, 1);
        assert!(
            stderr(&out).contains(&ro.display().to_string()),
            "{}",
            stderr(&out)
        );
    }
}

/// `hoist login HOST` as alice (password from stdin), on a command whose config directory the
/// caller has set.
fn login_as_alice(hoist: &mut std::process::Command, host: &str) -> std::process::Output {
    run(
        hoist.args(["login", host, "-u", "alice", "--password-stdin"]),
        Some(b"s3cret\n"),
    )
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

#[test]
fn config_flag_beats_docker_config_and_home_is_optional() {
    let reg = alice_registry();
    let env = TestEnv::new().without_credential_helpers();
    let flag_dir = env.scratch("flag-dir");
    let out = login_as_alice(env.hoist().arg("--config").arg(&flag_dir), &reg.host());
    assert_exit(&out, 0);
    assert_eq!(
        std::fs::read_to_string(flag_dir.join("config.json")).unwrap(),
        single_auth_config(&reg.host(), "alice", "s3cret")
    );
    assert_eq!(env.docker_config_json(), None, "DOCKER_CONFIG untouched");

    // HOME unset, DOCKER_CONFIG set (to a directory that does not exist yet).
    let fresh = env.scratch("nohome").join("cfg");
    let out = login_as_alice(
        env.hoist().env_remove("HOME").env("DOCKER_CONFIG", &fresh),
        &reg.host(),
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

    // Both unset, no --config: a clear error, not a panic; exit 2 as for a missing store.
    let out = login_as_alice(
        env.hoist().env_remove("HOME").env_remove("DOCKER_CONFIG"),
        &reg.host(),
    );
    assert_exit(&out, 2);
    assert_stderr_has(&out, "DOCKER_CONFIG");
}

#[test]
fn existing_file_mode_is_kept_and_symlink_is_written_through() {
    let reg = alice_registry();
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
