//! Throwaway certificate authority for TLS registries and client-cert auth.

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use std::fs;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// PEM files of one issued certificate.
#[derive(Clone, Debug)]
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub cert_pem: String,
    pub key_pem: String,
}

pub struct TestCa {
    dir: TempDir,
    cert: Certificate,
    key: KeyPair,
    /// CA certificate PEM path.
    pub ca_cert: PathBuf,
    pub ca_pem: String,
}

impl TestCa {
    pub fn new() -> TestCa {
        let dir = TempDir::new().unwrap();
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "hoist test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).unwrap();
        let ca_pem = cert.pem();
        let ca_cert = dir.path().join("ca.crt");
        fs::write(&ca_cert, &ca_pem).unwrap();
        TestCa {
            dir,
            cert,
            key,
            ca_cert,
            ca_pem,
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Server certificate valid for 127.0.0.1, localhost, ::1 and `registry.test` (a name
    /// only the forward proxy in the support code resolves).
    pub fn server_cert(&self) -> CertFiles {
        let names = vec![
            "127.0.0.1".into(),
            "localhost".into(),
            "::1".into(),
            "registry.test".into(),
        ];
        self.issue("server", names, ExtendedKeyUsagePurpose::ServerAuth)
    }

    /// Client certificate for mutual TLS.
    pub fn client_cert(&self, name: &str) -> CertFiles {
        self.issue(name, vec![], ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn issue(&self, name: &str, sans: Vec<String>, eku: ExtendedKeyUsagePurpose) -> CertFiles {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(sans).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![eku];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        let (cert_pem, key_pem) = (cert.pem(), key.serialize_pem());
        let cert_path = self.dir.path().join(format!("{name}.crt"));
        let key_path = self.dir.path().join(format!("{name}.key"));
        fs::write(&cert_path, &cert_pem).unwrap();
        fs::write(&key_path, &key_pem).unwrap();
        CertFiles {
            cert: cert_path,
            key: key_path,
            cert_pem,
            key_pem,
        }
    }

    /// Lays out Docker-style trust: `<root>/certs.d/<host>/ca.crt` plus
    /// optional `client.cert`/`client.key`. Returns the host directory.
    pub fn docker_certs_d(&self, root: &Path, host: &str, client: Option<&CertFiles>) -> PathBuf {
        let d = root.join("certs.d").join(host);
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("ca.crt"), &self.ca_pem).unwrap();
        if let Some(c) = client {
            fs::write(d.join("client.cert"), &c.cert_pem).unwrap();
            fs::write(d.join("client.key"), &c.key_pem).unwrap();
        }
        d
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}
