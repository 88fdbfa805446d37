//! One fault-proxy scenario: a real registry in some mode, the fault proxy in front of it,
//! and a scrubbed environment holding the registry's credentials under the proxy's host.
//! Tests add only their point: the image they seed, the faults they inject, the checks.
//! It drives hoist only through the binary and never fakes what the registry answers.

use super::basic;
use super::images::{push_with_skopeo, ImageLayout, ImageSpec};
use super::proxy::{Fault, Kind, Match, Proxy, Recorded};
use super::registry::{Mode, RegistryServer};
use super::token_issuer::{IssuerConfig, TokenIssuer};
use super::tools::{path_str, run, run_ok, TestEnv};
use std::path::PathBuf;
use std::process::Output;

/// The user of Basic and token targets.
pub const USER: (&str, &str) = ("alice", "s3cret");

/// A test environment in which neither hoist nor the docker CLI finds a credential helper.
pub fn env() -> TestEnv {
    TestEnv::new().without_credential_helpers()
}

/// Builds the image and pushes it with skopeo to `host/repo_tag`.
pub fn seed(
    host: &str,
    repo_tag: &str,
    spec: ImageSpec,
    creds: Option<(&str, &str)>,
) -> ImageLayout {
    let image = spec.build("seed");
    push_with_skopeo(&image, &format!("{host}/{repo_tag}"), creds);
    image
}

/// config.json holding exactly one `auths` entry: `user:pass` for `host`.
pub fn docker_config_with(env: &TestEnv, host: &str, user: &str, pass: &str) {
    let auth = basic(user, pass);
    let auth = auth.strip_prefix("Basic ").unwrap();
    std::fs::write(
        env.config_json_path(),
        format!(r#"{{"auths":{{"{host}":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
}

/// A registry and what it takes to log in to it.
pub struct Target {
    pub reg: RegistryServer,
    pub issuer: Option<TokenIssuer>,
    pub creds: Option<(&'static str, &'static str)>,
}

impl Target {
    pub fn open() -> Target {
        Target {
            reg: RegistryServer::start(Mode::Open),
            issuer: None,
            creds: None,
        }
    }

    /// htpasswd with [`USER`].
    pub fn basic() -> Target {
        Target {
            reg: RegistryServer::start(Mode::Htpasswd(&[USER])),
            issuer: None,
            creds: Some(USER),
        }
    }

    /// A token registry where [`USER`] may pull and push under `team/`, and nothing else.
    pub fn token(config: IssuerConfig) -> Target {
        let issuer = TokenIssuer::start(config.user(USER.0, USER.1).allow(
            USER.0,
            "team/*",
            &["pull", "push"],
        ));
        Target::with_issuer(issuer, USER)
    }

    /// A token registry behind `issuer`, logged in to as `creds`.
    pub fn with_issuer(issuer: TokenIssuer, creds: (&'static str, &'static str)) -> Target {
        Target {
            reg: RegistryServer::start(Mode::Token(&issuer)),
            issuer: Some(issuer),
            creds: Some(creds),
        }
    }

    /// A test environment whose config.json holds the target's credentials under `host`.
    pub fn env_for(&self, host: &str) -> TestEnv {
        let env = env();
        if let Some((user, pass)) = self.creds {
            docker_config_with(&env, host, user, pass);
        }
        env
    }

    pub fn issuer(&self) -> &TokenIssuer {
        self.issuer.as_ref().expect("a token target")
    }
}

/// A target behind the fault proxy, and an environment to run hoist against the proxy.
pub struct Scenario {
    pub target: Target,
    pub proxy: Proxy,
    pub env: TestEnv,
    /// An empty directory for `--store`.
    pub store: PathBuf,
}

impl Scenario {
    pub fn new(target: Target) -> Scenario {
        let proxy = Proxy::start(&target.reg.host());
        let env = target.env_for(&proxy.host());
        let store = env.scratch("store");
        Scenario {
            target,
            proxy,
            env,
            store,
        }
    }

    /// hoist runs with `key=value` in its environment too.
    pub fn env_var(self, key: &str, value: &str) -> Scenario {
        Scenario {
            env: self.env.env(key, value),
            ..self
        }
    }

    /// An open registry behind the proxy.
    pub fn open() -> Scenario {
        Scenario::new(Target::open())
    }

    pub fn reg(&self) -> &RegistryServer {
        &self.target.reg
    }

    /// Builds `spec` and pushes it to the registry itself (not through the proxy, so no
    /// fault touches it) as `repo_tag`, with the target's credentials.
    pub fn seed(&self, repo_tag: &str, spec: ImageSpec) -> ImageLayout {
        seed(&self.reg().host(), repo_tag, spec, self.target.creds)
    }

    /// `repo_tag` on the proxy: what hoist is pointed at.
    pub fn reference(&self, repo_tag: &str) -> String {
        format!("{}/{repo_tag}", self.proxy.host())
    }

    /// The first matching request meets `fault`.
    pub fn fault(&self, m: Match, fault: Fault) -> &Self {
        self.proxy.inject(m, fault);
        self
    }

    /// The first `n` matching requests meet `fault`.
    pub fn faults(&self, m: Match, fault: Fault, n: usize) -> &Self {
        self.proxy.inject_n(m, fault, n);
        self
    }

    /// `hoist ARGS` in this scenario's environment.
    pub fn hoist(&self, args: &[&str]) -> Output {
        run(self.env.hoist().args(args), None)
    }

    /// `hoist pull ARGS`.
    pub fn pull(&self, args: &[&str]) -> Output {
        run(self.env.hoist().arg("pull").args(args), None)
    }

    /// `hoist pull ARGS`, which must succeed.
    pub fn pull_ok(&self, args: &[&str]) -> Output {
        run_ok(self.env.hoist().arg("pull").args(args), None)
    }

    /// `hoist pull REFERENCE --store STORE EXTRA`.
    pub fn pull_to_store(&self, reference: &str, extra: &[&str]) -> Output {
        self.pull(&[&[reference, "--store", path_str(&self.store)], extra].concat())
    }

    /// `hoist pull REFERENCE --store STORE EXTRA`, which must succeed.
    pub fn pull_to_store_ok(&self, reference: &str, extra: &[&str]) -> Output {
        self.pull_ok(&[&[reference, "--store", path_str(&self.store)], extra].concat())
    }

    /// `hoist push ARGS`.
    pub fn push(&self, args: &[&str]) -> Output {
        run(self.env.hoist().arg("push").args(args), None)
    }

    /// `hoist push ARGS`, which must succeed.
    pub fn push_ok(&self, args: &[&str]) -> Output {
        run_ok(self.env.hoist().arg("push").args(args), None)
    }

    /// The requests the proxy saw with this method to this kind of endpoint, in order.
    pub fn requests_of(&self, method: &str, kind: Kind) -> Vec<Recorded> {
        requests_of(&self.proxy, method, kind)
    }
}

/// The requests `proxy` saw with this method to this kind of endpoint, in order.
pub fn requests_of(proxy: &Proxy, method: &str, kind: Kind) -> Vec<Recorded> {
    proxy
        .requests()
        .into_iter()
        .filter(|r| r.method == method && r.kind == kind)
        .collect()
}
