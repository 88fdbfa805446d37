//! Ctrl-C in the middle of a pull or push: exit code 130, a summary of what finished, nothing
//! half-written where the user looks, and the next run finishes the job. SIGTERM (a cancelled
//! CI job) and SIGHUP do the same, with exit codes 143 and 129.
//!
//! A hold fault in the proxy stalls one transfer for good, so the interrupt lands at a known
//! point (the test waits for the stall itself, not for time to pass).

use crate::runs::{finished, hold_blob_after, names_in, pull_again, serial_pull};
use crate::support::images::ImageSpec;
use crate::support::proxy::{Fault, Kind, Match, Proxy};
use crate::support::scenario::Scenario;
use crate::support::tools::{path_str, run_ok, spawn_hoist, stderr, stdout};
use crate::support::{files_under, wait_for_partial};
use std::process::{Child, Output};

/// Sends the signal `name` (as `kill -NAME` spells it) once the proxy has stalled a transfer.
fn signal_at_hold(proxy: &Proxy, child: Child, name: &str) -> Output {
    signal_when(proxy, child, name, || {})
}

/// Like [`signal_at_hold`], once `ready` returns as well: the proxy holding a response says
/// nothing of whether hoist has read the bytes sent before the hold.
fn signal_when(proxy: &Proxy, mut child: Child, name: &str, ready: impl FnOnce()) -> Output {
    if !proxy.wait_for_hold() {
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        panic!("hoist never reached the stalled request: {}", stderr(&out));
    }
    ready();
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    finished(child)
}

#[test]
fn interrupted_pull_says_what_finished_and_the_next_run_resumes() {
    pull_stopped_by("INT", 130, "app/ctrl-c:1", 300);
}

/// SIGTERM is how CI runners, Kubernetes and `timeout` cancel a job: the same clean stop as
/// Ctrl-C (it used to kill hoist with no summary and its partial download under a pid name).
#[test]
fn sigterm_mid_pull_exits_143_and_the_next_run_resumes() {
    pull_stopped_by("TERM", 143, "app/sigterm:1", 303);
}

#[test]
fn sighup_mid_pull_exits_129_and_the_next_run_resumes() {
    pull_stopped_by("HUP", 129, "app/sighup:1", 304);
}

fn pull_stopped_by(signal: &str, code: i32, repo_tag: &str, seed_n: u64) {
    let sc = Scenario::open();
    let proxy = &sc.proxy;
    // The stalled layer outlasts one write batch, so its bytes on disk prove hoist read them.
    let image = sc.seed(repo_tag, ImageSpec::new(seed_n).layers(&[4096, 3 << 20]));
    let last = image.manifests[0].layers[1].blob.digest.clone();
    hold_blob_after(proxy, &last, 2 << 20);
    let env = &sc.env;
    let store = &sc.store;
    let reference = sc.reference(repo_tag);
    let child = spawn_hoist(env, &serial_pull(&reference, store));
    let out = signal_when(proxy, child, signal, || {
        wait_for_partial(&store.join(".hoist/partial"), 1)
    });

    assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "no digest for an unfinished pull");
    let err = stderr(&out);
    assert!(
        err.contains("interrupted: 2 blobs finished (2 pulled)"),
        "{err}"
    );
    assert!(err.contains("1 blob stopped part-way"), "{err}");
    assert!(
        err.contains(&format!(
            "kept in {}",
            store.join(".hoist/partial").display()
        )),
        "{err}"
    );
    // Nothing half-written where the image lives: the two finished blobs, no entry in
    // index.json, and the stalled layer only as a partial download.
    let blobs = files_under(&store.join("blobs"));
    assert_eq!(blobs.len(), 2, "{blobs:?}");
    assert!(!blobs
        .iter()
        .any(|b| b.ends_with(last.trim_start_matches("sha256:"))));
    let index = std::fs::read_to_string(store.join("index.json")).unwrap();
    assert!(
        !index.contains(repo_tag.split(':').next().unwrap()),
        "{index}"
    );
    assert_eq!(files_under(&store.join(".hoist/partial")).len(), 1);

    // The next run fetches only the rest of the stalled layer.
    let gets = pull_again(&sc, &reference, &image);
    assert_eq!(gets.len(), 1, "{gets:#?}");
    assert_eq!(gets[0].status, 206, "resumed with Range");
    assert!(files_under(&store.join(".hoist/partial")).is_empty());
}

