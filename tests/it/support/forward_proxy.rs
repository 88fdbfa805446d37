//! A forward HTTP proxy, as corporate networks have: `CONNECT host:port` tunnels for HTTPS and
//! absolute-form requests (`GET http://host:port/...`) for plain HTTP. Every target resolves
//! to 127.0.0.1, so a client can reach a registry named `registry.test` only through it.
//! A plain-HTTP request is forwarded with `Connection: close`, so every request arrives on a
//! connection of its own and is recorded: a kept-alive connection would hide all but its first.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

pub struct ForwardProxy {
    port: u16,
    /// Request lines seen: "CONNECT registry.test:5000", "GET http://registry.test:5000/v2/".
    seen: Arc<Mutex<Vec<String>>>,
}

impl ForwardProxy {
    pub fn start() -> ForwardProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        // The accept thread ends with the test process; tests never wait on it.
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || {
                    let _ = serve(client, &log);
                });
            }
        });
        ForwardProxy { port, seen }
    }

    /// `http://127.0.0.1:PORT`, for `HTTPS_PROXY` / `HTTP_PROXY`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(client: TcpStream, log: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let mut words = head.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    log.lock().unwrap().push(format!("{method} {target}"));
    let authority = match method {
        "CONNECT" => target,
        _ => target
            .strip_prefix("http://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or(""),
    };
    let port = authority.rsplit_once(':').map_or("80", |(_, p)| p);
    let mut upstream = TcpStream::connect(format!("127.0.0.1:{port}"))?;
    let mut client_w = client.try_clone()?;
    if method == "CONNECT" {
        client_w.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    } else {
        // The registry accepts absolute-form request lines: pass the head on, asking the
        // registry to close after its answer, which tells the client not to reuse the connection.
        upstream.write_all(closing(&head).as_bytes())?;
    }
    let mut upstream_r = upstream.try_clone()?;
    let to_client = std::thread::spawn(move || {
        let _ = std::io::copy(&mut upstream_r, &mut client_w);
        let _ = client_w.shutdown(Shutdown::Write);
    });
    // Bytes the reader buffered past the head belong to the tunnel.
    let buffered = reader.buffer().to_vec();
    upstream.write_all(&buffered)?;
    let mut rest = reader.into_inner();
    let _ = std::io::copy(&mut rest, &mut upstream);
    let _ = upstream.shutdown(Shutdown::Write);
    let _ = to_client.join();
    Ok(())
}

/// The request head with its connection headers replaced by `Connection: close`.
fn closing(head: &str) -> String {
    let mut out = String::new();
    for line in head.split_inclusive("\r\n") {
        let name = line.split(':').next().unwrap_or("").trim();
        if name.eq_ignore_ascii_case("connection") || name.eq_ignore_ascii_case("proxy-connection")
        {
            continue;
        }
        if line == "\r\n" {
            out.push_str("Connection: close\r\n");
        }
        out.push_str(line);
    }
    out
}
