//! Transport protection over real sockets: head and idle deadlines, the body rate floor,
//! connection caps, and HTTP/2 with prior knowledge beside HTTP/1.1.

use std::time::{Duration, Instant};

use futures::future::join_all;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{TestApp, spawn_app_with};

const HALF_SENT: &[u8] = b"GET /health/live HTTP/1.1\r\nHost: x\r\n";
const LIVE: &[u8] = b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n";

/// Everything the server sends until it closes the connection, or `None` if it is still open
/// after `wait`.
async fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    tokio::time::timeout(wait, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .ok()
    .map(|()| out)
}

/// Reads one HTTP/1.1 response with a `content-length` body; returns its head and body.
async fn read_response(stream: &mut TcpStream) -> (String, Vec<u8>) {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_string();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .unwrap_or(0);
            while data.len() < end + 4 + length {
                let n = stream.read(&mut buf).await.expect("read body");
                assert!(n > 0, "closed mid-body");
                data.extend_from_slice(&buf[..n]);
            }
            return (head, data[end + 4..end + 4 + length].to_vec());
        }
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("a response within 5 s")
            .expect("read head");
        assert!(n > 0, "closed before a response");
        data.extend_from_slice(&buf[..n]);
    }
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.addr).await.expect("connect")
}

/// `n` connections that have each been answered once and are kept alive.
async fn kept_alive(app: &TestApp, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::new();
    for _ in 0..n {
        let mut stream = connect(app).await;
        stream.write_all(LIVE).await.expect("write");
        let (head, _) = read_response(&mut stream).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        held.push(stream);
    }
    held
}

#[tokio::test]
async fn half_sent_requests_do_not_stop_others_and_are_dropped_at_the_header_deadline() {
    const SLOW: usize = 2_000;
    let app = spawn_app_with(|s| {
        s.header_timeout = 2;
        s.max_connections_per_ip = 0;
    })
    .await;

    let started = Instant::now();
    let mut slow = Vec::with_capacity(SLOW);
    for _ in 0..SLOW {
        let mut stream = connect(&app).await;
        stream.write_all(HALF_SENT).await.expect("write");
        slow.push(stream);
    }
    let mut silent = connect(&app).await;
    let opened = started.elapsed();

    let asked = Instant::now();
    let res = reqwest::Client::new()
        .get(app.url("/health/live"))
        .send()
        .await
        .expect("a real request");
    let answered = asked.elapsed();
    assert_eq!(res.status(), 200);
    assert!(
        answered < Duration::from_secs(1),
        "a real request waited {answered:?} behind {SLOW} half-sent ones"
    );

    // Each half-sent request is answered 408 and closed once its head is overdue.
    let closed = join_all(
        slow.iter_mut()
            .map(|stream| async { read_until_closed(stream, Duration::from_secs(6)).await }),
    )
    .await;
    let dropped_after = started.elapsed();
    for bytes in &closed {
        let bytes = bytes.as_ref().expect("closed within the header deadline");
        assert!(
            bytes.starts_with(b"HTTP/1.1 408 "),
            "{}",
            String::from_utf8_lossy(bytes)
        );
    }
    // A connection that never says anything is closed too, without a word.
    let said = read_until_closed(&mut silent, Duration::from_secs(3)).await;
    assert_eq!(said.as_deref(), Some(&[][..]));
    eprintln!(
        "{SLOW} half-sent connections opened in {opened:?}; a real request answered in \
         {answered:?}; all answered 408 and closed {dropped_after:?} after the first"
    );
}

