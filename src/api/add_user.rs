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
    // Trusted mode: who acts is user1_id if given, else the service identity.
    let acting = body
        .optional("user1_id")?
        .map(|id| check_user_id("user1_id", id).map(str::to_owned))
        .transpose()?;
    let service = if acting.is_none() && caller::is_trusted_without_token(state, request) {
        state.service_user_id().await?
    } else {
        None
    };
    let caller = caller::anyone(state, request, || acting.or(service)).await?;
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
