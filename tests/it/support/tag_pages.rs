//! Tag-list paging as the distribution spec describes it (`n`, `last`, a `Link` to the next
//! page), done by the fault proxy over the real registry's answer: distribution 2.8 ignores
//! `n` and `last` for tags, while distribution 3, Docker Hub and GHCR page.

/// The page of `body` (a real `{"name","tags"}` answer) that `query` asks for, tags in lexical
/// order, and the `Link` header to the next page when more remain.
pub fn page(body: &[u8], path: &str, query: &str) -> (Vec<u8>, Option<String>) {
    let Ok(mut list) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (body.to_vec(), None);
    };
    let mut tags: Vec<String> = list["tags"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    tags.sort();
    let param = |name: &str| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    if let Some(last) = param("last") {
        tags.retain(|t| *t > last);
    }
    let n = param("n").and_then(|n| n.parse::<usize>().ok());
    let link = match n {
        Some(n) if tags.len() > n => {
            tags.truncate(n);
            let last = tags.last().cloned().unwrap_or_default();
            Some(format!("<{path}?n={n}&last={last}>; rel=\"next\""))
        }
        _ => None,
    };
    list["tags"] = serde_json::json!(tags);
    (serde_json::to_vec(&list).unwrap(), link)
}

/// The proxy's answer to a tag-list request: the page the query asks for, with its `Link`.
pub async fn respond(
    mut parts: hyper::http::response::Parts,
    body: hyper::body::Incoming,
    path: &str,
) -> Result<hyper::Response<super::proxy::ProxyBody>, std::io::Error> {
    use http_body_util::{BodyExt, Full};
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let (body, link) = page(&body, p, q);
    parts.headers.remove("content-length");
    if let Some(link) = link {
        parts
            .headers
            .insert("link", link.parse().map_err(std::io::Error::other)?);
    }
    let body = Full::new(bytes::Bytes::from(body))
        .map_err(|e| match e {})
        .boxed();
    Ok(hyper::Response::from_parts(parts, body))
}
