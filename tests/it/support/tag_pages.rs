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
