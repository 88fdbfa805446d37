//! Token server for the registry's `auth: token:` mode.
//!
//! Signs ES256 JWTs with a P-256 key whose self-signed certificate is the
//! registry's `rootcertbundle`. The JWT header carries `kid` in libtrust
//! format, which distribution 2.8 looks up among the bundle's keys.
//!
//! Distribution 2.8 accepts `exp` up to 60 s in the past (token.Leeway), so
//! tests needing an expired token use [`TokenIssuer::set_issue_expired`].

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rcgen::KeyPair;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tempfile::TempDir;

/// The registry tolerates this much clock skew on `exp`/`nbf`.
pub const REGISTRY_LEEWAY_SECS: i64 = 60;

const ALL_ACTIONS: [&str; 3] = ["pull", "push", "delete"];

pub use super::issuer_config::IssuerConfig;

/// What the issuer saw for one request.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    pub method: String,
    /// `password` / `refresh_token` for POST, None for GET.
    pub grant_type: Option<String>,
    pub scopes: Vec<String>,
    pub service: Option<String>,
    pub account: Option<String>,
    pub client_id: Option<String>,
    pub had_basic_auth: bool,
    /// User the request authenticated as, if any.
    pub user: Option<String>,
    pub offline: bool,
    pub status: u16,
}

struct State {
    config: IssuerConfig,
    requests: Vec<TokenRequest>,
    refresh_tokens: HashMap<String, String>,
    /// Tokens handed out so far.
    issued: usize,
}

struct Shared {
    state: Mutex<State>,
    key: EncodingKey,
    kid: String,
}

pub struct TokenIssuer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    dir: TempDir,
    cert_path: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// libtrust key ID: base32 of the first 240 bits of sha256(DER SPKI),
/// in 12 colon-separated groups of 4.
pub fn libtrust_kid(spki_der: &[u8]) -> String {
    let hash = Sha256::digest(spki_der);
    let b32 = base32_nopad(&hash[..30]);
    let groups: Vec<&str> = (0..b32.len() / 4).map(|i| &b32[i * 4..i * 4 + 4]).collect();
    groups.join(":")
}

