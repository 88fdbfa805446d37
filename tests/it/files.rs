//! What hoist writes stays right. config.json keeps its owner, concurrent logins keep each
//! other's entries, a read-only config that already holds the credentials still logs in, and
//! a malformed config.json never stops a public pull nor gets overwritten. A result that
//! cannot reach stdout is an error, and registry text reaches the terminal escaped.

use crate::login::{alice_registry, b64, hoist_login};
use crate::runs::{finished, spawn_with_stdin};
use crate::support::images::{push_with_skopeo, ImageSpec};
use crate::support::proxy::{Fault, Kind, Match, Proxy};
use crate::support::registry::{Mode, RegistryServer};
use crate::support::tools::{assert_exit, stderr, stdout};
use crate::support::tools::{run, TestEnv};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n")
}

/// `cmd` (a program and its arguments, run with `env`'s environment) in a mount namespace
/// where `dir` is mounted read-only: how a Kubernetes Secret volume looks, even to root.
fn read_only(env: &TestEnv, dir: &Path, program: &str, args: &[&str]) -> Command {
    let d = dir.display();
    let script = format!(
        "set -e; mount --make-rprivate /; mount --bind {d} {d}; mount -o remount,bind,ro {d}; \
         if touch {d}/probe 2>/dev/null; then echo '{d} is writable' >&2; exit 99; fi; exec \"$@\""
    );
    let mut c = env.command("unshare");
    c.args(["-m", "sh", "-c", &script, "ro", program])
        .args(args);
    c
}

#[test]
fn root_login_keeps_the_config_files_owner_and_mode() {
    if !is_root() {
        eprintln!("skipping: giving a file to another user needs root");
        return;
    }
    let reg = alice_registry();
    let env = TestEnv::new()
        .without_credential_helpers()
        .with_docker_config(r#"{"auths":{"other.example":{"auth":"dTpw"}}}"#);
    let path = env.config_json_path();
    std::os::unix::fs::chown(&path, Some(4321), Some(4322)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();

    assert_exit(&hoist_login(&env, &reg.host(), "alice", b"s3cret\n"), 0);
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (4321, 4322), "owner kept");
    assert_eq!(meta.mode() & 0o7777, 0o640, "mode kept");
    let text = env.docker_config_json().unwrap();
    assert!(
        text.contains(&reg.host()) && text.contains("other.example"),
        "{text}"
    );

    // logout rewrites it too, and keeps the owner as well.
    assert_exit(&run(env.hoist().args(["logout", &reg.host()]), None), 0);
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid()),
        (4321, 4322),
        "owner kept by logout"
    );
}

