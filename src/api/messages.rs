//! Listing messages for the API: what a message looks like to callers, the whole history, and
//! "what is new for me" with either cursor.
//!
//! ACS lists newest first, ordered by `version` (the last change, in epoch ms), so an edited old
//! message can come before newer ones. A walk from the top may stop at the first message whose
//! version is at or below the cursor: nothing after it can be newer.

use serde::Serialize;
use serde_json::value::RawValue;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::acs::chat::{ChatClient, ChatMessage, MAX_PAGE_SIZE, Page};
use crate::acs::{AcsError, BearerToken, MessageId, ThreadId, UserId};

fn rfc3339(at: OffsetDateTime) -> Option<String> {
    at.format(&Rfc3339).ok()
}

/// A chat message as the API shows it; the first three fields are the original app's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageView {
    pub sender: String,
    /// The name the sender gave with the message, if any.
    pub sender_display_name: Option<String>,
    pub message: String,
    pub created_on: String,
    pub id: MessageId,
    pub sequence_id: u64,
    /// Sent by the caller (from another device, say).
    pub mine: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited_on: Option<String>,
}

/// The view of a live user message for `caller`; `None` for system events and deleted
/// messages. Takes the message so that its strings move into the view instead of being copied.
pub fn view(message: ChatMessage, caller: &UserId) -> Option<MessageView> {
    if !message.is_user_message() {
        return None;
    }
    let sequence_id = message.sequence()?;
    let created_on = rfc3339(message.created_on)?;
    let edited_on = message.edited_on.and_then(rfc3339);
    let sender = message.sender_communication_identifier?.into_id()?;
    Some(MessageView {
        mine: caller == sender.as_str(),
        sender,
        sender_display_name: message.sender_display_name,
        message: message.content?.message?,
        created_on,
        id: message.id,
        sequence_id,
        edited_on,
    })
}

/// An edit or deletion of a message the caller has already been given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub id: MessageId,
    pub sequence_id: u64,
    /// The text now; `None` once deleted.
    pub message: Option<String>,
    pub edited_on: Option<String>,
    pub deleted: bool,
}

/// The change a listed text or HTML message records; `None` for system events.
fn change(message: &ChatMessage) -> Option<Change> {
    if !matches!(message.kind.as_str(), "text" | "html") {
        return None;
    }
    let deleted = message.deleted_on.is_some();
    Some(Change {
        id: message.id.clone(),
        sequence_id: message.sequence()?,
        message: (!deleted)
            .then(|| message.text().map(str::to_owned))
            .flatten(),
        edited_on: message.edited_on.and_then(rfc3339),
        deleted,
    })
}

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

fn number(text: &str) -> Option<u64> {
    text.parse().ok()
}

/// A message's last-change stamp: `version`, or its id when ACS sent no usable version.
fn version(message: &ChatMessage) -> u64 {
    number(&message.version).unwrap_or_else(|| message.id.number())
}

/// What one answer may hold: Lambda refuses a response past 6 MB, its envelope included.
pub const MAX_ANSWER_BYTES: usize = 6 * 1024 * 1024 - 16 * 1024;

/// Bytes a message adds to an answer at most, once the answer travels as a JSON string inside
/// Lambda's own JSON: its strings' lengths, with every character that JSON escapes counted as
/// escaped twice over, and room for the keys and punctuation. Counted, not serialised, so that
/// a long history is not encoded twice.
fn answer_bytes(view: &MessageView) -> usize {
    /// Keys, quotes and punctuation of one message, escaped in the envelope, and its numbers.
    const FRAME: usize = 200;
    fn text(s: &str) -> usize {
        s.len()
            + s.bytes()
                .map(|b| match b {
                    b'"' | b'\\' => 3,
                    0..=0x1f => 12,
                    _ => 0,
                })
                .sum::<usize>()
    }
    FRAME
        + text(&view.sender)
        + view.sender_display_name.as_deref().map_or(0, text)
        + text(&view.message)
        + view.created_on.len()
        + view.id.as_str().len()
        + view.edited_on.as_deref().map_or(0, str::len)
}

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
            .messages_page(token, thread_id, MAX_PAGE_SIZE, page.as_deref())
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
            Self::Sync { since, .. } => message.sequence().is_some_and(|s| s > *since),
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
            } => version(message) <= *changes_since,
            // An unedited message at or below the cursor: all below it are older still.
            Self::Sync { since, .. } => {
                message.sequence().is_some_and(|s| s <= *since)
                    && message.version == message.id.as_str()
            }
            Self::Receipt(id) => version(message) <= *id,
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
            next_since = next_since.max(message.sequence().unwrap_or(0));
            newest_change = newest_change.max(version(&message));
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
        .list_messages(token, thread_id, Some(MAX_PAGE_SIZE), None)
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
        chat.list_messages(token, thread_id, Some(MAX_PAGE_SIZE), None),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str, name: Option<&str>) -> MessageView {
        MessageView {
            sender: "8:acs:res_alice".into(),
            sender_display_name: name.map(str::to_owned),
            message: text.to_owned(),
            created_on: "2026-11-25T22:00:00Z".into(),
            id: MessageId::parse("1795600800000").unwrap(),
            sequence_id: 123_456,
            mine: false,
            edited_on: Some("2026-11-25T22:01:00Z".into()),
        }
    }

    #[test]
    fn the_size_counted_for_a_message_is_never_less_than_its_size_in_lambda_s_envelope() {
        for (text, name) in [
            ("plain", None),
            (r#"quotes " and backslashes \ \\""#, Some(r#""Al""#)),
            ("control \u{0}\u{1f}\n\t characters", Some("tab\tname")),
            ("héllo 👋 עברית\u{200b}", Some("Zoë")),
            (&"\"".repeat(1000), None),
            (&"x".repeat(28 * 1024), Some("Bob")),
        ] {
            let view = message(text, name);
            let in_body = serde_json::to_string(&view).unwrap();
            let in_envelope = serde_json::to_string(&in_body).unwrap().len() + 1;
            let counted = answer_bytes(&view);
            assert!(
                counted >= in_envelope,
                "{text:?}: {counted} < {in_envelope}"
            );
            assert!(
                counted <= in_envelope * 2 + 200,
                "{text:?}: {counted} far above {in_envelope}"
            );
        }
    }
}
