//! A TLS front for a plain-HTTP server: terminates TLS with a test certificate and relays the
//! bytes unchanged to `upstream` (a fault proxy, which then sees and shapes every request), so
//! a test can put an HTTPS registry that redirects, or answers anything, on a named host.

use super::tls::CertFiles;
use std::sync::Arc;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub struct TlsRelay {
    port: u16,
}

impl TlsRelay {
    pub fn start(cert: &CertFiles, upstream: &str) -> TlsRelay {
        let certs = CertificateDer::pem_slice_iter(cert.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let upstream = upstream.to_string();
        let port = super::serve_connections(move |client| {
            let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
            async move {
                let Ok(mut client) = acceptor.accept(client).await else {
                    return;
                };
                let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            }
        });
        TlsRelay { port }
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}
