//! `hoist push` when the network or the registry misbehaves, in chunks, and with a layer
//! larger than the memory it may use. Every push must still end with the registry serving
//! exactly the image: skopeo's digest, and the blobs pulled back byte for byte.

use crate::push::assert_served;
use crate::support::images::{
    big_layer_layout, remote_manifest_with_skopeo, sha256_file, ImageLayout, ImageSpec,
};
use crate::support::proxy::{Fault, Kind, Match, Recorded};
use crate::support::registry::{Mode, RegistryServer};
use crate::support::scenario::{env, requests_of, Scenario, Target};
use crate::support::sha256_digest;
use crate::support::token_issuer::IssuerConfig;
use crate::support::tools::{hoist_peak_rss, hoist_push, stderr, stdout};
use std::path::Path;
use std::time::{Duration, Instant};

const CHUNK: u64 = 100_000;
/// One blob at a time (config first, then the layer), in CHUNK-byte PATCHes.
const CHUNKED: [&str; 4] = ["--chunk-size", "100000", "--jobs", "1"];
const WHOLE: [&str; 2] = ["--jobs", "1"];

/// One push through a proxy: the destination, and a config and one gzipped layer as an OCI
/// layout. Faults go into the scenario before [`Case::push`].
struct Case {
    sc: Scenario,
    reference: String,
    image: ImageLayout,
}

/// The scenario's registry, proxy and environment, as `case.proxy`, `case.env`.
impl std::ops::Deref for Case {
    type Target = Scenario;
    fn deref(&self) -> &Scenario {
        &self.sc
    }
}

impl Case {
    /// To an open registry.
    fn new(repo: &str, seed: u64, layer: usize) -> Case {
        Case::to(Target::open(), repo, seed, layer)
    }

    fn to(target: Target, repo: &str, seed: u64, layer: usize) -> Case {
        let sc = Scenario::new(target);
        Case {
            reference: sc.reference(&format!("{repo}:1")),
            image: ImageSpec::new(seed).layers(&[layer]).build("img"),
            sc,
        }
    }

    /// Pushes, which must succeed, print the digest and use up every fault injected.
    fn push(&self, args: &[&str]) {
        let from = format!("{}:img", self.image.root.display());
        let out = self
            .sc
            .push_ok(&[&[&self.reference, "--from", &from], args].concat());
        assert_eq!(stdout(&out), format!("{}\n", self.image.digest()));
        assert_eq!(self.proxy.pending_faults(), 0);
    }

    /// The registry serves the image, every blob intact.
    fn assert_served(&self) {
        let layout = assert_served(
            &self.env,
            &self.reference,
            self.image.digest(),
            self.target.creds,
        );
        let m = &self.image.manifests[0];
        for blob in std::iter::once(&m.config).chain(m.layers.iter().map(|l| &l.blob)) {
            let name = &blob.digest["sha256:".len()..];
            let pulled = std::fs::read(layout.join("blobs/sha256").join(name)).unwrap();
            let original = std::fs::read(self.image.root.join("blobs/sha256").join(name));
            assert!(pulled == original.unwrap(), "blob {} differs", blob.digest);
        }
    }

    /// Content-Range of each PATCH, in order.
    fn ranges(&self) -> Vec<String> {
        requests_of(&self.proxy, "PATCH", Kind::Upload)
            .into_iter()
            .map(|r| r.content_range.unwrap_or_default())
            .collect()
    }

    /// Content-Range of each PATCH the registry accepted (and the client heard of).
    fn accepted_ranges(&self) -> Vec<String> {
        requests_of(&self.proxy, "PATCH", Kind::Upload)
            .into_iter()
            // A delayed answer is still an accepted chunk; any other fault lost it.
            .filter(|r| {
                r.status == 202 && r.fault.as_deref().map_or(true, |f| f.starts_with("delay "))
            })
            .map(|r| r.content_range.unwrap())
            .collect()
    }

    /// The Content-Ranges of a chunked push without faults: config, then layer.
    fn chunk_ranges(&self) -> Vec<String> {
        let m = &self.image.manifests[0];
        std::iter::once(m.config.size)
            .chain(m.layers.iter().map(|l| l.blob.size))
            .flat_map(|size| {
                (0..size)
                    .step_by(CHUNK as usize)
                    .map(move |start| format!("{start}-{}", (start + CHUNK).min(size) - 1))
            })
            .collect()
    }

