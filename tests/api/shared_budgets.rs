//! Budgets shared by replicas through Redis: two server processes on one database and one Redis
//! draw from one budget; when Redis stops answering, a server keeps serving on its own buckets (the
//! sign-in tier resuming from what it had seen) and shares again once Redis is back.
//!
//! These tests need a Redis (`TEST_REDIS_URL`, default `redis://127.0.0.1:6379`). Each writes
//! under a prefix of its own and deletes its keys at the end (a failed run's keys expire within
//! their window, an hour at most); without a Redis they say so and pass without checking.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use neoforge::security::RateQuota;
use redis::AsyncCommands;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::fault::{FaultProxy, Mode};
use crate::common::process::ServerProcess;
use crate::common::{TestDatabase, spawn_app_with};

const DEFAULT_REDIS: &str = "redis://127.0.0.1:6379";

fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_REDIS.to_owned())
}

/// A connection to the test Redis, or `None` (and a line saying the test is skipped).
async fn redis() -> Option<redis::aio::MultiplexedConnection> {
    let url = redis_url();
    let connect = async {
        redis::Client::open(url.as_str())?
            .get_multiplexed_async_connection()
            .await
    };
    match tokio::time::timeout(Duration::from_secs(2), connect).await {
        Ok(Ok(conn)) => Some(conn),
        Ok(Err(err)) => {
            eprintln!("SKIPPED: no Redis at {url} ({err}); set TEST_REDIS_URL to run this test");
            None
        }
        Err(_) => {
            eprintln!(
                "SKIPPED: no answer from Redis at {url}; set TEST_REDIS_URL to run this test"
            );
            None
        }
    }
}

/// Where the test Redis listens (for a fault proxy in front of it).
async fn redis_addr() -> SocketAddr {
    let client = redis::Client::open(redis_url()).expect("redis url");
    let addr = client.get_connection_info().addr().to_string();
    tokio::net::lookup_host(addr)
        .await
        .expect("resolve redis")
        .next()
        .expect("an address")
}

/// A key prefix no other test (or run) uses.
fn unique_prefix() -> String {
    format!("neoforge-test:{}:", uuid::Uuid::new_v4().simple())
}

/// The test's keys, with their time to live in milliseconds.
async fn keys(redis: &mut redis::aio::MultiplexedConnection, prefix: &str) -> Vec<(String, i64)> {
    let names: Vec<String> = redis.keys(format!("{prefix}*")).await.expect("KEYS");
    let mut keys = Vec::new();
    for name in names {
        let ttl: i64 = redis.pttl(&name).await.expect("PTTL");
        keys.push((name.trim_start_matches(prefix).to_owned(), ttl));
    }
    keys.sort();
    keys
}

async fn forget(redis: &mut redis::aio::MultiplexedConnection, prefix: &str) {
    let names: Vec<String> = redis.keys(format!("{prefix}*")).await.unwrap_or_default();
    if !names.is_empty() {
        let _: Result<i64, _> = redis.del(names).await;
    }
}

/// `r` of a `RateLimit` header (`"anonymous";r=997;t=11`).
fn remaining(headers: &reqwest::header::HeaderMap) -> u32 {
    let value = headers
        .get("ratelimit")
        .and_then(|v| v.to_str().ok())
        .expect("a RateLimit header");
    value
        .split(';')
        .find_map(|p| p.strip_prefix("r="))
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("no r= in {value}"))
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
}

async fn login(client: &reqwest::Client, base: &str, email: &str) -> Answer {
    let res = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": "not the password" }))
        .send()
        .await
        .expect("login");
    Answer {
        status: res.status(),
        headers: res.headers().clone(),
    }
}

async fn typename(client: &reqwest::Client, base: &str) -> Answer {
    let res = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("graphql");
    let status = res.status();
    let headers = res.headers().clone();
    let body: Value = res.json().await.expect("json");
    assert!(body["data"]["__typename"].is_string(), "{body}");
    Answer { status, headers }
}

