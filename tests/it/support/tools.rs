//! Wrappers for hoist, the docker CLI, skopeo and a throwaway pass store.
//!
//! Every command gets a scrubbed environment: only PATH survives, HOME and
//! DOCKER_CONFIG point into a per-test temp dir, so nothing touches the
//! real home directory.
//!
//! Note: the docker CLI picks `pass` as credential store on its own when
//! config.json has no `auths` entries, `credsStore` or `credHelpers` and
//! both `pass` and `docker-credential-pass` are on PATH (an empty
//! `{"auths":{}}` does not prevent it). Use
//! [`TestEnv::without_credential_helpers`] to hide the helpers, or
//! [`TestEnv::with_pass`] to make the pass store work.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use tempfile::TempDir;

pub struct TestEnv {
    root: TempDir,
    pub home: PathBuf,
    pub docker_config: PathBuf,
    path: OsString,
    extra: Vec<(String, String)>,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let root = TempDir::new().unwrap();
        let home = root.path().join("home");
        let docker_config = root.path().join("docker-config");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&docker_config).unwrap();
        TestEnv {
            root,
            home,
            docker_config,
            path: std::env::var_os("PATH").unwrap_or_default(),
            extra: vec![],
        }
    }

    /// Writes `$DOCKER_CONFIG/config.json` verbatim.
    pub fn with_docker_config(self, json: &str) -> Self {
        std::fs::write(self.config_json_path(), json).unwrap();
        self
    }

    /// PATH becomes one directory of symlinks to everything on the real
    /// PATH except `docker-credential-*`, so the docker CLI (and hoist)
    /// fall back to storing credentials in config.json.
    pub fn without_credential_helpers(mut self) -> Self {
        let bin = self.root.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for dir in std::env::split_paths(&self.path) {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name();
                if name.to_string_lossy().starts_with("docker-credential-") {
                    continue;
                }
                // First PATH entry wins, as in a normal lookup.
                let _ = std::os::unix::fs::symlink(e.path(), bin.join(&name));
            }
        }
        self.path = bin.into_os_string();
        self
    }

    pub fn with_pass(mut self, pass: &PassStore) -> Self {
        self.extra.extend(pass.env_vars());
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.extra.push((k.into(), v.into()));
        self
    }

    pub fn config_json_path(&self) -> PathBuf {
        self.docker_config.join("config.json")
    }

    /// Contents of `$DOCKER_CONFIG/config.json`, if written.
    pub fn docker_config_json(&self) -> Option<String> {
        std::fs::read_to_string(self.config_json_path()).ok()
    }

    /// A scratch directory inside the env (removed on drop).
    pub fn scratch(&self, name: &str) -> PathBuf {
        let p = self.root.path().join(name);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    fn base(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env("PATH", &self.path)
            .env("HOME", &self.home)
            .env("DOCKER_CONFIG", &self.docker_config)
            .stdin(Stdio::null());
        for (k, v) in &self.extra {
            c.env(k, v);
        }
        c
    }

    /// Any program with this env (e.g. `docker-credential-pass`).
    pub fn command(&self, program: &str) -> Command {
        self.base(program)
    }

    /// The hoist binary under test.
    pub fn hoist(&self) -> Command {
        self.base(env!("CARGO_BIN_EXE_hoist"))
    }

    /// docker CLI that can never reach a daemon.
    pub fn docker(&self) -> Command {
        let mut c = self.base("docker");
        c.env("DOCKER_HOST", "unix:///nonexistent.sock");
        c
    }

    /// skopeo with a permissive policy. Pass `--tls-verify=false` (inspect),
    /// `--dest-tls-verify=false`/`--src-tls-verify=false` (copy) for plain
    /// HTTP registries, and `--authfile PATH` or `--creds u:p`
    /// (`--dest-creds` for copy) for auth.
    pub fn skopeo(&self) -> Command {
        let policy = self.root.path().join("policy.json");
        if !policy.exists() {
            std::fs::write(
                &policy,
                r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
            )
            .unwrap();
        }
        let mut c = self.base("skopeo");
        c.arg("--policy").arg(policy);
        c
    }
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

/// A run's stdout, lossily decoded: what tests compare.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A run's stderr, lossily decoded.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A temp path as an argument; test paths are always UTF-8.
pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The run exited with `code`; otherwise panics showing both streams.
pub fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

/// The run's stderr contains `needle`; otherwise panics showing the whole of it.
#[track_caller]
pub fn assert_stderr_has(o: &Output, needle: &str) {
    let err = stderr(o);
    assert!(err.contains(needle), "no {needle:?} in stderr:\n{err}");
}

/// Runs `cmd`, feeding `stdin` if given.
pub fn run(cmd: &mut Command, stdin: Option<&[u8]>) -> Output {
    if stdin.is_some() {
        cmd.stdin(Stdio::piped());
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    if let Some(data) = stdin {
        // A command may exit without reading its input (a usage error, say): that is its
        // answer to judge, not a failure of the test bed.
        match child.stdin.take().unwrap().write_all(data) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other.unwrap(),
        }
    }
    let out = child.wait_with_output().unwrap();
    if runs_hoist(cmd) {
        crate::support::secrets_log::record_output(&out);
    }
    out
}

/// `hoist pull ARGS` in `env`.
pub fn hoist_pull(env: &TestEnv, args: &[&str]) -> Output {
    run(env.hoist().arg("pull").args(args), None)
}

/// `hoist pull ARGS` in `env`, which must succeed.
pub fn hoist_pull_ok(env: &TestEnv, args: &[&str]) -> Output {
    run_ok(env.hoist().arg("pull").args(args), None)
}

/// `hoist push ARGS` in `env`.
pub fn hoist_push(env: &TestEnv, args: &[&str]) -> Output {
    run(env.hoist().arg("push").args(args), None)
}

/// `hoist push ARGS` in `env`, which must succeed.
pub fn hoist_push_ok(env: &TestEnv, args: &[&str]) -> Output {
    run_ok(env.hoist().arg("push").args(args), None)
}

/// `hoist ARGS` started in `env` with piped output, for tests that signal or race it.
pub fn spawn_hoist(env: &TestEnv, args: &[&str]) -> std::process::Child {
    env.hoist()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hoist runs")
}

/// hoist itself, or hoist under a wrapper (`unshare ... hoist`, `env ... hoist`).
fn runs_hoist(cmd: &Command) -> bool {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .any(|a| Path::new(a).file_name().is_some_and(|n| n == "hoist"))
}

/// Like [`run`] but panics with both output streams on failure.
pub fn run_ok(cmd: &mut Command, stdin: Option<&[u8]>) -> Output {
    let out = run(cmd, stdin);
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs hoist with `args` under GNU time (`apt-get install time`), which
/// must succeed; returns its output (GNU time's report stripped from
/// stderr) and its peak resident set size in KiB.
pub fn hoist_peak_rss(env: &TestEnv, args: &[&str]) -> (Output, u64) {
    let time = Path::new("/usr/bin/time");
    assert!(
        time.exists(),
        "peak RSS is measured with GNU time: apt-get install time"
    );
    let mut c = env.command(time.to_str().unwrap());
    c.arg("-v").arg(env!("CARGO_BIN_EXE_hoist")).args(args);
    let mut out = run_ok(&mut c, None);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let (hoist, report) = stderr
        .split_once("\tCommand being timed:")
        .unwrap_or_else(|| panic!("no GNU time report in {stderr}"));
    let rss = report
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .unwrap_or_else(|| panic!("no max RSS in {report}"))
        .parse()
        .unwrap();
    out.stderr = hoist.as_bytes().to_vec();
    (out, rss)
}

/// A gpg key without passphrase plus an initialised pass store, both in
/// temp dirs, for `docker-credential-pass`.
pub struct PassStore {
    dir: TempDir,
    pub gnupghome: PathBuf,
    pub store_dir: PathBuf,
    pub key_id: String,
}

impl PassStore {
    pub fn new() -> PassStore {
        let dir = TempDir::new().unwrap();
        let gnupghome = dir.path().join("gnupg");
        let store_dir = dir.path().join("password-store");
        std::fs::create_dir_all(&gnupghome).unwrap();
        std::fs::set_permissions(
            &gnupghome,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        let gpg = |args: &[&str], stdin: Option<&[u8]>| {
            let mut c = Command::new("gpg");
            c.env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("GNUPGHOME", &gnupghome)
                .args(["--batch", "--no-tty"])
                .args(args);
            run_ok(&mut c, stdin)
        };
        let params = "%no-protection\nKey-Type: eddsa\nKey-Curve: ed25519\n\
                      Subkey-Type: ecdh\nSubkey-Curve: cv25519\n\
                      Name-Real: hoist test\nName-Email: test@hoist.invalid\n\
                      Expire-Date: 0\n%commit\n";
        gpg(&["--gen-key"], Some(params.as_bytes()));
        let out = gpg(&["--list-keys", "--with-colons"], None);
        let key_id = String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .map(|l| l.trim_matches(':').to_string())
            .expect("gpg fingerprint");
        let ps = PassStore {
            dir,
            gnupghome,
            store_dir,
            key_id,
        };
        let mut init = Command::new("pass");
        init.env_clear()
            .env("HOME", ps.dir.path())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        ps.apply(&mut init);
        init.arg("init").arg(&ps.key_id);
        run_ok(&mut init, None);
        ps
    }

    /// Variables commands need so `pass` finds this key and store.
    pub fn env_vars(&self) -> Vec<(String, String)> {
        vec![
            ("GNUPGHOME".into(), self.gnupghome.display().to_string()),
            (
                "PASSWORD_STORE_DIR".into(),
                self.store_dir.display().to_string(),
            ),
        ]
    }

    pub fn apply(&self, cmd: &mut Command) {
        for (k, v) in self.env_vars() {
            cmd.env(k, v);
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

impl Default for PassStore {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for PassStore {
    fn drop(&mut self) {
        // gpg-agent was started for this GNUPGHOME; stop it.
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", &self.gnupghome)
            .args(["--kill", "gpg-agent"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
