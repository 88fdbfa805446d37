//! Nothing a server sends can crash, hang or exhaust hoist: huge token lifetimes, answers
//! trickled a byte at a time, servers that accept and never answer, stalled blob bodies, a
//! 206 that starts elsewhere than asked, and indexes too repetitive, long or large. Waits are shrunk with `HOIST_TEST_TIMEOUT_SCALE`
//! (0.1: connect 1 s, one attempt 3 s, a request with retries 12 s, idle 6 s, notices every
//! 0.5 s), so each test takes seconds where today's hoist takes minutes.

use crate::support::images::{Format, ImageSpec};
use crate::support::proxy::{Fault, Kind, Match, Proxy, Recorded};
use crate::support::registry::{Mode, RegistryServer};
use crate::support::scenario::{env, seed, Scenario, Target, USER};
use crate::support::token_issuer::IssuerConfig;
use crate::support::tools::{
    assert_exit, assert_stderr_has, hoist_peak_rss, hoist_pull, hoist_push, path_str, stderr,
    stdout, TestEnv,
};
use std::process::Output;
use std::time::{Duration, Instant};

const SCALE: &str = "0.1";

fn fast_env() -> TestEnv {
    env().env("HOIST_TEST_TIMEOUT_SCALE", SCALE)
}

/// An open registry behind the fault proxy, with hoist's waits shrunk.
fn fast() -> Scenario {
    Scenario::open().env_var("HOIST_TEST_TIMEOUT_SCALE", SCALE)
}

fn gets_of(proxy: &Proxy, suffix: &str) -> Vec<Recorded> {
    proxy
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.split('?').next().unwrap().ends_with(suffix))
        .collect()
}

// ------------------------------------------------------------ no panic

/// Go's MaxInt64 ("never expires") and a float beyond u64 used to overflow the clock when
/// added to it: exit 101 on pull and on push.
#[test]
fn a_token_that_claims_to_never_expire_neither_crashes_pull_nor_push() {
    for claimed in ["9223372036854775807", "1e19"] {
        let target = Target::token(IssuerConfig::default());
        let image = seed(
            &target.reg.host(),
            "team/forever:1",
            ImageSpec::new(80).layers(&[2000]),
            Some(USER),
        );
        target.issuer.as_ref().unwrap().claim_expires_in(claimed);
        let env = target.env_for(&target.reg.host());
        let reference = format!("{}/team/forever:1", target.reg.host());
        let store = env.scratch("store");
        let out = hoist_pull(&env, &[&reference, "--store", path_str(&store)]);
        assert_exit(&out, 0);
        assert_eq!(stdout(&out), format!("{}\n", image.digest()));

        let copy = format!("{}/team/forever-copy:1", target.reg.host());
        let out = hoist_push(
            &env,
            &[&copy, "--from", &reference, "--store", path_str(&store)],
        );
        assert_exit(&out, 0);
        assert_eq!(stdout(&out), format!("{}\n", image.digest()), "{claimed}");
    }
}

// ------------------------------------------------------------ time bounds

/// `hoist pull NAME --store …` with `extra` arguments, and how long it took.
fn timed_pull(sc: &Scenario, name: &str, extra: &[&str]) -> (Output, Duration) {
    let reference = sc.reference(name);
    let mut args = vec![reference.as_str()];
    args.extend_from_slice(extra);
    args.extend(["--store", path_str(&sc.store)]);
    let started = Instant::now();
    let out = sc.pull(&args);
    (out, started.elapsed())
}

/// stderr told the user which request hoist was waiting on, and from whom.
fn assert_waited_for(out: &Output, proxy: &Proxy, request: &str) {
    let waiting = format!("waiting for {} to answer {request} (", proxy.host());
    assert!(stderr(out).contains(&waiting), "{}", stderr(out));
}

/// A manifest sent one byte every 200 ms never trips an idle timeout; the attempt's overall
/// deadline ends it, the retry gets the manifest, and stderr said what hoist waited for.
#[test]
fn a_trickled_manifest_is_cut_at_the_deadline_and_retried() {
    let sc = fast();
    let proxy = &sc.proxy;
    let image = sc.seed("app/slow:1", ImageSpec::new(81));
    proxy.inject(
        Match::method("GET", Kind::Manifest),
        Fault::Trickle(Duration::from_millis(200)),
    );
    let (out, took) = timed_pull(&sc, "app/slow:1", &[]);
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert!(took < Duration::from_secs(20), "took {took:?}");
    let gets = gets_of(proxy, "/manifests/1");
    assert_eq!(gets.len(), 2, "{gets:#?}");
    assert!(gets[0].fault.as_deref().unwrap().starts_with("trickle"));
    assert_waited_for(&out, proxy, "GET /v2/app/slow/manifests/1");
}

