//! Usage errors are caught before any work: exit 2, a message naming the argument, and not
//! one request to the registry.

use crate::support::images::{push_with_skopeo, ImageSpec};
use crate::support::proxy::Proxy;
use crate::support::registry::{Mode, RegistryServer};
use crate::support::tools::{assert_exit, assert_stderr_has, stderr};
use crate::support::tools::{run, TestEnv};

/// A registry reached through the recording proxy, holding `team/app:v1`.
fn seeded() -> (RegistryServer, Proxy, String) {
    let reg = RegistryServer::start(Mode::Open);
    let image = ImageSpec::new(81).layers(&[5_000]).build("v1");
    push_with_skopeo(&image, &format!("{}/team/app:v1", reg.host()), None);
    let proxy = Proxy::start(&reg.host());
    let reference = format!("{}/team/app:v1", proxy.host());
    (reg, proxy, reference)
}

fn hoist(env: &TestEnv, args: &[&str]) -> std::process::Output {
    run(env.hoist().args(args), None)
}

fn assert_usage(out: &std::process::Output, needle: &str) {
    assert_exit(out, 2);
    assert!(
        stderr(out).contains(needle),
        "{needle:?} in {}",
        stderr(out)
    );
}

/// `--chunk-size 0` once sent zero-byte PATCH requests forever; `--jobs 0` and an empty
/// platform variant were taken as given.
#[test]
fn zero_chunk_size_zero_jobs_and_an_empty_platform_variant_are_usage_errors() {
    let (_reg, proxy, reference) = seeded();
    let env = TestEnv::new().without_credential_helpers();
    let out = env.scratch("out").display().to_string();
    assert_exit(&hoist(&env, &["pull", &reference, "--output", &out]), 0);
    proxy.clear();

    let elsewhere = env.scratch("elsewhere").display().to_string();
    let pull = ["pull", &reference, "--output", &elsewhere];
    assert_usage(
        &hoist(&env, &[&pull[..], &["--platform", "linux/amd64/"]].concat()),
        "--platform",
    );
    assert_usage(&hoist(&env, &[&pull[..], &["-j", "0"]].concat()), "--jobs");
    let dest = format!("{}/team/copy:v1", proxy.host());
    let push = ["push", &dest, "--from", &out];
    assert_usage(
        &hoist(&env, &[&push[..], &["--jobs", "0"]].concat()),
        "--jobs",
    );
    assert_usage(
        &hoist(&env, &[&push[..], &["--chunk-size", "0"]].concat()),
        "--chunk-size",
    );
    assert!(proxy.requests().is_empty(), "{:#?}", proxy.requests());
}

#[test]
fn a_port_above_65535_is_a_usage_error() {
    let env = TestEnv::new().without_credential_helpers();
    let out = env.scratch("out").display().to_string();
    assert_usage(
        &hoist(
            &env,
            &["pull", "127.0.0.1:65536/team/app:v1", "--output", &out],
        ),
        "port",
    );
    assert_usage(
        &hoist(
            &env,
            &["push", "localhost:99999/team/app:v1", "--from", &out],
        ),
        "port",
    );
    let out = run(
        env.hoist()
            .args(["login", "127.0.0.1:70000", "-u", "u", "--password-stdin"]),
        Some(b"pw\n"),
    );
    assert_usage(&out, "port");
    assert_usage(
        &hoist(&env, &["logout", "https://reg.example:123456/v1/"]),
        "port",
    );
    assert!(env.docker_config_json().is_none(), "nothing written");
}

/// An unwritable `--digest-file` or `--output` once failed only after the whole download.
#[test]
fn an_unwritable_digest_file_or_output_stops_a_transfer_before_any_request() {
    let (_reg, proxy, reference) = seeded();
    let env = TestEnv::new().without_credential_helpers();
    let scratch = env.scratch("s");
    let missing_dir = scratch.join("missing/digest.txt").display().to_string();
    let plain_file = scratch.join("plain-file");
    std::fs::write(&plain_file, "").unwrap();
    let under_file = plain_file.join("out").display().to_string();
    let out = scratch.join("out").display().to_string();
    let pull_with_digest_file = |file: &str| {
        let args = ["pull", &reference, "--output", &out, "--digest-file", file];
        hoist(&env, &args)
    };

    let pulled = pull_with_digest_file(&missing_dir);
    assert_usage(&pulled, "--digest-file");
    assert!(
        stderr(&pulled).contains(&missing_dir),
        "{}",
        stderr(&pulled)
    );
    let digest_is_dir = scratch.display().to_string();
    assert_usage(&pull_with_digest_file(&digest_is_dir), "directory");
    for output in [under_file.clone(), format!("{under_file}.tar")] {
        let pulled = hoist(&env, &["pull", &reference, "--output", &output]);
        assert_usage(&pulled, "--output");
        assert_stderr_has(&pulled, "not a directory");
    }
    assert!(proxy.requests().is_empty(), "{:#?}", proxy.requests());
    assert!(!std::path::Path::new(&out).exists(), "nothing downloaded");

    // push checks its digest file before the first upload too.
    assert_exit(&hoist(&env, &["pull", &reference, "--output", &out]), 0);
    proxy.clear();
    let dest = format!("{}/team/copy:v1", proxy.host());
    assert_usage(
        &hoist(
            &env,
            &["push", &dest, "--from", &out, "--digest-file", &missing_dir],
        ),
        "--digest-file",
    );
    assert!(proxy.requests().is_empty(), "{:#?}", proxy.requests());
}
