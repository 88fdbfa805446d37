//! Blob requests. Downloads hand back the response to stream; uploads take a re-openable body.
//! The upload steps are separate calls (exists → mount → start → put/patch) so the push engine
//! can choose the fewest round trips for each blob.

use super::client::{BodySource, RegistryClient};
use super::error::{expect, expect_success, RedactedUrl, RegistryError};
use super::timeouts;
use crate::types::Digest;
use reqwest::header::{
    HeaderMap, HeaderValue, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, LOCATION, RANGE,
};
use reqwest::{Method, Response, StatusCode};

/// A blob download under way: `offset` is where the body starts (non-zero when resumed).
pub struct BlobDownload {
    pub response: Response,
    pub offset: u64,
}

pub enum MountOutcome {
    Mounted,
    /// The registry declined the mount and opened an ordinary upload instead (spec: 202).
    UploadStarted(String),
}

impl RegistryClient {
    /// HEAD: the blob's size if the repository already has it.
    pub async fn blob_exists(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<Option<u64>, RegistryError> {
        let path = format!("/v2/{repository}/blobs/{digest}");
        let response = self
            .send(Method::HEAD, &path, HeaderMap::new(), None)
            .await?;
        let response = expect_success("HEAD", response, &[StatusCode::NOT_FOUND]).await?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(None),
            _ => Ok(Some(content_length(&response).unwrap_or(0))),
        }
    }

    /// GET, resuming at `offset` with a Range request; a registry that ignores Range answers
    /// 200 and the download starts over at offset 0. So does a 206 whose `Content-Range` does
    /// not start at `offset`: its bytes would land in the wrong place. The body is streamed, so
    /// it has no overall deadline, only the idle timeout.
    pub async fn get_blob(
        &self,
        repository: &str,
        digest: &Digest,
        offset: u64,
    ) -> Result<BlobDownload, RegistryError> {
        let path = format!("/v2/{repository}/blobs/{digest}");
        let mut headers = HeaderMap::new();
        if offset > 0 {
            headers.insert(
                RANGE,
                HeaderValue::from_str(&format!("bytes={offset}-")).expect("ascii"),
            );
        }
        let response = timeouts::streamed(self.send(Method::GET, &path, headers, None)).await?;
        let resumable: &[StatusCode] = if offset > 0 {
            &[
                StatusCode::OK,
                StatusCode::PARTIAL_CONTENT,
                StatusCode::RANGE_NOT_SATISFIABLE,
            ]
        } else {
            &[StatusCode::OK]
        };
        let response = expect("GET", response, resumable).await?;
        match response.status() {
            StatusCode::PARTIAL_CONTENT => {
                if range_start(&response) == Some(offset) {
                    return Ok(BlobDownload { response, offset });
                }
                drop(response);
                Box::pin(self.get_blob(repository, digest, 0)).await
            }
            // The partial file is already whole (or longer than the blob): start again.
            StatusCode::RANGE_NOT_SATISFIABLE => {
                Box::pin(self.get_blob(repository, digest, 0)).await
            }
            _ => Ok(BlobDownload {
                response,
                offset: 0,
            }),
        }
    }

    /// Cross-repository mount: `POST /v2/<repo>/blobs/uploads/?mount=<digest>&from=<other>`.
    pub async fn mount_blob(
        &self,
        repository: &str,
        digest: &Digest,
        from: &str,
    ) -> Result<MountOutcome, RegistryError> {
        let path = format!("/v2/{repository}/blobs/uploads/?mount={digest}&from={from}");
        let response = self
            .send(Method::POST, &path, HeaderMap::new(), None)
            .await?;
        let ok = [StatusCode::CREATED, StatusCode::ACCEPTED];
        let response = expect("POST", response, &ok).await?;
        match response.status() {
            StatusCode::CREATED => Ok(MountOutcome::Mounted),
            _ => Ok(MountOutcome::UploadStarted(location(&response)?)),
        }
    }

    /// `POST /v2/<repo>/blobs/uploads/`: returns the upload URL.
    pub async fn start_upload(&self, repository: &str) -> Result<String, RegistryError> {
        let path = format!("/v2/{repository}/blobs/uploads/");
        let response = self
            .send(Method::POST, &path, HeaderMap::new(), None)
            .await?;
        location(&expect("POST", response, &[StatusCode::ACCEPTED]).await?)
    }

    /// Monolithic upload: one PUT of the whole blob with `?digest=`.
    pub async fn put_blob(
        &self,
        upload_url: &str,
        digest: &Digest,
        size: u64,
        body: BodySource,
    ) -> Result<(), RegistryError> {
        let url = with_digest(upload_url, digest);
        let mut headers = octet_stream();
        headers.insert(CONTENT_LENGTH, HeaderValue::from(size));
        let response = self.send(Method::PUT, &url, headers, Some(body)).await?;
        expect("PUT", response, &[StatusCode::CREATED]).await?;
        Ok(())
    }