/// A manifest GET never answered is retried only while a whole attempt still fits in the
/// request's budget (2 minutes; 12 s here): three attempts of 3 s, not five of two minutes.
#[test]
fn retries_of_a_request_never_answered_stop_within_its_budget() {
    let sc = fast();
    let proxy = &sc.proxy;
    sc.seed("app/gone:1", ImageSpec::new(88));
    proxy.inject_n(Match::method("GET", Kind::Manifest), Fault::HoldRequest, 5);
    let (out, took) = timed_pull(&sc, "app/gone:1", &[]);
    assert_exit(&out, 1);
    assert!(took < Duration::from_secs(14), "took {took:?}");
    assert_eq!(proxy.count("GET", Kind::Manifest), 3);
    assert_stderr_has(&out, "timed out");
}

/// The config read to check `--platform` is small too: trickled, it ends at the deadline.
#[test]
fn a_trickled_config_is_cut_at_the_deadline() {
    let sc = fast();
    let proxy = &sc.proxy;
    let image = sc.seed("app/cfg:1", ImageSpec::new(90));
    let config = image.manifests[0].config.digest.clone();
    proxy.inject(
        Match::method("GET", Kind::Blob).path_ends_with(&config),
        Fault::Trickle(Duration::from_millis(200)),
    );
    let (out, took) = timed_pull(&sc, "app/cfg:1", &["--platform", "linux/amd64"]);
    assert_exit(&out, 1);
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_stderr_has(&out, "the image config did not arrive within 3 s");
}

/// Accepts connections and never says a word (nor closes them).
fn silent_server() -> (String, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let thread = std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    (host, thread)
}

/// A loopback registry that accepts and never answers used to cost 30 s of HTTPS and then
/// 120 s of plain HTTP, in silence. Now: one attempt's deadline, no plain-HTTP fallback
/// after a timeout, and a notice while waiting.
#[test]
fn a_registry_that_never_answers_fails_after_one_deadline_and_says_so() {
    let (host, _thread) = silent_server();
    let env = fast_env();
    let store = env.scratch("store");
    let started = Instant::now();
    let out = hoist_pull(
        &env,
        &[&format!("{host}/app/x:1"), "--store", path_str(&store)],
    );
    let took = started.elapsed();
    assert_exit(&out, 1);
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let err = stderr(&out);
    // The manifest GET is the first contact; there is no ping before it.
    let manifest = "/v2/app/x/manifests/1";
    assert!(
        err.contains(&format!("waiting for {host} to answer GET {manifest} (")),
        "{err}"
    );
    assert!(err.contains(&format!("https://{host}{manifest}")), "{err}");
    assert!(!err.contains(&format!("http://{host}{manifest}")), "{err}");
    assert!(err.contains("timed out"), "{err}");
}

/// A blob body that stops mid-way (no byte for the idle timeout) ends that attempt, and the
/// blob resumes where it stopped.
#[test]
fn a_stalled_blob_resumes_after_the_idle_timeout() {
    let sc = fast();
    let proxy = &sc.proxy;
    let image = sc.seed("app/stall:1", ImageSpec::new(82).layers(&[256 * 1024]));
    let layer = image.manifests[0].layers[0].blob.digest.clone();
    proxy.inject(
        Match::method("GET", Kind::Blob).path_ends_with(&layer),
        Fault::HoldResponseAfter(100_000),
    );
    let (out, took) = timed_pull(&sc, "app/stall:1", &[]);
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert!(took < Duration::from_secs(30), "took {took:?}");
    let gets = gets_of(proxy, &layer);
    assert_eq!(gets.len(), 2, "{gets:#?}");
    assert_eq!(
        gets[1].status, 206,
        "resumed with a Range request: {gets:#?}"
    );
}

/// A blob GET the server accepts and never answers gets one attempt's deadline for its
/// headers (a streamed body has no overall deadline, its headers do), then a retry.
#[test]
fn a_blob_request_never_answered_is_retried_after_the_deadline() {
    let sc = fast();
    let proxy = &sc.proxy;
    let image = sc.seed("app/mute:1", ImageSpec::new(87));
    let layer = image.manifests[0].layers[0].blob.digest.clone();
    proxy.inject(
        Match::method("GET", Kind::Blob).path_ends_with(&layer),
        Fault::HoldRequest,
    );
    let (out, took) = timed_pull(&sc, "app/mute:1", &[]);
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_eq!(gets_of(proxy, &layer).len(), 2);
    assert_waited_for(&out, proxy, &format!("GET /v2/app/mute/blobs/{layer}"));
}

