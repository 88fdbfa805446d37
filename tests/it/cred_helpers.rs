//! `hoist login` / `logout` with the real `docker-credential-pass` helper (a throwaway gpg key
//! and pass store per test), cross-checked against what `docker login` does in the same setup.

use crate::login::{alice_registry, hoist_login, relogin_with_refresh_token, token_setup};
use crate::support::registry::{Mode, RegistryServer};
use crate::support::tools::{assert_exit, assert_stderr_has, stderr, stdout};
use crate::support::tools::{run, run_ok, PassStore, TestEnv};
use serde_json::Value;

/// A TestEnv whose `pass` works, starting from `config`.
fn pass_env(pass: &PassStore, config: &str) -> TestEnv {
    TestEnv::new().with_pass(pass).with_docker_config(config)
}

/// `docker-credential-pass get` for `server`: (Username, Secret), empty when unknown.
fn pass_get(env: &TestEnv, server: &str) -> (String, String) {
    let out = run_ok(
        env.command("docker-credential-pass").arg("get"),
        Some(server.as_bytes()),
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        v["Username"].as_str().unwrap_or_default().to_string(),
        v["Secret"].as_str().unwrap_or_default().to_string(),
    )
}

fn pass_list(env: &TestEnv) -> serde_json::Map<String, Value> {
    let out = run_ok(env.command("docker-credential-pass").arg("list"), None);
    match serde_json::from_slice(&out.stdout).unwrap() {
        Value::Object(m) => m,
        other => panic!("list printed {other}"),
    }
}

fn pass_store(env: &TestEnv, server: &str, user: &str, secret: &str) {
    let body = serde_json::json!({"ServerURL": server, "Username": user, "Secret": secret});
    run_ok(
        env.command("docker-credential-pass").arg("store"),
        Some(body.to_string().as_bytes()),
    );
}

/// A login as alice that her credential helper stops: exit 1, an error naming
/// `docker-credential-HELPER` and `why` (the setting that chose it, or what went wrong), and
/// config.json still exactly `config`. Returns stderr for the test's own checks.
fn login_stopped_by_helper(
    env: &TestEnv,
    host: &str,
    helper: &str,
    why: &str,
    config: &str,
) -> String {
    let out = hoist_login(env, host, "alice", b"s3cret\n");
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("docker-credential-{helper}")) && err.contains(why),
        "{err}"
    );
    assert!(!stdout(&out).contains("Login Succeeded"));
    assert_eq!(env.docker_config_json().unwrap(), config);
    err
}

const CREDS_STORE_PASS: &str = "{\"credsStore\": \"pass\", \"psFormat\": \"<p> & q\"}";

#[test]
fn login_stores_in_pass_with_dockers_empty_entry_and_bytes() {
    let reg = alice_registry();
    let pass = PassStore::new();
    let env = pass_env(&pass, CREDS_STORE_PASS);
    let out = hoist_login(&env, &reg.host(), "alice", b"s3cret\n");
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("Login Succeeded"));
    assert!(
        !stderr(&out).contains("unencrypted"),
        "no plain-text warning when a helper stores: {}",
        stderr(&out)
    );
    assert_eq!(
        pass_get(&env, &reg.host()),
        ("alice".to_string(), "s3cret".to_string())
    );
    let text = env.docker_config_json().unwrap();
    assert!(
        !text.contains("s3cret") && !text.contains("\"auth\""),
        "{text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["auths"][reg.host()], serde_json::json!({}), "{text}");

    // docker login in the same setup writes the same bytes.
    let docker_pass = PassStore::new();
    let denv = pass_env(&docker_pass, CREDS_STORE_PASS);
    run_ok(
        denv.docker()
            .args(["login", &reg.host(), "-u", "alice", "--password-stdin"]),
        Some(b"s3cret\n"),
    );
    assert_eq!(denv.docker_config_json().unwrap(), text);
    assert_eq!(pass_get(&denv, &reg.host()), pass_get(&env, &reg.host()));

    // A later login without flags finds them in pass.
    let out = run(env.hoist().args(["login", &reg.host()]), None);
    assert_exit(&out, 0);
    assert_stderr_has(
        &out,
        "Authenticating with existing credentials... [Username: alice]",
    );
    assert_eq!(env.docker_config_json().unwrap(), text);
}

