//! The HTTP rules, held on the GraphQL WebSocket: a `connection_init` deadline, the token's
//! expiry, a cap on operations running at once, and pings to find dead peers. The budgets, the
//! depth/complexity/alias limits and the per-operation deadline apply through the schema itself
//! (`graphql::cost`, `graphql::limits`, `graphql::deadline`); the message-size cap is set at the
//! upgrade.
//!
//! Close codes are `graphql-transport-ws`'s: 4408 (initialisation timeout) and 4403
//! (forbidden: the token expired; the client reconnects with a fresh one), plus 1009 (message
//! too big) and 1001 (an idle peer that stopped answering pings).

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::ws::Message;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::config::Settings;
use crate::security::Threat;

pub const INIT_TIMEOUT: u16 = 4408;
pub const FORBIDDEN: u16 = 4403;
pub const MESSAGE_TOO_BIG: u16 = 1009;
pub const GOING_AWAY: u16 = 1001;

#[derive(Clone, Copy, Debug)]
pub struct Rules {
    pub init_timeout: Duration,
    pub max_operations: usize,
    pub ping_interval: Duration,
}

impl Rules {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            init_timeout: Duration::from_secs(settings.ws_init_timeout),
            max_operations: usize::try_from(settings.ws_max_operations).unwrap_or(usize::MAX),
            ping_interval: Duration::from_secs(settings.ws_ping_interval),
        }
    }
}

/// Why the server ends a session.
pub type Close = (u16, &'static str);

#[derive(Default)]
struct State {
    initialised: bool,
    expires_at: Option<Instant>,
    active: HashSet<String>,
    last_seen: Option<Instant>,
    broken: Option<Close>,
}

/// One socket's bookkeeping, shared by the reader, the writer and the watchdog.
pub struct Session {
    rules: Rules,
    started: Instant,
    state: Mutex<State>,
    changed: Notify,
}

/// A protocol message's `type` and `id`, if it is one.
fn kind_and_id(text: &str) -> Option<(String, Option<String>)> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let kind = value.get("type")?.as_str()?.to_owned();
    let id = value.get("id").and_then(|v| v.as_str()).map(str::to_owned);
    Some((kind, id))
}

impl Session {
    pub fn new(rules: Rules) -> Self {
        Self {
            rules,
            started: Instant::now(),
            state: Mutex::default(),
            changed: Notify::new(),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> Option<T> {
        self.state.lock().ok().map(|mut s| f(&mut s))
    }

    /// `connection_init` was accepted; the token (if any) is good until `expires_at`.
    pub fn initialised(&self, expires_at: Option<Instant>) {
        self.with(|s| {
            s.initialised = true;
            s.expires_at = expires_at;
        });
        self.changed.notify_one();
    }

    /// A message from the client: `Some` to pass it on, `None` (and an error message for the
    /// client, in `refusal`) for an operation over the cap.
    pub fn admit(
        &self,
        message: Result<Message, axum::Error>,
        refusal: &mut Option<Message>,
    ) -> Option<Result<Message, axum::Error>> {
        let message = match message {
            Ok(message) => message,
            Err(err) => {
                // tungstenite's capacity error: the message is over the body limit.
                if err.to_string().contains("too long") {
                    Threat::OversizeBody.record();
                    self.with(|s| s.broken = Some((MESSAGE_TOO_BIG, "message too big")));
                }
                self.changed.notify_one();
                return Some(Err(err));
            }
        };
        let text = match &message {
            Message::Text(text) => Some(text.as_str()),
            _ => None,
        };
        let parsed = text.and_then(kind_and_id);
        let max = self.rules.max_operations;
        let admitted = self.with(|s| {
            s.last_seen = Some(Instant::now());
            match parsed {
                Some((kind, Some(id))) if kind == "subscribe" || kind == "start" => {
                    if s.active.len() >= max && !s.active.contains(&id) {
                        return false;
                    }
                    s.active.insert(id);
                    true
                }
                Some((kind, Some(id))) if kind == "complete" || kind == "stop" => {
                    s.active.remove(&id);
                    true
                }
                _ => true,
            }
        });
        if admitted == Some(false) {
            let id = parsed_id(text);
            let error = serde_json::json!({
                "id": id,
                "type": "error",
                "payload": [{
                    "message": format!("at most {max} operations may run at once on one socket; complete one first"),
                    "extensions": { "code": "RATE_LIMITED" },
                }],
            });
            *refusal = Some(Message::Text(error.to_string().into()));
            return None;
        }
        Some(Ok(message))
    }

    /// A message to the client: an operation it ends is no longer active.
    pub fn sent(&self, message: &Message) {
        if let Message::Text(text) = message
            && let Some((kind, Some(id))) = kind_and_id(text.as_str())
            && (kind == "complete" || kind == "error")
        {
            self.with(|s| s.active.remove(&id));
        }
    }

    /// Why the reader stopped, if it was the server's rule (a message over the cap).
    pub fn broken(&self) -> Option<Close> {
        self.with(|s| s.broken).flatten()
    }

    /// Runs until the session must end, sending pings through `ping`; returns the close.
    pub async fn watch(&self, mut ping: impl FnMut()) -> Close {
        let interval = self.rules.ping_interval;
        let mut last_ping = Instant::now();
        loop {
            let now = Instant::now();
            let Some((initialised, expires_at, last_seen, broken)) =
                self.with(|s| (s.initialised, s.expires_at, s.last_seen, s.broken))
            else {
                return (1011, "internal error");
            };
            if let Some(close) = broken {
                return close;
            }
            let init_deadline = self.started + self.rules.init_timeout;
            if !initialised && now >= init_deadline {
                Threat::WebsocketInitRejected.record();
                return (INIT_TIMEOUT, "Connection initialisation timeout");
            }
            if let Some(at) = expires_at
                && now >= at
            {
                return (
                    FORBIDDEN,
                    "the access token has expired: reconnect with a fresh token",
                );
            }
            let seen = last_seen.unwrap_or(self.started);
            if now.duration_since(seen) >= 2 * interval {
                return (GOING_AWAY, "idle: no answer to pings");
            }
            if now.duration_since(last_ping.max(seen)) >= interval {
                ping();
                last_ping = now;
            }
            let mut next = last_ping.max(seen) + interval;
            next = next.min(seen + 2 * interval);
            if !initialised {
                next = next.min(init_deadline);
            }
            if let Some(at) = expires_at {
                next = next.min(at);
            }
            tokio::select! {
                () = tokio::time::sleep_until(next) => {}
                () = self.changed.notified() => {}
            }
        }
    }
}

fn parsed_id(text: Option<&str>) -> Option<String> {
    text.and_then(kind_and_id).and_then(|(_, id)| id)
}
