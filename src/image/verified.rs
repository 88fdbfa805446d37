//! [`Verified`]: a blob reader checked against its digest as the bytes pass, so a source that
//! sends the wrong bytes fails at the end of its stream instead of finishing a write.
//! It only hashes what it reads; reading from an offset is the destination's to verify.

use super::BlobReader;
use crate::types::{Digest, DigestHasher};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

/// What a mismatch becomes: the error the reader ends with, after any bookkeeping.
pub type OnMismatch = Box<dyn FnOnce(&Digest) -> std::io::Error + Send>;

pub struct Verified {
    inner: BlobReader,
    hasher: Option<DigestHasher>,
    expected: Digest,
    on_mismatch: Option<OnMismatch>,
}

impl Verified {
    /// Reads `inner`, which must be the whole blob `expected` names, from byte 0.
    pub fn new(inner: BlobReader, expected: Digest) -> Verified {
        Verified {
            inner,
            hasher: Some(DigestHasher::new()),
            expected,
            on_mismatch: None,
        }
    }

    /// Ends a mismatching stream with `f`'s error rather than the plain one.
    pub fn on_mismatch(mut self, f: OnMismatch) -> Verified {
        self.on_mismatch = Some(f);
        self
    }
}

impl AsyncRead for Verified {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = poll {
            let read = &buf.filled()[before..];
            if !read.is_empty() {
                if let Some(hasher) = this.hasher.as_mut() {
                    hasher.update(read);
                }
                return poll;
            }
            let Some(hasher) = this.hasher.take() else {
                return poll;
            };
            let (actual, _) = hasher.finish();
            if actual != this.expected {
                return Poll::Ready(Err(match this.on_mismatch.take() {
                    Some(f) => f(&actual),
                    None => std::io::Error::other(format!(
                        "the source sent bytes whose digest is {actual}, not {}",
                        this.expected
                    )),
                }));
            }
        }
        poll
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn a_blob_is_checked_against_its_digest_as_it_streams() {
        let mut out = Vec::new();
        let mut good = Verified::new(Box::new(&b"layer"[..]), Digest::of(b"layer"));
        good.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, b"layer");

        let mut bad = Verified::new(Box::new(&b"tampered"[..]), Digest::of(b"layer"));
        let err = bad.read_to_end(&mut Vec::new()).await.unwrap_err();
        assert!(err.to_string().contains("not sha256:"), "{err}");

        let told = Verified::new(Box::new(&b"tampered"[..]), Digest::of(b"layer")).on_mismatch(
            Box::new(|actual| std::io::Error::other(format!("mirror sent {actual}"))),
        );
        let err = Box::pin(told)
            .read_to_end(&mut Vec::new())
            .await
            .unwrap_err();
        assert!(err.to_string().starts_with("mirror sent sha256:"), "{err}");
    }
}
