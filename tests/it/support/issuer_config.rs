//! What the token issuer grants and how it misbehaves on purpose: users, their access
//! rules, token lifetimes and test knobs. Plain data; token_issuer.rs serves it.

use serde_json::Value;

/// One access rule: `pattern` is an exact repository name, a prefix ending
/// in `*` (e.g. `team/*`), or `*` for everything.
#[derive(Clone, Debug)]
pub struct Rule {
    pub pattern: String,
    pub actions: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct User {
    pub name: String,
    pub password: String,
    pub rules: Vec<Rule>,
}

#[derive(Clone, Debug)]
pub struct IssuerConfig {
    pub service: String,
    pub issuer: String,
    pub users: Vec<User>,
    /// Repositories anonymous clients may pull.
    pub public_repos: Vec<String>,
    pub lifetime_secs: i64,
    /// GET /token with Basic auth answers 401 (forces the OAuth POST flow).
    pub refuse_get_basic: bool,
    /// POST /token answers 404, like token servers without OAuth support,
    /// which makes docker-style clients fall back to GET.
    pub refuse_post: bool,
    /// Test knob: issue tokens whose `exp` is already past the leeway.
    pub issue_expired: bool,
    /// Test knob: these tokens (1 = the first the issuer hands out) are
    /// issued already expired, the others as usual.
    pub expired_tokens: Vec<usize>,
    /// Test knob: answers claim this `expires_in` (any JSON number, e.g.
    /// Go's MaxInt64 for "never") while the JWT keeps `lifetime_secs`.
    pub claimed_expires_in: Option<Value>,
}

impl Default for IssuerConfig {
    fn default() -> Self {
        IssuerConfig {
            service: "hoist-test-registry".into(),
            issuer: "hoist-test-issuer".into(),
            users: vec![],
            public_repos: vec![],
            lifetime_secs: 300,
            refuse_get_basic: false,
            refuse_post: false,
            issue_expired: false,
            expired_tokens: vec![],
            claimed_expires_in: None,
        }
    }
}

impl IssuerConfig {
    pub fn user(mut self, name: &str, password: &str) -> Self {
        crate::support::secrets_log::record_secret(Some(name), password);
        self.users.push(User {
            name: name.into(),
            password: password.into(),
            rules: vec![],
        });
        self
    }

    /// Grants `actions` (subset of pull, push, delete, or `*`) on `pattern`.
    pub fn allow(mut self, user: &str, pattern: &str, actions: &[&str]) -> Self {
        let u = self
            .users
            .iter_mut()
            .find(|u| u.name == user)
            .expect("allow() for unknown user");
        u.rules.push(Rule {
            pattern: pattern.into(),
            actions: actions.iter().map(|s| s.to_string()).collect(),
        });
        self
    }

    pub fn public(mut self, repo: &str) -> Self {
        self.public_repos.push(repo.into());
        self
    }

    pub fn lifetime(mut self, secs: i64) -> Self {
        self.lifetime_secs = secs;
        self
    }

    /// The `n`th token handed out (counting from 1) is already expired
    /// when issued: the registry refuses it at its first use, as it would
    /// a token that ran out in the middle of an operation.
    pub fn expire_token(mut self, n: usize) -> Self {
        self.expired_tokens.push(n);
        self
    }
}
