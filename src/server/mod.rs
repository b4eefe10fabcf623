//! Serving HTTP on the listener: the accept loop, connection caps, deadlines and HTTP/2.
//!
//! `axum::serve` sets no deadline before a request's head, no idle keep-alive limit and no
//! connection cap, so a few thousand silent sockets (slowloris) exhaust the descriptors. This
//! module serves the same axum router with hyper-util's auto builder (HTTP/1.1 and HTTP/2 with
//! prior knowledge on one port), and adds:
//! - a cap on open connections taken *before* `accept`, so at the cap the kernel's backlog
//!   holds new clients instead of the process failing `accept` in a tight loop;
//! - a per-address cap ([`limits`]);
//! - deadlines for a request's head and for idle keep-alive connections ([`conn`]);
//! - a floor on request-body rate ([`body`]).
//!
//! hyper's own `header_read_timeout` is not enough on its own: its timer starts whenever an
//! HTTP/1 connection goes idle, so it is the keep-alive limit too (10 s head and 75 s idle
//! cannot both hold); it closes without a 408; and the auto builder's protocol sniff runs
//! before it starts, so a connection that sends nothing is never timed out.

mod app;
pub mod body;
mod conn;
pub mod limits;

use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use app::{App, app};
pub use body::BodyWatch;
pub use limits::default_max_connections;

use crate::security::client_address::TrustedProxy;
use conn::{ConnService, Connection};
use limits::ConnectionLimits;

/// Connection limits and deadlines (see [`Transport::from_settings`]).
#[derive(Clone, Debug)]
pub struct Transport {
    pub header_timeout: Duration,
    pub keepalive_timeout: Duration,
    /// Bytes per second; 0 disables the floor.
    pub body_min_rate: u64,
    pub max_connections: usize,
    /// 0 disables the per-address cap.
    pub max_connections_per_ip: usize,
    pub http2_max_streams: u32,
    /// `NEOFORGE_TRUSTED_PROXIES`: peers exempt from the per-address cap.
    pub trusted_proxies: Arc<[TrustedProxy]>,
}

impl Transport {
    /// The limits and deadlines `NEOFORGE_*` configure for client connections.
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        Self {
            header_timeout: Duration::from_secs(settings.header_timeout),
            keepalive_timeout: Duration::from_secs(settings.keepalive_timeout),
            body_min_rate: settings.body_min_rate,
            max_connections: settings.max_connections.map_or_else(
                || default_max_connections(settings.db_max_connections),
                |n| n as usize,
            ),
            max_connections_per_ip: settings.max_connections_per_ip as usize,
            http2_max_streams: settings.http2_max_streams,
            trusted_proxies: settings.trusted_proxies.iter().copied().collect(),
        }
    }
}

/// Largest HTTP/2 header block accepted (hyper's default, stated: a bearer token and the usual
/// headers need a few KiB).
const HTTP2_MAX_HEADER_LIST: u32 = 16 * 1024;
/// How often at most the "connection cap reached" warning is logged.
const CAP_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Accepts and serves connections until `stop` is cancelled, then stops accepting, lets
/// in-flight requests finish (idle connections close at once) and returns when every
/// connection has closed. Upgraded connections (WebSockets) are not waited for: they end when
/// the caller's shutdown token closes the subscriptions.
pub async fn serve(
    listener: TcpListener,
    router: App,
    transport: Transport,
    stop: CancellationToken,
) {
    let limits = ConnectionLimits::new(
        transport.max_connections,
        transport.max_connections_per_ip,
        transport.trusted_proxies.clone(),
    );
    let builder = Arc::new(builder(&transport));
    let connections = TaskTracker::new();
    let mut cap_log = CapLog::default();
    tracing::info!(
        max_connections = transport.max_connections,
        max_connections_per_ip = transport.max_connections_per_ip,
        "accepting HTTP/1.1 and HTTP/2 (prior knowledge)"
    );
    loop {
        let slot = match limits.try_reserve() {
            Some(slot) => slot,
            None => {
                metrics::counter!("http_connection_cap_reached_total").increment(1);
                cap_log.reached(transport.max_connections);
                tokio::select! {
                    () = stop.cancelled() => break,
                    slot = limits.reserve() => match slot {
                        Some(slot) => slot,
                        None => break,
                    },
                }
            }
        };
        let (stream, peer) = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    accept_error(err, &stop).await;
                    continue;
                }
            },
        };
        let Some(slot) = limits.admit(slot, peer.ip()) else {
            metrics::counter!("http_connections_rejected_total", "reason" => "per_address")
                .increment(1);
            limits::refuse(&stream);
            continue;
        };
        let connection = Connection::new(stream, &transport, slot);
        let service = ConnService::new(router.clone(), peer, connection.shared(), &transport);
        connections.spawn(serve_connection(
            builder.clone(),
            connection,
            service,
            stop.clone(),
        ));
    }
    drop(listener);
    tracing::info!("shutting down: draining in-flight requests");
    connections.close();
    connections.wait().await;
}

