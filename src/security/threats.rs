//! `threats_detected_total{kind}`: every rejected suspicious request, by a kind from a fixed set,
//! so that no request can mint a new series.

/// What was rejected. The label values are the only ones the counter ever has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threat {
    /// A body over the configured limit (HTTP or a WebSocket message).
    OversizeBody,
    /// A body that is not the JSON it claims to be.
    MalformedJson,
    /// A GraphQL document over the depth, complexity or alias limits.
    GraphqlLimit,
    /// A bearer token that is malformed, forged or expired.
    InvalidToken,
    /// An account's sign-in budget exhausted by failed attempts.
    RepeatedLoginFailure,
    /// A CSP violation report.
    CspViolation,
    /// A WebSocket `connection_init` refused (bad token, too late).
    WebsocketInitRejected,
    /// A refresh token presented again after it was rotated.
    RefreshTokenReuse,
}

impl Threat {
    pub const ALL: [Self; 8] = [
        Self::OversizeBody,
        Self::MalformedJson,
        Self::GraphqlLimit,
        Self::InvalidToken,
        Self::RepeatedLoginFailure,
        Self::CspViolation,
        Self::WebsocketInitRejected,
        Self::RefreshTokenReuse,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OversizeBody => "oversize_body",
            Self::MalformedJson => "malformed_json",
            Self::GraphqlLimit => "graphql_limit",
            Self::InvalidToken => "invalid_token",
            Self::RepeatedLoginFailure => "repeated_login_failure",
            Self::CspViolation => "csp_violation",
            Self::WebsocketInitRejected => "websocket_init_rejected",
            Self::RefreshTokenReuse => "refresh_token_reuse",
        }
    }

    pub fn record(self) {
        metrics::counter!("threats_detected_total", "kind" => self.as_str()).increment(1);
    }
}

/// Makes every kind visible at 0 from the start, so dashboards and alerts see a series before
/// the first incident.
pub fn register() {
    for kind in Threat::ALL {
        metrics::counter!("threats_detected_total", "kind" => kind.as_str()).increment(0);
    }
}
