//! hoist where CI pods run it: a read-only root filesystem, a UID with no passwd entry, no
//! HOME, a registry Secret mounted read-only, and one writable directory.
//!
//! Each command runs in its own mount namespace whose root is remounted read-only, as a
//! random UID with no passwd entry, with only the test's directory writable. Needs root (CI runs as root).

use crate::runs::{finished, spawn_with_stdin};
use crate::support::images::{push_with_skopeo, ImageSpec};
use crate::support::registry::{Mode, RegistryServer};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const USER: (&str, &str) = ("ci-bot", "restricted-pw-8843");

struct Jail {
    dir: tempfile::TempDir,
    /// Unique per jail, so a scan for its files is not confused by tests running beside it.
    uid: u32,
}

impl Jail {
    fn new() -> Option<Jail> {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout == b"0\n")
            .unwrap_or(false);
        if !root {
            assert!(
                std::env::var_os("CI").is_none(),
                "restricted-pod tests need root to create mount namespaces; CI runs as root"
            );
            eprintln!("skipping: restricted-pod tests need root (mount namespaces)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        chmod(dir.path(), 0o777);
        Some(Jail {
            dir,
            uid: 20_000 + rand::random::<u32>() % 40_000,
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs hoist read-only everywhere but the jail dir (and `read_only` inside it), with
    /// exactly the environment given: no HOME unless a test passes one.
    fn hoist(
        &self,
        env: &[(&str, &str)],
        args: &[&str],
        read_only: &[&Path],
        stdin: &[u8],
    ) -> Output {
        let dir = self.dir.path().display().to_string();
        let mut script = format!("set -e; mount --make-rprivate /; mount --bind {dir} {dir}; ");
        for path in read_only {
            let p = path.display();
            script += &format!("mount --bind {p} {p}; mount -o remount,bind,ro {p}; ");
        }
        script += "mount -o remount,bind,ro /; ";
        // The jail must really be read-only, or the scan below proves nothing.
        script += "if touch /hoist-jail-probe 2>/dev/null; then echo 'root is writable' >&2; exit 99; fi; ";
        let uid = self.uid;
        script +=
            &format!("cd /; exec setpriv --reuid={uid} --regid={uid} --clear-groups env -i \"$@\"");
        let mut command = Command::new("unshare");
        command.args(["-m", "sh", "-c", &script, "jail", "PATH=/usr/bin:/bin"]);
        for (k, v) in env {
            command.arg(format!("{k}={v}"));
        }
        command.arg(env!("CARGO_BIN_EXE_hoist")).args(args);
        finished(spawn_with_stdin(&mut command, stdin))
    }

    /// Files the jailed UID created outside the jail dir, on every mount that stays writable.
    fn stray_files(&self) -> Vec<String> {
        let out = Command::new("find")
            .args([
                "/dev",
                "/tmp",
                "/var/tmp",
                "/root",
                "/work",
                "-xdev",
                "-uid",
                &self.uid.to_string(),
            ])
            .output()
            .unwrap();
        let jail = self.dir.path().display().to_string();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.starts_with(&jail))
            .map(str::to_string)
            .collect()
    }
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn ok(out: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout: {}\nstderr: {stderr}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn seeded_registry() -> (RegistryServer, String, String) {
    let registry = RegistryServer::start(Mode::Htpasswd(&[USER]));
    let image = ImageSpec::new(7).layers(&[40_000, 9_000]).build("v1");
    let reference = format!("{}/team/app:v1", registry.host());
    push_with_skopeo(&image, &reference, Some(USER));
    (registry, reference, image.digest().to_string())
}

#[test]
fn every_command_works_on_a_read_only_root_without_home() {
    let Some(jail) = Jail::new() else { return };
    let (registry, reference, digest) = seeded_registry();
    let host = registry.host();
    let config = jail.path("docker-config");
    let store = jail.path("store");
    let config_env = config.display().to_string();
    let env = [("DOCKER_CONFIG", config_env.as_str())];
    let stdin = format!("{}\n", USER.1);

    let out = jail.hoist(
        &env,
        &["login", "-u", USER.0, "--password-stdin", &host],
        &[],
        stdin.as_bytes(),
    );
    assert_eq!(ok(&out, "login"), "Login Succeeded");
    assert!(config.join("config.json").is_file());

    let store_arg = store.display().to_string();
    let out = jail.hoist(&env, &["pull", &reference, "--store", &store_arg], &[], b"");
    assert_eq!(ok(&out, "pull"), digest);

    let copy = format!("{host}/team/copy:v1");
    let out = jail.hoist(
        &env,
        &["push", &copy, "--from", &reference, "--store", &store_arg],
        &[],
        b"",
    );
    assert_eq!(ok(&out, "push from the store"), digest);

    // Pushing --from a path writes nothing at all: the layout is mounted read-only.
    let layout = jail.path("layout");
    let out = jail.hoist(
        &env,
        &[
            "pull",
            &reference,
            "--output",
            &layout.display().to_string(),
        ],
        &[],
        b"",
    );
    ok(&out, "pull --output");
    let before = list_files(&layout);
    let fromdir = format!("{host}/team/fromdir:v1");
    let out = jail.hoist(
        &env,
        &["push", &fromdir, "--from", &layout.display().to_string()],
        &[&layout],
        b"",
    );
    assert_eq!(ok(&out, "push --from a read-only layout"), digest);
    assert_eq!(list_files(&layout), before);

    let out = jail.hoist(&env, &["logout", &host], &[], b"");
    ok(&out, "logout");
    assert!(!std::fs::read_to_string(config.join("config.json"))
        .unwrap()
        .contains(&host));

    assert_eq!(
        jail.stray_files(),
        Vec::<String>::new(),
        "hoist wrote outside the allowed paths"
    );
}

#[test]
fn read_only_mounted_secret_serves_pull_push_and_an_unchanged_login() {
    let Some(jail) = Jail::new() else { return };
    let (registry, reference, digest) = seeded_registry();
    let host = registry.host();
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", USER.0, USER.1));
    // A kubernetes.io/dockerconfigjson Secret, and the legacy kubernetes.io/dockercfg format.
    for (name, json) in [
        (
            "dockerconfigjson",
            format!(r#"{{"auths":{{"{host}":{{"auth":"{auth}"}}}}}}"#),
        ),
        (
            "dockercfg",
            format!(r#"{{"{host}":{{"auth":"{auth}","email":"ci@example.com"}}}}"#),
        ),
    ] {
        let secret = jail.path(&format!("secret-{name}"));
        std::fs::create_dir(&secret).unwrap();
        std::fs::write(secret.join("config.json"), &json).unwrap();
        let secret_env = secret.display().to_string();
        let env = [("DOCKER_CONFIG", secret_env.as_str())];
        let out_dir = jail.path(&format!("out-{name}")).display().to_string();
        let out = jail.hoist(
            &env,
            &["pull", &reference, "--output", &out_dir],
            &[&secret],
            b"",
        );
        assert_eq!(ok(&out, &format!("pull with a {name} secret")), digest);
        let dest = format!("{host}/team/{name}:v1");
        let out = jail.hoist(&env, &["push", &dest, "--from", &out_dir], &[&secret], b"");
        assert_eq!(ok(&out, &format!("push with a {name} secret")), digest);

        let stdin = format!("{}\n", USER.1);
        let out = jail.hoist(
            &env,
            &["login", "-u", USER.0, "--password-stdin", &host],
            &[&secret],
            stdin.as_bytes(),
        );
        // The Secret already holds these credentials: verified, nothing to write (as Docker).
        assert_eq!(
            ok(&out, &format!("login with a {name} secret")),
            "Login Succeeded"
        );
        assert_eq!(
            std::fs::read_to_string(secret.join("config.json")).unwrap(),
            json
        );
    }
}

#[test]
fn without_home_or_store_the_error_says_what_to_set() {
    let (_registry, reference, _) = seeded_registry();
    let out = Command::new(env!("CARGO_BIN_EXE_hoist"))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .args(["pull", &reference])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--store") && stderr.contains("HOIST_STORE") && stderr.contains("HOME"),
        "{stderr}"
    );
}

/// A read-only store or config is said once per line: `os error 30` once, not on two
/// cause lines (a message quoting its source, then the source again).
#[test]
fn a_read_only_store_or_config_says_os_error_30_once() {
    let Some(jail) = Jail::new() else { return };
    let (registry, reference, _) = seeded_registry();
    let store = jail.path("store");
    let config = jail.path("config");
    let read_only_config = jail.path("read-only-config");
    for dir in [&store, &read_only_config] {
        std::fs::create_dir(dir).unwrap();
    }
    let stdin = format!("{}\n", USER.1);
    let host = registry.host();
    let login_args = ["login", "-u", USER.0, "--password-stdin", &host];
    let config_env = config.display().to_string();
    let env = [("DOCKER_CONFIG", config_env.as_str())];
    ok(
        &jail.hoist(&env, &login_args, &[], stdin.as_bytes()),
        "login",
    );
    let store_arg = store.display().to_string();
    let pull_args = ["pull", &reference, "--store", &store_arg];
    let pull = jail.hoist(&env, &pull_args, &[&store], b"");
    let config_env = read_only_config.display().to_string();
    let env = [("DOCKER_CONFIG", config_env.as_str())];
    let login = jail.hoist(&env, &login_args, &[&read_only_config], stdin.as_bytes());
    for (what, out) in [("pull", pull), ("login", login)] {
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
        assert_eq!(stderr.matches("os error 30").count(), 1, "{what}: {stderr}");
    }
}

/// No HOME: the config directory and the store are the same missing setting, exit 2 both.
#[test]
fn without_home_the_config_is_a_usage_error_like_the_store() {
    let out = Command::new(env!("CARGO_BIN_EXE_hoist"))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .args(["login", "127.0.0.1:1", "-u", "a", "--password-stdin"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: cannot find Docker's config directory: HOME is not set; set DOCKER_CONFIG to a directory (or pass --config DIR)\n"
    );
}

fn list_files(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                files.push((entry.path(), meta.len()));
            }
        }
    }
    files.sort();
    files
}
