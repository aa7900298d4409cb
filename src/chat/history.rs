//! The whole history of a thread, in one answer or in pages.

use super::view::{MAX_ANSWER_BYTES, MessageView, Reader, answer_bytes};
use crate::acs::chat::{ACS_MAX_PAGE_SIZE, ChatClient};
use crate::acs::{AcsError, BearerToken, PageCursor, ThreadId, UserId};

/// Every user message of the thread, oldest first, or `None` as soon as they would not fit in
/// one answer. One ACS round trip per 200 messages (the participants, whose names the
/// messages are shown with, read beside the first).
pub async fn history(
    chat: &ChatClient,
    token: &BearerToken,
    thread_id: &ThreadId,
    caller: &UserId,
) -> Result<Option<Vec<MessageView>>, AcsError> {
    let mut messages = Vec::new();
    let mut bytes = 0;
    // Joined, not try_joined: a request dropped in flight would also drop its pooled
    // connection, and the next call would pay a new TLS handshake.
    let (participants, listed) = tokio::join!(
        chat.list_participants(token, thread_id),
        chat.messages_page(token, thread_id, ACS_MAX_PAGE_SIZE, None),
    );
    let (participants, mut listed) = (participants?, listed?);
    let reader = Reader::new(caller, &participants);
    loop {
        let (page, next) = listed;
        for view in page.into_iter().filter_map(|m| reader.view(m)) {
            bytes += answer_bytes(&view);
            if bytes > MAX_ANSWER_BYTES {
                return Ok(None);
            }
            messages.push(view);
        }
        match next {
            Some(next) => {
                listed = chat
                    .messages_page(token, thread_id, ACS_MAX_PAGE_SIZE, Some(&next))
                    .await?;
            }
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
    page: Option<&PageCursor>,
) -> Result<(Vec<MessageView>, Option<PageCursor>), AcsError> {
    let (participants, listed) = tokio::join!(
        chat.list_participants(token, thread_id),
        chat.messages_page(token, thread_id, page_size, page),
    );
    let (participants, (listed, next)) = (participants?, listed?);
    let reader = Reader::new(caller, &participants);
    let mut messages: Vec<MessageView> =
        listed.into_iter().filter_map(|m| reader.view(m)).collect();
    messages.sort_by_key(|m| m.sequence_id);
    Ok((messages, next))
}
