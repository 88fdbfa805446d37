//! Token requests name only the operation's scopes. GHCR's `/v2/` challenge carries a
//! placeholder `scope="repository:user/image:pull"`; copying it into real token requests asks
//! for access nobody needs (and some token services refuse the whole request).

use crate::support::images::ImageSpec;
use crate::support::proxy::{Fault, Kind, Match};
use crate::support::scenario::{Scenario, Target};
use crate::support::token_issuer::IssuerConfig;

/// The registry's own challenge, with a scope for another repository added, as GHCR sends.
fn stray_challenge(sc: &Scenario) -> Fault {
    let issuer = sc.target.issuer();
    let challenge = format!(
        r#"Bearer realm="{}",service="{}",scope="repository:user/image:pull""#,
        issuer.realm(),
        issuer.service()
    );
    Fault::set_headers(&[("WWW-Authenticate", &challenge)])
}

#[test]
fn a_pull_asks_only_for_its_own_scope_whatever_v2_names() {
    let sc = Scenario::new(Target::token(IssuerConfig::default()));
    sc.seed("team/app:1", ImageSpec::new(61).layers(&[500]));
    sc.fault(Match::method("GET", Kind::Ping), stray_challenge(&sc));
    sc.target.issuer().clear_requests();
    sc.pull_to_store_ok(&sc.reference("team/app:1"), &[]);
    let tokens = sc.target.issuer().requests();
    assert!(!tokens.is_empty());
    for token in tokens {
        assert_eq!(token.scopes, ["repository:team/app:pull"], "{token:?}");
    }
}

#[test]
fn a_push_asks_only_for_its_own_scope_whatever_v2_names() {
    let sc = Scenario::new(Target::token(IssuerConfig::default()));
    let image = ImageSpec::new(62).layers(&[500]).build("img");
    sc.fault(Match::method("GET", Kind::Ping), stray_challenge(&sc));
    sc.target.issuer().clear_requests();
    let from = format!("{}:img", image.root.display());
    sc.push_ok(&[&sc.reference("team/pushed:1"), "--from", &from]);
    let tokens = sc.target.issuer().requests();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert_eq!(tokens[0].scopes, ["repository:team/pushed:pull,push"]);
}
