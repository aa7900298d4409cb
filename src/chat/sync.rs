//! "What is new for me": walks down a thread's messages from the newest to where the caller's
//! cursor says it has read, with either cursor.
//!
//! ACS lists newest first, ordered by `version` (the last change, in epoch ms), so an edited old
//! message can come before newer ones. A walk from the top may stop at the first message whose
//! version is at or below the cursor: nothing after it can be newer.

use serde::Serialize;
use serde_json::value::RawValue;

use super::view::{Change, MessageView, change, view};
use crate::acs::chat::{ACS_MAX_PAGE_SIZE, ChatClient, ChatMessage, Page};
use crate::acs::{AcsError, BearerToken, ThreadId, UserId};

/// What `get_messages` answers: the new messages oldest first, and the cursor for next time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewMessages {
    pub messages: Vec<MessageView>,
    /// The highest sequence id seen; pass it as `since` next time for the stateless cursor.
    pub next_since: u64,
    /// With the stateless cursor: edits and deletions of messages at or below `since`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<Change>>,
    /// With the stateless cursor: the newest change seen (epoch ms); pass it as
    /// `changes_since` next time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_changes_since: Option<u64>,
}

/// Where a walk down the list stops, and which messages it keeps.
enum Cursor {
    /// The caller-held cursor: messages with a sequence id above `since`, the caller's own
    /// included; and, given `changes_since`, changes newer than it to the messages below.
    Sync {
        since: u64,
        changes_since: Option<u64>,
    },
    /// Others' messages created after this message id (ids are creation times in epoch ms).
    Receipt(u64),
    /// No cursor yet: others' messages, all of them.
    Start,
}

impl Cursor {
    fn keeps(&self, message: &ChatMessage, caller: &UserId) -> bool {
        let from_others = message.sender_id() != Some(caller.as_str());
        match self {
            Self::Sync { since, .. } => message.sequence_id > *since,
            Self::Receipt(id) => from_others && message.id.number() > *id,
            Self::Start => from_others,
        }
    }

    /// True once nothing further down the list can be kept.
    fn passed(&self, message: &ChatMessage) -> bool {
        match self {
            Self::Sync {
                changes_since: Some(changes_since),
                ..
            } => message.version() <= *changes_since,
            // An unedited message at or below the cursor: all below it are older still.
            Self::Sync { since, .. } => message.sequence_id <= *since && message.is_unchanged(),
            Self::Receipt(id) => message.version() <= *id,
            Self::Start => false,
        }
    }

    /// Whether the walk reports changes to messages the caller already has.
    fn reports_changes(&self) -> bool {
        matches!(
            self,
            Self::Sync {
                changes_since: Some(_),
                ..
            }
        )
    }
}

/// Messages newer than the cursor (and changes, for a cursor that asks), walking pages newest
/// first from `first`. Messages are decoded one by one and not past the cursor: a fetch with
/// little news decodes a few messages, not a whole page.
async fn walk(
    chat: &ChatClient,
    token: &BearerToken,
    caller: &UserId,
    mut page: Page<Box<RawValue>>,
    cursor: &Cursor,
    floor: u64,
) -> Result<NewMessages, AcsError> {
    let mut next_since = floor;
    let mut newest_change = 0;
    let mut kept = Vec::new();
    let mut changes = Vec::new();
    loop {
        let mut passed = false;
        for raw in &page.value {
            let message = ChatMessage::from_raw(raw)?;
            next_since = next_since.max(message.sequence_id);
            newest_change = newest_change.max(message.version());
            if cursor.passed(&message) {
                passed = true;
                break;
            }
            if cursor.keeps(&message, caller) {
                kept.extend(view(message, caller));
            } else if cursor.reports_changes() {
                changes.extend(change(&message));
            }
        }
        match page.next_link.take() {
            Some(next) if !passed => page = chat.next_page(token, &next).await?,
            _ => break,
        }
    }
    kept.sort_by_key(|m| m.sequence_id);
    changes.sort_by_key(|c| c.sequence_id);
    let (changes, next_changes_since) = match cursor {
        Cursor::Sync { changes_since, .. } => (
            cursor.reports_changes().then_some(changes),
            Some(newest_change.max(changes_since.unwrap_or(0))),
        ),
        _ => (None, None),
    };
    Ok(NewMessages {
        messages: kept,
        next_since,
        changes,
        next_changes_since,
    })
}

/// Stateless cursor, the sync cursor of a person on several devices: every message with a
/// sequence id above `since`, the caller's own included; with `changes_since`, also the edits
/// and deletions since then of the messages below.
pub async fn new_since(
    chat: &ChatClient,
    token: &BearerToken,
    thread_id: &ThreadId,
    caller: &UserId,
    since: u64,
    changes_since: Option<u64>,
) -> Result<NewMessages, AcsError> {
    let first = chat
        .list_messages(token, thread_id, Some(ACS_MAX_PAGE_SIZE), None)
        .await?;
    let cursor = Cursor::Sync {
        since,
        changes_since,
    };
    walk(chat, token, caller, first, &cursor, since).await
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
        chat.list_messages(token, thread_id, Some(ACS_MAX_PAGE_SIZE), None),
    )?;
    let cursor = receipts
        .iter()
        .filter(|r| r.sender_communication_identifier.id() == Some(caller_id.as_str()))
        .map(|r| r.chat_message_id.number())
        .max()
        .map_or(Cursor::Start, Cursor::Receipt);
    let new = walk(chat, token, caller_id, first, &cursor, 0).await?;
    // Receipts only for others' messages: whether ACS honours one for the caller's own message
    // is unverified, and this cursor never needs it.
    if let Some(newest) = new.messages.iter().max_by_key(|m| m.sequence_id) {
        chat.send_read_receipt(token, thread_id, &newest.id).await?;
    }
    Ok(new)
}
