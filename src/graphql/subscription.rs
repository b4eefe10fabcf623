//! The subscription root and GraphQL over WebSocket (`GET /graphql/ws`).
//!
//! The socket speaks `graphql-transport-ws` (and the legacy `graphql-ws`, chosen by
//! `Sec-WebSocket-Protocol`). Anonymous by default: `connection_init` may carry
//! `{"Authorization": "Bearer <access token>"}` to act as a user; an invalid token refuses the
//! connection. When the server shuts down, subscriptions complete and the socket closes with
//! 1001 (going away), so clients reconnect to another replica.

use std::net::SocketAddr;

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::{Data, MergedSubscription};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use http::HeaderMap;

use super::status::StatusSubscription;
use crate::auth::{JwtKeys, Principal};
use crate::domain::status_feed::StatusFeed;
use crate::error::Error;
use crate::state::{AppState, RequestMeta};

/// Every subscription, one object per resource.
#[derive(MergedSubscription, Default)]
pub struct SubscriptionRoot(StatusSubscription);

/// `GET /graphql/ws`: upgrades to a GraphQL WebSocket.
pub async fn websocket(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let meta = RequestMeta::from_parts(&headers, Some(peer));
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(socket, state, protocol, meta))
}

async fn serve(socket: WebSocket, state: AppState, protocol: GraphQLProtocol, meta: RequestMeta) {
    let feed = state.schema.data::<StatusFeed>().cloned();
    let closing = {
        let feed = feed.clone();
        async move {
            match feed {
                Some(feed) => feed.closing().await,
                None => std::future::pending().await,
            }
        }
    };
    let (mut sink, stream) = socket.split();
    // The client's messages until the server shuts down: ending them ends the session.
    let stream = stream.take_until(closing);
    let jwt = state.jwt.clone();
    let mut data = Data::default();
    data.insert(meta);
    GraphQLWebSocket::new_with_pair(&mut sink, stream, state.schema.clone(), protocol)
        .with_data(data)
        .on_connection_init(move |payload| async move { connection_data(&jwt, &payload) })
        .serve()
        .await;
    if feed.as_ref().is_some_and(StatusFeed::is_closed) {
        let _ = sink
            .send(Message::Close(Some(CloseFrame {
                code: axum::extract::ws::close_code::AWAY,
                reason: "server shutting down".into(),
            })))
            .await;
    }
    let _ = sink.close().await;
}

/// The principal named by `connection_init`'s `Authorization` entry (anonymous without one).
fn connection_data(jwt: &JwtKeys, payload: &serde_json::Value) -> async_graphql::Result<Data> {
    let mut data = Data::default();
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
        let principal = Principal::from_headers(&headers, jwt).map_err(|e| e.public_message())?;
        data.insert(principal);
    }
    Ok(data)
}
