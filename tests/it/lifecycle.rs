//! What a killed hoist leaves behind costs the next run nothing: a lock dies with its process,
//! a partial download is adopted or removed, and files are created exclusively beside their
//! target, never through a name someone else planted.

use crate::runs::{finished, gets_of, hold_blob_after, names_in, pull_again, serial_pull};
use crate::support::images::{ImageLayout, ImageSpec};
use crate::support::registry::{Mode, RegistryServer};
use crate::support::scenario::{seed, Scenario};
use crate::support::tools::{
    hoist_pull_ok, path_str, run_ok, spawn_hoist, stderr, stdout, TestEnv,
};
use crate::support::{largest_file, wait_for_partial};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A config and two small layers.
fn two_layers(seed: u64) -> ImageSpec {
    ImageSpec::new(seed).layers(&[4096, 64 * 1024])
}

/// Runs `cmd` to completion, or kills it and fails once `limit` has passed.
fn run_within(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("still running after {limit:?}: {}", stderr(&out));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    crate::support::secrets_log::record_output(&out);
    out
}

/// A killed hoist used to leave `.hoist/meta.lock` behind, and the next run waited 30 s for
/// it to count as stale. The lock is a `flock` now: the file alone means nothing.
#[test]
fn a_lock_file_left_by_a_killed_hoist_does_not_delay_the_next_run() {
    let reg = RegistryServer::start(Mode::Open);
    let image = seed(&reg.host(), "app/stale-lock:1", two_layers(400), None);
    let env = TestEnv::new().without_credential_helpers();
    let store = env.scratch("store");
    let reference = format!("{}/app/stale-lock:1", reg.host());
    hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    // What a hoist killed while updating index.json leaves: the lock file, just written.
    std::fs::write(store.join(".hoist/meta.lock"), b"").unwrap();
    std::fs::remove_file(store.join("index.json")).unwrap();

    // The old code needed 30 s here; a generous bound still tells the two apart.
    let out = run_within(
        env.hoist()
            .args(["pull", &reference, "--store", path_str(&store)]),
        Duration::from_secs(12),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    let index = std::fs::read_to_string(store.join("index.json")).unwrap();
    assert!(index.contains("app/stale-lock:1"), "{index}");
}

/// oci-spec's types drop fields they do not know, so rewriting `index.json` used to erase
/// what other tools had put there, at the top level and inside entries.
#[test]
fn a_pull_into_a_layout_keeps_index_fields_hoist_does_not_know() {
    let reg = RegistryServer::start(Mode::Open);
    let a = seed(&reg.host(), "app/index-a:1", two_layers(401), None);
    let b = seed(&reg.host(), "app/index-b:1", two_layers(402), None);
    let env = TestEnv::new().without_credential_helpers();
    let dir = env.scratch("layout");
    let pull = |tag: &str| {
        let reference = format!("{}/app/{tag}", reg.host());
        run_ok(
            env.hoist()
                .args(["pull", &reference, "--output", path_str(&dir)]),
            None,
        )
    };
    pull("index-a:1");
    let path = dir.join("index.json");
    let mut index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    index["x-tool-state"] = serde_json::json!({"generation": 7});
    index["annotations"] = serde_json::json!({"org.example.layout": "kept"});
    let entry = &mut index["manifests"][0];
    entry["x-entry-extra"] = serde_json::json!([1, 2]);
    entry["annotations"]["org.example.note"] = serde_json::json!("kept too");
    std::fs::write(&path, serde_json::to_vec_pretty(&index).unwrap()).unwrap();

    // Another image added, then the first one pulled again over its own entry.
    pull("index-b:1");
    pull("index-a:1");
    let after: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(after["x-tool-state"]["generation"], 7, "{after:#}");
    assert_eq!(
        after["annotations"]["org.example.layout"], "kept",
        "{after:#}"
    );
    let entries = after["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{after:#}");
    let entry_a = entries
        .iter()
        .find(|e| e["digest"] == a.digest())
        .expect("image a listed");
    assert_eq!(
        entry_a["x-entry-extra"],
        serde_json::json!([1, 2]),
        "{after:#}"
    );
    assert_eq!(entry_a["annotations"]["org.example.note"], "kept too");
    assert!(entries.iter().any(|e| e["digest"] == b.digest()));
}

/// Starts `args`, waits until the proxy holds it in its last layer, then runs `args` again,
/// which must finish with the image's digest. Returns the first run, still held.
fn pull_beside_a_stalled_one(sc: &Scenario, args: &[&str], image: &ImageLayout) -> Child {
    let first = spawn_hoist(&sc.env, args);
    assert!(
        sc.proxy.wait_for_hold(),
        "the first pull never reached its stall"
    );
    let second = run_ok(sc.env.hoist().args(args), None);
    assert_eq!(stdout(&second), format!("{}\n", image.digest()));
    first
}

/// The tarball is a docker-archive of `image` by skopeo's reading.
fn assert_archive_of(env: &TestEnv, tarball: &Path, image: &ImageLayout) {
    let out = run_ok(
        env.skopeo().args([
            "inspect",
            "--raw",
            &format!("docker-archive:{}", tarball.display()),
        ]),
        None,
    );
    let manifest: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(
        layers.len(),
        image.manifests[0].layers.len(),
        "{manifest:#}"
    );
}

/// The tarball was built in `FILE.tar.partial`, opened following symlinks: a symlink planted
/// under that name had its target overwritten with the archive.
#[test]
fn a_symlink_planted_at_the_old_partial_name_is_not_followed() {
    let reg = RegistryServer::start(Mode::Open);
    let image = seed(&reg.host(), "app/planted:1", two_layers(403), None);
    let env = TestEnv::new().without_credential_helpers();
    let dest = env.scratch("dest");
    let victim = env.scratch("elsewhere").join("precious");
    std::fs::write(&victim, b"precious").unwrap();
    std::os::unix::fs::symlink(&victim, dest.join("image.tar.partial")).unwrap();
    let tarball = dest.join("image.tar");
    let reference = format!("{}/app/planted:1", reg.host());
    run_ok(
        env.hoist()
            .args(["pull", &reference, "--output", path_str(&tarball)]),
        None,
    );
    assert!(
        std::fs::read(&victim).unwrap() == b"precious",
        "the planted symlink's target was overwritten"
    );
    assert!(!tarball.is_symlink());
    assert_archive_of(&env, &tarball, &image);
    assert_eq!(names_in(&dest), ["image.tar", "image.tar.partial"]);
}

/// Two pulls to one tarball: the one that finished first used to remove the working layout
/// under the other (which then failed), and both wrote one fixed partial file.
#[test]
fn two_pulls_to_one_tarball_both_succeed() {
    let sc = Scenario::open();
    let proxy = &sc.proxy;
    let image = sc.seed("app/two-pulls:1", two_layers(404));
    let last = image.manifests[0].layers[1].blob.digest.clone();
    hold_blob_after(proxy, &last, 1024);
    let env = &sc.env;
    let dest = env.scratch("dest");
    let tarball = dest.join("image.tar");
    let reference = sc.reference("app/two-pulls:1");
    let args = ["pull", &reference, "--output", path_str(&tarball)];
    // The first stalls in the middle of its last layer; the second runs start to finish.
    let first = pull_beside_a_stalled_one(&sc, &args, &image);
    assert_archive_of(env, &tarball, &image);

    proxy.release_holds();
    let first = finished(first);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(stdout(&first), format!("{}\n", image.digest()));
    assert_archive_of(env, &tarball, &image);
    // The last one out removed the working layout.
    assert_eq!(names_in(&dest), ["image.tar"]);
}

/// The biggest file under `dir` and its length, if any.
/// A SIGKILL (or the OOM killer) gives hoist no chance to tidy up. Its partial download was
/// named after its pid, so it stayed forever and the next run downloaded the blob from zero.
/// Now the next run adopts it (it is named by digest, and the dead process's lock is gone),
/// resumes with a Range request, and nothing is left in the temp area.
#[test]
fn after_sigkill_the_next_pull_adopts_the_partial_download_and_resumes() {
    let sc = Scenario::open();
    let proxy = &sc.proxy;
    let image = sc.seed(
        "app/sigkill:1",
        ImageSpec::new(405).layers(&[4096, 3 << 20]),
    );
    let big = image.manifests[0].layers[1].blob.clone();
    assert!(
        big.size > 2 << 20,
        "the layer must outlast two write batches"
    );
    hold_blob_after(proxy, &big.digest, 2 << 20);
    let env = &sc.env;
    let store = &sc.store;
    let partial_dir = store.join(".hoist/partial");
    let reference = sc.reference("app/sigkill:1");
    let mut child = env
        .hoist()
        .args(serial_pull(&reference, store))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(proxy.wait_for_hold(), "hoist never reached the stall");
    // The bytes reach the file in batches: wait until at least one is on disk.
    wait_for_partial(&partial_dir, 1 << 20);
    child.kill().unwrap();
    child.wait().unwrap();
    let (_, kept) = largest_file(&partial_dir).unwrap();

    let gets = pull_again(&sc, &reference, &image);
    assert_eq!(gets.len(), 1, "only the unfinished layer: {gets:#?}");
    assert_eq!(gets[0].status, 206, "resumed with Range after {kept} bytes");
    assert!(
        names_in(&partial_dir).is_empty(),
        "{:?}",
        names_in(&partial_dir)
    );
    assert!(store
        .join("blobs/sha256")
        .join(big.digest.trim_start_matches("sha256:"))
        .is_file());
}

/// A partial download left by an older hoist (named `<hex>.<pid>.<n>.<nanos>.part`) is
/// adopted too, and leftovers of blobs that are stored by now are removed.
#[test]
fn leftover_partial_files_are_adopted_or_removed() {
    let sc = Scenario::open();
    let proxy = &sc.proxy;
    let image = sc.seed("app/leftovers:1", two_layers(406));
    let layer = &image.manifests[0].layers[1];
    let config = &image.manifests[0].config;
    let store = &sc.store;
    let partial_dir = store.join(".hoist/partial");
    std::fs::create_dir_all(&partial_dir).unwrap();
    std::fs::write(
        store.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    // The first half of the layer, as a killed older hoist left it.
    let layer_hex = layer.blob.digest.trim_start_matches("sha256:");
    let layer_bytes = std::fs::read(image.root.join("blobs/sha256").join(layer_hex)).unwrap();
    let half = layer_bytes.len() / 2;
    std::fs::write(
        partial_dir.join(format!("{layer_hex}.31337.0.123456.part")),
        &layer_bytes[..half],
    )
    .unwrap();
    // A leftover of a blob another pull finished meanwhile.
    let config_hex = config.digest.trim_start_matches("sha256:");
    std::fs::create_dir_all(store.join("blobs/sha256")).unwrap();
    std::fs::copy(
        image.root.join("blobs/sha256").join(config_hex),
        store.join("blobs/sha256").join(config_hex),
    )
    .unwrap();
    std::fs::write(
        partial_dir.join(format!("{config_hex}.31337.1.99.part")),
        b"{",
    )
    .unwrap();

    let reference = sc.reference("app/leftovers:1");
    let out = sc.pull_to_store_ok(&reference, &[]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    let layer_get = gets_of(proxy, &layer.blob.digest)
        .into_iter()
        .next()
        .expect("the layer was fetched");
    assert_eq!(layer_get.status, 206, "resumed after {half} bytes");
    assert!(
        names_in(&partial_dir).is_empty(),
        "{:?}",
        names_in(&partial_dir)
    );
}

/// Two pulls of one image into one store: the second never takes the partial download the
/// first is still writing (it downloads into a file of its own), and both finish.
#[test]
fn a_live_pulls_partial_download_is_never_taken() {
    let sc = Scenario::open();
    let proxy = &sc.proxy;
    let image = sc.seed("app/shared-store:1", two_layers(407));
    let last = image.manifests[0].layers[1].blob.digest.clone();
    hold_blob_after(proxy, &last, 16 * 1024);
    let store = &sc.store;
    let reference = sc.reference("app/shared-store:1");
    let first = pull_beside_a_stalled_one(&sc, &serial_pull(&reference, store), &image);
    let layer_gets = gets_of(proxy, &last);
    assert_eq!(layer_gets.len(), 2, "{layer_gets:#?}");
    assert_eq!(layer_gets[1].status, 200, "from zero, in a file of its own");

    proxy.release_holds();
    let first = finished(first);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(stdout(&first), format!("{}\n", image.digest()));
    let partial_dir = store.join(".hoist/partial");
    assert!(
        names_in(&partial_dir).is_empty(),
        "{:?}",
        names_in(&partial_dir)
    );
}
