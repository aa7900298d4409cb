//! "What is new for me": walks down a thread's messages from the newest to where the caller's
//! cursor says it has read, with either cursor.
//!
//! ACS lists newest first, ordered by `version` (the last change, in epoch ms), so an edited old
//! message can come before newer ones. A walk from the top may stop at the first message whose
//! version is at or below the cursor: nothing after it can be newer.

use serde::Serialize;
use serde_json::value::RawValue;

use std::collections::BinaryHeap;

use super::view::{
    Change, MAX_ANSWER_BYTES, MessageView, Reader, answer_bytes, change, change_bytes,
};
use crate::acs::chat::{ACS_MAX_PAGE_SIZE, ChatClient, ChatMessage, Page};
use crate::acs::{AcsError, BearerToken, ThreadId, UserId};

/// What `get_messages` answers: the new messages oldest first, and the cursor for next time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewMessages {
    pub messages: Vec<MessageView>,
    /// The highest sequence id seen; pass it as `since` next time for the stateless cursor.
    pub next_since: u64,
    /// More is new than one answer can hold (Lambda's 6 MB): these are the oldest of it, and
    /// the next fetch, from `next_since`, brings the rest.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub more: bool,
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
    /// Others' messages with a sequence id above the person's read position.
    Position(u64),
    /// No cursor yet: others' messages, all of them.
    Start,
}

