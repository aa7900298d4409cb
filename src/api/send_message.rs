//! `POST /send_message` `{"thread_id", "user_id", "message"}`: user_id sends a text message with
//! its own token. Not retried where ACS may already have stored it, so it is never doubled.

use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::input::{Body as JsonBody, MAX_MESSAGE_BYTES};
use super::{ApiError, AppState, caller, ok};
use crate::acs::chat::SendMessage;

pub async fn handle(state: &AppState, request: &Request) -> Result<Response<Body>, ApiError> {
    let body = JsonBody::parse(request)?;
    let thread_id = body.thread_id("thread_id")?;
    let user_id = body.user_id("user_id")?;
    let message = body.required("message")?;
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(ApiError::TooLarge {
            what: "message",
            limit: MAX_MESSAGE_BYTES,
        });
    }
    let caller = caller::as_user(state, request, "user_id", user_id).await?;
    let message_id = state
        .chat()?
        .send_message(
            &caller.token,
            thread_id,
            &SendMessage {
                content: message,
                sender_display_name: None,
                kind: "text",
            },
        )
        .await?;
    ok(&json!({"message": "Message sent successfully", "message_id": message_id}))
}
