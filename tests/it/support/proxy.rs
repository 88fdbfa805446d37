//! Fault-injecting HTTP/1.1 reverse proxy in front of a plain-HTTP registry.
//!
//! Requests are forwarded unchanged (Host included, so the registry builds
//! Location headers for the proxy); any Location that still names the
//! registry is rewritten to the proxy so clients stay on it. Bodies stream
//! through; nothing is buffered except in a request-cut fault.

use bytes::{Bytes, BytesMut};
use http_body_util::{combinators::BoxBody, BodyExt, Empty, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

/// A concrete error type keeps hyper's `Into<BoxError>` bounds simple.
type BoxError = std::io::Error;
pub type ProxyBody = BoxBody<Bytes, BoxError>;

pub use super::faults::{classify, Fault, Kind, Match};

mod trickle;
use trickle::TrickleBody;

#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Path and query.
    pub path: String,
    pub kind: Kind,
    /// 0 when the proxy cut the request before answering.
    pub status: u16,
    /// Name of the fault applied, if any.
    pub fault: Option<String>,
    /// The request's `Content-Range` header (chunked uploads).
    pub content_range: Option<String>,
    /// The request carried an `Authorization` header.
    pub authorized: bool,
}

#[derive(Default)]
struct State {
    /// Requests stalled by a hold fault so far.
    holds: usize,
    /// Bumped by [`Proxy::release_holds`]; a held response goes on once it changes.
    releases: usize,
    /// Held responses waiting for a release.
    held_bodies: Vec<std::task::Waker>,
    records: Vec<Recorded>,
    latency: Duration,
    /// Like nginx's `client_max_body_size`: larger request bodies are answered 413.
    body_limit: Option<u64>,
    /// Tag lists are paged here (see tag_pages.rs), as registries newer than 2.8 do.
    page_tags: bool,
    faults: Vec<(Match, Fault, usize)>,
    /// Requests of each kind being handled now (until their response headers), and the most
    /// ever at once.
    in_flight: std::collections::HashMap<Kind, (usize, usize)>,
}

pub struct Proxy {
    addr: SocketAddr,
    upstream: String,
    state: Arc<Mutex<State>>,
    held: Arc<Condvar>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    /// `upstream` is the registry's `host:port` (plain HTTP).
    pub fn start(upstream: &str) -> Proxy {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let addr = l.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let held = Arc::new(Condvar::new());
        let (tx, rx) = tokio::sync::oneshot::channel();
        let ctx = Arc::new(Ctx {
            upstream: upstream.to_string(),
            me: addr.to_string(),
            state: state.clone(),
            held: held.clone(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        });
        let thread = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(serve(l, ctx, rx));
        });
        Proxy {
            addr,
            upstream: upstream.to_string(),
            state,
            held,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// `127.0.0.1:PORT` of the proxy.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// All requests so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().records.clone()
    }
    pub fn count(&self, method: &str, kind: Kind) -> usize {
        let m = Match::method(method, kind);
        self.requests()
            .iter()
            .filter(|r| m.matches(&r.method, r.kind, &r.path, r.authorized))
            .count()
    }

    /// Blocks until a hold fault has stalled a request (the event, not a guess at timing);
    /// false after a minute, when the client never got there.
    pub fn wait_for_hold(&self) -> bool {
        let state = self.state.lock().unwrap();
        let (_state, timeout) = self
            .held
            .wait_timeout_while(state, Duration::from_secs(60), |s| s.holds == 0)
            .unwrap();
        !timeout.timed_out()
    }
    /// Lets every response body held so far by [`Fault::HoldResponseAfter`] go on to its end.
    pub fn release_holds(&self) {
        let mut state = self.state.lock().unwrap();
        state.releases += 1;
        for w in state.held_bodies.drain(..) {
            w.wake();
        }
    }

    pub fn clear(&self) {
        self.state.lock().unwrap().records.clear();
    }

    /// The most requests of `kind` the proxy was handling at once (up to their response
    /// headers): 1 means the client sent them one after another.
    pub fn max_in_flight(&self, kind: Kind) -> usize {
        let st = self.state.lock().unwrap();
        st.in_flight.get(&kind).map_or(0, |&(_, max)| max)
    }

