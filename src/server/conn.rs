//! One client connection: its socket, wrapped to enforce the head and idle deadlines, and the
//! service that hands its requests to the router.
//!
//! The deadlines live in the socket wrapper because that is the one place that sees every
//! phase: the auto builder's protocol sniff, an HTTP/1 head arriving byte by byte, and the idle
//! time between requests. hyper polls the socket for reading whenever it waits for the client,
//! so a timer polled there fires exactly when the client is the one keeping us waiting.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::response::Response;
use http::{Request, StatusCode};
use hyper::body::Incoming;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use super::Transport;
use super::body::{BodyPolicy, BodyWatch, RatedBody, timeout_response};
use super::limits::Slot;

/// How long a stopping server waits for a request head that has started to arrive.
const DRAIN_GRACE: Duration = Duration::from_millis(500);

/// The HTTP/2 connection preface a prior-knowledge client opens with.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Written, best effort, to a client whose request head did not arrive in time.
static HEAD_TIMEOUT_RESPONSE: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let body = r#"{"type":"about:blank","title":"Request Timeout","status":408,"detail":"the request head did not arrive in time","code":"REQUEST_TIMEOUT"}"#;
    format!(
        "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/problem+json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
});

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    /// Not known yet: this many bytes matched the HTTP/2 preface so far.
    Sniffing(usize),
    Http1,
    Http2,
    /// Switched to another protocol (WebSocket), which keeps its own deadlines.
    Upgraded,
}

/// What happens when the current deadline passes.
#[derive(Clone, Copy, Debug)]
enum Expiry {
    /// Part of a request head arrived, not all of it: 408, then close.
    Head,
    /// Nothing is owed to the client: the socket reads as closed and hyper closes it.
    Close,
    /// An idle HTTP/2 connection: GOAWAY first, so the client opens a new one in good order.
    GoAway,
}

#[derive(Debug)]
struct State {
    protocol: Protocol,
    in_flight: usize,
    served: u64,
    /// When the current wait began: the accept, the end of the last request, or (HTTP/1) the
    /// first byte of the next head.
    since: Instant,
    /// HTTP/1: bytes of the awaited head have arrived.
    head_started: bool,
    going_away: bool,
    /// The server is stopping since this instant.
    draining: Option<Instant>,
}

/// A connection's state, shared by its socket wrapper and its service.
#[derive(Debug)]
pub(super) struct Shared {
    header_timeout: Duration,
    keepalive_timeout: Duration,
    state: Mutex<State>,
    /// Wakes the connection task to start a graceful shutdown.
    expired: Notify,
}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn bytes_arrived(&self, bytes: &[u8]) {
        let mut state = self.state();
        if let Protocol::Sniffing(matched) = state.protocol {
            let n = bytes.len().min(H2_PREFACE.len() - matched);
            state.protocol = if bytes[..n] != H2_PREFACE[matched..matched + n] {
                Protocol::Http1
            } else if matched + n == H2_PREFACE.len() {
                Protocol::Http2
            } else {
                Protocol::Sniffing(matched + n)
            };
            // The first request's head is due `header_timeout` after the accept.
            state.head_started = state.protocol != Protocol::Http2;
            return;
        }
        if state.protocol == Protocol::Http1 && state.in_flight == 0 && !state.head_started {
            state.head_started = true;
            state.since = Instant::now();
        }
    }

    fn begin_request(&self) {
        let mut state = self.state();
        state.in_flight += 1;
        state.served += 1;
        state.head_started = false;
    }

    fn end_request(&self) {
        let mut state = self.state();
        state.in_flight = state.in_flight.saturating_sub(1);
        if state.in_flight == 0 {
            state.since = Instant::now();
        }
    }

    fn upgraded(&self) {
        self.state().protocol = Protocol::Upgraded;
    }

    fn deadline(&self) -> Option<(Instant, Expiry)> {
        let state = self.state();
        if state.in_flight > 0 {
            // The request timeout and the body rate floor govern a request in progress.
            return None;
        }
        if state.protocol == Protocol::Upgraded {
            return None;
        }
        if let Some(since) = state.draining {
            return Some((since + DRAIN_GRACE, Expiry::Close));
        }
        let first = state.served == 0;
        match state.protocol {
            Protocol::Upgraded => None,
            Protocol::Http2 if state.going_away => {
                Some((state.since + self.header_timeout, Expiry::Close))
            }
            Protocol::Http2 => {
                let wait = if first {
                    self.header_timeout
                } else {
                    self.keepalive_timeout
                };
                Some((state.since + wait, Expiry::GoAway))
            }
            Protocol::Sniffing(_) | Protocol::Http1 if state.head_started || first => {
                let expiry = if state.head_started {
                    Expiry::Head
                } else {
                    Expiry::Close
                };
                Some((state.since + self.header_timeout, expiry))
            }
            Protocol::Sniffing(_) | Protocol::Http1 => {
                Some((state.since + self.keepalive_timeout, Expiry::Close))
            }
        }
    }

    /// The server is stopping: a request head still arriving gets [`DRAIN_GRACE`] to finish,
    /// not the whole header timeout. (hyper closes idle connections itself, but waits for a
    /// connection's first request as if it were in flight.)
    pub(super) fn drain(&self) {
        self.state().draining = Some(Instant::now());
    }

    /// Resolves when the connection, idle too long, should shut down gracefully.
    pub(super) async fn expired(&self) {
        self.expired.notified().await;
    }

    fn go_away(&self) {
        let mut state = self.state();
        state.going_away = true;
        state.since = Instant::now();
    }
}

