//! Messages: sent, edited, deleted and listed as the caller may see them.

use serde_json::Value;
use time::OffsetDateTime;

use super::events::Event;
use super::{Listing, MAX_MESSAGE_BYTES, Store, epoch};
use crate::failure::Failure;

/// What a message holds: a user's text, or the event a system message records.
#[derive(Debug, Clone)]
pub enum Content {
    Text(String),
    Event(Event),
}

/// A message, user or system.
#[derive(Debug, Clone)]
pub struct Message {
    /// Creation time in epoch milliseconds, unique within the resource.
    pub id: i64,
    /// Time of the last change in epoch milliseconds (the id until it changes); lists are
    /// ordered by it, newest first.
    pub version: i64,
    pub deleted_on: Option<OffsetDateTime>,
    pub edited_on: Option<OffsetDateTime>,
    pub kind: &'static str,
    pub sequence_id: u64,
    pub content: Content,
    pub sender: Option<String>,
    pub sender_display_name: Option<String>,
    pub metadata: Option<Value>,
    pub created_on: OffsetDateTime,
}

/// A message as a request sends it.
pub struct NewMessage {
    pub content: String,
    pub kind: &'static str,
    pub sender_display_name: Option<String>,
    pub metadata: Option<Value>,
}

pub(super) struct MessageDraft {
    pub(super) kind: &'static str,
    pub(super) content: Content,
    pub(super) sender: Option<String>,
    pub(super) sender_display_name: Option<String>,
    pub(super) metadata: Option<Value>,
}

impl Store {
    /// Records a system event in the thread.
    pub(super) fn push_event(&mut self, thread_id: &str, event: Event) -> i64 {
        let draft = MessageDraft {
            kind: event.kind(),
            content: Content::Event(event),
            sender: None,
            sender_display_name: None,
            metadata: None,
        };
        self.push_message(thread_id, draft)
    }

    /// The next stamp of `thread_id`'s clock: now in epoch ms, and later than any before it in
    /// the thread. Message ids and versions are such stamps, so, as with ACS, they are unique
    /// within a thread and may repeat across threads.
    pub(super) fn stamp(&mut self, thread_id: &str) -> (i64, OffsetDateTime) {
        let now = OffsetDateTime::now_utc();
        let ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
        let Some(thread) = self.threads.get_mut(thread_id) else {
            return (ms, now);
        };
        thread.last_stamp = ms.max(thread.last_stamp + 1);
        (thread.last_stamp, now)
    }

    /// Gives the next message sent in any thread the id `id` (if that is later than the
    /// thread's clock): how a test makes two threads' messages share an id, as ACS's can.
    pub fn pin_next_message_id(&mut self, id: i64) {
        self.pinned_message_id = Some(id);
    }

    pub(super) fn push_message(&mut self, thread_id: &str, draft: MessageDraft) -> i64 {
        let (mut id, now) = self.stamp(thread_id);
        if draft.sender.is_some()
            && let Some(pinned) = self.pinned_message_id.take()
            && pinned > id
        {
            id = pinned;
        }
        if let Some(thread) = self.threads.get_mut(thread_id) {
            thread.last_stamp = id;
            let sequence_id = thread.messages.len() as u64 + 1;
            thread.messages.push(Message {
                id,
                version: id,
                deleted_on: None,
                edited_on: None,
                kind: draft.kind,
                sequence_id,
                content: draft.content,
                sender: draft.sender,
                sender_display_name: draft.sender_display_name,
                metadata: draft.metadata,
                created_on: now,
            });
        }
        id
    }

    /// Stores a user's message and returns its id.
    pub fn send_message(
        &mut self,
        caller: &str,
        thread_id: &str,
        message: NewMessage,
    ) -> Result<String, Failure> {
        self.thread(caller, thread_id)?;
        Self::check_content(&message.content)?;
        let id = self.push_message(
            thread_id,
            MessageDraft {
                kind: message.kind,
                content: Content::Text(message.content),
                sender: Some(caller.to_owned()),
                sender_display_name: message.sender_display_name,
                metadata: message.metadata,
            },
        );
        if let Some(thread) = self.threads.get_mut(thread_id) {
            thread.last_message_received_on = Some(OffsetDateTime::now_utc());
        }
        Ok(id.to_string())
    }

    /// Edits the caller's own message: new content and metadata (an empty value removes a
    /// key), a new version and `editedOn`.
    pub fn update_message(
        &mut self,
        caller: &str,
        thread_id: &str,
        id: &str,
        content: Option<String>,
        metadata: Option<serde_json::Map<String, Value>>,
    ) -> Result<(), Failure> {
        if let Some(content) = &content {
            Self::check_content(content)?;
        }
        let (stamp, now) = self.stamp(thread_id);
        let message = self.own_message(caller, thread_id, id)?;
        if message.deleted_on.is_some() {
            return Err(Failure::NotFound);
        }
        if let Some(content) = content {
            message.content = Content::Text(content);
        }
        if let Some(changes) = metadata {
            let mut merged = match message.metadata.take() {
                Some(Value::Object(map)) => map,
                _ => serde_json::Map::new(),
            };
            for (key, value) in changes {
                if value.as_str() == Some("") {
                    merged.remove(&key);
                } else {
                    merged.insert(key, value);
                }
            }
            message.metadata = Some(Value::Object(merged));
        }
        message.version = stamp;
        message.edited_on = Some(now);
        Ok(())
    }

