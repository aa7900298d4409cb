//! `POST /create_thread` `{"user1_id", "topic"?}`: user1 creates a thread with its own token and
//! becomes its first participant. An `Idempotency-Key` header makes a retried call return the
//! same thread (it becomes ACS's repeatability id).

use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::input::{Body as JsonBody, MAX_TOPIC_CHARS};
use super::{ApiError, AppState, caller, ok};
use crate::acs::chat::ChatParticipant;

/// The original app's topic, used when the caller gives none.
pub const DEFAULT_TOPIC: &str = "Manual Two-Way Chat";

pub async fn handle(state: &AppState, request: &Request) -> Result<Response<Body>, ApiError> {
    let body = JsonBody::parse(request)?;
    let user1_id = body.user_id("user1_id")?;
    let topic = body.optional("topic")?.unwrap_or(DEFAULT_TOPIC).trim();
    if topic.is_empty() || topic.chars().count() > MAX_TOPIC_CHARS {
        return Err(ApiError::InvalidField {
            field: "topic",
            reason: "must be 1 to 256 characters",
        });
    }
    let repeatability_id = match request.headers().get("idempotency-key") {
        Some(key) => key
            .to_str()
            .ok()
            .filter(|k| !k.is_empty() && k.len() <= 64)
            .ok_or(ApiError::InvalidField {
                field: "Idempotency-Key",
                reason: "must be 1 to 64 visible ASCII characters",
            })?
            .to_owned(),
        None => uuid::Uuid::new_v4().to_string(),
    };
    let caller = caller::as_user(state, request, "user1_id", user1_id).await?;
    // Trusted mode adds its service identity so that add_user can act without a caller token.
    let participants: Vec<ChatParticipant> = if caller::is_trusted_without_token(state, request) {
        state
            .service_user_id()
            .await?
            .map(|id| vec![ChatParticipant::user(&id, None)])
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let thread = state
        .chat()?
        .create_thread(&caller.token, topic, &participants, &repeatability_id)
        .await?;
    ok(&json!({"thread_id": thread.id}))
}