#[test]
fn interrupted_pull_to_a_tarball_leaves_no_tarball() {
    tarball_pull_stopped_by("INT", 130, "app/ctrl-c-tar:1", 301);
}

#[test]
fn sigterm_mid_pull_to_a_tarball_leaves_no_tarball() {
    tarball_pull_stopped_by("TERM", 143, "app/sigterm-tar:1", 306);
}

fn tarball_pull_stopped_by(signal: &str, code: i32, repo_tag: &str, seed_n: u64) {
    let sc = Scenario::open();
    let proxy = &sc.proxy;
    // A config and two layers; with `--jobs 1` they download in that order.
    let image = sc.seed(repo_tag, ImageSpec::new(seed_n).layers(&[4096, 256 * 1024]));
    let last = image.manifests[0].layers[1].blob.digest.clone();
    hold_blob_after(proxy, &last, 1024);
    let env = &sc.env;
    let dest = env.scratch("dest");
    let tarball = dest.join("image.tar");
    let reference = sc.reference(repo_tag);
    let child = spawn_hoist(
        env,
        &[
            "pull",
            &reference,
            "--output",
            path_str(&tarball),
            "--jobs",
            "1",
        ],
    );
    let out = signal_at_hold(proxy, child, signal);

    assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
    assert!(!tarball.exists());
    // Only the working layout the summary names, for the next run to resume from.
    assert_eq!(names_in(&dest), ["image.tar.hoist-partial"]);
    assert!(
        stderr(&out).contains(&dest.join("image.tar.hoist-partial").display().to_string()),
        "{}",
        stderr(&out)
    );

    run_ok(
        env.hoist()
            .args(["pull", &reference, "--output", path_str(&tarball)]),
        None,
    );
    assert_eq!(names_in(&dest), ["image.tar"]);
}

#[test]
fn interrupted_push_says_the_blobs_went_up_and_the_manifest_did_not() {
    push_stopped_by("INT", 130, "app/ctrl-c-push:1", 302);
}

#[test]
fn sigterm_mid_push_exits_143_and_the_next_run_finishes() {
    push_stopped_by("TERM", 143, "app/sigterm-push:1", 305);
}

fn push_stopped_by(signal: &str, code: i32, repo_tag: &str, seed_n: u64) {
    let sc = Scenario::open();
    let proxy = &sc.proxy;
    let image = ImageSpec::new(seed_n)
        .layers(&[4096, 64 * 1024])
        .build("app:1");
    proxy.inject(Match::method("PUT", Kind::Manifest), Fault::HoldRequest);
    let env = &sc.env;
    let destination = sc.reference(repo_tag);
    let from = image.root.display().to_string();
    let child = spawn_hoist(env, &["push", &destination, "--from", &from]);
    let out = signal_at_hold(proxy, child, signal);

    assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(
        err.contains("interrupted: 3 blobs finished (3 pushed)"),
        "{err}"
    );
    assert!(!err.contains("part-way"), "{err}");
    assert!(err.contains("run the same command again"), "{err}");

    // Again: every blob is already there, and only the manifest goes up.
    proxy.clear();
    let out = run_ok(
        env.hoist().args(["push", &destination, "--from", &from]),
        None,
    );
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    assert_eq!(proxy.count("PUT", Kind::Upload), 0);
    assert_eq!(proxy.count("PUT", Kind::Manifest), 1);
    assert!(stderr(&out).contains("Layer already exists"));
}
