//! Service status: recording events (staff/admin), the status page, the event history, and the
//! `statusChanged` subscription over graphql-transport-ws, within one server and across two
//! server processes sharing a PostgreSQL database.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use futures::{SinkExt, StreamExt};
use neoforge::domain::status;
use neoforge::domain::status_feed::StatusFeed;
use neoforge::entity::ServiceStatus;
use neoforge::entity::status_events::Model as Event;
use neoforge::entity::users::Role;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

use crate::common::pgbouncer::PgBouncer;
use crate::common::{
    Server, TestApp, TestDatabase, error_code, gql, spawn_app, spawn_app_on, spawn_app_sharing,
};

const CREATE: &str = "mutation($i: CreateStatusEventInput!) {
    createStatusEvent(input: $i) {
        statusEvent { id service status message createdAt createdBy { id displayName } }
    }
}";

const STATUS: &str =
    "{ status { overall updatedAt services { service status message since updatedAt } } }";

const EVENTS: &str = "query($first: Int, $after: String, $last: Int, $before: String,
        $offset: Int, $filter: StatusEventFilter, $order: StatusEventOrder) {
    statusEvents(first: $first, after: $after, last: $last, before: $before, offset: $offset,
                 filter: $filter, orderBy: $order) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { id service status message createdAt createdBy { displayName } } }
    }
}";

/// Upper bound for anything a test waits for.
const WAIT: Duration = Duration::from_secs(20);

async fn staff(app: &TestApp) -> String {
    app.user_with_role("staff@example.com", Role::Staff).await
}

/// Records an event through the API and returns it (panics on failure).
async fn record(
    app: &impl Server,
    token: &str,
    service: &str,
    status: &str,
    message: &str,
) -> Value {
    let body = gql(
        &reqwest::Client::new(),
        app,
        CREATE,
        json!({ "i": { "service": service, "status": status, "message": message } }),
        Some(token),
    )
    .await;
    let event = body["data"]["createStatusEvent"]["statusEvent"].clone();
    assert!(event.is_object(), "createStatusEvent failed: {body}");
    event
}

async fn status_page(app: &TestApp) -> Value {
    let body = app.gql(STATUS, json!({}), None).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["status"].clone()
}

fn service<'a>(page: &'a Value, name: &str) -> &'a Value {
    page["services"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["service"] == name))
        .unwrap_or_else(|| panic!("no service {name} in {page}"))
}

async fn count_rows(app: &TestApp, sql: &str) -> i64 {
    let conn = app.db_handle.conn();
    let row = conn
        .query_one_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("row");
    row.try_get_by_index::<i64>(0).expect("count")
}

