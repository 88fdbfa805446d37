//! The proxy's trickle fault: a response body sent one byte per interval, so a client's
//! whole-request deadline (not its idle timeout) is what ends it.

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

type BoxError = std::io::Error;

/// Sends a response body one byte per interval.
pub(super) struct TrickleBody {
    inner: Incoming,
    pending: Bytes,
    interval: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl TrickleBody {
    pub(super) fn new(inner: Incoming, interval: Duration) -> TrickleBody {
        TrickleBody {
            inner,
            pending: Bytes::new(),
            interval,
            sleep: Box::pin(tokio::time::sleep(interval)),
        }
    }
}

impl Body for TrickleBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        while this.pending.is_empty() {
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(e))) => {
                    return Poll::Ready(Some(Err(std::io::Error::other(e))))
                }
                Poll::Ready(Some(Ok(f))) => match f.into_data() {
                    Ok(d) => this.pending = d,
                    Err(other) => return Poll::Ready(Some(Ok(other))),
                },
            }
        }
        if this.sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let next = tokio::time::Instant::now() + this.interval;
        this.sleep.as_mut().reset(next);
        Poll::Ready(Some(Ok(Frame::data(this.pending.split_to(1)))))
    }
}
