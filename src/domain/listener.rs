//! PostgreSQL `LISTEN` sessions for the cross-process channels (status feed, session states):
//! connecting with exponential backoff until the server shuts down.

use std::time::Duration;

use sea_orm::sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;

const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A session listening on `channel`; retries until it connects, `None` once `closed`.
pub(crate) async fn connect(
    database_url: &str,
    channel: &str,
    closed: &CancellationToken,
) -> Option<PgListener> {
    let mut backoff = MIN_BACKOFF;
    loop {
        let connected = tokio::select! {
            () = closed.cancelled() => return None,
            connected = subscribe(database_url, channel) => connected,
        };
        match connected {
            Ok(listener) => {
                tracing::info!(channel, "listener connected");
                return Some(listener);
            }
            Err(err) => {
                tracing::warn!(channel, error = %err, retry_in = ?backoff, "listener cannot connect");
                tokio::select! {
                    () = closed.cancelled() => return None,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

async fn subscribe(database_url: &str, channel: &str) -> Result<PgListener, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect(database_url).await?;
    listener.listen(channel).await?;
    Ok(listener)
}