impl Cursor {
    fn keeps(&self, message: &ChatMessage, caller: &UserId) -> bool {
        let from_others = message.sender_id() != Some(caller.as_str());
        match self {
            Self::Sync { since, .. } => message.sequence_id > *since,
            Self::Receipt(id) => from_others && message.id.number() > *id,
            Self::Position(read) => from_others && message.sequence_id > *read,
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
            Self::Sync { since, .. } | Self::Position(since) => {
                message.sequence_id <= *since && message.is_unchanged()
            }
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

/// A view kept by the walk, ordered by its sequence id so that the newest is let go first.
struct Kept(MessageView);

impl PartialEq for Kept {
    fn eq(&self, other: &Self) -> bool {
        self.0.sequence_id == other.0.sequence_id
    }
}

impl Eq for Kept {}

impl PartialOrd for Kept {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Kept {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.sequence_id.cmp(&other.0.sequence_id)
    }
}

/// What one answer holds: the oldest new messages that fit in Lambda's 6 MB (the newer ones
/// are let go as older ones are found, so memory stays within one answer and one page), and
/// changes while they fit beside them.
#[derive(Default)]
struct Gathered {
    kept: BinaryHeap<Kept>,
    bytes: usize,
    changes: Vec<Change>,
    change_bytes: usize,
    /// New messages were let go: the answer says `more`.
    full: bool,
    /// Changes were let go: none are reported, and the change cursor stays where it was.
    changes_dropped: bool,
}

impl Gathered {
    fn keep(&mut self, view: MessageView) {
        self.bytes += answer_bytes(&view);
        self.kept.push(Kept(view));
        while self.bytes + self.change_bytes > MAX_ANSWER_BYTES {
            if !self.changes.is_empty() {
                self.drop_changes();
            } else if let Some(Kept(newest)) = self.kept.pop() {
                self.bytes -= answer_bytes(&newest);
                self.full = true;
            } else {
                break;
            }
        }
    }

    fn report(&mut self, change: Change) {
        if self.changes_dropped {
            return;
        }
        self.change_bytes += change_bytes(&change);
        self.changes.push(change);
        if self.bytes + self.change_bytes > MAX_ANSWER_BYTES {
            self.drop_changes();
        }
    }

    fn drop_changes(&mut self) {
        self.changes.clear();
        self.change_bytes = 0;
        self.changes_dropped = true;
    }
}

/// Messages newer than the cursor (and changes, for a cursor that asks), walking pages newest
/// first from `first`. Messages are decoded one by one and not past the cursor: a fetch with
/// little news decodes a few messages, not a whole page. An answer stops before Lambda's 6 MB:
/// the oldest of what is new is sent, `more` says there is more, and `next_since` is where the
/// next fetch goes on from.
async fn walk(
    chat: &ChatClient,
    token: &BearerToken,
    reader: &Reader<'_>,
    mut page: Page<Box<RawValue>>,
    cursor: &Cursor,
    floor: u64,
) -> Result<NewMessages, AcsError> {
    let mut next_since = floor;
    let mut newest_change = 0;
    let mut answer = Gathered::default();
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
            if cursor.keeps(&message, reader.caller) {
                if let Some(view) = reader.view(message) {
                    answer.keep(view);
                }
            } else if cursor.reports_changes()
                && let Some(change) = change(&message)
            {
                answer.report(change);
            }
        }
        match page.next_link.take() {
            Some(next) if !passed => page = chat.next_page(token, &next).await?,
            _ => break,
        }
    }
    let mut kept: Vec<MessageView> = answer.kept.into_iter().map(|Kept(v)| v).collect();
    kept.sort_by_key(|m| m.sequence_id);
    if answer.full {
        next_since = kept.last().map_or(floor, |m| m.sequence_id);
    }
    let mut changes = answer.changes;
    changes.sort_by_key(|c| c.sequence_id);
    let (changes, next_changes_since) = match cursor {
        Cursor::Sync { changes_since, .. } => {
            let held = changes_since.unwrap_or(0);
            let next = if answer.changes_dropped {
                held
            } else {
                newest_change.max(held)
            };
            (cursor.reports_changes().then_some(changes), Some(next))
        }
        _ => (None, None),
    };
    Ok(NewMessages {
        messages: kept,
        next_since,
        more: answer.full || answer.changes_dropped,
        changes,
        next_changes_since,
    })
}

/// Read-position cursor, the person's own across devices and at any group size: messages from
/// others after `position` (read from the people table beside the first page, so this is the
/// same two sequential round trips as the receipt cursor; the caller moves the position on).
pub async fn new_by_position<E: From<AcsError>>(
    chat: &ChatClient,
    token: &BearerToken,
    thread_id: &ThreadId,
    caller_id: &UserId,
    position: impl Future<Output = Result<u64, E>>,
) -> Result<(NewMessages, u64), E> {
    let (position, participants, first) = tokio::join!(
        position,
        chat.list_participants(token, thread_id),
        chat.list_messages(token, thread_id, Some(ACS_MAX_PAGE_SIZE), None),
    );
    let (position, participants, first) = (position?, participants?, first?);
    let reader = Reader::new(caller_id, &participants);
    let new = walk(
        chat,
        token,
        &reader,
        first,
        &Cursor::Position(position),
        position,
    )
    .await?;
    Ok((new, position))
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
    // Joined, not try_joined, for the reason history gives.
    let (participants, first) = tokio::join!(
        chat.list_participants(token, thread_id),
        chat.list_messages(token, thread_id, Some(ACS_MAX_PAGE_SIZE), None),
    );
    let (participants, first) = (participants?, first?);
    let cursor = Cursor::Sync {
        since,
        changes_since,
    };
    let reader = Reader::new(caller, &participants);
    walk(chat, token, &reader, first, &cursor, since).await
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
    let (receipts, participants, first) = tokio::join!(
        chat.list_read_receipts(token, thread_id),
        chat.list_participants(token, thread_id),
        chat.list_messages(token, thread_id, Some(ACS_MAX_PAGE_SIZE), None),
    );
    let (receipts, participants, first) = (receipts?, participants?, first?);
    let cursor = receipts
        .iter()
        .filter(|r| r.sender_communication_identifier.id() == Some(caller_id.as_str()))
        .map(|r| r.chat_message_id.number())
        .max()
        .map_or(Cursor::Start, Cursor::Receipt);
    let reader = Reader::new(caller_id, &participants);
    let new = walk(chat, token, &reader, first, &cursor, 0).await?;
    // Receipts only for others' messages: whether ACS honours one for the caller's own message
    // is unverified, and this cursor never needs it.
    if let Some(newest) = new.messages.iter().max_by_key(|m| m.sequence_id) {
        chat.send_read_receipt(token, thread_id, &newest.id).await?;
    }
    Ok(new)
}