#[tokio::test]
async fn an_idle_keepalive_connection_closes_after_the_idle_timeout() {
    let app = spawn_app_with(|s| {
        s.keepalive_timeout = 1;
        s.header_timeout = 5;
    })
    .await;
    let mut stream = connect(&app).await;
    stream.write_all(LIVE).await.expect("write");
    let (head, _) = read_response(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let idle = Instant::now();
    // Reused while within the limit.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stream.write_all(LIVE).await.expect("write");
    let (head, _) = read_response(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let idle_since = Instant::now();
    let rest = read_until_closed(&mut stream, Duration::from_secs(4)).await;
    assert_eq!(rest.as_deref(), Some(&[][..]), "closed without a word");
    let waited = idle_since.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(3),
        "closed after {waited:?} idle"
    );
    eprintln!(
        "idle keep-alive connection closed {waited:?} after its last response ({:?} in all)",
        idle.elapsed()
    );
}

/// Sends a POST /graphql head announcing `length` body bytes and `first` of them.
async fn start_post(app: &TestApp, length: usize, first: &[u8]) -> TcpStream {
    let mut stream = connect(app).await;
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n\
         content-length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(first).await.expect("write body");
    stream
}

fn assert_request_timeout(head: &str, body: &[u8]) {
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
    let problem: Value = serde_json::from_slice(body).expect("problem+json");
    assert_eq!(problem["code"], "REQUEST_TIMEOUT", "{problem}");
    assert_eq!(problem["instance"], "/graphql", "{problem}");
}

#[tokio::test]
async fn a_trickled_body_gets_408_and_the_connection_closes() {
    let app = spawn_app_with(|s| {
        s.header_timeout = 1;
        s.body_min_rate = 100;
    })
    .await;
    let body = json!({ "query": format!("{{ __typename }}{}", " ".repeat(400)) }).to_string();
    let mut stream = start_post(&app, body.len(), &body.as_bytes()[..10]).await;
    let started = Instant::now();
    let (mut reader, mut writer) = stream.split();
    let trickle = async {
        // One byte every 300 ms: about 3 B/s, far below the 100 B/s floor.
        for byte in &body.as_bytes()[10..] {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if writer.write_all(&[*byte]).await.is_err() {
                return;
            }
        }
    };
    let answer = async {
        let mut data = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_secs(5), reader.read(&mut buf)).await
        {
            if n == 0 {
                break;
            }
            data.extend_from_slice(&buf[..n]);
        }
        data
    };
    let data = tokio::select! {
        data = answer => data,
        () = trickle => panic!("the whole body was accepted at a trickle"),
    };
    let took = started.elapsed();
    let text = String::from_utf8_lossy(&data).to_string();
    let (head, body) = text.split_once("\r\n\r\n").expect("a response");
    assert_request_timeout(head, body.as_bytes());
    assert!(took < Duration::from_secs(3), "took {took:?}");
    eprintln!("trickled body answered 408 and closed after {took:?}");
}

#[tokio::test]
async fn a_body_unfinished_at_the_request_timeout_gets_408() {
    let app = spawn_app_with(|s| {
        s.request_timeout = 1;
        s.body_min_rate = 0;
    })
    .await;
    let mut stream = start_post(&app, 100, b"{\"query\":").await;
    let started = Instant::now();
    let data = read_until_closed(&mut stream, Duration::from_secs(5))
        .await
        .expect("closed after the 408");
    let text = String::from_utf8_lossy(&data).to_string();
    let (head, body) = text.split_once("\r\n\r\n").expect("a response");
    assert_request_timeout(head, body.as_bytes());
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn at_the_connection_cap_health_answers_once_a_connection_frees() {
    let app = spawn_app_with(|s| s.max_connections = Some(3)).await;
    let mut held = kept_alive(&app, 3).await;
    // The fourth waits in the kernel's backlog: connected, but not accepted or answered.
    let mut waiting = connect(&app).await;
    waiting.write_all(LIVE).await.expect("write");
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(500), waiting.read(&mut buf)).await;
    assert!(early.is_err(), "answered beyond the cap");

    drop(held.pop());
    let freed = Instant::now();
    let (head, _) = read_response(&mut waiting).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    eprintln!(
        "at the cap, a waiting request was answered {:?} after a connection closed",
        freed.elapsed()
    );
    drop(waiting);
    drop(held.pop());
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("http_connection_cap_reached_total"),
        "{metrics}"
    );
}

