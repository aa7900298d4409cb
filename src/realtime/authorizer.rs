//! Who may use the real-time channel: the decisions of the real-time API's Lambda authorizer
//! (AppSync Events asks it on connect, subscribe and publish, with the `Authorization` the
//! client gave).
//!
//! - A client's ACS token may connect, and subscribe to its own person's channels of the hours
//!   around now, once ACS has accepted the token (a one-thread read made with it): a token
//!   that merely reads right, made up or revoked, gets nothing. What a person is sent was
//!   decided by ACS at the time (see `realtime::update`), so a subscription never outlives a
//!   membership. Clients never publish: typing goes through `send_typing`, which ACS checks
//!   and rate-limits, and is published from there. Decisions about a token are not cached, as
//!   they depend on the channel.
//! - Our functions publish with the publish key, compared in constant time; that decision may
//!   be cached for a while.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Key, channel, same_secret};
use crate::acs::ChatClient;
use crate::seal::{ClientToken, Sealer, open_client_token};

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

/// Decides one request at `now`, asking ACS through `chat` whether a client's token holds.
/// Never fails: anything unexpected is a refusal.
pub async fn decide(
    publish_key: &Key,
    chat: &ChatClient,
    sealer: Option<&Sealer>,
    request: AuthorizerRequest,
    now: OffsetDateTime,
) -> AuthorizerResponse {
    let token = request.authorization_token.trim();
    let token = token.strip_prefix("Bearer ").unwrap_or(token);
    let operation = request.request_context.operation;
    let channel = request.request_context.channel.unwrap_or_default();
    if same_secret(token, publish_key.expose()) {
        return match operation {
            Operation::Connect => AuthorizerResponse::allow(PUBLISHER_TTL),
            Operation::Publish if channel::is_personal(&channel) => {
                AuthorizerResponse::allow(PUBLISHER_TTL)
            }
            _ => AuthorizerResponse::deny("the publish key only publishes"),
        };
    }
    let Ok(ClientToken { user_id, token, .. }) = open_client_token(sealer, token, now).await else {
        return AuthorizerResponse::deny("not an unexpired token of this service");
    };
    match operation {
        Operation::Connect => {}
        Operation::Subscribe if channel::admits(&channel, &user_id, now) => {}
        Operation::Subscribe => return AuthorizerResponse::deny("not this person's channel now"),
        Operation::Publish | Operation::Unknown => {
            return AuthorizerResponse::deny("clients do not publish");
        }
    }
    match chat.list_threads(&token, 1, None).await {
        Ok(_) => AuthorizerResponse::allow(0),
        Err(e) => {
            tracing::info!(error = %e, "ACS refused the token");
            AuthorizerResponse::deny("ACS refused the token")
        }
    }
}
