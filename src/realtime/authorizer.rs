//! Who may use the real-time channel: the decisions of the real-time API's Lambda authorizer
//! (AppSync Events asks it on connect, subscribe and publish, with the `Authorization` the
//! client gave).
//!
//! - A client's ACS token may connect while unexpired, and subscribe to a thread's channel
//!   when ACS, asked as that client, lets it read the thread's participants: ACS decides
//!   membership, as for every other call. Clients never publish: typing goes through
//!   `send_typing`, which ACS rate-limits, and is published from there with the caller's
//!   verified identity. Decisions about a token are not cached, as they depend on the channel.
//! - Our functions publish with the publish key from the real-time secret, compared in
//!   constant time; that decision may be cached for a while.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{RealtimeSecret, channel, same_secret};
use crate::acs::{BearerToken, ChatClient};

/// How long AppSync may reuse an "allowed" for the publish key, in seconds.
const PUBLISHER_TTL: u32 = 300;

/// What AppSync Events sends.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerRequest {
    #[serde(default)]
    pub authorization_token: String,
    pub request_context: RequestContext,
}

/// What the client asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Operation {
    #[serde(rename = "EVENT_CONNECT")]
    Connect,
    #[serde(rename = "EVENT_SUBSCRIBE")]
    Subscribe,
    #[serde(rename = "EVENT_PUBLISH")]
    Publish,
    /// An operation AppSync may add later: refused.
    #[serde(other)]
    Unknown,
}

/// Which operation, on which channel.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestContext {
    pub operation: Operation,
    #[serde(default)]
    pub channel: Option<String>,
}

/// The decision.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerResponse {
    pub is_authorized: bool,
    pub ttl_override: u32,
}

impl AuthorizerResponse {
    fn allow(ttl: u32) -> Self {
        Self {
            is_authorized: true,
            ttl_override: ttl,
        }
    }

    /// A refusal, logged with why.
    pub fn deny(why: &str) -> Self {
        tracing::info!(why, "real-time request refused");
        Self {
            is_authorized: false,
            ttl_override: 0,
        }
    }
}

/// Decides one request, asking ACS through `chat` about a subscriber's membership. Never
/// fails: anything unexpected is a refusal.
pub async fn decide(
    secret: &RealtimeSecret,
    chat: &ChatClient,
    request: AuthorizerRequest,
) -> AuthorizerResponse {
    let token = request.authorization_token.trim();
    let token = token.strip_prefix("Bearer ").unwrap_or(token);
    let operation = request.request_context.operation;
    let thread = request
        .request_context
        .channel
        .as_deref()
        .and_then(channel::thread);
    if same_secret(token, &secret.publish_key) {
        return match (operation, thread) {
            (Operation::Connect, _) | (Operation::Publish, Some(_)) => {
                AuthorizerResponse::allow(PUBLISHER_TTL)
            }
            _ => AuthorizerResponse::deny("the publish key only publishes"),
        };
    }
    let token = BearerToken::new(token);
    match token.claims() {
        Ok(claims) if !claims.is_expired(OffsetDateTime::now_utc()) => {}
        _ => return AuthorizerResponse::deny("not an unexpired ACS token"),
    }
    match (operation, thread) {
        (Operation::Connect, _) => AuthorizerResponse::allow(0),
        (Operation::Subscribe, Some(thread)) => {
            match chat.probe_participants(&token, &thread).await {
                Ok(()) => AuthorizerResponse::allow(0),
                Err(e) => {
                    tracing::info!(error = %e, "ACS refused the subscriber");
                    AuthorizerResponse::deny("not a participant")
                }
            }
        }
        (Operation::Subscribe, None) => AuthorizerResponse::deny("not a thread channel"),
        (Operation::Publish | Operation::Unknown, _) => {
            AuthorizerResponse::deny("clients do not publish")
        }
    }
}