#[tokio::test]
async fn beyond_the_per_address_cap_a_connection_gets_503_and_is_closed() {
    let app = spawn_app_with(|s| s.max_connections_per_ip = 2).await;
    let mut held = kept_alive(&app, 2).await;
    let mut third = connect(&app).await;
    let said = read_until_closed(&mut third, Duration::from_secs(2))
        .await
        .expect("closed at once");
    assert!(
        said.starts_with(b"HTTP/1.1 503 "),
        "{}",
        String::from_utf8_lossy(&said)
    );
    drop(held.pop());
    // The slot frees when the server sees the close; allow it a moment.
    let mut answered = false;
    for _ in 0..20 {
        let mut stream = connect(&app).await;
        if stream.write_all(LIVE).await.is_ok() {
            let said = read_until_closed(&mut stream, Duration::from_millis(300)).await;
            if !said.is_some_and(|s| s.starts_with(b"HTTP/1.1 503 ")) {
                answered = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(answered, "a freed slot is usable again");
}

#[tokio::test]
async fn a_trusted_proxy_is_exempt_from_the_per_address_cap() {
    // A load balancer multiplexes many clients over its connections: capping it per address
    // would cap every client behind it together.
    let app = spawn_app_with(|s| {
        s.max_connections_per_ip = 2;
        s.trusted_proxies = vec!["127.0.0.0/8".parse().expect("cidr")];
    })
    .await;
    let mut held = kept_alive(&app, 6).await;
    // Every one of them is still open and served.
    for stream in &mut held {
        stream.write_all(LIVE).await.expect("write");
        let (head, _) = read_response(stream).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    }

    // A proxy trusted elsewhere does not exempt this peer: the cap holds for it.
    let app = spawn_app_with(|s| {
        s.max_connections_per_ip = 2;
        s.trusted_proxies = vec!["10.0.0.0/8".parse().expect("cidr")];
    })
    .await;
    let _held = kept_alive(&app, 2).await;
    let mut third = connect(&app).await;
    let said = read_until_closed(&mut third, Duration::from_secs(2))
        .await
        .expect("closed at once");
    assert!(
        said.starts_with(b"HTTP/1.1 503 "),
        "{}",
        String::from_utf8_lossy(&said)
    );
}

/// An HTTP/2 prior-knowledge client (hyper's own), speaking cleartext HTTP/2 from the first
/// byte as Envoy and service meshes do upstream.
struct H2 {
    sender: hyper::client::conn::http2::SendRequest<Full<Bytes>>,
    /// Ends when the server closes the connection.
    conn: tokio::task::JoinHandle<Result<(), hyper::Error>>,
}

impl H2 {
    async fn connect(app: &TestApp) -> Self {
        let io = TokioIo::new(connect(app).await);
        let (sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
            .await
            .expect("HTTP/2 handshake");
        let conn = tokio::spawn(conn);
        Self { sender, conn }
    }

    async fn send(&mut self, req: http::Request<Full<Bytes>>) -> (u16, Value) {
        let res = self
            .sender
            .send_request(req)
            .await
            .expect("HTTP/2 response");
        assert_eq!(res.version(), http::Version::HTTP_2);
        let status = res.status().as_u16();
        let body = res.into_body().collect().await.expect("body").to_bytes();
        (status, serde_json::from_slice(&body).expect("json"))
    }
}

#[tokio::test]
async fn http2_prior_knowledge_gets_the_same_answers_as_http1() {
    let app = spawn_app_with(|_| {}).await;
    let token = app.user("ada@example.com").await;
    let created: Value = app
        .client
        .post(app.url("/api/v1/projects"))
        .bearer_auth(&token)
        .json(&json!({ "name": "Over h2", "visibility": "public" }))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("created project");
    let id = created["id"].as_str().expect("id").to_owned();
    let query = json!({ "query": "{ projects(first: 5) { nodes { id name } } }" }).to_string();
    let rest_path = format!("/api/v1/projects/{id}");

    let mut h2 = H2::connect(&app).await;
    let gql_req = http::Request::post(app.url("/graphql"))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Full::new(Bytes::from(query.clone())))
        .expect("request");
    let rest_req = http::Request::get(app.url(&rest_path))
        .header("authorization", format!("Bearer {token}"))
        .body(Full::default())
        .expect("request");
    let (h2_gql, h2_rest) = (h2.send(gql_req).await, h2.send(rest_req).await);

    let h1_gql = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .bearer_auth(&token)
        .body(query)
        .send()
        .await
        .expect("HTTP/1.1 request");
    assert_eq!(h1_gql.version(), http::Version::HTTP_11);
    let h1_gql = (
        h1_gql.status().as_u16(),
        h1_gql.json::<Value>().await.unwrap(),
    );
    let h1_rest = app
        .client
        .get(app.url(&rest_path))
        .bearer_auth(&token)
        .send()
        .await
        .expect("HTTP/1.1 request");
    let h1_rest = (
        h1_rest.status().as_u16(),
        h1_rest.json::<Value>().await.unwrap(),
    );

    assert_eq!(h2_gql, h1_gql);
    assert_eq!(h2_gql.1["data"]["projects"]["nodes"][0]["name"], "Over h2");
    assert_eq!(h2_rest, h1_rest);
    assert_eq!(h2_rest.0, 200);
    assert_eq!(h2_rest.1["name"], "Over h2");
}

#[tokio::test]
async fn an_idle_http2_connection_is_closed_after_the_idle_timeout() {
    let app = spawn_app_with(|s| s.keepalive_timeout = 1).await;
    let mut h2 = H2::connect(&app).await;
    let req = http::Request::get(app.url("/health/live"))
        .body(Full::default())
        .expect("request");
    assert_eq!(h2.send(req).await.0, 200);
    let idle = Instant::now();
    let ended = tokio::time::timeout(Duration::from_secs(4), h2.conn).await;
    let ended = ended
        .expect("closed within the idle timeout")
        .expect("task");
    assert!(ended.is_ok(), "closed in good order (GOAWAY): {ended:?}");
    assert!(
        idle.elapsed() >= Duration::from_millis(900),
        "{:?}",
        idle.elapsed()
    );
}

#[tokio::test]
async fn stopping_closes_idle_and_half_open_connections_at_once_and_finishes_requests() {
    let app = spawn_app_with(|s| {
        s.keepalive_timeout = 60;
        s.header_timeout = 60;
    })
    .await;
    let mut idle = connect(&app).await;
    idle.write_all(LIVE).await.expect("write");
    read_response(&mut idle).await;
    let mut half_sent = connect(&app).await;
    half_sent.write_all(HALF_SENT).await.expect("write");
    let mut silent = connect(&app).await;
    let mut h2 = H2::connect(&app).await;
    let req = http::Request::get(app.url("/health/live"))
        .body(Full::default())
        .expect("request");
    assert_eq!(h2.send(req).await.0, 200);
    // A request whose body is still on its way when the stop arrives is answered.
    let body = json!({ "query": "{ __typename }" }).to_string();
    let (first, rest) = body.as_bytes().split_at(5);
    let mut in_flight = start_post(&app, body.len(), first).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    let stopping = Instant::now();
    let stop = tokio::spawn(app.stop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    in_flight.write_all(rest).await.expect("rest of the body");
    let (head, answer) = read_response(&mut in_flight).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(String::from_utf8_lossy(&answer).contains("Query"));

    for (name, stream) in [
        ("idle", &mut idle),
        ("half-sent", &mut half_sent),
        ("silent", &mut silent),
    ] {
        let closed = read_until_closed(stream, Duration::from_secs(2)).await;
        assert!(closed.is_some(), "{name} connection closed on stop");
    }
    let h2_closed = tokio::time::timeout(Duration::from_secs(2), h2.conn).await;
    assert!(h2_closed.is_ok(), "HTTP/2 connection closed on stop");
    stop.await.expect("task").expect("clean stop");
    let took = stopping.elapsed();
    assert!(took < Duration::from_secs(3), "stop took {took:?}");
}
