//! `copy --referrers`: signatures, SBOMs and attestations copied in each of their three
//! forms — the OCI 1.1 referrers API, the referrers tag schema (`sha256-<hex>` holding an
//! index) and cosign's `sha256-<hex>.sig` tags. distribution 2.8 has no referrers API, so the
//! fault proxy answers that one endpoint with the index a registry that has it would serve;
//! the artifacts themselves live in the real registry.

use super::{json_of, Pair};
use crate::support::images::{remote_manifest_with_skopeo, ImageSpec};
use crate::support::issuer_config::IssuerConfig;
use crate::support::proxy::{Fault, Kind, Match};
use crate::support::scenario::Scenario;
use crate::support::tools::assert_exit;
use crate::support::{basic, block_on, sha256_digest};
use serde_json::{json, Value};

const EMPTY: &str = "application/vnd.oci.empty.v1+json";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// An artifact pushed straight to the scenario's registry (no proxy, no fault): an empty
/// config, one layer of `content`, `artifactType`, and a `subject` when given. Stored under
/// `tag`, or by digest. Returns its descriptor as an index lists it.
fn put_artifact(
    sc: &Scenario,
    repo: &str,
    kind: &str,
    content: &str,
    subject: Option<&Value>,
    tag: Option<&str>,
) -> Value {
    let registry = sc.reg().url();
    let auth = sc.target.creds.map(|(u, p)| basic(u, p));
    let client = reqwest::Client::new();
    let request = |r: reqwest::RequestBuilder| match &auth {
        Some(a) => r.header("Authorization", a),
        None => r,
    };
    let upload = |bytes: Vec<u8>| {
        let digest = sha256_digest(&bytes);
        let url = format!("{registry}/v2/{repo}/blobs/uploads/");
        let started = block_on(request(client.post(url)).send()).unwrap();
        assert_eq!(started.status(), 202, "upload started");
        let location = started.headers()["location"].to_str().unwrap().to_string();
        let location = match location.starts_with('/') {
            true => format!("{registry}{location}"),
            false => location,
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let put = request(client.put(format!("{location}{sep}digest={digest}"))).body(bytes);
        assert_eq!(
            block_on(put.send()).unwrap().status(),
            201,
            "upload finished"
        );
        digest
    };
    let config = b"{}".to_vec();
    let config_digest = upload(config);
    let layer = content.as_bytes().to_vec();
    let layer_size = layer.len();
    let layer_digest = upload(layer);
    let mut manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "artifactType": kind,
        "config": {"mediaType": EMPTY, "digest": config_digest, "size": 2},
        "layers": [{"mediaType": "text/plain", "digest": layer_digest, "size": layer_size}],
    });
    if let Some(subject) = subject {
        manifest["subject"] = subject.clone();
    }
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let digest = sha256_digest(&bytes);
    let reference = tag.map(String::from).unwrap_or_else(|| digest.clone());
    let url = format!("{registry}/v2/{repo}/manifests/{reference}");
    let put = request(client.put(url))
        .header("Content-Type", MANIFEST)
        .body(bytes.clone());
    let response = block_on(put.send()).unwrap();
    assert_eq!(response.status(), 201, "{:?}", block_on(response.text()));
    json!({"mediaType": MANIFEST, "digest": digest, "size": bytes.len(), "artifactType": kind})
}

/// An image at `team/app:1` on the source and its descriptor as a `subject`.
fn subject(pair: &Pair, seed: u64) -> (String, Value) {
    let image = pair.src.seed("team/app:1", ImageSpec::new(seed));
    let digest = image.digest().to_string();
    let size = image.manifests[0].bytes.len();
    (
        digest.clone(),
        json!({"mediaType": MANIFEST, "digest": digest, "size": size}),
    )
}

fn copy_with_referrers(pair: &Pair) -> Value {
    let out = pair.hoist(&[
        "copy",
        &pair.src.reference("team/app:1"),
        &pair.dst.reference("team/app:1"),
        "--referrers",
        "--json",
    ]);
    assert_exit(&out, 0);
    json_of(&out)
}

/// The destination serves `reference` as exactly `digest`.
fn served(pair: &Pair, reference: &str, digest: &str) {
    let raw = remote_manifest_with_skopeo(&pair.dst.reference(reference), pair.dst.target.creds);
    assert_eq!(sha256_digest(&raw), digest, "{reference}");
}

