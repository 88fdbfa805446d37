//! `hoist tags REPO`: every tag, paging past the registry's page with `n` and `Link`, on
//! open, Basic and token registries; a `Link` to another host is not followed.

use super::token_target;
use crate::support::images::ImageSpec;
use crate::support::issuer_config::IssuerConfig;
use crate::support::proxy::{Fault, Kind, Match};
use crate::support::scenario::{Scenario, Target};
use crate::support::tools::{assert_exit, stderr, stdout};

const TAGS: [&str; 5] = ["1.0", "1.1", "2.0", "latest", "stable"];

/// The image seeded once, then tagged the rest of [`TAGS`] with hoist.
fn seeded(sc: &Scenario, seed: u64) {
    sc.seed("team/app:1.0", ImageSpec::new(seed));
    let mut args = vec!["tag".to_string(), sc.reference("team/app:1.0")];
    args.extend(TAGS[1..].iter().map(|t| t.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_exit(&sc.hoist(&args), 0);
    sc.proxy.clear();
}

fn lists_every_tag_page_by_page(sc: Scenario, seed: u64) {
    seeded(&sc, seed);
    sc.proxy.page_tags();
    let repo = sc.reference("team/app");
    let out = sc.hoist(&["tags", &repo, "--page-size", "2"]);
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), TAGS.join("\n") + "\n");
    // Two tags a page: three pages, each after the first from the registry's Link.
    let pages: Vec<String> = sc
        .requests_of("GET", Kind::Tags)
        .into_iter()
        .filter(|r| r.status == 200)
        .map(|r| r.path)
        .collect();
    assert_eq!(pages.len(), 3, "{pages:#?}");
    assert!(pages[1].contains("last=1.1"), "{pages:#?}");
    let out = sc.hoist(&["tags", &repo, "--json"]);
    assert_exit(&out, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["tags"], serde_json::json!(TAGS));
    assert_eq!(json["name"], format!("{repo}"));
}

#[test]
fn tags_pages_past_the_page_size_on_an_open_registry() {
    lists_every_tag_page_by_page(Scenario::open(), 70);
}

#[test]
fn tags_pages_on_a_basic_registry() {
    lists_every_tag_page_by_page(Scenario::new(Target::basic()), 71);
}

#[test]
fn tags_pages_on_a_token_registry() {
    lists_every_tag_page_by_page(Scenario::new(token_target(IssuerConfig::default())), 72);
}

#[test]
fn a_next_page_on_another_host_is_not_followed() {
    let sc = Scenario::new(Target::basic());
    seeded(&sc, 73);
    sc.proxy.page_tags();
    let elsewhere = crate::support::proxy::Proxy::start(&sc.reg().host());
    let link = format!(
        "<http://{}/v2/team/app/tags/list?n=2&last=1.1>; rel=\"next\"",
        elsewhere.host()
    );
    sc.proxy.inject(
        Match::method("GET", Kind::Tags),
        Fault::Status {
            status: 200,
            headers: vec![("Link".into(), link)],
            body: r#"{"name":"team/app","tags":["1.0","1.1"]}"#.into(),
        },
    );
    let out = sc.hoist(&["tags", &sc.reference("team/app"), "--page-size", "2"]);
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("another host"), "{}", stderr(&out));
    assert!(
        elsewhere.requests().is_empty(),
        "nothing went to the other host"
    );
    assert_eq!(stdout(&out), "");
}

#[test]
fn a_tag_in_the_repository_argument_is_a_usage_error() {
    let sc = Scenario::open();
    let out = sc.hoist(&["tags", &sc.reference("team/app:1")]);
    assert_exit(&out, 2);
    assert!(sc.proxy.requests().is_empty());
}

#[test]
fn a_registry_that_ignores_n_is_listed_once() {
    // distribution 2.8 answers every tag whatever `n` asks for: no second page, no repeats.
    let sc = Scenario::open();
    seeded(&sc, 74);
    let out = sc.hoist(&["tags", &sc.reference("team/app"), "--page-size", "2"]);
    assert_exit(&out, 0);
    let mut listed: Vec<String> = stdout(&out).lines().map(String::from).collect();
    listed.sort();
    assert_eq!(listed, TAGS);
    assert_eq!(sc.proxy.count("GET", Kind::Tags), 1);
}
