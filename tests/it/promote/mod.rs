//! Promotion: `hoist copy`, `tag`, `inspect`, `tags` and `copy --referrers`, against real
//! registries behind the fault proxy, with skopeo reading what hoist wrote.

mod copy;
mod copy_faults;
mod engine_copy;
mod inspect;
mod referrers;

mod tag;
mod tags;

use crate::support::basic;
use crate::support::issuer_config::IssuerConfig;
use crate::support::scenario::{Scenario, Target};
use crate::support::token_issuer::TokenIssuer;
use crate::support::tools::{run, stdout, TestEnv};
use std::process::Output;

/// The token registry's user: another account than the Basic registry's.
pub const BOB: (&str, &str) = ("bob", "b0b-s3cret");

/// A token registry where only [`BOB`] may pull and push under `team/`.
pub fn token_target(config: IssuerConfig) -> Target {
    let issuer = TokenIssuer::start(config.user(BOB.0, BOB.1).allow(
        BOB.0,
        "team/*",
        &["pull", "push"],
    ));
    Target::with_issuer(issuer, BOB)
}

/// Two registries behind their own proxies — the source Basic (alice), the destination
/// token (bob) — and one config.json holding each account under its own proxy's host.
pub struct Pair {
    pub src: Scenario,
    pub dst: Scenario,
    pub env: TestEnv,
}

impl Pair {
    pub fn new(dst_config: IssuerConfig) -> Pair {
        Pair::of(
            Scenario::new(Target::basic()),
            Scenario::new(token_target(dst_config)),
        )
    }

    pub fn of(src: Scenario, dst: Scenario) -> Pair {
        let env = crate::support::scenario::env();
        let entry = |sc: &Scenario| {
            let (user, pass) = sc.target.creds.unwrap();
            let auth = basic(user, pass);
            format!(
                r#""{}":{{"auth":"{}"}}"#,
                sc.proxy.host(),
                auth.strip_prefix("Basic ").unwrap()
            )
        };
        std::fs::write(
            env.config_json_path(),
            format!(r#"{{"auths":{{{},{}}}}}"#, entry(&src), entry(&dst)),
        )
        .unwrap();
        Pair { src, dst, env }
    }

    /// `hoist ARGS` with both accounts configured.
    pub fn hoist(&self, args: &[&str]) -> Output {
        run(self.env.hoist().args(args), None)
    }
}

/// The JSON object hoist printed.
pub fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

/// Each blob's outcome in a `--json` summary.
pub fn outcomes(json: &serde_json::Value) -> Vec<String> {
    json["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["outcome"].as_str().unwrap().to_string())
        .collect()
}

/// Requests the registry acted on: not the ping, not one refused for want of a token.
pub fn worked_requests(sc: &Scenario) -> Vec<crate::support::proxy::Recorded> {
    use crate::support::proxy::Kind;
    sc.proxy
        .requests()
        .into_iter()
        .filter(|r| r.kind != Kind::Ping && r.status != 401)
        .collect()
}
