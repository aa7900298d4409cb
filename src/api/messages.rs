//! Listing messages for the API: what a message looks like to callers, the whole history, and
//! "what is new for me" with either cursor.
//!
//! ACS lists newest first, ordered by `version` (the last change, in epoch ms), so an edited old
//! message can come before newer ones. A walk from the top may stop at the first message whose
//! version is at or below the cursor: nothing after it can be newer.

use serde::Serialize;
use serde_json::value::RawValue;
use time::format_description::well_known::Rfc3339;

use crate::acs::chat::{ChatClient, ChatMessage, MAX_PAGE_SIZE, Page};
use crate::acs::{AcsError, BearerToken, MessageId, ThreadId, UserId};

/// A chat message as the API shows it; the first three fields are the original app's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageView {
    pub sender: String,
    pub message: String,
    pub created_on: String,
    pub id: MessageId,
    pub sequence_id: u64,
}

/// The view of a live user message; `None` for system events and deleted messages.
pub fn view(message: &ChatMessage) -> Option<MessageView> {
    if !message.is_user_message() {
        return None;
    }
    Some(MessageView {
        sender: message.sender_id()?.to_owned(),
        message: message.text()?.to_owned(),
        created_on: message.created_on.format(&Rfc3339).ok()?,
        id: message.id.clone(),
        sequence_id: message.sequence()?,
    })
}

/// What `get_messages` answers: the new messages oldest first, and the cursor for next time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewMessages {
    pub messages: Vec<MessageView>,
    /// The highest sequence id seen; pass it as `since` next time for the stateless cursor.
    pub next_since: u64,
}

fn number(text: &str) -> Option<u64> {
    text.parse().ok()
}

/// A message's last-change stamp: `version`, or its id when ACS sent no usable version.
fn version(message: &ChatMessage) -> u64 {
    number(&message.version).unwrap_or_else(|| message.id.number())
}

/// Every user message of the thread, oldest first. One ACS round trip per 200 messages.
pub async fn history(
    chat: &ChatClient,
    token: &BearerToken,
    thread_id: &ThreadId,
) -> Result<Vec<MessageView>, AcsError> {
    let mut messages: Vec<MessageView> = chat
        .list_all_messages(token, thread_id)
        .await?
        .iter()
        .filter_map(view)
        .collect();
    messages.sort_by_key(|m| m.sequence_id);
    Ok(messages)
}

/// Where a walk down the list stops, and which messages it keeps.
enum Cursor {
    /// Keep messages with a sequence id above this.
    Sequence(u64),
    /// Keep messages created after this message id (ids are creation times in epoch ms).
    MessageId(u64),
    /// No cursor yet: keep everything.
    Start,
}

impl Cursor {
    fn keeps(&self, message: &ChatMessage) -> bool {
        match self {
            Self::Sequence(since) => message.sequence().is_some_and(|s| s > *since),
            Self::MessageId(id) => message.id.number() > *id,
            Self::Start => true,
        }
    }

    /// True once nothing further down the list can be kept.
    fn passed(&self, message: &ChatMessage) -> bool {
        match self {
            // An unedited message at or below the cursor: all below it are older still.
            Self::Sequence(since) => {
                message.sequence().is_some_and(|s| s <= *since)
                    && message.version == message.id.as_str()
            }
            Self::MessageId(id) => version(message) <= *id,
            Self::Start => false,
        }
    }
}

/// Messages from others newer than the cursor, walking pages newest first from `first`.
/// Messages are decoded one by one and not past the cursor: a fetch with little news decodes
/// a few messages, not a whole page.
async fn walk(
    chat: &ChatClient,
    token: &BearerToken,
    caller_id: &UserId,
    mut page: Page<Box<RawValue>>,
    cursor: &Cursor,
    floor: u64,
) -> Result<NewMessages, AcsError> {
    let mut next_since = floor;
    let mut kept = Vec::new();
    loop {
        let mut passed = false;
        for raw in &page.value {
            let message = ChatMessage::from_raw(raw)?;
            next_since = next_since.max(message.sequence().unwrap_or(0));
            if cursor.passed(&message) {
                passed = true;
                break;
            }
            if cursor.keeps(&message) && message.sender_id() != Some(caller_id.as_str()) {
                kept.extend(view(&message));
            }
        }
        match page.next_link.take() {
            Some(next) if !passed => page = chat.next_page(token, &next).await?,
            _ => break,
        }
    }
    kept.sort_by_key(|m| m.sequence_id);
    Ok(NewMessages {
        messages: kept,
        next_since,
    })
}

/// Stateless cursor: messages from others with a sequence id above `since`.
pub async fn new_since(
    chat: &ChatClient,
    token: &BearerToken,
    thread_id: &ThreadId,
    caller_id: &UserId,
    since: u64,
) -> Result<NewMessages, AcsError> {
    let first = chat
        .list_messages(token, thread_id, Some(MAX_PAGE_SIZE), None)
        .await?;
    walk(
        chat,
        token,
        caller_id,
        first,
        &Cursor::Sequence(since),
        since,
    )
    .await
}

/// Read-receipt cursor: messages from others after the caller's own last read receipt, then a
/// receipt for the newest of them. The receipts and the first page are fetched together, so
/// this is two sequential round trips in the common case.
pub async fn new_by_receipt(
    chat: &ChatClient,
    token: &BearerToken,
    thread_id: &ThreadId,
    caller_id: &UserId,
) -> Result<NewMessages, AcsError> {
    let (receipts, first) = tokio::try_join!(
        chat.list_read_receipts(token, thread_id),
        chat.list_messages(token, thread_id, Some(MAX_PAGE_SIZE), None),
    )?;
    let cursor = receipts
        .iter()
        .filter(|r| r.sender_communication_identifier.id() == Some(caller_id.as_str()))
        .map(|r| r.chat_message_id.number())
        .max()
        .map_or(Cursor::Start, Cursor::MessageId);
    let new = walk(chat, token, caller_id, first, &cursor, 0).await?;
    // Receipts only for others' messages: whether ACS honours one for the caller's own message
    // is unverified, and this cursor never needs it.
    if let Some(newest) = new.messages.iter().max_by_key(|m| m.sequence_id) {
        chat.send_read_receipt(token, thread_id, &newest.id).await?;
    }
    Ok(new)
}
