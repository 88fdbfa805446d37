//! Ways of running hoist that several test files share: a pull into a fresh directory, a
//! layer held part-way, a spawned hoist fed stdin and waited for, the pull that resumes, and
//! the names a run leaves in a directory.
//! Set-up and checks only: the registries and the proxy themselves live in support/.

use crate::support::images::ImageLayout;
use crate::support::proxy::{Fault, Kind, Match, Proxy, Recorded};
use crate::support::scenario::{requests_of, Scenario};
use crate::support::tools::{path_str, run, stdout, TestEnv};
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// `pull REFERENCE --store STORE --jobs 1`: one blob at a time, in the manifest's order, so a
/// held last layer stops the pull with everything before it finished.
pub fn serial_pull<'a>(reference: &'a str, store: &'a Path) -> [&'a str; 6] {
    ["pull", reference, "--store", path_str(store), "--jobs", "1"]
}

/// Holds the body of the blob `digest` after its first `bytes` bytes, until released.
pub fn hold_blob_after(proxy: &Proxy, digest: &str, bytes: u64) {
    proxy.inject(
        Match::method("GET", Kind::Blob).path_ends_with(digest),
        Fault::HoldResponseAfter(bytes),
    );
}

/// Starts `cmd` with its output captured and `stdin` written to it, then closed.
pub fn spawn_with_stdin(cmd: &mut Command, stdin: &[u8]) -> Child {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child
}

/// The GETs of the blob `digest` that `proxy` saw, in order.
pub fn gets_of(proxy: &Proxy, digest: &str) -> Vec<Recorded> {
    proxy
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.ends_with(digest))
        .collect()
}

/// Waits for a spawned hoist and records its output for the suite-wide secrets check.
pub fn finished(child: Child) -> Output {
    let out = child.wait_with_output().unwrap();
    crate::support::secrets_log::record_output(&out);
    out
}

/// Pulls `reference` into the scenario's store again, on a cleared request log, and returns
/// the blob GETs it made: a run that resumes fetches only what the last one did not finish.
pub fn pull_again(sc: &Scenario, reference: &str, image: &ImageLayout) -> Vec<Recorded> {
    sc.proxy.clear();
    let out = sc.pull_to_store_ok(reference, &[]);
    assert_eq!(stdout(&out), format!("{}\n", image.digest()));
    requests_of(&sc.proxy, "GET", Kind::Blob)
}

/// `hoist FLAGS pull REFERENCE --output DIR` into an emptied `out` scratch directory: what
/// the network tests run, again and again, under different flags and environments.
pub fn pull_fresh(env: &TestEnv, flags: &[&str], reference: &str) -> Output {
    let out = env.scratch("out");
    let _ = std::fs::remove_dir_all(&out);
    let mut cmd = env.hoist();
    cmd.args(flags)
        .args(["pull", reference, "--output"])
        .arg(&out);
    run(&mut cmd, None)
}

/// Names in `dir`, sorted.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
