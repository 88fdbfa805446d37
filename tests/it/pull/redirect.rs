//! Blob downloads redirected to object storage: the registry's Authorization never
//! follows the redirect.

use crate::support::images::ImageSpec;
use crate::support::layout::{assert_blobs_verified, assert_has_image, blob_path};
use crate::support::proxy::{Fault, Kind, Match, Proxy};
use crate::support::registry::{Mode, RegistryServer};
use crate::support::scenario::{docker_config_with, env, seed};
use crate::support::tools::{hoist_pull_ok, path_str, stdout};
use std::path::PathBuf;

// --------------------------------------------------------------- redirect

/// What the stand-in object store saw for one request.
#[derive(Clone, Debug)]
struct ObjectRequest {
    path: String,
    authorization: Option<String>,
}

/// A minimal HTTP/1.1 server standing in for the object storage registries
/// send blob downloads to: serves `/objects/<hex>` from a blob directory and
/// records each request's Authorization header.
struct ObjectStore {
    port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<ObjectRequest>>>,
}

impl ObjectStore {
    fn start(blobs: PathBuf) -> ObjectStore {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        // Detached: ends with the test process; each connection is one request.
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                let mut authorization = None;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':') {
                        if k.eq_ignore_ascii_case("authorization") {
                            authorization = Some(v.trim().to_string());
                        }
                    }
                }
                seen2.lock().unwrap().push(ObjectRequest {
                    path: path.clone(),
                    authorization,
                });
                let body = path
                    .strip_prefix("/objects/")
                    .and_then(|hex| std::fs::read(blobs.join(hex)).ok());
                let _ = match body {
                    Some(b) => stream
                        .write_all(
                            format!(
                                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                b.len()
                            )
                            .as_bytes(),
                        )
                        .and_then(|_| stream.write_all(&b)),
                    None => stream.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    ),
                };
            }
        });
        ObjectStore { port, seen }
    }

    fn requests(&self) -> Vec<ObjectRequest> {
        self.seen.lock().unwrap().clone()
    }
}

#[test]
fn blob_redirect_is_followed_without_the_registry_authorization() {
    let reg = RegistryServer::start(Mode::Htpasswd(&[("alice", "s3cret")]));
    let proxy = Proxy::start(&reg.host());
    let image = seed(
        &reg.host(),
        "team/redir:1",
        ImageSpec::new(60).layers(&[20_000]),
        Some(("alice", "s3cret")),
    );
    let layer = image.manifests[0].layers[0].blob.digest.clone();
    let hex = layer.strip_prefix("sha256:").unwrap();
    let objects = ObjectStore::start(image.root.join("blobs/sha256"));
    let env = env();
    docker_config_with(&env, &proxy.host(), "alice", "s3cret");
    let store = env.scratch("store");
    let reference = format!("{}/team/redir:1", proxy.host());
    // Everything but the layer is already there, so the one blob GET is
    // the layer's, and the registry answers it with a redirect.
    hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    std::fs::remove_file(blob_path(&store, &layer)).unwrap();
    proxy.inject(
        Match::method("GET", Kind::Blob),
        Fault::Status {
            status: 307,
            headers: vec![(
                "Location".into(),
                format!("http://localhost:{}/objects/{hex}", objects.port),
            )],
            body: String::new(),
        },
    );
    let out = hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_eq!(proxy.pending_faults(), 0);
    let seen = objects.requests();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    assert_eq!(seen[0].path, format!("/objects/{hex}"));
    assert_eq!(seen[0].authorization, None, "registry credentials leaked");
    assert_has_image(&store, &image, &["amd64"]);
    assert_blobs_verified(&store);
}
