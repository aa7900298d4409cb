//! `GET /get_messages?thread_id&user_id[&since]`: what other participants wrote since this
//! caller's last fetch, oldest first, with no server-side state of ours.
//!
//! Without `since`, the cursor is the caller's own ACS read receipt (ACS keeps receipts only in
//! small threads, so this mode suits two-person chats); with `since=<sequence id>` the caller
//! holds the cursor and gets `next_since` back.

use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::input::{Query, check_thread_id, check_user_id};
use super::messages::{new_by_receipt, new_since};
use super::{ApiError, AppState, caller, ok};

pub async fn handle(state: &AppState, request: &Request) -> Result<Response<Body>, ApiError> {
    let query = Query::parse(request, &["thread_id", "user_id", "since"])?;
    let thread_id = check_thread_id("thread_id", query.required("thread_id")?)?;
    let user_id = check_user_id("user_id", query.required("user_id")?)?;
    let since = query
        .optional("since")
        .map(|raw| {
            raw.parse::<u64>().map_err(|_| ApiError::InvalidField {
                field: "since",
                reason: "must be a sequence id (a whole number)",
            })
        })
        .transpose()?;
    let caller = caller::as_user(state, request, "user_id", user_id).await?;
    let chat = state.chat()?;
    let new = match since {
        Some(since) => new_since(chat, &caller.token, thread_id, &caller.user_id, since).await?,
        None => new_by_receipt(chat, &caller.token, thread_id, &caller.user_id).await?,
    };
    ok(&json!(new))
}