fn header<'a>(answer: &'a Answer, name: &str) -> &'a str {
    answer
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn two_replicas_share_one_budget_through_redis() {
    let Some(mut redis) = redis().await else {
        return;
    };
    let prefix = unique_prefix();
    let db = TestDatabase::create().await;
    let url = redis_url();
    // Hourly quotas: nothing refills noticeably while the test runs, however slow the machine.
    let env = [
        ("REDIS_URL", url.as_str()),
        ("NEOFORGE_REDIS_KEY_PREFIX", prefix.as_str()),
        ("NEOFORGE_REDIS_TIMEOUT_MS", "5000"),
        ("NEOFORGE_RATE_LIMIT_ANONYMOUS", "1000/h"),
        ("NEOFORGE_RATE_LIMIT_AUTH", "10/h"),
        ("NEOFORGE_RATE_LIMIT_ACCOUNT", "3/h"),
        ("NEOFORGE_RATE_LIMIT_CSP", "15/h"),
    ];
    let a = ServerProcess::start_with(&db.url, &env).await;
    let b = ServerProcess::start_with(&db.url, &env).await;
    let replicas = [a.url(""), b.url("")];
    let client = reqwest::Client::new();

    // Requests: each replica's answer counts down from where the other left off.
    let mut left = Vec::new();
    for base in [&replicas[0], &replicas[1], &replicas[0], &replicas[1]] {
        let answer = typename(&client, base).await;
        assert_eq!(answer.status, 200);
        left.push(remaining(&answer.headers));
    }
    assert!(
        left.windows(2).all(|w| w[1] < w[0]),
        "one anonymous budget across both replicas: {left:?}"
    );

    // The account budget (3 failures an hour): spent alternately, refused by either replica.
    for base in [&replicas[0], &replicas[1], &replicas[0]] {
        assert_eq!(login(&client, base, "victim@example.com").await.status, 401);
    }
    let refused = login(&client, &replicas[1], "victim@example.com").await;
    assert_eq!(refused.status, 429);
    assert_eq!(
        header(&refused, "ratelimit-policy"),
        r#""account";q=3;w=3600"#
    );
    assert!(header(&refused, "ratelimit").starts_with(r#""account";r=0;t="#));
    assert!(header(&refused, "retry-after").parse::<u64>().unwrap() >= 1);

    // The sign-in budget per address (10 an hour; 4 spent above): six more attempts on
    // other accounts, alternating, and the 11th attempt is refused whichever replica gets it.
    for i in 0..6 {
        let base = &replicas[i % 2];
        let answer = login(&client, base, &format!("guess{i}@example.com")).await;
        assert_eq!(answer.status, 401, "attempt {} of 10", i + 5);
    }
    for base in &replicas {
        let refused = login(&client, base, "someone@example.com").await;
        assert_eq!(refused.status, 429);
        assert_eq!(
            header(&refused, "ratelimit-policy"),
            r#""auth";q=10;w=3600"#
        );
        assert!(header(&refused, "ratelimit").starts_with(r#""auth";r=0;t="#));
        assert!(header(&refused, "retry-after").parse::<u64>().unwrap() >= 60);
    }

    // At once: 40 CSP reports, half to each replica, against a budget of 15. Exactly 15 get
    // through however they interleave: each draw is one atomic script run.
    let report = json!({ "csp-report": {
        "document-uri": "https://app.example/x", "effective-directive": "script-src-elem",
        "blocked-uri": "https://evil.example/a.js" } })
    .to_string();
    let sends = (0..40).map(|i| {
        client
            .post(format!("{}/api/v1/security/csp-report", replicas[i % 2]))
            .header("content-type", "application/csp-report")
            .body(report.clone())
            .send()
    });
    let statuses: Vec<u16> = futures::future::join_all(sends)
        .await
        .into_iter()
        .map(|res| res.expect("report").status().as_u16())
        .collect();
    let count = |code: u16| statuses.iter().filter(|s| **s == code).count();
    assert_eq!((count(204), count(429)), (15, 25), "{statuses:?}");

    // What Redis holds: one key per tier and client, under the prefix, each expiring.
    let held = keys(&mut redis, &prefix).await;
    let names: Vec<&str> = held.iter().map(|(k, _)| k.as_str()).collect();
    assert!(names.contains(&"anonymous:127.0.0.1"), "{names:?}");
    assert!(names.contains(&"auth:127.0.0.1"), "{names:?}");
    assert!(names.contains(&"csp:127.0.0.1"), "{names:?}");
    assert!(names.iter().any(|k| k.starts_with("account:")), "{names:?}");
    assert!(
        held.iter().all(|(_, ttl)| (1..=3_600_000).contains(ttl)),
        "every key expires within its window: {held:?}"
    );
    drop((a, b));
    forget(&mut redis, &prefix).await;
}

#[tokio::test]
async fn without_redis_the_server_serves_on_its_own_buckets_and_shares_again_after() {
    let Some(mut redis) = redis().await else {
        return;
    };
    let proxy = FaultProxy::start(redis_addr().await).await;
    let prefix = unique_prefix();
    let app = spawn_app_with(|s| {
        s.redis_url = Some(format!("redis://{}", proxy.addr));
        s.redis_key_prefix = prefix.clone();
        s.redis_timeout_ms = 300;
        s.rate_limit_anonymous = RateQuota::per(1000, Duration::from_secs(3600));
        s.rate_limit_auth = RateQuota::per(3, Duration::from_secs(3600));
    })
    .await;
    let base = app.url("");
    let client = &app.client;
    let anonymous_key = format!("{prefix}anonymous:127.0.0.1");

    // Shared: the budgets are in Redis.
    let mut shared_left = 0;
    for _ in 0..3 {
        shared_left = remaining(&typename(client, &base).await.headers);
    }
    assert_eq!(login(client, &base, "a@example.com").await.status, 401);
    let before: Option<String> = redis.get(&anonymous_key).await.expect("GET");
    assert!(before.is_some(), "the anonymous bucket is in Redis");

    // Redis gone (connections reset, new ones refused): every request is still served, from
    // this process's own buckets; the API tier starts from a fresh bucket (fails open) ...
    proxy.set(Mode::Cut);
    let answer = typename(client, &base).await;
    assert_eq!(answer.status, 200);
    assert!(
        remaining(&answer.headers) > shared_left,
        "a fresh in-process bucket: {} after {shared_left} in Redis",
        remaining(&answer.headers)
    );
    // ... while the sign-in tier resumes from the attempt it saw while Redis was up: two more
    // attempts, not three, before the 429.
    for email in ["b@example.com", "c@example.com"] {
        assert_eq!(login(client, &base, email).await.status, 401);
    }
    let refused = login(client, &base, "d@example.com").await;
    assert_eq!(refused.status, 429);
    assert_eq!(header(&refused, "ratelimit-policy"), r#""auth";q=3;w=3600"#);

    // Redis silent (a partition): checks give up at the timeout, and meanwhile at most one
    // request a second waits for it at all.
    proxy.set(Mode::BlackHole);
    let errors = crate::common::metric(&app.metrics().await, "rate_limit_redis_errors_total");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let start = Instant::now();
        assert_eq!(typename(client, &base).await.status, 200);
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "answered without waiting on Redis: {:?}",
            start.elapsed()
        );
        if crate::common::metric(&app.metrics().await, "rate_limit_redis_errors_total") > errors {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a silent Redis counts as an error"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let metrics = app.metrics().await;
    assert_eq!(
        crate::common::metric(&metrics, "rate_limit_redis_up"),
        0.0,
        "{metrics}"
    );
    assert!(
        crate::common::metric(&metrics, r#"rate_limit_fallback_total{tier="anonymous"}"#) >= 1.0
    );
    assert!(crate::common::metric(&metrics, r#"rate_limit_fallback_total{tier="auth"}"#) >= 1.0);

    // Back: within a few seconds requests draw from Redis again.
    proxy.set(Mode::Pass);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let before: Option<String> = redis.get(&anonymous_key).await.expect("GET");
        assert_eq!(typename(client, &base).await.status, 200);
        let after: Option<String> = redis.get(&anonymous_key).await.expect("GET");
        if after != before {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "budgets shared again once Redis is back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        crate::common::metric(&app.metrics().await, "rate_limit_redis_up"),
        1.0
    );
    forget(&mut redis, &prefix).await;
}
