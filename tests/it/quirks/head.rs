//! Registries that refuse HEAD on manifests (Nexus; distribution behind some proxies,
//! distribution#1485): push asks "is it already there?" with GET instead, same Accept header.

use crate::support::images::{ImageLayout, ImageSpec};
use crate::support::proxy::{Fault, Kind, Match};
use crate::support::scenario::Scenario;
use crate::support::tools::stdout;

/// An image in a layout, pushed once through the proxy with no fault.
fn pushed_once(sc: &Scenario, reference: &str) -> ImageLayout {
    let image = ImageSpec::new(41).layers(&[2000]).build("img");
    let from = format!("{}:img", image.root.display());
    sc.push_ok(&[reference, "--from", &from]);
    image
}

fn push_again_json(sc: &Scenario, reference: &str, image: &ImageLayout) -> serde_json::Value {
    sc.proxy.clear();
    let from = format!("{}:img", image.root.display());
    let out = sc.push_ok(&[reference, "--from", &from, "--json"]);
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[test]
fn a_registry_refusing_head_on_manifests_is_asked_with_get() {
    let sc = Scenario::open();
    let reference = sc.reference("quirks/head:1");
    let image = pushed_once(&sc, &reference);
    for status in [405, 400, 404] {
        sc.fault(Match::method("HEAD", Kind::Manifest), Fault::status(status));
        let json = push_again_json(&sc, &reference, &image);
        assert_eq!(json["unchanged"], true, "after HEAD {status}: {json}");
        let gets = sc.requests_of("GET", Kind::Manifest);
        assert_eq!(gets.len(), 1, "after HEAD {status}: {gets:?}");
        assert_eq!(sc.requests_of("PUT", Kind::Manifest).len(), 0);
    }
}

#[test]
fn a_head_answer_without_a_digest_is_checked_with_get() {
    let sc = Scenario::open();
    let reference = sc.reference("quirks/nodigest:1");
    let image = pushed_once(&sc, &reference);
    sc.fault(
        Match::method("HEAD", Kind::Manifest),
        Fault::drop_header("docker-content-digest"),
    );
    let json = push_again_json(&sc, &reference, &image);
    assert_eq!(json["unchanged"], true, "{json}");
    assert_eq!(sc.requests_of("GET", Kind::Manifest).len(), 1);
    assert_eq!(sc.requests_of("PUT", Kind::Manifest).len(), 0);
}

/// The GET fallback carries the same Accept header: a registry holding an OCI index answers
/// it with the index, whose digest is the one pushed.
#[test]
fn the_get_fallback_finds_an_index_under_its_own_digest() {
    let sc = Scenario::open();
    let reference = sc.reference("quirks/headindex:1");
    let image = ImageSpec::new(42).multi_platform().build("img");
    let from = format!("{}:img", image.root.display());
    sc.push_ok(&[&reference, "--from", &from]);
    sc.fault(Match::method("HEAD", Kind::Manifest), Fault::status(405));
    let json = push_again_json(&sc, &reference, &image);
    assert_eq!(json["unchanged"], true, "{json}");
    assert_eq!(json["digest"], image.digest());
}