#[test]
fn token_login_keeps_the_identity_token_in_pass() {
    let (issuer, reg) = token_setup();
    let pass = PassStore::new();
    let env = pass_env(&pass, CREDS_STORE_PASS);
    assert_exit(&hoist_login(&env, &reg.host(), "alice", b"pw\n"), 0);
    let (user, secret) = pass_get(&env, &reg.host());
    assert_eq!(
        user, "<token>",
        "identity tokens go in as docker-credential-helpers' <token>"
    );
    assert!(secret.starts_with("rt-"), "{secret}");

    // docker does the same in the same setup.
    let docker_pass = PassStore::new();
    let denv = pass_env(&docker_pass, CREDS_STORE_PASS);
    run_ok(
        denv.docker()
            .args(["login", &reg.host(), "-u", "alice", "--password-stdin"]),
        Some(b"pw\n"),
    );
    assert_eq!(pass_get(&denv, &reg.host()).0, "<token>");
    assert_eq!(denv.docker_config_json(), env.docker_config_json());

    // hoist login without flags verifies docker's token from pass with the refresh grant.
    let _ = relogin_with_refresh_token(&denv, &reg.host(), &issuer);
    assert_eq!(pass_get(&denv, &reg.host()).0, "<token>");
}

#[test]
fn cred_helpers_entry_beats_creds_store() {
    let reg = alice_registry();
    let pass = PassStore::new();
    let config = format!(
        "{{\"credsStore\": \"nonexistent\", \"credHelpers\": {{\"{}\": \"pass\"}}}}",
        reg.host()
    );
    let env = pass_env(&pass, &config);
    let out = hoist_login(&env, &reg.host(), "alice", b"s3cret\n");
    assert_exit(&out, 0);
    assert_eq!(pass_get(&env, &reg.host()).0, "alice");
    let v: Value = serde_json::from_str(&env.docker_config_json().unwrap()).unwrap();
    assert_eq!(v["auths"][reg.host()], serde_json::json!({}));
    // Another host goes to credsStore, which is missing: proof that the store was consulted.
    let out = run(env.hoist().args(["logout", "other.example.com"]), None);
    assert_exit(&out, 1);
    assert_stderr_has(&out, "docker-credential-nonexistent");
}

#[test]
fn empty_auths_entry_does_not_shadow_the_helper() {
    let reg = alice_registry();
    let pass = PassStore::new();
    let config = format!(
        "{{\"auths\": {{\"{}\": {{}}}}, \"credsStore\": \"pass\"}}",
        reg.host()
    );
    let env = pass_env(&pass, &config);
    pass_store(&env, &reg.host(), "alice", "s3cret");
    let out = run(env.hoist().args(["login", &reg.host()]), None);
    assert_exit(&out, 0);
    assert_stderr_has(
        &out,
        "Authenticating with existing credentials... [Username: alice]",
    );
}

#[test]
fn missing_helper_is_named_with_the_setting_that_chose_it() {
    let reg = alice_registry();
    let config = "{\"credsStore\": \"nonexistent\"}";
    let env = TestEnv::new().with_docker_config(config);
    login_stopped_by_helper(&env, &reg.host(), "nonexistent", "credsStore", config);
    // Reusing stored credentials asks the helper too.
    let out = run(env.hoist().args(["login", &reg.host()]), None);
    assert_exit(&out, 1);
    assert_stderr_has(&out, "docker-credential-nonexistent");

    let config = format!(
        "{{\"credHelpers\": {{\"{}\": \"nonexistent\"}}}}",
        reg.host()
    );
    let env = TestEnv::new().with_docker_config(&config);
    login_stopped_by_helper(&env, &reg.host(), "nonexistent", "credHelpers", &config);
}