/// Docker loses one of two concurrent logins' entries; hoist re-reads config.json under a lock.
#[test]
fn concurrent_logins_to_different_registries_keep_every_entry() {
    let registries: Vec<RegistryServer> =
        (0..4).map(|_| RegistryServer::start(Mode::Open)).collect();
    for round in 0..10 {
        let env = TestEnv::new()
            .without_credential_helpers()
            .with_docker_config(r#"{"auths":{"kept.example":{"auth":"dTpw"}},"custom":1}"#);
        let children: Vec<_> = registries
            .iter()
            .enumerate()
            .map(|(i, reg)| {
                let user = format!("user{i}");
                let args = ["login", &reg.host(), "-u", &user, "--password-stdin"];
                spawn_with_stdin(env.hoist().args(args), format!("pw-{i}\n").as_bytes())
            })
            .collect();
        for child in children {
            assert_exit(&finished(child), 0);
        }
        let config: serde_json::Value =
            serde_json::from_str(&env.docker_config_json().unwrap()).unwrap();
        let auths = config["auths"].as_object().unwrap();
        for (i, reg) in registries.iter().enumerate() {
            assert_eq!(
                auths.get(&reg.host()).and_then(|e| e["auth"].as_str()),
                Some(b64(&format!("user{i}:pw-{i}")).as_str()),
                "round {round}: {config:#}"
            );
        }
        assert!(
            auths.contains_key("kept.example") && config["custom"] == 1,
            "{config:#}"
        );
    }
}

/// Logouts take the same lock: running beside logins, each removes only its own entry.
#[test]
fn concurrent_logouts_and_logins_each_change_only_their_entry() {
    let registries: Vec<RegistryServer> =
        (0..4).map(|_| RegistryServer::start(Mode::Open)).collect();
    let hosts: Vec<String> = registries.iter().map(|r| r.host()).collect();
    for round in 0..10 {
        let start = format!(
            r#"{{"auths":{{"kept.example":{{"auth":"dTpw"}},"{}":{{"auth":"dTpw"}},"{}":{{"auth":"dTpw"}}}}}}"#,
            hosts[0], hosts[1]
        );
        let env = TestEnv::new()
            .without_credential_helpers()
            .with_docker_config(&start);
        let spawn = |args: &[&str], stdin: &[u8]| spawn_with_stdin(env.hoist().args(args), stdin);
        let children = vec![
            spawn(&["logout", &hosts[0]], b""),
            spawn(
                &["login", &hosts[2], "-u", "u2", "--password-stdin"],
                b"pw-2\n",
            ),
            spawn(&["logout", &hosts[1]], b""),
            spawn(
                &["login", &hosts[3], "-u", "u3", "--password-stdin"],
                b"pw-3\n",
            ),
        ];
        for child in children {
            assert_exit(&finished(child), 0);
        }
        let config: serde_json::Value =
            serde_json::from_str(&env.docker_config_json().unwrap()).unwrap();
        let mut keys: Vec<&str> = config["auths"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        let mut want = vec!["kept.example", hosts[2].as_str(), hosts[3].as_str()];
        want.sort();
        assert_eq!(keys, want, "round {round}: {config:#}");
    }
}

/// A CI script re-running `echo $PW | hoist login …` against a read-only Secret that already
/// holds those credentials succeeds, as `docker login` does; new credentials cannot be stored
/// there and say so, leaving the file alone.
#[test]
fn login_into_a_read_only_config_writes_only_when_the_entry_changes() {
    if !is_root() {
        eprintln!("skipping: read-only bind mounts need root");
        return;
    }
    let reg = alice_registry();
    let host = reg.host();
    let env = TestEnv::new().without_credential_helpers();
    // What kubectl puts in a dockerconfigjson Secret: compact, not Docker's layout.
    let secret = format!(
        r#"{{"auths":{{"{host}":{{"auth":"{}","email":"ci@example.com"}}}}}}"#,
        b64("alice:s3cret")
    );
    std::fs::write(env.config_json_path(), &secret).unwrap();
    let hoist = env!("CARGO_BIN_EXE_hoist");
    let login = ["login", &host, "-u", "alice", "--password-stdin"];

    let out = run(
        &mut read_only(&env, &env.docker_config, hoist, &login),
        Some(b"s3cret\n"),
    );
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("Login Succeeded"), "{}", stdout(&out));
    assert_eq!(env.docker_config_json().unwrap(), secret);
    // Docker behaves the same way (when the entry carries no email, which it would drop).
    let plain = format!(
        r#"{{"auths":{{"{host}":{{"auth":"{}"}}}}}}"#,
        b64("alice:s3cret")
    );
    std::fs::write(env.config_json_path(), &plain).unwrap();
    let out = run(
        &mut read_only(&env, &env.docker_config, "docker", &login),
        Some(b"s3cret\n"),
    );
    assert_exit(&out, 0);

    // Credentials that differ from the stored ones need a write, which cannot happen here.
    let stale = secret.replace(&b64("alice:s3cret"), &b64("alice:old"));
    std::fs::write(env.config_json_path(), &stale).unwrap();
    let out = run(
        &mut read_only(&env, &env.docker_config, hoist, &login),
        Some(b"s3cret\n"),
    );
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("config.json") && err.contains("DOCKER_CONFIG"),
        "{err}"
    );
    assert!(!stdout(&out).contains("Login Succeeded"));
    assert_eq!(env.docker_config_json().unwrap(), stale);
}

