//! Pull-through mirrors, with real distribution caches in front of real registries: an
//! upstream with token auth that the cache logs in to with its own username and password,
//! a mirror that is down, a mirror that lacks the image.

use crate::support::images::ImageSpec;
use crate::support::mirror::PullThrough;
use crate::support::proxy::{Fault, Kind, Match, Proxy};
use crate::support::scenario::{env, Scenario, Target, USER};
use crate::support::token_issuer::IssuerConfig;
use crate::support::tools::{assert_exit, hoist_pull_ok, path_str, run, stderr, stdout};
use crate::support::{basic, free_port, sha256_digest};

/// The test bed's cache serves a token-auth upstream's image, pulled straight from it.
#[test]
fn a_pull_through_cache_serves_a_token_upstream_through_its_own_login() {
    let upstream = Target::token(IssuerConfig::default());
    let image = crate::support::scenario::seed(
        &upstream.reg.host(),
        "team/app:1",
        ImageSpec::new(71).layers(&[3000]),
        upstream.creds,
    );
    let cache = PullThrough::of(&upstream);
    let env = env();
    let store = env.scratch("store");
    let reference = format!("{}/team/app:1", cache.host());
    let out = hoist_pull_ok(&env, &[&reference, "--store", path_str(&store)]);
    assert_eq!(stdout(&out).trim(), image.digest());
    let layer = &image.manifests[0].layers[0].blob.digest;
    assert!(cache.holds_blob(layer), "the cache kept {layer}");
}

/// A token registry behind the fault proxy holding `team/app:1`, and a pull-through cache
/// of it behind a proxy of its own (to see what it is asked).
struct Mirrored {
    sc: Scenario,
    cache: PullThrough,
    mirror: Proxy,
    digest: String,
    layer: String,
}

impl Mirrored {
    fn new() -> Mirrored {
        Mirrored::with_cache(PullThrough::of)
    }

    fn with_cache(cache: impl FnOnce(&Target) -> PullThrough) -> Mirrored {
        let sc = Scenario::new(Target::token(IssuerConfig::default()));
        let image = sc.seed("team/app:1", ImageSpec::new(72).layers(&[4000]));
        let cache = cache(&sc.target);
        let mirror = Proxy::start(&cache.host());
        Mirrored {
            digest: image.digest().to_string(),
            layer: image.manifests[0].layers[0].blob.digest.clone(),
            sc,
            cache,
            mirror,
        }
    }

    /// `--mirror REGISTRY=MIRROR` for the scenario's registry.
    fn flag(&self, mirror: &str) -> String {
        format!("{}={mirror}", self.sc.proxy.host())
    }

    fn pull(&self, extra: &[&str]) -> std::process::Output {
        self.sc
            .pull_to_store(&self.sc.reference("team/app:1"), extra)
    }
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_str(&stdout(out)).unwrap()
}

#[test]
fn a_pull_goes_through_the_mirror_and_says_which_source_served_what() {
    let m = Mirrored::new();
    let flag = m.flag(&m.mirror.host());
    let out = m.pull(&["--mirror", &flag, "--json", "--debug"]);
    assert_exit(&out, 0);
    let json = json_of(&out);
    assert_eq!(json["digest"], m.digest.as_str());
    assert_eq!(json["source"], m.mirror.host().as_str(), "{json}");
    for blob in json["blobs"].as_array().unwrap() {
        assert_eq!(blob["source"], m.mirror.host().as_str(), "{json}");
    }
    let err = stderr(&out);
    assert!(
        err.contains(&format!("debug: {} from {}", m.layer, m.mirror.host())),
        "{err}"
    );
    assert!(m.cache.holds_blob(&m.layer));
    let registry = m.sc.proxy.requests();
    assert!(
        registry.iter().all(|r| r.kind == Kind::Ping),
        "the registry served nothing: {registry:?}"
    );
}

#[test]
fn a_mirror_that_is_down_or_lacks_the_image_falls_through_with_a_note() {
    let m = Mirrored::new();
    let down = format!("127.0.0.1:{}", free_port());
    let empty = Target::open();
    let (down_flag, empty_flag) = (m.flag(&down), m.flag(&empty.reg.host()));
    let out = m.pull(&["--mirror", &down_flag, "--mirror", &empty_flag, "--json"]);
    assert_exit(&out, 0);
    let err = stderr(&out);
    let notes: Vec<&str> = err.lines().filter(|l| l.contains("passed over")).collect();
    assert_eq!(notes.len(), 2, "{err}");
    assert!(notes[0].starts_with(&format!("mirror {down} passed over (cannot connect")));
    assert!(
        notes[1].contains(&empty.reg.host()) && notes[1].contains("404"),
        "{err}"
    );
    assert_eq!(json_of(&out)["source"], m.sc.proxy.host().as_str());
}