    /// [`Case::chunk_ranges`] with the `i`th range sent `times` more.
    fn chunk_ranges_repeating(&self, i: usize, times: usize) -> Vec<String> {
        let mut ranges = self.chunk_ranges();
        ranges.splice(i..i, vec![ranges[i].clone(); times]);
        ranges
    }
}

// ----------------------------------------------------------------- chunks

#[test]
fn chunk_size_sends_patches_with_contiguous_content_ranges() {
    let case = Case::new("app/chunked", 20, 250_000);
    case.push(&CHUNKED);
    let layer = case.image.manifests[0].layers[0].blob.size;
    assert!(layer > 2 * CHUNK, "the layer takes three chunks: {layer}");
    assert_eq!(case.ranges(), case.chunk_ranges());
    assert_eq!(case.accepted_ranges(), case.chunk_ranges());
    // Each upload is closed by an empty PUT naming the digest.
    let puts = requests_of(&case.proxy, "PUT", Kind::Upload);
    assert_eq!(puts.len(), 2, "{puts:#?}");
    assert!(
        puts.iter()
            .all(|r| r.status == 201 && r.content_range.is_none() && r.path.contains("digest=")),
        "{puts:#?}"
    );
    case.assert_served();
}

// ------------------------------------------------------------------ cuts

#[test]
fn body_too_large_for_a_proxy_goes_up_in_smaller_chunks() {
    // nginx's default client_max_body_size (1 MiB) in front of the registry.
    const LIMIT: u64 = 1 << 20;
    let case = Case::new("app/limited", 21, 3_000_000);
    case.proxy.set_body_limit(LIMIT);
    case.push(&WHOLE);
    let layer = case.image.manifests[0].layers[0].blob.size;
    assert!(
        layer > 2 * LIMIT,
        "the layer is over twice the limit: {layer}"
    );
    let refused: Vec<Recorded> = case
        .proxy
        .requests()
        .into_iter()
        .filter(|r| r.status == 413)
        .collect();
    assert_eq!(
        refused.len(),
        2,
        "the whole layer, then half of it: {refused:#?}"
    );
    assert_eq!(refused[0].method, "PUT");
    assert_eq!(refused[1].method, "PATCH");
    // What went through: contiguous chunks of a quarter of the layer, under the limit.
    let quarter = layer / 4;
    let expected: Vec<String> = (0..layer)
        .step_by(quarter as usize)
        .map(|start| format!("{start}-{}", (start + quarter).min(layer) - 1))
        .collect();
    assert_eq!(case.accepted_ranges(), expected);
    case.assert_served();
}

#[test]
fn connection_cut_mid_blob_upload_is_sent_again() {
    let case = Case::new("app/cut", 21, 300_000);
    let layer = case.image.manifests[0].layers[0].blob.digest.clone();
    // The config goes first; the layer's PUT is the second.
    case.proxy.inject(
        Match::method("PUT", Kind::Upload).skip(1),
        Fault::CutRequestAfter(100_000),
    );
    case.push(&WHOLE);
    let layer_puts: Vec<Recorded> = requests_of(&case.proxy, "PUT", Kind::Upload)
        .into_iter()
        .filter(|r| r.path.ends_with(&layer))
        .collect();
    assert_eq!(layer_puts.len(), 2, "{layer_puts:#?}");
    assert!(layer_puts[0].fault.is_some() && layer_puts[1].status == 201);
    case.assert_served();
}

#[test]
fn connection_cut_on_every_try_fails_the_push_and_says_where() {
    let case = Case::new("app/cut-always", 22, 300_000);
    let layer = case.image.manifests[0].layers[0].blob.digest.clone();
    case.proxy.inject_n(
        Match::method("PUT", Kind::Upload).skip(1),
        Fault::CutRequestAfter(100_000),
        50,
    );
    let from = format!("{}:img", case.image.root.display());
    let out = hoist_push(
        &case.env,
        &[&case.reference, "--from", &from, "--jobs", "1"],
    );
    // A broken connection is a failure, however deep in the error it sits.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "no digest for a push that did not finish");
    let err = stderr(&out);
    assert!(err.contains(&format!("uploading {layer}")), "{err}");
    assert_eq!(requests_of(&case.proxy, "PUT", Kind::Manifest).len(), 0);
}

#[test]
fn connection_cut_mid_chunk_sends_that_chunk_again() {
    let case = Case::new("app/cut-chunk", 22, 250_000);
    // The config is one PATCH; the layer's second chunk is the third.
    case.proxy.inject(
        Match::method("PATCH", Kind::Upload).skip(2),
        Fault::CutRequestAfter(50_000),
    );
    case.push(&CHUNKED);
    assert_eq!(case.ranges(), case.chunk_ranges_repeating(2, 1));
    case.assert_served();
}