    /// One chunk of a chunked upload (`PATCH` with `Content-Range: start-end`); returns the
    /// next upload URL, which registries may change on every chunk.
    pub async fn patch_chunk(
        &self,
        upload_url: &str,
        start: u64,
        len: u64,
        body: BodySource,
    ) -> Result<String, RegistryError> {
        let mut headers = octet_stream();
        headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
        let range = format!("{start}-{}", start + len.saturating_sub(1));
        headers.insert(CONTENT_RANGE, HeaderValue::from_str(&range).expect("ascii"));
        let response = self
            .send(Method::PATCH, upload_url, headers, Some(body))
            .await?;
        location(&expect("PATCH", response, &[StatusCode::ACCEPTED]).await?)
    }

    /// Closes a chunked upload: `PUT ?digest=` with an empty body.
    pub async fn finish_upload(
        &self,
        upload_url: &str,
        digest: &Digest,
    ) -> Result<(), RegistryError> {
        let url = with_digest(upload_url, digest);
        let mut headers = octet_stream();
        headers.insert(CONTENT_LENGTH, HeaderValue::from(0));
        let response = self.send(Method::PUT, &url, headers, None).await?;
        expect("PUT", response, &[StatusCode::CREATED]).await?;
        Ok(())
    }

    /// How much of an interrupted upload the registry kept (`GET` upload URL → `Range: 0-N`),
    /// and the URL to continue at; `None` when its answer cannot tell (see [`kept_bytes`]).
    pub async fn upload_offset(
        &self,
        upload_url: &str,
    ) -> Result<(Option<u64>, String), RegistryError> {
        let response = self
            .send(Method::GET, upload_url, HeaderMap::new(), None)
            .await?;
        let response = expect_success("GET", response, &[]).await?;
        let next = location(&response).unwrap_or_else(|_| upload_url.to_string());
        let range = response.headers().get(RANGE).and_then(|v| v.to_str().ok());
        Ok((kept_bytes(range), next))
    }
}

/// Bytes an upload holds, from its `Range: 0-N` (inclusive: N+1 bytes). `0-0` says nothing:
/// distribution sends it for an empty upload and for one holding a single byte alike.
fn kept_bytes(range: Option<&str>) -> Option<u64> {
    let (start, end) = range?.trim().split_once('-')?;
    match (start.parse::<u64>().ok()?, end.parse::<u64>().ok()?) {
        (0, 0) => None,
        (0, end) => end.checked_add(1),
        _ => None,
    }
}

/// Where a 206's body starts: `Content-Range: bytes START-END/TOTAL` (RFC 9110 §14.4).
fn range_start(response: &Response) -> Option<u64> {
    let value = response.headers().get(CONTENT_RANGE)?.to_str().ok()?;
    let (start, _) = value.trim().strip_prefix("bytes ")?.split_once('-')?;
    start.trim().parse().ok()
}

fn octet_stream() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers
}

fn content_length(response: &Response) -> Option<u64> {
    response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

fn location(response: &Response) -> Result<String, RegistryError> {
    response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .ok_or_else(|| RegistryError::MissingLocation {
            url: RedactedUrl(response.url()).to_string(),
        })
}

/// Upload URLs often carry their own query (`?_state=…`): add `digest` without losing it.
fn with_digest(upload_url: &str, digest: &Digest) -> String {
    let sep = if upload_url.contains('?') { '&' } else { '?' };
    format!("{upload_url}{sep}digest={digest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_bytes_from_range() {
        assert_eq!(kept_bytes(Some("0-99999")), Some(100_000));
        assert_eq!(kept_bytes(Some("0-0")), None, "empty, or one byte");
        assert_eq!(kept_bytes(None), None);
        assert_eq!(kept_bytes(Some("bytes=0-9")), None);
        assert_eq!(kept_bytes(Some("5-9")), None);
        // The server's number: one past u64 is no answer, not an overflow.
        assert_eq!(kept_bytes(Some("0-18446744073709551615")), None);
    }

    #[test]
    fn range_start_from_content_range() {
        let with = |v: &str| {
            let http = hyper::Response::builder()
                .status(206)
                .header(CONTENT_RANGE, v)
                .body(String::new())
                .unwrap();
            range_start(&Response::from(http))
        };
        assert_eq!(with("bytes 100-999/1000"), Some(100));
        assert_eq!(with("bytes 0-9/*"), Some(0));
        assert_eq!(with("bytes */1000"), None);
        assert_eq!(with("items 1-2/3"), None);
        assert_eq!(with("bytes -5-9/10"), None);
    }

    #[test]
    fn digest_query_keeps_existing_state() {
        let d = Digest::of(b"");
        assert_eq!(
            with_digest("/v2/a/blobs/uploads/u?_state=x", &d),
            format!("/v2/a/blobs/uploads/u?_state=x&digest={d}")
        );
        assert_eq!(
            with_digest("/v2/a/blobs/uploads/u", &d),
            format!("/v2/a/blobs/uploads/u?digest={d}")
        );
    }
}