/// A mirror that serves other bytes under a blob's digest is passed over for that blob, and
/// the registry's bytes are written instead.
#[test]
fn a_mirror_serving_a_blob_that_does_not_match_its_digest_is_rejected() {
    let m = Mirrored::new();
    m.mirror.inject(
        Match::method("GET", Kind::Blob).path_ends_with(&m.layer),
        Fault::FlipResponseByte(10),
    );
    let flag = m.flag(&m.mirror.host());
    let out = m.pull(&["--mirror", &flag, "--json"]);
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "mirror {} sent bytes that do not match {}",
            m.mirror.host(),
            m.layer
        )),
        "{err}"
    );
    let json = json_of(&out);
    let layer = json["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["digest"] == m.layer.as_str())
        .unwrap()
        .clone();
    assert_eq!(layer["source"], m.sc.proxy.host().as_str(), "{json}");
    let hex = m.layer.trim_start_matches("sha256:");
    let stored = std::fs::read(m.sc.store.join("blobs/sha256").join(hex)).unwrap();
    assert_eq!(sha256_digest(&stored), m.layer);
}

/// A mirror that asks for credentials gets those stored under its own host, never the
/// registry's.
#[test]
fn a_mirrors_credentials_are_looked_up_under_its_own_host() {
    let m = Mirrored::with_cache(|upstream| PullThrough::asking(upstream, &[("carol", "m1rror")]));
    let flag = m.flag(&m.mirror.host());
    // Only the registry's credentials: the mirror refuses, and the registry serves.
    let out = m.pull(&["--mirror", &flag, "--json"]);
    assert_exit(&out, 0);
    assert!(stderr(&out).contains("not logged in"), "{}", stderr(&out));
    assert_eq!(json_of(&out)["source"], m.sc.proxy.host().as_str());
    // With the mirror's own entry, the mirror serves.
    let config = format!(
        r#"{{"auths":{{"{}":{{"auth":"{}"}},"{}":{{"auth":"{}"}}}}}}"#,
        m.sc.proxy.host(),
        basic(USER.0, USER.1).trim_start_matches("Basic "),
        m.mirror.host(),
        basic("carol", "m1rror").trim_start_matches("Basic "),
    );
    std::fs::write(m.sc.env.config_json_path(), config).unwrap();
    let out = m.pull(&["--mirror", &flag, "--json"]);
    assert_eq!(json_of(&out)["source"], m.mirror.host().as_str());
    assert!(m.mirror.requests().iter().any(|r| r.authorized));
}

/// registries.conf names the mirror; pull uses it, push never does.
/// registries.conf names the mirror; pull uses it, push never does.
#[test]
fn registries_conf_mirrors_serve_pulls_and_never_see_a_push() {
    let m = Mirrored::new();
    let conf = m.sc.env.scratch("containers").join("registries.conf");
    std::fs::write(
        &conf,
        format!(
            "[[registry]]\nprefix = \"{}\"\n[[registry.mirror]]\nlocation = \"{}\"\n",
            m.sc.proxy.host(),
            m.mirror.host()
        ),
    )
    .unwrap();
    let conf_env = path_str(&conf);
    let sc = &m.sc;
    let hoist = |args: &[&str]| {
        let mut cmd = sc.env.hoist();
        run(
            cmd.env("CONTAINERS_REGISTRIES_CONF", conf_env).args(args),
            None,
        )
    };
    let reference = sc.reference("team/app:1");
    let pull = ["pull", reference.as_str(), "--store", path_str(&sc.store)];
    let out = hoist(&[&pull[..], &["--json"]].concat());
    assert_exit(&out, 0);
    assert_eq!(json_of(&out)["source"], m.mirror.host().as_str());
    m.mirror.clear();
    let image = ImageSpec::new(73).layers(&[100]).build("img");
    let from = format!("{}:img", image.root.display());
    let out = hoist(&["push", &sc.reference("team/pushed:1"), "--from", &from]);
    assert_exit(&out, 0);
    assert!(m.mirror.requests().is_empty(), "{:?}", m.mirror.requests());
    // A malformed file stops a pull before any request, naming the file.
    std::fs::write(&conf, "[[registry]\n").unwrap();
    sc.proxy.clear();
    let out = hoist(&pull);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains(conf_env), "{}", stderr(&out));
    assert!(sc.proxy.requests().is_empty());
}
