//! Protection as deployed: client addresses behind proxies, metric label sets, cursor and secret
//! hardening, threat counters, CSP reports and security headers.

use std::time::Duration;

use neoforge::security::RateQuota;
use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::json;

use crate::common::spawn_app_with;
use crate::rest::call;

fn per_minute(n: u32) -> RateQuota {
    RateQuota::per(n, Duration::from_secs(60))
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_budget() {
    let app = spawn_app_with(|s| {
        s.rate_limit_anonymous = per_minute(2);
        s.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let from =
        |xff: &'static str| call(&app, Method::GET, "/projects").header("x-forwarded-for", xff);
    for _ in 0..2 {
        assert_eq!(from("203.0.113.7").send().await.status, 200);
    }
    from("203.0.113.7").send().await.problem(429);
    // Another client behind the same proxy still has its budget; a forged left-most entry
    // does not move a client out of its own.
    assert_eq!(from("198.51.100.1").send().await.status, 200);
    from("198.51.100.9, 203.0.113.7").send().await.problem(429);
    // RFC 7239 `Forwarded` names the client too.
    let forwarded = call(&app, Method::GET, "/projects")
        .header("forwarded", "for=192.0.2.60;proto=https")
        .send()
        .await;
    assert_eq!(forwarded.status, 200);
    // IPv6 clients share their /64.
    for _ in 0..2 {
        let ok = from("2001:db8:5:6::1").send().await;
        assert_eq!(ok.status, 200);
    }
    from("2001:db8:5:6:ffff::2").send().await.problem(429);
    assert_eq!(from("2001:db8:5:7::1").send().await.status, 200);

    // Sessions and audit events record the client, not the proxy.
    app.register("ada@example.com", "correct horse battery", "Ada")
        .await;
    let login = call(&app, Method::POST, "/auth/login")
        .header("x-forwarded-for", "192.0.2.33")
        .json(json!({ "email": "ada@example.com", "password": "correct horse battery" }))
        .send()
        .await;
    assert_eq!(login.status, 200);
    let sessions = neoforge::entity::sessions::Entity::find()
        .all(app.services.db.conn())
        .await
        .unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].ip.as_deref(), Some("192.0.2.33"));
}

#[tokio::test]
async fn forwarding_headers_from_untrusted_peers_are_ignored() {
    let app = spawn_app_with(|s| s.rate_limit_anonymous = per_minute(2)).await;
    for xff in ["203.0.113.1", "203.0.113.2"] {
        let ok = call(&app, Method::GET, "/projects")
            .header("x-forwarded-for", xff)
            .send()
            .await;
        assert_eq!(ok.status, 200);
    }
    // A fresh forged address does not buy a fresh budget.
    call(&app, Method::GET, "/projects")
        .header("x-forwarded-for", "203.0.113.3")
        .header("forwarded", "for=203.0.113.4")
        .send()
        .await
        .problem(429);
}

/// The `http_requests_total` series in a Prometheus text.
fn http_series(metrics: &str) -> std::collections::BTreeSet<String> {
    metrics
        .lines()
        .filter(|l| l.starts_with("http_requests_total{"))
        .filter_map(|l| l.rsplit_once(' ').map(|(series, _)| series.to_owned()))
        .collect()
}

#[tokio::test]
async fn random_methods_and_paths_add_no_metric_series() {
    use rand::Rng;
    let app = spawn_app_with(|_| {}).await;
    let mut rng = rand::rng();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let word = |rng: &mut rand::rngs::ThreadRng, n: usize| -> String {
        (0..n)
            .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
            .collect()
    };
    // Warm up: every (method label, route, status) these requests can produce.
    for method in ["Q0", "GET", "POST"] {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        for path in ["/x0", "/api/v1/x0"] {
            let _ = app
                .client
                .request(method.clone(), app.url(path))
                .send()
                .await;
        }
    }
    let before = http_series(&app.metrics().await);
    let mut sent = Vec::new();
    for i in 0..1000 {
        let method = format!("Q{}", word(&mut rng, 6));
        let path = if i % 2 == 0 {
            format!("/{}", word(&mut rng, 10))
        } else {
            format!("/api/v1/{}", word(&mut rng, 10))
        };
        let res = app
            .client
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                app.url(&path),
            )
            .send()
            .await
            .unwrap();
        assert!(
            res.status().is_client_error(),
            "{method} {path}: {}",
            res.status()
        );
        sent.push((method, path));
    }
    let metrics = app.metrics().await;
    let after = http_series(&metrics);
    let new: Vec<_> = after
        .difference(&before)
        // Other tests share the process's recorder; only this test sends `_OTHER` methods.
        .filter(|s| s.contains("_OTHER"))
        .collect();
    assert!(new.is_empty(), "new series: {new:?}");
    for (method, path) in &sent {
        assert!(
            !metrics.contains(method.as_str()),
            "{method} became a label"
        );
        assert!(!metrics.contains(path.as_str()), "{path} became a label");
    }
    assert!(metrics.contains(r#"method="_OTHER""#));
    assert!(metrics.contains(r#"route="unmatched""#));
}

#[tokio::test]
async fn readiness_names_the_failing_dependency_without_driver_text() {
    let app = spawn_app_with(|_| {}).await;
    app.services.db.clone().close().await;
    let res = app
        .client
        .get(app.url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["dependency"], "database", "{body}");
    assert_eq!(body["reason"], "database unreachable", "{body}");
}

#[tokio::test]
async fn absurd_cursors_are_bad_input_on_every_backend() {
    use base64::Engine;
    let app = spawn_app_with(|_| {}).await;
    let token = app.user("cursor@example.com").await;
    let cursor = |k: serde_json::Value| {
        let data = json!({ "o": "created_at", "d": "Desc", "k": k, "i": uuid::Uuid::nil() });
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data.to_string())
    };
    for k in [
        json!("-5000-01-01T00:00:00Z"),
        json!("+200000-01-01T00:00:00Z"),
        json!(17),
        json!("a\u{0}b"),
    ] {
        let body = app
            .gql(
                "query($c: String) { projects(first: 2, after: $c) { totalCount } }",
                json!({ "c": cursor(k.clone()) }),
                Some(&token),
            )
            .await;
        assert_eq!(
            crate::common::error_code(&body),
            "BAD_USER_INPUT",
            "{k}: {body}"
        );
    }
}

/// The value of `threats_detected_total{kind}` (0 when absent).
fn threats(metrics: &str, kind: &str) -> u64 {
    let prefix = format!("threats_detected_total{{kind=\"{kind}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn rejected_requests_count_as_threats_by_kind() {
    let app = spawn_app_with(|s| s.graphql_max_depth = 3).await;
    let before = app.metrics().await;

    let oversize = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(vec![b' '; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(oversize.status(), 413);
    let malformed = app
        .client
        .post(app.url("/api/v1/projects"))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let deep = app
        .graphql(
            "{ viewer { id projects { edges { node { id } } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(deep.status(), 200);
    let bad_token = call(&app, Method::GET, "/auth/me")
        .token("not.a.token")
        .send()
        .await;
    bad_token.problem(401);

    let after = app.metrics().await;
    for kind in [
        "oversize_body",
        "malformed_json",
        "graphql_limit",
        "invalid_token",
    ] {
        assert!(
            threats(&after, kind) > threats(&before, kind),
            "{kind} not counted"
        );
    }
    // Every kind is a series from the start, and only the fixed kinds exist.
    for kind in [
        "repeated_login_failure",
        "csp_violation",
        "websocket_init_rejected",
    ] {
        assert!(after.contains(&format!("threats_detected_total{{kind=\"{kind}\"}}")));
    }
}

#[tokio::test]
async fn many_addresses_cannot_guess_one_accounts_password() {
    let app = spawn_app_with(|s| {
        s.rate_limit_account = per_minute(3);
        s.rate_limit_auth = per_minute(100);
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    app.register("grace@example.com", "correct horse battery", "Grace")
        .await;
    let login = |ip: String, email: &'static str, password: &'static str| {
        call(&app, Method::POST, "/auth/login")
            .header("x-forwarded-for", &ip)
            .json(json!({ "email": email, "password": password }))
    };
    // Three wrong guesses, each from a different address, with the email in any case.
    for (i, email) in [
        "grace@example.com",
        "GRACE@example.com",
        " grace@EXAMPLE.com",
    ]
    .into_iter()
    .enumerate()
    {
        login(format!("203.0.113.{i}"), email, "wrong password!")
            .send()
            .await
            .problem(401);
    }
    // The account's budget is spent: a fourth address is refused, even with the right password,
    // and the 429 says which budget and when to come back.
    let limited = login(
        "198.51.100.4".into(),
        "grace@example.com",
        "correct horse battery",
    )
    .send()
    .await;
    assert_eq!(limited.problem(429)["code"], "RATE_LIMITED");
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry), "Retry-After {retry}");
    assert_eq!(
        limited.header("ratelimit-policy"),
        Some(r#""account";q=3;w=60"#)
    );
    assert!(
        limited
            .header("ratelimit")
            .unwrap()
            .starts_with(r#""account";r=0;t="#)
    );
    // Other accounts are untouched; the refusal is a threat signal.
    app.register("heidi@example.com", "correct horse battery", "Heidi")
        .await;
    let ok = login(
        "198.51.100.4".into(),
        "heidi@example.com",
        "correct horse battery",
    )
    .send()
    .await;
    assert_eq!(ok.status, 200);
    assert!(threats(&app.metrics().await, "repeated_login_failure") >= 1);
}

#[tokio::test]
async fn every_429_carries_the_rate_limit_headers() {
    let app = spawn_app_with(|s| s.rate_limit_auth = per_minute(1)).await;
    app.register("ivan@example.com", "correct horse battery", "Ivan")
        .await;
    let limited = call(&app, Method::POST, "/auth/login")
        .json(json!({ "email": "ivan@example.com", "password": "correct horse battery" }))
        .send()
        .await;
    limited.problem(429);
    assert!(limited.header("retry-after").is_some());
    assert_eq!(
        limited.header("ratelimit-policy"),
        Some(r#""auth";q=1;w=60"#)
    );
    assert!(
        limited
            .header("ratelimit")
            .unwrap()
            .starts_with(r#""auth";r=0;t="#)
    );
}

#[tokio::test]
async fn csp_reports_are_validated_bounded_counted_and_budgeted() {
    let app = spawn_app_with(|s| s.rate_limit_csp = per_minute(5)).await;
    let post = |media: &'static str, body: Vec<u8>| {
        app.client
            .post(app.url("/api/v1/security/csp-report"))
            .header("content-type", media)
            .body(body)
            .send()
    };
    let before = threats(&app.metrics().await, "csp_violation");
    let legacy = json!({ "csp-report": {
        "document-uri": "https://app.example/x", "effective-directive": "script-src-elem",
        "blocked-uri": "https://evil.example/a.js" } });
    let res = post("application/csp-report", legacy.to_string().into_bytes())
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let modern = json!([{ "type": "csp-violation", "url": "https://app.example/",
        "body": { "effectiveDirective": "x-made-up-directive", "blockedURL": "inline" } }]);
    let res = post("application/reports+json", modern.to_string().into_bytes())
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let metrics = app.metrics().await;
    assert!(threats(&metrics, "csp_violation") >= before + 2);
    assert!(metrics.contains(r#"csp_reports_total{directive="script-src-elem"}"#));
    assert!(metrics.contains(r#"csp_reports_total{directive="other"}"#));
    assert!(!metrics.contains("x-made-up-directive"));

    // Garbage, the wrong media type and oversize bodies are refused.
    let garbage = post("application/csp-report", b"{not json".to_vec())
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    let wrong = post("text/plain", legacy.to_string().into_bytes())
        .await
        .unwrap();
    assert_eq!(wrong.status(), 415);
    let huge = post("application/csp-report", vec![b' '; 70 * 1024])
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);

    // Its own budget: spent here, while the API's is untouched.
    let limited = post("application/csp-report", legacy.to_string().into_bytes())
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    assert!(limited.headers().contains_key("ratelimit-policy"));
    assert_eq!(
        call(&app, Method::GET, "/projects").send().await.status,
        200
    );
}

#[tokio::test]
async fn report_only_policy_outside_production_and_hsts_in_production() {
    let dev = spawn_app_with(|_| {}).await;
    let res = dev
        .client
        .get(dev.url("/health/live"))
        .send()
        .await
        .unwrap();
    let h = res.headers();
    let csp = h["content-security-policy-report-only"].to_str().unwrap();
    assert!(
        csp.contains("report-uri /api/v1/security/csp-report"),
        "{csp}"
    );
    assert!(csp.contains("report-to csp-endpoint"), "{csp}");
    assert!(
        h["reporting-endpoints"]
            .to_str()
            .unwrap()
            .contains("/api/v1/security/csp-report")
    );
    assert!(
        h["report-to"]
            .to_str()
            .unwrap()
            .contains("\"group\":\"csp-endpoint\"")
    );
    assert!(!h.contains_key("strict-transport-security"));

    let prod = spawn_app_with(|s| {
        s.environment = neoforge::config::Environment::Production;
        s.jwt_secret = "a-production-secret-of-at-least-32-bytes".into();
        s.totp_key = "a-production-totp-key-of-at-least-32-bytes".into();
        s.smtp_url = Some("smtp://127.0.0.1:2525".into());
    })
    .await;
    let res = prod
        .client
        .get(prod.url("/api/v1/projects"))
        .send()
        .await
        .unwrap();
    let h = res.headers();
    assert!(
        h["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
    for name in [
        "content-security-policy-report-only",
        "reporting-endpoints",
        "report-to",
    ] {
        assert!(!h.contains_key(name), "{name} in production");
    }
}

/// `r` of a `RateLimit` header.
fn remaining(res: &reqwest::Response) -> u32 {
    let value = res.headers()["ratelimit"].to_str().unwrap();
    let r = value
        .split(";r=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap();
    r.parse().unwrap()
}

const HEAVY: &str = "{ projects(first: 100) { totalCount edges { cursor node { id name description visibility createdAt updatedAt version } } } }";

#[tokio::test]
async fn graphql_requests_pay_by_complexity() {
    let app = spawn_app_with(|s| s.rate_limit_anonymous = per_minute(60)).await;
    let first = app.graphql("{ __typename }", json!({}), None).await;
    assert_eq!(first.status(), 200);
    // The header is written at the door, before the operation's cost is known: each request
    // shows what the previous ones spent. A light query: one unit at the door, one for a
    // complexity under 100.
    let second = app.graphql("{ __typename }", json!({}), None).await;
    assert_eq!(remaining(&first) - remaining(&second), 2);
    let heavy = app.graphql(HEAVY, json!({}), None).await;
    assert_eq!(heavy.status(), 200);
    let after = app.graphql("{ __typename }", json!({}), None).await;
    let spent = remaining(&heavy) - remaining(&after) - 1;
    assert!(spent > 4, "a heavy query cost only {spent} units");

    let mut last = None;
    for _ in 0..60 {
        let res = app.graphql(HEAVY, json!({}), None).await;
        if res.status() == 429 {
            last = Some(res);
            break;
        }
    }
    let limited = last.expect("the heavy queries ran out of budget");
    assert!(limited.headers().contains_key("retry-after"));
    assert!(limited.headers().contains_key("ratelimit-policy"));
    let body: serde_json::Value = limited.json().await.unwrap();
    assert_eq!(crate::common::error_code(&body), "RATE_LIMITED", "{body}");
    assert!(body.get("data").is_none());
}

// ---------------------------------------------------------------------------------------------
// The WebSocket held to the HTTP rules

mod ws {
    use std::time::Duration;

    use futures::{SinkExt, StreamExt};
    use serde_json::{Value, json};
    use tokio::net::TcpStream;
    use tokio::time::{Instant, timeout};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

    use crate::common::TestApp;

    pub const WAIT: Duration = Duration::from_secs(10);

    pub struct Ws(pub WebSocketStream<MaybeTlsStream<TcpStream>>);

    pub enum Frame {
        Json(Value),
        Ping,
        Closed(Option<u16>),
    }

    impl Ws {
        pub async fn open(app: &TestApp) -> Self {
            let mut request = format!("ws://{}/graphql/ws", app.addr)
                .into_client_request()
                .unwrap();
            request.headers_mut().insert(
                "sec-websocket-protocol",
                "graphql-transport-ws".parse().unwrap(),
            );
            let (socket, _) = timeout(WAIT, tokio_tungstenite::connect_async(request))
                .await
                .unwrap()
                .unwrap();
            Self(socket)
        }

        pub async fn connect(app: &TestApp, payload: Value) -> Self {
            let mut ws = Self::open(app).await;
            ws.send(json!({ "type": "connection_init", "payload": payload }))
                .await;
            match ws.frame(WAIT).await {
                Some(Frame::Json(ack)) => assert_eq!(ack["type"], "connection_ack", "{ack}"),
                _ => panic!("no connection_ack"),
            }
            ws
        }

        pub async fn send(&mut self, message: Value) {
            self.0
                .send(Message::text(message.to_string()))
                .await
                .unwrap();
        }

        pub async fn op(&mut self, id: &str, query: &str) {
            self.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query } }))
                .await;
        }

        /// The next frame within `wait` (`None`: nothing came).
        pub async fn frame(&mut self, wait: Duration) -> Option<Frame> {
            match timeout(wait, self.0.next()).await.ok()? {
                Some(Ok(Message::Text(text))) => {
                    Some(Frame::Json(serde_json::from_str(&text).unwrap()))
                }
                Some(Ok(Message::Ping(_))) => Some(Frame::Ping),
                Some(Ok(Message::Close(frame))) => {
                    Some(Frame::Closed(frame.map(|f| f.code.into())))
                }
                Some(Ok(_)) => Some(Frame::Ping),
                Some(Err(_)) | None => Some(Frame::Closed(None)),
            }
        }

        /// The next JSON message (pings skipped); panics if the socket closes.
        pub async fn json(&mut self) -> Value {
            let deadline = Instant::now() + WAIT;
            loop {
                match self.frame(deadline - Instant::now()).await {
                    Some(Frame::Json(v)) => return v,
                    Some(Frame::Ping) => {}
                    Some(Frame::Closed(code)) => panic!("closed: {code:?}"),
                    None => panic!("no message"),
                }
            }
        }

        /// Waits for the close; its code.
        pub async fn closed(&mut self) -> Option<u16> {
            let deadline = Instant::now() + WAIT;
            loop {
                match self.frame(deadline - Instant::now()).await {
                    Some(Frame::Closed(code)) => return code,
                    Some(_) => {}
                    None => panic!("the socket stayed open"),
                }
            }
        }
    }
}

use ws::{Frame, Ws};

#[tokio::test]
async fn a_websocket_must_init_in_time() {
    let app = spawn_app_with(|s| s.ws_init_timeout = 1).await;
    let mut silent = Ws::open(&app).await;
    let started = std::time::Instant::now();
    assert_eq!(silent.closed().await, Some(4408));
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(threats(&app.metrics().await, "websocket_init_rejected") >= 1);
}

#[tokio::test]
async fn an_expired_token_ends_its_rights_on_the_socket() {
    let app = spawn_app_with(|_| {}).await;
    let body = app
        .register("judy@example.com", "correct horse battery", "Judy")
        .await;
    let id: uuid::Uuid = body["data"]["register"]["user"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // A real session (tokens of ended or unknown sessions are refused), and a token for it
    // that lives two seconds, signed with the app's secret.
    let login = app
        .gql(
            "mutation($i: LoginInput!) { login(input: $i) { sessionId } }",
            json!({ "i": { "email": "judy@example.com", "password": "correct horse battery" } }),
            None,
        )
        .await;
    let session: uuid::Uuid = login["data"]["login"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("{login}"))
        .parse()
        .unwrap();
    let keys =
        neoforge::auth::JwtKeys::new(app.settings.jwt_secret.as_bytes(), Duration::from_secs(2));
    let token = keys
        .issue(id, neoforge::entity::users::Role::User, session)
        .unwrap();
    let mut ws = Ws::connect(&app, json!({ "Authorization": format!("Bearer {token}") })).await;
    ws.op("q1", "{ viewer { email } }").await;
    let answer = ws.json().await;
    assert_eq!(
        answer["payload"]["data"]["viewer"]["email"], "judy@example.com",
        "{answer}"
    );
    let _complete = ws.json().await;
    // At expiry the server closes with 4403 and says why; nothing runs as Judy after it.
    assert_eq!(ws.closed().await, Some(4403));
}

#[tokio::test]
async fn a_websocket_operation_ends_at_the_request_timeout_and_changes_nothing() {
    let app = spawn_app_with(|s| s.request_timeout = 1).await;
    let token = app.user("olga@example.com").await;
    let created = crate::rest::create_project(&app, &token, "Slow", "private").await;
    let id = created.json()["id"].as_str().expect("id").to_owned();

    // The socket has no per-request HTTP deadline: only the operation's own bounds it.
    let held = app.hold_project(&id).await;
    let mut ws = Ws::connect(&app, json!({ "Authorization": format!("Bearer {token}") })).await;
    let started = std::time::Instant::now();
    ws.op(
        "m1",
        &format!(
            "mutation {{ updateProject(input: {{ id: \"{id}\", name: \"Renamed while locked\" }}) {{ project {{ version }} }} }}"
        ),
    )
    .await;
    let answer = ws.json().await;
    assert!(started.elapsed() < Duration::from_secs(5), "{answer}");
    assert_eq!(answer["id"], "m1", "{answer}");
    assert_eq!(
        answer["payload"]["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
        "{answer}"
    );
    held.rollback().await.expect("release");

    let after = app
        .gql(
            "query($id: ID!) { project(id: $id) { name version } }",
            json!({ "id": id }),
            Some(&token),
        )
        .await;
    assert_eq!(after["data"]["project"]["name"], "Slow", "{after}");
    assert_eq!(after["data"]["project"]["version"], 1, "{after}");
}

#[tokio::test]
async fn a_websocket_runs_a_bounded_number_of_operations() {
    let app = spawn_app_with(|s| s.ws_max_operations = 2).await;
    let mut ws = Ws::connect(&app, json!({})).await;
    let sub = "subscription { statusChanged { id } }";
    ws.op("s1", sub).await;
    ws.op("s2", sub).await;
    ws.op("s3", sub).await;
    let refused = ws.json().await;
    assert_eq!(refused["id"], "s3", "{refused}");
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "RATE_LIMITED");
    // Completing one makes room.
    ws.send(json!({ "id": "s1", "type": "complete" })).await;
    ws.op("q4", "{ __typename }").await;
    let mut answer = ws.json().await;
    if answer["id"] == "s1" {
        assert_eq!(answer["type"], "complete");
        answer = ws.json().await;
    }
    assert_eq!(answer["id"], "q4", "{answer}");
    assert_eq!(answer["type"], "next", "{answer}");
}

#[tokio::test]
async fn websocket_messages_are_capped_at_the_body_limit() {
    let app = spawn_app_with(|s| s.body_limit = 2048).await;
    let mut ws = Ws::connect(&app, json!({})).await;
    let padding = "x".repeat(8 * 1024);
    ws.op("big", &format!("{{ __typename }} # {padding}")).await;
    assert_eq!(ws.closed().await, Some(1009));
}

#[tokio::test]
async fn idle_websockets_are_pinged_then_dropped() {
    let app = spawn_app_with(|s| s.ws_ping_interval = 1).await;
    let mut ws = Ws::connect(&app, json!({})).await;
    // Not reading means not answering pings.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut pinged = false;
    let code = loop {
        match ws.frame(ws::WAIT).await {
            Some(Frame::Ping) => pinged = true,
            Some(Frame::Closed(code)) => break code,
            Some(Frame::Json(v)) => panic!("{v}"),
            None => panic!("still open"),
        }
    };
    assert!(pinged);
    assert_eq!(code, Some(1001));

    // A client that answers stays connected.
    let mut live = Ws::connect(&app, json!({})).await;
    let deadline = std::time::Instant::now() + Duration::from_millis(2500);
    while std::time::Instant::now() < deadline {
        if let Some(Frame::Closed(code)) = live.frame(Duration::from_millis(100)).await {
            panic!("an answering client was dropped: {code:?}");
        }
    }
}

#[tokio::test]
async fn websocket_operations_obey_the_budgets_and_limits() {
    let app = spawn_app_with(|s| {
        s.rate_limit_anonymous = per_minute(3);
        s.graphql_max_depth = 3;
    })
    .await;
    // The upgrade pays one unit at the door; each operation pays by its cost.
    let mut ws = Ws::connect(&app, json!({})).await;
    ws.op(
        "deep",
        "{ viewer { id projects { edges { node { id } } } } }",
    )
    .await;
    let deep = ws.json().await;
    assert_eq!(ws_code(&deep), "BAD_USER_INPUT", "{deep}");
    let _ = ws.json().await; // complete
    ws.op("q2", "{ __typename }").await;
    let ok = ws.json().await;
    assert_eq!(ok["type"], "next", "{ok}");
    let _ = ws.json().await; // complete
    ws.op("q3", "{ __typename }").await;
    let limited = ws.json().await;
    assert_eq!(ws_code(&limited), "RATE_LIMITED", "{limited}");
}

/// The error code of an operation's `error` or `next` message.
fn ws_code(message: &serde_json::Value) -> &str {
    let errors = if message["type"] == "error" {
        &message["payload"]
    } else {
        &message["payload"]["errors"]
    };
    errors[0]["extensions"]["code"].as_str().unwrap_or("<none>")
}