// ------------------------------------------------------------ ranges

/// A resumed download whose 206 starts before the offset hoist asked for would put bytes in
/// the wrong place: the blob starts over from zero instead, and the pull succeeds.
#[test]
fn a_206_starting_elsewhere_than_asked_restarts_the_blob() {
    let sc = Scenario::open();
    let proxy = &sc.proxy;
    let image = sc.seed("app/range:1", ImageSpec::new(83).layers(&[256 * 1024]));
    let layer = image.manifests[0].layers[0].blob.digest.clone();
    let layer_get = || Match::method("GET", Kind::Blob).path_ends_with(&layer);
    proxy.inject(layer_get(), Fault::CutResponseAfter(100_000));
    proxy.inject(layer_get(), Fault::WrongRangeStart);
    let store = &sc.store;
    let reference = sc.reference("app/range:1");
    let out = sc.pull(&[&reference, "--store", path_str(store)]);
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    let gets = gets_of(proxy, &layer);
    let statuses: Vec<u16> = gets.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 206, 200], "{gets:#?}");
    assert_eq!(gets[1].fault.as_deref(), Some("wrong-range-start"));
    assert_eq!(proxy.pending_faults(), 0);
}

// ------------------------------------------------------------ --platform all

/// PUTs a manifest to an open registry as `repo:reference`; returns its digest.
fn put_manifest(host: &str, repo: &str, reference: &str, media_type: &str, bytes: &[u8]) -> String {
    let url = format!("http://{host}/v2/{repo}/manifests/{reference}");
    let status = crate::support::block_on(async {
        reqwest::Client::new()
            .put(url)
            .header("content-type", media_type)
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status.as_u16(), 201, "PUT {repo}:{reference}");
    crate::support::sha256_digest(bytes)
}

/// An index listing `entries` (digest, size) for linux/amd64, pushed as `repo:1`.
fn put_index(host: &str, repo: &str, entries: &[(String, usize)]) -> String {
    let manifests: Vec<serde_json::Value> = entries
        .iter()
        .map(|(digest, size)| {
            serde_json::json!({
                "mediaType": Format::Oci.manifest_type(),
                "digest": digest,
                "size": size,
                "platform": {"os": "linux", "architecture": "amd64"},
            })
        })
        .collect();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": Format::Oci.index_type(),
        "manifests": manifests,
    });
    let bytes = serde_json::to_vec(&index).unwrap();
    put_manifest(host, repo, "1", Format::Oci.index_type(), &bytes)
}

/// `hoist pull NAME --platform all` into a fresh layout, with `extra` arguments.
fn pull_every_platform(sc: &Scenario, name: &str, extra: &[&str]) -> Output {
    let layout = sc.env.scratch("out");
    let reference = sc.reference(name);
    let mut args = vec![reference.as_str(), "--platform", "all"];
    args.extend_from_slice(extra);
    args.extend(["--output", path_str(&layout)]);
    sc.pull(&args)
}

/// An index naming one image 5,000 times used to cost one GET per entry (7,009 GETs and
/// counting for 15,000); each digest is fetched once.
#[test]
fn an_index_naming_one_image_many_times_fetches_it_once() {
    let sc = Scenario::open();
    let proxy = &sc.proxy;
    let reg = sc.reg();
    let image = sc.seed("app/dup:child", ImageSpec::new(84));
    let child = &image.manifests[0].blob;
    let entries = vec![(child.digest.clone(), child.size as usize); 5_000];
    let index = put_index(&reg.host(), "app/dup", &entries);
    let out = pull_every_platform(&sc, "app/dup:1", &[]);
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), format!("{index}\n"));
    let gets: Vec<String> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.kind == Kind::Manifest)
        .map(|r| r.path)
        .collect();
    assert_eq!(
        gets,
        [
            "/v2/app/dup/manifests/1".to_string(),
            format!("/v2/app/dup/manifests/{}", child.digest)
        ]
    );
}

