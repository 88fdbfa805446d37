//! `--json` on pull and push: one JSON object on stdout that says which blobs moved and how,
//! checked against what really happened on a real registry.

use crate::support::images::ImageSpec;
use crate::support::registry::{Mode, RegistryServer};
use crate::support::scenario::{env, seed};
use crate::support::tools::{path_str, run_ok, TestEnv};
use serde_json::Value;

fn hoist_json(env: &TestEnv, args: &[&str]) -> Value {
    let mut c = env.hoist();
    c.args(args).args(["--json", "--quiet"]);
    let out = run_ok(&mut c, None);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// The outcome of every blob, in the summary's order.
fn outcomes(summary: &Value) -> Vec<String> {
    summary["blobs"]
        .as_array()
        .expect("blobs is an array")
        .iter()
        .map(|b| b["outcome"].as_str().unwrap().to_string())
        .collect()
}

fn all(word: &str, n: usize) -> Vec<String> {
    vec![word.to_string(); n]
}

#[test]
fn pull_and_push_summaries_say_how_every_blob_moved() {
    let reg = RegistryServer::start(Mode::Open);
    let image = seed(&reg.host(), "team/src:1", ImageSpec::new(31), None);
    let blobs = 1 + image.manifests[0].layers.len();
    let env = env();
    let store = env.scratch("store");
    let source = format!("{}/team/src:1", reg.host());

    let pulled = hoist_json(&env, &["pull", &source, "--store", path_str(&store)]);
    assert_eq!(pulled["reference"], source);
    assert_eq!(pulled["digest"], image.digest());
    assert_eq!(pulled["mediaType"], image.top.media_type);
    assert_eq!(pulled["format"], "oci");
    assert_eq!(pulled["destination"], path_str(&store));
    assert_eq!(outcomes(&pulled), all("pulled", blobs));
    let layer = &image.manifests[0].layers[0].blob;
    let listed = pulled["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["digest"] == layer.digest)
        .expect("every layer is listed");
    assert_eq!(listed["size"], layer.size);

    let again = hoist_json(&env, &["pull", &source, "--store", path_str(&store)]);
    assert_eq!(outcomes(&again), all("already-present", blobs));

    // From the store to a sibling repository: every blob is mounted from where it came from.
    let destination = format!("{}/team/dst:1", reg.host());
    let push_from_store = || {
        hoist_json(
            &env,
            &[
                "push",
                &destination,
                "--from",
                &source,
                "--store",
                path_str(&store),
            ],
        )
    };
    let pushed = push_from_store();
    assert_eq!(pushed["digest"], image.digest());
    assert_eq!(pushed["unchanged"], false);
    assert_eq!(outcomes(&pushed), all("mounted", blobs));
    assert!(
        pushed["blobs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["mountedFrom"] == "team/src"),
        "{pushed:#}"
    );

    let repeated = push_from_store();
    assert_eq!(repeated["unchanged"], true);
    assert_eq!(outcomes(&repeated), all("already-exists", blobs));

    // From a layout to a registry that has none of it: every blob goes up.
    let other = RegistryServer::start(Mode::Open);
    let fresh = format!("{}/team/new:1", other.host());
    let from = format!("{}:seed", image.root.display());
    let uploaded = hoist_json(&env, &["push", &fresh, "--from", &from]);
    assert_eq!(uploaded["reference"], fresh);
    assert_eq!(uploaded["digest"], image.digest());
    assert_eq!(outcomes(&uploaded), all("pushed", blobs));
}
