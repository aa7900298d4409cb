//! The whole history of a thread, in one answer or in pages.

use super::view::{MAX_ANSWER_BYTES, MessageView, answer_bytes, view};
use crate::acs::chat::{ACS_MAX_PAGE_SIZE, ChatClient};
use crate::acs::{AcsError, BearerToken, ThreadId, UserId};

/// Every user message of the thread, oldest first, or `None` as soon as they would not fit in
/// one answer. One ACS round trip per 200 messages.
pub async fn history(
    chat: &ChatClient,
    token: &BearerToken,
    thread_id: &ThreadId,
    caller: &UserId,
) -> Result<Option<Vec<MessageView>>, AcsError> {
    let mut messages = Vec::new();
    let mut bytes = 0;
    let mut page: Option<String> = None;
    loop {
        let (listed, next) = chat
            .messages_page(token, thread_id, ACS_MAX_PAGE_SIZE, page.as_deref())
            .await?;
        for view in listed.into_iter().filter_map(|m| view(m, caller)) {
            bytes += answer_bytes(&view);
            if bytes > MAX_ANSWER_BYTES {
                return Ok(None);
            }
            messages.push(view);
        }
        match next {
            Some(next) => page = Some(next),
            None => break,
        }
    }
    messages.sort_by_key(|m| m.sequence_id);
    Ok(Some(messages))
}

/// One page of the history, newest page first, its messages oldest first; and the cursor of
/// the page before it, if any.
pub async fn history_page(
    chat: &ChatClient,
    token: &BearerToken,
    thread_id: &ThreadId,
    caller: &UserId,
    page_size: u32,
    page: Option<&str>,
) -> Result<(Vec<MessageView>, Option<String>), AcsError> {
    let (listed, next) = chat
        .messages_page(token, thread_id, page_size, page)
        .await?;
    let mut messages: Vec<MessageView> =
        listed.into_iter().filter_map(|m| view(m, caller)).collect();
    messages.sort_by_key(|m| m.sequence_id);
    Ok((messages, next))
}