#[tokio::test]
async fn only_staff_and_admins_record_events() {
    let app = spawn_app().await;
    let user = app.user("user@example.com").await;
    let staff = staff(&app).await;
    let admin = app.user_with_role("admin@example.com", Role::Admin).await;
    let input = json!({ "i": { "service": "api", "status": "DEGRADED", "message": "slow" } });

    let body = app.gql(CREATE, input.clone(), None).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    let body = app.gql(CREATE, input.clone(), Some(&user)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");

    let by_staff = record(&app, &staff, "api", "DEGRADED", "slow").await;
    assert_eq!(by_staff["service"], "api");
    assert_eq!(by_staff["status"], "DEGRADED");
    assert_eq!(by_staff["message"], "slow");
    assert_eq!(by_staff["createdBy"]["displayName"], "staff");
    let by_admin = record(&app, &admin, "api", "OPERATIONAL", "").await;
    assert_eq!(by_admin["createdBy"]["displayName"], "admin");

    // Refused attempts wrote nothing; each recorded event has its audit event.
    let body = app.gql(EVENTS, json!({}), None).await;
    assert_eq!(body["data"]["statusEvents"]["totalCount"], 2, "{body}");
    assert_eq!(
        count_rows(
            &app,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'status.recorded'"
        )
        .await,
        2
    );
    // Anyone reads.
    assert_eq!(status_page(&app).await["overall"], "OPERATIONAL");
}

#[tokio::test]
async fn invalid_input_gets_coded_errors() {
    let app = spawn_app().await;
    let staff = staff(&app).await;
    let create = |service: &str, status: &str, message: &str| json!({ "i": { "service": service, "status": status, "message": message } });

    for bad in [
        "Api",
        "api service",
        "-api",
        "api-",
        "a--b",
        "",
        &"a".repeat(65),
    ] {
        let body = app
            .gql(CREATE, create(bad, "DEGRADED", ""), Some(&staff))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{bad:?}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["fields"][0]["path"],
            json!(["input", "service"]),
            "{body}"
        );
    }
    let body = app
        .gql(
            CREATE,
            create("api", "DEGRADED", &"x".repeat(2_001)),
            Some(&staff),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["fields"][0]["path"],
        json!(["input", "message"])
    );
    let body = app
        .gql(CREATE, create("api", "DOWN", ""), Some(&staff))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(body["data"].is_null() || body["data"]["createStatusEvent"].is_null());
    let body = app
        .gql(
            "mutation { createStatusEvent(input: {service: \"api\", status: FINE}) { statusEvent { id } } }",
            json!({}),
            Some(&staff),
        )
        .await;
    // A document-validation error (no data), never an internal one.
    assert!(body["errors"][0]["message"].is_string(), "{body}");
    assert!(body["data"].is_null(), "{body}");
    assert_ne!(error_code(&body), "INTERNAL_SERVER_ERROR", "{body}");

    // Nothing above was recorded; the longest name and message are fine.
    assert_eq!(status_page(&app).await["services"], json!([]));
    let longest = "a".repeat(64);
    let event = record(&app, &staff, &longest, "MAINTENANCE", &"é".repeat(2_000)).await;
    assert_eq!(event["service"], longest.as_str());
}

#[tokio::test]
async fn status_is_operational_before_any_event() {
    let app = spawn_app().await;
    let page = status_page(&app).await;
    assert_eq!(
        page,
        json!({ "overall": "OPERATIONAL", "updatedAt": null, "services": [] })
    );
}

