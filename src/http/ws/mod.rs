//! GraphQL over WebSocket (`GET /graphql/ws`).
//!
//! The socket speaks `graphql-transport-ws` (and the legacy `graphql-ws`, chosen by
//! `Sec-WebSocket-Protocol`). Anonymous by default: `connection_init` may carry
//! `{"Authorization": "Bearer <access token>"}` to act as a user; an invalid token refuses the
//! connection. The session's [`RequestContext`] is built there, once, from that principal and
//! the upgrade request's facts, and every operation on the socket runs with it. When the server
//! shuts down, subscriptions complete and the socket closes with
//! 1001 (going away), so clients reconnect to another replica.

use std::sync::Arc;

use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use http::HeaderMap;

use tokio::time::Instant;
use uuid::Uuid;

use crate::entity::users::Role;

mod rules;

use self::rules::{Rules, Session};
use super::caller::Caller;
use crate::auth::Principal;
use crate::domain::context::{RequestContext, RequestMeta, Services};
use crate::error::Error;
use crate::state::AppState;

/// `GET /graphql/ws`: upgrades to a GraphQL WebSocket. A message is capped at the HTTP body
/// limit (axum's default would be 64 MiB).
pub async fn websocket(
    State(state): State<AppState>,
    caller: Caller,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let meta = caller.meta;
    let max = usize::try_from(state.settings.body_limit).unwrap_or(usize::MAX);
    upgrade
        .max_message_size(max)
        .max_frame_size(max)
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(socket, state, protocol, meta))
}

/// Close code when the socket's session ends (4000–4999 are the application's).
const SESSION_ENDED: u16 = 4401;
/// How often a signed-in socket re-checks its session (a cache lookup; revocation must end the
/// socket's rights within seconds).
const SESSION_RECHECK: std::time::Duration = std::time::Duration::from_secs(1);

async fn serve(socket: WebSocket, state: AppState, protocol: GraphQLProtocol, meta: RequestMeta) {
    let _connected = crate::metrics::websocket_connected();
    let feed = state.services.status_feed.clone();
    let closing = {
        let feed = feed.clone();
        async move { feed.closing().await }
    };
    let session = Arc::new(Session::new(Rules::from_settings(&state.settings)));
    // The session `connection_init` signed in with, if any; watched until it ends.
    let signed_in: Arc<std::sync::OnceLock<(Uuid, Role)>> = Arc::default();
    let ended = session_ended(state.services.clone(), signed_in.clone());
    let (mut sink, stream) = socket.split();
    // Everything the client receives goes through one queue: GraphQL's messages, pings,
    // refusals and the final close.
    let (out, mut queue) = futures::channel::mpsc::channel::<Message>(64);

    // The client's messages until the server shuts down: ending them ends the session.
    let incoming = {
        let (session, out) = (session.clone(), out.clone());
        stream.take_until(closing).filter_map(move |message| {
            let mut refusal = None;
            let admitted = session.admit(message, &mut refusal);
            if let Some(refusal) = refusal {
                let _ = out.clone().try_send(refusal);
            }
            futures::future::ready(admitted)
        })
    };
    let services = state.services.clone();
    let init_session = session.clone();
    let graphql = GraphQLWebSocket::new_with_pair(
        out.clone().sink_map_err(|_| ()),
        incoming,
        state.schema.clone(),
        protocol,
    )
    .on_connection_init(move |payload| async move {
        let (data, expires_at) = connection_data(&services, meta, &payload, &signed_in).await?;
        init_session.initialised(expires_at);
        Ok(data)
    })
    .serve();

    let driver = {
        let (session, mut out) = (session.clone(), out);
        async move {
            let mut pings = out.clone();
            let watchdog = session.watch(move || {
                let _ = pings.try_send(Message::Ping(Default::default()));
            });
            let close = tokio::select! {
                () = graphql => session.broken(),
                close = watchdog => Some(close),
                () = ended => Some((SESSION_ENDED, "the session has ended or its role changed")),
            };
            let close = if feed.is_closed() {
                Some((axum::extract::ws::close_code::AWAY, "server shutting down"))
            } else {
                close
            };
            if let Some((code, reason)) = close {
                let _ = out
                    .send(Message::Close(Some(CloseFrame {
                        code,
                        reason: reason.into(),
                    })))
                    .await;
            }
        }
    };
    // Owns the queue: when the peer is gone, dropping it fails every sender instead of
    // leaving them waiting on a full queue.
    let writer = async move {
        while let Some(message) = queue.next().await {
            session.sent(&message);
            let last = matches!(message, Message::Close(_));
            if sink.send(message).await.is_err() || last {
                break;
            }
        }
        let _ = sink.close().await;
    };
    tokio::join!(driver, writer);
}

/// Whether the session is still open with the role the socket signed in with (errors count as
/// unchanged: a database hiccup should not drop every socket; the next check decides). A changed
/// role ends the socket: its context was decided once, at `connection_init`.
async fn unchanged(services: &Services, (session_id, role): (Uuid, Role)) -> bool {
    match services.sessions.check(&services.db, session_id).await {
        Ok(Some(active)) => active.role == role,
        Ok(None) => false,
        Err(_) => true,
    }
}

/// Resolves when the socket's session (once `connection_init` named one) has ended.
async fn session_ended(services: Arc<Services>, signed_in: Arc<std::sync::OnceLock<(Uuid, Role)>>) {
    loop {
        tokio::time::sleep(SESSION_RECHECK).await;
        if let Some(signed) = signed_in.get()
            && !unchanged(&services, *signed).await
        {
            return;
        }
    }
}

/// The session's context: the principal named by `connection_init`'s `Authorization` entry
/// (anonymous without one), and when its token expires.
async fn connection_data(
    services: &Arc<Services>,
    meta: RequestMeta,
    payload: &serde_json::Value,
    signed_in: &std::sync::OnceLock<(Uuid, Role)>,
) -> async_graphql::Result<(Data, Option<Instant>)> {
    let rejected = |message: String| {
        crate::security::Threat::WebsocketInitRejected.record();
        message
    };
    let mut principal = Principal::Anonymous;
    let mut expires_at = None;
    let authorization = ["Authorization", "authorization"]
        .iter()
        .find_map(|k| payload.get(*k))
        .and_then(serde_json::Value::as_str);
    if let Some(value) = authorization {
        let mut headers = HeaderMap::new();
        let value = value.parse().map_err(|_| {
            rejected(
                Error::Unauthenticated("the Authorization entry is not valid text".into())
                    .to_string(),
            )
        })?;
        headers.insert(http::header::AUTHORIZATION, value);
        let named = Principal::from_headers(&headers, &services.jwt)
            .map_err(|e| rejected(e.public_message()))?;
        principal = services
            .principal_now(&named)
            .await
            .map_err(|e| rejected(e.public_message()))?;
        if let Principal::User {
            session_id, role, ..
        } = &principal
        {
            let _ = signed_in.set((*session_id, *role));
        }
        expires_at = token_expiry(&headers, services);
    }
    let mut data = Data::default();
    data.insert(RequestContext::new(services.clone(), principal, meta));
    Ok((data, expires_at))
}

/// When the (already verified) bearer token in `headers` stops being valid, on the clock the
/// watchdog uses.
fn token_expiry(headers: &HeaderMap, services: &Services) -> Option<Instant> {
    let token = headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .split_once(' ')?
        .1
        .trim();
    let exp = services.jwt.verify(token).ok()?.exp;
    let left = exp.saturating_sub(chrono::Utc::now().timestamp());
    Some(Instant::now() + std::time::Duration::from_secs(u64::try_from(left).unwrap_or(0)))
}