/// The images of an index are fetched several at a time, within `--jobs`.
#[test]
fn all_platforms_fetches_the_images_concurrently_within_jobs() {
    let sc = Scenario::open();
    let proxy = &sc.proxy;
    let reg = sc.reg();
    let image = sc.seed("app/many:base", ImageSpec::new(89));
    let entries = store_variants(
        &reg.host(),
        "app/many",
        &image.manifests[0].bytes,
        8,
        |i| serde_json::json!({ "n": i.to_string() }),
    );
    let index = put_index(&reg.host(), "app/many", &entries);
    proxy.set_latency(Duration::from_millis(200));
    let out = pull_every_platform(&sc, "app/many:1", &["--jobs", "3"]);
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), format!("{index}\n"));
    assert_eq!(proxy.count("GET", Kind::Manifest), 9);
    assert_eq!(proxy.max_in_flight(Kind::Manifest), 3);
}

/// More entries than any image has is refused, naming the cap, before fetching any of them.
#[test]
fn an_index_with_too_many_entries_is_refused_naming_the_cap() {
    let sc = Scenario::open();
    let proxy = &sc.proxy;
    let reg = sc.reg();
    let image = sc.seed("app/huge:child", ImageSpec::new(85));
    let child = &image.manifests[0].blob;
    let entries = vec![(child.digest.clone(), child.size as usize); 10_001];
    put_index(&reg.host(), "app/huge", &entries);
    let out = pull_every_platform(&sc, "app/huge:1", &[]);
    assert_exit(&out, 1);
    assert_stderr_has(
        &out,
        "lists 10001 manifests, more than hoist accepts (10000)",
    );
    assert_eq!(proxy.count("GET", Kind::Manifest), 1);
}

/// A manifest over 4 MiB is not a manifest (distribution refuses to store one; the proxy
/// serves it): refused without reading more of it.
#[test]
fn a_manifest_over_4_mib_is_refused() {
    let sc = Scenario::open();
    let proxy = &sc.proxy;
    proxy.inject(
        Match::method("GET", Kind::Manifest),
        Fault::Status {
            status: 200,
            headers: vec![("Content-Type".into(), Format::Oci.manifest_type().into())],
            body: format!(r#"{{"schemaVersion":2,"x":"{}"}}"#, "x".repeat(5 << 20)),
        },
    );
    let store = &sc.store;
    let reference = sc.reference("app/fat:1");
    let out = sc.pull(&[&reference, "--store", path_str(store)]);
    assert_exit(&out, 1);
    assert_stderr_has(&out, "manifest app/fat:1 is larger than 4 MiB");
}

/// 40 images with 4 MB manifests each (160 MB of manifests) used to be held in memory
/// together, twice; each is now written as it arrives, a few at a time.
#[test]
fn all_platforms_of_a_large_index_pull_in_bounded_memory() {
    const CHILDREN: usize = 40;
    const LIMIT_KIB: u64 = 96 * 1024;
    let reg = RegistryServer::start(Mode::Open);
    let image = seed(&reg.host(), "app/wide:base", ImageSpec::new(86), None);
    let padding = "x".repeat(4_000_000);
    let entries = store_variants(
        &reg.host(),
        "app/wide",
        &image.manifests[0].bytes,
        CHILDREN,
        |i| serde_json::json!({ "padding": format!("{i}{padding}") }),
    );
    let index = put_index(&reg.host(), "app/wide", &entries);
    let env = env();
    let layout = env.scratch("out");
    let reference = format!("{}/app/wide:1", reg.host());
    let (out, rss) = hoist_peak_rss(
        &env,
        &[
            "pull",
            "--quiet",
            "--platform",
            "all",
            &reference,
            "--output",
            path_str(&layout),
        ],
    );
    assert_eq!(stdout(&out), format!("{index}\n"));
    eprintln!("peak RSS {rss} KiB");
    assert!(rss < LIMIT_KIB, "peak RSS {rss} KiB");
    for (digest, _) in &entries {
        assert!(layout.join("blobs/sha256").join(&digest[7..]).exists());
    }
}

/// Stores `count` copies of the image manifest `base` in `repo`, each made distinct by its
/// annotations, and returns their digests and sizes for an index.
fn store_variants(
    host: &str,
    repo: &str,
    base: &[u8],
    count: usize,
    annotations: impl Fn(usize) -> serde_json::Value,
) -> Vec<(String, usize)> {
    let base: serde_json::Value = serde_json::from_slice(base).unwrap();
    (0..count)
        .map(|i| {
            let mut child = base.clone();
            child["annotations"] = annotations(i);
            let bytes = serde_json::to_vec(&child).unwrap();
            let digest = crate::support::sha256_digest(&bytes);
            put_manifest(host, repo, &digest, Format::Oci.manifest_type(), &bytes);
            (digest, bytes.len())
        })
        .collect()
}