#[tokio::test]
async fn status_shows_each_service_latest_event_and_the_worst_overall() {
    let app = spawn_app().await;
    let staff = staff(&app).await;
    record(&app, &staff, "web", "OPERATIONAL", "").await;
    record(&app, &staff, "db", "MAJOR_OUTAGE", "primary down").await;
    record(&app, &staff, "api", "DEGRADED", "slow responses").await;
    let recovered = record(&app, &staff, "db", "OPERATIONAL", "failed over").await;

    let page = status_page(&app).await;
    let names: Vec<&str> = page["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["api", "db", "web"], "sorted by name");
    assert_eq!(page["overall"], "DEGRADED");
    assert_eq!(service(&page, "db")["status"], "OPERATIONAL");
    assert_eq!(service(&page, "db")["message"], "failed over");
    assert_eq!(service(&page, "api")["message"], "slow responses");
    assert_eq!(page["updatedAt"], recovered["createdAt"]);
    assert_eq!(service(&page, "db")["updatedAt"], recovered["createdAt"]);

    // MAINTENANCE ranks below DEGRADED; PARTIAL_OUTAGE above it.
    record(&app, &staff, "web", "MAINTENANCE", "upgrade").await;
    assert_eq!(status_page(&app).await["overall"], "DEGRADED");
    record(&app, &staff, "web", "PARTIAL_OUTAGE", "eu down").await;
    assert_eq!(status_page(&app).await["overall"], "PARTIAL_OUTAGE");
    record(&app, &staff, "api", "MAJOR_OUTAGE", "").await;
    assert_eq!(status_page(&app).await["overall"], "MAJOR_OUTAGE");
    for s in ["api", "web"] {
        record(&app, &staff, s, "OPERATIONAL", "").await;
    }
    assert_eq!(status_page(&app).await["overall"], "OPERATIONAL");
}

#[tokio::test]
async fn since_marks_the_start_of_the_current_run() {
    let app = spawn_app().await;
    let staff = staff(&app).await;
    let first = record(&app, &staff, "api", "DEGRADED", "slow").await;
    let again = record(&app, &staff, "api", "DEGRADED", "still slow").await;
    let page = status_page(&app).await;
    let api = service(&page, "api");
    assert_eq!(
        api["since"], first["createdAt"],
        "a repeated status keeps its start"
    );
    assert_eq!(api["updatedAt"], again["createdAt"]);
    assert_eq!(api["message"], "still slow");

    let fixed = record(&app, &staff, "api", "OPERATIONAL", "fixed").await;
    record(&app, &staff, "other", "DEGRADED", "").await;
    let confirmed = record(&app, &staff, "api", "OPERATIONAL", "confirmed").await;
    let page = status_page(&app).await;
    let api = service(&page, "api");
    assert_eq!(
        api["since"], fixed["createdAt"],
        "a new status starts a new run"
    );
    assert_eq!(api["updatedAt"], confirmed["createdAt"]);

    let relapse = record(&app, &staff, "api", "DEGRADED", "again").await;
    let page = status_page(&app).await;
    assert_eq!(
        service(&page, "api")["since"],
        relapse["createdAt"],
        "an earlier run of the same status does not count"
    );
}

#[tokio::test]
async fn concurrent_events_leave_the_status_consistent_with_the_history() {
    let app = spawn_app().await;
    let staff = staff(&app).await;
    let statuses = ["DEGRADED", "DEGRADED", "OPERATIONAL", "MAJOR_OUTAGE"];
    let writes = (0..12).map(|i| record(&app, &staff, "api", statuses[i % 4], ""));
    futures::future::join_all(writes).await;

    let body = app
        .gql(
            EVENTS,
            json!({ "first": 100, "filter": { "service": "api" } }),
            None,
        )
        .await;
    let history: Vec<&Value> = body["data"]["statusEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .collect();
    assert_eq!(history.len(), 12, "{body}");
    let latest = history[0];
    let run_start = history
        .iter()
        .take_while(|e| e["status"] == latest["status"])
        .last()
        .unwrap();
    let page = status_page(&app).await;
    let api = service(&page, "api");
    assert_eq!(api["status"], latest["status"], "{page}");
    assert_eq!(api["updatedAt"], latest["createdAt"]);
    assert_eq!(api["since"], run_start["createdAt"], "{page} vs {body}");
}

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::TimeDelta::seconds(seconds)
}

/// A GraphQL `DateTime` value as a time.
fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .unwrap_or_else(|| panic!("not a DateTime: {v}"))
        .to_utc()
}

/// Imports an event with a chosen id and time (as a history import would).
async fn import(app: &TestApp, id: u128, service: &str, status: ServiceStatus, t: DateTime<Utc>) {
    let feed = StatusFeed::new(app.db_handle.backend(), Default::default());
    let event = Event {
        // A UUIDv7 layout with a fixed timestamp: ordering follows `id`.
        id: Uuid::from_u128(0x0190_a000_0000_7000_8000_0000_0000_0000 | id),
        service: service.into(),
        status,
        message: format!("event {id}"),
        created_by: None,
        created_at: t,
    };
    status::import(&app.db_handle, &feed, &Default::default(), event)
        .await
        .expect("import");
}

