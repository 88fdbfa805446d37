//! A forward HTTP proxy, as corporate networks have: `CONNECT host:port` tunnels for HTTPS and
//! absolute-form requests (`GET http://host:port/...`) for plain HTTP. Every target resolves
//! to 127.0.0.1, so a client can reach a registry named `registry.test` only through it.
//! A plain-HTTP request is forwarded with `Connection: close`, so every request arrives on a
//! connection of its own and is recorded: a kept-alive connection would hide all but its first.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

pub struct ForwardProxy {
    port: u16,
    /// Request lines seen: "CONNECT registry.test:5000", "GET http://registry.test:5000/v2/".
    seen: Arc<Mutex<Vec<String>>>,
    /// Plain-HTTP requests for one port sent to another: `http://h:P` and `https://h:P` are
    /// then different servers, as a host serving both schemes on one port would be.
    plain_routes: Arc<Mutex<HashMap<String, String>>>,
}

impl ForwardProxy {
    pub fn start() -> ForwardProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let plain_routes = Arc::new(Mutex::new(HashMap::new()));
        let (log, routes) = (seen.clone(), plain_routes.clone());
        // The accept thread ends with the test process; tests never wait on it.
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (log, routes) = (log.clone(), routes.clone());
                std::thread::spawn(move || {
                    let _ = serve(client, &log, &routes);
                });
            }
        });
        ForwardProxy {
            port,
            seen,
            plain_routes,
        }
    }

    /// From now on, plain-HTTP requests for port `from` go to 127.0.0.1:`to`.
    pub fn route_plain(&self, from: u16, to: u16) {
        let mut routes = self.plain_routes.lock().unwrap();
        routes.insert(from.to_string(), to.to_string());
    }

    /// `http://127.0.0.1:PORT`, for `HTTPS_PROXY` / `HTTP_PROXY`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(
    client: TcpStream,
    log: &Mutex<Vec<String>>,
    routes: &Mutex<HashMap<String, String>>,
) -> std::io::Result<()> {
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
    let mut port = authority
        .rsplit_once(':')
        .map_or("80", |(_, p)| p)
        .to_string();
    if method != "CONNECT" {
        if let Some(to) = routes.lock().unwrap().get(&port) {
            port = to.clone();
        }
    }
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