#[test]
fn lost_answer_to_a_chunk_the_registry_kept_ends_in_a_correct_push() {
    // The registry stores the layer's first chunk, but its 202 never arrives. The upload URL
    // hoist holds is now stale (distribution signs the offset into it), so the layer goes
    // up again in a new session, whole.
    let case = Case::new("app/lost-answer", 23, 250_000);
    case.proxy.inject(
        Match::method("PATCH", Kind::Upload).skip(1),
        Fault::DropResponse,
    );
    case.push(&CHUNKED);
    assert_eq!(case.proxy.count("POST", Kind::Upload), 3);
    assert_eq!(case.accepted_ranges(), case.chunk_ranges());
    case.assert_served();
}

#[test]
fn lost_answer_to_a_whole_blob_put_ends_in_a_correct_push() {
    let case = Case::new("app/lost-put", 24, 200_000);
    case.proxy.inject(
        Match::method("PUT", Kind::Upload).skip(1),
        Fault::DropResponse,
    );
    case.push(&WHOLE);
    case.assert_served();
}

/// A push whose `skip`+1th PATCH fails five times in a row, more often than one request
/// is retried: hoist asks the registry what it kept.
fn chunk_failing_past_the_retries(seed: u64, skip: usize) -> Case {
    let case = Case::new("app/resume", seed, 250_000);
    case.proxy.inject_n(
        Match::method("PATCH", Kind::Upload).skip(skip),
        Fault::CutRequestAfter(10_000),
        5,
    );
    case.push(&CHUNKED);
    let asked = requests_of(&case.proxy, "GET", Kind::Upload);
    assert_eq!(asked.len(), 1, "asked what the registry kept: {asked:#?}");
    case.assert_served();
    case
}

#[test]
fn chunk_failing_past_the_retries_resumes_where_the_registry_stopped() {
    // The layer's second chunk; the registry holds its first.
    let case = chunk_failing_past_the_retries(25, 2);
    assert_eq!(case.ranges(), case.chunk_ranges_repeating(2, 5));
    assert_eq!(
        case.proxy.count("POST", Kind::Upload),
        2,
        "the upload went on"
    );
}

#[test]
fn first_chunk_failing_past_the_retries_starts_a_fresh_upload() {
    // The registry says `Range: 0-0`, which means empty or one byte: the layer's upload
    // starts again in a new session (distribution 2.8 would append a wrongly guessed
    // remainder and the digest would not match).
    let case = chunk_failing_past_the_retries(26, 1);
    assert_eq!(case.ranges(), case.chunk_ranges_repeating(1, 5));
    assert_eq!(case.proxy.count("POST", Kind::Upload), 3, "a new upload");
}

// --------------------------------------------------------------- retries

#[test]
fn busy_registry_during_uploads_is_retried() {
    let case = Case::new("app/busy", 29, 50_000);
    let proxy = &case.proxy;
    proxy.inject(Match::method("POST", Kind::Upload), Fault::status(503));
    proxy.inject(Match::method("PUT", Kind::Upload), Fault::status(503));
    proxy.inject(Match::method("PUT", Kind::Upload), Fault::too_many(1));
    let started = Instant::now();
    case.push(&[]);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After honoured: {:?}",
        started.elapsed()
    );
    let refused: Vec<u16> = proxy
        .requests()
        .iter()
        .filter(|r| r.fault.is_some())
        .map(|r| r.status)
        .collect();
    assert_eq!(refused, [503, 503, 429]);
    case.assert_served();
}

#[test]
fn too_many_requests_on_a_chunk_waits_for_retry_after() {
    let case = Case::new("app/busy-chunk", 27, 150_000);
    case.proxy.inject(
        Match::method("PATCH", Kind::Upload).skip(1),
        Fault::too_many(2),
    );
    let started = Instant::now();
    case.push(&CHUNKED);
    assert!(started.elapsed() >= Duration::from_millis(1950));
    assert_eq!(case.ranges(), case.chunk_ranges_repeating(1, 1));
    case.assert_served();
}

// ------------------------------------------------------------------ token