#[tokio::test]
async fn ties_go_to_the_later_id_and_late_events_keep_the_state_exact() {
    let app = spawn_app().await;
    use ServiceStatus::*;

    // Same timestamp: the larger id is the later event, whatever the arrival order.
    import(&app, 2, "api", MajorOutage, at(10)).await;
    import(&app, 1, "api", Degraded, at(10)).await;
    // A late event that breaks the current run: since moves to the run's new start.
    import(&app, 3, "cache", Degraded, at(1)).await;
    import(&app, 4, "cache", Degraded, at(3)).await;
    import(&app, 5, "cache", Operational, at(2)).await;
    // A late event that extends the current run backwards.
    import(&app, 6, "queue", Operational, at(0)).await;
    import(&app, 7, "queue", Degraded, at(2)).await;
    import(&app, 8, "queue", Degraded, at(3)).await;
    import(&app, 9, "queue", Degraded, at(1)).await;
    // A late event older than the whole run changes nothing.
    import(&app, 10, "web", Maintenance, at(5)).await;
    import(&app, 11, "web", MajorOutage, at(4)).await;

    let page = status_page(&app).await;
    let api = service(&page, "api");
    assert_eq!(api["status"], "MAJOR_OUTAGE", "{page}");
    assert_eq!(api["message"], "event 2");
    assert_eq!(time(&api["since"]), at(10));
    let cache = service(&page, "cache");
    assert_eq!(cache["status"], "DEGRADED");
    assert_eq!(time(&cache["since"]), at(3), "{page}");
    assert_eq!(time(&cache["updatedAt"]), at(3));
    let queue = service(&page, "queue");
    assert_eq!(time(&queue["since"]), at(1), "{page}");
    assert_eq!(time(&queue["updatedAt"]), at(3));
    let web = service(&page, "web");
    assert_eq!(web["status"], "MAINTENANCE");
    assert_eq!(time(&web["since"]), at(5));
    assert_eq!(page["overall"], "MAJOR_OUTAGE");
    assert_eq!(time(&page["updatedAt"]), at(10));

    // The history lists ties newest id first as well.
    let body = app
        .gql(EVENTS, json!({ "filter": { "service": "api" } }), None)
        .await;
    let messages: Vec<&str> = body["data"]["statusEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["event 2", "event 1"], "{body}");
}

#[tokio::test]
async fn events_are_listed_newest_first_with_filters_and_pages() {
    let app = spawn_app().await;
    let staff = staff(&app).await;
    let mut ids = Vec::new();
    for (i, s) in ["api", "web", "api", "api", "web"].iter().enumerate() {
        let e = record(&app, &staff, s, "DEGRADED", &format!("m{i}")).await;
        ids.push(e["id"].as_str().unwrap().to_owned());
    }
    let page_ids = |body: &Value| -> Vec<String> {
        body["data"]["statusEvents"]["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
            .collect()
    };

    let body = app.gql(EVENTS, json!({ "first": 2 }), None).await;
    assert_eq!(page_ids(&body), [ids[4].clone(), ids[3].clone()]);
    let conn = &body["data"]["statusEvents"];
    assert_eq!(conn["totalCount"], 5);
    assert_eq!(conn["pageInfo"]["hasNextPage"], true);
    assert_eq!(
        conn["edges"][0]["node"]["createdBy"]["displayName"],
        "staff"
    );
    let after = conn["pageInfo"]["endCursor"].clone();
    let body = app
        .gql(EVENTS, json!({ "first": 2, "after": after }), None)
        .await;
    assert_eq!(page_ids(&body), [ids[2].clone(), ids[1].clone()]);
    assert_eq!(
        body["data"]["statusEvents"]["pageInfo"]["hasPreviousPage"],
        true
    );
    let body = app
        .gql(EVENTS, json!({ "first": 2, "offset": 4 }), None)
        .await;
    assert_eq!(page_ids(&body), [ids[0].clone()]);
    assert_eq!(
        body["data"]["statusEvents"]["pageInfo"]["hasNextPage"],
        false
    );

    let body = app
        .gql(EVENTS, json!({ "filter": { "service": "api" } }), None)
        .await;
    assert_eq!(
        page_ids(&body),
        [ids[3].clone(), ids[2].clone(), ids[0].clone()]
    );
    assert_eq!(body["data"]["statusEvents"]["totalCount"], 3);
    let body = app
        .gql(
            EVENTS,
            json!({ "filter": { "service": "web" }, "order": { "field": "CREATED_AT", "direction": "ASC" } }),
            None,
        )
        .await;
    assert_eq!(page_ids(&body), [ids[1].clone(), ids[4].clone()]);
    let body = app.gql(EVENTS, json!({ "last": 1 }), None).await;
    assert_eq!(page_ids(&body), [ids[0].clone()]);

    // One event by id.
    let body = app
        .gql(
            "query($id: ID!) { statusEvent(id: $id) { service message } }",
            json!({ "id": ids[1] }),
            None,
        )
        .await;
    assert_eq!(
        body["data"]["statusEvent"],
        json!({ "service": "web", "message": "m1" })
    );

    for bad in [
        json!({ "filter": { "service": "Not A Slug" } }),
        json!({ "first": 0 }),
        json!({ "first": 101 }),
        json!({ "after": "garbage" }),
    ] {
        let body = app.gql(EVENTS, bad.clone(), None).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{bad}: {body}");
    }
}

// ---------------------------------------------------------------------------------------------
// graphql-transport-ws client

struct Ws {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

const SUBSCRIBE: &str = "subscription($service: String) {
    statusChanged(service: $service) { id service status message createdAt createdBy { displayName } }
}";

impl Ws {
    /// Connects to `/graphql/ws` and completes the handshake with `payload`.
    async fn connect(app: &impl Server, payload: Value) -> Self {
        let mut ws = Self::open(app).await;
        ws.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        let ack = ws.next(WAIT).await.expect("connection_ack");
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        ws
    }

    async fn open(app: &impl Server) -> Self {
        let mut request = format!("ws://{}/graphql/ws", app.addr())
            .into_client_request()
            .expect("request");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (socket, response) = timeout(WAIT, tokio_tungstenite::connect_async(request))
            .await
            .expect("connect in time")
            .expect("websocket handshake");
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            "graphql-transport-ws"
        );
        Self { socket }
    }

    async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("send");
    }

    /// The next protocol message within `wait`: `None` on timeout. Panics when the socket closes.
    async fn next(&mut self, wait: Duration) -> Option<Value> {
        let deadline = Instant::now() + wait;
        loop {
            let frame = timeout(
                deadline.saturating_duration_since(Instant::now()),
                self.socket.next(),
            )
            .await
            .ok()?;
            match frame {
                Some(Ok(Message::Text(text))) => {
                    return Some(serde_json::from_str(&text).expect("JSON message"));
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                other => panic!("the socket closed or failed: {other:?}"),
            }
        }
    }

    /// Waits for the socket to close; returns the close code (None when it just ended).
    async fn closed(&mut self) -> Option<u16> {
        let deadline = Instant::now() + WAIT;
        loop {
            let frame = timeout(
                deadline.saturating_duration_since(Instant::now()),
                self.socket.next(),
            )
            .await
            .expect("the socket closes in time");
            match frame {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code.into()),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    }

    async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({
            "id": id,
            "type": "subscribe",
            "payload": { "query": query, "variables": variables },
        }))
        .await;
    }
}

