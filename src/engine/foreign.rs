//! Foreign and non-distributable layers (Windows base layers): their bytes live at the
//! descriptor's `urls`, not in the registry, which answers BLOB_UNKNOWN for them. By default a
//! pull keeps the descriptor (the manifest is stored byte for byte), skips the blob and says
//! so once per layer; with `fetch` it downloads them from their URLs over HTTPS only, with a
//! client that holds no credential, the destination verifying the digest as for any blob.
//! Push never uploads one (they are not among `ImageManifest::blobs`).

use super::report::{BlobOutcome, BlobResult, Reporter};
use crate::image::source::cut;
use crate::image::{self, BlobReader, Descriptor, RawManifest, WholeBlobInstead};
use crate::registry::error::RedactedUrl;
use crate::types::{escape_control, Digest};
use futures_util::future::BoxFuture;
use futures_util::TryStreamExt;
use reqwest::header::RANGE;
use reqwest::StatusCode;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Urls = Arc<Mutex<HashMap<Digest, Vec<String>>>>;

/// The foreign layers a pull meets, each once: skipped, or fetched from their URLs.
pub struct Foreign {
    reporter: Arc<dyn Reporter>,
    fetch: bool,
    seen: Mutex<HashSet<Digest>>,
    skipped: Mutex<Vec<Descriptor>>,
    urls: Urls,
}

impl Foreign {
    pub fn new(reporter: Arc<dyn Reporter>, fetch: bool) -> Foreign {
        Foreign {
            reporter,
            fetch,
            seen: Mutex::default(),
            skipped: Mutex::default(),
            urls: Arc::default(),
        }
    }

    /// Notes an image's foreign `layers`; returns those the transfer must fetch (none unless
    /// fetching), the others being reported by [`Foreign::skipped`].
    pub fn found(&self, layers: impl IntoIterator<Item = Descriptor>) -> Vec<Descriptor> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let new: Vec<Descriptor> = layers
            .into_iter()
            .filter(|l| seen.insert(l.digest.clone()))
            .collect();
        if !self.fetch {
            self.skipped
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(new);
            return Vec::new();
        }
        let mut urls = self.urls.lock().unwrap_or_else(|e| e.into_inner());
        for layer in &new {
            urls.insert(layer.digest.clone(), layer.urls.clone());
        }
        new
    }

    /// The transfer's source: `inner`, with foreign layers read from their URLs when fetching.
    pub fn source(&self, inner: Arc<dyn image::Source>) -> anyhow::Result<Arc<dyn image::Source>> {
        if !self.fetch {
            return Ok(inner);
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("hoist/", env!("CARGO_PKG_VERSION")))
            .https_only(true)
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::limited(10))
            .build()?;
        Ok(Arc::new(WithForeign {
            inner,
            urls: self.urls.clone(),
            http,
        }))
    }

    /// One result per skipped foreign layer, each reported as finished.
    pub fn skipped(self) -> Vec<BlobResult> {
        let layers = self.skipped.into_inner().unwrap_or_else(|e| e.into_inner());
        layers
            .into_iter()
            .map(|descriptor| {
                let outcome = BlobOutcome::SkippedForeign;
                self.reporter
                    .blob_finished(&descriptor.digest, descriptor.size, &outcome);
                BlobResult {
                    descriptor,
                    outcome,
                }
            })
            .collect()
    }
}

/// A registry image whose foreign layers come from their URLs instead.
struct WithForeign {
    inner: Arc<dyn image::Source>,
    urls: Urls,
    /// HTTPS only, no cookies, no credentials: nothing of any registry's goes to these hosts.
    http: reqwest::Client,
}

impl image::Source for WithForeign {
    fn top(&self) -> &RawManifest {
        self.inner.top()
    }

    fn children(&self) -> &[RawManifest] {
        self.inner.children()
    }

    fn open_blob(
        &self,
        digest: &Digest,
        offset: u64,
    ) -> BoxFuture<'static, std::io::Result<BlobReader>> {
        let urls = self.urls.lock().unwrap_or_else(|e| e.into_inner());
        let Some(urls) = urls.get(digest).cloned() else {
            return self.inner.open_blob(digest, offset);
        };
        let (http, digest) = (self.http.clone(), digest.clone());
        Box::pin(async move {
            let mut failures = Vec::new();
            for url in &urls {
                match open_url(&http, url, offset).await {
                    Ok(found) => return found,
                    Err(why) => failures.push(why),
                }
            }
            if failures.is_empty() {
                failures.push("it names no URL".into());
            }
            Err(std::io::Error::other(format!(
                "foreign layer {digest}: {}",
                failures.join("; ")
            )))
        })
    }
}

/// GET `url` from `offset`: the reader, a whole-blob restart, or why not (one line).
async fn open_url(
    http: &reqwest::Client,
    url: &str,
    offset: u64,
) -> Result<std::io::Result<BlobReader>, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{}: {e}", escape_control(url)))?;
    let shown = RedactedUrl(&parsed).to_string();
    if parsed.scheme() != "https" {
        return Err(format!("{shown}: only HTTPS URLs are fetched"));
    }
    let mut request = http.get(parsed);
    if offset > 0 {
        request = request.header(RANGE, format!("bytes={offset}-"));
    }
    let response = request
        .send()
        .await
        .map_err(|e| format!("{shown}: {}", e.without_url()))?;
    let status = response.status();
    if status != StatusCode::OK && status != StatusCode::PARTIAL_CONTENT {
        return Err(format!("{shown}: {status}"));
    }
    let body = response.bytes_stream().map_err(|e| cut(e.without_url()));
    let reader = Box::new(tokio_util::io::StreamReader::new(body)) as BlobReader;
    if offset > 0 && status == StatusCode::OK {
        return Ok(Err(WholeBlobInstead::error(offset, reader)));
    }
    Ok(Ok(reader))
}
