//! `hoist tag REF NEWTAG...`: the manifest PUT again under each tag, no blob traffic, on
//! open, Basic and token registries, for an image and for an index.

use super::token_target;
use crate::support::images::{remote_manifest_with_skopeo, ImageSpec};
use crate::support::issuer_config::IssuerConfig;
use crate::support::proxy::{Fault, Kind, Match};
use crate::support::scenario::{Scenario, Target};
use crate::support::sha256_digest;
use crate::support::tools::{assert_exit, stderr, stdout};

fn tags_an_existing_image(sc: Scenario, spec: ImageSpec) {
    let image = sc.seed("team/app:1.4.2", spec);
    let out = sc.hoist(&["tag", &sc.reference("team/app:1.4.2"), "stable", "latest"]);
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert!(stderr(&out).contains("Tagged"), "{}", stderr(&out));
    for tag in ["stable", "latest"] {
        let raw =
            remote_manifest_with_skopeo(&sc.reference(&format!("team/app:{tag}")), sc.target.creds);
        assert_eq!(sha256_digest(&raw), image.digest(), "{tag}");
    }
    // One GET, one PUT per tag: no blob moved.
    let blob_requests = sc
        .proxy
        .requests()
        .into_iter()
        .filter(|r| matches!(r.kind, Kind::Blob | Kind::Upload))
        .count();
    assert_eq!(blob_requests, 0);
    assert_eq!(sc.proxy.count("PUT", Kind::Manifest), 2);
}

#[test]
fn tag_adds_tags_on_an_open_registry() {
    tags_an_existing_image(Scenario::open(), ImageSpec::new(60));
}

#[test]
fn tag_adds_tags_to_an_index_on_a_basic_registry() {
    tags_an_existing_image(
        Scenario::new(Target::basic()),
        ImageSpec::new(61).multi_platform(),
    );
}

#[test]
fn tag_adds_tags_on_a_token_registry() {
    tags_an_existing_image(
        Scenario::new(token_target(IssuerConfig::default())),
        ImageSpec::new(62),
    );
}

#[test]
fn tag_by_digest_checks_the_bytes_against_it() {
    let sc = Scenario::open();
    let image = sc.seed("team/app:1", ImageSpec::new(63));
    let by_digest = sc.reference(&format!("team/app@{}", image.digest()));
    // The registry's answer is tampered with: hoist must refuse to tag what it did not ask for.
    sc.proxy.inject(
        Match::method("GET", Kind::Manifest),
        Fault::FlipResponseByte(10),
    );
    let out = sc.hoist(&["tag", &by_digest, "stable"]);
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("digest mismatch"), "{}", stderr(&out));
    assert_eq!(sc.proxy.count("PUT", Kind::Manifest), 0);
    // Untampered, it tags.
    let out = sc.hoist(&["tag", &by_digest, "stable"]);
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
}