/// The subscription is registered asynchronously after `subscribe` is sent, and (PostgreSQL) the
/// other server's listener connects in the background: keep recording an event for another
/// service and one for `api` until `api` events flow. Returns the first delivered event.
async fn first_delivery(ws: &mut Ws, recorder: &impl Server, token: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    let mut sent = Vec::new();
    loop {
        assert!(Instant::now() < deadline, "no event was delivered in time");
        record(recorder, token, "web", "DEGRADED", "filtered out").await;
        let event = record(recorder, token, "api", "DEGRADED", "probe").await;
        sent.push(event["id"].clone());
        if let Some(message) = ws.next(Duration::from_millis(300)).await {
            assert_eq!(message["type"], "next", "{message}");
            let delivered = message["payload"]["data"]["statusChanged"].clone();
            assert_eq!(delivered["service"], "api", "the filter holds: {message}");
            assert!(sent.contains(&delivered["id"]), "{message}");
            return delivered;
        }
    }
}

/// Drains the probe events still in flight after `first_delivery`, then checks that a fresh
/// event arrives exactly once and complete.
async fn delivers_exactly(ws: &mut Ws, recorder: &impl Server, token: &str) {
    while ws.next(Duration::from_millis(500)).await.is_some() {}
    let event = record(recorder, token, "api", "MAJOR_OUTAGE", "all down").await;
    record(recorder, token, "web", "MAJOR_OUTAGE", "filtered out").await;
    let message = ws.next(WAIT).await.expect("the event arrives");
    assert_eq!(message["type"], "next");
    assert_eq!(message["id"], "s1");
    let delivered = &message["payload"]["data"]["statusChanged"];
    assert_eq!(delivered["id"], event["id"]);
    assert_eq!(delivered["status"], "MAJOR_OUTAGE");
    assert_eq!(delivered["message"], "all down");
    assert_eq!(delivered["createdAt"], event["createdAt"]);
    assert_eq!(delivered["createdBy"]["displayName"], "staff");
    assert!(
        ws.next(Duration::from_millis(700)).await.is_none(),
        "delivered once, and the other service's event is filtered out"
    );
}

