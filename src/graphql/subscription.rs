//! The subscription root and GraphQL over WebSocket (`GET /graphql/ws`).
//!
//! The socket speaks `graphql-transport-ws` (and the legacy `graphql-ws`, chosen by
//! `Sec-WebSocket-Protocol`). Anonymous by default: `connection_init` may carry
//! `{"Authorization": "Bearer <access token>"}` to act as a user; an invalid token refuses the
//! connection. The session's [`RequestContext`] is built there, once, from that principal and
//! the upgrade request's facts, and every operation on the socket runs with it. When the server shuts down, subscriptions complete and the socket closes with
//! 1001 (going away), so clients reconnect to another replica.

use std::sync::Arc;

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::{Data, MergedSubscription};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use http::HeaderMap;

use super::status::StatusSubscription;
use crate::auth::{Caller, Principal};
use crate::domain::context::{RequestContext, RequestMeta, Services};
use crate::error::Error;
use crate::state::AppState;

/// Every subscription, one object per resource.
#[derive(MergedSubscription, Default)]
pub struct SubscriptionRoot(StatusSubscription);

/// `GET /graphql/ws`: upgrades to a GraphQL WebSocket.
pub async fn websocket(
    State(state): State<AppState>,
    caller: Caller,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let meta = caller.meta;
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(socket, state, protocol, meta))
}

async fn serve(socket: WebSocket, state: AppState, protocol: GraphQLProtocol, meta: RequestMeta) {
    let _connected = crate::metrics::websocket_connected();
    let feed = state.services.status_feed.clone();
    let closing = {
        let feed = feed.clone();
        async move { feed.closing().await }
    };
    let (mut sink, stream) = socket.split();
    // The client's messages until the server shuts down: ending them ends the session.
    let stream = stream.take_until(closing);
    let services = state.services.clone();
    GraphQLWebSocket::new_with_pair(&mut sink, stream, state.schema.clone(), protocol)
        .on_connection_init(
            move |payload| async move { connection_data(&services, meta, &payload) },
        )
        .serve()
        .await;
    if feed.is_closed() {
        let _ = sink
            .send(Message::Close(Some(CloseFrame {
                code: axum::extract::ws::close_code::AWAY,
                reason: "server shutting down".into(),
            })))
            .await;
    }
    let _ = sink.close().await;
}

/// The session's context: the principal named by `connection_init`'s `Authorization` entry
/// (anonymous without one).
fn connection_data(
    services: &Arc<Services>,
    meta: RequestMeta,
    payload: &serde_json::Value,
) -> async_graphql::Result<Data> {
    let mut principal = Principal::Anonymous;
    let authorization = ["Authorization", "authorization"]
        .iter()
        .find_map(|k| payload.get(*k))
        .and_then(serde_json::Value::as_str);
    if let Some(value) = authorization {
        let mut headers = HeaderMap::new();
        let value = value.parse().map_err(|_| {
            Error::Unauthenticated("the Authorization entry is not valid text".into()).to_string()
        })?;
        headers.insert(http::header::AUTHORIZATION, value);
        principal =
            Principal::from_headers(&headers, &services.jwt).map_err(|e| e.public_message())?;
    }
    let mut data = Data::default();
    data.insert(RequestContext::new(services.clone(), principal, meta));
    Ok(data)
}
