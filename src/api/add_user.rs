//! `POST /add_user` `{"thread_id", "user2_id"}`: a participant adds user2 to the thread. Any
//! participant's token may do it; ACS checks membership.

use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::input::{Body as JsonBody, check_user_id};
use super::{ApiError, AppState, caller, ok};
use crate::acs::chat::ChatParticipant;

pub async fn handle(state: &AppState, request: &Request) -> Result<Response<Body>, ApiError> {
    let body = JsonBody::parse(request)?;
    let thread_id = body.thread_id("thread_id")?;
    let user2_id = body.user_id("user2_id")?;
    // Only trusted mode reads it: who acts when no token says so.
    let acting = body
        .optional("user1_id")?
        .map(|id| check_user_id("user1_id", id))
        .transpose()?;
    let caller = caller::anyone(state, request, acting).await?;
    let invalid = state
        .chat()?
        .add_participants(
            &caller.token,
            thread_id,
            &[ChatParticipant::user(user2_id, None)],
        )
        .await?;
    if !invalid.is_empty() {
        return Err(ApiError::UserNotFound("user2_id"));
    }
    ok(&json!({"message": "User added successfully"}))
}