fn builder(transport: &Transport) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // hyper's head timer, set later than any of ours, is only a backstop. What it buys: with
    // one set, hyper reads an HTTP/1 connection as soon as it goes idle (without, it waits for
    // the socket to become readable), and that read is what arms the idle deadline in `conn`.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(transport.header_timeout + transport.keepalive_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(transport.http2_max_streams)
        .max_header_list_size(HTTP2_MAX_HEADER_LIST)
        // hyper's defaults, stated: the CVE-2023-44487 (rapid reset) and CVE-2024-27316-style
        // guards against clients that make the server reset streams for them.
        .max_pending_accept_reset_streams(20)
        .max_local_error_reset_streams(1024);
    builder
}

async fn serve_connection(
    builder: Arc<auto::Builder<TokioExecutor>>,
    connection: Connection,
    service: ConnService,
    stop: CancellationToken,
) {
    let shared = connection.shared();
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(connection), service);
    let mut conn = std::pin::pin!(conn);
    let mut stopping = std::pin::pin!(stop.cancelled());
    let mut expiring = std::pin::pin!(shared.expired());
    let mut shutting_down = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(err) = result {
                    tracing::trace!(error = %err, "connection ended with an error");
                }
                break;
            }
            () = &mut stopping, if !shutting_down => {
                shutting_down = true;
                shared.drain();
                conn.as_mut().graceful_shutdown();
            }
            () = &mut expiring, if !shutting_down => {
                // An idle HTTP/2 connection: GOAWAY, then close once its streams are done.
                shutting_down = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// `accept` failed. Per-connection errors (the peer reset before we accepted) are routine;
/// anything else (e.g. out of descriptors despite the cap) is logged and retried after a
/// pause, so a persistent failure cannot spin the loop.
async fn accept_error(err: std::io::Error, stop: &CancellationToken) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        err.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    metrics::counter!("http_accept_errors_total").increment(1);
    tracing::error!(error = %err, "accept failed; retrying in 100 ms");
    tokio::select! {
        () = stop.cancelled() => {}
        () = tokio::time::sleep(Duration::from_millis(100)) => {}
    }
}

/// Rate-limits the "cap reached" warning: at most one line per [`CAP_LOG_INTERVAL`], counting
/// the times the cap was hit in between.
#[derive(Default)]
struct CapLog {
    last: Option<Instant>,
    suppressed: u64,
}

impl CapLog {
    fn reached(&mut self, cap: usize) {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < CAP_LOG_INTERVAL)
        {
            self.suppressed += 1;
            return;
        }
        tracing::warn!(
            max_connections = cap,
            times_since_last_warning = self.suppressed,
            "connection cap reached: not accepting until a connection closes (NEOFORGE_MAX_CONNECTIONS)"
        );
        self.last = Some(now);
        self.suppressed = 0;
    }
}
