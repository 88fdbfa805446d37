//! TLS registries with a private CA: refused without the CA, trusted through Docker's
//! `certs.d` layout, `SSL_CERT_FILE` or `--insecure`, and client-certificate authentication.

use crate::runs::pull_fresh as pull;
use crate::support::images::{push_with_skopeo, ImageSpec};
use crate::support::registry::{Mode, RegistryServer, TlsOptions};
use crate::support::tls::TestCa;
use crate::support::tools::{stdout, TestEnv};

/// The test CA's server certificate, and with `client_cas` client certificates it signed
/// required too.
pub fn tls_options(ca: &TestCa, client_cas: bool) -> TlsOptions {
    TlsOptions {
        server: ca.server_cert(),
        client_cas: client_cas.then(|| ca.ca_cert.clone()),
    }
}

fn tls_registry(ca: &TestCa, client_cas: bool) -> (RegistryServer, String, String) {
    let registry = RegistryServer::start_tls(Mode::Open, &tls_options(ca, client_cas));
    let reference = format!("{}/tls/app:v1", registry.host());
    let image = ImageSpec::new(11).layers(&[20_000]).build("v1");
    if !client_cas {
        push_with_skopeo(&image, &reference, None);
    }
    (registry, reference, image.digest().to_string())
}

/// Pulls, which must succeed and print the image's digest.
fn assert_pulls(env: &TestEnv, extra: &[&str], reference: &str, digest: &str) {
    let out = pull(env, extra, reference);
    assert_eq!(
        stdout(&out).trim(),
        digest,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn private_ca_is_refused_until_trusted() {
    let ca = TestCa::new();
    let (registry, reference, digest) = tls_registry(&ca, false);

    let env = TestEnv::new();
    let out = pull(&env, &[], &reference);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("certificate") || stderr.contains("UnknownIssuer"),
        "{stderr}"
    );

    // $DOCKER_CONFIG/certs.d/HOST:PORT/ca.crt
    ca.docker_certs_d(&env.docker_config, &registry.host(), None);
    assert_pulls(&env, &[], &reference, &digest);

    // --certs-dir DIR, laid out like /etc/docker/certs.d
    let env = TestEnv::new();
    let dir = env.scratch("certs");
    ca.docker_certs_d(&dir, &registry.host(), None);
    let certs_d = dir.join("certs.d").display().to_string();
    assert_pulls(&env, &["--certs-dir", &certs_d], &reference, &digest);

    // --insecure skips verification for that registry only.
    let env = TestEnv::new();
    assert_pulls(&env, &["--insecure", &registry.host()], &reference, &digest);

    // The system trust store can be pointed elsewhere, as with other TLS clients.
    let env = TestEnv::new().env("SSL_CERT_FILE", &ca.ca_cert.display().to_string());
    assert_pulls(&env, &[], &reference, &digest);

    // SSL_CERT_DIR: a directory of CA files, as OpenSSL reads it.
    let env = TestEnv::new();
    let dir = env.scratch("ca-dir");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&ca.ca_cert, dir.join("private-ca.pem")).unwrap();
    let env = env.env("SSL_CERT_DIR", &dir.display().to_string());
    assert_pulls(&env, &[], &reference, &digest);
}

#[test]
fn client_certificate_from_certs_d() {
    let ca = TestCa::new();
    let (registry, reference, _) = tls_registry(&ca, true);
    let env = TestEnv::new();
    ca.docker_certs_d(&env.docker_config, &registry.host(), None);
    // No client certificate: the TLS handshake is refused before any HTTP.
    let out = pull(&env, &[], &reference);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let client = ca.client_cert("ci-client");
    let env = TestEnv::new();
    ca.docker_certs_d(&env.docker_config, &registry.host(), Some(&client));
    let out = pull(&env, &[], &reference);
    // The repository is empty: reaching the registry's "unknown manifest" answer proves the
    // handshake with the client certificate succeeded.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("MANIFEST_UNKNOWN")
            || stderr.contains("NAME_UNKNOWN")
            || stderr.contains("404"),
        "{stderr}"
    );
}