#[tokio::test]
async fn subscription_receives_events_recorded_through_the_same_server() {
    let app = spawn_app().await;
    let staff = staff(&app).await;
    let mut ws = Ws::connect(&app, json!({})).await;
    ws.subscribe("s1", SUBSCRIBE, json!({ "service": "api" }))
        .await;
    first_delivery(&mut ws, &app, &staff).await;
    delivers_exactly(&mut ws, &app, &staff).await;

    // `complete` from the client ends the subscription: no more events.
    ws.send(json!({ "id": "s1", "type": "complete" })).await;
    record(&app, &staff, "api", "OPERATIONAL", "").await;
    while let Some(message) = ws.next(Duration::from_millis(700)).await {
        assert_eq!(
            message["type"], "complete",
            "no event after complete: {message}"
        );
    }
}

#[tokio::test]
async fn subscription_receives_events_recorded_by_another_server_process() {
    let a = spawn_app().await;
    if !a.db.is_postgres() {
        eprintln!("skipped: SQLite deployments are single-process (set TEST_DATABASE_URL)");
        return;
    }
    let b = spawn_app_sharing(&a).await;
    let staff = staff(&a).await;
    let mut ws = Ws::connect(&a, json!({})).await;
    ws.subscribe("s1", SUBSCRIBE, json!({ "service": "api" }))
        .await;
    // Recorded through B, delivered by A.
    first_delivery(&mut ws, &b, &staff).await;
    delivers_exactly(&mut ws, &b, &staff).await;

    // The listening sessions die (a database restart, a proxy timeout): A reconnects and
    // catches up on what was recorded meanwhile, without replaying what it already delivered.
    let killed = count_rows(
        &a,
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
    )
    .await;
    assert!(killed >= 1, "the listeners' sessions were found");
    let event = record(&b, &staff, "api", "DEGRADED", "during the outage").await;
    let message = ws.next(WAIT).await.expect("delivered after reconnecting");
    assert_eq!(
        message["payload"]["data"]["statusChanged"]["id"],
        event["id"]
    );
    assert!(
        ws.next(Duration::from_millis(700)).await.is_none(),
        "nothing is replayed twice"
    );
    let event = record(&b, &staff, "api", "OPERATIONAL", "back").await;
    let message = ws.next(WAIT).await.expect("live delivery resumes");
    assert_eq!(
        message["payload"]["data"]["statusChanged"]["id"],
        event["id"]
    );

    // Longer outage: new sessions are refused while an event is recorded (through B's pooled
    // connections), so its notification is certainly lost; the catch-up delivers it.
    let database =
        a.db.url
            .rsplit('/')
            .next()
            .unwrap()
            .split('?')
            .next()
            .unwrap();
    let server = std::env::var("TEST_DATABASE_URL").unwrap();
    let admin = sea_orm::Database::connect(&server).await.unwrap();
    let allow = |on: bool| format!("ALTER DATABASE {database} ALLOW_CONNECTIONS {on}");
    admin.execute_unprepared(&allow(false)).await.unwrap();
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{database}' AND query ILIKE 'LISTEN%'"
        ))
        .await
        .unwrap();
    let missed = record(&b, &staff, "api", "MAINTENANCE", "while unreachable").await;
    let early = ws.next(Duration::from_millis(500)).await;
    admin.execute_unprepared(&allow(true)).await.unwrap();
    admin.close().await.unwrap();
    assert!(early.is_none(), "no listener was connected: {early:?}");
    let message = ws.next(WAIT).await.expect("caught up after reconnecting");
    assert_eq!(
        message["payload"]["data"]["statusChanged"]["id"],
        missed["id"]
    );
    assert!(ws.next(Duration::from_millis(700)).await.is_none());

    // Both servers agree on the status page.
    assert_eq!(status_page(&a).await, status_page(&b).await);
    timeout(WAIT, b.stop())
        .await
        .expect("B stops in time")
        .expect("B stops cleanly");
}

