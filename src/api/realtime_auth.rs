//! The real-time API's Lambda authorizer (AppSync Events calls it on connect, subscribe and
//! publish, with the `Authorization` the client gave).
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

use super::AppState;
use crate::acs::BearerToken;
use crate::realtime::{channel, same_secret};

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

/// Which operation, on which channel.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestContext {
    /// `EVENT_CONNECT`, `EVENT_SUBSCRIBE` or `EVENT_PUBLISH`.
    pub operation: String,
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

    fn deny(why: &str) -> Self {
        tracing::info!(why, "real-time request refused");
        Self {
            is_authorized: false,
            ttl_override: 0,
        }
    }
}

/// Decides one request. Never fails: anything unexpected is a refusal.
pub async fn authorize(state: &AppState, request: AuthorizerRequest) -> AuthorizerResponse {
    let Some(realtime) = state.realtime.as_ref() else {
        return AuthorizerResponse::deny("REALTIME_SECRET_ID is not set");
    };
    let secret = match realtime.secret.get().await {
        Ok(secret) => secret,
        Err(e) => {
            tracing::error!(error = %e, "real-time secret unavailable");
            return AuthorizerResponse::deny("secret unavailable");
        }
    };
    let token = request.authorization_token.trim();
    let token = token.strip_prefix("Bearer ").unwrap_or(token);
    let operation = request.request_context.operation.as_str();
    let thread = request
        .request_context
        .channel
        .as_deref()
        .and_then(channel::thread);
    if same_secret(token, &secret.publish_key) {
        return match operation {
            "EVENT_CONNECT" => AuthorizerResponse::allow(PUBLISHER_TTL),
            "EVENT_PUBLISH" if thread.is_some() => AuthorizerResponse::allow(PUBLISHER_TTL),
            _ => AuthorizerResponse::deny("the publish key only publishes"),
        };
    }
    let token = BearerToken::new(token);
    match token.claims() {
        Ok(claims) if !claims.is_expired(OffsetDateTime::now_utc()) => {}
        _ => return AuthorizerResponse::deny("not an unexpired ACS token"),
    }
    match (operation, thread) {
        ("EVENT_CONNECT", _) => AuthorizerResponse::allow(0),
        ("EVENT_SUBSCRIBE", Some(thread)) => {
            let Ok(chat) = state.chat() else {
                return AuthorizerResponse::deny("ACS_ENDPOINT is not set");
            };
            match chat.probe_participants(&token, &thread).await {
                Ok(()) => AuthorizerResponse::allow(0),
                Err(e) => {
                    tracing::info!(error = %e, "ACS refused the subscriber");
                    AuthorizerResponse::deny("not a participant")
                }
            }
        }
        ("EVENT_SUBSCRIBE", None) => AuthorizerResponse::deny("not a thread channel"),
        _ => AuthorizerResponse::deny("clients do not publish"),
    }
}

/// Runs the authorizer as a Lambda.
pub async fn run() -> Result<(), lambda_http::Error> {
    super::logging::init();
    let state = AppState::new(crate::config::Config::from_env()?, None)?
        .with_realtime(super::Realtime::from_env(false)?);
    let state = &state;
    lambda_http::lambda_runtime::run(lambda_http::service_fn(
        move |event: lambda_http::LambdaEvent<AuthorizerRequest>| async move {
            Ok::<_, std::convert::Infallible>(authorize(state, event.payload).await)
        },
    ))
    .await
}
