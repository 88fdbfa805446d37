//! Parsing, lookup order, drop-ins and matching of registries.conf.
use super::*;

const HUB: &str = r#"
unqualified-search-registries = ["docker.io"]

[aliases]
"alpine" = "docker.io/library/alpine"

[[registry]]
prefix = "docker.io"
location = "registry-1.docker.io"

[[registry.mirror]]
location = "mirror.example:5000/hub"
insecure = true

[[registry.mirror]]
location = "cache.example"
pull-from-mirror = "digest-only"
"#;

fn names(mirrors: &[MirrorFor]) -> Vec<&str> {
    mirrors.iter().map(|m| m.name.as_str()).collect()
}

#[test]
fn mirrors_replace_the_matched_prefix_in_order() {
    let conf = RegistriesConf {
        registries: parse(HUB).unwrap(),
    };
    let by_tag = conf.mirrors_for("docker.io/library/alpine", false);
    assert_eq!(names(&by_tag), ["mirror.example:5000/hub/library/alpine"]);
    assert!(by_tag[0].insecure);
    let by_digest = conf.mirrors_for("docker.io/library/alpine", true);
    assert_eq!(
        names(&by_digest),
        [
            "mirror.example:5000/hub/library/alpine",
            "cache.example/library/alpine"
        ]
    );
    assert!(conf.mirrors_for("quay.io/a/b", false).is_empty());
}

#[test]
fn prefixes_match_whole_components_and_the_longest_wins() {
    let conf = RegistriesConf {
        registries: parse(
            r#"
[[registry]]
location = "example.com/team"
[[registry.mirror]]
location = "m1.example/team"
[[registry]]
prefix = "example.com"
[[registry.mirror]]
location = "m2.example"
[[registry]]
prefix = "*.corp.example"
[[registry.mirror]]
location = "m3.example/corp"
pull-from-mirror = "tag-only"
"#,
        )
        .unwrap(),
    };
    assert_eq!(
        names(&conf.mirrors_for("example.com/team/app", false)),
        ["m1.example/team/app"]
    );
    assert_eq!(
        names(&conf.mirrors_for("example.com/teamwork/app", false)),
        ["m2.example/teamwork/app"]
    );
    assert_eq!(
        names(&conf.mirrors_for("reg.corp.example:5000/x/y", false)),
        ["m3.example/corp/x/y"]
    );
    assert!(conf.mirrors_for("reg.corp.example/x", true).is_empty());
    assert!(conf.mirrors_for("corp.example.org/x", false).is_empty());
}

#[test]
fn mistakes_are_named() {
    let err = |text: &str| parse(text).unwrap_err();
    assert!(err("[[registry]]\n").contains("prefix or a location"));
    assert!(err("[[registry]]\nlocation = \"https://x.example\"\n").contains("without a scheme"));
    assert!(err(
        "[[registry]]\nprefix = \"a.example\"\n[[registry.mirror]]\nlocation = \"m\"\npull-from-mirror = \"sometimes\"\n"
    )
    .contains("pull-from-mirror"));
    assert!(!err("[[registry]\n").is_empty());
    // The older switch makes every mirror digest-only.
    let old = parse(
        "[[registry]]\nprefix = \"a.example\"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = \"m.example\"\n",
    )
    .unwrap();
    assert_eq!(
        old[0].mirrors[0].pull_from_mirror,
        PullFromMirror::DigestOnly
    );
}

#[test]
fn drop_ins_replace_entries_of_the_same_prefix_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("registries.conf");
    std::fs::write(&main, HUB).unwrap();
    let drop_ins = dir.path().join("registries.conf.d");
    std::fs::create_dir(&drop_ins).unwrap();
    let entry = |mirror: &str| {
        format!(
            "[[registry]]\nprefix = \"docker.io\"\n[[registry.mirror]]\nlocation = \"{mirror}\"\n"
        )
    };
    std::fs::write(drop_ins.join("20-b.conf"), entry("second.example")).unwrap();
    std::fs::write(drop_ins.join("10-a.conf"), entry("first.example")).unwrap();
    std::fs::write(drop_ins.join("30-c.conf.bak"), entry("ignored.example")).unwrap();
    let paths = ConfPaths {
        main,
        drop_in_dirs: vec![drop_ins, dir.path().join("missing")],
    };
    let conf = load(&paths).unwrap();
    assert_eq!(
        names(&conf.mirrors_for("docker.io/library/alpine", false)),
        ["second.example/library/alpine"]
    );
    std::fs::write(&paths.main, "[[registry]\n").unwrap();
    let err = load(&paths).unwrap_err().to_string();
    assert!(err.starts_with(&paths.main.display().to_string()), "{err}");
}

#[test]
fn lookup_order_follows_containers_image() {
    let dir = tempfile::tempdir().unwrap();
    let xdg = dir.path().join("xdg");
    let env = |conf: Option<&str>| Environment {
        containers_registries_conf: conf.map(PathBuf::from),
        xdg_config_home: Some(xdg.clone()),
        ..Environment::default()
    };
    let user_drop_ins = xdg.join("containers/registries.conf.d");
    assert_eq!(
        ConfPaths::from_env(&env(Some("/x/r.conf"))),
        ConfPaths {
            main: "/x/r.conf".into(),
            drop_in_dirs: vec![SYSTEM_DROP_INS.into(), user_drop_ins.clone()],
        }
    );
    assert_eq!(
        ConfPaths::from_env(&env(None)).main,
        PathBuf::from(SYSTEM_FILE)
    );
    std::fs::create_dir_all(xdg.join("containers")).unwrap();
    std::fs::write(xdg.join("containers/registries.conf"), "").unwrap();
    assert_eq!(
        ConfPaths::from_env(&env(None)),
        ConfPaths {
            main: xdg.join("containers/registries.conf"),
            drop_in_dirs: vec![user_drop_ins],
        }
    );
}
