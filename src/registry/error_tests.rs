//! Unit tests of registry errors: the status gate, messages, redaction, Retry-After.
use super::*;

#[test]
fn retry_after_takes_seconds_or_a_date_and_is_clamped() {
    let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
    let parse = |v: &str| parse_retry_after(v, now);
    assert_eq!(parse(" 7 "), Some(Duration::from_secs(7)));
    assert_eq!(parse("0"), Some(Duration::ZERO));
    assert_eq!(parse("9223372036854775807"), Some(MAX_RETRY_AFTER));
    assert_eq!(parse(&"9".repeat(400)), Some(MAX_RETRY_AFTER));
    assert_eq!(
        parse("Sun, 06 Nov 1994 08:49:47 GMT"),
        Some(Duration::from_secs(10))
    );
    assert_eq!(parse("Sun, 06 Nov 1994 08:00:00 GMT"), Some(Duration::ZERO));
    assert_eq!(
        parse("Fri, 31 Dec 9999 23:59:59 GMT"),
        Some(MAX_RETRY_AFTER)
    );
    for bad in ["", "-1", "1.5", "soon", "1e9"] {
        assert_eq!(parse(bad), None, "{bad}");
    }
}

#[test]
fn redacts_userinfo_and_secret_query_values() {
    let url = url::Url::parse("https://u:p@h/token?service=s&refresh_token=abc&scope=x").unwrap();
    let shown = RedactedUrl(&url).to_string();
    assert!(!shown.contains("abc") && !shown.contains("u:p"), "{shown}");
    assert!(shown.contains("service=s"));
}

/// Presigned storage URLs and upload locations: every value but the allowlisted ones goes.
#[test]
fn redacts_every_query_value_but_the_harmless_ones() {
    let secrets = [
        "X-Amz-Signature=s3sig",
        "X-Amz-Credential=AKIAEXAMPLE",
        "X-Amz-Security-Token=s3session",
        "sig=azuresig",
        "X-Goog-Signature=gcssig",
        "X-Goog-Credential=gcscred",
        "access_token=oauthtok",
        "token=plaintok",
        "_state=uploadstate",
        "Unknown-Vendor-Key=vendorsecret",
    ];
    let raw = format!(
        "https://storage.example/b?{}&digest=sha256:ab&mount=sha256:cd&from=a/b&n=10&last=x&service=reg&scope=repository:a:pull#frag=fragsecret",
        secrets.join("&")
    );
    let shown = RedactedUrl(&url::Url::parse(&raw).unwrap()).to_string();
    for pair in secrets {
        let (key, value) = pair.split_once('=').unwrap();
        assert!(!shown.contains(value), "{value} in {shown}");
        assert!(shown.contains(&format!("{key}=****")), "{key} in {shown}");
    }
    assert!(!shown.contains("fragsecret"), "{shown}");
    for kept in [
        "digest=sha256%3Aab",
        "mount=sha256%3Acd",
        "from=a%2Fb",
        "n=10",
        "last=x",
        "service=reg",
        "scope=repository%3Aa%3Apull",
    ] {
        assert!(shown.contains(kept), "{kept} in {shown}");
    }
}

#[test]
fn certificate_hint_names_the_host_the_request_went_to() {
    let url = url::Url::parse("https://auth.example:8443/token?x=1").unwrap();
    assert_eq!(authority(&url), "auth.example:8443");
    let url = url::Url::parse("https://auth.example/token").unwrap();
    assert_eq!(authority(&url), "auth.example");
    let url = url::Url::parse("http://[::1]:5000/v2/").unwrap();
    assert_eq!(authority(&url), "[::1]:5000");
}

#[tokio::test]
async fn a_refusal_keeps_the_reason_its_challenge_gives() {
    let response = |body: &str| {
        let http = hyper::Response::builder()
            .status(401)
            .header(
                "WWW-Authenticate",
                r#"Bearer realm="https://auth/token",service="r",scope="repository:a/b:pull,push",error="insufficient_scope""#,
            )
            .body(body.to_string())
            .unwrap();
        reqwest::Response::from(http)
    };
    // A HEAD: no body, only the challenge.
    let e = from_response("HEAD", response("")).await;
    assert!(e.has_code("insufficient_scope"));
    assert!(
        e.to_string()
            .ends_with("(insufficient_scope: needs repository:a/b:pull,push)"),
        "{e}"
    );
    // The registry's own envelope comes first, the challenge's reason after it.
    let body = r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#;
    let e = from_response("POST", response(body)).await;
    assert!(e.has_code("UNAUTHORIZED") && e.has_code("insufficient_scope"));
    assert!(
        e.to_string().contains(
            "(UNAUTHORIZED: authentication required; insufficient_scope: needs repository:a/b:pull,push)"
        ),
        "{e}"
    );
}

#[tokio::test]
async fn the_status_gate_passes_listed_statuses_and_reads_the_envelope_of_others() {
    let response = |status: u16| {
        let body = r#"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}"#;
        let http = hyper::Response::builder()
            .status(status)
            .body(body.to_string())
            .unwrap();
        reqwest::Response::from(http)
    };
    let ok = [StatusCode::CREATED, StatusCode::ACCEPTED];
    assert!(expect("PUT", response(202), &ok).await.is_ok());
    let e = expect("PUT", response(200), &ok).await.unwrap_err();
    assert!(e.has_code("BLOB_UNKNOWN"), "{e}");
    assert_eq!(e.status(), Some(StatusCode::OK));
    assert!(expect_success("GET", response(204), &[]).await.is_ok());
    let found = expect_success("HEAD", response(404), &[StatusCode::NOT_FOUND]).await;
    assert!(found.is_ok());
    let e = expect_success("GET", response(503), &[]).await.unwrap_err();
    assert!(e.is_temporary() && e.to_string().contains("(BLOB_UNKNOWN: blob unknown)"));
}

#[test]
fn typed_errors_keep_their_messages_and_escape_the_wire() {
    let e = RegistryError::UnsupportedChallenge {
        registry: "r.example".into(),
        scheme: "Negotiate\x1b[2J".into(),
    };
    assert!(!e.to_string().contains('\x1b'), "{e}");
    let e = RegistryError::MissingLocation {
        url: "https://r.example/v2/a/blobs/uploads/".into(),
    };
    assert_eq!(
        e.to_string(),
        "https://r.example/v2/a/blobs/uploads/ answered without a Location header"
    );
    assert!(!e.is_temporary() && !e.is_cut());
    let cut = RegistryError::Cut {
        detail: "error decoding response body".into(),
    };
    assert!(cut.is_cut() && cut.is_temporary());
    assert_eq!(
        cut.to_string(),
        "connection lost mid-download: error decoding response body"
    );
}

#[test]
fn status_errors_show_registry_message_and_classify() {
    let e = RegistryError::Status {
        method: "PUT".into(),
        url: "http://r/v2/a/manifests/t".into(),
        status: StatusCode::FORBIDDEN,
        errors: vec![RegistryErrorInfo {
            code: "DENIED".into(),
            message: "requested access to the resource is denied".into(),
        }],
        retry_after: None,
    };
    assert!(e.to_string().contains("DENIED: requested access"));
    assert!(e.has_code("DENIED"));
    assert!(!e.is_temporary());
}