fn base32_nopad(data: &[u8]) -> String {
    const ALPHA: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut out, mut buf, mut bits) = (String::new(), 0u32, 0u32);
    for &b in data {
        buf = (buf << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            out.push(ALPHA[((buf >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(ALPHA[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

impl TokenIssuer {
    pub fn start(config: IssuerConfig) -> TokenIssuer {
        let dir = TempDir::new().unwrap();
        let key = KeyPair::generate().unwrap(); // ECDSA P-256 by default
        let mut params = rcgen::CertificateParams::new(vec!["token-issuer".to_string()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "hoist test token issuer");
        let cert = params.self_signed(&key).unwrap();
        let cert_path = dir.path().join("token-root.crt");
        std::fs::write(&cert_path, cert.pem()).unwrap();
        let kid = libtrust_kid(&key.public_key_der());
        let enc = EncodingKey::from_ec_pem(key.serialize_pem().as_bytes()).unwrap();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                config,
                requests: vec![],
                refresh_tokens: HashMap::new(),
                issued: 0,
            }),
            key: enc,
            kid,
        });

        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let sh = shared.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(serve(std_listener, sh, rx));
        });
        TokenIssuer {
            shared,
            addr,
            dir,
            cert_path,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The realm to configure in the registry.
    pub fn realm(&self) -> String {
        format!("{}/token", self.url())
    }

    pub fn service(&self) -> String {
        self.shared.state.lock().unwrap().config.service.clone()
    }

    pub fn issuer(&self) -> String {
        self.shared.state.lock().unwrap().config.issuer.clone()
    }

    /// PEM certificate for the registry's `rootcertbundle`.
    pub fn root_cert_path(&self) -> &Path {
        &self.cert_path
    }

    pub fn kid(&self) -> &str {
        &self.shared.kid
    }

    pub fn requests(&self) -> Vec<TokenRequest> {
        self.shared.state.lock().unwrap().requests.clone()
    }

    pub fn request_count(&self) -> usize {
        self.shared.state.lock().unwrap().requests.len()
    }

    pub fn clear_requests(&self) {
        self.shared.state.lock().unwrap().requests.clear();
    }

    /// Changes the configuration at runtime (lifetime, refusal flags...).
    pub fn configure(&self, f: impl FnOnce(&mut IssuerConfig)) {
        f(&mut self.shared.state.lock().unwrap().config);
    }

    /// From now on, answers say the token lasts `expires_in` (this JSON number, e.g. `1e19`),
    /// which other clients (skopeo) may not even parse.
    pub fn claim_expires_in(&self, expires_in: &str) {
        let claimed: Value = serde_json::from_str(expires_in).unwrap();
        self.configure(|c| c.claimed_expires_in = Some(claimed));
    }

    pub fn set_issue_expired(&self, on: bool) {
        self.configure(|c| c.issue_expired = on);
    }

    /// Mints a token directly, bypassing HTTP (anonymous when user is None).
    pub fn mint(&self, user: Option<&str>, scopes: &[&str]) -> String {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let st = self.shared.state.lock().unwrap();
        sign(
            &self.shared,
            &st.config,
            user,
            &scopes,
            st.config.issue_expired,
        )
        .0
    }
}

impl Drop for TokenIssuer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(
    l: std::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::from_std(l).unwrap();
    loop {
        tokio::select! {
            _ = &mut stop => return,
            acc = listener.accept() => {
                let Ok((stream, _)) = acc else { continue };
                let sh = shared.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let sh = sh.clone();
                        async move { Ok::<_, std::convert::Infallible>(handle(req, &sh).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        }
    }
}

fn json_response(status: StatusCode, v: Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(v.to_string())))
        .unwrap()
}

fn basic_auth(req: &Request<Incoming>) -> Option<(String, String)> {
    let h = req.headers().get("authorization")?.to_str().ok()?;
    let b64 = h
        .strip_prefix("Basic ")
        .or_else(|| h.strip_prefix("basic "))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (u, p) = s.split_once(':')?;
    Some((u.into(), p.into()))
}

fn params(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

fn first(p: &[(String, String)], k: &str) -> Option<String> {
    p.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
}

/// All `scope` values; each may itself hold several space-separated scopes.
fn scopes(p: &[(String, String)]) -> Vec<String> {
    p.iter()
        .filter(|(n, _)| n == "scope")
        .flat_map(|(_, v)| v.split(' ').map(str::to_string).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect()
}

async fn handle(req: Request<Incoming>, sh: &Shared) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let basic = basic_auth(&req);
    let had_basic = req.headers().contains_key("authorization");
    let query = req.uri().query().unwrap_or("").to_string();
    let path = req.uri().path().to_string();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let p = if method == Method::POST {
        params(&String::from_utf8_lossy(&body))
    } else {
        params(&query)
    };
    let mut rec = TokenRequest {
        method: method.to_string(),
        grant_type: first(&p, "grant_type"),
        scopes: scopes(&p),
        service: first(&p, "service"),
        account: first(&p, "account").or_else(|| first(&p, "username")),
        client_id: first(&p, "client_id"),
        had_basic_auth: had_basic,
        user: None,
        offline: false,
        status: 0,
    };
    let mut st = sh.state.lock().unwrap();
    let resp = if path != "/token" {
        json_response(StatusCode::NOT_FOUND, json!({"error": "not_found"}))
    } else if method == Method::GET {
        handle_get(sh, &mut st, basic, &p, &mut rec)
    } else if method == Method::POST {
        handle_post(sh, &mut st, &p, &mut rec)
    } else {
        json_response(StatusCode::METHOD_NOT_ALLOWED, json!({}))
    };
    rec.status = resp.status().as_u16();
    st.requests.push(rec);
    resp
}

fn check_password(c: &IssuerConfig, user: &str, pw: &str) -> bool {
    c.users.iter().any(|u| u.name == user && u.password == pw)
}

fn new_refresh_token(st: &mut State, user: &str) -> String {
    let t = format!("rt-{}", hex::encode(rand::random::<[u8; 16]>()));
    crate::support::secrets_log::record_secret(None, &t);
    st.refresh_tokens.insert(t.clone(), user.to_string());
    t
}

fn handle_get(
    sh: &Shared,
    st: &mut State,
    basic: Option<(String, String)>,
    p: &[(String, String)],
    rec: &mut TokenRequest,
) -> Response<Full<Bytes>> {
    let mut user = None;
    if let Some((u, pw)) = basic {
        if st.config.refuse_get_basic {
            return json_response(StatusCode::UNAUTHORIZED, json!({"error": "refused"}));
        }
        if !check_password(&st.config, &u, &pw) {
            return json_response(StatusCode::UNAUTHORIZED, json!({"error": "unauthorized"}));
        }
        user = Some(u);
    }
    rec.user = user.clone();
    rec.offline = first(p, "offline_token").as_deref() == Some("true");
    let expired = next_is_expired(st);
    let (token, expires_in, issued_at) =
        sign(sh, &st.config, user.as_deref(), &rec.scopes, expired);
    let mut body = json!({
        "token": token,
        "access_token": token,
        "expires_in": expires_in,
        "issued_at": issued_at,
    });
    if let Some(claimed) = &st.config.claimed_expires_in {
        body["expires_in"] = claimed.clone();
    }
    if let (true, Some(u)) = (rec.offline, &user) {
        body["refresh_token"] = json!(new_refresh_token(st, u));
    }
    json_response(StatusCode::OK, body)
}

fn handle_post(
    sh: &Shared,
    st: &mut State,
    p: &[(String, String)],
    rec: &mut TokenRequest,
) -> Response<Full<Bytes>> {
    if st.config.refuse_post {
        return json_response(StatusCode::NOT_FOUND, json!({"error": "not_found"}));
    }
    let invalid = |s| json_response(s, json!({"error": "invalid_grant"}));
    let (user, refresh) = match rec.grant_type.as_deref() {
        Some("password") => {
            let u = first(p, "username").unwrap_or_default();
            let pw = first(p, "password").unwrap_or_default();
            if !check_password(&st.config, &u, &pw) {
                return invalid(StatusCode::UNAUTHORIZED);
            }
            rec.offline = first(p, "access_type").as_deref() == Some("offline");
            let rt = rec.offline.then(|| new_refresh_token(st, &u));
            (u, rt)
        }
        Some("refresh_token") => {
            let rt = first(p, "refresh_token").unwrap_or_default();
            match st.refresh_tokens.get(&rt) {
                Some(u) => (u.clone(), Some(rt)),
                None => return invalid(StatusCode::BAD_REQUEST),
            }
        }
        _ => {
            return json_response(
                StatusCode::BAD_REQUEST,
                json!({"error": "unsupported_grant_type"}),
            )
        }
    };
    rec.user = Some(user.clone());
    let expired = next_is_expired(st);
    let (token, expires_in, issued_at) = sign(sh, &st.config, Some(&user), &rec.scopes, expired);
    let mut body = json!({
        "access_token": token,
        "expires_in": expires_in,
        "issued_at": issued_at,
        "scope": rec.scopes.join(" "),
    });
    if let Some(rt) = refresh {
        body["refresh_token"] = json!(rt);
    }
    if let Some(claimed) = &st.config.claimed_expires_in {
        body["expires_in"] = claimed.clone();
    }
    json_response(StatusCode::OK, body)
}

fn pattern_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// Actions the caller may have on `name`.
fn allowed(c: &IssuerConfig, user: Option<&str>, name: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    if c.public_repos.iter().any(|r| r == name) {
        out.push("pull".into());
    }
    if let Some(u) = user.and_then(|u| c.users.iter().find(|x| x.name == u)) {
        for r in u.rules.iter().filter(|r| pattern_matches(&r.pattern, name)) {
            for a in &r.actions {
                if a == "*" {
                    out.extend(ALL_ACTIONS.iter().map(|s| s.to_string()));
                    out.push("*".into());
                } else {
                    out.push(a.clone());
                }
            }
        }
    }
    out
}

/// Parses `type:name:actions`; the name may itself contain ':'.
fn parse_scope(s: &str) -> Option<(String, String, Vec<String>)> {
    let (typ, rest) = s.split_once(':')?;
    let (name, actions) = rest.rsplit_once(':')?;
    Some((
        typ.into(),
        name.into(),
        actions.split(',').map(str::to_string).collect(),
    ))
}

/// Counts a token about to be handed out; true when it must be expired.
fn next_is_expired(st: &mut State) -> bool {
    st.issued += 1;
    st.config.issue_expired || st.config.expired_tokens.contains(&st.issued)
}

/// Returns (jwt, expires_in, issued_at).
fn sign(
    sh: &Shared,
    c: &IssuerConfig,
    user: Option<&str>,
    scopes: &[String],
    expired: bool,
) -> (String, i64, String) {
    let now = crate::support::unix_now();
    let exp = if expired {
        now - REGISTRY_LEEWAY_SECS - 60
    } else {
        now + c.lifetime_secs
    };
    let access: Vec<Value> = scopes
        .iter()
        .filter_map(|s| parse_scope(s))
        .map(|(typ, name, wanted)| {
            let ok = allowed(c, user, &name);
            let granted: Vec<String> = wanted.into_iter().filter(|a| ok.contains(a)).collect();
            json!({"type": typ, "name": name, "actions": granted})
        })
        .collect();
    let claims = json!({
        "iss": c.issuer,
        "sub": user.unwrap_or(""),
        "aud": c.service,
        "exp": exp,
        "nbf": now - 1,
        "iat": now,
        "jti": hex::encode(rand::random::<[u8; 12]>()),
        "access": access,
    });
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(sh.kid.clone());
    let token = jsonwebtoken::encode(&header, &claims, &sh.key).unwrap();
    crate::support::secrets_log::record_secret(None, &token);
    (token, exp - now, crate::support::rfc3339(now))
}

#[cfg(test)]
mod unit {
    #[test]
    fn base32_known_vector() {
        // RFC 4648 test vector.
        assert_eq!(super::base32_nopad(b"foobar"), "MZXW6YTBOI");
    }
}
