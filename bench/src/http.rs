//! A minimal HTTP/1.1 client: one keep-alive connection per worker, so concurrency means open
//! connections exactly and the load generator spends as little CPU as possible per request.

use std::net::SocketAddr;

use anyhow::{Context, Result, anyhow};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

/// One request as the workloads describe it.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: Method,
    pub path: String,
    pub headers: Vec<(HeaderName, String)>,
    pub body: Option<Bytes>,
}

impl Req {
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn json(method: Method, path: impl Into<String>, body: &Value) -> Self {
        Self {
            method,
            path: path.into(),
            headers: vec![(http::header::CONTENT_TYPE, "application/json".into())],
            body: Some(Bytes::from(body.to_string())),
        }
    }

    pub fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        if token.is_empty() {
            return self;
        }
        self.header(http::header::AUTHORIZATION, format!("Bearer {token}"))
    }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> Result<Value> {
        serde_json::from_slice(&self.body).with_context(|| {
            format!(
                "status {}: body is not JSON: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON, failing unless the status is the expected one.
    pub fn expect(&self, status: u16) -> Result<Value> {
        if self.status.as_u16() != status {
            return Err(anyhow!(
                "expected {status}, got {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            ));
        }
        self.json()
    }
}

/// A keep-alive HTTP/1.1 connection that reconnects after an error.
pub struct Conn {
    addr: SocketAddr,
    host: HeaderValue,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Conn {
    pub fn new(addr: SocketAddr) -> Self {
        let host =
            HeaderValue::from_str(&addr.to_string()).expect("a socket address is a valid header");
        Self {
            addr,
            host,
            sender: None,
        }
    }

    async fn connect(&mut self) -> Result<&mut SendRequest<Full<Bytes>>> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            let stream = TcpStream::connect(self.addr)
                .await
                .with_context(|| format!("connect {}", self.addr))?;
            stream.set_nodelay(true)?;
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .context("HTTP/1.1 handshake")?;
            tokio::spawn(async move {
                // The connection ends when the server closes it or the sender is dropped; the
                // next request notices and reconnects.
                let _ = conn.await;
            });
            self.sender = Some(sender);
        }
        self.sender.as_mut().context("no connection")
    }

    pub async fn send(&mut self, req: &Req) -> Result<Resp> {
        let result = self.try_send(req).await;
        if result.is_err() {
            self.sender = None;
        }
        result
    }

    async fn try_send(&mut self, req: &Req) -> Result<Resp> {
        let host = self.host.clone();
        let sender = self.connect().await?;
        sender.ready().await.context("connection not ready")?;
        let mut builder = Request::builder()
            .method(req.method.clone())
            .uri(&req.path)
            .header(http::header::HOST, host);
        for (name, value) in &req.headers {
            builder = builder.header(name, value);
        }
        let request = builder
            .body(Full::new(req.body.clone().unwrap_or_default()))
            .context("build request")?;
        let response = sender
            .send_request(request)
            .await
            .with_context(|| format!("{} {}", req.method, req.path))?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.context("read body")?.to_bytes();
        Ok(Resp {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }
}