/// The digests the destination's `sha256-<hex>` index lists.
fn schema_index(pair: &Pair, subject: &str) -> Vec<String> {
    let tag = subject.replace(':', "-");
    let raw = remote_manifest_with_skopeo(
        &pair.dst.reference(&format!("team/app:{tag}")),
        pair.dst.target.creds,
    );
    let index: Value = serde_json::from_slice(&raw).unwrap();
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["digest"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn referrers_in_the_tag_schema_and_cosign_tags_are_copied() {
    let pair = Pair::new(IssuerConfig::default());
    let (subject_digest, subject) = subject(&pair, 90);
    let sbom = put_artifact(
        &pair.src,
        "team/app",
        "application/spdx+json",
        "sbom",
        Some(&subject),
        None,
    );
    let tag = subject_digest.replace(':', "-");
    // The source's referrers tag: an index of what refers to the image.
    let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [sbom]});
    let registry = pair.src.reg().url();
    let (user, pass) = pair.src.target.creds.unwrap();
    let put = reqwest::Client::new()
        .put(format!("{registry}/v2/team/app/manifests/{tag}"))
        .header("Authorization", basic(user, pass))
        .header("Content-Type", "application/vnd.oci.image.index.v1+json")
        .body(serde_json::to_vec(&index).unwrap());
    assert_eq!(block_on(put.send()).unwrap().status(), 201);
    // cosign's signature, under the tag beside the digest.
    let sig_tag = format!("{tag}.sig");
    let sig = put_artifact(
        &pair.src,
        "team/app",
        "application/vnd.dev.cosign.simplesigning.v1+json",
        "signature",
        None,
        Some(&sig_tag),
    );

    let json = copy_with_referrers(&pair);
    assert_eq!(json["digest"], subject_digest);
    assert_eq!(
        json["referrers"],
        json!([
            {"digest": sbom["digest"], "form": "referrers-tag"},
            {"digest": sig["digest"], "form": "cosign-signature"},
        ])
    );
    served(
        &pair,
        &format!("team/app@{}", sbom["digest"].as_str().unwrap()),
        sbom["digest"].as_str().unwrap(),
    );
    served(
        &pair,
        &format!("team/app:{sig_tag}"),
        sig["digest"].as_str().unwrap(),
    );
    assert_eq!(
        schema_index(&pair, &subject_digest),
        [sbom["digest"].as_str().unwrap()]
    );
}

#[test]
fn referrers_from_the_api_are_copied_and_indexed_where_the_destination_lacks_it() {
    let pair = Pair::new(IssuerConfig::default());
    let (subject_digest, subject) = subject(&pair, 91);
    let attestation = put_artifact(
        &pair.src,
        "team/app",
        "application/vnd.in-toto+json",
        "provenance",
        Some(&subject),
        None,
    );
    let answer = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [attestation]});
    pair.src.proxy.inject(
        Match::method("GET", Kind::Other).path_ends_with(&format!("/referrers/{subject_digest}")),
        Fault::Status {
            status: 200,
            headers: vec![(
                "Content-Type".into(),
                "application/vnd.oci.image.index.v1+json".into(),
            )],
            body: answer.to_string(),
        },
    );
    let json = copy_with_referrers(&pair);
    assert_eq!(
        json["referrers"],
        json!([{"digest": attestation["digest"], "form": "referrers-api"}])
    );
    assert_eq!(pair.src.proxy.pending_faults(), 0, "the API was asked");
    let digest = attestation["digest"].as_str().unwrap();
    served(&pair, &format!("team/app@{digest}"), digest);
    // distribution 2.8 has no referrers API: readers find it through the referrers tag.
    assert_eq!(schema_index(&pair, &subject_digest), [digest]);
}

#[test]
fn an_image_without_referrers_copies_alone() {
    let pair = Pair::new(IssuerConfig::default());
    let (subject_digest, _) = subject(&pair, 92);
    let json = copy_with_referrers(&pair);
    assert_eq!(json["digest"], subject_digest);
    assert!(json.get("referrers").is_none(), "{json}");
    assert_eq!(pair.dst.proxy.count("PUT", Kind::Manifest), 1);
}
