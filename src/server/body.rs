//! A floor on request-body rate: a body that trickles in (a slow POST holding a connection and
//! a handler open) fails its read, and the request is answered 408 and the connection closed.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::response::Response;
use http::{HeaderValue, Version, header};
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use tokio::time::{Instant, Sleep};

use crate::error::ErrorCode;

/// How a request's body is read, shared by the body and whoever answers the request: whether
/// it arrived whole, and whether it was cut off for being too slow. Present in the request's
/// extensions when the request has a body.
#[derive(Clone, Debug, Default)]
pub struct BodyWatch(Arc<Flags>);

#[derive(Debug, Default)]
struct Flags {
    /// Someone has started reading the body.
    read: AtomicBool,
    complete: AtomicBool,
    too_slow: AtomicBool,
}

impl BodyWatch {
    /// The body was being read, and had not all arrived: the client is the one keeping the
    /// request waiting.
    pub fn is_awaited(&self) -> bool {
        self.0.read.load(Ordering::Relaxed) && !self.0.complete.load(Ordering::Relaxed)
    }

    pub fn was_too_slow(&self) -> bool {
        self.0.too_slow.load(Ordering::Relaxed)
    }
}

/// Body rate rules (from [`super::Transport`]).
#[derive(Clone, Copy, Debug)]
pub(super) struct BodyPolicy {
    /// Time allowed before the floor applies (the body's first bytes often follow the head).
    pub grace: Duration,
    /// Bytes per second, averaged from the request's start; 0: no floor.
    pub min_rate: u64,
}

/// A request body under [`BodyPolicy`]: having read `n` bytes, the next must arrive by
/// `start + grace + n / min_rate`.
pub(super) struct RatedBody {
    inner: Incoming,
    watch: BodyWatch,
    policy: BodyPolicy,
    start: Instant,
    received: u64,
    /// Created the first time the body has to wait for the client.
    timer: Option<Pin<Box<Sleep>>>,
}

#[derive(Debug, thiserror::Error)]
#[error("the request body arrived too slowly")]
pub struct BodyTooSlow;

impl RatedBody {
    pub(super) fn new(inner: Incoming, policy: BodyPolicy, watch: BodyWatch) -> Self {
        Self {
            inner,
            watch,
            policy,
            start: Instant::now(),
            received: 0,
            timer: None,
        }
    }

    fn deadline(&self) -> Instant {
        let earned_ms = self.received.saturating_mul(1000) / self.policy.min_rate.max(1);
        let allowed = self
            .policy
            .grace
            .saturating_add(Duration::from_millis(earned_ms));
        self.start
            .checked_add(allowed)
            .unwrap_or_else(|| self.start + Duration::from_secs(86_400 * 365))
    }

    fn finished(&self) {
        self.watch.0.complete.store(true, Ordering::Relaxed);
    }
}

impl Body for RatedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        this.watch.0.read.store(true, Ordering::Relaxed);
        if this.watch.was_too_slow() {
            return Poll::Ready(Some(Err(BodyTooSlow.into())));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                }
                if this.inner.is_end_stream() {
                    this.finished();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(None) => {
                this.finished();
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(err))) => Poll::Ready(Some(Err(err.into()))),
            Poll::Pending if this.policy.min_rate == 0 => Poll::Pending,
            Poll::Pending => {
                let deadline = this.deadline();
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if timer.deadline() != deadline {
                    timer.as_mut().reset(deadline);
                }
                std::task::ready!(timer.as_mut().poll(cx));
                this.watch.0.too_slow.store(true, Ordering::Relaxed);
                metrics::counter!("http_connections_timed_out_total", "phase" => "body")
                    .increment(1);
                Poll::Ready(Some(Err(BodyTooSlow.into())))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// 408 for a request whose body did not arrive in time (too slow, or not whole when the
/// request timeout struck); on HTTP/1 the connection closes after it, since the rest of the
/// body may still be on its way.
pub fn timeout_response(version: Version, path: &str) -> Response {
    let mut response = crate::http::problem::Problem::new(
        ErrorCode::RequestTimeout,
        "the request body arrived too slowly",
    )
    .render(path);
    if version <= Version::HTTP_11 {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