    /// Delay added before forwarding and again before answering.
    pub fn set_latency(&self, d: Duration) {
        self.state.lock().unwrap().latency = d;
    }

    /// From now on, a request whose `Content-Length` is over `limit` is read and answered
    /// 413 without reaching the registry, as nginx does past its `client_max_body_size`.
    pub fn set_body_limit(&self, limit: u64) {
        self.state.lock().unwrap().body_limit = Some(limit);
    }

    /// From now on, tag lists honour `n` and `last` and link to their next page.
    pub fn page_tags(&self) {
        self.state.lock().unwrap().page_tags = true;
    }

    /// Applies `fault` to the next matching request.
    pub fn inject(&self, m: Match, fault: Fault) {
        self.inject_n(m, fault, 1);
    }
    /// Applies `fault` to the next `n` matching requests.
    pub fn inject_n(&self, m: Match, fault: Fault, n: usize) {
        self.state.lock().unwrap().faults.push((m, fault, n));
    }
    /// Faults not yet consumed (count of remaining applications).
    pub fn pending_faults(&self) -> usize {
        self.state.lock().unwrap().faults.iter().map(|f| f.2).sum()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Ctx {
    upstream: String,
    me: String,
    state: Arc<Mutex<State>>,
    held: Arc<Condvar>,
    client: Client<HttpConnector, ProxyBody>,
}

async fn serve(
    l: std::net::TcpListener,
    ctx: Arc<Ctx>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::from_std(l).unwrap();
    loop {
        tokio::select! {
            _ = &mut stop => return,
            acc = listener.accept() => {
                let Ok((stream, _)) = acc else { continue };
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let ctx = ctx.clone();
                        async move { handle(req, &ctx).await }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        }
    }
}

fn fault_name(f: &Fault) -> String {
    match f {
        Fault::CutResponseAfter(n) => format!("cut-response@{n}"),
        Fault::CutRequestAfter(n) => format!("cut-request@{n}"),
        Fault::FlipResponseByte(n) => format!("flip@{n}"),
        Fault::DropResponse => "drop-response".into(),
        Fault::Delay(d) => format!("delay {d:?}"),
        Fault::StatusAfter(d, status) => format!("status {status} after {d:?}"),
        Fault::HoldResponseAfter(n) => format!("hold-response@{n}"),
        Fault::HoldRequest => "hold-request".into(),
        Fault::Trickle(d) => format!("trickle {d:?}"),
        Fault::WrongRangeStart => "wrong-range-start".into(),
        Fault::Headers { .. } => "headers".into(),
        Fault::Status { status, .. } => format!("status {status}"),
    }
}

async fn handle(req: Request<Incoming>, ctx: &Ctx) -> Result<Response<ProxyBody>, BoxError> {
    let method = req.method().to_string();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_else(|| "/".into());
    let kind = classify(&path);
    let content_range = req
        .headers()
        .get("content-range")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let authorized = req.headers().contains_key("authorization");
    let content_length = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let _in_flight = InFlight::enter(&ctx.state, kind);
    let (latency, fault, idx) = {
        let mut st = ctx.state.lock().unwrap();
        let over_limit = st
            .body_limit
            .zip(content_length)
            .is_some_and(|(limit, len)| len > limit);
        let matching = st
            .faults
            .iter()
            .position(|(m, _, n)| *n > 0 && m.matches(&method, kind, &path, authorized));
        let fault = matching
            .filter(|&i| match &mut st.faults[i].0.skip {
                0 => true,
                skip => {
                    *skip -= 1;
                    false
                }
            })
            .map(|i| {
                st.faults[i].2 -= 1;
                let f = st.faults[i].1.clone();
                if st.faults[i].2 == 0 {
                    st.faults.remove(i);
                }
                f
            })
            .or(over_limit.then(|| Fault::status(413)));
        st.records.push(Recorded {
            method: method.clone(),
            path: path.clone(),
            kind,
            status: 0,
            fault: fault.as_ref().map(fault_name),
            content_range,
            authorized,
        });
        (st.latency, fault, st.records.len() - 1)
    };
    let set_status = |s: u16| ctx.state.lock().unwrap().records[idx].status = s;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let fault = match fault {
        Some(Fault::StatusAfter(after, status)) => {
            tokio::time::sleep(after).await;
            Some(Fault::status(status))
        }
        other => other,
    };

    if let Some(Fault::Status {
        status,
        headers,
        body,
    }) = &fault
    {
        // Drain the request so the connection stays usable.
        let _ = req.into_body().collect().await;
        let mut b = Response::builder().status(*status);
        for (k, v) in headers {
            b = b.header(k, v);
        }
        if !body.is_empty() {
            b = b.header("content-type", "application/json");
        }
        set_status(*status);
        let body = Full::new(Bytes::from(body.clone()))
            .map_err(|e| match e {})
            .boxed();
        return b.body(body).map_err(std::io::Error::other);
    }

    if let Some(Fault::HoldRequest) = fault {
        hold_notifier(ctx)();
        std::future::pending::<()>().await;
    }

    if let Some(Fault::CutRequestAfter(n)) = fault {
        let mut body = req.into_body();
        let mut seen = 0u64;
        while seen < n {
            match body.frame().await {
                Some(Ok(f)) => seen += f.data_ref().map_or(0, |d| d.len() as u64),
                _ => break,
            }
        }
        // An Err from the service makes hyper drop the connection.
        return Err(err("proxy: request cut by fault injection"));
    }

    let (mut parts, body) = req.into_parts();
    if let Some(Fault::WrongRangeStart) = fault {
        let start = parts
            .headers
            .get("range")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("bytes=")?
                    .strip_suffix('-')?
                    .parse::<u64>()
                    .ok()
            });
        if let Some(start) = start {
            let range = format!("bytes={}-", start / 2);
            parts
                .headers
                .insert("range", range.parse().map_err(std::io::Error::other)?);
        }
    }
    parts.uri = format!("http://{}{}", ctx.upstream, path)
        .parse()
        .map_err(std::io::Error::other)?;
    let upstream_req = Request::from_parts(parts, body.map_err(std::io::Error::other).boxed());
    let resp = match ctx.client.request(upstream_req).await {
        Ok(r) => r,
        Err(e) => {
            set_status(502);
            let body = Full::new(Bytes::from(format!("proxy upstream error: {e}")))
                .map_err(|e| match e {})
                .boxed();
            return Response::builder()
                .status(502)
                .body(body)
                .map_err(std::io::Error::other);
        }
    };
    let (mut parts, body) = resp.into_parts();
    if let Some(loc) = parts.headers.get("location").and_then(|v| v.to_str().ok()) {
        let from = format!("http://{}", ctx.upstream);
        if let Some(rest) = loc.strip_prefix(&from) {
            let new = format!("http://{}{}", ctx.me, rest);
            parts
                .headers
                .insert("location", new.parse().map_err(std::io::Error::other)?);
        }
    }
    set_status(parts.status.as_u16());
    if let Some(Fault::Headers { drop, set }) = &fault {
        for name in drop {
            parts.headers.remove(name.as_str());
        }
        for (name, value) in set {
            let name = hyper::header::HeaderName::from_bytes(name.as_bytes());
            let value = value.parse().map_err(std::io::Error::other)?;
            parts
                .headers
                .insert(name.map_err(std::io::Error::other)?, value);
        }
    }
    let page_tags = ctx.state.lock().unwrap().page_tags;
    if page_tags && kind == Kind::Tags && method == "GET" && parts.status == 200 {
        return super::tag_pages::respond(parts, body, &path).await;
    }
    match fault {
        Some(Fault::DropResponse) => return Err(err("proxy: response dropped by fault injection")),
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        _ => {}
    }
    let (cut_after, flip_at, hold_after) = match fault {
        Some(Fault::CutResponseAfter(n)) => (Some(n), None, None),
        Some(Fault::FlipResponseByte(n)) => (None, Some(n), None),
        Some(Fault::HoldResponseAfter(n)) => (None, None, Some(n)),
        _ => (None, None, None),
    };
    if let Some(Fault::Trickle(interval)) = fault {
        let body = TrickleBody::new(body, interval);
        return Ok(Response::from_parts(parts, body.boxed()));
    }
    let on_hold = hold_after.map(|_| hold_notifier(ctx));
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let body = FaultBody {
        state: ctx.state.clone(),
        releases: ctx.state.lock().unwrap().releases,
        held_rest: None,
        inner: body,
        seen: 0,
        cut_after,
        flip_at,
        cut: false,
        hold_after,
        on_hold,
    };
    Ok(Response::from_parts(parts, body.boxed()))
}

/// Streams a response body, optionally flipping one byte or failing after
/// a byte count (which makes hyper abort the client connection).
struct FaultBody {
    inner: Incoming,
    seen: u64,
    cut_after: Option<u64>,
    flip_at: Option<u64>,
    cut: bool,
    /// Stop sending after this many bytes, never finishing the body.
    hold_after: Option<u64>,
    on_hold: Option<HoldNotifier>,
    state: Arc<Mutex<State>>,
    /// [`State::releases`] when the response began: a release after that ends the hold.
    releases: usize,
    /// What the hold kept back of the frame it fell in, sent first on release.
    held_rest: Option<Bytes>,
}

type HoldNotifier = Box<dyn FnOnce() + Send + Sync>;

/// Counts a stalled request and wakes [`Proxy::wait_for_hold`].
fn hold_notifier(ctx: &Ctx) -> HoldNotifier {
    let (state, held) = (ctx.state.clone(), ctx.held.clone());
    Box::new(move || {
        state.lock().unwrap().holds += 1;
        held.notify_all();
    })
}

impl Body for FaultBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if this.cut || this.cut_after.is_some_and(|n| this.seen >= n) {
            return Poll::Ready(Some(Err(err("proxy: response cut by fault injection"))));
        }
        if this.hold_after.is_some_and(|n| this.seen >= n) {
            if let Some(notify) = this.on_hold.take() {
                notify();
            }
            let mut state = this.state.lock().unwrap();
            if state.releases == this.releases {
                // Woken only by a release: until then the body stays unfinished.
                state.held_bodies.push(cx.waker().clone());
                return Poll::Pending;
            }
            this.hold_after = None;
            if let Some(rest) = this.held_rest.take() {
                this.seen += rest.len() as u64;
                return Poll::Ready(Some(Ok(Frame::data(rest))));
            }
        }
        let frame = match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(std::io::Error::other(e)))),
            Poll::Ready(Some(Ok(f))) => f,
        };
        let mut data = match frame.into_data() {
            Ok(d) => d,
            Err(other) => return Poll::Ready(Some(Ok(other))),
        };
        let start = this.seen;
        let end = start + data.len() as u64;
        if let Some(at) = this.flip_at.filter(|&at| at >= start && at < end) {
            let mut m = BytesMut::from(&data[..]);
            m[(at - start) as usize] ^= 0xff;
            data = m.freeze();
            this.flip_at = None;
        }
        if let Some(n) = this.cut_after.filter(|&n| end > n) {
            data.truncate((n - start) as usize);
            this.cut = true;
        }
        if let Some(n) = this.hold_after.filter(|&n| end > n) {
            this.held_rest = Some(data.split_off((n - start) as usize));
        }
        this.seen += data.len() as u64;
        Poll::Ready(Some(Ok(Frame::data(data))))
    }
}

/// Counts one request in flight until dropped.
struct InFlight(Arc<Mutex<State>>, Kind);

impl InFlight {
    fn enter(state: &Arc<Mutex<State>>, kind: Kind) -> InFlight {
        let mut st = state.lock().unwrap();
        let (now, max) = st.in_flight.entry(kind).or_default();
        *now += 1;
        *max = (*max).max(*now);
        InFlight(state.clone(), kind)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some((now, _)) = self.0.lock().unwrap().in_flight.get_mut(&self.1) {
            *now -= 1;
        }
    }
}

fn err(msg: &str) -> BoxError {
    std::io::Error::other(msg.to_string())
}

/// Empty body helper for callers building requests by hand.
pub fn empty() -> ProxyBody {
    Empty::new().map_err(|e| match e {}).boxed()
}
