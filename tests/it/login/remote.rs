//! Login beyond the basics: plain HTTP to a remote host, terminal prompts,
//! DOCKER_AUTH_CONFIG, the legacy .dockercfg, debug output, TLS and unreachable hosts.

use super::{
    alice_registry, assert_only_login, b64, hoist_login, json, single_auth_config, token_setup,
};
use crate::support::registry::{Mode, RegistryServer};
use crate::support::tools::{assert_exit, assert_stderr_has, run, stderr, stdout, TestEnv};
use std::process::Output;

/// This machine's first non-loopback IPv4 address, if it has one.
fn non_loopback_ipv4() -> Option<std::net::Ipv4Addr> {
    let out = std::process::Command::new("hostname")
        .arg("-I")
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|w| w.parse::<std::net::Ipv4Addr>().ok())
        .find(|ip| !ip.is_loopback())
}

/// A TCP forwarder on `ip` to `upstream` that records every byte clients sent.
struct Forwarder {
    addr: std::net::SocketAddr,
    seen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Forwarder {
    fn start(ip: std::net::Ipv4Addr, upstream: String) -> Forwarder {
        use std::io::{Read, Write};
        use std::net::{TcpListener, TcpStream};
        let listener = TcpListener::bind((ip, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { break };
                let Ok(mut server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let mut client2 = client.try_clone().unwrap();
                let mut server2 = server.try_clone().unwrap();
                let seen = seen2.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = client.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        seen.lock().unwrap().extend_from_slice(&buf[..n]);
                        if server.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = server.shutdown(std::net::Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut server2, &mut client2);
                    let _ = client2.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        Forwarder { addr, seen }
    }

    fn saw_authorization(&self) -> bool {
        String::from_utf8_lossy(&self.seen.lock().unwrap())
            .to_ascii_lowercase()
            .contains("authorization:")
    }
}

#[test]
fn no_credentials_over_plain_http_to_a_remote_host_without_insecure() {
    let Some(ip) = non_loopback_ipv4() else {
        eprintln!("skipped: this machine has no non-loopback IPv4 address");
        return;
    };
    let reg = alice_registry();
    let fwd = Forwarder::start(ip, reg.host());
    let host = fwd.addr.to_string();
    let env = TestEnv::new().without_credential_helpers();
    let out = hoist_login(&env, &host, "alice", b"s3cret\n");
    assert_exit(&out, 1);
    assert!(!fwd.saw_authorization(), "credentials went over plain HTTP");
    assert_eq!(env.docker_config_json(), None);

    // Naming the host in --insecure allows plain HTTP.
    let out = run(
        env.hoist().args([
            "--insecure",
            &host,
            "login",
            &host,
            "-u",
            "alice",
            "--password-stdin",
        ]),
        Some(b"s3cret\n"),
    );
    assert_exit(&out, 0);
    assert!(fwd.saw_authorization());
    assert_only_login(&env, &host, "alice", "s3cret");
}

/// Runs hoist with `args` inside a pseudo-terminal (util-linux `script`), typing `input`.
fn hoist_in_terminal(env: &TestEnv, args: &[&str], input: &[u8]) -> Output {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut line = quote(env!("CARGO_BIN_EXE_hoist"));
    for a in args {
        line.push(' ');
        line.push_str(&quote(a));
    }
    run(
        env.command("script")
            .args(["-q", "-e", "-c", &line, "/dev/null"]),
        Some(input),
    )
}

#[test]
fn terminal_prompts_for_what_is_missing() {
    let reg = alice_registry();
    let env = TestEnv::new().without_credential_helpers();
    let out = hoist_in_terminal(&env, &["login", &reg.host()], b"alice\ns3cret\n");
    assert_exit(&out, 0);
    let screen = stdout(&out);
    assert!(
        screen.contains("Username: ") && screen.contains("Password: "),
        "{screen}"
    );
    assert!(screen.contains("Login Succeeded"), "{screen}");
    assert_only_login(&env, &reg.host(), "alice", "s3cret");
}

#[test]
fn terminal_prompts_again_when_stored_credentials_are_refused() {
    let reg = alice_registry();
    let env = TestEnv::new()
        .without_credential_helpers()
        .with_docker_config(&single_auth_config(&reg.host(), "alice", "old"));
    // An empty username line takes the stored name offered as default.
    let out = hoist_in_terminal(&env, &["login", &reg.host()], b"\ns3cret\n");
    assert_exit(&out, 0);
    let screen = stdout(&out);
    assert!(screen.contains("[Username: alice]"), "{screen}");
    assert!(screen.contains("invalid or expired"), "{screen}");
    assert!(screen.contains("Username (alice): "), "{screen}");
    assert_only_login(&env, &reg.host(), "alice", "s3cret");
}

#[test]
fn docker_auth_config_is_verified_but_never_copied_to_disk() {
    let reg = alice_registry();
    let layer = |pw: &str| {
        format!(
            "{{\"auths\": {{\"{}\": {{\"auth\": \"{}\"}}}}}}",
            reg.host(),
            b64(&format!("alice:{pw}"))
        )
    };
    let env = TestEnv::new()
        .without_credential_helpers()
        .env("DOCKER_AUTH_CONFIG", &layer("s3cret"));
    let out = run(env.hoist().args(["login", &reg.host()]), None);
    assert_exit(&out, 0);
    assert_stderr_has(
        &out,
        "Authenticating with existing credentials... [Username: alice]",
    );
    assert_eq!(env.docker_config_json(), None, "the secret stays off disk");
    assert!(!stderr(&out).contains("unencrypted"), "{}", stderr(&out));

    // The variable overrides the file.
    let env = TestEnv::new()
        .without_credential_helpers()
        .with_docker_config(&single_auth_config(&reg.host(), "alice", "s3cret"))
        .env("DOCKER_AUTH_CONFIG", &layer("stale"));
    let out = run(env.hoist().args(["login", &reg.host()]), None);
    assert_exit(&out, 1);
    assert_stderr_has(&out, "invalid or expired");
}

#[test]
fn legacy_dockercfg_is_read_when_there_is_no_config_json() {
    let reg = alice_registry();
    let env = TestEnv::new().without_credential_helpers();
    let legacy = format!(
        "{{\"{}\": {{\"auth\": \"{}\", \"email\": \"a@example.com\"}}}}",
        reg.host(),
        b64("alice:s3cret")
    );
    std::fs::write(env.home.join(".dockercfg"), &legacy).unwrap();
    let out = run(env.hoist().args(["login", &reg.host()]), None);
    assert_exit(&out, 0);
    assert_stderr_has(&out, "[Username: alice]");
    assert_eq!(
        std::fs::read_to_string(env.home.join(".dockercfg")).unwrap(),
        legacy
    );
}

#[test]
fn debug_output_never_shows_secrets() {
    let (_issuer, reg) = token_setup();
    let env = TestEnv::new().without_credential_helpers();
    let out = run(
        env.hoist().args([
            "--debug",
            "login",
            &reg.host(),
            "-u",
            "alice",
            "--password-stdin",
        ]),
        Some(b"pw\n"),
    );
    assert_exit(&out, 0);
    let cfg = json(&env.docker_config_json().unwrap());
    let token = cfg["auths"][reg.host()]["identitytoken"]
        .as_str()
        .unwrap()
        .to_string();
    let all = stdout(&out) + &stderr(&out);
    assert!(all.contains("debug:"), "--debug logged nothing: {all}");
    for secret in [token.as_str(), &b64("alice:pw"), "Bearer ", "Basic "] {
        assert!(!all.contains(secret), "{secret:?} in output:\n{all}");
    }
    // Again with the refresh token.
    let out = run(env.hoist().args(["--debug", "login", &reg.host()]), None);
    assert_exit(&out, 0);
    let all = stdout(&out) + &stderr(&out);
    assert!(!all.contains(&token), "{all}");
}

#[test]
fn tls_registry_with_ca_from_certs_d() {
    use crate::support::tls::TestCa;
    use crate::tls::tls_options;
    let ca = TestCa::new();
    let tls = tls_options(&ca, false);
    let reg = RegistryServer::start_tls(Mode::Htpasswd(&[("alice", "s3cret")]), &tls);
    // Without the CA: the certificate is the problem, and nothing is stored.
    let env = TestEnv::new().without_credential_helpers();
    let out = hoist_login(&env, &reg.host(), "alice", b"s3cret\n");
    assert_exit(&out, 1);
    assert!(
        stderr(&out).to_lowercase().contains("certificate"),
        "the error should say the certificate is not trusted: {}",
        stderr(&out)
    );
    assert_eq!(env.docker_config_json(), None);
    // With the CA in $DOCKER_CONFIG/certs.d/HOST/.
    ca.docker_certs_d(&env.docker_config, &reg.host(), None);
    let out = hoist_login(&env, &reg.host(), "alice", b"s3cret\n");
    assert_exit(&out, 0);
    let cfg = json(&env.docker_config_json().unwrap());
    assert_eq!(cfg["auths"][reg.host()]["auth"], b64("alice:s3cret"));
}

#[test]
fn unreachable_registry_fails_and_stores_nothing() {
    // A port nothing listens on (bound, then released).
    let port = crate::support::free_port();
    let env = TestEnv::new().without_credential_helpers();
    let out = hoist_login(&env, &format!("127.0.0.1:{port}"), "alice", b"s3cret\n");
    assert_exit(&out, 1);
    assert_stderr_has(&out, "nothing was stored");
    assert!(!stderr(&out).contains("s3cret"));
    assert_eq!(env.docker_config_json(), None);
}