/// A client socket with its deadlines and its places under the connection caps.
pub(super) struct Connection {
    stream: TcpStream,
    shared: Arc<Shared>,
    timer: Pin<Box<Sleep>>,
    timed_out: bool,
    _slot: Slot,
}

impl Connection {
    pub(super) fn new(stream: TcpStream, transport: &Transport, slot: Slot) -> Self {
        let now = Instant::now();
        Self {
            stream,
            shared: Arc::new(Shared {
                header_timeout: transport.header_timeout,
                keepalive_timeout: transport.keepalive_timeout,
                state: Mutex::new(State {
                    protocol: Protocol::Sniffing(0),
                    in_flight: 0,
                    served: 0,
                    since: now,
                    head_started: false,
                    going_away: false,
                    draining: None,
                }),
                expired: Notify::new(),
            }),
            timer: Box::pin(tokio::time::sleep_until(now + transport.header_timeout)),
            timed_out: false,
            _slot: slot,
        }
    }

    pub(super) fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// The client is keeping us waiting: act on the deadline, if it has passed.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let Some((deadline, expiry)) = self.shared.deadline() else {
                return Poll::Pending;
            };
            if self.timer.deadline() != deadline {
                self.timer.as_mut().reset(deadline);
            }
            std::task::ready!(self.timer.as_mut().poll(cx));
            match expiry {
                Expiry::Close => {
                    count_timeout("idle");
                    return Poll::Ready(Ok(()));
                }
                Expiry::Head => {
                    count_timeout("head");
                    self.timed_out = true;
                    // Best effort: a client that is not reading gets no more of our time.
                    let _ = Pin::new(&mut self.stream).poll_write(cx, &HEAD_TIMEOUT_RESPONSE);
                    let _ = Pin::new(&mut self.stream).poll_shutdown(cx);
                    return Poll::Ready(Err(head_timeout()));
                }
                Expiry::GoAway => {
                    self.shared.go_away();
                    self.shared.expired.notify_one();
                }
            }
        }
    }
}

fn head_timeout() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "request head timed out")
}

fn count_timeout(phase: &'static str) {
    metrics::counter!("http_connections_timed_out_total", "phase" => phase).increment(1);
}

impl AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.timed_out {
            return Poll::Ready(Err(head_timeout()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let read = &buf.filled()[before..];
                if !read.is_empty() {
                    this.shared.bytes_arrived(read);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => this.poll_deadline(cx),
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// Hands a connection's requests to the router, with the peer address (`ConnectInfo`) and the
/// body rate floor, and keeps the connection's in-flight count.
#[derive(Clone)]
pub(super) struct ConnService {
    router: super::App,
    peer: SocketAddr,
    shared: Arc<Shared>,
    body: BodyPolicy,
}

impl ConnService {
    pub(super) fn new(
        router: super::App,
        peer: SocketAddr,
        shared: Arc<Shared>,
        transport: &Transport,
    ) -> Self {
        Self {
            router,
            peer,
            shared,
            body: BodyPolicy {
                grace: transport.header_timeout,
                min_rate: transport.body_min_rate,
            },
        }
    }
}

/// A request in progress; dropping it (answered, or abandoned by the client) ends it.
struct InFlight(Arc<Shared>);

impl InFlight {
    fn begin(shared: Arc<Shared>) -> Self {
        shared.begin_request();
        Self(shared)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.end_request();
    }
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send + 'static>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let in_flight = InFlight::begin(self.shared.clone());
        let (mut parts, body) = req.into_parts();
        parts.extensions.insert(ConnectInfo(self.peer));
        let watch = if hyper::body::Body::is_end_stream(&body) {
            None
        } else {
            Some(BodyWatch::default())
        };
        let body = match &watch {
            None => axum::body::Body::new(body),
            Some(watch) => {
                parts.extensions.insert(watch.clone());
                axum::body::Body::new(RatedBody::new(body, self.body, watch.clone()))
            }
        };
        let version = parts.version;
        let uri = watch.as_ref().map(|_| parts.uri.clone());
        let response = self
            .router
            .clone()
            .oneshot(Request::from_parts(parts, body));
        Box::pin(async move {
            let mut response = match response.await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            if watch.as_ref().is_some_and(BodyWatch::was_too_slow) {
                let path = uri.as_ref().map_or("", http::Uri::path);
                response = timeout_response(version, path);
            }
            if response.status() == StatusCode::SWITCHING_PROTOCOLS {
                in_flight.0.upgraded();
            }
            drop(in_flight);
            Ok(response)
        })
    }
}
