//! Docker Hub's pull limit: `429 TOOMANYREQUESTS` with a `Retry-After` of an hour or more and
//! `ratelimit-*` headers. A short wait is honoured; a longer one than hoist gives fails at once
//! with the registry's words, when to try again, the counts, and how to avoid the limit.

use crate::support::images::ImageSpec;
use crate::support::proxy::{Fault, Kind, Match};
use crate::support::scenario::Scenario;
use crate::support::tools::{assert_exit, stderr};
use std::time::{Duration, Instant};

const HUB_MESSAGE: &str = "You have reached your pull rate limit. You may increase the limit by authenticating and upgrading";

fn hub_429(retry_after: Option<&str>) -> Fault {
    let mut headers = vec![
        ("ratelimit-limit".to_string(), "100;w=21600".to_string()),
        ("ratelimit-remaining".to_string(), "0;w=21600".to_string()),
    ];
    if let Some(wait) = retry_after {
        headers.push(("Retry-After".to_string(), wait.to_string()));
    }
    Fault::Status {
        status: 429,
        headers,
        body: format!(r#"{{"errors":[{{"code":"TOOMANYREQUESTS","message":"{HUB_MESSAGE}"}}]}}"#),
    }
}

fn seeded(repo: &str) -> Scenario {
    let sc = Scenario::open();
    sc.seed(&format!("{repo}:1"), ImageSpec::new(51).layers(&[1000]));
    sc
}

#[test]
fn a_retry_after_longer_than_hoist_waits_fails_at_once_and_says_when() {
    let sc = seeded("quirks/limited");
    sc.faults(
        Match::method("GET", Kind::Manifest),
        hub_429(Some("3600")),
        5,
    );
    let started = Instant::now();
    let out = sc.pull_to_store(&sc.reference("quirks/limited:1"), &[]);
    assert!(started.elapsed() < Duration::from_secs(20), "it waited");
    assert_exit(&out, 1);
    let err = stderr(&out);
    for needle in [
        HUB_MESSAGE,
        "TOOMANYREQUESTS",
        "try again after ",
        " GMT (in 60 min)",
        "ratelimit-limit: 100;w=21600",
        "ratelimit-remaining: 0;w=21600",
        "Authenticated pulls have higher limits (hoist login)",
        "--mirror",
    ] {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    assert_eq!(
        sc.requests_of("GET", Kind::Manifest).len(),
        1,
        "not retried"
    );
}

/// A 429 that says the quota is spent, with no time to wait, is not retried either.
#[test]
fn a_spent_quota_without_retry_after_is_not_retried() {
    let sc = seeded("quirks/spent");
    sc.faults(Match::method("GET", Kind::Manifest), hub_429(None), 5);
    let out = sc.pull_to_store(&sc.reference("quirks/spent:1"), &[]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("try again later"), "{err}");
    assert_eq!(
        sc.requests_of("GET", Kind::Manifest).len(),
        1,
        "not retried"
    );
}

/// A short `Retry-After` is waited out, and a wait over 2 s is said before it starts.
#[test]
fn a_short_retry_after_is_honoured_and_announced() {
    let sc = seeded("quirks/short");
    sc.fault(Match::method("GET", Kind::Manifest), Fault::too_many(3));
    let started = Instant::now();
    let out = sc.pull_to_store_ok(&sc.reference("quirks/short:1"), &[]);
    assert!(started.elapsed() >= Duration::from_secs(3));
    let err = stderr(&out);
    assert!(
        err.contains("registry asked to retry in 3 s (429 Too Many Requests)"),
        "{err}"
    );
    assert_eq!(sc.requests_of("GET", Kind::Manifest).len(), 2);
}

/// `--debug` shows how many pulls Docker Hub has left, from the manifest's answer.
#[test]
fn debug_shows_the_ratelimit_remaining_of_manifest_answers() {
    let sc = seeded("quirks/remaining");
    sc.fault(
        Match::method("GET", Kind::Manifest),
        Fault::set_headers(&[("ratelimit-remaining", "76;w=21600")]),
    );
    let out = sc.pull_to_store_ok(&sc.reference("quirks/remaining:1"), &["--debug"]);
    let err = stderr(&out);
    let line = err
        .lines()
        .find(|l| l.contains("/manifests/1 -> 200"))
        .unwrap_or_else(|| panic!("no manifest line in {err}"));
    assert!(line.ends_with("ratelimit-remaining: 76;w=21600"), "{line}");
}

/// Every message names the image in full, tag included, as `hoist pull alpine` must say
/// `docker.io/library/alpine:latest`.
#[test]
fn messages_name_the_image_in_full() {
    let sc = Scenario::open();
    let out = sc.pull_to_store(&sc.reference("quirks/absent"), &[]);
    assert_exit(&out, 1);
    let full = sc.reference("quirks/absent:latest");
    let err = stderr(&out);
    assert!(
        err.contains(&format!("fetching the manifest of {full}")),
        "{err}"
    );
}