/// Two server processes behind PgBouncer in transaction pooling mode: each listens on a session
/// of its own (NEOFORGE_DATABASE_SESSION_URL), so an event recorded through either reaches the
/// subscribers of both, once.
#[tokio::test]
async fn subscribers_of_two_servers_behind_pgbouncer_get_every_event_once() {
    let db = TestDatabase::create().await;
    let Some(bouncer) = PgBouncer::start(&db).await else {
        return;
    };
    let (a, b) = (bouncer.server(&db).await, bouncer.server(&db).await);
    let direct = spawn_app_on(TestDatabase::shared(&db.url), |_| {}).await;
    let staff = staff(&direct).await;
    let mut on_a = Ws::connect(&a, json!({})).await;
    let mut on_b = Ws::connect(&b, json!({})).await;
    for ws in [&mut on_a, &mut on_b] {
        ws.subscribe("s1", SUBSCRIBE, json!({ "service": "api" }))
            .await;
    }
    // Each listener is connected once it delivers what the other server records (A has
    // delivered its own probes meanwhile).
    first_delivery(&mut on_b, &a, &staff).await;
    while on_a.next(Duration::from_millis(500)).await.is_some() {}
    first_delivery(&mut on_a, &b, &staff).await;
    for recorder in [&a, &b] {
        for ws in [&mut on_a, &mut on_b] {
            while ws.next(Duration::from_millis(500)).await.is_some() {}
        }
        let event = record(recorder, &staff, "api", "MAJOR_OUTAGE", "all down").await;
        for ws in [&mut on_a, &mut on_b] {
            let message = ws.next(WAIT).await.expect("both servers deliver it");
            assert_eq!(
                message["payload"]["data"]["statusChanged"]["id"], event["id"],
                "{message}"
            );
        }
        for ws in [&mut on_a, &mut on_b] {
            let again = ws.next(Duration::from_millis(700)).await;
            assert!(again.is_none(), "delivered once: {again:?}");
        }
    }
}

