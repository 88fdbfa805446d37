//! Pull-through mirrors, with real distribution caches in front of real registries: an
//! upstream with token auth that the cache logs in to with its own username and password,
//! a mirror that is down, a mirror that lacks the image.

use crate::support::images::ImageSpec;
use crate::support::mirror::PullThrough;
use crate::support::scenario::{env, Target};
use crate::support::token_issuer::IssuerConfig;
use crate::support::tools::{hoist_pull_ok, path_str, stdout};

/// The test bed's cache serves a token-auth upstream's image, pulled straight from it.
#[test]
fn a_pull_through_cache_serves_a_token_upstream_through_its_own_login() {
    let upstream = Target::token(IssuerConfig::default());
    let image = crate::support::scenario::seed(
        &upstream.reg.host(),
        "team/app:1",
        ImageSpec::new(71).layers(&[3000]),
        upstream.creds,
    );
    let cache = PullThrough::of(&upstream);
    let env = env();
    let store = env.scratch("store");
    let reference = format!("{}/team/app:1", cache.host());
    let out = hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(stdout(&out).trim(), image.digest());
    let layer = &image.manifests[0].layers[0].blob.digest;
    assert!(cache.holds_blob(layer), "the cache kept {layer}");
}