#[test]
fn logout_erases_from_pass() {
    let reg = alice_registry();
    let pass = PassStore::new();
    let env = pass_env(&pass, CREDS_STORE_PASS);
    assert_exit(&hoist_login(&env, &reg.host(), "alice", b"s3cret\n"), 0);
    pass_store(&env, "other.example.com", "bob", "keep");
    // An older client's spelling of the same registry goes too.
    let https = format!("https://{}", reg.host());
    pass_store(&env, &https, "alice", "old");
    assert!(pass_list(&env).contains_key(&reg.host()));
    let out = run_ok(env.hoist().args(["logout", &reg.host()]), None);
    assert!(
        stdout(&out).contains(&format!("Removing login credentials for {}", reg.host())),
        "{}",
        stdout(&out)
    );
    let list = pass_list(&env);
    assert!(!list.contains_key(&reg.host()), "{list:?}");
    assert!(!list.contains_key(&https), "{list:?}");
    assert!(list.contains_key("other.example.com"), "{list:?}");
    assert_eq!(pass_get(&env, &reg.host()).1, "");
    let v: Value = serde_json::from_str(&env.docker_config_json().unwrap()).unwrap();
    assert!(v["auths"].get(reg.host()).is_none(), "{v}");

    // What docker stored in pass, hoist erases too; the file ends up as docker's own logout
    // would leave it.
    let docker_pass = PassStore::new();
    let h = pass_env(&docker_pass, CREDS_STORE_PASS);
    run_ok(
        h.docker()
            .args(["login", &reg.host(), "-u", "alice", "--password-stdin"]),
        Some(b"s3cret\n"),
    );
    run_ok(h.hoist().args(["logout", &reg.host()]), None);
    assert!(!pass_list(&h).contains_key(&reg.host()));
    let d_pass = PassStore::new();
    let d = pass_env(&d_pass, CREDS_STORE_PASS);
    run_ok(
        d.docker()
            .args(["login", &reg.host(), "-u", "alice", "--password-stdin"]),
        Some(b"s3cret\n"),
    );
    run_ok(d.docker().args(["logout", &reg.host()]), None);
    assert_eq!(h.docker_config_json(), d.docker_config_json());

    // Logging out again: a message, exit 0.
    let out = run(h.hoist().args(["logout", &reg.host()]), None);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).to_lowercase().contains("not logged in"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn failing_helper_is_named_and_nothing_is_written() {
    let reg = alice_registry();
    // pass is on PATH but has no store here: the real helper fails.
    let h = TestEnv::new().with_docker_config(CREDS_STORE_PASS);
    let err = login_stopped_by_helper(&h, &reg.host(), "pass", "credsStore", CREDS_STORE_PASS);
    assert!(
        err.contains("pass not initialized"),
        "the helper's own words: {err}"
    );
    assert!(!err.contains("s3cret"), "{err}");
    // docker fails the same way and leaves the file alone too.
    let d = TestEnv::new().with_docker_config(CREDS_STORE_PASS);
    let out = run(
        d.docker()
            .args(["login", &reg.host(), "-u", "alice", "--password-stdin"]),
        Some(b"s3cret\n"),
    );
    assert!(!out.status.success());
    assert_eq!(d.docker_config_json().unwrap(), CREDS_STORE_PASS);
}

#[test]
fn helper_that_cannot_store_says_no_login_is_needed() {
    let reg = alice_registry();
    let env = TestEnv::new();
    // A stand-in for docker-credential-ecr-login, whose store is "not implemented".
    let bin = env.scratch("fake-bin");
    let source = env.scratch("src").join("helper");
    std::fs::write(
        &source,
        "#!/bin/sh\ncase \"$1\" in\n store) echo 'not implemented'; exit 1;;\n *) echo 'credentials not found in native keychain'; exit 1;;\nesac\n",
    )
    .unwrap();
    // Installed by a child process so that no write descriptor of ours can make exec fail.
    run_ok(
        std::process::Command::new("install")
            .args(["-m", "0755"])
            .arg(&source)
            .arg(bin.join("docker-credential-ecr-login")),
        None,
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let config = format!("{{\"credHelpers\": {{\"{}\": \"ecr-login\"}}}}", reg.host());
    let env = env.env("PATH", &path).with_docker_config(&config);
    let why = "no login is needed";
    login_stopped_by_helper(&env, &reg.host(), "ecr-login", why, &config);
}

#[test]
fn plain_text_entry_is_replaced_when_a_helper_takes_over() {
    let reg = alice_registry();
    let config = format!(
        "{{\"credsStore\": \"pass\", \"auths\": {{\"{}\": {{\"auth\": \"YWxpY2U6b2xk\", \"email\": \"a@example.com\"}}, \"https://{}\": {{\"auth\": \"YWxpY2U6b2xk\"}}}}}}",
        reg.host(),
        reg.host()
    );
    let hp = PassStore::new();
    let h = pass_env(&hp, &config);
    assert_exit(&hoist_login(&h, &reg.host(), "alice", b"s3cret\n"), 0);
    let dp = PassStore::new();
    let d = pass_env(&dp, &config);
    run_ok(
        d.docker()
            .args(["login", &reg.host(), "-u", "alice", "--password-stdin"]),
        Some(b"s3cret\n"),
    );
    let text = h.docker_config_json().unwrap();
    assert_eq!(text, d.docker_config_json().unwrap());
    assert!(
        !text.contains(&format!("\"{}\": {{\n\t\t\t\"auth\"", reg.host())),
        "{text}"
    );

    // logout clears the helper and every file spelling, plain-text leftovers included.
    let out = run_ok(h.hoist().args(["logout", &reg.host()]), None);
    assert!(stdout(&out).contains("Removing login credentials"));
    assert!(!pass_list(&h).contains_key(&reg.host()));
    let after = h.docker_config_json().unwrap();
    assert!(!after.contains(&reg.host()), "{after}");
}

/// `env` with `docker-credential-NAME` (a shell script) first on PATH and `credsStore: NAME`.
fn with_fake_helper(name: &str, script: &str) -> TestEnv {
    let env = TestEnv::new().with_docker_config(&format!(r#"{{"credsStore":"{name}"}}"#));
    let bin = env.scratch("fake-helpers");
    let source = bin.join("script.txt");
    std::fs::write(&source, format!("#!/bin/sh\n{script}\n")).unwrap();
    // Installed by another process: a write descriptor held here could be inherited by a
    // process another test thread forks meanwhile, and exec would fail with ETXTBSY.
    let status = std::process::Command::new("install")
        .args(["-m", "0755"])
        .arg(&source)
        .arg(bin.join(format!("docker-credential-{name}")))
        .status()
        .unwrap();
    assert!(status.success());
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    env.env("PATH", &path)
}

/// A public image on a token registry: pulling it asks for credentials, anonymous is enough.
fn public_image(
    seed: u64,
) -> (
    crate::support::token_issuer::TokenIssuer,
    RegistryServer,
    String,
    String,
) {
    use crate::support::images::{push_with_skopeo, ImageSpec};
    use crate::support::token_issuer::{IssuerConfig, TokenIssuer};
    let issuer = TokenIssuer::start(
        IssuerConfig::default()
            .user("alice", "pw")
            .allow("alice", "team/*", &["pull", "push"])
            .public("team/public"),
    );
    let reg = RegistryServer::start(Mode::Token(&issuer));
    let image = ImageSpec::new(seed).layers(&[5_000]).build("v1");
    let reference = format!("{}/team/public:v1", reg.host());
    push_with_skopeo(&image, &reference, Some(("alice", "pw")));
    let digest = image.digest().to_string();
    (issuer, reg, reference, digest)
}

/// A helper that never answers once hung a pull forever. It is stopped after the timeout
/// (shortened here), named in a warning, and the public image is pulled anonymously; login,
/// which cannot go on without it, fails naming it.
#[test]
fn a_hanging_helper_is_stopped_and_a_public_pull_goes_on() {
    let (_issuer, reg, reference, digest) = public_image(91);
    // Notices come after 1 s instead of 2 s: the wait on the helper is announced first.
    let env = with_fake_helper("hang", "sleep 40")
        .env("HOIST_HELPER_TIMEOUT_MS", "1500")
        .env("HOIST_TEST_TIMEOUT_SCALE", "0.5");
    let started = std::time::Instant::now();
    let out = run(
        env.hoist()
            .args(["pull", &reference, "--output"])
            .arg(env.scratch("out")),
        None,
    );
    assert_exit(&out, 0);
    assert_eq!(stdout(&out).trim(), digest);
    let err = stderr(&out);
    assert!(
        err.contains("WARNING")
            && err.contains("docker-credential-hang")
            && err.contains("did not answer within 1500 ms"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "waiting for the credential helper for {} (1 s)",
            reg.host()
        )),
        "{err}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));

    let out = hoist_login(&env, &reg.host(), "alice", b"pw\n");
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("docker-credential-hang") && err.contains("did not answer"),
        "{err}"
    );
}

/// A helper printing without end once took hoist's memory with it: its output is capped at
/// 1 MiB, then it is stopped, and the public pull goes on.
#[test]
fn a_helper_printing_without_end_is_cut_off() {
    let (_issuer, _reg, reference, digest) = public_image(92);
    let env = with_fake_helper("flood", "yes | head -c 300M");
    let out_dir = env.scratch("out").display().to_string();
    let (out, peak_kib) =
        crate::support::tools::hoist_peak_rss(&env, &["pull", &reference, "--output", &out_dir]);
    assert_eq!(stdout(&out).trim(), digest);
    let err = stderr(&out);
    assert!(
        err.contains("docker-credential-flood") && err.contains("printed more than 1024 KiB"),
        "{err}"
    );
    assert!(peak_kib < 64 * 1024, "peak RSS {peak_kib} KiB");
}