    /// A message of the thread, which the caller must have sent.
    pub(super) fn own_message(
        &mut self,
        caller: &str,
        thread_id: &str,
        id: &str,
    ) -> Result<&mut Message, Failure> {
        let thread = self.thread_mut(caller, thread_id)?;
        let message = thread
            .messages
            .iter_mut()
            .find(|m| m.id.to_string() == id)
            .ok_or(Failure::NotFound)?;
        if message.sender.as_deref() == Some(caller) {
            Ok(message)
        } else {
            Err(Failure::Forbidden)
        }
    }

    pub(super) fn check_content(content: &str) -> Result<(), Failure> {
        if content.is_empty() {
            return Err(Failure::BadRequest("Content is required.".into()));
        }
        if content.len() > MAX_MESSAGE_BYTES {
            return Err(Failure::BadRequest(format!(
                "Content exceeds the maximum of {MAX_MESSAGE_BYTES} bytes."
            )));
        }
        Ok(())
    }

    /// Messages the caller may see, newest first, older than the `before` cursor (a message id)
    /// and created at or after `start_time`; the cursor for the next page if more remain.
    pub fn list_messages(
        &self,
        caller: &str,
        thread_id: &str,
        before: Option<i64>,
        start_time: Option<OffsetDateTime>,
        page_size: usize,
    ) -> Result<Listing<&Message>, Failure> {
        let thread = self.thread(caller, thread_id)?;
        let since = thread
            .participants
            .iter()
            .find(|p| p.id == caller)
            .map_or_else(epoch, |p| p.share_history_time);
        let mut visible: Vec<&Message> = thread
            .messages
            .iter()
            .filter(|m| m.created_on >= since)
            .filter(|m| start_time.is_none_or(|start| m.created_on >= start))
            .filter(|m| before.is_none_or(|b| m.version < b))
            .collect();
        visible.sort_by_key(|m| std::cmp::Reverse(m.version));
        let more = visible.len() > page_size;
        visible.truncate(page_size);
        let next = match visible.last() {
            Some(last) if more => Some(format!("{:x}", last.version)),
            _ => None,
        };
        Ok(Listing {
            items: visible,
            next,
        })
    }

    /// Deletes the caller's own message: it stays listed, empty, with `deletedOn` and a new
    /// version, as ACS keeps it. Deleting it again changes nothing.
    pub fn delete_message(
        &mut self,
        caller: &str,
        thread_id: &str,
        id: &str,
    ) -> Result<(), Failure> {
        let (stamp, now) = self.stamp(thread_id);
        let message = self.own_message(caller, thread_id, id)?;
        if message.deleted_on.is_none() {
            message.deleted_on = Some(now);
            message.version = stamp;
            message.content = Content::Text(String::new());
        }
        Ok(())
    }

    /// One message by id.
    pub fn get_message(
        &self,
        caller: &str,
        thread_id: &str,
        id: &str,
    ) -> Result<&Message, Failure> {
        let thread = self.thread(caller, thread_id)?;
        thread
            .messages
            .iter()
            .find(|m| m.id.to_string() == id)
            .ok_or(Failure::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{conversation, text};
    use super::*;

    #[test]
    fn messages_take_the_next_sequence_id_and_list_newest_first() {
        let (mut store, alice, bob, thread) = conversation();
        let first = store.send_message(&alice, &thread, text("one")).unwrap();
        let second = store.send_message(&bob, &thread, text("two")).unwrap();
        let listed = store
            .list_messages(&bob, &thread, None, None, 10)
            .unwrap()
            .items;
        // The thread's two system events come first: 1 and 2.
        let seen: Vec<(String, u64)> = listed
            .iter()
            .map(|m| (m.id.to_string(), m.sequence_id))
            .collect();
        assert_eq!(&seen[..2], [(second, 4), (first, 3)]);
        assert_eq!(listed.len(), 4);
    }

    #[test]
    fn only_its_sender_edits_or_deletes_a_message_and_a_change_moves_it_up_the_list() {
        let (mut store, alice, bob, thread) = conversation();
        let id = store.send_message(&alice, &thread, text("helo")).unwrap();
        store.send_message(&bob, &thread, text("later")).unwrap();
        assert_eq!(
            store.update_message(&bob, &thread, &id, Some("x".into()), None),
            Err(Failure::Forbidden)
        );
        store
            .update_message(&alice, &thread, &id, Some("hello".into()), None)
            .unwrap();
        let listed = store.list_messages(&bob, &thread, None, None, 1).unwrap();
        let edited = listed.items[0];
        assert_eq!(edited.id.to_string(), id);
        assert!(edited.version > edited.id && edited.edited_on.is_some());
        assert!(listed.next.is_some(), "a page of one, with more behind it");
        store.delete_message(&alice, &thread, &id).unwrap();
        let deleted = store.get_message(&bob, &thread, &id).unwrap();
        assert!(deleted.deleted_on.is_some());
        assert!(matches!(&deleted.content, Content::Text(t) if t.is_empty()));
        assert_eq!(
            store.update_message(&alice, &thread, &id, Some("back".into()), None),
            Err(Failure::NotFound)
        );
    }

    #[test]
    fn empty_and_oversized_content_is_refused() {
        let (mut store, alice, _, thread) = conversation();
        for content in [String::new(), "x".repeat(MAX_MESSAGE_BYTES + 1)] {
            assert!(matches!(
                store.send_message(&alice, &thread, text(&content)),
                Err(Failure::BadRequest(_))
            ));
        }
        assert!(
            store
                .send_message(&alice, &thread, text(&"x".repeat(MAX_MESSAGE_BYTES)))
                .is_ok()
        );
    }
}
