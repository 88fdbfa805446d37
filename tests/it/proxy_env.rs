//! `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`, as CI networks set them. The registry is named
//! `registry.test`, which only the forward proxy resolves: a pull that succeeds went through it.

use crate::runs::pull_fresh as pull;
use crate::support::forward_proxy::ForwardProxy;
use crate::support::images::{push_with_skopeo, ImageSpec};
use crate::support::registry::{Mode, RegistryServer};
use crate::support::tls::TestCa;
use crate::support::tools::{stderr, stdout, TestEnv};
use crate::tls::tls_options;

#[test]
fn https_goes_through_the_https_proxy_tunnel() {
    let ca = TestCa::new();
    let registry = RegistryServer::start_tls(Mode::Open, &tls_options(&ca, false));
    let image = ImageSpec::new(21).layers(&[20_000]).build("v1");
    push_with_skopeo(&image, &format!("{}/app:v1", registry.host()), None);
    let proxy = ForwardProxy::start();

    let host = format!("registry.test:{}", registry.port());
    let env = TestEnv::new().env("HTTPS_PROXY", &proxy.url());
    ca.docker_certs_d(&env.docker_config, &host, None);
    let out = pull(&env, &[], &format!("{host}/app:v1"));
    assert_eq!(stdout(&out).trim(), image.digest(), "{}", stderr(&out));
    let seen = proxy.seen();
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|s| s == &format!("CONNECT {host}")),
        "{seen:?}"
    );
}

#[test]
fn plain_http_goes_through_the_http_proxy_unless_no_proxy_says_otherwise() {
    let registry = RegistryServer::start(Mode::Open);
    let image = ImageSpec::new(22).layers(&[20_000]).build("v1");
    push_with_skopeo(&image, &format!("{}/app:v1", registry.host()), None);
    let proxy = ForwardProxy::start();

    let host = format!("registry.test:{}", registry.port());
    let env = TestEnv::new()
        .env("HTTP_PROXY", &proxy.url())
        .env("HTTPS_PROXY", &proxy.url());
    let out = pull(&env, &["--insecure", &host], &format!("{host}/app:v1"));
    assert_eq!(stdout(&out).trim(), image.digest(), "{}", stderr(&out));
    // Every request is seen, the config's and each layer's GET too: a proxy that recorded only
    // the first request of a kept-alive connection once hid them (a flaky failure).
    let manifest = &image.manifests[0];
    let blobs = std::iter::once(&manifest.config.digest)
        .chain(manifest.layers.iter().map(|l| &l.blob.digest));
    for digest in blobs {
        let blob_get = format!("GET http://{host}/v2/app/blobs/{digest}");
        assert!(
            proxy.seen().contains(&blob_get),
            "{blob_get} not in {:?}",
            proxy.seen()
        );
    }

    // NO_PROXY names the registry: hoist goes straight to it, the proxy sees nothing more.
    let before = proxy.seen().len();
    let env = env.env("NO_PROXY", "127.0.0.1");
    let out = pull(&env, &[], &format!("{}/app:v1", registry.host()));
    assert_eq!(stdout(&out).trim(), image.digest(), "{}", stderr(&out));
    assert_eq!(proxy.seen().len(), before, "{:?}", proxy.seen());
}
