//! `GET /get_all_messages?thread_id&user_id`: the whole history of user messages, every page
//! followed, oldest first. System events (participant added, topic changed) are left out.

use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::input::{Query, check_thread_id, check_user_id};
use super::messages::history;
use super::{ApiError, AppState, caller, ok};

pub async fn handle(state: &AppState, request: &Request) -> Result<Response<Body>, ApiError> {
    let query = Query::parse(request, &["thread_id", "user_id"])?;
    let thread_id = check_thread_id("thread_id", query.required("thread_id")?)?;
    let user_id = check_user_id("user_id", query.required("user_id")?)?;
    let caller = caller::as_user(state, request, "user_id", user_id).await?;
    let messages = history(state.chat()?, &caller.token, thread_id).await?;
    ok(&json!({"messages": messages}))
}