#[tokio::test]
async fn subscription_rejects_a_bad_service_argument() {
    let app = spawn_app().await;
    let mut ws = Ws::connect(&app, json!({})).await;
    ws.subscribe("s1", SUBSCRIBE, json!({ "service": "Not A Slug" }))
        .await;
    let message = ws.next(WAIT).await.expect("an answer");
    assert_eq!(message["id"], "s1");
    assert_eq!(
        message["payload"]["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{message}"
    );
    let done = ws.next(WAIT).await.expect("complete");
    assert_eq!(done["type"], "complete");
}

#[tokio::test]
async fn websocket_operations_act_as_the_connection_init_token() {
    let app = spawn_app().await;
    let staff = staff(&app).await;
    let mutation = "mutation { createStatusEvent(input: {service: \"api\", status: DEGRADED}) { statusEvent { createdBy { displayName } } } }";

    let mut anonymous = Ws::connect(&app, json!({})).await;
    anonymous.subscribe("m1", mutation, json!({})).await;
    let message = anonymous.next(WAIT).await.expect("an answer");
    assert_eq!(
        message["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{message}"
    );

    let mut signed_in =
        Ws::connect(&app, json!({ "Authorization": format!("Bearer {staff}") })).await;
    signed_in.subscribe("m1", mutation, json!({})).await;
    let message = signed_in.next(WAIT).await.expect("an answer");
    assert_eq!(
        message["payload"]["data"]["createStatusEvent"]["statusEvent"]["createdBy"]["displayName"],
        "staff",
        "{message}"
    );

    // A bad token refuses the connection instead of silently going anonymous.
    let mut refused = Ws::open(&app).await;
    refused
        .send(json!({ "type": "connection_init", "payload": { "Authorization": "Bearer nope" } }))
        .await;
    assert!(refused.closed().await.is_some_and(|code| code >= 1002));
}

#[tokio::test]
async fn websocket_without_a_graphql_protocol_is_refused() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/graphql/ws"))
        .send()
        .await
        .expect("request");
    assert!(res.status().is_client_error(), "{}", res.status());
}

#[tokio::test]
async fn stopping_the_server_closes_subscriptions() {
    let app = spawn_app().await;
    let mut ws = Ws::connect(&app, json!({})).await;
    ws.subscribe("s1", SUBSCRIBE, json!({})).await;
    // Let the subscription register before the server stops.
    assert!(ws.next(Duration::from_millis(200)).await.is_none());
    timeout(WAIT, app.stop())
        .await
        .expect("the server stops in time despite an open subscription")
        .expect("clean stop");
    // The subscription completes, then the socket closes with 1001 (going away).
    let mut saw_close = None;
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        match timeout(WAIT, ws.socket.next())
            .await
            .expect("closes in time")
        {
            Some(Ok(Message::Text(text))) => {
                let message: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(message["type"], "complete", "{message}");
            }
            Some(Ok(Message::Close(frame))) => {
                saw_close = frame.map(|f| u16::from(f.code));
                break;
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break,
        }
    }
    assert_eq!(saw_close, Some(1001));
}

#[tokio::test]
async fn keyed_status_events_are_recorded_once() {
    let app = crate::common::spawn_app().await;
    let staff = app
        .user_with_role("ops@example.com", neoforge::entity::users::Role::Staff)
        .await;
    let q = "mutation($i: CreateStatusEventInput!) { createStatusEvent(input: $i, idempotencyKey: \"incident-1\") { statusEvent { id } } }";
    let vars = serde_json::json!({ "i": { "service": "api", "status": "DEGRADED" } });
    let first = app.gql(q, vars.clone(), Some(&staff)).await;
    let again = app.gql(q, vars, Some(&staff)).await;
    assert!(first["errors"].is_null(), "{first}");
    assert_eq!(first["data"], again["data"]);
    assert_eq!(again["extensions"]["idempotentReplayed"], true);
    let list = app
        .gql(
            "{ statusEvents { totalCount } }",
            serde_json::json!({}),
            None,
        )
        .await;
    assert_eq!(list["data"]["statusEvents"]["totalCount"], 1, "{list}");
}