#[test]
fn token_expiring_during_a_large_upload_is_replaced() {
    // Tokens live 10 s, and the answer to the second chunk comes only after that: hoist
    // renews its token before the third chunk, whatever the machine's load did to the steps
    // before the upload. The renewed token is already expired, so the registry refuses that
    // chunk; hoist must get another token and carry on.
    let config = IssuerConfig::default().lifetime(10).expire_token(2);
    let case = Case::to(Target::token(config), "team/expiring", 28, 2_000_000);
    case.proxy.inject(
        Match::method("PATCH", Kind::Upload).skip(1),
        Fault::Delay(Duration::from_millis(10_500)),
    );
    case.push(&CHUNKED);
    let tokens = case.target.issuer.as_ref().unwrap().requests();
    assert!(
        tokens.len() >= 3,
        "renewed, refused, asked again: {tokens:#?}"
    );
    // Apart from the first ping, the registry refused exactly one request: an upload
    // request carrying the expired token.
    let refused: Vec<Recorded> = case.proxy.requests()[1..]
        .iter()
        .filter(|r| r.status == 401)
        .cloned()
        .collect();
    assert_eq!(refused.len(), 1, "{refused:#?}");
    assert_eq!(refused[0].kind, Kind::Upload, "{refused:#?}");
    // No chunk went up twice: the upload went on, it did not start over.
    assert_eq!(case.accepted_ranges(), case.chunk_ranges());
    case.proxy.clear();
    case.assert_served();
}

#[test]
fn token_refused_on_a_large_whole_blob_put_is_replaced() {
    // The layer's POST answers only after hoist's 10 s token has run out (long enough that
    // a loaded machine cannot reach the renewal before the POST): hoist renews it just before
    // the layer's PUT and gets an already expired one. The registry refuses that PUT with a
    // 401 before reading its body; hoist must hear the refusal, not a broken connection,
    // and send the layer again with a new token.
    let config = IssuerConfig::default().lifetime(10).expire_token(2);
    let case = Case::to(Target::token(config), "team/big-put", 30, 8_000_000);
    case.proxy.inject(
        Match::method("POST", Kind::Upload).skip(1),
        Fault::Delay(Duration::from_millis(10_500)),
    );
    case.push(&WHOLE);
    let layer = &case.image.manifests[0].layers[0].blob.digest;
    let layer_puts: Vec<u16> = requests_of(&case.proxy, "PUT", Kind::Upload)
        .iter()
        .filter(|r| r.path.ends_with(layer.as_str()))
        .map(|r| r.status)
        .collect();
    // Whether hoist hears the 401 or a connection closed mid-body depends on timing (the
    // registry answers before reading the body); either way it must re-authenticate once,
    // send only this layer again, and finish.
    let (last, refused) = layer_puts.split_last().unwrap();
    assert_eq!(*last, 201, "{layer_puts:?}");
    assert!(
        !refused.is_empty() && refused.len() <= 3 && refused.iter().all(|s| *s == 401),
        "{layer_puts:?}"
    );
    assert_eq!(case.target.issuer.as_ref().unwrap().request_count(), 3);
    case.assert_served();
}

// ----------------------------------------------------------------- memory

#[test]
fn half_gigabyte_layer_pushes_in_bounded_memory() {
    const LAYER: u64 = 512 * 1024 * 1024;
    const LIMIT_KIB: u64 = 64 * 1024;
    let reg = RegistryServer::start(Mode::Open);
    let env = env();
    let (layout, digest) = big_layer_layout(&env.scratch("src"), LAYER, "big");
    let reference = format!("{}/app/big:1", reg.host());
    let from = format!("{}:big", layout.display());
    let (out, rss) = hoist_peak_rss(&env, &["push", &reference, "--from", &from]);
    assert_eq!(stdout(&out), format!("{digest}\n"), "{}", stderr(&out));
    assert!(
        rss < LIMIT_KIB,
        "peak RSS {rss} KiB for a {} MiB layer",
        LAYER >> 20
    );
    assert_eq!(
        sha256_digest(&remote_manifest_with_skopeo(&reference, None)),
        digest
    );
    // The registry holds the layer whole: compare its stored copy rather than pulling
    // half a gigabyte back.
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(layout.join("blobs/sha256").join(&digest[7..])).unwrap(),
    )
    .unwrap();
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    let stored = reg
        .storage_root()
        .join("docker/registry/v2/blobs/sha256")
        .join(&layer[7..9])
        .join(&layer[7..])
        .join("data");
    assert_eq!(std::fs::metadata(&stored).unwrap().len(), LAYER);
    assert_eq!(sha256_file(Path::new(&stored)), layer);
}