#[test]
fn malformed_config_only_warns_during_pull_and_push() {
    let reg = RegistryServer::start(Mode::Open);
    let image = ImageSpec::new(71).layers(&[5_000]).build("v1");
    push_with_skopeo(&image, &format!("{}/team/app:v1", reg.host()), None);
    let broken = "{\"auths\": {,,\n";
    let env = TestEnv::new()
        .without_credential_helpers()
        .with_docker_config(broken);
    let out_dir = env.scratch("out");
    // `hoist COMMAND HOST/team/REPO FLAG out`, which must move the image; returns stderr.
    let transfer = |command: &str, repo: &str, flag: &str| {
        let reference = format!("{}/team/{repo}", reg.host());
        let out = run(
            env.hoist().args([command, &reference, flag]).arg(&out_dir),
            None,
        );
        assert_exit(&out, 0);
        assert_eq!(stdout(&out).trim(), image.digest());
        stderr(&out)
    };
    let path = env.config_json_path().display().to_string();
    let err = transfer("pull", "app:v1", "--output");
    assert!(err.contains("WARNING") && err.contains(&path), "{err}");

    let err = transfer("push", "copy:v1", "--from");
    assert!(err.contains(&path), "{err}");
    assert_eq!(env.docker_config_json().unwrap(), broken, "never rewritten");
}

/// A digest that cannot reach stdout (a full disk) is a failure a script must see; a reader
/// that closed the pipe early wanted no more, which is no failure.
#[test]
fn a_result_that_cannot_be_written_fails_but_a_closed_pipe_does_not() {
    let reg = RegistryServer::start(Mode::Open);
    let image = ImageSpec::new(72).layers(&[5_000]).build("v1");
    let reference = format!("{}/team/app:v1", reg.host());
    push_with_skopeo(&image, &reference, None);
    let env = TestEnv::new().without_credential_helpers();
    let pull = |stdout: Stdio, close_pipe: bool| {
        let out_dir = env.scratch("out");
        let mut child = env
            .hoist()
            .args(["pull", &reference, "--output"])
            .arg(&out_dir)
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if close_pipe {
            drop(child.stdout.take());
        }
        finished(child)
    };
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = pull(Stdio::from(full), false);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("standard output") && err.contains("No space left"),
        "{err}"
    );

    let out = pull(Stdio::piped(), true);
    assert_exit(&out, 0);
    assert!(!stderr(&out).contains("error"), "{}", stderr(&out));
}

/// A registry's words reach the terminal, its control characters do not: an error envelope
/// that clears the screen and forges a `Login Succeeded` line is printed escaped.
#[test]
fn registry_text_is_printed_with_control_characters_escaped() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "pw")]));
    let proxy = Proxy::start(&reg.host());
    let hostile = Fault::Status {
        status: 403,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: r#"{"errors":[{"code":"DENIED\u001b]0;pwned\u0007","message":"\u001b[2J\nLogin Succeeded\r\u009b31m"}]}"#.into(),
    };
    let env = TestEnv::new().without_credential_helpers();
    // The registry's own challenge first (to the ping, to the bare manifest GET), then the
    // hostile answer to the credentials.
    proxy.inject_n(Match::method("GET", Kind::Ping).skip(1), hostile.clone(), 1);
    let login = hoist_login(&env, &proxy.host(), "alice", b"pw\n");
    proxy.inject_n(Match::method("GET", Kind::Manifest).skip(1), hostile, 1);
    let pull = run(
        env.hoist()
            .env(
                "DOCKER_AUTH_CONFIG",
                format!(
                    r#"{{"auths":{{"{}":{{"auth":"{}"}}}}}}"#,
                    proxy.host(),
                    b64("alice:pw")
                ),
            )
            .args(["pull", &format!("{}/team/app:v1", proxy.host()), "--output"])
            .arg(env.scratch("out")),
        None,
    );
    for out in [login, pull] {
        assert_exit(&out, 1);
        let (stdout, stderr) = (stdout(&out), stderr(&out));
        assert!(
            stderr.contains(r"DENIED\x1b]0;pwned\x07: \x1b[2J\nLogin Succeeded\r\u{9b}31m"),
            "{stderr}"
        );
        for text in [&stdout, &stderr] {
            assert!(!text.contains(['\x1b', '\x07', '\r', '\u{9b}']), "{text:?}");
            assert!(
                !text.lines().any(|l| l.trim() == "Login Succeeded"),
                "{text:?}"
            );
        }
    }
}
