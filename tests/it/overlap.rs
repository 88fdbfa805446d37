//! Round trips (issue 15): without `--jobs` every small blob is in flight at once, and
//! `--jobs` still bounds them; push asks for its manifest alongside the blob checks; an index's
//! images are fetched together and each one's blobs start as soon as it is known.

use crate::support::images::ImageSpec;
use crate::support::proxy::{Fault, Kind, Match, Proxy, Recorded};
use crate::support::scenario::Scenario;
use crate::support::tools::path_str;
use std::time::Duration;

/// Enough for every request of a wave to reach the proxy before the first is answered.
const LATENCY: Duration = Duration::from_millis(300);
const SMALL_LAYERS: [usize; 10] = [3000; 10];

/// Where the first request matching `keep` sits among everything the proxy saw.
fn first(requests: &[Recorded], keep: impl Fn(&Recorded) -> bool) -> usize {
    requests
        .iter()
        .position(keep)
        .unwrap_or_else(|| panic!("no such request: {requests:#?}"))
}

fn blob_requests_at_once(proxy: &Proxy) -> usize {
    proxy.max_in_flight(Kind::Blob)
}

#[test]
fn pull_without_jobs_fetches_every_small_blob_at_once() {
    let sc = Scenario::open();
    sc.seed("app/wide:1", ImageSpec::new(91).layers(&SMALL_LAYERS));
    sc.proxy.set_latency(LATENCY);
    sc.pull_to_store_ok(&sc.reference("app/wide:1"), &[]);
    // A config and ten layers: with the old fixed 4 they went in three waves.
    let at_once = blob_requests_at_once(&sc.proxy);
    assert!(at_once >= 8, "{at_once} blob GETs at once");
}

#[test]
fn jobs_still_bounds_the_blobs_in_flight() {
    let sc = Scenario::open();
    sc.seed("app/narrow:1", ImageSpec::new(92).layers(&SMALL_LAYERS));
    sc.proxy.set_latency(LATENCY);
    sc.pull_to_store_ok(&sc.reference("app/narrow:1"), &["--jobs", "3"]);
    assert_eq!(blob_requests_at_once(&sc.proxy), 3);
}

#[test]
fn push_without_jobs_checks_every_small_blob_at_once() {
    let sc = Scenario::open();
    let image = ImageSpec::new(93).layers(&SMALL_LAYERS).build("img");
    let from = format!("{}:img", image.root.display());
    sc.proxy.set_latency(LATENCY);
    sc.push_ok(&[&sc.reference("app/up:1"), "--from", &from]);
    let at_once = blob_requests_at_once(&sc.proxy);
    assert!(at_once >= 8, "{at_once} blob HEADs at once");
}

/// The manifest HEAD no longer costs a round trip of its own: while it goes unanswered, the
/// blobs are checked and uploaded.
#[test]
fn push_checks_the_blobs_while_the_manifest_head_is_out() {
    let sc = Scenario::open().env_var("HOIST_TEST_TIMEOUT_SCALE", "0.1");
    let image = ImageSpec::new(94).layers(&[2048, 4096]).build("img");
    let from = format!("{}:img", image.root.display());
    // Never answered: hoist gives up on it after one attempt's deadline and asks again.
    sc.proxy
        .inject(Match::method("HEAD", Kind::Manifest), Fault::HoldRequest);
    sc.push_ok(&[&sc.reference("app/overlap:1"), "--from", &from]);
    let requests = sc.proxy.requests();
    let heads: Vec<usize> = requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.method == "HEAD" && r.kind == Kind::Manifest)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(heads.len(), 2, "{requests:#?}");
    let blob_check = first(&requests, |r| r.method == "HEAD" && r.kind == Kind::Blob);
    let upload = first(&requests, |r| r.kind == Kind::Upload);
    assert!(blob_check < heads[1] && upload < heads[1], "{requests:#?}");
}

/// `--platform all`: the first image's blobs come down while the second image's manifest is
/// still awaited.
#[test]
fn all_platforms_starts_an_images_blobs_as_soon_as_it_is_known() {
    let sc = Scenario::open().env_var("HOIST_TEST_TIMEOUT_SCALE", "0.1");
    let image = sc.seed(
        "app/multi:1",
        ImageSpec::new(95).layers(&[2048]).multi_platform(),
    );
    let second = image.manifests[1].blob.digest.clone();
    sc.proxy.inject(
        Match::method("GET", Kind::Manifest).path_ends_with(&second),
        Fault::HoldRequest,
    );
    let layout = sc.env.scratch("out");
    let reference = sc.reference("app/multi:1");
    sc.pull_ok(&[
        &reference,
        "--platform",
        "all",
        "--output",
        path_str(&layout),
    ]);
    let requests = sc.proxy.requests();
    let second_gets: Vec<usize> = requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.method == "GET" && r.path.ends_with(&second))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(second_gets.len(), 2, "{requests:#?}");
    let blob_get = first(&requests, |r| r.method == "GET" && r.kind == Kind::Blob);
    assert!(blob_get < second_gets[1], "{requests:#?}");
}
