//! A TCP proxy between the server and its database that a test can break: cut every connection
//! (RST) and refuse new ones, black-hole them (accept, never answer), slow them down, or restore
//! them. It stands in for a database restart, a network partition or a slow link without
//! touching the PostgreSQL other tests share.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Forward both ways.
    Pass,
    /// Reset every open connection and every new one (a restart, or a refused port).
    Cut,
    /// Accept, then never answer; open connections stall (a partition, a dead host).
    BlackHole,
    /// Forward, delaying each chunk by this much.
    Slow(Duration),
}

pub struct FaultProxy {
    pub addr: SocketAddr,
    mode: watch::Sender<Mode>,
    open: Arc<AtomicUsize>,
    accept: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        Self::start_on("127.0.0.1:0".parse().expect("addr"), upstream).await
    }

    /// Listens on `addr` (e.g. where a server expects a database that is not there yet).
    pub async fn start_on(addr: SocketAddr, upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind(addr).await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let (mode, watcher) = watch::channel(Mode::Pass);
        let open = Arc::new(AtomicUsize::new(0));
        let counter = open.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let watcher = watcher.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    relay(client, upstream, watcher).await;
                    counter.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Self {
            addr,
            mode,
            open,
            accept,
        }
    }

    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }

    /// Client connections currently open through the proxy.
    pub fn open_connections(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// `url` (a PostgreSQL URL) with its host and port replaced by the proxy's.
    pub fn url_for(&self, url: &str) -> String {
        with_host(url, self.addr)
    }
}

/// `url` with its host and port replaced by `addr` (user, password and database kept).
pub fn with_host(url: &str, addr: SocketAddr) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[scheme_end..];
    let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let userinfo = rest[..host_end].rfind('@').map_or("", |at| &rest[..=at]);
    format!(
        "{}{userinfo}{addr}{}",
        &url[..scheme_end],
        &rest[host_end..]
    )
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.set(Mode::Cut);
        self.accept.abort();
    }
}

/// Sends a TCP RST rather than a FIN, as a crashed or restarted peer would.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

async fn relay(mut client: TcpStream, upstream: SocketAddr, mut mode: watch::Receiver<Mode>) {
    let current = *mode.borrow_and_update();
    match current {
        Mode::Cut => return reset(client),
        Mode::BlackHole => {
            // Hold the socket silently until the fault ends, then drop it as a lost peer.
            let _ = mode.wait_for(|m| *m != Mode::BlackHole).await;
            return reset(client);
        }
        Mode::Pass | Mode::Slow(_) => {}
    }
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return reset(client);
    };
    let (mut up_buf, mut down_buf) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    loop {
        let delay = match *mode.borrow() {
            Mode::Slow(d) => d,
            _ => Duration::ZERO,
        };
        tokio::select! {
            read = client.read(&mut up_buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    tokio::time::sleep(delay).await;
                    if server.write_all(&up_buf[..n]).await.is_err() { break; }
                }
            },
            read = server.read(&mut down_buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    tokio::time::sleep(delay).await;
                    if client.write_all(&down_buf[..n]).await.is_err() { break; }
                }
            },
            changed = mode.changed() => {
                if changed.is_err() { break; }
            }
        }
        let now = *mode.borrow_and_update();
        match now {
            Mode::Cut => {
                reset(server);
                return reset(client);
            }
            Mode::BlackHole => {
                let _ = mode.wait_for(|m| *m != Mode::BlackHole).await;
                reset(server);
                return reset(client);
            }
            Mode::Pass | Mode::Slow(_) => {}
        }
    }
    let _ = client.shutdown().await;
    let _ = server.shutdown().await;
}
