//! A TCP front that holds every TLS ClientHello unanswered until a plain-HTTP request has
//! arrived, then closes that connection (a fast TLS failure); plain connections are relayed
//! unchanged to `upstream`. A client that tries plain HTTP only after HTTPS has failed waits
//! here for its deadline; one that starts both at once goes straight through.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::watch;

/// The first byte of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

pub struct TlsGate {
    port: u16,
    held: Arc<AtomicUsize>,
}

impl TlsGate {
    pub fn start(upstream: &str) -> TlsGate {
        let upstream = upstream.to_string();
        let held = Arc::new(AtomicUsize::new(0));
        let plain_seen = Arc::new(watch::channel(false).0);
        let counter = held.clone();
        let port = super::serve_connections(move |mut client| {
            let (upstream, plain_seen, held) =
                (upstream.clone(), plain_seen.clone(), counter.clone());
            async move {
                let mut first = [0u8; 1];
                if !matches!(client.peek(&mut first).await, Ok(1)) {
                    return;
                }
                if first[0] == TLS_HANDSHAKE {
                    held.fetch_add(1, Ordering::SeqCst);
                    let _ = plain_seen.subscribe().wait_for(|seen| *seen).await;
                    return; // Dropped: the handshake fails at once.
                }
                plain_seen.send_replace(true);
                let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            }
        });
        TlsGate { port, held }
    }

    /// `127.0.0.1:PORT` of the gate.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// TLS handshakes held so far.
    pub fn tls_held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }
}
